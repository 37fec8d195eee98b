// WAL checkpoints in a worker thread (checkpointer.ts), on a real file: the worker copies the log back while the
// store appends and a subscriber reads, the writer's own automatic checkpoint waits as a backstop, a worker that
// fails hands checkpoints back to the writer, and closing the store ends the worker.
import type Database from 'better-sqlite3';
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir, waitFor } from '@cx/testing';
import type { RecordedEvent } from '../event-store.port';
import { BACKSTOP_PAGES, Checkpointer, DEFAULT_AUTOCHECKPOINT_PAGES } from './checkpointer';
import { SqliteEventStore } from './sqlite-event-store.adapter';

const connectionOf = (store: SqliteEventStore): Database.Database => (store as unknown as { db: Database.Database }).db;
const autocheckpoint = (store: SqliteEventStore): number =>
  Number(connectionOf(store).pragma('wal_autocheckpoint', { simple: true }));

describe('WAL checkpoints in a worker thread', () => {
  let dir: { path: string; remove: () => void };
  let file: string;
  beforeEach(() => {
    dir = tempDir('cx-es-checkpoint-');
    file = join(dir.path, 'events.db');
  });
  afterEach(() => dir.remove());

  test('the worker copies the log into the database file while the store appends and a subscriber reads', async () => {
    const store = SqliteEventStore.open(file);
    try {
      expect(autocheckpoint(store)).toBe(BACKSTOP_PAGES);
      expect(store.checkpoints).toEqual({ checkpoints: 0, failure: null });
      const got: RecordedEvent[] = [];
      const sub = store.subscribeToAll({ fromPosition: 'start' });
      const reading = (async () => {
        for await (const e of sub) got.push(e);
      })();
      // About 8 MB in 40 transactions of 20 events: twice the threshold, a fifth of the writer's backstop.
      const blob = 'x'.repeat(10_000);
      for (let t = 0; t < 40; t++) {
        await Promise.all(
          Array.from({ length: 20 }, (_, i) =>
            store.appendToStream(
              `big-${t}-${i}`,
              { type: 'Big', data: { t, i, blob } },
              { expectedRevision: 'no_stream' },
            ),
          ),
        );
      }
      await waitFor(() => (store.checkpoints?.checkpoints ?? 0) >= 1, { what: 'a checkpoint by the worker' });
      // Below its backstop the writer never checkpointed: what reached the database file, the worker copied.
      expect(statSync(file).size).toBeGreaterThan(DEFAULT_AUTOCHECKPOINT_PAGES * 4_096);
      await waitFor(() => got.length === 800, { what: 'every event delivered' });
      expect(got.map((e) => e.position.commit)).toEqual(Array.from({ length: 800 }, (_, k) => BigInt(k + 1)));
      expect(store.checkpoints?.failure).toBeNull();
      await sub.unsubscribe();
      await reading;
    } finally {
      await store.close();
    }
    // Closing ended the worker's connection too: the last connection to close removes the log.
    expect(existsSync(`${file}-wal`)).toBe(false);
    const reopened = SqliteEventStore.open(file, { checkpoints: 'inline' });
    try {
      let n = 0;
      for await (const e of reopened.readAll()) if ((e.data as { blob: string }).blob.length === 10_000) n++;
      expect(n).toBe(800);
    } finally {
      await reopened.close();
    }
  });

  test('inline checkpoints leave SQLite’s own threshold and start no worker; anything else is refused', async () => {
    const store = SqliteEventStore.open(file, { checkpoints: 'inline' });
    try {
      expect(store.checkpoints).toBeNull();
      expect(autocheckpoint(store)).toBe(DEFAULT_AUTOCHECKPOINT_PAGES);
    } finally {
      await store.close();
    }
    expect(() => SqliteEventStore.open(file, { checkpoints: 'never' as 'inline' })).toThrow(TypeError);
  });

  test('a worker that fails hands checkpoints back to the writer and is not started again', async () => {
    let failures = 0;
    // The worker opens the file it is given and must find it there.
    const checkpointer = new Checkpointer(join(dir.path, 'missing.db'), () => failures++);
    checkpointer.committed(DEFAULT_AUTOCHECKPOINT_PAGES * 4_096);
    await waitFor(() => checkpointer.stats.failure, { what: 'the worker failing' });
    expect(checkpointer.stats.failure).toMatch(/unable to open|no such file|does not exist/i);
    expect(failures).toBe(1);
    checkpointer.committed(10 * DEFAULT_AUTOCHECKPOINT_PAGES * 4_096);
    expect(checkpointer.stats).toMatchObject({ checkpoints: 0 });
    expect(failures).toBe(1);
    // Not started again: a new worker would fail the same way, unseen, since only the first failure is reported.
    expect((checkpointer as unknown as { worker: unknown }).worker).toBeNull();
    await checkpointer.close();

    // The store's side of it: its writer checkpoints at SQLite's threshold again.
    const store = SqliteEventStore.open(file);
    try {
      const inner = (store as unknown as { checkpointer: { fail: (m: string) => void } }).checkpointer;
      inner.fail('injected');
      expect(autocheckpoint(store)).toBe(DEFAULT_AUTOCHECKPOINT_PAGES);
      expect(store.checkpoints?.failure).toBe('injected');
    } finally {
      await store.close();
    }
  });

  test('too little written for a checkpoint starts no worker', async () => {
    const store = SqliteEventStore.open(file);
    try {
      await store.appendToStream('small', { type: 'Small', data: { n: 1 } });
      expect((store as unknown as { checkpointer: { worker: unknown } }).checkpointer.worker).toBeNull();
    } finally {
      await store.close();
    }
  });
});
