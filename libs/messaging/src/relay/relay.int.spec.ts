// Proves the relay publishes what the store holds, in store order per key, with its source header; resumes
// after its checkpoint; publishes a partly filled batch on stop; skips internal events yet moves past them; stops
// on a route's error without checkpointing past it; and refuses to run twice under one name.
import { join } from 'node:path';
import { type RecordedEvent, SqliteEventStore, WrongExpectedVersion } from '@cx/event-store';
import { tempDir, waitFor } from '@cx/testing';
import type { DeliveredMessage } from '../bus.port';
import { InProcessBus } from '../in-process/in-process-bus.adapter';
import { sourceOf } from '../idempotent/effect-stream';
import { Relay, type RelayRoute } from './relay';
import { relaySourceOf } from './relay-headers';

const TOPIC = 'cx.test.things.v1';

const route: RelayRoute = {
  streamPrefixes: ['thing-'],
  toMessage: (e: RecordedEvent) =>
    e.type === 'ThingInternal'
      ? null
      : {
          topic: TOPIC,
          message: { key: e.streamId.slice('thing-'.length), value: Buffer.from(JSON.stringify(e.data)) },
        },
};

describe('Relay', () => {
  const dir = tempDir();
  let store: SqliteEventStore;
  let bus: InProcessBus;
  let got: DeliveredMessage[];
  let n = 0;

  beforeEach(async () => {
    n++;
    store = SqliteEventStore.open(join(dir.path, `relay-${n}.sqlite`));
    bus = new InProcessBus();
    await bus.declareTopics([{ name: TOPIC, partitions: 3 }]);
    got = [];
    await bus.subscribe({ group: 'g', topics: [TOPIC], handler: async (m) => void got.push(m) });
  });
  afterEach(async () => {
    await bus.close();
    await store.close();
  });
  afterAll(() => dir.remove());

  const append = async (key: string, count: number, from = 0) => {
    for (let i = from; i < from + count; i++) {
      await store.appendToStream(`thing-${key}`, [{ type: 'ThingHappened', data: { key, i } }], {
        expectedRevision: i === 0 ? 'no_stream' : BigInt(i - 1),
      });
    }
  };
  const bodies = (key: string) =>
    got.filter((m) => m.key === key).map((m) => (JSON.parse(m.value.toString('utf8')) as { i: number }).i);

  it('publishes history and live events in store order per key, with source headers', async () => {
    await append('a', 5);
    await append('b', 3);
    const relay = new Relay({ name: 'r1', store, bus, routes: [route] });
    await relay.start();
    await append('a', 5, 5);
    await waitFor(() => got.length === 13, { what: '13 messages' });
    expect(bodies('a')).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(bodies('b')).toEqual([0, 1, 2]);
    const first = got.find((m) => m.key === 'a') as DeliveredMessage;
    expect(Object.keys(first.headers)).toEqual(['cx-source']);
    const source = relaySourceOf(first.headers);
    expect(source).toMatchObject({ stream: 'thing-a', revision: '0', type: 'ThingHappened' });
    expect(source?.eventId).toMatch(/^[0-9a-f-]{36}$/);
    expect(sourceOf(first)).toEqual({ stream: 'thing-a', revision: 0n, eventId: source?.eventId });
    await relay.stop();
  });

  it('resumes after its checkpoint: a restart republishes nothing that was acknowledged', async () => {
    await append('a', 4);
    const first = new Relay({ name: 'r2', store, bus, routes: [route] });
    await first.start();
    await waitFor(() => got.length === 4);
    await first.stop();
    await append('a', 2, 4);
    const second = new Relay({ name: 'r2', store, bus, routes: [route] });
    await second.start();
    await waitFor(() => got.length >= 6);
    await second.stop();
    expect(bodies('a')).toEqual([0, 1, 2, 3, 4, 5]);
  });

  it('skips internal events but checkpoints past them', async () => {
    await store.appendToStream('thing-x', [
      { type: 'ThingInternal', data: {} },
      { type: 'ThingHappened', data: { key: 'x', i: 1 } },
      { type: 'ThingInternal', data: {} },
    ]);
    const published: number[] = [];
    const relay = new Relay({ name: 'r3', store, bus, routes: [route], onPublished: (p) => published.push(p.events) });
    await relay.start();
    await waitFor(() => published.reduce((a, b) => a + b, 0) === 3, { what: 'three events relayed' });
    await relay.stop();
    expect(bodies('x')).toEqual([1]);
    const head = await store.headPosition();
    const checkpoint = store.readStream('relay-checkpoint-r3', { direction: 'backwards', maxCount: 1 });
    for await (const c of checkpoint)
      expect(BigInt((c.data as { position: string }).position.split('/')[0] as string)).toBeLessThan(head!.commit);
  });

  it('stops with the error of a route that throws; a restart resumes after the last acknowledged batch', async () => {
    await append('a', 3);
    let broken = true;
    const flaky: RelayRoute = {
      streamPrefixes: ['thing-'],
      toMessage: (e) => {
        if (broken && (e.data as { i: number }).i === 2) throw new TypeError('route bug');
        return route.toMessage(e);
      },
    };
    const opts = { name: 'r5', store, bus, routes: [flaky], maxBatch: 1, checkpointIntervalMs: 0 };
    const first = new Relay(opts);
    await first.start();
    await expect(first.done).rejects.toThrow('route bug');
    await waitFor(() => got.length === 2, { what: 'the two events before the failing one' });
    broken = false;
    const second = new Relay(opts);
    await second.start();
    await waitFor(() => got.length === 3, { what: 'the failing event, once fixed' });
    await second.stop();
    expect(bodies('a')).toEqual([0, 1, 2]);
  });

  it('fences a second relay of the same name: one of them stops with WrongExpectedVersion', async () => {
    await append('a', 1);
    const one = new Relay({ name: 'r4', store, bus, routes: [route], maxDelayMs: 1, checkpointIntervalMs: 0 });
    await one.start();
    await waitFor(() => got.length === 1);
    const two = new Relay({ name: 'r4', store, bus, routes: [route], maxDelayMs: 1, checkpointIntervalMs: 0 });
    await two.start();
    const failures: unknown[] = [];
    void one.done.catch((e: unknown) => failures.push(e));
    void two.done.catch((e: unknown) => failures.push(e));
    // Both relay the next event; only one checkpoint can be written at the revision both read.
    await append('a', 1, 1);
    await waitFor(() => failures.length === 1, { what: 'one relay to be fenced off' });
    expect(failures[0]).toBeInstanceOf(WrongExpectedVersion);
    await one.stop();
    await two.stop();
  });
});
