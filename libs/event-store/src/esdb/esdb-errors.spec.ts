// Proves, without a server, that the EventStoreDB adapter turns the client's own error classes into the port's
// errors (keeping the cause), that validate-append refuses every malformed append with the right field before any
// I/O, and that the adapter's streams and subscriptions end and fail the way the port says.
import { PassThrough } from 'node:stream';
import {
  AccessDeniedError,
  CancelledError,
  DeadlineExceededError,
  EventStoreDBClient,
  NotLeaderError,
  StreamDeletedError,
  StreamNotFoundError,
  TimeoutError,
  UnavailableError,
  UnknownError,
  WrongExpectedVersionError,
} from '@eventstore/db-client';
import {
  InvalidAppend,
  isRetriable,
  StoreUnavailable,
  StreamNotFound,
  WrongExpectedVersion,
} from '../event-store.errors';
import type { RecordedEvent } from '../event-store.port';
import { validateAppend } from '../validate-append';
import { EsdbEventStore } from './esdb-event-store.adapter';
import { translateEsdbError, type EsdbErrorContext } from './esdb-errors';

const append = (stream = 'order-1', expectedRevision?: EsdbErrorContext['expectedRevision']): EsdbErrorContext => ({
  operation: 'append',
  stream,
  expectedRevision,
});

/** What the client builds from a gRPC ServiceError; only `metadata.getMap()` is read by NotLeaderError. */
const serviceError = (map: Record<string, string>, code = 14) =>
  Object.assign(new Error(`${code} UNAVAILABLE: leader info`), {
    code,
    details: 'leader info',
    metadata: { getMap: () => map },
  }) as unknown as ConstructorParameters<typeof NotLeaderError>[0];

