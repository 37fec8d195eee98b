import { createReadStream, statSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { type EventStore, type RecordedEvent, SqliteEventStore } from '@cx/event-store';
import { ChainedEventStore } from '../chained-event-store';
import { fromExportLine } from '../export-format';

// Where verify reads events from: a store's $all (any EventStore), an NDJSON export, or the NDJSON stream of
// GET /v1/audit/events (with an auditor key). A source that cannot be read raises SourceError, which the CLI
// turns into exit code 2 (nothing was judged).

export class SourceError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'SourceError';
  }
}

export interface SourceReadOptions {
  /** Only events of streams starting with one of these (a pre-pass over a small history, e.g. guidance). */
  streamNamePrefixes?: readonly string[];
}

export interface VerifySource {
  readonly name: string;
  events(opts?: SourceReadOptions): AsyncIterable<RecordedEvent>;
  /** A rough total for progress: events (a store) or bytes (a file), with a function to measure progress. */
  progress(): Promise<{ total: number | null; done: (e: RecordedEvent, count: number) => number }>;
  /**
   * A SQLite store's file and its head position now, for a second reader of its rows (verify's chain pass in a
   * worker thread); absent for other sources. Reads of this source after it are meant to stop at that head.
   */
  storedRows?(): Promise<{ file: string; upTo: bigint }>;
}

/** The SQLite store under `store` (itself, or the one a ChainedEventStore writes to), if it is one. */
const sqliteUnder = (store: EventStore): SqliteEventStore | null =>
  store instanceof SqliteEventStore
    ? store
    : store instanceof ChainedEventStore && store.inner instanceof SqliteEventStore
      ? store.inner
      : null;

export const storeSource = (name: string, store: EventStore): VerifySource => {
  const sqlite = sqliteUnder(store);
  return {
    name,
    ...(sqlite !== null
      ? {
          storedRows: async () => {
            const head = await sqlite.headPosition();
            return { file: sqlite.file, upTo: head === null ? 0n : head.commit };
          },
        }
      : {}),
    events: (opts) =>
      opts?.streamNamePrefixes !== undefined
        ? store.readAll({ filter: { streamNamePrefixes: [...opts.streamNamePrefixes] } })
        : store.readAll(),
    progress: async () => {
      // Positions are dense on SQLite (one counter), so the head position is the event count; on EventStoreDB it
      // is a byte offset and only a rough guide.
      const head = await store.headPosition();
      return { total: head === null ? 0 : Number(head.commit), done: (e) => Number(e.position.commit) };
    },
  };
};

export const ndjsonFileSource = (path: string): VerifySource => {
  let bytes = 0;
  return {
    name: `file:${path}`,
    async *events(opts?: SourceReadOptions) {
      const prefixes = opts?.streamNamePrefixes;
      bytes = 0;
      try {
        statSync(path);
      } catch (e) {
        throw new SourceError(`cannot read ${path}: ${(e as Error).message}`, { cause: e });
      }
      const input = createReadStream(path, { encoding: 'utf8' });
      const lines = createInterface({ input, crlfDelay: Infinity });
      let n = 0;
      try {
        for await (const line of lines) {
          n++;
          bytes += Buffer.byteLength(line, 'utf8') + 1;
          if (line.length === 0) continue;
          let e: RecordedEvent;
          try {
            e = fromExportLine(line);
          } catch (e) {
            throw new SourceError(`${path} line ${n}: ${(e as Error).message}`, { cause: e });
          }
          if (prefixes === undefined || prefixes.some((p) => e.streamId.startsWith(p))) yield e;
        }
      } catch (e) {
        if (e instanceof SourceError) throw e;
        throw new SourceError(`cannot read ${path}: ${(e as Error).message}`, { cause: e });
      } finally {
        lines.close();
        input.destroy();
      }
    },
    progress: async () => {
      try {
        return { total: statSync(path).size, done: () => bytes };
      } catch {
        return { total: null, done: () => bytes };
      }
    },
  };
};

/**
 * GET /v1/audit/events of a running exchange, read with an auditor (or regulator, admin) key. The stream is read
 * as it arrives, line by line, so memory stays flat; a refused key, a failed request or a truncated line is a
 * SourceError.
 */
export const httpSource = (baseUrl: string, key: string): VerifySource => {
  const base = baseUrl.replace(/\/+$/, '');
  let lines = 0;
  return {
    name: base,
    async *events(opts?: SourceReadOptions) {
      const prefixes = opts?.streamNamePrefixes;
      // One prefix is filtered by the server (`stream=<prefix>*`); several are filtered here.
      const query =
        prefixes !== undefined && prefixes.length === 1 ? `?stream=${encodeURIComponent(`${prefixes[0]}*`)}` : '';
      let res: Response;
      try {
        res = await fetch(`${base}/v1/audit/events${query}`, { headers: { authorization: `Bearer ${key}` } });
      } catch (e) {
        throw new SourceError(`cannot reach ${base}: ${(e as Error).message}`, { cause: e });
      }
      if (res.status !== 200 || res.body === null) {
        const text = await res.text().catch(() => '');
        let detail = text.slice(0, 200);
        try {
          const body = JSON.parse(text) as { code?: string; message?: string };
          detail = `${body.code ?? ''} ${body.message ?? ''}`.trim();
        } catch {
          // Not a JSON error body: shown as it came.
        }
        throw new SourceError(`${base}/v1/audit/events answered ${res.status}${detail ? `: ${detail}` : ''}`);
      }
      lines = 0;
      const decoder = new TextDecoder('utf-8', { fatal: true });
      let buffered = '';
      const reader = res.body.getReader();
      const parse = (line: string): RecordedEvent => {
        lines++;
        try {
          return fromExportLine(line);
        } catch (e) {
          throw new SourceError(`${base} line ${lines}: ${(e as Error).message}`, { cause: e });
        }
      };
      try {
        for (;;) {
          let chunk;
          try {
            chunk = await reader.read();
          } catch (e) {
            throw new SourceError(`${base}: the stream broke off: ${(e as Error).message}`, { cause: e });
          }
          if (chunk.done) break;
          buffered += decoder.decode(chunk.value, { stream: true });
          let nl = buffered.indexOf('\n');
          while (nl >= 0) {
            const line = buffered.slice(0, nl);
            buffered = buffered.slice(nl + 1);
            if (line.length > 0) {
              const e = parse(line);
              if (prefixes === undefined || prefixes.some((p) => e.streamId.startsWith(p))) yield e;
            }
            nl = buffered.indexOf('\n');
          }
        }
        buffered += decoder.decode();
        // The server ends every line with a newline: anything left is a line cut off.
        if (buffered.length > 0) parse(buffered);
      } finally {
        await reader.cancel().catch(() => undefined);
      }
    },
    // The total is not known before the stream starts: progress shows events and events/s, without an ETA.
    progress: async () => ({ total: null, done: (e) => Number(e.position.commit) }),
  };
};
