import { type DynamicModule, Module } from '@nestjs/common';
import { KEY_VERIFIER } from '@cx/auth';
import { CLOCK, type Clock } from '@cx/shared-kernel';
import { ApiKeyVerifier } from './application/api-key.verifier';
import type { IdentityFeed } from './infrastructure/identity-integration';

/** The Kafka-fed identity a service host provides (IdentityFeedModule); IdentityModule uses it when present. */
export const IDENTITY_FEED = 'cx.IdentityFeed';

/**
 * Identity for a service running on its own (distributed mode): keys are checked, and accounts read, against the
 * service's own projection of `cx.identity.v1`, never against its store, which holds no identity events. Global,
 * so that the IdentityModule a service imports (matching and billing read accounts in-process) picks the feed up
 * instead of projecting its own store. The host starts the feed before the app and stops it after.
 */
@Module({})
export class IdentityFeedModule {
  static forFeed(feed: IdentityFeed): DynamicModule {
    return {
      module: IdentityFeedModule,
      global: true,
      providers: [
        { provide: IDENTITY_FEED, useValue: feed },
        {
          provide: KEY_VERIFIER,
          useFactory: (clock: Clock) => new ApiKeyVerifier(feed, clock),
          inject: [CLOCK],
        },
      ],
      exports: [IDENTITY_FEED, KEY_VERIFIER],
    };
  }
}
