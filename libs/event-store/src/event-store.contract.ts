// Proves an EventStore adapter keeps EventStoreDB's semantics: every adapter runs this one suite through a factory.
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import fc from 'fast-check';
import { tempDir, waitFor } from '@cx/testing';
import { InvalidAppend, StreamNotFound, WrongExpectedVersion, isRetriable } from './event-store.errors';
import type {
  AppendResult,
  EventStore,
  ExpectedRevision,
  NewEvent,
  Position,
  RecordedEvent,
  Subscription,
} from './event-store.port';
import { comparePositions } from './event-store.port';

export interface EventStoreContractOptions {
  /** How long a subscription may take to deliver (a remote store needs longer than an embedded one). */
  timeoutMs?: number;
  /** fast-check runs of the property tests. */
  propertyRuns?: number;
}

type Factory = () => Promise<{ store: EventStore; cleanup(): Promise<void> }>;

/** A factory over a file: a fresh temporary folder per test, the store `open` makes on a file in it, both gone after. */
export const inTempDir =
  (prefix: string, open: (file: string) => EventStore): Factory =>
  async () => {
    const dir = tempDir(prefix);
    const store = open(join(dir.path, 'events.db'));
    return {
      store,
      cleanup: async () => {
        await store.close();
        dir.remove();
      },
    };
  };

/** A stream name no other test (or earlier run against a shared server) has used. */
const freshStream = (prefix = 'contract'): string => `${prefix}_${randomUUID().replace(/-/g, '')}-1`;
const freshPrefix = (): string => `ct${randomUUID().replace(/-/g, '').slice(0, 16)}`;

const ev = (type: string, data: unknown = {}, extra: Partial<NewEvent> = {}): NewEvent => ({ type, data, ...extra });
const evs = (n: number, type = 'Thing'): NewEvent[] => Array.from({ length: n }, (_, i) => ev(type, { i }));

const collect = async <T>(it: AsyncIterable<T>): Promise<T[]> => {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
};

/** Consumes a subscription in the background. */
const consume = (sub: Subscription): { got: RecordedEvent[]; done: Promise<void> } => {
  const got: RecordedEvent[] = [];
  const done = (async () => {
    for await (const e of sub) got.push(e);
  })();
  return { got, done };
};

const rejection = async (p: Promise<unknown>): Promise<unknown> => {
  try {
    await p;
  } catch (e) {
    return e;
  }
  throw new Error('expected a rejection');
};

const streamRevisions = (events: RecordedEvent[]): bigint[] => events.map((e) => e.revision);

