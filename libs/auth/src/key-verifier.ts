import type { Principal } from './principal';

// The guard does not know how keys are stored: identity provides the implementation under KEY_VERIFIER.

export type KeyVerification =
  | { ok: true; principal: Principal }
  /** `unknown` covers a malformed token, an unknown key id and a wrong secret alike, so callers learn nothing. */
  | { ok: false; reason: 'unknown' | 'revoked' | 'expired' };

export interface KeyVerifier {
  verify(token: string): KeyVerification | Promise<KeyVerification>;
}

export const KEY_VERIFIER = 'cx.KeyVerifier';
