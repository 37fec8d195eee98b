import { type DynamicModule, Module } from '@nestjs/common';
import { AlertEvaluator } from './application/alert-evaluator';
import { DeliveryWorker } from './application/delivery.worker';
import { WebhooksProjection } from './application/webhooks.projection';
import { WebhooksService } from './application/webhooks.service';
import { WEBHOOKS_CONFIG, type WebhooksConfig, webhooksConfig } from './config';
import { IntegrationConsumers } from './infrastructure/integration.consumers';
import { AlertRulesController, MyAlertsController, WebhooksController } from './interface/webhooks.controllers';

/**
 * Webhooks and participant alerts (issue 11). The host provides EVENT_STORE and CLOCK (globally), the AuthGuard,
 * and MESSAGE_BUS with the topics of `webhooksConsumedTopics` declared. It imports no other service: it hears them
 * through their integration events only, and keeps its own state (endpoints, deliveries, alert rules) in its own
 * `webhook-*` streams. Hosts pass their configuration with `forRoot(config)` (loadWebhooksConfig reads CX_WEBHOOKS_*).
 */
@Module({
  controllers: [WebhooksController, AlertRulesController, MyAlertsController],
  providers: [WebhooksProjection, DeliveryWorker, AlertEvaluator, WebhooksService, IntegrationConsumers],
  exports: [WebhooksService, WEBHOOKS_CONFIG],
})
export class WebhooksModule {
  static forRoot(config: Partial<WebhooksConfig> = {}): DynamicModule {
    return {
      module: WebhooksModule,
      providers: [{ provide: WEBHOOKS_CONFIG, useValue: webhooksConfig(config) }],
    };
  }
}