export const runEventStoreContract = (
  name: string,
  factory: Factory,
  options: EventStoreContractOptions = {},
): void => {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const propertyRuns = options.propertyRuns ?? 15;
  // Each test gets room for its waits (jest's default 5 s is shorter than one subscription timeout).
  const testTimeoutMs = timeoutMs * 3;
  const it = (title: string, fn: () => Promise<void>): void => test(title, fn, testTimeoutMs);

  describe(`EventStore contract: ${name}`, () => {
    let store: EventStore;
    let cleanup: () => Promise<void>;

    beforeEach(async () => {
      ({ store, cleanup } = await factory());
    });
    afterEach(async () => {
      await cleanup();
    });

    // ------------------------------------------------------------ appending

    it('revisions start at 0 and the result is the last revision written and its position', async () => {
      const stream = freshStream();
      const first = await store.appendToStream(stream, evs(3), { expectedRevision: 'no_stream' });
      expect(first.nextExpectedRevision).toBe(2n);
      expect(typeof first.position.commit).toBe('bigint');
      expect(typeof first.position.prepare).toBe('bigint');
      const second = await store.appendToStream(stream, ev('Thing'), { expectedRevision: 2n });
      expect(second.nextExpectedRevision).toBe(3n);
      expect(comparePositions(second.position, first.position)).toBeGreaterThan(0);
      const read = await collect(store.readStream(stream));
      expect(streamRevisions(read)).toEqual([0n, 1n, 2n, 3n]);
      expect(read[3]?.position).toEqual(second.position);
      expect(read[2]?.position).toEqual(first.position);
      expect(await store.streamRevision(stream)).toBe(3n);
    });

    it('the expected revision defaults to any', async () => {
      const stream = freshStream();
      await store.appendToStream(stream, ev('A'));
      const r = await store.appendToStream(stream, [ev('B'), ev('C')]);
      expect(r.nextExpectedRevision).toBe(2n);
    });

    test.each<[string, 'missing' | 'at1', ExpectedRevision, 'ok' | bigint | 'no_stream']>([
      ['any on a missing stream', 'missing', 'any', 'ok'],
      ['no_stream on a missing stream', 'missing', 'no_stream', 'ok'],
      ['stream_exists on a missing stream', 'missing', 'stream_exists', 'no_stream'],
      ['revision 0 on a missing stream', 'missing', 0n, 'no_stream'],
      ['any on a stream at 1', 'at1', 'any', 'ok'],
      ['no_stream on a stream at 1', 'at1', 'no_stream', 1n],
      ['stream_exists on a stream at 1', 'at1', 'stream_exists', 'ok'],
      ['revision 1 on a stream at 1', 'at1', 1n, 'ok'],
      ['revision 0 on a stream at 1', 'at1', 0n, 1n],
      ['revision 2 on a stream at 1', 'at1', 2n, 1n],
    ])('expected revision: %s', async (_, state, expected, outcome) => {
      const stream = freshStream();
      if (state === 'at1') await store.appendToStream(stream, evs(2), { expectedRevision: 'no_stream' });
      const attempt = store.appendToStream(stream, ev('Next'), { expectedRevision: expected });
      if (outcome === 'ok') {
        const r = await attempt;
        expect(r.nextExpectedRevision).toBe(state === 'missing' ? 0n : 2n);
        return;
      }
      const e = await rejection(attempt);
      expect(e).toBeInstanceOf(WrongExpectedVersion);
      const wev = e as WrongExpectedVersion;
      expect(wev.stream).toBe(stream);
      expect(wev.expected).toBe(expected);
      expect(wev.actual).toBe(outcome);
      expect(isRetriable(wev)).toBe(true);
      expect(await store.streamRevision(stream)).toBe(state === 'missing' ? 'no_stream' : 1n);
    });

    it('re-sending a written batch with the same exact expected revision is acknowledged and writes nothing', async () => {
      const stream = freshStream();
      await store.appendToStream(stream, ev('First'), { expectedRevision: 'no_stream' });
      const batch = [ev('A', { a: 1 }, { id: randomUUID() }), ev('B', { b: 2 }, { id: randomUUID() })];
      const original = await store.appendToStream(stream, batch, { expectedRevision: 0n });
      await store.appendToStream(stream, ev('Later'), { expectedRevision: 2n });
      const again = await store.appendToStream(stream, batch, { expectedRevision: 0n });
      expect(again.nextExpectedRevision).toBe(original.nextExpectedRevision);
      expect(comparePositions(again.position, original.position)).toBe(0);
      const read = await collect(store.readStream(stream));
      expect(read.map((e) => e.type)).toEqual(['First', 'A', 'B', 'Later']);
      expect(read[1]?.id).toBe(batch[0]?.id?.toLowerCase());
    });

    it('a batch written only in part before fails with a wrong expected version', async () => {
      const stream = freshStream();
      const a = ev('A', {}, { id: randomUUID() });
      const b = ev('B', {}, { id: randomUUID() });
      await store.appendToStream(stream, [a, b], { expectedRevision: 'no_stream' });
      const e = await rejection(
        store.appendToStream(stream, [a, b, ev('C', {}, { id: randomUUID() })], { expectedRevision: 'no_stream' }),
      );
      expect(e).toBeInstanceOf(WrongExpectedVersion);
      const f = await rejection(
        store.appendToStream(stream, [ev('X', {}, { id: randomUUID() }), b], { expectedRevision: 0n }),
      );
      expect(f).toBeInstanceOf(WrongExpectedVersion);
      expect(await store.streamRevision(stream)).toBe(1n);
    });

    it('concurrent appends at the same exact revision: exactly one wins and nothing interleaves', async () => {
      const stream = freshStream();
      await store.appendToStream(stream, ev('Opened'), { expectedRevision: 'no_stream' });
      const writers = 12;
      const results = await Promise.allSettled(
        Array.from({ length: writers }, (_, w) =>
          store.appendToStream(stream, [ev('W', { w, k: 0 }), ev('W', { w, k: 1 }), ev('W', { w, k: 2 })], {
            expectedRevision: 0n,
          }),
        ),
      );
      const won = results.filter((r) => r.status === 'fulfilled');
      const lost = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
      expect(won).toHaveLength(1);
      expect(lost).toHaveLength(writers - 1);
      for (const r of lost) {
        expect(r.reason).toBeInstanceOf(WrongExpectedVersion);
        expect((r.reason as WrongExpectedVersion).actual).toBe(3n);
      }
      const read = await collect(store.readStream(stream));
      expect(streamRevisions(read)).toEqual([0n, 1n, 2n, 3n]);
      const writer = (read[1]?.data as { w: number }).w;
      expect(read.slice(1).map((e) => e.data)).toEqual([0, 1, 2].map((k) => ({ w: writer, k })));
    });

    it('concurrent appends to different streams all succeed with distinct, increasing positions', async () => {
      const streams = Array.from({ length: 40 }, () => freshStream());
      const results = await Promise.all(
        streams.map((s) => store.appendToStream(s, ev('One'), { expectedRevision: 'no_stream' })),
      );
      const positions = results.map((r) => r.position).sort(comparePositions);
      for (let i = 1; i < positions.length; i++)
        expect(comparePositions(positions[i] as Position, positions[i - 1] as Position)).toBe(1);
      for (const r of results) expect(r.nextExpectedRevision).toBe(0n);
    });

    // ------------------------------------------------------------ several streams in one call

    it('appendToStreams makes each append as appendToStream would, each standing or falling alone', async () => {
      const [a, b, c, d] = [freshStream(), freshStream(), freshStream(), freshStream()];
      await store.appendToStream(b, evs(2), { expectedRevision: 'no_stream' });
      const before = await store.headPosition();
      const outcomes = await store.appendToStreams([
        { stream: a, events: evs(2), expectedRevision: 'no_stream' },
        { stream: b, events: ev('Late'), expectedRevision: 'no_stream' },
        { stream: c, events: ev('Any') },
        { stream: d, events: ev('First'), expectedRevision: 'no_stream' },
        { stream: d, events: ev('Second'), expectedRevision: 'no_stream' },
        { stream: b, events: ev('Next'), expectedRevision: 1n },
        { stream: '', events: ev('Nowhere') },
        { stream: c, events: [ev('Bad', { n: 1n })], expectedRevision: 0n },
      ]);
      const ok = (i: number): AppendResult => {
        const o = outcomes[i];
        if (!o?.ok) throw new Error(`outcome ${i} failed`);
        return o.result;
      };
      const error = (i: number): unknown => {
        const o = outcomes[i];
        if (o === undefined || o.ok) throw new Error(`outcome ${i} succeeded`);
        return o.error;
      };
      expect(outcomes).toHaveLength(8);
      expect(ok(0).nextExpectedRevision).toBe(1n);
      expect(ok(2).nextExpectedRevision).toBe(0n);
      expect(ok(5).nextExpectedRevision).toBe(2n);
      // Two claims of one stream: exactly one wins, the other meets it.
      const winner = outcomes[3]?.ok ? 3 : 4;
      const loser = 7 - winner;
      expect(ok(winner).nextExpectedRevision).toBe(0n);
      // b is at 1, or at 2 if the append at 1 in the same call came first.
      for (const [i, actual] of [
        [1, [1n, 2n]],
        [loser, [0n]],
      ] as const) {
        const e = error(i);
        expect(e).toBeInstanceOf(WrongExpectedVersion);
        expect((e as WrongExpectedVersion).stream).toBe(i === 1 ? b : d);
        expect((e as WrongExpectedVersion).expected).toBe('no_stream');
        expect(actual).toContain((e as WrongExpectedVersion).actual);
      }
      expect(error(6)).toBeInstanceOf(InvalidAppend);
      expect((error(6) as InvalidAppend).field).toBe('stream');
      expect(error(7)).toBeInstanceOf(InvalidAppend);
      expect((error(7) as InvalidAppend).field).toBe('events[0].data');
      // Every write lands after everything before the call, each at its own position.
      const positions = [ok(0), ok(2), ok(winner), ok(5)].map((r) => r.position);
      for (const p of positions) expect(comparePositions(p, before as Position)).toBe(1);
      expect(new Set(positions.map((p) => p.commit)).size).toBe(4);
      // What the results say is what is stored, and the refused appends wrote nothing.
      const readA = await collect(store.readStream(a));
      expect(readA.map((e) => e.type)).toEqual(['Thing', 'Thing']);
      expect(readA[1]?.position).toEqual(ok(0).position);
      expect((await collect(store.readStream(b))).map((e) => e.type)).toEqual(['Thing', 'Thing', 'Next']);
      expect((await collect(store.readStream(c))).map((e) => e.type)).toEqual(['Any']);
      expect((await collect(store.readStream(d))).map((e) => e.type)).toEqual([winner === 3 ? 'First' : 'Second']);
    });

    it('appendToStreams claims many new streams at once, and an empty call writes nothing', async () => {
      expect(await store.appendToStreams([])).toEqual([]);
      const streams = Array.from({ length: 300 }, () => freshStream('claim'));
      const metadata = { correlationId: 'c-1', causationId: 'c-1' };
      const outcomes = await store.appendToStreams(
        streams.map((stream, i) => ({
          stream,
          events: ev('Claimed', { i }, { metadata }),
          expectedRevision: 'no_stream',
        })),
      );
      const results = outcomes.map((o) => (o.ok ? o.result : null));
      expect(results.every((r) => r?.nextExpectedRevision === 0n)).toBe(true);
      // Each at its own position (in no promised order between them).
      const positions = results.map((r) => (r as AppendResult).position);
      const sorted = [...positions].sort(comparePositions);
      for (let i = 1; i < sorted.length; i++)
        expect(comparePositions(sorted[i] as Position, sorted[i - 1] as Position)).toBe(1);
      // The same claims again are all refused, and change nothing.
      const again = await store.appendToStreams(
        streams.map((stream) => ({ stream, events: ev('Claimed', { again: true }), expectedRevision: 'no_stream' })),
      );
      expect(again.every((o) => !o.ok && o.error instanceof WrongExpectedVersion)).toBe(true);
      const read = await collect(store.readStream(streams[123] as string));
      expect(read.map((e) => e.data)).toEqual([{ i: 123 }]);
      expect(read[0]?.metadata).toMatchObject(metadata);
      expect(read[0]?.position).toEqual(positions[123]);
    });

    it('appendToStreams on a closed store answers each append with its own failure', async () => {
      await store.close();
      expect(await store.appendToStreams([])).toEqual([]);
      const outcomes = await store.appendToStreams([
        { stream: freshStream(), events: ev('Claimed'), expectedRevision: 'no_stream' },
        { stream: freshStream(), events: ev('Any') },
      ]);
      expect(outcomes.map((o) => o.ok)).toEqual([false, false]);
      for (const o of outcomes) expect(o.ok ? null : o.error).toBeInstanceOf(Error);
    });

    // ------------------------------------------------------------ refused input

    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic.self = cyclic;
    const okEvent = (): NewEvent => ev('Fine', { ok: true });
    const someStream = '<fresh>';
    // Ordered by which error wins: stream, expected revision, the batch, then each event's id, type, data, metadata.
    test.each<[string, unknown, unknown, unknown, string]>([
      ['empty stream name', '', [okEvent()], 'any', 'stream'],
      ['a stream name that is not a string', 42, [okEvent()], 'any', 'stream'],
      ['a reserved $ stream name', '$ce-thing', [okEvent()], 'any', 'stream'],
      ['stream wins over a bad revision', '', [okEvent()], 3, 'stream'],
      ['a number as expected revision', someStream, [okEvent()], 1, 'expectedRevision'],
      ['a negative expected revision', someStream, [okEvent()], -1n, 'expectedRevision'],
      ['an unknown expected revision', someStream, [okEvent()], 'maybe', 'expectedRevision'],
      ['null as expected revision', someStream, [okEvent()], null, 'expectedRevision'],
      ['expected revision wins over an empty batch', someStream, [], 'latest', 'expectedRevision'],
      ['an empty batch', someStream, [], 'any', 'events'],
      ['an event that is not an object', someStream, [okEvent(), 'x'], 'any', 'events[1]'],
      ['an id that is not a UUID', someStream, [ev('T', {}, { id: 'order-1' })], 'any', 'events[0].id'],
      [
        'a duplicate id in one batch',
        someStream,
        [
          ev('T', {}, { id: 'f81d4fae-7dec-11d0-a765-00a0c91e6bf6' }),
          ev('T', {}, { id: 'F81D4FAE-7DEC-11D0-A765-00A0C91E6BF6' }),
        ],
        'any',
        'events[1].id',
      ],
      ['id wins over type', someStream, [ev('', {}, { id: 'nope' })], 'any', 'events[0].id'],
      ['an empty event type', someStream, [ev('', {})], 'any', 'events[0].type'],
      ['a reserved $ event type', someStream, [ev('$metadata', {})], 'any', 'events[0].type'],
      ['a type that is not a string', someStream, [{ type: 7, data: {} }], 'any', 'events[0].type'],
      ['type wins over data', someStream, [{ type: '', data: undefined }], 'any', 'events[0].type'],
      ['undefined data', someStream, [{ type: 'T', data: undefined }], 'any', 'events[0].data'],
      ['a function as data', someStream, [ev('T', () => 1)], 'any', 'events[0].data'],
      ['a function inside data', someStream, [ev('T', { f: () => 1 })], 'any', 'events[0].data'],
      ['undefined inside data', someStream, [ev('T', { a: undefined })], 'any', 'events[0].data'],
      ['a BigInt inside data', someStream, [ev('T', { amount: 10n })], 'any', 'events[0].data'],
      ['NaN inside data', someStream, [ev('T', { price: Number.NaN })], 'any', 'events[0].data'],
      ['Infinity inside data', someStream, [ev('T', [1, Number.POSITIVE_INFINITY])], 'any', 'events[0].data'],
      ['a cycle in data', someStream, [ev('T', cyclic)], 'any', 'events[0].data'],
      ['a Date in data', someStream, [ev('T', { at: new Date() })], 'any', 'events[0].data'],
      ['a Map in data', someStream, [ev('T', { m: new Map() })], 'any', 'events[0].data'],
      [
        'data wins over metadata',
        someStream,
        [ev('T', { a: Number.NaN }, { metadata: { b: undefined } })],
        'any',
        'events[0].data',
      ],
      [
        'metadata that is not an object',
        someStream,
        [ev('T', {}, { metadata: [1] as never })],
        'any',
        'events[0].metadata',
      ],
      ['a function in metadata', someStream, [ev('T', {}, { metadata: { f: () => 1 } })], 'any', 'events[0].metadata'],
      ['a cycle in metadata', someStream, [ev('T', {}, { metadata: cyclic })], 'any', 'events[0].metadata'],
      ['a bad second event', someStream, [okEvent(), ev('T', { n: 1n })], 'any', 'events[1].data'],
    ])('refuses %s with InvalidAppend and writes nothing', async (_, streamIn, events, expectedRevision, field) => {
      const stream = streamIn === someStream ? freshStream() : streamIn;
      const e = await rejection(
        store.appendToStream(stream as string, events as NewEvent[], {
          expectedRevision: expectedRevision as ExpectedRevision,
        }),
      );
      expect(e).toBeInstanceOf(InvalidAppend);
      expect((e as InvalidAppend).field).toBe(field);
      expect(isRetriable(e)).toBe(false);
      if (streamIn === someStream) expect(await store.streamRevision(stream as string)).toBe('no_stream');
    });

    // ------------------------------------------------------------ reading a stream

    it('reads a stream forwards and backwards from a revision with maxCount', async () => {
      const stream = freshStream();
      await store.appendToStream(stream, evs(10), { expectedRevision: 'no_stream' });
      const all = await collect(store.readStream(stream));
      expect(all.map((e) => (e.data as { i: number }).i)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
      expect(streamRevisions(await collect(store.readStream(stream, { fromRevision: 4n, maxCount: 3 })))).toEqual([
        4n,
        5n,
        6n,
      ]);
      expect(streamRevisions(await collect(store.readStream(stream, { fromRevision: 8n, maxCount: 5n })))).toEqual([
        8n,
        9n,
      ]);
      expect(streamRevisions(await collect(store.readStream(stream, { direction: 'backwards' })))).toEqual([
        9n,
        8n,
        7n,
        6n,
        5n,
        4n,
        3n,
        2n,
        1n,
        0n,
      ]);
      expect(
        streamRevisions(
          await collect(store.readStream(stream, { direction: 'backwards', fromRevision: 'end', maxCount: 1 })),
        ),
      ).toEqual([9n]);
      expect(
        streamRevisions(
          await collect(store.readStream(stream, { direction: 'backwards', fromRevision: 3n, maxCount: 2 })),
        ),
      ).toEqual([3n, 2n]);
      expect(await collect(store.readStream(stream, { fromRevision: 10n }))).toEqual([]);
      expect(await collect(store.readStream(stream, { maxCount: 0 }))).toEqual([]);
    });

    it('reading a missing stream throws StreamNotFound when iterated', async () => {
      const stream = freshStream();
      const iterable = store.readStream(stream);
      const e = await rejection(collect(iterable));
      expect(e).toBeInstanceOf(StreamNotFound);
      expect((e as StreamNotFound).stream).toBe(stream);
    });

    it('a recorded event carries id, stream, revision, type, data, metadata, created and position', async () => {
      const stream = freshStream();
      const id = randomUUID();
      const before = Date.now();
      const metadata = {
        correlationId: randomUUID(),
        causationId: randomUUID(),
        actor: { keyId: 'key_1', role: 'trader' },
        hash: 'abc',
        nested: { list: [1, 'two', null, { three: true }] },
      };
      const r = await store.appendToStream(
        stream,
        ev('OrderPlaced', { orderId: 'o-1', price: '12.50' }, { id, metadata }),
      );
      const [e] = await collect(store.readStream(stream));
      expect(e).toMatchObject({
        id,
        streamId: stream,
        revision: 0n,
        type: 'OrderPlaced',
        data: { orderId: 'o-1', price: '12.50' },
      });
      expect(e?.metadata).toMatchObject(metadata);
      expect(e?.position).toEqual(r.position);
      expect(e?.created).toBeInstanceOf(Date);
      // The store's clock, with slack for a remote server's clock.
      expect(Math.abs((e?.created.getTime() ?? 0) - before)).toBeLessThan(60_000);
      const plain = freshStream();
      await store.appendToStream(plain, ev('NoMetadata', { a: 1 }));
      const [p] = await collect(store.readStream(plain));
      expect(typeof p?.metadata).toBe('object');
      expect(typeof p?.id).toBe('string');
    });

    it('unicode, NUL characters and a 1 MiB payload round trip', async () => {
      const stream = freshStream();
      const text = 'emoji 🚀🧮 CJK 計算資源 RTL עברית العربية NUL[\u0000] lone-free \u00e9\u0301';
      const big = 'x'.repeat(1024 * 1024);
      await store.appendToStream(stream, [
        ev('Unicode', { text, [text]: text }, { metadata: { note: text } }),
        ev('Large', { big }),
        ev('Scalars', { n: -0.5, max: Number.MAX_SAFE_INTEGER, t: true, f: false, z: null, list: [] }),
      ]);
      const [u, l, s] = await collect(store.readStream(stream));
      expect(u?.data).toEqual({ text, [text]: text });
      expect(u?.metadata).toMatchObject({ note: text });
      expect((l?.data as { big: string }).big).toBe(big);
      expect(s?.data).toEqual({ n: -0.5, max: Number.MAX_SAFE_INTEGER, t: true, f: false, z: null, list: [] });
    });

    test.each([
      ['spaces', 'order book 42'],
      ['slashes', 'tenant/a/ledger-1'],
      ['quotes', `o'neil "quoted"-1`],
      ['percent and backslash', '100%_\\path-1'],
      ['unicode', 'книга-注文-🚀'],
      ['a very long name', `long-${'n'.repeat(1000)}`],
    ])('a stream name with %s works', async (_, base) => {
      const stream = `${base}-${randomUUID()}`;
      await store.appendToStream(stream, evs(2), { expectedRevision: 'no_stream' });
      await store.appendToStream(stream, ev('Third'), { expectedRevision: 1n });
      const read = await collect(store.readStream(stream));
      expect(read.map((e) => e.streamId)).toEqual([stream, stream, stream]);
      expect(await store.streamRevision(stream)).toBe(2n);
    });

    // ------------------------------------------------------------ reading $all

    it('reads $all forwards and backwards from a position, inclusive, with maxCount and filters', async () => {
      const prefix = freshPrefix();
      const a = `${prefix}a-1`;
      const b = `${prefix}b-1`;
      const r1 = await store.appendToStream(a, [ev(`${prefix}Opened`, { n: 1 }), ev(`${prefix}Moved`, { n: 2 })]);
      const r2 = await store.appendToStream(b, ev(`${prefix}Opened`, { n: 3 }));
      const r3 = await store.appendToStream(a, ev(`${prefix}Closed`, { n: 4 }));
      const byStream = { streamNamePrefixes: [prefix] };
      const numbers = (es: RecordedEvent[]) => es.map((e) => (e.data as { n: number }).n);
      expect(numbers(await collect(store.readAll({ fromPosition: r1.position, filter: byStream })))).toEqual([2, 3, 4]);
      expect(
        numbers(await collect(store.readAll({ fromPosition: r1.position, filter: byStream, maxCount: 2 }))),
      ).toEqual([2, 3]);
      expect(numbers(await collect(store.readAll({ fromPosition: r3.position, maxCount: 1 })))).toEqual([4]);
      expect(
        numbers(await collect(store.readAll({ direction: 'backwards', fromPosition: r2.position, filter: byStream }))),
      ).toEqual([3, 2, 1]);
      expect(numbers(await collect(store.readAll({ direction: 'backwards', filter: byStream, maxCount: 2 })))).toEqual([
        4, 3,
      ]);
      expect(numbers(await collect(store.readAll({ filter: { streamNamePrefixes: [`${prefix}b`] } })))).toEqual([3]);
      expect(
        numbers(
          await collect(store.readAll({ filter: { eventTypePrefixes: [`${prefix}Opened`, `${prefix}Closed`] } })),
        ),
      ).toEqual([1, 3, 4]);
      const head = await store.headPosition();
      expect(head).not.toBeNull();
      expect(comparePositions(head as Position, r3.position)).toBeGreaterThanOrEqual(0);
    });

    it('$all keeps append order, positions strictly increase and stream revisions stay contiguous (property)', async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.array(fc.record({ s: fc.integer({ min: 0, max: 3 }), n: fc.integer({ min: 1, max: 4 }) }), {
            minLength: 1,
            maxLength: 12,
          }),
          async (plan) => {
            const prefix = freshPrefix();
            const written: Array<{ stream: string; k: number }> = [];
            let first: AppendResult | undefined;
            let k = 0;
            for (const step of plan) {
              const stream = `${prefix}s${step.s}-1`;
              const batch = Array.from({ length: step.n }, () => ev('P', { k: k++ }));
              const r = await store.appendToStream(stream, batch);
              first ??= r;
              for (const e of batch) written.push({ stream, k: (e.data as { k: number }).k });
            }
            const forwards = await collect(store.readAll({ filter: { streamNamePrefixes: [prefix] } }));
            expect(forwards.map((e) => ({ stream: e.streamId, k: (e.data as { k: number }).k }))).toEqual(written);
            for (let i = 1; i < forwards.length; i++) {
              expect(
                comparePositions((forwards[i] as RecordedEvent).position, (forwards[i - 1] as RecordedEvent).position),
              ).toBe(1);
            }
            const next = new Map<string, bigint>();
            for (const e of forwards) {
              expect(e.revision).toBe(next.get(e.streamId) ?? 0n);
              next.set(e.streamId, e.revision + 1n);
            }
            const backwards = await collect(
              store.readAll({ direction: 'backwards', filter: { streamNamePrefixes: [prefix] } }),
            );
            expect(backwards.map((e) => e.id)).toEqual(forwards.map((e) => e.id).reverse());
            // Reading from a position is inclusive: from the first batch's last event on.
            const from = forwards.findIndex(
              (e) => comparePositions(e.position, (first as AppendResult).position) === 0,
            );
            const suffix = await collect(
              store.readAll({
                fromPosition: (first as AppendResult).position,
                filter: { streamNamePrefixes: [prefix] },
              }),
            );
            expect(suffix.map((e) => e.id)).toEqual(forwards.slice(from).map((e) => e.id));
          },
        ),
        { numRuns: propertyRuns },
      );
    });

    // ------------------------------------------------------------ subscriptions

    it('subscribeToAll starts strictly after a position, catches up, then delivers live events in order', async () => {
      const prefix = freshPrefix();
      const s1 = `${prefix}x-1`;
      const start = await store.appendToStream(s1, ev('Before', { n: 0 }));
      await store.appendToStream(s1, [ev('Catch', { n: 1 }), ev('Catch', { n: 2 })]);
      const sub = store.subscribeToAll({ fromPosition: start.position, filter: { streamNamePrefixes: [prefix] } });
      const { got, done } = consume(sub);
      await waitFor(() => got.length >= 2, { timeoutMs, what: 'catch-up' });
      await store.appendToStream(`${prefix}y-1`, ev('Live', { n: 3 }));
      await store.appendToStream(s1, ev('Live', { n: 4 }));
      await store.appendToStream(freshStream('elsewhere'), ev('Other', { n: 99 }));
      await waitFor(() => got.length >= 4, { timeoutMs, what: 'live events' });
      await sub.unsubscribe();
      await done;
      expect(got.map((e) => (e.data as { n: number }).n)).toEqual([1, 2, 3, 4]);
    });

    it('subscribeToAll from start delivers everything that matches; from end only what comes later', async () => {
      const prefix = freshPrefix();
      await store.appendToStream(`${prefix}-1`, ev(`${prefix}Old`, { n: 1 }));
      const fromStart = store.subscribeToAll({ fromPosition: 'start', filter: { eventTypePrefixes: [prefix] } });
      const fromEnd = store.subscribeToAll({ fromPosition: 'end', filter: { eventTypePrefixes: [prefix] } });
      const a = consume(fromStart);
      const b = consume(fromEnd);
      await waitFor(() => a.got.length >= 1, { timeoutMs, what: 'history from start' });
      await store.appendToStream(`${prefix}-2`, ev(`${prefix}New`, { n: 2 }));
      await store.appendToStream(`${prefix}-3`, ev('Unrelated', { n: 3 }));
      await waitFor(() => a.got.length >= 2 && b.got.length >= 1, { timeoutMs, what: 'live events' });
      await fromStart.unsubscribe();
      await fromEnd.unsubscribe();
      await Promise.all([a.done, b.done]);
      expect(a.got.map((e) => (e.data as { n: number }).n)).toEqual([1, 2]);
      expect(b.got.map((e) => (e.data as { n: number }).n)).toEqual([2]);
    });

    it('subscribeToStream from start, after a revision, and from end', async () => {
      const stream = freshStream();
      await store.appendToStream(stream, evs(3), { expectedRevision: 'no_stream' });
      const all = store.subscribeToStream(stream, { fromRevision: 'start' });
      const after1 = store.subscribeToStream(stream, { fromRevision: 1n });
      const end = store.subscribeToStream(stream, { fromRevision: 'end' });
      const other = store.subscribeToStream(freshStream(), { fromRevision: 'start' });
      const [a, b, c, d] = [all, after1, end, other].map(consume) as Array<ReturnType<typeof consume>>;
      await waitFor(() => a!.got.length >= 3 && b!.got.length >= 1, { timeoutMs, what: 'catch-up' });
      await store.appendToStream(stream, [ev('Thing', { i: 3 }), ev('Thing', { i: 4 })], { expectedRevision: 2n });
      await waitFor(() => a!.got.length >= 5 && b!.got.length >= 3 && c!.got.length >= 2, { timeoutMs, what: 'live' });
      for (const s of [all, after1, end, other]) await s.unsubscribe();
      await Promise.all([a!.done, b!.done, c!.done, d!.done]);
      expect(streamRevisions(a!.got)).toEqual([0n, 1n, 2n, 3n, 4n]);
      expect(streamRevisions(b!.got)).toEqual([2n, 3n, 4n]);
      expect(streamRevisions(c!.got)).toEqual([3n, 4n]);
      expect(d!.got).toEqual([]);
    });

    it('a subscription delivers a long history in order and keeps up with a burst of appends', async () => {
      const prefix = freshPrefix();
      const stream = `${prefix}-1`;
      const first = await store.appendToStream(stream, ev('Start', { n: -1 }));
      for (let i = 0; i < 5; i++)
        await store.appendToStream(
          stream,
          Array.from({ length: 500 }, (_, j) => ev('H', { n: i * 500 + j })),
        );
      const sub = store.subscribeToAll({ fromPosition: first.position, filter: { streamNamePrefixes: [prefix] } });
      const { got, done } = consume(sub);
      await Promise.all(Array.from({ length: 50 }, (_, j) => store.appendToStream(stream, ev('L', { n: 2500 + j }))));
      await waitFor(() => got.length >= 2550, { timeoutMs, what: 'all events' });
      await sub.unsubscribe();
      await done;
      expect(got.slice(0, 2500).map((e) => (e.data as { n: number }).n)).toEqual(
        Array.from({ length: 2500 }, (_, i) => i),
      );
      expect(new Set(got.map((e) => (e.data as { n: number }).n)).size).toBe(2550);
      for (let i = 1; i < got.length; i++) expect(got[i]!.revision).toBe(got[i - 1]!.revision + 1n);
    });

    it('unsubscribe ends an iteration that is waiting for events', async () => {
      const sub = store.subscribeToStream(freshStream(), { fromRevision: 'start' });
      const { got, done } = consume(sub);
      await sub.unsubscribe();
      await done;
      expect(got).toEqual([]);
    });

    it('breaking out of for-await ends the subscription', async () => {
      const stream = freshStream();
      await store.appendToStream(stream, evs(5));
      const sub = store.subscribeToStream(stream, { fromRevision: 'start' });
      let seen = 0;
      for await (const _ of sub) if (++seen === 2) break;
      expect(seen).toBe(2);
    });

    // ------------------------------------------------------------ soft delete

    it('a soft-deleted stream reads as not found, its events stay in $all, and appending recreates it', async () => {
      const prefix = freshPrefix();
      const stream = `${prefix}-1`;
      const written = await store.appendToStream(stream, evs(3, 'Old'), { expectedRevision: 'no_stream' });
      await store.deleteStream(stream, { expectedRevision: 2n });
      expect(await store.streamRevision(stream)).toBe('no_stream');
      expect(await rejection(collect(store.readStream(stream)))).toBeInstanceOf(StreamNotFound);
      const inAll = await collect(store.readAll({ filter: { streamNamePrefixes: [prefix] } }));
      expect(inAll.map((e) => e.type)).toEqual(['Old', 'Old', 'Old']);
      expect(inAll[2]?.position).toEqual(written.position);
      // EventStoreDB: a recreated stream continues from where it left off and the old events stay hidden.
      const again = await store.appendToStream(stream, evs(2, 'New'), { expectedRevision: 'no_stream' });
      expect(again.nextExpectedRevision).toBe(4n);
      const read = await collect(store.readStream(stream));
      expect(read.map((e) => [e.type, e.revision])).toEqual([
        ['New', 3n],
        ['New', 4n],
      ]);
      expect(streamRevisions(await collect(store.readStream(stream, { direction: 'backwards' })))).toEqual([4n, 3n]);
      expect(await store.streamRevision(stream)).toBe(4n);
      // Only the first write recreates: no_stream is wrong again afterwards.
      expect(await rejection(store.appendToStream(stream, ev('X'), { expectedRevision: 'no_stream' }))).toBeInstanceOf(
        WrongExpectedVersion,
      );
      const everything = await collect(store.readAll({ filter: { streamNamePrefixes: [prefix] } }));
      expect(everything.map((e) => e.type)).toEqual(['Old', 'Old', 'Old', 'New', 'New']);
    });

    test.each<[string, ExpectedRevision]>([
      ['any', 'any'],
      ['the last revision before the delete', 1n],
    ])('a soft-deleted stream can be recreated with %s', async (_, expectedRevision) => {
      const stream = freshStream();
      await store.appendToStream(stream, evs(2), { expectedRevision: 'no_stream' });
      await store.deleteStream(stream);
      const r = await store.appendToStream(stream, evs(3, 'New'), { expectedRevision });
      expect(r.nextExpectedRevision).toBe(4n);
      expect(streamRevisions(await collect(store.readStream(stream)))).toEqual([2n, 3n, 4n]);
    });

    it('a stream subscription does not replay the events of a soft-deleted stream', async () => {
      const stream = freshStream();
      await store.appendToStream(stream, evs(2, 'Old'));
      await store.deleteStream(stream);
      await store.appendToStream(stream, ev('New'));
      const sub = store.subscribeToStream(stream, { fromRevision: 'start' });
      const { got, done } = consume(sub);
      await waitFor(() => got.length >= 1, { timeoutMs, what: 'the recreated stream' });
      await store.appendToStream(stream, ev('Newer'));
      await waitFor(() => got.length >= 2, { timeoutMs, what: 'a live event' });
      await sub.unsubscribe();
      await done;
      expect(got.map((e) => e.type)).toEqual(['New', 'Newer']);
    });

    it('deleteStream checks the expected revision', async () => {
      const stream = freshStream();
      await store.appendToStream(stream, evs(2));
      const e = await rejection(store.deleteStream(stream, { expectedRevision: 0n }));
      expect(e).toBeInstanceOf(WrongExpectedVersion);
      expect((e as WrongExpectedVersion).actual).toBe(1n);
      expect(await store.streamRevision(stream)).toBe(1n);
      await store.deleteStream(stream, { expectedRevision: 'stream_exists' });
      expect(await store.streamRevision(stream)).toBe('no_stream');
    });

    // ------------------------------------------------------------ closing

    it('close() ends open subscriptions', async () => {
      const sub = store.subscribeToAll({ fromPosition: 'end' });
      const { done } = consume(sub);
      await store.close();
      await done;
    });
  });
};
