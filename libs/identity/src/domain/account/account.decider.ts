import { assert, assertNever, type Currency, DomainError, isCurrency, isSafeId } from '@cx/shared-kernel';
import { canonicalTimezone, decimalField, moneyField, refuse, textField } from '../validation';
import {
  type AccountChanges,
  type AccountEvent,
  type AccountKind,
  accountKinds,
  type AccountProfile,
  type OrderLimits,
} from './account.events';

// The account aggregate: who a participant is and the limits the exchange holds it to. Admin opens and
// amends accounts; every change is an event so that statements and audits can say what applied when.

export interface AccountState extends AccountProfile {
  accountId: string;
  openedAt: string;
  updatedAt: string;
}

export type Account = AccountState | null;
export const noAccount: Account = null;

export const DEFAULT_CURRENCY: Currency = 'CNY';
export const DEFAULT_TIMEZONE = 'UTC';
export const DEFAULT_CREDIT_LINE = '0';
export const DEFAULT_FEE_TIER = 'standard';

export interface OrderLimitsInput {
  maxOpenQuantityLots?: string | null;
  maxOpenNotional?: string | null;
}

export interface OpenAccount {
  type: 'OpenAccount';
  data: {
    accountId: string;
    legalName: string;
    kind: string;
    currency?: string;
    timezone?: string;
    creditLine?: string;
    orderLimits?: OrderLimitsInput;
    feeTier?: string;
  };
  metadata: { now: Date };
}

export interface AmendAccount {
  type: 'AmendAccount';
  data: {
    accountId: string;
    legalName?: string;
    kind?: string;
    timezone?: string;
    creditLine?: string;
    orderLimits?: OrderLimitsInput;
    feeTier?: string;
  };
  metadata: { now: Date };
}

export type AccountCommand = OpenAccount | AmendAccount;

const FEE_TIER_RE = /^[a-z0-9][a-z0-9_.-]{0,63}$/;

const legalNameOf = (v: unknown): string =>
  textField(v, 'IDENTITY.INVALID_LEGAL_NAME', 'legalName', { min: 1, max: 200 });

const kindOf = (v: unknown): AccountKind => {
  if (typeof v !== 'string' || !(accountKinds as readonly string[]).includes(v)) {
    throw refuse('IDENTITY.INVALID_KIND', `kind must be one of ${accountKinds.join(', ')}`, 'kind');
  }
  return v as AccountKind;
};

const currencyOf = (v: unknown): Currency => {
  if (!isCurrency(v))
    throw refuse('IDENTITY.INVALID_CURRENCY', `currency is not one the exchange settles in`, 'currency');
  return v;
};

const timezoneOf = (v: unknown): string => {
  const tz = canonicalTimezone(v);
  if (tz === null)
    throw refuse('IDENTITY.INVALID_TIMEZONE', 'timezone must be an IANA timezone name, e.g. Asia/Shanghai', 'timezone');
  return tz;
};

// A credit line is money in the account's currency: never negative, never finer than its minor unit.
const creditLineOf = (v: unknown, currency: Currency): string =>
  moneyField(v, 'IDENTITY.INVALID_CREDIT_LINE', currency, { field: 'creditLine', nonNegative: true });

// Lots are whole; a limit of zero would forbid trading altogether, which is a suspension, not a limit.
const maxLotsOf = (v: string | null): string | null =>
  v === null
    ? null
    : decimalField(v, 'IDENTITY.INVALID_ORDER_LIMIT', {
        field: 'orderLimits.maxOpenQuantityLots',
        positive: true,
        maxDecimals: 0,
      });

const maxNotionalOf = (v: string | null, currency: Currency): string | null =>
  v === null
    ? null
    : moneyField(v, 'IDENTITY.INVALID_ORDER_LIMIT', currency, { field: 'orderLimits.maxOpenNotional', positive: true });

const feeTierOf = (v: unknown): string => {
  if (typeof v !== 'string' || !FEE_TIER_RE.test(v)) {
    throw refuse('IDENTITY.INVALID_FEE_TIER', 'feeTier must be a lower-case tier id, e.g. standard', 'feeTier');
  }
  return v;
};

const notFound = (accountId: string): DomainError =>
  DomainError.notFound('IDENTITY.ACCOUNT_NOT_FOUND', `account ${accountId} not found`);

