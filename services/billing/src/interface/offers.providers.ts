import type { Provider, Type } from '@nestjs/common';
import { GuidanceView } from '../application/guidance-view';
import { GuidanceConsumer } from '../infrastructure/guidance.consumer';
import { OffersController } from './offers.controllers';
import { OffersService } from './offers.http.service';

// What the billing module hosts for offers and guidance. They need, from the host or the module: EVENT_STORE and
// CLOCK (global), IdentityProjection (IdentityModule), the AuthGuard, and MESSAGE_BUS with the topic
// `cx.pricing.guidance.v1` declared (GuidanceConsumer hears it in group `billing`).

export const OFFERS_PROVIDERS: Provider[] = [GuidanceView, GuidanceConsumer, OffersService];
export const OFFERS_CONTROLLERS: Type[] = [OffersController];
/** For settlement: the band in force at the time of use (GuidanceView) and the offers (OffersService). */
export const OFFERS_EXPORTS: Type[] = [GuidanceView, OffersService];
