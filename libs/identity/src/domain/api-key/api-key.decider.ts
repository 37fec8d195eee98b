import { assert, assertNever, DomainError, isSafeId } from '@cx/shared-kernel';
import { parseInstant, refuse, textField } from '../validation';
import { accountScopedKeyRoles, type ApiKeyEvent, type KeyRole, keyRoles } from './api-key.events';

// The API key aggregate: issued once with one role (and, for tenant roles, its accounts), then at most revoked.
// Keys are never edited: a different role or account list is a new key, so what a key could do is fixed forever.

export interface ApiKeyState {
  keyId: string;
  role: KeyRole;
  accounts: string[];
  expiresAt: string | null;
  label: string;
  secretHash: string;
  issuedAt: string;
  revokedAt: string | null;
  revokeReason: string | null;
}

export type ApiKey = ApiKeyState | null;
export const noApiKey: ApiKey = null;

export const MAX_ACCOUNTS_PER_KEY = 100;

export interface IssueApiKey {
  type: 'IssueApiKey';
  data: {
    keyId: string;
    role: string;
    accounts: readonly string[];
    /** ISO 8601 instant with an offset, or null for a key that does not expire. */
    expiresAt: string | null;
    label: string;
    secretHash: string;
    /**
     * Which of `accounts` exist, as the handler found them in the store. The decider cannot read the store,
     * so the handler looks and the decider judges.
     */
    existingAccounts: readonly string[];
  };
  metadata: { now: Date };
}

export interface RevokeApiKey {
  type: 'RevokeApiKey';
  data: { keyId: string; reason: string };
  metadata: { now: Date };
}

export type ApiKeyCommand = IssueApiKey | RevokeApiKey;

const SHA256_HEX_RE = /^[0-9a-f]{64}$/;

// Order: role, account ids, duplicates, whether the role takes accounts, expiry, label; then the store's
// answer (unknown accounts) and the key's own state. Shape errors are the caller's to fix first.
const decideIssue = (cmd: IssueApiKey, state: ApiKey): ApiKeyEvent[] => {
  const d = cmd.data;
  // Key ids and hashes are made by the handler, not by the caller: a bad one is a bug, not a refusal.
  assert(isSafeId(d.keyId) && !d.keyId.includes('_'), `key id ${d.keyId} cannot be embedded in a key string`);
  assert(SHA256_HEX_RE.test(d.secretHash), 'secretHash must be a lower-case sha256 hex digest');

  if (typeof d.role !== 'string' || !(keyRoles as readonly string[]).includes(d.role)) {
    throw refuse('IDENTITY.INVALID_ROLE', `role must be one of ${keyRoles.join(', ')}`, 'role');
  }
  const role = d.role as KeyRole;
  if (!Array.isArray(d.accounts) || d.accounts.length > MAX_ACCOUNTS_PER_KEY || !d.accounts.every(isSafeId)) {
    throw refuse(
      'IDENTITY.INVALID_ACCOUNT_ID',
      `accounts must be at most ${MAX_ACCOUNTS_PER_KEY} account ids`,
      'accounts',
    );
  }
  if (new Set(d.accounts).size !== d.accounts.length) {
    throw refuse('IDENTITY.DUPLICATE_ACCOUNT', 'accounts lists an account twice', 'accounts');
  }
  if (accountScopedKeyRoles.includes(role) && d.accounts.length === 0) {
    throw refuse('IDENTITY.ACCOUNTS_REQUIRED', `a ${role} key must name at least one account`, 'accounts');
  }
  if (!accountScopedKeyRoles.includes(role) && d.accounts.length > 0) {
    throw refuse('IDENTITY.ACCOUNTS_NOT_ALLOWED', `a ${role} key is exchange-wide and names no accounts`, 'accounts');
  }
  let expiresAt: string | null = null;
  if (d.expiresAt !== null) {
    const at = parseInstant(d.expiresAt);
    if (at === null)
      throw refuse('IDENTITY.INVALID_EXPIRY', 'expiresAt must be an ISO 8601 instant with an offset', 'expiresAt');
    if (at.getTime() <= cmd.metadata.now.getTime()) {
      throw refuse('IDENTITY.EXPIRY_NOT_IN_FUTURE', 'expiresAt must be in the future', 'expiresAt');
    }
    expiresAt = at.toISOString();
  }
  const label = textField(d.label, 'IDENTITY.INVALID_LABEL', 'label', { min: 0, max: 200 });
  const unknown = d.accounts.filter((a) => !d.existingAccounts.includes(a));
  if (unknown.length > 0) {
    throw new DomainError('IDENTITY.UNKNOWN_ACCOUNT', `no such account: ${unknown.join(', ')}`, 'unprocessable', [
      { field: 'accounts', code: 'IDENTITY.UNKNOWN_ACCOUNT' },
    ]);
  }
  if (state !== null) throw DomainError.conflict('IDENTITY.KEY_EXISTS', `key ${d.keyId} already exists`, 'keyId');
  return [
    {
      type: 'ApiKeyIssued',
      data: {
        keyId: d.keyId,
        role,
        accounts: [...d.accounts],
        expiresAt,
        label,
        secretHash: d.secretHash,
        issuedAt: cmd.metadata.now.toISOString(),
      },
    },
  ];
};

const decideRevoke = (cmd: RevokeApiKey, state: ApiKey): ApiKeyEvent[] => {
  const reason = textField(cmd.data.reason, 'IDENTITY.INVALID_REASON', 'reason', { min: 0, max: 500 });
  if (state === null) throw DomainError.notFound('IDENTITY.KEY_NOT_FOUND', `key ${cmd.data.keyId} not found`);
  if (state.revokedAt !== null) {
    throw DomainError.conflict(
      'IDENTITY.KEY_ALREADY_REVOKED',
      `key ${cmd.data.keyId} was revoked at ${state.revokedAt}`,
    );
  }
  return [
    { type: 'ApiKeyRevoked', data: { keyId: cmd.data.keyId, reason, revokedAt: cmd.metadata.now.toISOString() } },
  ];
};

export const decide = (cmd: ApiKeyCommand, state: ApiKey): ApiKeyEvent[] => {
  switch (cmd.type) {
    case 'IssueApiKey':
      return decideIssue(cmd, state);
    case 'RevokeApiKey':
      return decideRevoke(cmd, state);
    default:
      return assertNever(cmd);
  }
};

export const evolve = (state: ApiKey, e: ApiKeyEvent): ApiKey => {
  switch (e.type) {
    case 'ApiKeyIssued':
      return { ...e.data, accounts: [...e.data.accounts], revokedAt: null, revokeReason: null };
    case 'ApiKeyRevoked':
      assert(state !== null, `ApiKeyRevoked before ApiKeyIssued for ${e.data.keyId}`);
      return { ...state, revokedAt: e.data.revokedAt, revokeReason: e.data.reason };
    default:
      return assertNever(e);
  }
};

/** Whether the key authenticates at `now`: issued, not revoked, and not past its expiry (which is exclusive). */
export const keyStatus = (key: ApiKeyState, now: Date): 'active' | 'revoked' | 'expired' => {
  if (key.revokedAt !== null) return 'revoked';
  if (key.expiresAt !== null && Date.parse(key.expiresAt) <= now.getTime()) return 'expired';
  return 'active';
};