// Validation runs in field order (id, legal name, kind, currency, timezone, credit line, limits, fee tier), so
// the first field at fault is the one reported; state is judged only once the request itself is sound.
const decideOpen = (cmd: OpenAccount, state: Account): AccountEvent[] => {
  const d = cmd.data;
  if (!isSafeId(d.accountId))
    throw refuse(
      'IDENTITY.INVALID_ACCOUNT_ID',
      'accountId must be 1-128 characters of A-Z a-z 0-9 _ . : -',
      'accountId',
    );
  const legalName = legalNameOf(d.legalName);
  const kind = kindOf(d.kind);
  const currency = currencyOf(d.currency ?? DEFAULT_CURRENCY);
  const timezone = timezoneOf(d.timezone ?? DEFAULT_TIMEZONE);
  const creditLine = creditLineOf(d.creditLine ?? DEFAULT_CREDIT_LINE, currency);
  const orderLimits: OrderLimits = {
    maxOpenQuantityLots: maxLotsOf(d.orderLimits?.maxOpenQuantityLots ?? null),
    maxOpenNotional: maxNotionalOf(d.orderLimits?.maxOpenNotional ?? null, currency),
  };
  const feeTier = feeTierOf(d.feeTier ?? DEFAULT_FEE_TIER);
  if (state !== null)
    throw DomainError.conflict('IDENTITY.ACCOUNT_EXISTS', `account ${d.accountId} already exists`, 'accountId');
  return [
    {
      type: 'AccountOpened',
      data: {
        accountId: d.accountId,
        legalName,
        kind,
        currency,
        timezone,
        creditLine,
        orderLimits,
        feeTier,
        openedAt: cmd.metadata.now.toISOString(),
      },
    },
  ];
};

const hasAnyChange = (d: AmendAccount['data']): boolean =>
  d.legalName !== undefined ||
  d.kind !== undefined ||
  d.timezone !== undefined ||
  d.creditLine !== undefined ||
  d.feeTier !== undefined ||
  (d.orderLimits !== undefined &&
    (d.orderLimits.maxOpenQuantityLots !== undefined || d.orderLimits.maxOpenNotional !== undefined));

// The account must exist first (its currency decides how fine a credit line may be); then the fields are
// judged in the same order as when opening. Setting a field to its current value is no change, so a repeated
// amendment appends nothing.
const decideAmend = (cmd: AmendAccount, state: Account): AccountEvent[] => {
  const d = cmd.data;
  if (state === null) throw notFound(d.accountId);
  if (!hasAnyChange(d)) throw refuse('IDENTITY.EMPTY_AMENDMENT', 'name at least one field to change', 'body');
  const changes: AccountChanges = {};
  if (d.legalName !== undefined) {
    const v = legalNameOf(d.legalName);
    if (v !== state.legalName) changes.legalName = v;
  }
  if (d.kind !== undefined) {
    const v = kindOf(d.kind);
    if (v !== state.kind) changes.kind = v;
  }
  if (d.timezone !== undefined) {
    const v = timezoneOf(d.timezone);
    if (v !== state.timezone) changes.timezone = v;
  }
  if (d.creditLine !== undefined) {
    const v = creditLineOf(d.creditLine, state.currency);
    if (v !== state.creditLine) changes.creditLine = v;
  }
  const limits: Partial<OrderLimits> = {};
  if (d.orderLimits?.maxOpenQuantityLots !== undefined) {
    const v = maxLotsOf(d.orderLimits.maxOpenQuantityLots);
    if (v !== state.orderLimits.maxOpenQuantityLots) limits.maxOpenQuantityLots = v;
  }
  if (d.orderLimits?.maxOpenNotional !== undefined) {
    const v = maxNotionalOf(d.orderLimits.maxOpenNotional, state.currency);
    if (v !== state.orderLimits.maxOpenNotional) limits.maxOpenNotional = v;
  }
  if (Object.keys(limits).length > 0) changes.orderLimits = limits;
  if (d.feeTier !== undefined) {
    const v = feeTierOf(d.feeTier);
    if (v !== state.feeTier) changes.feeTier = v;
  }
  if (Object.keys(changes).length === 0) return [];
  return [
    { type: 'AccountAmended', data: { accountId: d.accountId, changes, amendedAt: cmd.metadata.now.toISOString() } },
  ];
};

export const decide = (cmd: AccountCommand, state: Account): AccountEvent[] => {
  switch (cmd.type) {
    case 'OpenAccount':
      return decideOpen(cmd, state);
    case 'AmendAccount':
      return decideAmend(cmd, state);
    default:
      return assertNever(cmd);
  }
};

/** Applies an amendment's changes; shared with the read model so both agree on what an amendment means. */
export const applyChanges = <S extends AccountProfile>(state: S, changes: AccountChanges): S => {
  const { orderLimits, ...rest } = changes;
  return { ...state, ...rest, orderLimits: { ...state.orderLimits, ...(orderLimits ?? {}) } };
};

export const evolve = (state: Account, e: AccountEvent): Account => {
  switch (e.type) {
    case 'AccountOpened': {
      const { openedAt, ...profile } = e.data;
      return { ...profile, openedAt, updatedAt: openedAt };
    }
    case 'AccountAmended':
      // An amendment of an account that was never opened cannot come from this decider: the stream is corrupt.
      assert(state !== null, `AccountAmended before AccountOpened for ${e.data.accountId}`);
      return { ...applyChanges(state, e.data.changes), updatedAt: e.data.amendedAt };
    default:
      return assertNever(e);
  }
};
