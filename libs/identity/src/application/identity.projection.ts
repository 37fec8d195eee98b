import { CatchUpProjection, type EventStore } from '@cx/event-store';
import { IDENTITY_STREAM_PREFIXES, IdentityReadModel } from './identity.read-model';

/**
 * The identity read model kept current from the account and key streams. Writers wait for `caughtUpTo` their
 * own write before answering, which is what makes a revocation effective at once.
 */
export class IdentityProjection extends CatchUpProjection<IdentityReadModel> {
  constructor(store: EventStore) {
    super(store, new IdentityReadModel(), { name: 'identity', streamNamePrefixes: IDENTITY_STREAM_PREFIXES });
  }
}
