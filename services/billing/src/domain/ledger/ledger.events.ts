import type { Currency } from '@cx/shared-kernel';

// The settlement ledger's events and names. One ledger per currency lives in the stream `ledger-<currency>`;
// every money movement is a transfer between two of its accounts, debiting one and crediting the other by the
// same amount, so the sum of all balances is zero by construction (TigerBeetle's model).
//
// Amounts in events are canonical decimal strings with exactly the currency's minor digits ("12.30" CNY), the
// currency beside them on the event; the ledger computes in integer minor units (bigint) internally.

/** Kinds of account every participant account has in the ledger. */
export const participantAccountKinds = ['cash', 'payable', 'receivable', 'held'] as const;
export type ParticipantAccountKind = (typeof participantAccountKinds)[number];

/** The exchange's own accounts. */
export const exchangeAccountKinds = ['fees', 'clearing'] as const;
export type ExchangeAccountKind = (typeof exchangeAccountKinds)[number];

/** Where deposits come from and withdrawals go: money outside the exchange, `world:<currency>`. */
export const worldAccount = (currency: Currency): string => `world:${currency}`;
export const exchangeAccount = (kind: ExchangeAccountKind): string => `exchange:${kind}`;
export const participantAccount = (participantAccountId: string, kind: ParticipantAccountKind): string =>
  `${participantAccountId}:${kind}`;

export const ledgerStream = (currency: Currency): string => `ledger-${currency}`;

const DAY_RE = /^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$/;
/** Whether `period` is a real UTC day `YYYY-MM-DD` (2026-02-30 is not). */
export const isDay = (period: unknown): period is string =>
  typeof period === 'string' && DAY_RE.test(period) && new Date(`${period}T00:00:00Z`).toISOString().startsWith(period);

/** The day a statement books a transfer in: the one it names, else the UTC day of its batch's time. */
export const bookingDay = (t: TransferRecord, batchAt: string): string => t.period ?? batchAt.slice(0, 10);

/**
 * single: posts at once. pending: reserves the amount (a hold) until posted, voided or expired. post: posts up to
 * the pending amount and releases the rest. void: releases the whole pending amount.
 */
export const transferPhases = ['single', 'pending', 'post', 'void'] as const;
export type TransferPhase = (typeof transferPhases)[number];

/** A transfer as recorded. For post and void the accounts are the pending transfer's, filled in by the ledger. */
export interface TransferRecord {
  id: string;
  debitAccount: string;
  creditAccount: string;
  /** Canonical decimal string. For a post the amount posted; for a void the amount released. */
  amount: string;
  /** Absent for single-phase transfers, which keeps the common event small. */
  phase?: Exclude<TransferPhase, 'single'>;
  /** The pending transfer a post or void resolves. */
  pendingId?: string;
  /** A pending transfer expires this long after its batch's `at`; absent: never. */
  timeoutMs?: number;
  /** Linked to the next transfer of its request: the chain succeeded together. */
  linked?: true;
  /** Why the money moved, e.g. `deposit`, `hold`, `settlement`, `fee` (TigerBeetle's `code`). */
  code?: string;
  /** What it belongs to, e.g. a trade or allocation id (TigerBeetle's `user_data`). */
  ref?: string;
  /**
   * The UTC day (`YYYY-MM-DD`) a statement books it in. Settlement names the period it settles; a transfer
   * without one is booked in the day of its batch's `at` (see bookingDay).
   */
  period?: string;
}

/** One decided batch: every transfer in it succeeded; failures are answered to the caller and not recorded. */
export interface TransfersCommitted {
  type: 'TransfersCommitted';
  data: { currency: Currency; at: string; transfers: TransferRecord[] };
}

/** Pending transfers whose timeout passed; their amounts are released. Recorded before the batch that saw it. */
export interface PendingTransfersExpired {
  type: 'PendingTransfersExpired';
  data: { currency: Currency; at: string; ids: string[] };
}

/** The participant account's credit line (from identity), which also makes its ledger accounts exist. */
export interface CreditLineSet {
  type: 'CreditLineSet';
  data: { currency: Currency; participantAccountId: string; creditLine: string; at: string };
}

export type LedgerEvent = TransfersCommitted | PendingTransfersExpired | CreditLineSet;

export const ledgerEventTypes: readonly LedgerEvent['type'][] = [
  'TransfersCommitted',
  'PendingTransfersExpired',
  'CreditLineSet',
];
export const isLedgerEvent = (type: string): boolean => (ledgerEventTypes as readonly string[]).includes(type);

/**
 * Per-transfer outcomes, after TigerBeetle's create_transfers results. Stable: a code is never reused for another
 * meaning. Listed roughly in the order they are checked.
 */
export const transferResults = [
  'ok',
  'linked_event_failed',
  'linked_event_chain_open',
  'id_invalid',
  'exists',
  'exists_with_different_fields',
  'phase_invalid',
  'code_invalid',
  'ref_invalid',
  'debit_account_invalid',
  'credit_account_invalid',
  'accounts_must_be_different',
  'currency_mismatch',
  'amount_invalid',
  'amount_has_too_many_decimals',
  'amount_must_not_be_zero',
  'pending_id_must_be_absent',
  'pending_id_required',
  'pending_id_must_be_different',
  'timeout_reserved_for_pending_transfer',
  'timeout_invalid',
  'debit_account_not_found',
  'credit_account_not_found',
  'pending_transfer_not_found',
  'pending_transfer_not_pending',
  'pending_transfer_has_different_debit_account',
  'pending_transfer_has_different_credit_account',
  'pending_transfer_has_different_amount',
  'exceeds_pending_transfer_amount',
  'pending_transfer_already_posted',
  'pending_transfer_already_voided',
  'pending_transfer_expired',
  'exceeds_credits',
  'exceeds_debits',
  'period_invalid',
] as const;
export type TransferResultCode = (typeof transferResults)[number];

export interface TransferResult {
  id: string;
  result: TransferResultCode;
}
