// Proves that deploy/ passes the static validation (schemas from installed packages, consistency with the code), and
// that the validator catches each kind of breakage in a mutated copy, with a message that names the fault.
import { join } from 'node:path';
import {
  type CodeFacts,
  type DeployFiles,
  envReadsOf,
  readDeployFiles,
  scanCode,
  validateDeploy,
} from './deploy-validator';

const root = join(__dirname, '..', '..');
let facts: CodeFacts;
let real: DeployFiles;

beforeAll(() => {
  facts = scanCode(root);
  real = readDeployFiles(join(root, 'deploy'));
}, 60_000);

/** A copy of deploy/ with one text replaced; refuses a replacement that would change nothing. */
const mutated = (file: string, from: string, to: string): DeployFiles => {
  const text = real[file];
  if (text === undefined) throw new Error(`no ${file}`);
  if (!text.includes(from)) throw new Error(`${file} does not contain ${JSON.stringify(from)}`);
  return { ...real, [file]: text.replace(from, to) };
};

describe('deploy/ as committed', () => {
  it('has no problems', () => {
    const { problems, checked } = validateDeploy(real, facts);
    expect(problems).toEqual([]);
    expect(checked.map((c) => c.split(':')[0])).toEqual(['Dockerfile', 'docker-compose.yml', 'k8s/', 'code facts']);
  }, 60_000);

  it('derives what each process reads from its source', () => {
    const reads = (p: string) => facts.processes.get(p)?.envReads ?? new Set<string>();
    // Read through a table of names (gateway), a helper taking the name (billing), and member access (platform).
    expect([...reads('gateway')]).toEqual(expect.arrayContaining(['CX_BILLING_URL', 'CX_PROXY_TIMEOUT_MS', 'PORT']));
    expect([...reads('billing')]).toEqual(expect.arrayContaining(['CX_BILLING_MAKER_FEE_BPS', 'KAFKA_BROKERS']));
    expect([...reads('pricing-guidance')]).toContain('CX_GUIDANCE_BREAKER_MOVE_PCT');
    // Another service's loader is not this process's code.
    expect(reads('billing').has('CX_MATCHING_LISTING_DAYS')).toBe(false);
    expect(facts.processes.get('matching')?.entry).toBe('dist/apps/matching-service/src/main.js');
    expect([...(facts.processes.get('metering')?.publicPaths ?? [])]).toEqual(
      expect.arrayContaining(['/health', '/metrics']),
    );
  });
});

describe('envReadsOf', () => {
  it.each([
    ['process.env member', 'const a = process.env.CX_A;', ['CX_A'], ['CX_A']],
    ['process.env literal index', "const a = process.env['CX_A'];", ['CX_A'], ['CX_A']],
    ['a loader env', 'export const f = (env: NodeJS.ProcessEnv) => env.CX_A;', ['CX_A'], []],
    [
      'a computed name from a table',
      "const T = ['CX_A', 'CX_B']; export const f = (env: NodeJS.ProcessEnv) => T.map((n) => env[n]);",
      ['CX_A', 'CX_B'],
      [],
    ],
    ['an `env` that is not the environment', "const env = { CX_A: 1 }; const a = env.CX_A; const b = 'CX_B';", [], []],
  ])('%s', (_, text, all, direct) => {
    const r = envReadsOf(text);
    expect([...r.all].sort()).toEqual(all);
    expect([...r.direct].sort()).toEqual(direct);
  });
});