describe('translateEsdbError', () => {
  describe('WrongExpectedVersionError → WrongExpectedVersion (retriable)', () => {
    it.each<[string, ConstructorParameters<typeof WrongExpectedVersionError>[1], EsdbErrorContext, unknown, unknown]>([
      ['exact revision behind', { streamName: 'order-1', expected: 3n, current: 5n }, append('order-1', 3n), 3n, 5n],
      [
        'no_stream but it exists',
        { streamName: 'order-1', expected: 'no_stream', current: 0n },
        append('order-1', 'no_stream'),
        'no_stream',
        0n,
      ],
      [
        'stream_exists but none',
        { streamName: 'order-1', expected: 'stream_exists', current: 'no_stream' },
        append('order-1', 'stream_exists'),
        'stream_exists',
        'no_stream',
      ],
      // The ServiceError path rebuilds versions from the server's raw numbers: -1 no stream, -2 any, -4 stream exists.
      [
        'raw -2 (any), raw -1 actual',
        { streamName: 'order-1', expected: -2n, current: -1n },
        { operation: 'delete' },
        'any',
        'no_stream',
      ],
      [
        'raw -1 expected (no_stream)',
        { streamName: 'order-1', expected: -1n, current: 7n },
        { operation: 'append' },
        'no_stream',
        7n,
      ],
      [
        'raw -4 expected (stream_exists)',
        { streamName: 'order-1', expected: -4n, current: -1n },
        { operation: 'append' },
        'stream_exists',
        'no_stream',
      ],
      // A partly-written batch ("corrupted idempotency") surfaces as a wrong expected version too.
      [
        'batch partly written before',
        { streamName: 'order-1', expected: 1n, current: 4n },
        append('order-1', 1n),
        1n,
        4n,
      ],
    ])('%s', (_name, versions, context, expected, actual) => {
      const cause = new WrongExpectedVersionError(undefined, versions);
      const out = translateEsdbError(cause, context);
      expect(out).toBeInstanceOf(WrongExpectedVersion);
      expect(out).toMatchObject({ stream: 'order-1', expected, actual, retriable: true, cause });
      expect(isRetriable(out)).toBe(true);
    });

    it('prefers the expected revision the caller gave over the client’s lossy copy', () => {
      const cause = new WrongExpectedVersionError(undefined, { streamName: 'order-1', expected: 'any', current: 2n });
      expect(translateEsdbError(cause, append('order-1', 1n))).toMatchObject({ expected: 1n, actual: 2n });
    });

    it('takes the stream from the context when the client has none', () => {
      const cause = new WrongExpectedVersionError(undefined, { streamName: '', expected: 0n, current: 1n });
      expect(translateEsdbError(cause, append('order-9', 0n))).toMatchObject({ stream: 'order-9' });
    });
  });

  it('StreamNotFoundError → StreamNotFound (not retriable)', () => {
    const cause = new StreamNotFoundError(undefined, 'order-1');
    const out = translateEsdbError(cause, { operation: 'read', stream: 'order-1' });
    expect(out).toBeInstanceOf(StreamNotFound);
    expect(out).toMatchObject({ stream: 'order-1', retriable: false, cause });
  });

  describe('StreamDeletedError', () => {
    it('on an append expecting stream_exists (a soft-deleted stream) → WrongExpectedVersion, actual no_stream', () => {
      const cause = StreamDeletedError.fromStreamName('order-1');
      const out = translateEsdbError(cause, append('order-1', 'stream_exists'));
      expect(out).toBeInstanceOf(WrongExpectedVersion);
      expect(out).toMatchObject({ expected: 'stream_exists', actual: 'no_stream', cause });
    });

    it.each<EsdbErrorContext>([
      append('order-1', 'any'),
      append('order-1', 'no_stream'),
      append('order-1', 4n),
      { operation: 'read', stream: 'order-1' },
      { operation: 'delete', stream: 'order-1' },
    ])('on a tombstoned stream (%o) → StreamNotFound, never retried', (context) => {
      const cause = StreamDeletedError.fromStreamName('order-1');
      const out = translateEsdbError(cause, context);
      expect(out).toBeInstanceOf(StreamNotFound);
      expect(out).toMatchObject({ stream: 'order-1', retriable: false, cause });
    });
  });

  describe('transient failures → StoreUnavailable (retriable)', () => {
    it.each<[string, () => Error]>([
      ['UnavailableError', () => new UnavailableError()],
      ['DeadlineExceededError', () => new DeadlineExceededError()],
      ['TimeoutError (server commit timeout)', () => new TimeoutError()],
      ['CancelledError (by the server)', () => new CancelledError()],
      [
        'NotLeaderError',
        () => new NotLeaderError(serviceError({ 'leader-endpoint-host': 'node-2', 'leader-endpoint-port': '2113' })),
      ],
      [
        'a raw gRPC UNAVAILABLE the client did not convert',
        () =>
          Object.assign(new Error('14 UNAVAILABLE: No connection established'), {
            code: 14,
            details: 'No connection established',
          }),
      ],
      ['discovery that found no node', () => new Error('Failed to discover after 10 attempts.')],
    ])('%s', (_name, make) => {
      const cause = make();
      const out = translateEsdbError(cause, append());
      expect(out).toBeInstanceOf(StoreUnavailable);
      expect(out).toMatchObject({ retriable: true, cause });
      expect((out as Error).message).toMatch(/^EventStoreDB append on stream "order-1" failed: /);
    });
  });

  describe('everything else is returned unchanged', () => {
    it.each<[string, () => unknown]>([
      ['AccessDeniedError (configuration, not transient)', () => new AccessDeniedError()],
      ['UnknownError', () => new UnknownError()],
      ['TypeError (a bug)', () => new TypeError('x is not a function')],
      ['a non-Error value', () => 'boom'],
      ['an error with a numeric code that is not a ServiceError', () => Object.assign(new Error('odd'), { code: 99 })],
    ])('%s', (_name, make) => {
      const e = make();
      expect(translateEsdbError(e, append())).toBe(e);
    });

    it('an error already translated', () => {
      const e = new StreamNotFound('order-1');
      expect(translateEsdbError(e, append())).toBe(e);
    });
  });
});

