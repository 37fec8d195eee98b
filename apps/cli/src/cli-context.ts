import type { Command } from 'commander';
import { type EventStore, openEventStore } from '@cx/event-store';
import { type Clock, DomainError, isDomainError, newId, systemClock } from '@cx/shared-kernel';

// What every command group shares: where output goes, how the store is opened and closed, and how outcomes
// become exit codes. 0: done. 1: refused (a DomainError: the request was understood and said no).
// 2: bad usage or a store that cannot be opened or read (nothing was judged).

export const EXIT_OK = 0;
export const EXIT_REFUSED = 1;
export const EXIT_USAGE = 2;

export interface CliIo {
  out(text: string): void;
  err(text: string): void;
}

export const processIo: CliIo = {
  out: (text) => process.stdout.write(text.endsWith('\n') ? text : `${text}\n`),
  err: (text) => process.stderr.write(text.endsWith('\n') ? text : `${text}\n`),
};

/** A failure that ends the command with a given exit code and a one-line message. */
export class CliFailure extends Error {
  constructor(
    readonly exitCode: number,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export interface GlobalOptions {
  store: string;
  json: boolean;
}

export const defaultStoreUrl = (env: NodeJS.ProcessEnv = process.env): string =>
  env.CX_STORE || 'sqlite:./data/cx.sqlite';

export interface CliContext {
  io: CliIo;
  clock: Clock;
  /** Opens the store named by --store; a store that cannot be opened is bad usage, not a refusal. */
  openStore(url: string): Promise<EventStore>;
}

export const defaultContext = (io: CliIo = processIo): CliContext => ({
  io,
  clock: systemClock,
  openStore: openEventStore,
});

/** Metadata of events the CLI appends: no key acted, the operator did, through the CLI. */
export const cliMetadata = () => {
  const correlationId = newId();
  return { correlationId, causationId: correlationId, actor: { service: 'cli' } };
};

export const globalOptions = (cmd: Command): GlobalOptions => {
  const o = cmd.optsWithGlobals<{ store?: string; json?: boolean }>();
  return { store: o.store ?? defaultStoreUrl(), json: o.json === true };
};

/**
 * Runs a command body with the store open, closing it afterwards whatever happens. Refusals and store
 * failures are turned into CliFailures here, so every command group reports them the same way.
 */
export const withStore = async <T>(
  ctx: CliContext,
  url: string,
  body: (store: EventStore) => Promise<T>,
): Promise<T> => {
  let store: EventStore;
  try {
    store = await ctx.openStore(url);
  } catch (e) {
    throw new CliFailure(EXIT_USAGE, `cannot open store ${url}: ${e instanceof Error ? e.message : String(e)}`, {
      cause: e,
    });
  }
  try {
    return await body(store);
  } finally {
    await store.close().catch(() => undefined);
  }
};

/** Prints a refusal: its stable code first, so scripts can match on it. */
export const reportError = (io: CliIo, json: boolean, e: unknown): number => {
  if (isDomainError(e)) {
    const d = e as DomainError;
    if (json) io.err(JSON.stringify({ code: d.code, message: d.message, details: d.details }));
    else
      io.err(`${d.code}: ${d.message}${d.details.length > 0 ? ` (${d.details.map((x) => x.field).join(', ')})` : ''}`);
    return EXIT_REFUSED;
  }
  const exitCode = e instanceof CliFailure ? e.exitCode : EXIT_USAGE;
  const message = e instanceof Error ? e.message : String(e);
  if (json) io.err(JSON.stringify({ code: 'CLI.FAILED', message }));
  else io.err(`error: ${message}`);
  if (!(e instanceof CliFailure) && process.env.CX_DEBUG && e instanceof Error && e.stack) io.err(e.stack);
  return exitCode;
};

/** Collects a repeatable option (`--account a --account b`). */
export const collect = (value: string, previous: string[]): string[] => [...previous, value];

/** Fixed-width columns for human output. */
export const table = (rows: string[][]): string => {
  const widths = rows.reduce<number[]>((w, row) => row.map((cell, i) => Math.max(w[i] ?? 0, cell.length)), []);
  return rows
    .map((row) => row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i] ?? 0))).join('  '))
    .join('\n');
};
