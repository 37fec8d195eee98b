import { assertNever, type Currency, Dec, DomainError, isSafeId, parseDecimal } from '@cx/shared-kernel';
import { participantAccount, exchangeAccount } from '../ledger/ledger.events';

// Corrections after a statement is issued (issue: "Periods"). A closed statement is never edited: a credit or
// debit note is a new document that references it, and its money moves in the ledger now, booked in the open
// period, where the next statement shows it. A dispute is a party's claim that a delivered quantity is wrong; an
// admin resolves it, and a resolution in the buyer's favour issues a credit note from the provider to the buyer.
//
// Both are cold aggregates: `billing-note-<id>` and `dispute-<id>`, loaded, decided and appended at the revision
// read, so a retried request with the same id and body changes nothing and another body is refused.

export const NOTE_STREAM_PREFIX = 'billing-note-';
export const noteStream = (noteId: string): string => `${NOTE_STREAM_PREFIX}${noteId}`;
export const DISPUTE_STREAM_PREFIX = 'dispute-';
export const disputeStream = (disputeId: string): string => `${DISPUTE_STREAM_PREFIX}${disputeId}`;

export type NoteKind = 'credit' | 'debit';

export interface NoteTerms {
  noteId: string;
  kind: NoteKind;
  account: string;
  /** The statement it corrects: its id, account and period. */
  statementId: string;
  period: string;
  amount: string;
  currency: Currency;
  reason: string;
  /** Who pays a credit note (receives a debit note): another participant, or the exchange's clearing account. */
  counterparty: string | null;
  /** The dispute it resolves, if any. */
  disputeId: string | null;
  issuedAt: string;
}

export interface NoteIssued {
  type: 'NoteIssued';
  data: NoteTerms & { transferId: string; debitAccount: string; creditAccount: string };
}

export type NoteEvent = NoteIssued;

/** A note's transfer: a credit note moves money to the account, a debit note from it. */
export const noteTransfer = (t: NoteTerms) => {
  const own = participantAccount(t.account, 'cash');
  const other = t.counterparty === null ? exchangeAccount('clearing') : participantAccount(t.counterparty, 'cash');
  const [debitAccount, creditAccount] = t.kind === 'credit' ? [other, own] : [own, other];
  return { transferId: `note:${t.noteId}`, debitAccount, creditAccount };
};

/** Issues a note once; the same id with the same terms again is a no-op, with other terms a conflict. */
export const decideNote = (existing: NoteIssued['data'] | null, t: NoteTerms): NoteEvent[] => {
  if (!isSafeId(t.noteId)) throw DomainError.invalid('BILLING.NOTE_ID_INVALID', 'noteId is not a valid id', 'noteId');
  parseDecimal(t.amount, { field: 'amount', positive: true, service: 'BILLING' });
  if (t.reason.trim() === '') throw DomainError.invalid('BILLING.REASON_REQUIRED', 'a note needs a reason', 'reason');
  if (t.counterparty === t.account) {
    throw DomainError.invalid('BILLING.COUNTERPARTY_INVALID', 'a note cannot move money to itself', 'counterparty');
  }
  if (existing !== null) {
    const same =
      existing.kind === t.kind &&
      existing.account === t.account &&
      // The period, not the statement id: the note reissues the statement as a new version, so a retry finds a
      // later version's id than the one the note was issued against.
      existing.period === t.period &&
      existing.amount === t.amount &&
      existing.currency === t.currency &&
      existing.reason === t.reason &&
      existing.counterparty === t.counterparty;
    if (same) return [];
    throw DomainError.conflict('BILLING.NOTE_EXISTS_WITH_DIFFERENT_FIELDS', `note ${t.noteId} exists`, 'noteId');
  }
  return [{ type: 'NoteIssued', data: { ...t, ...noteTransfer(t) } }];
};

// ------------------------------------------------------------------------------------------------ disputes

export interface DisputeOpened {
  type: 'DisputeOpened';
  data: {
    disputeId: string;
    allocationId: string;
    /** The party that opened it. */
    account: string;
    buyerAccount: string;
    providerAccount: string;
    /** Accelerator-hours the party says were delivered, against the hours billed. */
    claimedHours: string;
    billedHours: string;
    price: string;
    currency: Currency;
    reason: string;
    openedAt: string;
  };
}

