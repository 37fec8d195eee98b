import { createReadStream, statSync } from 'node:fs';
import { createInterface } from 'node:readline';
import type { EventStore, RecordedEvent } from '@cx/event-store';
import { fromExportLine } from '../export-format';

// Where verify reads events from: a store's $all (any EventStore) or an NDJSON export. A source that cannot be
// read raises SourceError, which the CLI turns into exit code 2 (nothing was judged).

export class SourceError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'SourceError';
  }
}

export interface VerifySource {
  readonly name: string;
  events(): AsyncIterable<RecordedEvent>;
  /** A rough total for progress: events (a store) or bytes (a file), with a function to measure progress. */
  progress(): Promise<{ total: number | null; done: (e: RecordedEvent, count: number) => number }>;
}

export const storeSource = (name: string, store: EventStore): VerifySource => ({
  name,
  events: () => store.readAll(),
  progress: async () => {
    // Positions are dense on SQLite (one counter), so the head position is the event count; on EventStoreDB it
    // is a byte offset and only a rough guide.
    const head = await store.headPosition();
    return { total: head === null ? 0 : Number(head.commit), done: (e) => Number(e.position.commit) };
  },
});

export const ndjsonFileSource = (path: string): VerifySource => {
  let bytes = 0;
  return {
    name: `file:${path}`,
    async *events() {
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
          try {
            yield fromExportLine(line);
          } catch (e) {
            throw new SourceError(`${path} line ${n}: ${(e as Error).message}`, { cause: e });
          }
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
