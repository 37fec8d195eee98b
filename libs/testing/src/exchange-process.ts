import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { waitFor } from './wait-for';

const ROOT = join(__dirname, '..', '..', '..');

export interface ExchangeProcess {
  child: ChildProcess;
  url: string;
  adminKey: string | null;
  output: () => string;
  /** Sends SIGTERM and resolves with the exit code. */
  stop: (signal?: NodeJS.Signals) => Promise<number | null>;
}

/**
 * Starts the embedded exchange (apps/exchange/src/main.ts) as a real OS process on a free port and waits until
 * it listens. The TypeScript runs through @swc-node/register, the same compiler as `npm run build`.
 */
export const startExchange = async (
  env: Record<string, string>,
  opts: { timeoutMs?: number } = {},
): Promise<ExchangeProcess> => {
  const child = spawn(process.execPath, ['-r', '@swc-node/register', join(ROOT, 'apps/exchange/src/main.ts')], {
    cwd: ROOT,
    env: { ...process.env, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString('utf8')));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString('utf8')));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  let exitCode: number | null | undefined;
  void exited.then((c) => (exitCode = c));

  const started = await waitFor(
    () => {
      if (exitCode !== undefined) return { url: null };
      const url = /"url":"(http:\/\/[^"]+)".*cx exchange listening/.exec(out)?.[1];
      return url ? { url } : undefined;
    },
    { timeoutMs: opts.timeoutMs ?? 60_000, what: 'the exchange to listen' },
  ).catch((e: unknown) => {
    child.kill('SIGKILL');
    throw e;
  });
  if (started.url === null) throw new Error(`exchange exited with ${exitCode} before listening:\n${out}`);
  const url = started.url;
  return {
    child,
    url,
    adminKey: /Admin API key: (\S+)/.exec(out)?.[1] ?? null,
    output: () => out,
    stop: async (signal = 'SIGTERM') => {
      if (exitCode === undefined) child.kill(signal);
      return exited;
    },
  };
};
