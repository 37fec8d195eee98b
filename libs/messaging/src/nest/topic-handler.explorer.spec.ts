// Proves @TopicHandler methods are subscribed at bootstrap on the bus behind MESSAGE_BUS (here the in-process one),
// one group per subscription, and that a message no handler of the group knows is an error, not a silent ack.
import { Injectable } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { waitFor } from '@cx/testing';
import type { DeliveredMessage } from '../bus.port';
import { NoHandlerForTopic, UnknownTopic, isRetriable } from '../bus.errors';
import type { BusLogger } from '../bus.logger';
import { InProcessBus } from '../in-process/in-process-bus.adapter';
import { MessagingModule } from './messaging.module';
import { TopicHandler } from './topic-handler.decorator';
import { topicRouter } from './topic-handler.explorer';

const quiet: BusLogger = { warn: () => undefined, error: () => undefined };
const TRADES = 'cx.matching.trades.v1';
const BANDS = 'cx.pricing.guidance.v1';

@Injectable()
class BillingHandlers {
  readonly seen: string[] = [];

  @TopicHandler(TRADES, { group: 'billing' })
  async onTrade(m: DeliveredMessage): Promise<void> {
    this.seen.push(`billing trade ${m.key}`);
  }

  @TopicHandler(BANDS, { group: 'billing' })
  async onBand(m: DeliveredMessage): Promise<void> {
    this.seen.push(`billing band ${m.key}`);
  }
}

@Injectable()
class SurveillanceHandlers {
  readonly seen: string[] = [];

  @TopicHandler(TRADES, { group: 'surveillance' })
  async onTrade(m: DeliveredMessage): Promise<void> {
    this.seen.push(`surveillance trade ${m.key}`);
  }
}

describe('TopicHandlerExplorer', () => {
  it('subscribes decorated methods at bootstrap, per group, and unsubscribes at shutdown', async () => {
    const bus = new InProcessBus({ logger: quiet });
    await bus.declareTopics([
      { name: TRADES, partitions: 2 },
      { name: BANDS, partitions: 1 },
    ]);
    const module = await Test.createTestingModule({
      imports: [MessagingModule.forBus(bus)],
      providers: [BillingHandlers, SurveillanceHandlers],
    }).compile();
    // An application context, no HTTP: what a consumer-only process runs.
    const app = await module.init();
    try {
      await bus.publish(TRADES, [{ key: 'trade-1', value: Buffer.from('{}') }]);
      await bus.publish(BANDS, [{ key: 'band-1', value: Buffer.from('{}') }]);
      const billing = app.get(BillingHandlers);
      const surveillance = app.get(SurveillanceHandlers);
      await waitFor(() => billing.seen.length >= 2 && surveillance.seen.length >= 1, { what: 'all handlers' });
      expect(billing.seen.sort()).toEqual(['billing band band-1', 'billing trade trade-1']);
      expect(surveillance.seen).toEqual(['surveillance trade trade-1']);
    } finally {
      await app.close();
      await bus.close();
    }
  });

  it('fails bootstrap when a handler names an undeclared topic', async () => {
    const bus = new InProcessBus({ logger: quiet });
    const module = await Test.createTestingModule({
      imports: [MessagingModule.forBus(bus)],
      providers: [SurveillanceHandlers],
    }).compile();
    const error = await module.init().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(UnknownTopic);
    // Nothing was subscribed; module.close() would run the failed bootstrap again, so only the bus is closed.
    await bus.close();
  });

  it('routes by topic and refuses a topic no handler of the group knows (non-retriable)', async () => {
    const got: string[] = [];
    const route = topicRouter('billing', new Map([[TRADES, async (m: DeliveredMessage) => void got.push(m.key)]]));
    const message = (topic: string): DeliveredMessage => ({
      topic,
      partition: 0,
      offset: '0',
      key: 'k',
      value: Buffer.alloc(0),
      headers: {},
      attempt: 1,
    });
    await route(message(TRADES));
    expect(got).toEqual(['k']);
    const error = await route(message('cx.other.v1')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NoHandlerForTopic);
    expect(isRetriable(error)).toBe(false);
  });
});
