// $all subscriptions of the SQLite store take the rows of the store's own commits from memory when they have read up
// to exactly where a commit began, and read the file otherwise. These tests hold them to what reading the file
// gives: every row once, in position order, with the same values and stored text, around rolled-back appends,
// another connection's commits and a subscriber that falls behind.
import { join } from 'node:path';
import { tempDir, waitFor } from '@cx/testing';
import { WrongExpectedVersion } from '../event-store.errors';
import type { NewEvent, RecordedEvent, SubscribeToAllOptions } from '../event-store.port';
import { storedTextOf } from '../json-text';
import { SqliteEventStore } from './sqlite-event-store.adapter';

const collect = async <T>(it: AsyncIterable<T>): Promise<T[]> => {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
};

/** A subscription read into an array as it delivers. */
const follow = (store: SqliteEventStore, opts: SubscribeToAllOptions) => {
  const sub = store.subscribeToAll(opts);
  const got: RecordedEvent[] = [];
  const done = (async () => {
    for await (const e of sub) got.push(e);
  })();
  return {
    got,
    stop: async () => {
      await sub.unsubscribe();
      await done;
    },
  };
};

/** What a subscriber must have seen: the file's rows, read back, with the text each was stored as. */
const asRead = (events: RecordedEvent[]) =>
  events.map((e) => ({ ...e, text: storedTextOf(e) ?? null, metadata: { ...e.metadata } }));

const ev = (type: string, data: unknown, id?: string): NewEvent =>
  id === undefined ? { type, data } : { id, type, data };

