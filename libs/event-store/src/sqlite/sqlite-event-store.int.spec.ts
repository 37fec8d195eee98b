// Proves the SQLite store meets the EventStore contract on a real file, plus what only SQLite owes: schema and migrations, group commit, other processes on the same file (polling, locking) and all-or-nothing batches when killed.
import Database from 'better-sqlite3';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { scaled, tempDir, waitFor } from '@cx/testing';
import { WrongExpectedVersion } from '../event-store.errors';
import { inTempDir, runEventStoreContract } from '../event-store.contract';
import type { RecordedEvent } from '../event-store.port';
import { SqliteEventStore } from './sqlite-event-store.adapter';
import { MIGRATIONS, SCHEMA_VERSION, applyPragmas, migrate, schemaVersion } from './sqlite-schema';

const ROOT = resolve(__dirname, '../../../..');
const FIXTURE = join(__dirname, 'fixtures', 'append-forever.fixture.ts');

const fixture = (...args: string[]): ChildProcess =>
  spawn(process.execPath, ['-r', '@swc-node/register', FIXTURE, ...args], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });

/** Runs the fixture to completion; resolves with its stdout. */
const runFixture = async (...args: string[]): Promise<string> => {
  const child = fixture(...args);
  let out = '';
  let err = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  const [code] = (await once(child, 'exit')) as [number | null];
  if (code !== 0) throw new Error(`fixture ${args.join(' ')} exited ${code}: ${err}`);
  return out;
};

const collect = async <T>(it: AsyncIterable<T>): Promise<T[]> => {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
};

runEventStoreContract(
  'sqlite',
  inTempDir('cx-es-contract-', (file) => SqliteEventStore.open(file)),
);

