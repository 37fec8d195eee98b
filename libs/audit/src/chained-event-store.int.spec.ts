// Proves ChainedEventStore keeps the EventStore contract on a real SQLite file while chaining every event.
import { join } from 'node:path';
import { tempDir } from '@cx/testing';
import { runEventStoreContract } from '../../event-store/src/event-store.contract';
import { SqliteEventStore } from '../../event-store/src/sqlite/sqlite-event-store.adapter';
import type { NewEvent, RecordedEvent } from '../../event-store/src/event-store.port';
import { ChainedEventStore } from './chained-event-store';
import { HASH, PREV_HASH } from './hash-chain';
import { storeSource } from './verify/sources';
import { type VerifyReport, verifySources } from './verify/verify';

runEventStoreContract('ChainedEventStore(SQLite)', async () => {
  const dir = tempDir('cx-audit-contract-');
  const store = new ChainedEventStore(SqliteEventStore.open(join(dir.path, 'events.db')));
  return {
    store,
    cleanup: async () => {
      await store.close();
      dir.remove();
    },
  };
});

// A re-sent batch (same ids, same expected revision) is acknowledged by the store without writing, comparing ids
// only. When its content differs from what was stored (a fresh timestamp, say), the hash computed for it is not the
// hash the stored events carry, and the next append must chain to the stored one.
describe('ChainedEventStore on an acknowledged re-append (SQLite)', () => {
  const ids = ['9f0c2d6e-1b7a-4c1e-9a51-3e3f7e0b2a01', '9f0c2d6e-1b7a-4c1e-9a51-3e3f7e0b2a02'];
  const batch = (at: string): NewEvent[] => ids.map((id, i) => ({ id, type: 'Thing', data: { i, at } }));
  let dir: ReturnType<typeof tempDir>;
  let inner: SqliteEventStore;

  beforeEach(() => {
    dir = tempDir('cx-audit-ack-');
    inner = SqliteEventStore.open(join(dir.path, 'events.db'));
  });
  afterEach(async () => {
    await inner.close();
    dir.remove();
  });

  const verify = (): Promise<VerifyReport> => verifySources([storeSource('events.db', inner)]);

  const expectChained = async (stream: string): Promise<void> => {
    const events: RecordedEvent[] = [];
    for await (const e of inner.readStream(stream)) events.push(e);
    for (let i = 1; i < events.length; i++) {
      expect((events[i] as RecordedEvent).metadata[PREV_HASH]).toBe((events[i - 1] as RecordedEvent).metadata[HASH]);
    }
    const report = await verify();
    expect(report.violations).toEqual([]);
    expect(report.clean).toBe(true);
  };

  it('chains after the stored events when a no_stream batch is re-sent with other content', async () => {
    const store = new ChainedEventStore(inner);
    const first = await store.appendToStream('thing-1', batch('t1'), { expectedRevision: 'no_stream' });
    const again = await store.appendToStream('thing-1', batch('t2'), { expectedRevision: 'no_stream' });
    expect(again).toEqual(first);
    await store.appendToStream('thing-1', { type: 'Next', data: {} }, { expectedRevision: 'any' });
    await expectChained('thing-1');
  });

  it('chains after the stored events when a batch at an exact revision is re-sent with other content', async () => {
    const store = new ChainedEventStore(inner);
    await store.appendToStream('thing-1', { type: 'Opened', data: {} }, { expectedRevision: 'no_stream' });
    const first = await store.appendToStream('thing-1', batch('t1'), { expectedRevision: 0n });
    const again = await store.appendToStream('thing-1', batch('t2'), { expectedRevision: 0n });
    expect(again).toEqual(first);
    await store.appendToStream('thing-1', { type: 'Next', data: {} }, { expectedRevision: 'any' });
    await store.appendToStream('thing-1', { type: 'Last', data: {} }, { expectedRevision: 3n });
    await expectChained('thing-1');
  });

  it('chains after the stored events when another instance (a restarted process) re-sends the batch', async () => {
    await new ChainedEventStore(inner).appendToStream('thing-1', batch('t1'), { expectedRevision: 'no_stream' });
    const restarted = new ChainedEventStore(inner);
    await restarted.appendToStream(
      'thing-1',
      { id: ids[0], type: 'Thing', data: { i: 0, at: 't0' } },
      {
        expectedRevision: 'no_stream',
      },
    );
    await restarted.appendToStream('thing-1', batch('t2').slice(1), { expectedRevision: 0n });
    await restarted.appendToStream('thing-1', { type: 'Next', data: {} }, { expectedRevision: 1n });
    await expectChained('thing-1');
  });

  it('keeps chaining fresh writes with caller ids without reading the head back', async () => {
    const store = new ChainedEventStore(inner);
    await store.appendToStream('thing-1', batch('t1'), { expectedRevision: 'no_stream' });
    const reads = jest.spyOn(inner, 'readStream');
    await store.appendToStream(
      'thing-1',
      { id: '9f0c2d6e-1b7a-4c1e-9a51-3e3f7e0b2a03', type: 'Next', data: {} },
      {
        expectedRevision: 1n,
      },
    );
    await store.appendToStream('thing-1', { type: 'Last', data: {} }, { expectedRevision: 'any' });
    expect(reads.mock.calls.filter(([s]) => s === 'thing-1')).toEqual([]);
    reads.mockRestore();
    await expectChained('thing-1');
  });

  it('chains correctly while its head cache of two streams keeps turning over, and reads evicted heads back', async () => {
    const store = new ChainedEventStore(inner, { headCacheSize: 2 });
    const streams = ['a', 'b', 'c', 'd', 'e'].map((s) => `cache-${s}`);
    for (const stream of streams) {
      await store.appendToStream(stream, { type: 'Opened', data: {} }, { expectedRevision: 'no_stream' });
    }
    const reads = jest.spyOn(inner, 'readStream');
    // Round-robin over five streams through a cache of two: every exact-revision append finds its head evicted.
    for (let round = 1; round <= 4; round++) {
      for (const stream of streams) {
        await store.appendToStream(stream, { type: 'Next', data: { round } }, { expectedRevision: BigInt(round - 1) });
      }
    }
    expect(reads.mock.calls.filter(([s]) => typeof s === 'string' && s.startsWith('cache-')).length).toBeGreaterThan(0);
    reads.mockRestore();
    // The same stream over and over stays cached: read back once (the round-robin evicted it), then never.
    const again = jest.spyOn(inner, 'readStream');
    for (let r = 5; r <= 8; r++) {
      await store.appendToStream('cache-a', { type: 'Next', data: { r } }, { expectedRevision: BigInt(r - 1) });
    }
    expect(again.mock.calls.filter(([s]) => s === 'cache-a')).toHaveLength(1);
    again.mockRestore();
    for (const stream of streams) await expectChained(stream);
  });
});
