import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { waitFor } from '@cx/testing';

// Distributed mode for tests: the gateway and the four services as separate OS processes, each on its own SQLite
// file, over a real Kafka broker. A process can be killed (SIGKILL) and restarted on the same port and store, the
// way an orchestrator restarts a crashed pod behind a stable address; the gateway keeps proxying to it.

const ROOT = join(__dirname, '..', '..', '..', '..');
export const SERVICES = ['pricing-guidance', 'matching', 'metering', 'billing'] as const;
export type ServiceName = (typeof SERVICES)[number];
export type ProcessName = ServiceName | 'gateway';
export const PROCESSES: readonly ProcessName[] = [...SERVICES, 'gateway'];

export interface Proc {
  name: ProcessName;
  child: ChildProcess;
  url: string;
  port: number;
  output: () => string;
  /** Signals the process (SIGTERM unless told) and resolves with its exit code. */
  stop: (signal?: NodeJS.Signals) => Promise<number | null>;
}

const PRELOAD = join(__dirname, 'shared-clock.preload.ts');

/**
 * Starts one process from source (the same swc compiler as `npm run build`) and waits until it listens. With
 * CX_TEST_CLOCK_FILE in `env`, the shared test clock is preloaded (see shared-clock.preload.ts).
 */
export const startProcess = async (
  name: ProcessName,
  env: Record<string, string>,
  opts: { timeoutMs?: number } = {},
): Promise<Proc> => {
  const main = name === 'gateway' ? 'apps/gateway/src/main.ts' : `apps/${name}-service/src/main.ts`;
  const preload = env.CX_TEST_CLOCK_FILE ? ['-r', PRELOAD] : [];
  const child = spawn(process.execPath, ['-r', '@swc-node/register', ...preload, join(ROOT, main)], {
    cwd: ROOT,
    env: { ...process.env, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info', CX_AUDIT_CHECKPOINT_MS: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString('utf8')));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString('utf8')));
  let exitCode: number | null | undefined;
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => {
      exitCode = code;
      resolve(code);
    }),
  );
  const started = await waitFor(
    () => {
      if (exitCode !== undefined) return { url: null };
      const url = new RegExp(`"url":"(http://[^"]+)".*cx ${name} listening`).exec(out)?.[1];
      return url ? { url } : undefined;
    },
    { timeoutMs: opts.timeoutMs ?? 120_000, intervalMs: 50, what: `${name} to listen` },
  ).catch((e: unknown) => {
    child.kill('SIGKILL');
    throw new Error(`${String(e)}\n${out}`);
  });
  if (started.url === null) throw new Error(`${name} exited with ${exitCode} before listening:\n${out}`);
  return {
    name,
    child,
    url: started.url,
    port: Number(new URL(started.url).port),
    output: () => out,
    stop: async (signal = 'SIGTERM') => {
      if (exitCode === undefined) child.kill(signal);
      return exited;
    },
  };
};

/** The shared simulated clock of a test cluster: one file every process reads its time from. */
export class ClockFile {
  constructor(readonly path: string) {}

  set(at: Date | string): void {
    const iso = typeof at === 'string' ? new Date(at).toISOString() : at.toISOString();
    // Atomic: a process reading while the test writes sees the old instant or the new one, never half of one.
    writeFileSync(`${this.path}.tmp`, `${iso}\n`);
    renameSync(`${this.path}.tmp`, this.path);
  }
}

export interface ClusterOptions {
  /** A folder for the five stores (a subfolder each: the audit signing key is kept beside the store). */
  dir: string;
  brokers: string[];
  /** Extra environment for all five processes. */
  env?: Record<string, string>;
  /** The shared clock's start; without it the processes run on the system clock. */
  clockStart?: Date;
  /**
   * Restart a process that exits on its own (as an orchestrator would), recording it in `unexpectedExits`.
   * Off by default: a test that expects no exit should see one fail it.
   */
  supervise?: boolean;
}

export class Cluster {
  readonly procs = new Map<ProcessName, Proc>();
  /** Each process's port from its first start: a restart reuses it, so the gateway's upstream URLs stay valid. */
  private readonly ports = new Map<ProcessName, number>();
  adminKey = '';
  clock: ClockFile | null = null;
  private env: Record<string, string> = {};
  /** Every process's output, including that of processes killed earlier (for failure messages). */
  private pastOutput = '';
  /** Processes that exited without being told to, with their exit code and the end of their output. */
  readonly unexpectedExits: Array<{ name: ProcessName; code: number | null; tail: string }> = [];
  private readonly intended = new Set<ProcessName>();
  private stopping = false;

  private constructor(private readonly opts: ClusterOptions) {}

  static async start(opts: ClusterOptions): Promise<Cluster> {
    const c = new Cluster(opts);
    await c.boot();
    return c;
  }

  storeUrl(name: ProcessName): string {
    return `sqlite:${this.storeFile(name)}`;
  }

  storeFile(name: ProcessName): string {
    return join(this.opts.dir, name, 'store.sqlite');
  }

  url(name: ProcessName): string {
    const p = this.procs.get(name);
    if (p === undefined) throw new Error(`${name} is not running`);
    return p.url;
  }

  private envOf(name: ProcessName, port: number): Record<string, string> {
    const base: Record<string, string> = { ...this.env, CX_STORE: this.storeUrl(name), PORT: String(port) };
    if (name !== 'gateway') return base;
    return {
      ...base,
      CX_PRICING_GUIDANCE_URL: this.url('pricing-guidance'),
      CX_MATCHING_URL: this.url('matching'),
      CX_METERING_URL: this.url('metering'),
      CX_BILLING_URL: this.url('billing'),
    };
  }

  private async boot(): Promise<void> {
    for (const name of PROCESSES) mkdirSync(join(this.opts.dir, name), { recursive: true });
    this.env = { KAFKA_BROKERS: this.opts.brokers.join(','), ...this.opts.env };
    if (this.opts.clockStart !== undefined) {
      this.clock = new ClockFile(join(this.opts.dir, 'clock'));
      this.clock.set(this.opts.clockStart);
      this.env.CX_TEST_CLOCK_FILE = this.clock.path;
    }
    // The services first, in parallel (the gateway needs their URLs).
    const started = await Promise.all(SERVICES.map((s) => startProcess(s, this.envOf(s, 0))));
    for (const p of started) this.track(p);
    const gateway = await startProcess('gateway', this.envOf('gateway', 0));
    this.track(gateway);
    for (const [n, p] of this.procs) this.ports.set(n, p.port);
    this.adminKey = /Admin API key: (\S+)/.exec(gateway.output())?.[1] ?? '';
    if (!this.adminKey.startsWith('cx_')) throw new Error(`the gateway printed no admin key:\n${gateway.output()}`);
  }

  private track(p: Proc): void {
    this.procs.set(p.name, p);
    p.child.once('exit', (code) => {
      if (this.stopping || this.intended.has(p.name) || this.procs.get(p.name) !== p) return;
      this.unexpectedExits.push({ name: p.name, code, tail: p.output().slice(-4_000) });
      this.pastOutput += `\n==== ${p.name} (exited by itself with ${code})\n${p.output()}`;
      this.procs.delete(p.name);
      if (this.opts.supervise) {
        const restarted = this.restart(p.name).then(
          () => undefined,
          (e: unknown) => {
            this.unexpectedExits.push({ name: p.name, code: null, tail: `the restart failed: ${String(e)}` });
          },
        );
        this.restarting.set(p.name, restarted);
      }
    });
  }

  /** Restarts under way after unexpected exits (supervised clusters). */
  readonly restarting = new Map<ProcessName, Promise<void>>();

  /** SIGKILL: no shutdown hook runs, nothing is flushed or committed beyond what already was. */
  async kill(name: ProcessName): Promise<void> {
    const p = this.procs.get(name);
    if (p === undefined) return;
    this.intended.add(name);
    try {
      await p.stop('SIGKILL');
    } finally {
      this.intended.delete(name);
    }
    this.pastOutput += `\n==== ${name} (killed)\n${p.output()}`;
    this.procs.delete(name);
  }

  /** Starts a process again on its port and store (after `kill`). */
  async restart(name: ProcessName): Promise<Proc> {
    const port = this.ports.get(name);
    if (port === undefined) throw new Error(`${name} never ran`);
    // The port was just freed by the kill; retry briefly in case the OS has not released it yet.
    let last: unknown;
    for (let attempt = 0; attempt < 5; attempt++) {
      try {
        const p = await startProcess(name, this.envOf(name, port));
        this.track(p);
        return p;
      } catch (e) {
        last = e;
        if (!String(e).includes('EADDRINUSE')) break;
      }
    }
    throw last instanceof Error ? last : new Error(String(last));
  }

  /**
   * Where a running process's start-up spent its time: the log lines (pino JSON) that came at least `gapMs` after
   * the line before them, as "+<ms since its first line> (<gap> ms) <message>", and the last line.
   */
  slowSteps(name: ProcessName, gapMs = 1_000): string[] {
    const out = this.procs.get(name)?.output() ?? '';
    const entries: Array<{ ms: number; msg: string }> = [];
    for (const line of out.split('\n')) {
      if (!line.startsWith('{')) continue;
      try {
        const j = JSON.parse(line) as { time?: number | string; msg?: string };
        const ms = typeof j.time === 'string' ? Date.parse(j.time) : j.time;
        if (ms !== undefined && Number.isFinite(ms)) entries.push({ ms, msg: String(j.msg).slice(0, 100) });
      } catch {
        // not a log line
      }
    }
    const first = entries[0]?.ms ?? 0;
    const show = (e: { ms: number; msg: string }, gap: number) => `+${e.ms - first}ms (${gap} ms) ${e.msg}`;
    const slow = entries.flatMap((e, i) => {
      const gap = i === 0 ? 0 : e.ms - entries[i - 1]!.ms;
      return gap >= gapMs ? [show(e, gap)] : [];
    });
    const last = entries.at(-1);
    return last === undefined ? slow : [...slow, show(last, 0)];
  }

  output(): string {
    return `${this.pastOutput}${[...this.procs.values()].map((p) => `\n==== ${p.name}\n${p.output()}`).join('')}`;
  }

  /** SIGTERM to all; resolves with each exit code. */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<Array<[ProcessName, number | null]>> {
    this.stopping = true;
    await Promise.allSettled(this.restarting.values());
    return Promise.all([...this.procs.values()].map(async (p) => [p.name, await p.stop(signal)] as const)).then(
      (codes) => codes.map(([n, c]) => [n, c]),
    );
  }
}
