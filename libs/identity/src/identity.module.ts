import { Module } from '@nestjs/common';
import { KEY_VERIFIER } from '@cx/auth';
import { EVENT_STORE, type EventStore } from '@cx/event-store';
import { CLOCK, type Clock } from '@cx/shared-kernel';
import { ApiKeyVerifier } from './application/api-key.verifier';
import { IdentityProjection } from './application/identity.projection';
import { AccountsController, KeysController, MeController } from './interface/identity.controllers';
import { IdentityService } from './interface/identity.service';

/**
 * Participants, accounts and API keys. The host provides EVENT_STORE and CLOCK (globally, e.g. CoreModule) and
 * registers AuthGuard as APP_GUARD; this module supplies the KEY_VERIFIER that guard uses.
 */
@Module({
  controllers: [MeController, AccountsController, KeysController],
  providers: [
    {
      provide: IdentityProjection,
      useFactory: (store: EventStore) => new IdentityProjection(store),
      inject: [EVENT_STORE],
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
