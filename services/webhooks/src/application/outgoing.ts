import type { WebhookEventType } from '../domain/endpoint/webhook.events';

/**
 * An event to deliver, as the consumers map it from an integration event: to named accounts (each with the data
 * that account may see), or to every subscribed endpoint for market-wide events.
 */
export interface Outgoing {
  eventId: string;
  type: WebhookEventType;
  occurredAt: Date;
  audience:
    { kind: 'accounts'; recipients: { accountId: string; data: unknown }[] } | { kind: 'market'; data: unknown };
}
