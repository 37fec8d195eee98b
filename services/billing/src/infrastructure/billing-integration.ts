// Billing's integration topics. It consumes the tape to place holds; the host declares the topic.
export const TRADES_TOPIC = 'cx.matching.trades.v1';
/** The consumer group billing reads integration topics in. */
export const BILLING_GROUP = 'billing';
