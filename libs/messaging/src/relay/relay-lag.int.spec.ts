// Proves the relay's lag as /metrics reads it: the events its filter selects that it has not yet had acknowledged,
// counted from the store (not head minus position, which would count other streams and its own checkpoints),
// capped, back to 0 once published, and resumed from the checkpoint on a restart; and that it registers on its
// bus's telemetry while it runs.
import { join } from 'node:path';
import { type RecordedEvent, SqliteEventStore } from '@cx/event-store';
import { tempDir, waitFor } from '@cx/testing';
import { InProcessBus } from '../in-process/in-process-bus.adapter';
import { Relay, type RelayRoute } from './relay';

const TOPIC = 'cx.test.lag.v1';

const route: RelayRoute = {
  streamPrefixes: ['lag-'],
  toMessage: (e: RecordedEvent) => ({
    topic: TOPIC,
    message: { key: e.streamId, value: Buffer.from(JSON.stringify(e.data)) },
  }),
};

describe('Relay lag', () => {
  const dir = tempDir();
  let store: SqliteEventStore;
  let bus: InProcessBus;

  beforeEach(async () => {
    store = SqliteEventStore.open(join(dir.path, `lag-${Date.now()}-${Math.random()}.sqlite`));
    bus = new InProcessBus();
    await bus.declareTopics([{ name: TOPIC, partitions: 2 }]);
  });
  afterEach(async () => {
    await bus.close();
    await store.close();
  });
  afterAll(() => dir.remove());

  const append = async (stream: string, count: number) => {
    for (let i = 0; i < count; i++) await store.appendToStream(stream, [{ type: 'Happened', data: { i } }]);
  };

  it('counts only the events it will publish, up to the cap, and reads 0 once they are acknowledged', async () => {
    await append('lag-a', 5);
    await append('other-a', 7); // not the relay's: never counted
    const relay = new Relay({ name: 'lag-1', store, bus, routes: [route] });
    expect(await relay.lag(1_000)).toBe(5);
    expect(await relay.lag(3)).toBe(3);
    expect(bus.telemetry.relays()).toEqual([]);

    await relay.start();
    expect(bus.telemetry.relays()).toEqual([relay]);
    await waitFor(async () => (await relay.lag(1_000)) === 0, { what: 'the relay to catch up' });
    await append('lag-b', 2);
    await append('other-b', 3);
    await waitFor(async () => (await relay.lag(1_000)) === 0, { what: 'the relay to publish the new events' });
    await relay.stop();
    expect(bus.telemetry.relays()).toEqual([]);

    // Stopped: what is appended now waits, and a restart resumes from the checkpoint, not from the start.
    await append('lag-c', 4);
    const again = new Relay({ name: 'lag-1', store, bus, routes: [route] });
    await again.start();
    await waitFor(async () => (await again.lag(1_000)) === 0, { what: 'the restarted relay to catch up' });
    await again.stop();
    const fresh = new Relay({ name: 'lag-1', store, bus, routes: [route] });
    // Not started: it has acknowledged nothing in this process, so it counts from the start.
    expect(await fresh.lag(1_000)).toBe(11);
  });
});
