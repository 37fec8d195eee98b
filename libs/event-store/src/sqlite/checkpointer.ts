import { Worker } from 'node:worker_threads';

// WAL checkpoints off the writer's thread. In WAL mode a commit appends pages to the log; a checkpoint copies them
// back into the database file and syncs it. SQLite runs one inside the COMMIT that takes the log past
// wal_autocheckpoint pages, and with a large batch of random-key inserts (identity claims) that copy and its sync
// take about as long as the commit's own log write and sync, on the event loop. The Checkpointer runs them in a
// worker thread on its own connection instead, as PASSIVE checkpoints (they never wait for or block a writer or a
// reader), once roughly as many bytes as SQLite's default threshold (1,000 pages) have been committed since the
// last one. Durability is unchanged: a commit is durable when its log write is synced, before and after this.
//
// The writer's own automatic checkpoint stays on as a backstop at BACKSTOP_PAGES, so a worker that falls behind or
// fails only lets the log grow that far. A worker that fails is not restarted: the store goes back to checkpointing
// inline at SQLite's default threshold.

/** SQLite's default wal_autocheckpoint, in pages, and its default page size. */
export const DEFAULT_AUTOCHECKPOINT_PAGES = 1_000;
const PAGE_BYTES = 4_096;
/** How far the log may grow while the worker checkpoints, before the writer checkpoints inline after all. */
export const BACKSTOP_PAGES = 10 * DEFAULT_AUTOCHECKPOINT_PAGES;

// Plain CommonJS, evaluated in the worker: nothing to compile, whether the store runs from TypeScript or a build.
const WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
// A SqliteError thrown out of a worker reaches the parent without its message: every failure is answered instead.
const failure = (e) => ({ ok: false, message: String((e && e.message) || e) });
let db = null;
try {
  const Database = require(workerData.driver);
  db = new Database(workerData.file, { fileMustExist: true, timeout: 0 });
  db.pragma('synchronous = FULL');
} catch (e) {
  parentPort.postMessage(failure(e));
}
parentPort.on('message', (m) => {
  if (m === 'close') {
    if (db !== null) db.close();
    parentPort.close();
    return;
  }
  if (db === null) return;
  try {
    db.pragma('wal_checkpoint(PASSIVE)');
    parentPort.postMessage({ ok: true });
  } catch (e) {
    parentPort.postMessage(failure(e));
  }
});
`;

type WorkerAnswer = { ok: true } | { ok: false; message: string };

export interface CheckpointerStats {
  /** Checkpoints the worker ran. */
  checkpoints: number;
  /** Why the worker stopped, once it has; the store then checkpoints inline. */
  failure: string | null;
}

export class Checkpointer {
  private worker: Worker | null = null;
  private pending = false;
  private bytesSince = 0;
  private closing: Promise<void> | null = null;
  readonly stats: CheckpointerStats = { checkpoints: 0, failure: null };

  /**
   * @param file the store's file
   * @param onFailure called once if the worker fails (to put the writer's automatic checkpoint back)
   */
  constructor(
    private readonly file: string,
    private readonly onFailure: () => void,
  ) {}

  /** After a commit: about how many bytes it wrote (rows and index entries). */
  committed(bytes: number): void {
    this.bytesSince += bytes;
    if (this.pending || this.closing !== null || this.stats.failure !== null) return;
    if (this.bytesSince < DEFAULT_AUTOCHECKPOINT_PAGES * PAGE_BYTES) return;
    this.bytesSince = 0;
    this.pending = true;
    (this.worker ??= this.start()).postMessage('checkpoint');
  }

  private start(): Worker {
    const worker = new Worker(WORKER, {
      eval: true,
      workerData: { file: this.file, driver: require.resolve('better-sqlite3') },
    });
    // An idle checkpointer never keeps the process alive; the store's close() ends it.
    worker.unref();
    worker.on('message', (m: WorkerAnswer) => {
      this.pending = false;
      if (m.ok) this.stats.checkpoints++;
      else this.fail(m.message);
    });
    // What the worker threw may arrive as a plain object (a SqliteError does): its message, whatever it is.
    worker.on('error', (e: unknown) => this.fail(messageOf(e)));
    worker.on('exit', (code) => {
      if (this.closing === null) this.fail(`the checkpoint worker exited with code ${code}`);
    });
    return worker;
  }

  private fail(message: string): void {
    if (this.stats.failure !== null) return;
    this.stats.failure = message;
    this.pending = false;
    void this.worker?.terminate();
    this.worker = null;
    this.onFailure();
  }

  /** Lets a checkpoint in progress finish, then closes the worker's connection and ends it. */
  close(): Promise<void> {
    this.closing ??= new Promise<void>((resolve) => {
      const worker = this.worker;
      this.worker = null;
      if (worker === null) return resolve();
      // Held open until the worker has closed its connection (which, if it is the file's last, checkpoints the
      // whole log): an unref'd worker would otherwise let a process with nothing else to do exit under it.
      worker.ref();
      worker.once('exit', () => resolve());
      worker.postMessage('close');
    });
    return this.closing;
  }
}

const messageOf = (e: unknown): string => {
  if (typeof e !== 'object' || e === null) return String(e);
  const { message, code } = e as { message?: unknown; code?: unknown };
  if (typeof message === 'string' && message !== '') return message;
  return typeof code === 'string' ? code : 'the checkpoint worker failed';
};