describe('SqliteEventStore (SQLite only)', () => {
  let dir: { path: string; remove: () => void };
  let file: string;
  const open: SqliteEventStore[] = [];
  const openStore = (options?: Parameters<typeof SqliteEventStore.open>[1]): SqliteEventStore => {
    const s = SqliteEventStore.open(file, options);
    open.push(s);
    return s;
  };

  beforeEach(() => {
    dir = tempDir('cx-es-sqlite-');
    file = join(dir.path, 'events.db');
  });
  afterEach(async () => {
    for (const s of open.splice(0)) await s.close();
    dir.remove();
  });

  test('a disk-full error in a group commit fails the whole group and writes none of it', async () => {
    const store = openStore();
    await store.appendToStream('warm-up', [{ type: 'T', data: {} }]);
    // The adapter's own connection: max_page_count is per connection. Leave room for a small event only.
    const db = (store as unknown as { db: Database.Database }).db;
    const pages = Number(db.pragma('page_count', { simple: true }));
    db.pragma(`max_page_count = ${pages + 2}`);
    const outcomes = await Promise.allSettled([
      store.appendToStream('small-a', [{ type: 'T', data: { n: 1 } }], { expectedRevision: 'no_stream' }),
      store.appendToStream('huge', [{ type: 'T', data: { blob: 'x'.repeat(400_000) } }], {
        expectedRevision: 'no_stream',
      }),
      store.appendToStream('small-c', [{ type: 'T', data: { n: 3 } }], { expectedRevision: 'no_stream' }),
    ]);
    expect(outcomes.map((o) => o.status)).toEqual(['rejected', 'rejected', 'rejected']);
    for (const o of outcomes)
      expect((o as PromiseRejectedResult).reason).toMatchObject({ name: 'StoreUnavailable', retriable: true });
    db.pragma('max_page_count = 1073741823');
    // Nothing of the failed group is durable, and the store keeps working.
    for (const stream of ['small-a', 'huge', 'small-c']) expect(await store.streamRevision(stream)).toBe('no_stream');
    await store.appendToStream('small-c', [{ type: 'T', data: { n: 3 } }], { expectedRevision: 'no_stream' });
    expect(await store.streamRevision('small-c')).toBe(0n);
  });

  test('a new file gets the current schema version, the tables and the unique indexes', async () => {
    openStore();
    const db = new Database(file, { readonly: true });
    try {
      expect(schemaVersion(db)).toBe(SCHEMA_VERSION);
      const names = (
        db
          .prepare("SELECT name FROM sqlite_master WHERE type IN ('table', 'index') ORDER BY name")
          .pluck()
          .all() as string[]
      ).filter((n) => !n.startsWith('sqlite_'));
      expect(names).toEqual(['events', 'events_stream_event_id', 'events_stream_revision', 'streams']);
      expect(String(db.pragma('journal_mode', { simple: true }))).toBe('wal');
    } finally {
      db.close();
    }
  });

  test('the pragmas are set explicitly on the connection', () => {
    const db = new Database(file);
    try {
      applyPragmas(db, { busyTimeoutMs: 1234, cacheSizeKiB: 1024 });
      expect(String(db.pragma('journal_mode', { simple: true }))).toBe('wal');
      expect(Number(db.pragma('synchronous', { simple: true }))).toBe(2); // FULL
      expect(Number(db.pragma('busy_timeout', { simple: true }))).toBe(1234);
      expect(Number(db.pragma('foreign_keys', { simple: true }))).toBe(1);
    } finally {
      db.close();
    }
  });

  test('migrations run forward once, at start-up, and data survives reopening', async () => {
    const store = openStore();
    await store.appendToStream('kept-1', { type: 'Kept', data: { n: 1 } });
    await store.close();
    const db = new Database(file);
    let runs = 0;
    const next = [...MIGRATIONS, (d: Database.Database) => (runs++, d.exec('CREATE TABLE later (x INTEGER)'))];
    migrate(db, next);
    migrate(db, next);
    expect(runs).toBe(1);
    expect(schemaVersion(db)).toBe(SCHEMA_VERSION + 1);
    db.close();
    // A file written by newer code is refused rather than misread.
    expect(() => SqliteEventStore.open(file)).toThrow(/newer/);
    const raw = new Database(file);
    raw.pragma(`user_version = ${SCHEMA_VERSION}`);
    raw.close();
    const reopened = openStore();
    const [e] = await collect(reopened.readStream('kept-1'));
    expect(e?.data).toEqual({ n: 1 });
  });

  test('appends issued in the same tick share one transaction (group commit)', async () => {
    const store = openStore();
    const n = 300;
    const before = { ...store.stats };
    const results = await Promise.allSettled(
      Array.from({ length: n }, (_, i) =>
        // Every tenth append is at a wrong revision: it fails alone, the others in its transaction commit.
        store.appendToStream(
          `group-${i}`,
          { type: 'G', data: { i } },
          { expectedRevision: i % 10 === 0 ? 5n : 'no_stream' },
        ),
      ),
    );
    expect(store.stats.commits - before.commits).toBe(1);
    expect(
      results
        .filter((r) => r.status === 'rejected')
        .every((r) => (r as PromiseRejectedResult).reason instanceof WrongExpectedVersion),
    ).toBe(true);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(n - n / 10);
    expect(await store.streamRevision('group-0')).toBe('no_stream');
    expect(await store.streamRevision('group-1')).toBe(0n);
  });

  test('two stores on one file in one process: subscriptions wake at once, and exact revisions still exclude each other', async () => {
    // A poll interval far beyond the wait proves the in-process notifier, not the poll, delivered.
    const reader = openStore({ pollIntervalMs: 60_000 });
    const writer = openStore({ pollIntervalMs: 60_000 });
    const sub = reader.subscribeToStream('shared-1', { fromRevision: 'start' });
    const got: RecordedEvent[] = [];
    const done = (async () => {
      for await (const e of sub) got.push(e);
    })();
    await writer.appendToStream('shared-1', { type: 'One', data: {} }, { expectedRevision: 'no_stream' });
    await waitFor(() => got.length === 1, { timeoutMs: 5_000, what: 'notified delivery' });
    const race = await Promise.allSettled([
      reader.appendToStream('shared-1', { type: 'R', data: {} }, { expectedRevision: 0n }),
      writer.appendToStream('shared-1', { type: 'W', data: {} }, { expectedRevision: 0n }),
    ]);
    expect(race.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    expect(await reader.streamRevision('shared-1')).toBe(1n);
    await sub.unsubscribe();
    await done;
  });

  test('a subscription sees appends by another process by polling', async () => {
    const store = openStore({ pollIntervalMs: 20 });
    const sub = store.subscribeToAll({ fromPosition: 'start', filter: { streamNamePrefixes: ['remote-'] } });
    const got: RecordedEvent[] = [];
    const done = (async () => {
      for await (const e of sub) got.push(e);
    })();
    const batches = 20;
    await runFixture('batches', file, 'remote-1', String(batches));
    await waitFor(() => got.length >= batches * 10, { timeoutMs: 10_000, what: 'events from the other process' });
    await sub.unsubscribe();
    await done;
    expect(got.map((e) => e.revision)).toEqual(Array.from({ length: batches * 10 }, (_, i) => BigInt(i)));
  }, 120_000);

  test('closing the store waits for the checkpoint worker, even in a process with nothing else to do', async () => {
    // The worker closes its connection (the file's last, so it checkpoints the whole log) before close() resolves:
    // a process that only awaits close() must not exit under it.
    // Without that, such a process exits 0 without a word once the store's own connection has closed.
    const out = await runFixture('close', file, '40');
    expect(JSON.parse(out.trim())).toEqual({ closed: true, checkpoints: expect.any(Number) });
    expect(existsSync(`${file}-wal`)).toBe(false);
  }, 120_000);

  test('two processes racing at exact revisions on one stream never interleave or lose a batch', async () => {
    openStore();
    const wins = scaled(200, 20);
    const outputs = await Promise.all([
      runFixture('race', file, 'raced-1', String(wins), 'a'),
      runFixture('race', file, 'raced-1', String(wins), 'b'),
    ]);
    for (const out of outputs) expect(JSON.parse(out.trim())).toMatchObject({ wins });
    const store = openStore();
    const events = await collect(store.readStream('raced-1'));
    expect(events.map((e) => e.revision)).toEqual(Array.from({ length: 2 * wins * 3 }, (_, i) => BigInt(i)));
    for (let i = 0; i < events.length; i += 3) {
      const batch = events.slice(i, i + 3).map((e) => e.data as { tag: string; win: number; k: number });
      expect(batch.map((d) => d.k)).toEqual([0, 1, 2]);
      expect(new Set(batch.map((d) => `${d.tag}/${d.win}`)).size).toBe(1);
    }
  }, 120_000);

  test('a process killed with SIGKILL mid-append leaves each 100-event batch whole or absent', async () => {
    const rounds = scaled(10, 2);
    const watcher = openStore();
    for (let round = 0; round < rounds; round++) {
      const child = fixture('forever', file);
      const exited = once(child, 'exit');
      let err = '';
      child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
      const start = (await watcher.headPosition())?.commit ?? 0n;
      // Let it commit a few group transactions, then kill it wherever it is.
      await waitFor(async () => ((await watcher.headPosition())?.commit ?? 0n) >= start + BigInt(800 + round * 137), {
        timeoutMs: 20_000,
        intervalMs: 5,
        what: `the writer to make progress (${err})`,
      });
      child.kill('SIGKILL');
      await exited;
    }
    await watcher.close();
    const db = new Database(file, { readonly: true });
    try {
      const counts = db
        .prepare("SELECT json_extract(data, '$.tag') AS tag, count(*) AS n FROM events GROUP BY tag")
        .all() as Array<{ tag: string; n: number }>;
      expect(counts.length).toBeGreaterThan(0);
      expect(counts.filter((c) => c.n !== 100)).toEqual([]);
      const streams = db
        .prepare(
          'SELECT s.name, s.last_revision AS last, count(e.position) AS n, min(e.revision) AS lo, max(e.revision) AS hi FROM streams s JOIN events e ON e.stream = s.name GROUP BY s.name',
        )
        .all() as Array<{ name: string; last: number; n: number; lo: number; hi: number }>;
      for (const s of streams) expect(s).toEqual({ name: s.name, last: s.n - 1, n: s.n, lo: 0, hi: s.n - 1 });
      expect(String(db.pragma('integrity_check', { simple: true }))).toBe('ok');
    } finally {
      db.close();
    }
  }, 120_000);
});
