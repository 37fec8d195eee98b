import type { Provider, Type } from '@nestjs/common';
import { GuidanceView } from '../application/guidance-view';
import { BillingSubscriptions } from '../infrastructure/billing-subscriptions';
import { GuidanceConsumer } from '../infrastructure/guidance.consumer';
import { OffersController } from './offers.controllers';
import { OffersService } from './offers.http.service';

// What the billing module hosts for offers and guidance. They need, from the host or the module: EVENT_STORE and
// CLOCK (global), IdentityProjection (IdentityModule), the AuthGuard, and MESSAGE_BUS with the topic
// `cx.pricing.guidance.v1` declared (GuidanceConsumer hears it in group `billing`, subscribed by
// BillingSubscriptions, which in the billing module also subscribes trades and delivery).

export const OFFERS_PROVIDERS: Provider[] = [GuidanceView, GuidanceConsumer, OffersService, BillingSubscriptions];
export const OFFERS_CONTROLLERS: Type[] = [OffersController];
/** For settlement: the band in force at the time of use (GuidanceView) and the offers (OffersService). */
export const OFFERS_EXPORTS: Type[] = [GuidanceView, OffersService];