export interface DisputeResolved {
  type: 'DisputeResolved';
  data: {
    disputeId: string;
    /** `buyer`: the claim holds and the buyer is credited; `provider`: the billed quantity stands. */
    inFavourOf: 'buyer' | 'provider';
    /** Hours credited to the buyer (billed − the hours the resolution accepts); 0 when the provider prevails. */
    creditedHours: string;
    creditNoteId: string | null;
    reason: string;
    resolvedAt: string;
  };
}

export type DisputeEvent = DisputeOpened | DisputeResolved;

export interface DisputeState {
  opened: DisputeOpened['data'] | null;
  resolved: DisputeResolved['data'] | null;
}

export const noDispute: DisputeState = { opened: null, resolved: null };

export const evolveDispute = (s: DisputeState, e: DisputeEvent): DisputeState => {
  switch (e.type) {
    case 'DisputeOpened':
      return { ...s, opened: e.data };
    case 'DisputeResolved':
      return { ...s, resolved: e.data };
    default:
      return assertNever(e);
  }
};

export const isDisputeEvent = (type: string): boolean => type === 'DisputeOpened' || type === 'DisputeResolved';

export const decideOpenDispute = (s: DisputeState, d: DisputeOpened['data']): DisputeEvent[] => {
  if (!isSafeId(d.disputeId)) {
    throw DomainError.invalid('BILLING.DISPUTE_ID_INVALID', 'disputeId is not a valid id', 'disputeId');
  }
  const claimed = parseDecimal(d.claimedHours, { field: 'claimedHours', nonNegative: true, service: 'BILLING' });
  if (claimed.gte(d.billedHours)) {
    throw DomainError.invalid(
      'BILLING.NOTHING_TO_DISPUTE',
      `the claim (${d.claimedHours} h) is not below the hours billed (${d.billedHours} h)`,
      'claimedHours',
    );
  }
  if (d.reason.trim() === '')
    throw DomainError.invalid('BILLING.REASON_REQUIRED', 'a dispute needs a reason', 'reason');
  if (s.opened !== null) {
    const same =
      s.opened.allocationId === d.allocationId &&
      s.opened.account === d.account &&
      s.opened.claimedHours === d.claimedHours &&
      s.opened.reason === d.reason;
    if (same) return [];
    throw DomainError.conflict(
      'BILLING.DISPUTE_EXISTS_WITH_DIFFERENT_FIELDS',
      `dispute ${d.disputeId} exists`,
      'disputeId',
    );
  }
  return [{ type: 'DisputeOpened', data: d }];
};

export const decideResolveDispute = (
  s: DisputeState,
  r: { inFavourOf: 'buyer' | 'provider'; reason: string; resolvedAt: string },
): DisputeEvent[] => {
  const opened = s.opened;
  if (opened === null) throw DomainError.notFound('BILLING.DISPUTE_NOT_FOUND', 'no such dispute');
  if (s.resolved !== null) {
    if (s.resolved.inFavourOf === r.inFavourOf && s.resolved.reason === r.reason) return [];
    throw DomainError.conflict(
      'BILLING.DISPUTE_ALREADY_RESOLVED',
      `dispute ${opened.disputeId} is resolved`,
      'disputeId',
    );
  }
  if (r.reason.trim() === '')
    throw DomainError.invalid('BILLING.REASON_REQUIRED', 'a resolution needs a reason', 'reason');
  const buyer = r.inFavourOf === 'buyer';
  const creditedHours = buyer ? new Dec(opened.billedHours).minus(opened.claimedHours).toFixed() : '0';
  return [
    {
      type: 'DisputeResolved',
      data: {
        disputeId: opened.disputeId,
        inFavourOf: r.inFavourOf,
        creditedHours,
        creditNoteId: buyer ? `dispute-${opened.disputeId}` : null,
        reason: r.reason,
        resolvedAt: r.resolvedAt,
      },
    },
  ];
};
