import type { Currency } from '@cx/shared-kernel';

export const accountKinds = ['provider', 'buyer', 'both'] as const;
export type AccountKind = (typeof accountKinds)[number];

export interface OrderLimits {
  /** Most lots the account may have resting across all books; null: no limit configured. */
  maxOpenQuantityLots: string | null;
  /** Most notional (price × quantity, in the account's currency) it may have resting; null: no limit. */
  maxOpenNotional: string | null;
}

/** Everything an account is, as decimal strings and canonical names (the wire and the event are the same). */
export interface AccountProfile {
  legalName: string;
  kind: AccountKind;
  currency: Currency;
  /** IANA name, canonicalised by Intl. Presentation only: periods stay UTC. */
  timezone: string;
  creditLine: string;
  orderLimits: OrderLimits;
  feeTier: string;
}

export interface AccountOpened {
  type: 'AccountOpened';
  data: AccountProfile & { accountId: string; openedAt: string };
}

/** Only the fields that changed are present, so a consumer can tell what an amendment was about. */
export type AccountChanges = Partial<Omit<AccountProfile, 'currency' | 'orderLimits'>> & {
  orderLimits?: Partial<OrderLimits>;
};

export interface AccountAmended {
  type: 'AccountAmended';
  data: { accountId: string; changes: AccountChanges; amendedAt: string };
}

export type AccountEvent = AccountOpened | AccountAmended;

export const accountStream = (accountId: string): string => `account-${accountId}`;