describe('a broken copy of deploy/ fails with a message naming the fault', () => {
  // [what breaks, file, from, to, the problem expected]
  it.each([
    // Unknown variables.
    [
      'compose: a variable no process reads',
      'docker-compose.yml',
      '      CX_NODE: billing\n',
      "      CX_NODE: billing\n      CX_BILLING_FEE_BPS: '3'\n",
      /service "billing": sets CX_BILLING_FEE_BPS, which billing never reads \(no cx process reads it/,
    ],
    [
      "compose: another service's variable",
      'docker-compose.yml',
      '      CX_NODE: billing\n',
      "      CX_NODE: billing\n      CX_MATCHING_LISTING_DAYS: '3'\n",
      /service "billing": sets CX_MATCHING_LISTING_DAYS, which billing never reads/,
    ],
    [
      'k8s: a gateway-only variable in the shared ConfigMap',
      'k8s/configmap.yaml',
      '  CX_CLOCK: system\n',
      "  CX_CLOCK: system\n  CX_PROXY_TIMEOUT_MS: '5000'\n",
      /Deployment\/matching container matching: sets CX_PROXY_TIMEOUT_MS, which matching never reads/,
    ],
    // Missing required variables.
    [
      'compose: the gateway without one upstream',
      'docker-compose.yml',
      '      CX_BILLING_URL: http://billing:3000\n',
      '',
      /service "gateway": gateway would not start: CX_BILLING_URL is required/,
    ],
    [
      'k8s: no KAFKA_BROKERS',
      'k8s/configmap.yaml',
      '  KAFKA_BROKERS: kafka:9092\n',
      '',
      /Deployment\/billing container billing: billing would not start: KAFKA_BROKERS is required/,
    ],
    [
      'compose: no CX_STORE',
      'docker-compose.yml',
      '      CX_STORE: esdb://kurrentdb-metering:2113?tls=false\n',
      '',
      /service "metering": CX_STORE is not set/,
    ],
    [
      'compose: a value the loader refuses',
      'docker-compose.yml',
      '  CX_CLOCK: system\n',
      '  CX_CLOCK: simulated\n',
      /service "matching": matching would not start: CX_CLOCK=simulated is not supported in distributed mode/,
    ],
    [
      'compose: the audit key off the volume',
      'docker-compose.yml',
      '  CX_AUDIT_KEY: /data/audit-signing-key.pem\n',
      '',
      /service "billing": the audit signing key \/app\/data\/audit-signing-key.pem is not on a persistent volume/,
    ],
    [
      'k8s: a SQLite store off the claim',
      'k8s/billing.yaml',
      'value: sqlite:/data/billing.sqlite',
      'value: sqlite:/tmp/billing.sqlite',
      /Deployment\/billing container billing: the store sqlite:\/tmp\/billing.sqlite is not on a persistent volume/,
    ],
    [
      'compose: two processes on one store',
      'docker-compose.yml',
      'CX_STORE: esdb://kurrentdb-matching:2113?tls=false',
      'CX_STORE: esdb://kurrentdb-billing:2113?tls=false',
      /docker-compose.yml: (matching and billing|billing and matching) share the store esdb:\/\/kurrentdb-billing/,
    ],
    // Schema-invalid fields.
    [
      'compose: an unknown service key',
      'docker-compose.yml',
      '  billing:\n    <<: *cx-service\n',
      '  billing:\n    <<: *cx-service\n    restart_policy: always\n',
      /docker-compose.yml: schema: \/services\/billing must NOT have additional properties \(restart_policy\)/,
    ],
    [
      'compose: a duration that is not one',
      'docker-compose.yml',
      'stop_grace_period: 30s',
      'stop_grace_period: soon',
      /docker-compose.yml: schema: \/services\/billing\/stop_grace_period must match format "duration"/,
    ],
    [
      'k8s: a named containerPort',
      'k8s/billing.yaml',
      'containerPort: 3000',
      'containerPort: http',
      /k8s\/billing.yaml: Deployment\/billing: schema: .*containerPort must be integer/,
    ],
    [
      'k8s: replicas as a word',
      'k8s/matching.yaml',
      'replicas: 1',
      'replicas: one',
      /k8s\/matching.yaml: Deployment\/matching: schema: .*replicas must be integer/,
    ],
    [
      'k8s: a misspelt field the OpenAPI schema lets through',
      'k8s/gateway.yaml',
      'readinessProbe:',
      'readinesProbe:',
      /k8s\/gateway.yaml: Deployment\/gateway: unknown field: .*'"readinesProbe"' does not exist in type 'IContainer'/,
    ],
    [
      'k8s: a kustomization resource that does not exist',
      'k8s/kustomization.yaml',
      '  - billing.yaml\n',
      '  - biling.yaml\n',
      /k8s\/kustomization.yaml: resource biling.yaml does not exist/,
    ],
    // Wrong ports and names.
    [
      'k8s: the container port is not the one the process listens on',
      'k8s/billing.yaml',
      'containerPort: 3000',
      'containerPort: 8080',
      /Deployment\/billing container billing: containerPort 8080 is not the port billing listens on \(3000, PORT\)/,
    ],
    [
      'compose: PORT moved, healthchecks not',
      'docker-compose.yml',
      "  PORT: '3000'\n",
      "  PORT: '8080'\n",
      /service "billing": the healthcheck asks port 3000, but billing listens on 8080 \(PORT\)/,
    ],
    [
      'compose: an upstream on the wrong port',
      'docker-compose.yml',
      'CX_MATCHING_URL: http://matching:3000',
      'CX_MATCHING_URL: http://matching:3001',
      /service "gateway": the matching upstream http:\/\/matching:3001\/ uses port 3001, but matching listens on 3000/,
    ],
    [
      'k8s: an upstream naming no Service',
      'k8s/configmap.yaml',
      'CX_METERING_URL: http://metering:3000',
      'CX_METERING_URL: http://meter:3000',
      /Deployment\/gateway container gateway: the metering upstream http:\/\/meter:3000\/ names meter, but metering's Service is metering/,
    ],
    [
      'k8s: a probe on another path',
      'k8s/metering.yaml',
      'readinessProbe:\n            httpGet: { path: /health',
      'readinessProbe:\n            httpGet: { path: /ready',
      /Deployment\/metering container metering: readinessProbe asks \/ready, not the public \/health route/,
    ],
    [
      'prometheus: a process not scraped',
      'prometheus.yml',
      '          - billing:3000\n',
      '',
      /prometheus.yml: does not scrape billing:3000 \(billing\)/,
    ],
    [
      'compose: Kafka without KRaft roles',
      'docker-compose.yml',
      '      KAFKA_PROCESS_ROLES: broker,controller\n',
      '',
      /service "kafka" is not a KRaft broker\+controller/,
    ],
    // The Dockerfile.
    [
      'Dockerfile: a floating Node tag',
      'Dockerfile',
      'FROM node:20.19.5-bookworm-slim AS build',
      'FROM node:20-bookworm-slim AS build',
      /Dockerfile: base image node:20-bookworm-slim is not pinned to an exact Node 20 release/,
    ],
    [
      'Dockerfile: Node 18',
      'Dockerfile',
      'FROM node:20.19.5-bookworm-slim AS build',
      'FROM node:18.20.4-bookworm-slim AS build',
      /Dockerfile: base image node:18.20.4-bookworm-slim is not a Node 20 release package.json accepts/,
    ],
    [
      'Dockerfile: runs as root',
      'Dockerfile',
      'USER node\n',
      '',
      /Dockerfile: the final stage runs as root \(no USER\)/,
    ],
    ['Dockerfile: npm install', 'Dockerfile', 'RUN npm ci\n', 'RUN npm install\n', /Dockerfile: .*npm ci/],
    [
      'Dockerfile: CMD off the start scripts',
      'Dockerfile',
      'CMD ["node", "dist/apps/gateway/src/main.js"]',
      'CMD ["node", "dist/apps/gateway/main.js"]',
      /Dockerfile: CMD runs dist\/apps\/gateway\/main.js, which no npm start:<service> script runs/,
    ],
  ])('%s', (_, file, from, to, expected) => {
    const { problems } = validateDeploy(mutated(file, from, to), facts);
    expect(problems).toContainEqual(expect.stringMatching(expected));
  });
});
