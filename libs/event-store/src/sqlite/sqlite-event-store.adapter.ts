import Database from 'better-sqlite3';
import { existsSync, realpathSync, renameSync, rmSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { EventStoreError, StoreUnavailable, StreamNotFound, WrongExpectedVersion } from '../event-store.errors';
import type {
  AppendOutcome,
  AppendResult,
  EventStore,
  ExpectedRevision,
  NewEvent,
  Position,
  ReadAllOptions,
  ReadStreamOptions,
  RecordedEvent,
  SubscribeToAllOptions,
  StreamAppend,
  SubscribeToStreamOptions,
  Subscription,
} from '../event-store.port';
import { validateAppend, validateExpectedRevision, validateStreamName } from '../validate-append';
import { serialiseEvents, validateFilter, validateMaxCount, type SerialisedEvent } from './append-input';
import { notifyAppend, onAppend } from './append-notifier';
import { BACKSTOP_PAGES, Checkpointer, type CheckpointerStats, DEFAULT_AUTOCHECKPOINT_PAGES } from './checkpointer';
import { StoredEvent } from '../json-text';
import { applyPragmas, migrate, SCHEMA_VERSION, schemaVersion } from './sqlite-schema';

// The embedded event store: one SQLite file in WAL mode, EventStoreDB's semantics (the contract suite in
// ../event-store.contract.ts proves them).
//
// Writes go through group commit: every append or delete issued before the event loop next reaches its check
// phase is queued, and one IMMEDIATE transaction applies them all, each undone alone when it fails (by a
// SAVEPOINT for a batch of several events, by SQLite's statement rollback otherwise) so that one wrong expected
// revision fails only its own call. Every caller's promise settles after COMMIT returns, so an
// acknowledged append is durable (synchronous=FULL). The stream's revision is read inside the write
// transaction, never cached, so other processes writing the same file are always seen.
//
// Reads and subscriptions page through the file (keyset pagination on position or revision) with no statement
// left open between pages, so a slow consumer holds at most one page in memory and never blocks the writer. A $all
// subscription that has read exactly up to where one of this store's own commits began takes that commit's rows
// from memory instead (the store keeps them, up to RECENT_ROWS_CAP, until its $all subscribers have passed them):
// in one process the projections follow the writer, and reading back what was just written was a large share of
// their work. Anything else (another connection's commits, a subscriber further behind) is read from the file.
//
// WAL checkpoints run in a worker thread by default (checkpointer.ts), not inside the commit that crosses SQLite's
// threshold.

export interface SqliteEventStoreOptions {
  /** How often a waiting subscription checks whether another process appended (PRAGMA data_version). */
  pollIntervalMs?: number;
  /** How long to wait for another process's write lock before an append fails with StoreUnavailable. */
  busyTimeoutMs?: number;
  /** Rows read per query by reads and subscriptions; also the most a slow subscriber holds in memory. */
  readPageSize?: number;
  /** SQLite page cache, KiB. */
  cacheSizeKiB?: number;
  /** The store's clock for `created` (ms since the epoch). */
  now?: () => number;
  /**
   * Where WAL checkpoints run: in a worker thread (the default; see checkpointer.ts), or inline in the commit that
   * takes the log past SQLite's threshold.
   */
  checkpoints?: 'background' | 'inline';
}

const DEFAULTS = {
  pollIntervalMs: 50,
  busyTimeoutMs: 5_000,
  readPageSize: 1_000,
  cacheSizeKiB: 64 * 1024,
  checkpoints: 'background',
} as const;
/** The most rows of recent commits kept for $all subscriptions that have not reached them yet. */
const RECENT_ROWS_CAP = 65_536;
const MAX_INT64 = (1n << 63n) - 1n;

type AppendOp = {
  kind: 'append';
  stream: string;
  expected: ExpectedRevision;
  events: SerialisedEvent[];
  resolve: (r: AppendResult) => void;
  reject: (e: unknown) => void;
};
type DeleteOp = {
  kind: 'delete';
  stream: string;
  expected: ExpectedRevision;
  resolve: (r: { position: Position | null }) => void;
  reject: (e: unknown) => void;
};
type WriteOp = AppendOp | DeleteOp;

/**
 * A write failed after an earlier statement of the same operation had already written, with no savepoint to undo
 * just that operation: the whole transaction must roll back, so every operation in it fails.
 */
class HalfWritten {
  constructor(readonly cause: unknown) {}
}

/**
 * The rows one of this connection's transactions committed: exactly the rows of $all in (after, last], since the
 * transaction held the write lock from the head it read (`after`) to its commit.
 */
interface CommittedRows {
  after: bigint;
  last: bigint;
  rows: EventRow[];
}

/**
 * About what an append adds to the log: its rows and their index entries (the stream name is in three b-trees). An
 * idempotent repeat that wrote nothing is counted too; it only brings a checkpoint a little sooner.
 */
const appendedBytes = (op: AppendOp): number => {
  let n = 0;
  for (const e of op.events) n += e.data.length + (e.metadata?.length ?? 0) + 3 * op.stream.length + 96;
  return n;
};

/** [last_revision, truncate_before, deleted] */
type StreamRow = [bigint, bigint, bigint];
/** [position, stream, revision, event_id, type, data, metadata, created] */
export type EventRow = [bigint, string, bigint, string, string, string, string | null, bigint];

const EVENT_COLUMNS = 'position, stream, revision, event_id, type, data, metadata, created';

const toPosition = (p: bigint): Position => ({ commit: p, prepare: p });

/** A row as an event, carrying the row's own JSON text (json-text.ts). */
const toRecorded = (r: EventRow): RecordedEvent =>
  new StoredEvent(
    r[3],
    r[1],
    r[2],
    r[4],
    JSON.parse(r[5]) as unknown,
    r[6] === null ? {} : (JSON.parse(r[6]) as Record<string, unknown>),
    new Date(Number(r[7])),
    toPosition(r[0]),
    { data: r[5], metadata: r[6] },
  );

/**
 * The rows of a store's $all in position order, through `upTo`, a page at a time, exactly as stored: nothing parsed.
 * Opens its own read-only connection (WAL: it never blocks a writer), so a reader in another thread can scan the
 * file beside the process writing it. For the audit's chain pass, which hashes the stored text and parses only the
 * metadata: each tuple is [position, stream, revision, event_id, type, data, metadata, created].
 */
export function* readStoredRowPages(
  path: string,
  opts: { upTo: bigint; pageSize?: number },
): Generator<readonly EventRow[], void, undefined> {
  const db = new Database(path, { readonly: true, fileMustExist: true });
  try {
    db.defaultSafeIntegers(true);
    const page = db
      .prepare(`SELECT ${EVENT_COLUMNS} FROM events WHERE position > ? AND position <= ? ORDER BY position LIMIT ?`)
      .raw(true);
    const size = opts.pageSize ?? DEFAULTS.readPageSize;
    let after = 0n;
    for (;;) {
      const rows = page.all(after, opts.upTo, size) as EventRow[];
      const last = rows[rows.length - 1];
      if (last === undefined) return;
      yield rows;
      after = last[0];
    }
  } finally {
    db.close();
  }
}

// By name, not `instanceof Error`: the native addon is loaded once per process, so its errors may come from another
// realm's Error (jest runs each test file in its own).
const isSqliteError = (e: unknown): e is Error & { code: string } =>
  typeof e === 'object' &&
  e !== null &&
  (e as { name?: unknown }).name === 'SqliteError' &&
  typeof (e as { code?: unknown }).code === 'string';

/** Where a subscription or a forwards read resumes: strictly after this position. */
const positionOf = (p: Position | 'start' | 'end', head: () => bigint): bigint => {
  if (p === 'start') return 0n;
  if (p === 'end') return head();
  if (typeof p !== 'object' || p === null || typeof p.commit !== 'bigint') throw new TypeError('not a position');
  return p.commit;
};

/** SQLite errors an append reports as its own failure (an event id already in the stream). */
const CONSTRAINT_CODES = new Set(['SQLITE_CONSTRAINT_UNIQUE', 'SQLITE_CONSTRAINT_PRIMARYKEY']);

export class SqliteEventStore implements EventStore {
  private readonly db: Database.Database;
  private readonly fileKey: string;
  private readonly opts: Required<SqliteEventStoreOptions>;
  private readonly stopListening: () => void;
  private queue: WriteOp[] = [];
  private flushHandle: NodeJS.Immediate | null = null;
  private closed = false;
  private readonly subscriptions = new Set<PagedSubscription>();
  /** Where each live $all subscription has read to: every row at or before it has been seen. */
  private readonly allCursors = new Set<{ after: bigint }>();
  /** The rows of this connection's latest commits, oldest first, while a $all subscription may still need them. */
  private recent: CommittedRows[] = [];
  private recentRows = 0;
  /** The rows the transaction in progress has written, while a $all subscription exists to hand them to. */
  private collecting: EventRow[] | null = null;
  private pollTimer: NodeJS.Timeout | null = null;
  private lastDataVersion = -1n;
  private readonly filterStatements = new Map<string, Database.Statement>();
  /**
   * How many transactions group commit ran and how many appends they carried, and how many times a $all
   * subscription took a commit's rows from memory rather than the file (for benchmarks and tests).
   */
  readonly stats = { commits: 0, appends: 0, handedOver: 0 };
  private readonly checkpointer: Checkpointer | null = null;

  private readonly s: ReturnType<SqliteEventStore['prepareStatements']>;

  /** Opens (creating and migrating if needed) the store in the file at `path`. */
  static open(path: string, options: SqliteEventStoreOptions = {}): SqliteEventStore {
    return new SqliteEventStore(path, options);
  }

  constructor(path: string, options: SqliteEventStoreOptions = {}) {
    if (path === '' || path === ':memory:') throw new TypeError('the SQLite event store needs a file path');
    this.opts = {
      pollIntervalMs: options.pollIntervalMs ?? DEFAULTS.pollIntervalMs,
      busyTimeoutMs: options.busyTimeoutMs ?? DEFAULTS.busyTimeoutMs,
      readPageSize: options.readPageSize ?? DEFAULTS.readPageSize,
      cacheSizeKiB: options.cacheSizeKiB ?? DEFAULTS.cacheSizeKiB,
      now: options.now ?? Date.now,
      checkpoints: options.checkpoints ?? DEFAULTS.checkpoints,
    };
    if (!(this.opts.pollIntervalMs > 0) || !Number.isInteger(this.opts.readPageSize) || this.opts.readPageSize < 1) {
      throw new TypeError('pollIntervalMs must be positive and readPageSize a positive integer');
    }
    if (this.opts.checkpoints !== 'background' && this.opts.checkpoints !== 'inline') {
      throw new TypeError("checkpoints must be 'background' or 'inline'");
    }
    this.db = new Database(path, { timeout: this.opts.busyTimeoutMs });
    try {
      this.db.defaultSafeIntegers(true);
      applyPragmas(this.db, this.opts);
      migrate(this.db);
      this.s = this.prepareStatements();
    } catch (e) {
      this.db.close();
      throw e;
    }
    const abs = isAbsolute(path) ? path : resolve(path);
    this.fileKey = realpathSync(abs);
    if (this.opts.checkpoints === 'background') {
      this.db.pragma(`wal_autocheckpoint = ${BACKSTOP_PAGES}`);
      this.checkpointer = new Checkpointer(this.fileKey, () => {
        if (!this.closed) this.db.pragma(`wal_autocheckpoint = ${DEFAULT_AUTOCHECKPOINT_PAGES}`);
      });
    }
    this.stopListening = onAppend(this.fileKey, () => this.wakeSubscriptions());
  }

  /** The store's file (its real path). */
  get file(): string {
    return this.fileKey;
  }

  private prepareStatements() {
    const db = this.db;
    const raw = (sql: string) => db.prepare(sql).raw(true);
    return {
      begin: db.prepare('BEGIN IMMEDIATE'),
      beginRead: db.prepare('BEGIN'),
      commit: db.prepare('COMMIT'),
      rollback: db.prepare('ROLLBACK'),
      savepoint: db.prepare('SAVEPOINT op'),
      release: db.prepare('RELEASE op'),
      rollbackTo: db.prepare('ROLLBACK TO op'),
      getStream: raw('SELECT last_revision, truncate_before, deleted FROM streams WHERE name = ?'),
      insertEvent: db.prepare(
        'INSERT INTO events (stream, revision, event_id, type, data, metadata, created) VALUES (?, ?, ?, ?, ?, ?, ?)',
      ),
      insertStream: db.prepare('INSERT INTO streams (name, last_revision) VALUES (?, ?)'),
      upsertStream: db.prepare(
        `INSERT INTO streams (name, last_revision) VALUES (?, ?)
         ON CONFLICT (name) DO UPDATE SET last_revision = excluded.last_revision, deleted = 0`,
      ),
      softDelete: db.prepare('UPDATE streams SET deleted = 1, truncate_before = last_revision + 1 WHERE name = ?'),
      revisionOfId: raw('SELECT revision FROM events WHERE stream = ? AND event_id = ?'),
      idsFrom: raw(
        'SELECT revision, event_id, position FROM events WHERE stream = ? AND revision >= ? ORDER BY revision LIMIT ?',
      ),
      head: raw('SELECT max(position) FROM events'),
      dataVersion: raw('PRAGMA data_version'),
      streamForwards: raw(
        `SELECT ${EVENT_COLUMNS} FROM events WHERE stream = ? AND revision >= ? AND revision <= ? ORDER BY revision LIMIT ?`,
      ),
      streamBackwards: raw(
        `SELECT ${EVENT_COLUMNS} FROM events WHERE stream = ? AND revision >= ? AND revision <= ? ORDER BY revision DESC LIMIT ?`,
      ),
      streamAfter: raw(
        `SELECT ${EVENT_COLUMNS} FROM events
         WHERE stream = ? AND revision > ?
           AND revision >= coalesce((SELECT truncate_before FROM streams WHERE name = ?), 0)
         ORDER BY revision LIMIT ?`,
      ),
      allForwards: raw(`SELECT ${EVENT_COLUMNS} FROM events WHERE position >= ? ORDER BY position LIMIT ?`),
      allBackwards: raw(`SELECT ${EVENT_COLUMNS} FROM events WHERE position <= ? ORDER BY position DESC LIMIT ?`),
    };
  }

  // ---------------------------------------------------------------- writes

  appendToStream(
    stream: string,
    events: NewEvent | NewEvent[],
    opts?: { expectedRevision?: ExpectedRevision },
  ): Promise<AppendResult> {
    try {
      this.assertOpen();
      // Validated as given, so that null is refused rather than read as 'any'.
      validateAppend(stream, events, opts?.expectedRevision);
      const expected = opts?.expectedRevision ?? 'any';
      const serialised = serialiseEvents(events);
      return new Promise<AppendResult>((resolve, reject) =>
        this.enqueue({ kind: 'append', stream, expected, events: serialised, resolve, reject }),
      );
    } catch (e) {
      return Promise.reject(e);
    }
  }

  appendToStreams(appends: readonly StreamAppend[]): Promise<AppendOutcome[]> {
    const outcomes = new Array<AppendOutcome>(appends.length);
    if (appends.length === 0) return Promise.resolve(outcomes);
    if (this.closed) {
      const error = new StoreUnavailable('the event store is closed');
      return Promise.resolve(outcomes.fill({ ok: false, error }));
    }
    // One promise for the call: each append is queued as its own operation (so group commit judges and undoes it
    // alone), settling into its slot; the last to settle resolves the call.
    return new Promise<AppendOutcome[]>((resolve) => {
      let pending = appends.length;
      const settle = (i: number, outcome: AppendOutcome): void => {
        outcomes[i] = outcome;
        if (--pending === 0) resolve(outcomes);
      };
      for (let i = 0; i < appends.length; i++) {
        const a = appends[i] as StreamAppend;
        try {
          validateAppend(a.stream, a.events, a.expectedRevision);
          this.enqueue({
            kind: 'append',
            stream: a.stream,
            expected: a.expectedRevision ?? 'any',
            events: serialiseEvents(a.events),
            resolve: (result) => settle(i, { ok: true, result }),
            reject: (error) => settle(i, { ok: false, error }),
          });
        } catch (error) {
          settle(i, { ok: false, error });
        }
      }
    });
  }

  deleteStream(stream: string, opts?: { expectedRevision?: ExpectedRevision }): Promise<{ position: Position | null }> {
    try {
      this.assertOpen();
      validateStreamName(stream);
      validateExpectedRevision(opts?.expectedRevision);
      const expected = opts?.expectedRevision ?? 'any';
      return new Promise((resolve, reject) => this.enqueue({ kind: 'delete', stream, expected, resolve, reject }));
    } catch (e) {
      return Promise.reject(e);
    }
  }

  private enqueue(op: WriteOp): void {
    this.queue.push(op);
    // setImmediate rather than a microtask: callers woken by the previous commit append again from their own
    // continuations, and all of those run before the check phase, so they share the next transaction.
    if (this.flushHandle === null) this.flushHandle = setImmediate(() => this.flush());
  }

  /** Applies every queued write in one transaction and settles their promises after COMMIT. */
  private flush(): void {
    this.flushHandle = null;
    const ops = this.queue;
    if (ops.length === 0) return;
    this.queue = [];
    const outcomes: Array<{ ok: true; value: unknown } | { ok: false; error: unknown }> = new Array(ops.length);
    let wrote = false;
    let bytes = 0;
    let headBefore = 0n;
    try {
      this.s.begin.run();
      if (this.allCursors.size > 0) {
        headBefore = this.head();
        this.collecting = [];
      }
    } catch (cause) {
      const error = new StoreUnavailable(`could not start a write transaction: ${(cause as Error).message}`, { cause });
      for (const op of ops) op.reject(error);
      return;
    }
    try {
      const created = BigInt(this.opts.now());
      for (let i = 0; i < ops.length; i++) {
        const op = ops[i] as WriteOp;
        // The savepoint and its release cost about a third of the SQL work of a one-event append, so only an
        // append of several events takes one. Every other operation checks before it writes, and its one write
        // that can fail for its own reasons (the INSERT: an event id already in the stream) is a single
        // statement, which SQLite undoes by itself; a failure of a later statement (I/O) is HalfWritten and
        // fails the whole transaction.
        const savepoint = op.kind === 'append' && op.events.length > 1;
        const collected = this.collecting?.length ?? 0;
        if (savepoint) this.s.savepoint.run();
        try {
          const value = op.kind === 'append' ? this.applyAppend(op, created) : this.applyDelete(op);
          if (savepoint) this.s.release.run();
          outcomes[i] = { ok: true, value };
          if (op.kind === 'append') {
            wrote = true;
            if (this.checkpointer !== null) bytes += appendedBytes(op);
          }
        } catch (error) {
          if (error instanceof HalfWritten) throw error.cause;
          // Only an operation's own refusals (checked before writing) and a duplicate event id (a constraint the
          // failed statement undid) leave the transaction intact. Any other SQLite error (disk full, I/O) may
          // have rolled back the whole transaction, and the operations after it would then be committed one by
          // one outside it: fail the whole group instead.
          if (!this.db.inTransaction || (isSqliteError(error) && !CONSTRAINT_CODES.has(error.code))) throw error;
          if (savepoint) {
            this.s.rollbackTo.run();
            this.s.release.run();
          }
          // Its rows were undone, and the positions they took are given to the next rows written.
          if (this.collecting !== null) this.collecting.length = collected;
          outcomes[i] = { ok: false, error: this.translate(error, op) };
        }
      }
      this.s.commit.run();
      this.stats.commits++;
      this.stats.appends += ops.length;
    } catch (cause) {
      this.collecting = null;
      // COMMIT itself failed (disk full, I/O error): nothing in the transaction is durable.
      try {
        if (this.db.inTransaction) this.s.rollback.run();
      } catch {
        // The connection is already unusable; the error below reports the original cause.
      }
      const error = new StoreUnavailable(`write transaction failed: ${(cause as Error).message}`, { cause });
      for (const op of ops) op.reject(error);
      return;
    }
    for (let i = 0; i < ops.length; i++) {
      const op = ops[i] as WriteOp;
      const outcome = outcomes[i] as { ok: true; value: unknown } | { ok: false; error: unknown };
      if (outcome.ok) (op.resolve as (v: unknown) => void)(outcome.value);
      else op.reject(outcome.error);
    }
    if (bytes > 0) this.checkpointer?.committed(bytes);
    const committed = this.collecting;
    this.collecting = null;
    if (committed !== null && committed.length > 0) this.keepRecent(headBefore, committed);
    if (wrote) notifyAppend(this.fileKey);
  }

  /**
   * Keeps a commit's rows for the $all subscriptions of this store, which take them from memory rather than read
   * them back when they have read exactly up to where the commit began. Rows are kept only while a subscription has
   * yet to pass them, and never more than RECENT_ROWS_CAP (a subscription further behind reads the file).
   */
  private keepRecent(after: bigint, rows: EventRow[]): void {
    // Contiguous from the head the transaction started at, as SQLite assigns rowids; if not, the file says.
    for (let i = 0; i < rows.length; i++) if ((rows[i] as EventRow)[0] !== after + BigInt(i + 1)) return;
    let slowest: bigint | null = null;
    for (const c of this.allCursors) if (slowest === null || c.after < slowest) slowest = c.after;
    const last = (rows[rows.length - 1] as EventRow)[0];
    this.recent.push({ after, last, rows });
    this.recentRows += rows.length;
    while (this.recent.length > 1) {
      const oldest = this.recent[0] as CommittedRows;
      if ((slowest === null || oldest.last > slowest) && this.recentRows <= RECENT_ROWS_CAP) break;
      this.recent.shift();
      this.recentRows -= oldest.rows.length;
    }
  }

  /** The kept rows of the commit that began right after `after`, if any. */
  private recentAfter(after: bigint): CommittedRows | null {
    for (const c of this.recent) if (c.after === after) return c;
    return null;
  }

  private translate(error: unknown, op: WriteOp): unknown {
    if (error instanceof EventStoreError) return error;
    if (isSqliteError(error)) {
      if (error.code === 'SQLITE_CONSTRAINT_UNIQUE' || error.code === 'SQLITE_CONSTRAINT_PRIMARYKEY') {
        // An event id already in the stream at another revision: EventStoreDB's "corrupted idempotency",
        // which it reports as a wrong expected version.
        return new WrongExpectedVersion(op.stream, op.expected, this.actualRevision(op.stream), { cause: error });
      }
      return new StoreUnavailable(`append failed: ${error.message}`, { cause: error });
    }
    return error;
  }

  private actualRevision(stream: string): bigint | 'no_stream' {
    const row = this.s.getStream.get(stream) as StreamRow | undefined;
    return row === undefined || row[2] !== 0n ? 'no_stream' : row[0];
  }

  private applyAppend(op: AppendOp, created: bigint): AppendResult {
    if (op.expected === 'no_stream') {
      const claimed = this.appendNewStream(op, created);
      if (claimed !== null) return claimed;
    }
    const row = this.s.getStream.get(op.stream) as StreamRow | undefined;
    // `last` is the physical last revision, which a soft delete keeps: EventStoreDB continues a recreated
    // stream from where it left off. `actual` is what callers see.
    const last = row === undefined ? -1n : row[0];
    const actual: bigint | 'no_stream' = row === undefined || row[2] !== 0n ? 'no_stream' : last;
    const expected = op.expected;
    const wrong = () => new WrongExpectedVersion(op.stream, expected, actual);

    if (expected === 'no_stream') {
      if (actual !== 'no_stream') return this.idempotent(op, 0n) ?? this.throw(wrong());
    } else if (expected === 'stream_exists' || expected === 'any') {
      if (expected === 'stream_exists' && actual === 'no_stream') throw wrong();
      // Best effort, as EventStoreDB's id cache: a batch whose first id is already in the stream is a retry.
      const first = this.s.revisionOfId.get(op.stream, (op.events[0] as SerialisedEvent).id) as [bigint] | undefined;
      if (first !== undefined) return this.idempotent(op, first[0]) ?? this.throw(wrong());
    } else if (expected !== last) {
      // An exact revision. Recreating a soft-deleted stream at its last revision is allowed, as in EventStoreDB.
      if (expected < last) return this.idempotent(op, expected + 1n) ?? this.throw(wrong());
      throw wrong();
    }

    let revision = last;
    let position = 0n;
    const insert = this.s.insertEvent;
    const collect = this.collecting;
    for (const e of op.events) {
      revision++;
      position = insert.run(op.stream, revision, e.id, e.type, e.data, e.metadata, created).lastInsertRowid as bigint;
      collect?.push([position, op.stream, revision, e.id, e.type, e.data, e.metadata, created]);
    }
    try {
      this.s.upsertStream.run(op.stream, revision);
    } catch (error) {
      throw op.events.length > 1 ? error : new HalfWritten(error);
    }
    return { nextExpectedRevision: revision, position: toPosition(position) };
  }

  /**
   * An append at no_stream (an identity claim, the commonest append of all) without looking the stream up first:
   * the stream's row is inserted before its events, and a stream that already has one (live or soft-deleted) fails
   * that insert, which SQLite undoes by itself, and answers null for the general path to judge.
   */
  private appendNewStream(op: AppendOp, created: bigint): AppendResult | null {
    try {
      this.s.insertStream.run(op.stream, BigInt(op.events.length - 1));
    } catch (error) {
      // A WITHOUT ROWID table reports its primary key as a UNIQUE constraint.
      if (isSqliteError(error) && CONSTRAINT_CODES.has(error.code)) return null;
      throw error;
    }
    let revision = -1n;
    let position = 0n;
    const collect = this.collecting;
    try {
      for (const e of op.events) {
        revision++;
        position = this.s.insertEvent.run(op.stream, revision, e.id, e.type, e.data, e.metadata, created)
          .lastInsertRowid as bigint;
        collect?.push([position, op.stream, revision, e.id, e.type, e.data, e.metadata, created]);
      }
    } catch (error) {
      // The stream's row is written: a single event's failure must fail the transaction (several events have a
      // savepoint, which undoes the row too).
      throw op.events.length > 1 ? error : new HalfWritten(error);
    }
    return { nextExpectedRevision: revision, position: toPosition(position) };
  }

  /** The original result when the stream already holds exactly these ids from `from` on; otherwise null. */
  private idempotent(op: AppendOp, from: bigint): AppendResult | null {
    const n = op.events.length;
    const rows = this.s.idsFrom.all(op.stream, from, n) as Array<[bigint, string, bigint]>;
    if (rows.length !== n) return null;
    for (let i = 0; i < n; i++) {
      const r = rows[i] as [bigint, string, bigint];
      if (r[0] !== from + BigInt(i) || r[1] !== (op.events[i] as SerialisedEvent).id) return null;
    }
    const lastRow = rows[n - 1] as [bigint, string, bigint];
    return { nextExpectedRevision: lastRow[0], position: toPosition(lastRow[2]) };
  }

  private throw(e: Error): never {
    throw e;
  }

  private applyDelete(op: DeleteOp): { position: Position | null } {
    const row = this.s.getStream.get(op.stream) as StreamRow | undefined;
    const actual: bigint | 'no_stream' = row === undefined || row[2] !== 0n ? 'no_stream' : row[0];
    const expected = op.expected;
    const ok =
      expected === 'any' ||
      (expected === 'no_stream' && actual === 'no_stream') ||
      (expected === 'stream_exists' && actual !== 'no_stream') ||
      (typeof expected === 'bigint' && expected === actual);
    if (!ok) throw new WrongExpectedVersion(op.stream, expected, actual);
    if (actual !== 'no_stream') this.s.softDelete.run(op.stream);
    // A soft delete writes no event to $all here (EventStoreDB writes one to the metadata stream), so there is
    // no position to report.
    return { position: null };
  }

  // ---------------------------------------------------------------- reads

  async streamRevision(stream: string): Promise<bigint | 'no_stream'> {
    this.assertOpen();
    return this.actualRevision(stream);
  }

  async headPosition(): Promise<Position | null> {
    this.assertOpen();
    const head = this.head();
    return head === 0n ? null : toPosition(head);
  }

  private head(): bigint {
    const row = this.s.head.get() as [bigint | null];
    return row[0] ?? 0n;
  }

  readStream(stream: string, opts: ReadStreamOptions = {}): AsyncIterable<RecordedEvent> {
    const direction = opts.direction ?? 'forwards';
    const maxCount = validateMaxCount(opts.maxCount);
    const from = opts.fromRevision ?? (direction === 'forwards' ? 'start' : 'end');
    if (from !== 'start' && from !== 'end' && !(typeof from === 'bigint' && from >= 0n)) {
      throw new TypeError('fromRevision must be a non-negative bigint, "start" or "end"');
    }
    return this.pages(() => {
      // The stream is looked up when iteration starts, as EventStoreDB reports StreamNotFound on the read.
      const row = this.s.getStream.get(stream) as StreamRow | undefined;
      if (row === undefined || row[2] !== 0n) throw new StreamNotFound(stream);
      const low = row[1]; // truncate_before: events of a soft-deleted life of the stream stay hidden
      let cursor = from === 'start' ? 0n : from === 'end' ? MAX_INT64 : from;
      return (limit) => {
        let rows: EventRow[];
        if (direction === 'forwards') {
          rows = this.s.streamForwards.all(stream, cursor > low ? cursor : low, MAX_INT64, limit) as EventRow[];
          const lastRow = rows[rows.length - 1];
          if (lastRow !== undefined) cursor = lastRow[2] + 1n;
        } else {
          if (cursor < low) return [];
          rows = this.s.streamBackwards.all(stream, low, cursor, limit) as EventRow[];
          const lastRow = rows[rows.length - 1];
          if (lastRow !== undefined) cursor = lastRow[2] - 1n;
        }
        return rows;
      };
    }, maxCount);
  }

  readAll(opts: ReadAllOptions = {}): AsyncIterable<RecordedEvent> {
    const direction = opts.direction ?? 'forwards';
    const maxCount = validateMaxCount(opts.maxCount);
    const filter = validateFilter(opts.filter);
    const from = opts.fromPosition ?? (direction === 'forwards' ? 'start' : 'end');
    if (typeof from === 'object' && (from === null || typeof from.commit !== 'bigint'))
      throw new TypeError('fromPosition is not a position');
    if (from !== 'start' && from !== 'end' && typeof from !== 'object')
      throw new TypeError('fromPosition must be a position, "start" or "end"');
    return this.pages(() => {
      const forwards = direction === 'forwards';
      // Forwards from the end and backwards from the start are empty, as in EventStoreDB.
      if ((forwards && from === 'end') || (!forwards && from === 'start')) return () => [];
      let cursor = from === 'start' ? 0n : from === 'end' ? MAX_INT64 : from.commit;
      const query =
        filter !== null
          ? this.filteredQuery(filter, forwards ? '>=' : '<=')
          : forwards
            ? (c: bigint, limit: number) => this.s.allForwards.all(c, limit) as EventRow[]
            : (c: bigint, limit: number) => this.s.allBackwards.all(c, limit) as EventRow[];
      return (limit) => {
        const rows = query(cursor, limit);
        const lastRow = rows[rows.length - 1];
        if (lastRow !== undefined) cursor = forwards ? lastRow[0] + 1n : lastRow[0] - 1n;
        return rows;
      };
    }, maxCount);
  }

  /** A query over events matching a prefix filter, run in SQLite rather than in JavaScript: (cursor, limit). */
  private filteredQuery(
    filter: { column: 'stream' | 'type'; prefixes: string[] },
    op: '>=' | '<=' | '>',
  ): (cursor: bigint, limit: number) => EventRow[] {
    // Prefixes are bound as parameters, never spliced into SQL; substr and length both count characters.
    const match = filter.prefixes.map(() => `substr(${filter.column}, 1, length(?)) = ?`).join(' OR ');
    const order = op === '<=' ? 'DESC' : 'ASC';
    const sql = `SELECT ${EVENT_COLUMNS} FROM events WHERE position ${op} ? AND (${match}) ORDER BY position ${order} LIMIT ?`;
    let stmt = this.filterStatements.get(sql);
    if (stmt === undefined) {
      stmt = this.db.prepare(sql).raw(true);
      this.filterStatements.set(sql, stmt);
    }
    const prepared = stmt;
    // Each prefix is bound twice: once for its length, once to compare.
    const doubled = filter.prefixes.flatMap((p) => [p, p]);
    return (cursor, limit) => prepared.all(cursor, ...doubled, limit) as EventRow[];
  }

  /**
   * An async iterable reading one page at a time. `start` runs on the first `next()`, so a missing stream
   * surfaces on iteration; it returns the page reader, which advances its own cursor.
   */
  private pages(start: () => (limit: number) => EventRow[], maxCount: number): AsyncIterable<RecordedEvent> {
    const pageSize = this.opts.readPageSize;
    return {
      [Symbol.asyncIterator]: (): AsyncIterator<RecordedEvent> => {
        let fetch: ((limit: number) => EventRow[]) | null = null;
        let rows: EventRow[] = [];
        let index = 0;
        let remaining = maxCount;
        let exhausted = false;
        const done: IteratorReturnResult<undefined> = { done: true, value: undefined };
        const next = (): IteratorResult<RecordedEvent> => {
          if (index >= rows.length) {
            if (exhausted || remaining <= 0) return done;
            this.assertOpen();
            if (fetch === null) fetch = start();
            const limit = remaining < pageSize ? remaining : pageSize;
            rows = fetch(limit);
            index = 0;
            remaining -= rows.length;
            if (rows.length < limit) exhausted = true;
            if (rows.length === 0) return done;
          }
          return { done: false, value: toRecorded(rows[index++] as EventRow) };
        };
        return {
          next: () => {
            try {
              return Promise.resolve(next());
            } catch (e) {
              return Promise.reject(e);
            }
          },
          return: () => {
            exhausted = true;
            rows = [];
            return Promise.resolve(done);
          },
        };
      },
    };
  }

  // ---------------------------------------------------------------- subscriptions

  subscribeToAll(opts: SubscribeToAllOptions): Subscription {
    this.assertOpen();
    const filter = validateFilter(opts.filter);
    // Every row at or before `cursor.after` has been seen (delivered, or passed over by the filter).
    const cursor = { after: positionOf(opts.fromPosition, () => this.head()) };
    const pageSize = this.opts.readPageSize;
    const query = filter === null ? null : this.filteredQuery(filter, '>');
    const matches =
      filter === null
        ? null
        : (row: EventRow): boolean => {
            const value = filter.column === 'stream' ? row[1] : row[4];
            return filter.prefixes.some((p) => value.startsWith(p));
          };
    const fetch = (): EventRow[] => {
      // This store's own commits, from memory, for as long as each begins exactly where the cursor stands.
      for (let kept = this.recentAfter(cursor.after); kept !== null; kept = this.recentAfter(cursor.after)) {
        cursor.after = kept.last;
        this.stats.handedOver++;
        const rows = matches === null ? kept.rows : kept.rows.filter(matches);
        if (rows.length > 0) return rows;
      }
      // Otherwise the file: the page and the head in one read transaction, so that a short page (everything up to
      // the head) moves the cursor to that head, from which this store's next commit can be taken from memory.
      const reading = !this.db.inTransaction;
      if (reading) this.s.beginRead.run();
      try {
        const rows =
          query !== null
            ? query(cursor.after, pageSize)
            : (this.s.allForwards.all(cursor.after + 1n, pageSize) as EventRow[]);
        const lastRow = rows[rows.length - 1];
        if (lastRow !== undefined) cursor.after = lastRow[0];
        if (reading && rows.length < pageSize) {
          const head = this.head();
          if (head > cursor.after) cursor.after = head;
        }
        return rows;
      } finally {
        if (reading) this.s.commit.run();
      }
    };
    this.allCursors.add(cursor);
    return this.track(
      new PagedSubscription(fetch, (sub) => {
        this.allCursors.delete(cursor);
        if (this.allCursors.size === 0) {
          this.recent = [];
          this.recentRows = 0;
        }
        this.untrack(sub);
      }),
    );
  }

  subscribeToStream(stream: string, opts: SubscribeToStreamOptions): Subscription {
    this.assertOpen();
    const from = opts.fromRevision;
    let after: bigint;
    if (from === 'start') after = -1n;
    else if (from === 'end') {
      const row = this.s.getStream.get(stream) as StreamRow | undefined;
      after = row === undefined ? -1n : row[0];
    } else if (typeof from === 'bigint' && from >= 0n) after = from;
    else throw new TypeError('fromRevision must be a non-negative bigint, "start" or "end"');
    const pageSize = this.opts.readPageSize;
    const fetch = (): EventRow[] => {
      const rows = this.s.streamAfter.all(stream, after, stream, pageSize) as EventRow[];
      const lastRow = rows[rows.length - 1];
      if (lastRow !== undefined) after = lastRow[2];
      return rows;
    };
    return this.track(new PagedSubscription(fetch, (sub) => this.untrack(sub)));
  }

  private track(sub: PagedSubscription): PagedSubscription {
    this.subscriptions.add(sub);
    if (this.pollTimer === null) {
      this.lastDataVersion = (this.s.dataVersion.get() as [bigint])[0];
      // Only other connections' commits change data_version: this notices other processes (and other
      // connections of this process, which the notifier has already woken) for the price of one pragma.
      this.pollTimer = setInterval(() => this.poll(), this.opts.pollIntervalMs);
    }
    return sub;
  }

  private untrack(sub: PagedSubscription): void {
    this.subscriptions.delete(sub);
    if (this.subscriptions.size === 0 && this.pollTimer !== null) {
      clearInterval(this.pollTimer);
      this.pollTimer = null;
    }
  }

  private poll(): void {
    if (this.closed) return;
    const version = (this.s.dataVersion.get() as [bigint])[0];
    if (version !== this.lastDataVersion) {
      this.lastDataVersion = version;
      this.wakeSubscriptions();
    }
  }

  private wakeSubscriptions(): void {
    for (const sub of this.subscriptions) sub.wake();
  }

  // ---------------------------------------------------------------- operations

  /**
   * Copies the store, online, into a new file at `destination` with SQLite's backup API: a consistent snapshot
   * as of one commit, taken while appends go on (it restarts its page copy if the file changes under it).
   */
  async backup(destination: string): Promise<{ totalPages: number }> {
    this.assertOpen();
    if (existsSync(destination)) throw new TypeError(`${destination} exists; a backup never overwrites a file`);
    // What is queued for group commit goes in first, so the backup has every append answered before it started.
    if (this.flushHandle !== null) {
      clearImmediate(this.flushHandle);
      this.flushHandle = null;
      this.flush();
    }
    const r = await this.db.backup(destination);
    return { totalPages: r.totalPages };
  }

  /**
   * Restores a backup into `target` (a store no process has open: stop the exchange first). The backup is checked
   * (integrity, a store schema this code reads) before anything is touched, copied beside the target and renamed
   * over it in one step, so a failed restore leaves the target as it was.
   */
  static async restore(backup: string, target: string, opts: { force?: boolean } = {}): Promise<{ events: bigint }> {
    if (!existsSync(backup)) throw new TypeError(`no backup at ${backup}`);
    if (existsSync(target) && opts.force !== true) {
      throw new TypeError(`${target} exists; restoring over a store needs --force (and the exchange stopped)`);
    }
    const src = new Database(backup, { readonly: true, fileMustExist: true });
    let events: bigint;
    try {
      src.defaultSafeIntegers(true);
      const check = String(src.pragma('integrity_check', { simple: true }));
      if (check !== 'ok') throw new TypeError(`the backup fails SQLite's integrity check: ${check}`);
      const version = schemaVersion(src);
      if (version < 1 || version > SCHEMA_VERSION) {
        throw new TypeError(`the backup is not a cx store this version reads (schema version ${version})`);
      }
      events = src.prepare('SELECT count(*) FROM events').pluck().get() as bigint;
      const staging = `${target}.restoring`;
      rmSync(staging, { force: true });
      await src.backup(staging);
      for (const suffix of ['-wal', '-shm']) rmSync(`${target}${suffix}`, { force: true });
      renameSync(staging, target);
    } finally {
      src.close();
    }
    return { events };
  }

  // ---------------------------------------------------------------- lifecycle

  private assertOpen(): void {
    if (this.closed) throw new StoreUnavailable('the event store is closed');
  }

  /** Commits what is queued, ends every subscription and closes the file. */
  async close(): Promise<void> {
    if (this.closed) return;
    if (this.flushHandle !== null) {
      clearImmediate(this.flushHandle);
      this.flush();
    }
    this.closed = true;
    for (const sub of [...this.subscriptions]) sub.end();
    this.stopListening();
    if (this.pollTimer !== null) clearInterval(this.pollTimer);
    this.pollTimer = null;
    this.db.close();
    await this.checkpointer?.close();
  }

  /** What the checkpoint worker has done, when checkpoints run in the background. */
  get checkpoints(): Readonly<CheckpointerStats> | null {
    return this.checkpointer?.stats ?? null;
  }
}

/**
 * A catch-up subscription: pulls one page at a time when its buffer is empty, so a slow consumer holds at most
 * one page; when a page comes back empty it waits to be woken by an append (this process) or by the poll
 * (other processes). Single consumer.
 */
class PagedSubscription implements Subscription, AsyncIterator<RecordedEvent> {
  private rows: EventRow[] = [];
  private index = 0;
  private ended = false;
  private woken = false;
  private waiter: (() => void) | null = null;

  constructor(
    private readonly fetch: () => EventRow[],
    private readonly onEnd: (sub: PagedSubscription) => void,
  ) {}

  [Symbol.asyncIterator](): AsyncIterator<RecordedEvent> {
    return this;
  }

  async next(): Promise<IteratorResult<RecordedEvent>> {
    for (;;) {
      if (this.ended) return { done: true, value: undefined };
      if (this.index < this.rows.length) return { done: false, value: toRecorded(this.rows[this.index++] as EventRow) };
      // Clear the flag before reading: an append committed after this read wakes us again.
      this.woken = false;
      this.rows = this.fetch();
      this.index = 0;
      if (this.rows.length > 0) continue;
      if (!this.woken) await new Promise<void>((resolve) => (this.waiter = resolve));
    }
  }

  async return(): Promise<IteratorResult<RecordedEvent>> {
    await this.unsubscribe();
    return { done: true, value: undefined };
  }

  wake(): void {
    this.woken = true;
    const waiter = this.waiter;
    this.waiter = null;
    waiter?.();
  }

  end(): void {
    if (this.ended) return;
    this.ended = true;
    this.rows = [];
    this.onEnd(this);
    this.wake();
  }

  async unsubscribe(): Promise<void> {
    this.end();
  }
}
