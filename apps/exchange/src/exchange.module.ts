import { DynamicModule, Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { type AuditCheckpointer, AuditModule, type SigningKey } from '@cx/audit';
import { AuthGuard } from '@cx/auth';
import { IdentityModule } from '@cx/identity';
import { CoreModule } from '@cx/platform';
import { type BillingConfig, BillingModule } from '@cx/billing';
import { type MatchingConfig, MatchingModule } from '@cx/matching';
import { type MeteringConfig, MeteringModule } from '@cx/metering';
import { type PricingGuidanceConfig, PricingGuidanceModule } from '@cx/pricing-guidance';
import { type WebhooksConfig, WebhooksModule } from '@cx/webhooks';
import type { Clock } from '@cx/shared-kernel';
import type { EventStore } from '@cx/event-store';
import type { CxConfig } from '@cx/platform';
import { type MessageBus, MessagingModule } from '@cx/messaging';
import { EMBEDDED_ROUTES, EmbeddedRelay, integrationRoutes } from './embedded-messaging';

/**
 * Embedded mode: one process hosts identity and all the services (webhooks included) over one store and an
 * in-process bus, with a relay publishing the store's integration events to it. Without a `webhooks`
 * configuration the webhooks module runs with the defaults (public https destinations only).
 */
@Module({})
export class ExchangeModule {
  static forRoot(deps: {
    config: CxConfig;
    store: EventStore;
    clock: Clock;
    guidance: PricingGuidanceConfig;
    matching: MatchingConfig;
    metering: MeteringConfig;
    billing: BillingConfig;
    webhooks?: Partial<WebhooksConfig>;
    bus: MessageBus;
    audit: { key: SigningKey; checkpointer: AuditCheckpointer };
  }): DynamicModule {
    return {
      module: ExchangeModule,
      imports: [
        CoreModule.forRoot(deps),
        MessagingModule.forBus(deps.bus),
        AuditModule.forRoot(deps.audit),
        IdentityModule,
        PricingGuidanceModule.forRoot(deps.guidance),
        MatchingModule.forRoot(deps.matching),
        MeteringModule.forRoot(deps.metering),
        BillingModule.forRoot(deps.billing),
        WebhooksModule.forRoot(deps.webhooks ?? {}),
      ],
      providers: [
        { provide: APP_GUARD, useClass: AuthGuard },
        { provide: EMBEDDED_ROUTES, useValue: integrationRoutes(deps.matching) },
        EmbeddedRelay,
      ],
    };
  }
}
