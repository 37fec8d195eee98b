// Proves a consumer applies each source event's effect to its own stream exactly once: redelivery, a restart
// (reload from the store) and two consumers racing on one stream all end with one effect per source event.
import { join } from 'node:path';
import fc from 'fast-check';
import { SqliteEventStore } from '@cx/event-store';
import { tempDir } from '@cx/testing';
import { EffectStream, type Effect } from './effect-stream';

interface Tally {
  total: number;
  seen: string[];
}
const evolve = (s: Tally, e: Effect): Tally => {
  const d = e.data as { n: number; id: string };
  return { total: s.total + d.n, seen: [...s.seen, d.id] };
};
const initial: Tally = { total: 0, seen: [] };

describe('EffectStream', () => {
  const dir = tempDir();
  let store: SqliteEventStore;
  let n = 0;
  beforeEach(() => {
    store = SqliteEventStore.open(join(dir.path, `effects-${++n}.sqlite`));
  });
  afterEach(() => store.close());
  afterAll(() => dir.remove());

  const open = (consumer = 'tally') => EffectStream.load({ store, stream: 'tally-1', consumer, evolve, initial });
  const src = (rev: number, stream = 'order-1') => ({ stream, revision: BigInt(rev), eventId: `${stream}:${rev}` });
  const add = (rev: number) => () => [{ type: 'Added', data: { n: rev + 1, id: `order-1:${rev}` } }];

  it('applies once and answers duplicate for a redelivered or older source event', async () => {
    const s = await open();
    expect(await s.applyOnce(src(0), add(0))).toBe('applied');
    expect(await s.applyOnce(src(1), add(1))).toBe('applied');
    expect(await s.applyOnce(src(1), add(1))).toBe('duplicate');
    expect(await s.applyOnce(src(0), add(0))).toBe('duplicate');
    expect(s.state.total).toBe(3);
  });

  it('knows after a restart what it applied before', async () => {
    const before = await open();
    await before.applyOnce(src(0), add(0));
    await before.applyOnce(src(1, 'order-2'), () => []);
    const after = await open();
    expect(after.watermark('order-1')).toBe(0n);
    expect(after.watermark('order-2')).toBe(1n);
    expect(await after.applyOnce(src(0), add(0))).toBe('duplicate');
    expect(await after.applyOnce(src(1, 'order-2'), () => [])).toBe('duplicate');
    expect(after.state.total).toBe(1);
  });

  it('writes one effect when two consumers race on one source event', async () => {
    const a = await open();
    const b = await open();
    // Both append the same deterministic ids at the revision they read: the store writes the batch once and
    // acknowledges the second append as the idempotent retry it is (EventStoreDB semantics).
    await Promise.all([a.applyOnce(src(0), add(0)), b.applyOnce(src(0), add(0))]);
    // A third source event after the race is judged against the one stored effect.
    await Promise.all([a.applyOnce(src(1), add(1)), b.applyOnce(src(1), add(1))]);
    expect([a.state.total, b.state.total]).toEqual([3, 3]);
    const stored = await open();
    expect(stored.state.seen).toEqual(['order-1:0', 'order-1:1']);
  });

  it('ends with exactly one effect per source event for any redelivery pattern', async () => {
    let runs = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(fc.nat({ max: 3 }), { minLength: 1, maxLength: 30 }), async (replays) => {
        // A fresh stream per run: fast-check replays and shrinks, and each try must start empty.
        const salt = ++runs;
        // An at-least-once delivery of revisions 0..k-1: after each new one, a replay of the last few.
        const stream = `tally-${salt}`;
        const s = await EffectStream.load({ store, stream, consumer: 'p', evolve, initial });
        for (let rev = 0; rev < replays.length; rev++) {
          for (let back = Math.min(replays[rev] as number, rev); back >= 0; back--) {
            await s.applyOnce(src(rev - back, `o-${salt}`), () => [
              { type: 'Added', data: { n: 1, id: `${rev - back}` } },
            ]);
          }
        }
        const reloaded = await EffectStream.load({ store, stream, consumer: 'p', evolve, initial });
        expect(reloaded.state.seen).toEqual(replays.map((_, i) => `${i}`));
      }),
      { numRuns: 30 },
    );
  });
});