describe('validateAppend', () => {
  const ok = { type: 'OrderPlaced', data: { orderId: 'o-1' } };
  const id = '0b8c7a52-4f7e-4b36-9d0e-2f1c3a4b5c6d';
  const cyclic: Record<string, unknown> = { a: 1 };
  cyclic.self = cyclic;

  // Ordered by which error wins: the stream, then the expected revision, then the batch, then each event in order
  // (id, duplicate id, type, data, metadata). Each row is also a case where everything after the fault is fine.
  const refused: Array<[string, unknown, unknown, unknown, string, RegExp]> = [
    ['stream not a string', 42, [ok], 'any', 'stream', /non-empty string/],
    ['empty stream name', '', [ok], 'any', 'stream', /non-empty string/],
    ['system stream name', '$all', [ok], 'any', 'stream', /reserved for system streams/],
    ['stream wins over everything after it', '', [], 3, 'stream', /non-empty string/],
    [
      'expectedRevision a JS number',
      'order-1',
      [ok],
      3,
      'expectedRevision',
      /must be a bigint, not the number 3 \(write 3n\)/,
    ],
    ['expectedRevision a negative bigint', 'order-1', [ok], -1n, 'expectedRevision', /negative/],
    ['expectedRevision beyond int64', 'order-1', [ok], 2n ** 63n, 'expectedRevision', /beyond the largest revision/],
    [
      'expectedRevision an unknown string',
      'order-1',
      [ok],
      'latest',
      'expectedRevision',
      /'any', 'no_stream', 'stream_exists' or a bigint, not "latest"/,
    ],
    ['expectedRevision null', 'order-1', [ok], null, 'expectedRevision', /not null/],
    ['expectedRevision wins over the batch', 'order-1', [], 3, 'expectedRevision', /bigint/],
    ['empty batch', 'order-1', [], 'any', 'events', /at least one event/],
    ['event not an object', 'order-1', ['OrderPlaced'], 'any', 'events[0]', /must be an object/],
    ['non-UUID id', 'order-1', [{ ...ok, id: 'order-1-evt-1' }], 'any', 'events[0].id', /must be a UUID/],
    [
      'duplicate ids (case-insensitive)',
      'order-1',
      [
        { ...ok, id },
        { ...ok, id: id.toUpperCase() },
      ],
      'any',
      'events[1].id',
      /repeats events\[0\]\.id/,
    ],
    ['empty type', 'order-1', [{ ...ok, type: '' }], 'any', 'events[0].type', /non-empty string/],
    ['missing type', 'order-1', [{ data: {} }], 'any', 'events[0].type', /non-empty string/],
    [
      'system event type',
      'order-1',
      [{ ...ok, type: '$metadata' }],
      'any',
      'events[0].type',
      /reserved for system events/,
    ],
    ['id wins over type', 'order-1', [{ id: 'nope', type: '', data: undefined }], 'any', 'events[0].id', /UUID/],
    [
      'data undefined',
      'order-1',
      [{ type: 'OrderPlaced', data: undefined }],
      'any',
      'events[0].data',
      /data is undefined/,
    ],
    [
      'data with an undefined field',
      'order-1',
      [{ ...ok, data: { a: undefined } }],
      'any',
      'events[0].data',
      /data\.a is undefined/,
    ],
    ['data a function', 'order-1', [{ ...ok, data: () => 1 }], 'any', 'events[0].data', /function/],
    [
      'data with a BigInt',
      'order-1',
      [{ ...ok, data: { amount: 10n } }],
      'any',
      'events[0].data',
      /data\.amount is a BigInt/,
    ],
    ['data NaN', 'order-1', [{ ...ok, data: { price: NaN } }], 'any', 'events[0].data', /NaN/],
    [
      'data Infinity in an array',
      'order-1',
      [{ ...ok, data: [1, Infinity] }],
      'any',
      'events[0].data',
      /data\[1\] is Infinity/,
    ],
    [
      'data with a cycle',
      'order-1',
      [{ ...ok, data: cyclic }],
      'any',
      'events[0].data',
      /data\.self refers back .* cycle/,
    ],
    [
      'data a Date',
      'order-1',
      [{ ...ok, data: { at: new Date(0) } }],
      'any',
      'events[0].data',
      /a Date, not a plain object/,
    ],
    [
      'data wins over metadata',
      'order-1',
      [{ ...ok, data: NaN, metadata: { x: NaN } }],
      'any',
      'events[0].data',
      /NaN/,
    ],
    ['metadata not an object', 'order-1', [{ ...ok, metadata: 'corr-1' }], 'any', 'events[0].metadata', /plain object/],
    [
      'metadata with a BigInt',
      'order-1',
      [{ ...ok, metadata: { seq: 1n } }],
      'any',
      'events[0].metadata',
      /metadata\.seq is a BigInt/,
    ],
    ['metadata with a cycle', 'order-1', [{ ...ok, metadata: cyclic }], 'any', 'events[0].metadata', /cycle/],
    [
      'first bad event wins',
      'order-1',
      [ok, { ...ok, type: '' }, { ...ok, data: NaN }],
      'any',
      'events[1].type',
      /non-empty/,
    ],
  ];
  it.each(refused.map(([name, ...rest]) => [`${name} → ${rest[3]}`, ...rest] as const))(
    '%s',
    (_name, stream, events, expectedRevision, field, message) => {
      let thrown: unknown;
      try {
        validateAppend(stream, events, expectedRevision);
      } catch (e) {
        thrown = e;
      }
      expect(thrown).toBeInstanceOf(InvalidAppend);
      expect(thrown).toMatchObject({ field, retriable: false });
      expect((thrown as Error).message).toMatch(message);
    },
  );

  it.each<[string, unknown, unknown]>([
    ['a single event, no expected revision', ok, undefined],
    [
      'scalars and null are JSON',
      [
        { type: 'T', data: 5 },
        { type: 'T', data: null },
        { type: 'T', data: 'x' },
        { type: 'T', data: false },
      ],
      'no_stream',
    ],
    [
      'nested data, metadata, ids',
      [{ id, type: 'T', data: { a: [1, { b: null }] }, metadata: { correlationId: 'c', actor: { role: 'ops' } } }],
      0n,
    ],
    ['the same object twice is not a cycle', [{ type: 'T', data: { a: ok, b: ok } }], 'stream_exists'],
    ['null-prototype objects', [{ type: 'T', data: Object.assign(Object.create(null) as object, { a: 1 }) }], 'any'],
  ])('accepts %s', (_name, events, expectedRevision) => {
    expect(() => validateAppend('order-1', events, expectedRevision)).not.toThrow();
  });
});

