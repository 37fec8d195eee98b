import { execFile } from 'node:child_process';
import { connect } from 'node:net';
import { Kafka, logLevel } from 'kafkajs';

// Where integration tests find a real Kafka broker. In order:
//   1. KAFKA_BROKERS (comma-separated host:port list): an existing cluster, e.g. a CI service container.
//   2. A Docker engine (testcontainers): detected, but not wired yet (testcontainers is not a dependency),
//      so this step falls through to 3.
//   3. The single-node broker of scripts/kafka/start.sh (`npm run kafka:start`) on 127.0.0.1:${KAFKA_PORT:-9092},
//      used when a TCP connect and a kafkajs admin describeCluster both succeed.
// Otherwise the promise rejects with an Error naming the three ways to get a broker.

const LOCAL_HOST = '127.0.0.1';

let resolved: Promise<string[]> | undefined;

/** The broker list for tests (see the order above). Memoised per process once it succeeds. */
export const kafkaBrokers = (): Promise<string[]> => {
  if (!resolved) {
    resolved = resolveBrokers();
    resolved.catch(() => {
      resolved = undefined; // a broker started later (or a retry after `npm run kafka:start`) can still be found
    });
  }
  return resolved;
};

const resolveBrokers = async (): Promise<string[]> => {
  const fromEnv = (process.env['KAFKA_BROKERS'] ?? '')
    .split(',')
    .map((b) => b.trim())
    .filter((b) => b.length > 0);
  if (fromEnv.length > 0) return fromEnv;

  // A Docker engine would be the next choice (testcontainers), but that path is not wired yet: fall through.
  const docker = await dockerAnswers();

  const port = Number(process.env['KAFKA_PORT'] ?? 9092);
  const local = `${LOCAL_HOST}:${port}`;
  const why = await localBrokerProblem(LOCAL_HOST, port);
  if (why === undefined) return [local];

  throw new Error(
    [
      `No Kafka broker for the integration tests (${local}: ${why}). Get one in any of three ways:`,
      '  1. set KAFKA_BROKERS=host:port[,host:port...] to use an existing cluster;',
      `  2. run a Docker engine for testcontainers${docker ? ' (one answers here, but the testcontainers path is not wired yet, so use 1 or 3)' : ''};`,
      `  3. \`npm run kafka:start\` (scripts/kafka/start.sh: single-node KRaft broker from Maven Central jars, needs Java 17 + Maven) on ${local}.`,
    ].join('\n'),
  );
};

const dockerAnswers = (): Promise<boolean> =>
  new Promise((resolve) => {
    execFile('docker', ['info'], { timeout: 5_000 }, (error) => resolve(!error));
  });

/** undefined when a kafkajs admin client can describe the cluster at host:port, else the reason it cannot. */
const localBrokerProblem = async (host: string, port: number): Promise<string | undefined> => {
  const tcp = await tcpConnect(host, port, 1_000);
  if (tcp !== undefined) return tcp;
  const admin = new Kafka({
    clientId: 'cx-test-kafka-probe',
    brokers: [`${host}:${port}`],
    logLevel: logLevel.NOTHING,
    connectionTimeout: 2_000,
    requestTimeout: 5_000,
    retry: { retries: 2, initialRetryTime: 200 },
  }).admin();
  try {
    await admin.connect();
    const cluster = await admin.describeCluster();
    return cluster.brokers.length > 0 ? undefined : 'describeCluster returned no brokers';
  } catch (e) {
    return `port open but kafkajs describeCluster failed: ${e instanceof Error ? e.message : String(e)}`;
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
};

const tcpConnect = (host: string, port: number, timeoutMs: number): Promise<string | undefined> =>
  new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (why: string | undefined): void => {
      socket.destroy();
      resolve(why);
    };
    socket.setTimeout(timeoutMs, () => done(`no TCP answer within ${timeoutMs} ms`));
    socket.once('connect', () => done(undefined));
    socket.once('error', (e: NodeJS.ErrnoException) => done(`TCP connect failed (${e.code ?? e.message})`));
  });