describe('SqliteEventStore $all subscriptions and the store’s own commits', () => {
  let dir: { path: string; remove: () => void };
  let file: string;
  const open: SqliteEventStore[] = [];
  const openStore = (): SqliteEventStore => {
    // A poll far beyond any wait here: another connection in this process is heard through the notifier.
    const s = SqliteEventStore.open(file, { pollIntervalMs: 60_000, readPageSize: 7 });
    open.push(s);
    return s;
  };

  beforeEach(() => {
    dir = tempDir('cx-es-subs-');
    file = join(dir.path, 'events.db');
  });
  afterEach(async () => {
    for (const s of open.splice(0)) await s.close();
    dir.remove();
  });

  test('appends refused inside a group commit leave no hole and no ghost in what subscribers are handed', async () => {
    const store = openStore();
    await store.appendToStream('taken', [ev('T', { n: 0 }, '0b6c8d4e-1f2a-4b3c-9d4e-5f6a7b8c9d0e')]);
    const all = follow(store, { fromPosition: 'start' });
    const filtered = follow(store, { fromPosition: 'start', filter: { streamNamePrefixes: ['keep-'] } });
    await waitFor(() => all.got.length === 1, { what: 'the first event' });
    const before = store.stats.handedOver;
    // One tick, one transaction: successes around a multi-event append that fails after inserting its first event
    // (an id already in the stream: its savepoint undoes both), a claim of a stream that exists, a wrong exact
    // revision and an idempotent repeat that writes nothing.
    const outcomes = await Promise.allSettled([
      store.appendToStream('keep-1', [ev('A', { n: 1 }), ev('A', { n: 2 })], { expectedRevision: 'no_stream' }),
      store.appendToStream('taken', [ev('B', { n: 3 }), ev('B', { n: 4 }, '0b6c8d4e-1f2a-4b3c-9d4e-5f6a7b8c9d0e')]),
      store.appendToStream('other-1', ev('C', { n: 5 }), { expectedRevision: 'no_stream' }),
      store.appendToStream('taken', ev('D', { n: 6 }), { expectedRevision: 'no_stream' }),
      store.appendToStream('keep-2', ev('E', { n: 7 }), { expectedRevision: 3n }),
      store.appendToStream('taken', [ev('T', { n: 0 }, '0b6c8d4e-1f2a-4b3c-9d4e-5f6a7b8c9d0e')]),
      store.appendToStream('keep-3', [ev('F', { n: 8 }), ev('F', { n: 9 }), ev('F', { n: 10 })]),
    ]);
    expect(outcomes.map((o) => o.status)).toEqual([
      'fulfilled',
      'rejected',
      'fulfilled',
      'rejected',
      'rejected',
      'fulfilled',
      'fulfilled',
    ]);
    for (const i of [1, 3, 4]) {
      expect((outcomes[i] as PromiseRejectedResult).reason).toBeInstanceOf(WrongExpectedVersion);
    }
    const stored = await collect(store.readAll());
    expect(stored.map((e) => e.type)).toEqual(['T', 'A', 'A', 'C', 'F', 'F', 'F']);
    await waitFor(() => all.got.length === stored.length && filtered.got.length === 5, { what: 'delivery' });
    expect(asRead(all.got)).toEqual(asRead(stored));
    expect(asRead(filtered.got)).toEqual(asRead(stored.filter((e) => e.streamId.startsWith('keep-'))));
    // Both took that transaction from memory.
    expect(store.stats.handedOver - before).toBe(2);
    await all.stop();
    await filtered.stop();
  });

  test('commits of another connection between this store’s own are read from the file, once each, in order', async () => {
    const store = openStore();
    const other = openStore();
    const all = follow(store, { fromPosition: 'start' });
    const filtered = follow(store, { fromPosition: 'start', filter: { eventTypePrefixes: ['Mine'] } });
    const late = { sub: null as ReturnType<typeof follow> | null };
    // A fixed pseudo-random interleaving: bursts of one or more appends in a tick on this store or the other, and
    // now and then a wait for the subscribers to catch up (so that they meet commits both from memory and behind).
    let seed = 42;
    const next = (n: number): number => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed % n;
    };
    let written = 0;
    for (let round = 0; round < 120; round++) {
      const writer = next(3) === 0 ? other : store;
      const burst = 1 + next(4);
      await Promise.all(
        Array.from({ length: burst }, (_, k) =>
          writer.appendToStream(
            `s-${round}-${k}`,
            Array.from({ length: 1 + next(3) }, (_, j) => ev(writer === store ? 'Mine' : 'Theirs', { round, k, j })),
            { expectedRevision: 'no_stream' },
          ),
        ),
      ).then((results) => {
        for (const r of results) written = Math.max(written, Number(r.position.commit));
      });
      if (next(4) === 0) await waitFor(() => all.got.length === written, { what: `round ${round}` });
      // A subscriber that starts mid-way, from the head it sees.
      if (round === 60) late.sub = follow(store, { fromPosition: 'end' });
    }
    const stored = await collect(store.readAll());
    await waitFor(() => all.got.length === stored.length, { what: 'all delivered' });
    const mine = stored.filter((e) => e.type === 'Mine');
    await waitFor(() => filtered.got.length === mine.length, { what: 'filtered delivered' });
    expect(asRead(all.got)).toEqual(asRead(stored));
    expect(asRead(filtered.got)).toEqual(asRead(mine));
    const from = late.sub?.got[0]?.position.commit ?? 0n;
    const after60 = stored.filter((e) => e.position.commit >= from);
    await waitFor(() => late.sub?.got.length === after60.length, { what: 'late delivered' });
    expect(asRead(late.sub?.got ?? [])).toEqual(asRead(after60));
    expect(after60.length).toBeGreaterThan(0);
    expect(store.stats.handedOver).toBeGreaterThan(0);
    for (const s of [all, filtered, late.sub]) await s?.stop();
  });

  test('a subscriber that stops reading for a while catches up through the file and memory alike', async () => {
    const store = openStore();
    const other = openStore();
    const sub = store.subscribeToAll({ fromPosition: 'start' });
    const it = sub[Symbol.asyncIterator]();
    await store.appendToStream('first', ev('X', { n: 0 }));
    const first = await it.next();
    expect(first.done).toBe(false);
    const before = store.stats.handedOver;
    // Commits while nothing reads: this store's are kept for the subscriber, and another connection commits between
    // them, so that after the first kept commit the next one no longer begins where the subscriber stands.
    for (let i = 1; i <= 5; i++) {
      await Promise.all([
        store.appendToStream(`slow-${i}-a`, ev('X', { n: i }), { expectedRevision: 'no_stream' }),
        store.appendToStream(`slow-${i}-b`, [ev('X', { n: i }), ev('X', { n: i })]),
      ]);
      if (i % 2 === 0) await other.appendToStream(`theirs-${i}`, ev('Y', { n: i }));
    }
    const stored = await collect(store.readAll());
    const got = [first.value as RecordedEvent];
    // Each next() either has an event or, when the subscriber has been handed fewer than were stored, waits.
    while (got.length < stored.length) {
      let timer: NodeJS.Timeout | undefined;
      const r = await Promise.race([
        it.next(),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`nothing more after ${got.length} events`)), 5_000);
        }),
      ]).finally(() => clearTimeout(timer));
      expect(r.done).toBe(false);
      got.push(r.value as RecordedEvent);
    }
    expect(asRead(got)).toEqual(asRead(stored));
    expect(store.stats.handedOver).toBeGreaterThan(before);
    await sub.unsubscribe();
  });
});
