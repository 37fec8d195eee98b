// Proves ChainedEventStore keeps the EventStore contract on a real SQLite file while chaining every event.
import { join } from 'node:path';
import { tempDir } from '@cx/testing';
import { inTempDir, runEventStoreContract } from '../../event-store/src/event-store.contract';
import { SqliteEventStore } from '../../event-store/src/sqlite/sqlite-event-store.adapter';
import type { NewEvent, RecordedEvent } from '../../event-store/src/event-store.port';
import { WrongExpectedVersion } from '../../event-store/src/event-store.errors';
import { ChainedEventStore, DELETIONS_STREAM, deletedHeadStream } from './chained-event-store';
import { HASH, PREV_HASH } from './hash-chain';
import { storeSource } from './verify/sources';
import { type VerifyReport, verifySources } from './verify/verify';

runEventStoreContract(
  'ChainedEventStore(SQLite)',
  inTempDir('cx-audit-contract-', (file) => new ChainedEventStore(SqliteEventStore.open(file))),
);

// Each test on a fresh SQLite file, read and verified directly (not through the decorator).
describe('ChainedEventStore over SQLite', () => {
  let dir: ReturnType<typeof tempDir>;
  let inner: SqliteEventStore;

  beforeEach(() => {
    dir = tempDir('cx-audit-chain-');
    inner = SqliteEventStore.open(join(dir.path, 'events.db'));
  });
  afterEach(async () => {
    await inner.close();
    dir.remove();
  });

  const read = async (stream: string): Promise<RecordedEvent[]> => {
    const events: RecordedEvent[] = [];
    for await (const e of inner.readStream(stream)) events.push(e);
    return events;
  };
  const verify = (): Promise<VerifyReport> => verifySources([storeSource('events.db', inner)]);

  // A re-sent batch (same ids, same expected revision) is acknowledged by the store without writing, comparing ids
  // only. When its content differs from what was stored (a fresh timestamp, say), the hash computed for it is not the
  // hash the stored events carry, and the next append must chain to the stored one.
  describe('on an acknowledged re-append', () => {
    const ids = ['9f0c2d6e-1b7a-4c1e-9a51-3e3f7e0b2a01', '9f0c2d6e-1b7a-4c1e-9a51-3e3f7e0b2a02'];
    const batch = (at: string): NewEvent[] => ids.map((id, i) => ({ id, type: 'Thing', data: { i, at } }));

    const expectChained = async (stream: string): Promise<void> => {
      const events = await read(stream);
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
          await store.appendToStream(
            stream,
            { type: 'Next', data: { round } },
            { expectedRevision: BigInt(round - 1) },
          );
        }
      }
      expect(reads.mock.calls.filter(([s]) => typeof s === 'string' && s.startsWith('cache-')).length).toBeGreaterThan(
        0,
      );
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

  // appendToStreams chains claims of new streams together (sharing the work on a metadata object they have in
  // common) and sends them to the store in one call; everything else takes appendToStream's path.
  describe('appendToStreams', () => {
    it('chains every claim, continues a deleted stream, keeps the caller metadata unchanged, and verifies clean', async () => {
      const store = new ChainedEventStore(inner);
      await store.appendToStream('claim-gone', [{ type: 'Old', data: {} }], { expectedRevision: 'no_stream' });
      await store.deleteStream('claim-gone');
      const [oldHead] = (await read(deletedHeadStream('claim-gone'))).map((e) => e.data as { hash: string });
      await store.appendToStream('claim-kept', [{ type: 'Old', data: {} }], { expectedRevision: 'no_stream' });
      // One metadata object for every claim, with keys out of order and a nested object: the caller's stays as given.
      const metadata = { correlationId: 'c-9', actor: { role: 'integrator', keyId: 'k-1' }, causationId: 'c-8' };
      const given = structuredClone(metadata);
      const outcomes = await store.appendToStreams([
        ...Array.from({ length: 50 }, (_, i) => ({
          stream: `claim-${i}`,
          events: [{ type: 'Claimed', data: { i, z: 1, a: 2 }, metadata }],
          expectedRevision: 'no_stream' as const,
        })),
        { stream: 'claim-gone', events: [{ type: 'Again', data: {}, metadata }], expectedRevision: 'no_stream' },
        { stream: 'claim-kept', events: [{ type: 'Dup', data: {}, metadata }], expectedRevision: 'no_stream' },
        { stream: 'claim-kept', events: [{ type: 'Next', data: {}, metadata }], expectedRevision: 0n },
      ]);
      expect(outcomes.map((o) => o.ok)).toEqual([...Array.from({ length: 51 }, () => true), false, true]);
      // A claim of a live stream meets it, as appendToStream's would: at no_stream, the store's refusal as its cause.
      const dup = outcomes[51];
      const refusal = dup?.ok === false ? dup.error : null;
      expect(refusal).toBeInstanceOf(WrongExpectedVersion);
      expect(refusal).toMatchObject({ stream: 'claim-kept', expected: 'no_stream' });
      // At 0, or at 1 when the append at 0 in the same call came first.
      expect([0n, 1n]).toContain((refusal as WrongExpectedVersion).actual);
      expect((refusal as Error).cause).toBeInstanceOf(WrongExpectedVersion);
      expect(metadata).toEqual(given);
      const first = (await read('claim-7'))[0] as RecordedEvent;
      expect(first.metadata[PREV_HASH]).toBeNull();
      expect(first.metadata).toMatchObject(given);
      // A recreated stream continues the chain of its old life (the head its delete recorded).
      const again = await read('claim-gone');
      expect(again.map((e) => e.type)).toEqual(['Again']);
      expect(again[0]?.metadata[PREV_HASH]).toBe(oldHead?.hash);
      // The next append to a claimed stream chains to the hash the claim left (from the head cache, no read back).
      const reads = jest.spyOn(inner, 'readStream');
      await store.appendToStream('claim-7', { type: 'Next', data: {} }, { expectedRevision: 0n });
      expect(reads.mock.calls.filter(([s]) => s === 'claim-7')).toEqual([]);
      reads.mockRestore();
      const seven = await read('claim-7');
      expect(seven[1]?.metadata[PREV_HASH]).toBe(seven[0]?.metadata[HASH]);
      const report = await verify();
      expect(report.violations).toEqual([]);
      expect(report.clean).toBe(true);
      expect(report.eventsChecked).toBeGreaterThanOrEqual(55);
    });

    it('learns which streams were ever deleted with one lookup per call, also of deletes by another process', async () => {
      const store = new ChainedEventStore(inner);
      const claim = (streams: string[]) =>
        store.appendToStreams(
          streams.map((stream) => ({
            stream,
            events: [{ type: 'Claimed', data: { stream } }],
            expectedRevision: 'no_stream' as const,
          })),
        );
      const lookups = jest.spyOn(inner, 'streamRevision');
      expect((await claim(Array.from({ length: 40 }, (_, i) => `many-${i}`))).every((o) => o.ok)).toBe(true);
      expect(lookups.mock.calls).toEqual([[DELETIONS_STREAM]]);
      lookups.mockRestore();

      // Another process (its own connection and decorator) writes a stream and deletes it.
      const otherInner = SqliteEventStore.open(join(dir.path, 'events.db'));
      try {
        const other = new ChainedEventStore(otherInner);
        await other.appendToStream('gone-elsewhere', [
          { type: 'Old', data: {} },
          { type: 'Old', data: {} },
        ]);
        await other.deleteStream('gone-elsewhere');
      } finally {
        await otherInner.close();
      }
      expect((await read(DELETIONS_STREAM)).map((e) => e.data)).toEqual([{ stream: 'gone-elsewhere' }]);
      const [oldHead] = (await read(deletedHeadStream('gone-elsewhere'))).map((e) => e.data as { hash: string });

      // This decorator's next batch of claims sees it and continues its old chain.
      const outcomes = await claim(['fresh-after', 'gone-elsewhere']);
      expect(outcomes.map((o) => o.ok)).toEqual([true, true]);
      const again = await read('gone-elsewhere');
      expect(again.map((e) => e.type)).toEqual(['Claimed']);
      expect(again[0]?.revision).toBe(2n);
      expect(again[0]?.metadata[PREV_HASH]).toBe(oldHead?.hash);
      const report = await verify();
      expect(report.violations).toEqual([]);
      expect(report.clean).toBe(true);
    });
  });
});
