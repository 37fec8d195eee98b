import { extname, join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { type EventMetadata, type Position, type RecordedEvent, readStoredRowPages } from '@cx/event-store';
import { eventHashFromText, storedHashOfText } from '../hash-chain';
import { checkContentHash } from './chain.checker';
import type { Violation } from './checker';

// Verify's content-hash pass over a SQLite store's rows, run in a worker thread beside the main pass, so the two use
// both cores. Hashing every event is the largest part of verify; it needs no parsed values: the hash is computed
// from the stored text and compared with the cx.hash that text ends with. Only an event whose text does not match
// (or is not in the chained writer's form) is parsed and judged from its values by checkContentHash, exactly as
// the chain checker does on one thread. The main pass checks everything else (links, revisions, checkpoints, the
// rules) with `contentHashes: false`. Both passes stop at the same position, taken before they start, so a store
// being written meanwhile is judged as of one instant.

/** What the content-hash pass found over one source. */
export interface HashPassResult {
  eventsChecked: number;
  /** In position order, at most maxViolations. */
  violations: Array<Omit<Violation, 'source'>>;
  violationCount: number;
}

/** A stored row as an event, for checkContentHash; its data is parsed only if read. */
class StoredRowEvent implements RecordedEvent {
  readonly position: Position;
  #data: string | undefined;
  #value: unknown;

  constructor(
    readonly id: string,
    readonly streamId: string,
    readonly revision: bigint,
    readonly type: string,
    readonly metadata: EventMetadata,
    readonly created: Date,
    position: bigint,
    data: string,
  ) {
    this.position = { commit: position, prepare: position };
    this.#data = data;
  }

  get data(): unknown {
    if (this.#data !== undefined) {
      this.#value = JSON.parse(this.#data) as unknown;
      this.#data = undefined;
    }
    return this.#value;
  }
}

/** The content-hash check of every row of the SQLite store at `file`, through position `upTo`. */
export const hashPassOverRows = (file: string, upTo: bigint, maxViolations: number): HashPassResult => {
  const violations: HashPassResult['violations'] = [];
  let violationCount = 0;
  const report = (v: Omit<Violation, 'source'>): void => {
    violationCount++;
    if (violations.length < maxViolations) violations.push(v);
  };
  let count = 0;
  for (const page of readStoredRowPages(file, { upTo })) {
    for (const r of page) {
      count++;
      const text = { data: r[5], metadata: r[6] };
      const stored = storedHashOfText(r[6]);
      if (stored !== undefined) {
        const where = { stream: r[1], revision: r[2], id: r[3], type: r[4] };
        if (eventHashFromText(where, text) === stored) continue;
      }
      const metadata = r[6] === null ? {} : (JSON.parse(r[6]) as EventMetadata);
      const e = new StoredRowEvent(r[3], r[1], r[2], r[4], metadata, new Date(Number(r[7])), r[0], r[5]);
      checkContentHash(e, text, report);
    }
  }
  return { eventsChecked: count, violations, violationCount };
};

export interface HashWorkerData {
  file: string;
  upTo: bigint;
  maxViolations: number;
}

export type HashWorkerMessage = { ok: true; result: HashPassResult } | { ok: false; message: string };

// The worker's entry sits beside this file: hash-worker.ts under ts (tests, benchmarks), hash-worker.js built.
const WORKER_ENTRY = join(__dirname, `hash-worker${extname(__filename)}`);

/**
 * hashPassOverRows in a worker thread: its result, which rejects with the worker's error when it cannot read the
 * store, and `stop` to end it early (the result then rejects, handled or not).
 */
export const hashPassInWorker = (
  file: string,
  upTo: bigint,
  maxViolations: number,
): { result: Promise<HashPassResult>; stop: () => void } => {
  const workerData: HashWorkerData = { file, upTo, maxViolations };
  const worker = new Worker(WORKER_ENTRY, {
    workerData,
    // TypeScript sources are compiled on load, as the main thread's were.
    execArgv: WORKER_ENTRY.endsWith('.ts') ? ['--require', '@swc-node/register'] : [],
  });
  const result = new Promise<HashPassResult>((resolve, reject) => {
    let settled = false;
    worker.once('message', (m: HashWorkerMessage) => {
      settled = true;
      if (m.ok) resolve(m.result);
      else reject(new Error(m.message));
    });
    worker.once('error', (e) => {
      settled = true;
      reject(e);
    });
    worker.once('exit', (code) => {
      if (!settled) reject(new Error(`the hash worker exited with code ${code} before it answered`));
    });
  });
  // Read only after the main pass: a worker that fails early must not be an unhandled rejection meanwhile.
  result.catch(() => undefined);
  return { result, stop: () => void worker.terminate() };
};
