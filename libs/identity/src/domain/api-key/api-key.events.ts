// API keys. The events hold the sha256 of the secret, never the secret or the key string: the key is shown to
// its owner once, when issued, and cannot be recovered from the store.

export const keyRoles = ['admin', 'regulator', 'trader', 'integrator', 'finance', 'auditor'] as const;
export type KeyRole = (typeof keyRoles)[number];

/** Roles whose keys must name the accounts they act for; the others are exchange-wide and name none. */
export const accountScopedKeyRoles: readonly KeyRole[] = ['trader', 'integrator', 'finance'];

export interface ApiKeyIssued {
  type: 'ApiKeyIssued';
  data: {
    keyId: string;
    role: KeyRole;
    accounts: string[];
    expiresAt: string | null;
    label: string;
    /** Lower-case hex sha256 of the secret part of the key. */
    secretHash: string;
    issuedAt: string;
  };
}

export interface ApiKeyRevoked {
  type: 'ApiKeyRevoked';
  data: { keyId: string; reason: string; revokedAt: string };
}

export type ApiKeyEvent = ApiKeyIssued | ApiKeyRevoked;

export const apiKeyStream = (keyId: string): string => `apikey-${keyId}`;

/**
 * A well-known stream that exactly one process can create (append with expected revision `no_stream`): the
 * winner issues the first admin key, so two processes starting on an empty store never both print one.
 */
export const BOOTSTRAP_ADMIN_STREAM = 'bootstrap-admin';

export interface AdminKeyBootstrapped {
  type: 'AdminKeyBootstrapped';
  data: { keyId: string; at: string };
}