describe('EsdbEventStore without a server', () => {
  /** A client whose every call is recorded; only what a test needs is implemented. */
  const fakeClient = (overrides: Partial<Record<keyof EventStoreDBClient, unknown>> = {}) => {
    const client = {
      appendToStream: jest.fn(),
      readStream: jest.fn(),
      readAll: jest.fn(),
      subscribeToAll: jest.fn(),
      subscribeToStream: jest.fn(),
      deleteStream: jest.fn(),
      dispose: jest.fn(async () => undefined),
      ...overrides,
    };
    return { client, store: new EsdbEventStore(client as unknown as EventStoreDBClient) };
  };

  const recorded = (revision: bigint, over: Record<string, unknown> = {}) => ({
    event: {
      streamId: 'order-1',
      id: `00000000-0000-4000-8000-00000000000${revision}`,
      isJson: true,
      revision,
      type: 'OrderPlaced',
      created: new Date(0),
      data: { n: Number(revision) },
      metadata: undefined,
      position: { commit: 100n + revision, prepare: 100n + revision },
      ...over,
    },
  });

  /** The client's read and subscription objects are object-mode Node streams with cancel/unsubscribe. */
  const clientStream = (items: unknown[], opts: { end?: boolean; error?: Error } = {}) => {
    const s = Object.assign(new PassThrough({ objectMode: true }), {
      cancel: jest.fn(async () => undefined),
      unsubscribe: jest.fn(async () => undefined),
    });
    for (const i of items) s.write(i);
    if (opts.error) setImmediate(() => s.emit('error', opts.error));
    else if (opts.end !== false) s.end();
    return s;
  };

  const collect = async (it: AsyncIterable<RecordedEvent>) => {
    const out: RecordedEvent[] = [];
    for await (const e of it) out.push(e);
    return out;
  };

  it('refuses a malformed append before calling the server, so nothing is written', async () => {
    const { client, store } = fakeClient();
    await expect(store.appendToStream('order-1', [{ type: 'T', data: { x: 1n } }])).rejects.toMatchObject({
      name: 'InvalidAppend',
      field: 'events[0].data',
    });
    await expect(store.appendToStream('order-1', [], { expectedRevision: 0n })).rejects.toBeInstanceOf(InvalidAppend);
    expect(client.appendToStream).not.toHaveBeenCalled();
  });

  it('appends JSON events with lower-case ids and the expected revision, and maps the result', async () => {
    const appendToStream = jest.fn(async () => ({
      success: true,
      nextExpectedRevision: 1n,
      position: { commit: 9n, prepare: 8n },
    }));
    const { store } = fakeClient({ appendToStream });
    const id = 'AAAAAAAA-BBBB-4CCC-8DDD-EEEEEEEEEEEE';
    const result = await store.appendToStream(
      'order-1',
      [
        { id, type: 'A', data: 5 },
        { type: 'B', data: { ok: true }, metadata: { correlationId: 'c-1' } },
      ],
      {
        expectedRevision: 'no_stream',
      },
    );
    expect(result).toEqual({ nextExpectedRevision: 1n, position: { commit: 9n, prepare: 8n } });
    const [stream, batch, options] = appendToStream.mock.calls[0] as unknown as [
      string,
      Array<Record<string, unknown>>,
      Record<string, unknown>,
    ];
    expect(stream).toBe('order-1');
    expect(options).toEqual({ expectedRevision: 'no_stream', requiresLeader: true });
    expect(batch[0]).toMatchObject({ id: id.toLowerCase(), contentType: 'application/json', type: 'A', data: 5 });
    expect(batch[1]).toMatchObject({ type: 'B', data: { ok: true }, metadata: { correlationId: 'c-1' } });
    expect(batch[1]?.id).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('translates a rejected append, keeping the cause', async () => {
    const cause = new WrongExpectedVersionError(undefined, { streamName: 'order-1', expected: 0n, current: 2n });
    const { store } = fakeClient({ appendToStream: jest.fn(async () => Promise.reject(cause)) });
    await expect(
      store.appendToStream('order-1', { type: 'A', data: {} }, { expectedRevision: 0n }),
    ).rejects.toMatchObject({
      name: 'WrongExpectedVersion',
      expected: 0n,
      actual: 2n,
      cause,
    });
  });

  it('reads a stream backwards from the end by default and maps events (metadata {}, position kept)', async () => {
    const readStream = jest.fn(() => clientStream([recorded(1n), recorded(0n)]));
    const { store } = fakeClient({ readStream });
    const events = await collect(store.readStream('order-1', { direction: 'backwards' }));
    expect(readStream).toHaveBeenCalledWith(
      'order-1',
      expect.objectContaining({ direction: 'backwards', fromRevision: 'end', resolveLinkTos: false }),
    );
    expect(events.map((e) => e.revision)).toEqual([1n, 0n]);
    expect(events[0]).toMatchObject({
      streamId: 'order-1',
      type: 'OrderPlaced',
      data: { n: 1 },
      metadata: {},
      position: { commit: 101n, prepare: 101n },
    });
  });

  it('turns StreamNotFoundError while iterating a read into StreamNotFound, and streamRevision into no_stream', async () => {
    const readStream = jest.fn(() => clientStream([], { error: new StreamNotFoundError(undefined, 'order-1') }));
    const { store } = fakeClient({ readStream });
    await expect(collect(store.readStream('order-1'))).rejects.toBeInstanceOf(StreamNotFound);
    await expect(store.streamRevision('order-1')).resolves.toBe('no_stream');
  });

  it('drops system streams and system events from readAll and counts maxCount after filtering', async () => {
    const all = [
      recorded(0n, { streamId: '$stats-127.0.0.1:2113', type: '$statsCollected' }),
      recorded(1n),
      recorded(2n, { type: '$metadata' }),
      recorded(3n, { streamId: 'payment-1' }),
      recorded(4n),
    ];
    const { store } = fakeClient({ readAll: jest.fn(() => clientStream(all)) });
    expect((await collect(store.readAll())).map((e) => e.revision)).toEqual([1n, 3n, 4n]);
    const { store: limited } = fakeClient({ readAll: jest.fn(() => clientStream(all)) });
    expect((await collect(limited.readAll({ maxCount: 2 }))).map((e) => e.revision)).toEqual([1n, 3n]);
    const { store: filtered } = fakeClient({ readAll: jest.fn(() => clientStream(all)) });
    expect(
      (await collect(filtered.readAll({ filter: { streamNamePrefixes: ['payment-'] } }))).map((e) => e.streamId),
    ).toEqual(['payment-1']);
  });

  it('subscribes to $all with the server told to skip system events, and unsubscribe ends the iteration', async () => {
    const inner = clientStream([recorded(0n), recorded(1n, { type: '$>' })], { end: false });
    const subscribeToAll = jest.fn(() => inner);
    const { store } = fakeClient({ subscribeToAll });
    const sub = store.subscribeToAll({ fromPosition: 'start' });
    expect(subscribeToAll).toHaveBeenCalledWith(
      expect.objectContaining({
        fromPosition: 'start',
        resolveLinkTos: false,
        filter: expect.objectContaining({ filterOn: 'eventType', regex: '^[^$].*' }),
      }),
    );
    const seen: bigint[] = [];
    for await (const e of sub) {
      seen.push(e.revision);
      await sub.unsubscribe();
    }
    expect(seen).toEqual([0n]);
    expect(inner.unsubscribe).toHaveBeenCalled();
  });

  it('fails a subscription with the translated error, even when it came before anyone iterated', async () => {
    const inner = clientStream([], { end: false, error: new UnavailableError() });
    const { store } = fakeClient({ subscribeToStream: jest.fn(() => inner) });
    const sub = store.subscribeToStream('order-1', { fromRevision: 'start' });
    await new Promise((r) => setImmediate(r));
    await expect(collect(sub)).rejects.toBeInstanceOf(StoreUnavailable);
  });

  it('deletes a missing stream as a no-op and refuses no_stream on an existing one', async () => {
    const missing = fakeClient({
      readStream: jest.fn(() => clientStream([], { error: new StreamNotFoundError(undefined, 'order-1') })),
    });
    await expect(missing.store.deleteStream('order-1')).resolves.toEqual({ position: null });
    expect(missing.client.deleteStream).not.toHaveBeenCalled();

    const existing = fakeClient({
      readStream: jest.fn(() => clientStream([recorded(4n)])),
      deleteStream: jest.fn(async () => ({ position: { commit: 7n, prepare: 7n } })),
    });
    await expect(existing.store.deleteStream('order-1', { expectedRevision: 'no_stream' })).rejects.toMatchObject({
      name: 'WrongExpectedVersion',
      actual: 4n,
    });
    await expect(existing.store.deleteStream('order-1', { expectedRevision: 'stream_exists' })).resolves.toEqual({
      position: { commit: 7n, prepare: 7n },
    });
    expect(existing.client.deleteStream).toHaveBeenCalledWith('order-1', {
      expectedRevision: 4n,
      requiresLeader: true,
    });
  });
});
