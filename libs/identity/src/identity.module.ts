import { Module } from '@nestjs/common';
import { KEY_VERIFIER } from '@cx/auth';
import { EVENT_STORE, type EventStore } from '@cx/event-store';
import { CLOCK, type Clock } from '@cx/shared-kernel';
import { ApiKeyVerifier } from './application/api-key.verifier';
import { IdentityProjection } from './application/identity.projection';
import { IDENTITY_FEED } from './identity-feed.module';
import type { IdentityFeed } from './infrastructure/identity-integration';
import { AccountsController, KeysController, MeController } from './interface/identity.controllers';
import { IdentityService } from './interface/identity.service';

// Stops the build if the feed ever lacks part of the projection's public surface, which the cast below relies on.
type ProjectionSurface = Pick<IdentityProjection, 'model' | 'failed' | 'ready' | 'caughtUpTo' | 'stop'>;
const feedIsAProjection = (feed: IdentityFeed): ProjectionSurface => feed;
void feedIsAProjection;

/**
 * Participants, accounts and API keys. The host provides EVENT_STORE and CLOCK (globally, e.g. CoreModule) and
 * registers AuthGuard as APP_GUARD; this module supplies the KEY_VERIFIER that guard uses.
 *
 * In a service process (distributed mode) the host provides a Kafka-fed IdentityFeed (IdentityFeedModule): the
 * projection and the verifier are then that feed, because the service's own store holds no identity events.
 * The service host also keeps the write routes unreachable: identity is written at the gateway only.
 */
@Module({
  controllers: [MeController, AccountsController, KeysController],
  providers: [
    {
      provide: IdentityProjection,
      // The feed offers the projection's whole public surface (model, failed, ready, caughtUpTo, stop); the cast
      // is needed only because the projection class has private members, which make TypeScript compare nominally.
      useFactory: (store: EventStore, feed: IdentityFeed | undefined) =>
        feed !== undefined ? (feed as unknown as IdentityProjection) : new IdentityProjection(store),
      inject: [EVENT_STORE, { token: IDENTITY_FEED, optional: true }],
    },
    {
      provide: KEY_VERIFIER,
      useFactory: (projection: IdentityProjection, clock: Clock) => new ApiKeyVerifier(projection, clock),
      inject: [IdentityProjection, CLOCK],
    },
    IdentityService,
  ],
  exports: [IdentityService, KEY_VERIFIER, IdentityProjection],
})
export class IdentityModule {}
