import type Database from 'better-sqlite3';

// The SQLite event store's schema and connection settings. The schema version lives in PRAGMA user_version;
// forward migrations run at start-up, in one IMMEDIATE transaction so two processes opening the same new file
// cannot both migrate it.

export interface PragmaOptions {
  busyTimeoutMs: number;
  /** Page cache size in KiB. */
  cacheSizeKiB: number;
}

/**
 * Set explicitly rather than trusting the defaults compiled into the SQLite build:
 * - WAL, so readers (subscriptions, other processes) never block the writer and the writer never blocks them;
 * - synchronous=FULL, because an acknowledged append is settlement-grade: in WAL mode NORMAL may lose the last
 *   commits on power loss, FULL syncs the log on every commit (group commit amortises that sync);
 * - busy_timeout, so a second process waiting for the write lock waits instead of failing at once;
 * - foreign_keys on: the schema declares none today, so a future migration that adds one is enforced.
 */
export const applyPragmas = (db: Database.Database, opts: PragmaOptions): void => {
  const mode = String(db.pragma('journal_mode = WAL', { simple: true }));
  if (mode.toLowerCase() !== 'wal')
    throw new Error(`SQLite refused journal_mode=WAL (got ${mode}); is the file on a network share?`);
  db.pragma('synchronous = FULL');
  db.pragma(`busy_timeout = ${Math.trunc(opts.busyTimeoutMs)}`);
  db.pragma('foreign_keys = ON');
  db.pragma(`cache_size = ${-Math.trunc(opts.cacheSizeKiB)}`);
  db.pragma('temp_store = MEMORY');
};

type Migration = (db: Database.Database) => void;

/** Append-only: migration i takes the schema from version i to i + 1. Never edit one that has shipped. */
export const MIGRATIONS: readonly Migration[] = [
  (db) =>
    db.exec(`
      CREATE TABLE events (
        position INTEGER PRIMARY KEY,   -- the global position in $all: strictly increasing, never reused
        stream   TEXT    NOT NULL,
        revision INTEGER NOT NULL,      -- zero-based, contiguous within the stream
        event_id TEXT    NOT NULL,      -- lower-case UUID
        type     TEXT    NOT NULL,
        data     TEXT    NOT NULL,      -- JSON
        metadata TEXT,                  -- JSON, NULL when empty
        created  INTEGER NOT NULL       -- ms since the epoch, the store's clock
      );
      CREATE UNIQUE INDEX events_stream_revision ON events (stream, revision);
      CREATE UNIQUE INDEX events_stream_event_id ON events (stream, event_id);
      -- One row per stream ever written. A soft delete sets deleted = 1 and truncate_before = last_revision + 1;
      -- appending again clears deleted and keeps truncate_before, which hides the old events (EventStoreDB's $tb).
      CREATE TABLE streams (
        name            TEXT    PRIMARY KEY,
        last_revision   INTEGER NOT NULL,
        truncate_before INTEGER NOT NULL DEFAULT 0,
        deleted         INTEGER NOT NULL DEFAULT 0
      ) WITHOUT ROWID;
    `),
];

export const SCHEMA_VERSION = MIGRATIONS.length;

export const schemaVersion = (db: Database.Database): number => Number(db.pragma('user_version', { simple: true }));

/** Brings the file up to SCHEMA_VERSION. Refuses a file written by a newer version of this code. */
export const migrate = (db: Database.Database, migrations: readonly Migration[] = MIGRATIONS): void => {
  db.exec('BEGIN IMMEDIATE');
  try {
    const from = schemaVersion(db);
    if (from > migrations.length) {
      throw new Error(`event store schema version ${from} is newer than this code supports (${migrations.length})`);
    }
    for (let v = from; v < migrations.length; v++) (migrations[v] as Migration)(db);
    if (from !== migrations.length) db.pragma(`user_version = ${migrations.length}`);
    db.exec('COMMIT');
  } catch (e) {
    if (db.inTransaction) db.exec('ROLLBACK');
    throw e;
  }
};
