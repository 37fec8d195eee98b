// The events of the webhooks service's own streams. Streams: `webhook-endpoint-<id>` (an endpoint: registration,
// secret rotations, deletion, failing and recovered), `webhook-delivery-<id>` (one event to one endpoint: scheduled,
// each attempt, given up, redelivery asked), `webhook-alert-rule-<id>` (a participant's alert rule: created, each
// firing and re-arming). Every name starts with `webhook-`, so one filter follows them all.

/** The secret as an event keeps it: as is, or sealed (`{ sealed, iv, tag, data }`, base64url parts). */
export type StoredSecret = string | { sealed: 'aes-256-gcm'; iv: string; tag: string; data: string };

export const WEBHOOK_STREAM_PREFIX = 'webhook-';
export const ENDPOINT_STREAM_PREFIX = 'webhook-endpoint-';
export const DELIVERY_STREAM_PREFIX = 'webhook-delivery-';
export const ALERT_RULE_STREAM_PREFIX = 'webhook-alert-rule-';

export const endpointStream = (webhookId: string): string => `${ENDPOINT_STREAM_PREFIX}${webhookId}`;
export const deliveryStream = (deliveryId: string): string => `${DELIVERY_STREAM_PREFIX}${deliveryId}`;
export const alertRuleStream = (ruleId: string): string => `${ALERT_RULE_STREAM_PREFIX}${ruleId}`;

/** The event types a participant may subscribe an endpoint to (issue 11). */
export const webhookEventTypes = [
  'trade.executed',
  'allocation.created',
  'order.cancelled',
  'usage.rejected',
  'statement.issued',
  'period.closed',
  'guidance.changed',
  'market.halted',
  'alert.raised',
] as const;
export type WebhookEventType = (typeof webhookEventTypes)[number];
export const isWebhookEventType = (v: unknown): v is WebhookEventType =>
  typeof v === 'string' && (webhookEventTypes as readonly string[]).includes(v);

export interface WebhookRegistered {
  type: 'WebhookRegistered';
  data: {
    webhookId: string;
    /** The tenant: the accounts whose events the endpoint receives (all acted for by the registering key). */
    accounts: string[];
    url: string;
    eventTypes: WebhookEventType[];
    /**
     * The HMAC key. It must be recoverable to sign, so it is kept here (sealed when a sealing key is configured:
     * infrastructure/secret-box.ts); it is shown once (on register or rotate) and never returned by a read.
     */
    secret: StoredSecret;
    description: string | null;
    registeredAt: string;
  };
}
export interface WebhookSecretRotated {
  type: 'WebhookSecretRotated';
  data: { secret: StoredSecret; rotatedAt: string };
}
export interface WebhookDeleted {
  type: 'WebhookDeleted';
  data: { deletedAt: string };
}
/** Deliveries kept failing past their max age: the endpoint is failing and its owner is alerted (`alertId`). */
export interface WebhookMarkedFailing {
  type: 'WebhookMarkedFailing';
  data: { alertId: string; deliveryId: string; at: string; reason: string };
}
export interface WebhookRecovered {
  type: 'WebhookRecovered';
  data: { deliveryId: string; at: string };
}
export type EndpointEvent =
  WebhookRegistered | WebhookSecretRotated | WebhookDeleted | WebhookMarkedFailing | WebhookRecovered;

export interface DeliveryScheduled {
  type: 'DeliveryScheduled';
  data: {
    deliveryId: string;
    webhookId: string;
    /** The event's id, the same on every attempt and redelivery: the receiver's dedupe key. */
    eventId: string;
    eventType: WebhookEventType;
    /** The exact JSON body every attempt sends. */
    body: string;
    scheduledAt: string;
  };
}
export interface DeliveryAttempted {
  type: 'DeliveryAttempted';
  data: {
    attempt: number;
    at: string;
    /** The receiver's status, or null when no response came (refused, timed out, address refused). */
    statusCode: number | null;
    error: string | null;
    latencyMs: number;
    succeeded: boolean;
    /** When it is tried again; null once it succeeded or gave up. */
    nextAttemptAt: string | null;
  };
}
export interface DeliveryGaveUp {
  type: 'DeliveryGaveUp';
  data: { at: string; attempts: number };
}
export interface DeliveryRedeliveryRequested {
  type: 'DeliveryRedeliveryRequested';
  data: { at: string };
}
export type DeliveryEvent = DeliveryScheduled | DeliveryAttempted | DeliveryGaveUp | DeliveryRedeliveryRequested;
