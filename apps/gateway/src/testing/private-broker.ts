import { execFile } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';

// A Kafka broker of the test's own (scripts/kafka/start.sh on free ports and a temporary data folder), for tests
// that restart the broker or need topics no other run has written to. The shared dev broker on 9092 is never
// touched: every call passes this broker's own KAFKA_PORT, KAFKA_CONTROLLER_PORT and KAFKA_DATA_DIR.

const ROOT = join(__dirname, '..', '..', '..', '..');

/** A TCP port free at the moment of asking (the OS picks it). */
export const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });

export interface PrivateBroker {
  brokers: string[];
  /** Stops the broker (SIGTERM, then SIGKILL after the script's timeout); data is kept. */
  stop(): Promise<void>;
  /** Starts it again on the same ports and data. */
  start(): Promise<void>;
}

const run = (script: 'start.sh' | 'stop.sh', env: Record<string, string>, args: string[] = []): Promise<void> =>
  new Promise((resolve, reject) => {
    execFile(
      'bash',
      [join(ROOT, 'scripts/kafka', script), ...args],
      { cwd: ROOT, env: { ...process.env, ...env }, timeout: 180_000 },
      (error, _out, err) => (error ? reject(new Error(`${script} failed: ${error.message}\n${err}`)) : resolve()),
    );
  });

/** Starts a fresh single-node broker in `dataDir` on two free ports. */
export const startPrivateBroker = async (dataDir: string): Promise<PrivateBroker> => {
  const port = await freePort();
  let controller = await freePort();
  while (controller === port) controller = await freePort();
  const env = {
    KAFKA_PORT: String(port),
    KAFKA_CONTROLLER_PORT: String(controller),
    KAFKA_DATA_DIR: dataDir,
    // Small: it shares two cores and the memory with the shared broker and five Node processes.
    KAFKA_HEAP: process.env.CX_TEST_KAFKA_HEAP ?? '-Xms256m -Xmx512m',
  };
  await run('start.sh', env, ['--fresh']);
  return {
    brokers: [`127.0.0.1:${port}`],
    stop: () => run('stop.sh', env),
    start: () => run('start.sh', env),
  };
};
