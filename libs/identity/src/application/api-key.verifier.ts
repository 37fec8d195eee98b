import type { KeyVerification, KeyVerifier, Role } from '@cx/auth';
import { StoreUnavailable } from '@cx/event-store';
import type { Clock } from '@cx/shared-kernel';
import { keyStatus } from '../domain/api-key/api-key.decider';
import type { KeyRole } from '../domain/api-key/api-key.events';
import { parseKey, secretMatches } from './api-key-secret';
import type { IdentityReadModel } from './identity.read-model';

// The role list lives twice: in identity's domain (which may not import the framework-bearing auth lib) and in
// auth. This stops the build if the two ever differ.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const rolesAgree: Same<KeyRole, Role> = true;
void rolesAgree;

/**
 * Where the verifier reads keys: the store-fed IdentityProjection (embedded mode) or the Kafka-fed
 * IdentityFeed (a service on its own). `failed` is set when it stopped following its source.
 */
export interface IdentitySource {
  readonly model: IdentityReadModel;
  readonly failed: unknown;
}

/** Checks bearer keys against the in-memory projection: no store read per request. */
export class ApiKeyVerifier implements KeyVerifier {
  constructor(
    private readonly projection: IdentitySource,
    private readonly clock: Clock,
  ) {}

  verify(token: string): KeyVerification {
    // A projection that stopped following the store could accept a revoked key; refusing service is safer.
    if (this.projection.failed !== null)
      throw new StoreUnavailable('the identity projection is not following the store', {
        cause: this.projection.failed,
      });
    const parsed = parseKey(token);
    if (parsed === null) return { ok: false, reason: 'unknown' };
    const key = this.projection.model.key(parsed.keyId);
    // The secret is checked before anything about the key is revealed: without it, revoked and unknown look alike.
    if (key === undefined || !secretMatches(parsed.secret, key.secretHash)) return { ok: false, reason: 'unknown' };
    const status = keyStatus(key, this.clock.now());
    if (status !== 'active') return { ok: false, reason: status };
    // A copy: the principal travels through request handlers, and the projection's state must not be reachable from them.
    return { ok: true, principal: { keyId: key.keyId, role: key.role, accounts: [...key.accounts] } };
  }
}
