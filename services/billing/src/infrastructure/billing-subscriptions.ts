import { Inject, Injectable, Optional } from '@nestjs/common';
import type { OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import {
  type Consumer,
  type DeliveredMessage,
  MESSAGE_BUS,
  type MessageBus,
  type MessageHandler,
  topicRouter,
} from '@cx/messaging';
import { BILLING_CONFIG, type BillingConfig, billingConfig } from '../config';
import { ALLOCATIONS_TOPIC, GUIDANCE_TOPIC, TRADES_TOPIC, USAGE_TOPIC } from './billing-integration';
import { DeliveryConsumers } from './delivery.consumers';
import { GuidanceConsumer } from './guidance.consumer';
import { TradesConsumer } from './trades.consumer';

/** Partitions of a consumed topic billing declares itself (only under a test's topic prefix). */
const PREFIXED_TOPIC_PARTITIONS = 3;

/**
 * Subscribes billing's consumers: one subscription in the configured group over the topics it hears, each routed
 * to its handler. The group and the topics' prefix are configuration rather than decorator constants, so a test on
 * a shared broker can run billing processes that hear only their own run's topics; in production they are
 * `billing` and the contract's topic names. Under a prefix billing declares its topics (create-if-missing), since
 * no owner process declares them; a subscription to an undeclared topic is refused.
 */
@Injectable()
export class BillingSubscriptions implements OnApplicationBootstrap, OnApplicationShutdown {
  private consumer: Consumer | null = null;

  constructor(
    @Inject(MESSAGE_BUS) private readonly bus: MessageBus,
    @Inject(GuidanceConsumer) private readonly guidance: GuidanceConsumer,
    // Optional: the offers part of billing is also hosted alone (guidance only), without the configuration, trades
    // and delivery; it then hears guidance in group `billing` on the contract's topic.
    @Optional() @Inject(BILLING_CONFIG) private readonly config: BillingConfig | null = null,
    @Optional() @Inject(TradesConsumer) private readonly trades: TradesConsumer | null = null,
    @Optional() @Inject(DeliveryConsumers) private readonly delivery: DeliveryConsumers | null = null,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const { topicPrefix: prefix, consumerGroup: group } = this.config ?? billingConfig();
    const handlers = new Map<string, MessageHandler>([
      [`${prefix}${GUIDANCE_TOPIC}`, (m: DeliveredMessage) => this.guidance.onGuidance(m)],
    ]);
    const { trades, delivery } = this;
    if (trades) handlers.set(`${prefix}${TRADES_TOPIC}`, (m: DeliveredMessage) => trades.onTrade(m));
    if (delivery) {
      handlers.set(`${prefix}${ALLOCATIONS_TOPIC}`, (m: DeliveredMessage) => delivery.onAllocation(m));
      handlers.set(`${prefix}${USAGE_TOPIC}`, (m: DeliveredMessage) => delivery.onUsage(m));
    }
    const topics = [...handlers.keys()];
    if (prefix !== '') {
      await this.bus.declareTopics(topics.map((name) => ({ name, partitions: PREFIXED_TOPIC_PARTITIONS })));
    }
    this.consumer = await this.bus.subscribe({ group, topics, handler: topicRouter(group, handlers) });
  }

  /** Leaves the group, committing what was handled. The bus belongs to whoever provided MESSAGE_BUS. */
  async onApplicationShutdown(): Promise<void> {
    const c = this.consumer;
    this.consumer = null;
    await c?.close();
  }
}
