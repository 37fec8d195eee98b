export * from './webhooks.module';
export * from './config';
export * from './infrastructure/webhooks-integration';
export { verifySignature, signatureHeader, SIGNATURE_HEADER } from './domain/delivery/signature';
export { webhookEventTypes, type WebhookEventType } from './domain/endpoint/webhook.events';
export { WebhooksService } from './application/webhooks.service';
