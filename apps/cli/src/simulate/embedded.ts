import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { sleep } from './http';

// `cx simulate`'s own exchange: this repository's embedded exchange (apps/exchange/src/main.ts) as a child process
// with a simulated clock, a SQLite store in a temporary folder and a free port. It is started the way
// libs/testing's startExchange does it (the CLI does not depend on the test library): the compiled build when the
// CLI itself runs from dist/, else the TypeScript through @swc-node/register; the URL is read from the
// "cx exchange listening" log line and the admin key from the line the exchange prints on its first start.

/** The repository root: the nearest folder above this file whose package.json is cx's. */
export const findRepoRoot = (from: string = __dirname): string => {
  let dir = from;
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg)) {
      try {
        if ((JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === 'cx') return dir;
      } catch {
        // not ours; keep looking
      }
    }
    const up = dirname(dir);
    if (up === dir) throw new Error(`cannot find the cx repository above ${from}`);
    dir = up;
  }
};

export interface EmbeddedExchange {
  url: string;
  adminKey: string;
  child: ChildProcess;
  /** The child's output so far (the last 64 KiB), for a failure report. */
  output(): string;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves with the exit code. */
  stop(graceMs?: number): Promise<number | null>;
}

const OUTPUT_LIMIT = 64 * 1024;

export const startEmbeddedExchange = async (opts: {
  repoRoot: string;
  env: Record<string, string>;
  timeoutMs?: number;
}): Promise<EmbeddedExchange> => {
  const built = join(opts.repoRoot, 'dist', 'apps', 'exchange', 'src', 'main.js');
  // Like bin/cx.js: the build answers only when the CLI itself runs from the build.
  const fromBuild = __filename.endsWith('.js') && existsSync(built) && !process.env.CX_CLI_FROM_SOURCE;
  const args = fromBuild
    ? [built]
    : ['-r', '@swc-node/register', join(opts.repoRoot, 'apps', 'exchange', 'src', 'main.ts')];
  const child = spawn(process.execPath, args, {
    cwd: opts.repoRoot,
    env: {
      ...process.env,
      SWC_NODE_PROJECT: process.env.SWC_NODE_PROJECT || join(opts.repoRoot, 'tsconfig.json'),
      ...opts.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const append = (d: Buffer) => {
    out += d.toString('utf8');
    if (out.length > 2 * OUTPUT_LIMIT) out = out.slice(-OUTPUT_LIMIT);
  };
  child.stdout?.on('data', append);
  child.stderr?.on('data', append);
  let exitCode: number | null | undefined;
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => {
      exitCode = code;
      resolve(code);
    }),
  );
  // Whatever happens to the CLI, its exchange does not outlive it.
  const killOnExit = () => {
    if (exitCode === undefined) child.kill('SIGKILL');
  };
  process.once('exit', killOnExit);

  let adminKey: string | undefined;
  let url: string | undefined;
  const deadline = Date.now() + (opts.timeoutMs ?? 120_000);
  while (url === undefined || adminKey === undefined) {
    url ??= /"url":"(http:\/\/[^"]+)".*cx exchange listening/.exec(out)?.[1];
    adminKey ??= /Admin API key: (\S+)/.exec(out)?.[1];
    if (url !== undefined && adminKey !== undefined) break;
    if (exitCode !== undefined) {
      process.removeListener('exit', killOnExit);
      throw new Error(`the embedded exchange exited with ${exitCode} before listening:\n${out.slice(-4000)}`);
    }
    if (url !== undefined && adminKey === undefined) {
      child.kill('SIGKILL');
      throw new Error('the embedded exchange printed no admin key: its store was not new');
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`the embedded exchange did not listen in time:\n${out.slice(-4000)}`);
    }
    await sleep(50);
  }
  return {
    url,
    adminKey,
    child,
    output: () => out,
    stop: async (graceMs = 15_000) => {
      if (exitCode === undefined) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
        await exited;
        clearTimeout(timer);
      }
      process.removeListener('exit', killOnExit);
      return exitCode ?? null;
    },
  };
};
