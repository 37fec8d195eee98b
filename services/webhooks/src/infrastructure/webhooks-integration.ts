// The integration topics the webhooks service hears (their owners declare them), and its consumer group. It
// publishes none: its own events (endpoints, deliveries, alert rules) stay in its own streams.
export const TRADES_TOPIC = 'cx.matching.trades.v1';
export const ALLOCATIONS_TOPIC = 'cx.matching.allocations.v1';
export const ORDERS_TOPIC = 'cx.matching.orders.v1';
export const USAGE_TOPIC = 'cx.metering.usage.v1';
export const GUIDANCE_TOPIC = 'cx.pricing.guidance.v1';
export const INDEX_TOPIC = 'cx.pricing.index.v1';
export const MARKET_STATUS_TOPIC = 'cx.pricing.market-status.v1';
export const PERIODS_TOPIC = 'cx.billing.periods.v1';
export const SETTLEMENTS_TOPIC = 'cx.billing.settlements.v1';
export const STATEMENTS_TOPIC = 'cx.billing.statements.v1';

/** The consumer group the webhooks service reads integration topics in. */
export const WEBHOOKS_GROUP = 'webhooks';

export const webhooksConsumedTopics = [
  TRADES_TOPIC,
  ALLOCATIONS_TOPIC,
  ORDERS_TOPIC,
  USAGE_TOPIC,
  GUIDANCE_TOPIC,
  INDEX_TOPIC,
  MARKET_STATUS_TOPIC,
  PERIODS_TOPIC,
  SETTLEMENTS_TOPIC,
  STATEMENTS_TOPIC,
] as const;
