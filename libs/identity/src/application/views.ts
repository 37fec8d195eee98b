import type { AccountState } from '../domain/account/account.decider';
import { type ApiKeyState, keyStatus } from '../domain/api-key/api-key.decider';

// What clients see. A key's view never carries its secret hash: the hash is for verifying, not for showing.

export interface AccountViewData {
  accountId: string;
  legalName: string;
  kind: string;
  currency: string;
  timezone: string;
  creditLine: string;
  orderLimits: { maxOpenQuantityLots: string | null; maxOpenNotional: string | null };
  feeTier: string;
  openedAt: string;
  updatedAt: string;
}

export interface ApiKeyViewData {
  keyId: string;
  role: string;
  accounts: string[];
  label: string;
  expiresAt: string | null;
  issuedAt: string;
  revokedAt: string | null;
  revokeReason: string | null;
  status: 'active' | 'revoked' | 'expired';
}

export const toAccountView = (a: AccountState): AccountViewData => ({
  accountId: a.accountId,
  legalName: a.legalName,
  kind: a.kind,
  currency: a.currency,
  timezone: a.timezone,
  creditLine: a.creditLine,
  orderLimits: {
    maxOpenQuantityLots: a.orderLimits.maxOpenQuantityLots,
    maxOpenNotional: a.orderLimits.maxOpenNotional,
  },
  feeTier: a.feeTier,
  openedAt: a.openedAt,
  updatedAt: a.updatedAt,
});

export const toApiKeyView = (k: ApiKeyState, now: Date): ApiKeyViewData => ({
  keyId: k.keyId,
  role: k.role,
  accounts: [...k.accounts],
  label: k.label,
  expiresAt: k.expiresAt,
  issuedAt: k.issuedAt,
  revokedAt: k.revokedAt,
  revokeReason: k.revokeReason,
  status: keyStatus(k, now),
});
