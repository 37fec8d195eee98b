// Proves what the in-process bus reports for /metrics (consumer lag per group and topic, exact; dead letters by
// group and source topic) and how a delivered message opens its correlation context around the handler: a relayed
// message opens its own, a message without the relay's header and a batch of several causes open none, whatever
// context the publisher ran in.
import { InProcessBus } from './in-process/in-process-bus.adapter';
import { type Correlation, currentCorrelation, inContextOf, withCorrelation } from './correlation';
import { RELAY_SOURCE_HEADER } from './relay/relay-headers';

const TOPIC = 'cx.test.telemetry.v1';
const quiet = { warn: () => undefined, error: () => undefined };

const relayed = (eventId: string, correlationId?: string) => ({
  [RELAY_SOURCE_HEADER]: JSON.stringify({
    eventId,
    stream: 'thing-1',
    revision: '0',
    position: '1/1',
    type: 'ThingHappened',
    ...(correlationId === undefined ? {} : { correlationId }),
  }),
});

const until = async (condition: () => boolean): Promise<void> => {
  while (!condition()) await new Promise((r) => setImmediate(r));
};

describe('in-process bus telemetry', () => {
  let bus: InProcessBus;
  beforeEach(async () => {
    bus = new InProcessBus({ logger: quiet });
    await bus.declareTopics([{ name: TOPIC, partitions: 2 }]);
  });
  afterEach(() => bus.close());

  it('reports each group’s lag per topic, down to 0 as it commits', async () => {
    let release = (): void => undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let handled = 0;
    await bus.subscribe({
      group: 'slow',
      topics: [TOPIC],
      handler: async () => {
        await gate;
        handled++;
      },
    });
    await bus.subscribe({ group: 'fast', topics: [TOPIC], handler: async () => undefined });
    await bus.publish(
      TOPIC,
      ['a', 'b', 'c', 'd'].map((key) => ({ key, value: Buffer.from(key) })),
    );
    const lagOf = async (group: string) =>
      (await bus.telemetry.probes.consumerLag()).find((l) => l.group === group && l.topic === TOPIC)?.messages;
    expect(await lagOf('slow')).toBe(4);
    await until(() => bus.consumerLag().find((l) => l.group === 'fast')?.messages === 0);
    release();
    await until(() => handled === 4);
    await until(() => bus.consumerLag().find((l) => l.group === 'slow')?.messages === 0);
    expect(await lagOf('slow')).toBe(0);
    expect(await bus.telemetry.probes.health(100)).toEqual({ status: 'ok' });
  });

  it('counts dead letters by group and source topic', async () => {
    let tries = 0;
    await bus.subscribe({
      group: 'picky',
      topics: [TOPIC],
      maxAttempts: 1,
      handler: async (m) => {
        tries++;
        if (m.key === 'bad') throw new TypeError('poison');
      },
    });
    await bus.publish(TOPIC, [
      { key: 'bad', value: Buffer.from('x') },
      { key: 'good', value: Buffer.from('y') },
    ]);
    await until(() => tries === 2 && bus.retained(`${TOPIC}.dlq`) === 1);
    expect(bus.telemetry.deadLetterCounts()).toEqual([{ group: 'picky', topic: TOPIC, count: 1 }]);
  });

  it('runs a handler in the correlation of the relayed event it handles, never in its publisher’s', async () => {
    const seen: Array<Correlation | undefined> = [];
    await bus.subscribe({
      group: 'ctx',
      topics: [TOPIC],
      handler: async () => void seen.push(currentCorrelation()),
    });
    // Published from inside a request's context: the handler must not inherit it.
    await withCorrelation({ correlationId: 'req-9', causationId: 'req-9' }, () =>
      bus.publish(TOPIC, [
        { key: 'k', value: Buffer.from('1'), headers: relayed('evt-1', 'corr-1') },
        { key: 'k', value: Buffer.from('2'), headers: relayed('evt-2') },
        { key: 'k', value: Buffer.from('3') },
      ]),
    );
    await until(() => seen.length === 3);
    expect(seen).toEqual([
      { correlationId: 'corr-1', causationId: 'evt-1' },
      // Recorded without a request: the event is its own correlation.
      { correlationId: 'evt-2', causationId: 'evt-2' },
      undefined,
    ]);
  });

  it('opens one context for a batch only when all its messages share the cause', () => {
    const one = [{ headers: relayed('evt-1', 'c') }, { headers: relayed('evt-1', 'c') }];
    const two = [{ headers: relayed('evt-1', 'c') }, { headers: relayed('evt-2', 'c') }];
    expect(inContextOf(one, currentCorrelation)).toEqual({ correlationId: 'c', causationId: 'evt-1' });
    expect(withCorrelation({ correlationId: 'x', causationId: 'x' }, () => inContextOf(two, currentCorrelation))).toBe(
      undefined,
    );
    expect(inContextOf([], currentCorrelation)).toBeUndefined();
  });
});
