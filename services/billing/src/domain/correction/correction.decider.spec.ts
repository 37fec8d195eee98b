// Proves the note and dispute deciders: a note is issued once (same body again: nothing; other body: conflict),
// moves money in the right direction, and a dispute opens only below the billed hours and resolves once.
import { DomainError } from '@cx/shared-kernel';
import {
  decideNote,
  decideOpenDispute,
  decideResolveDispute,
  type DisputeOpened,
  evolveDispute,
  noDispute,
  type NoteTerms,
} from './correction.decider';

const note: NoteTerms = {
  noteId: 'cn-1',
  kind: 'credit',
  account: 'buy-1',
  statementId: 'stmt-buy-1-2026-03-11-v1',
  period: '2026-03-11',
  amount: '10.00',
  currency: 'CNY',
  reason: 'goodwill',
  counterparty: null,
  disputeId: null,
  issuedAt: '2026-03-13T00:00:00.000Z',
};

const codeOf = (f: () => unknown): string | null => {
  try {
    f();
    return null;
  } catch (e) {
    return e instanceof DomainError ? e.code : 'not a DomainError';
  }
};

describe('notes', () => {
  it('credits the account from the exchange by default, and debits it for a debit note', () => {
    const [credit] = decideNote(null, note);
    expect(credit?.data).toMatchObject({ debitAccount: 'exchange:clearing', creditAccount: 'buy-1:cash' });
    const [debit] = decideNote(null, { ...note, kind: 'debit', counterparty: 'prov-1' });
    expect(debit?.data).toMatchObject({ debitAccount: 'buy-1:cash', creditAccount: 'prov-1:cash' });
  });

  it('is idempotent by id: the same body records nothing, another body is a conflict', () => {
    const [issued] = decideNote(null, note);
    expect(decideNote(issued!.data, note)).toEqual([]);
    // A retry after the note reissued its statement names the new version: still the same note.
    expect(decideNote(issued!.data, { ...note, statementId: 'stmt-buy-1-2026-03-11-v2' })).toEqual([]);
    expect(codeOf(() => decideNote(issued!.data, { ...note, period: '2026-03-12' }))).toBe(
      'BILLING.NOTE_EXISTS_WITH_DIFFERENT_FIELDS',
    );
    expect(codeOf(() => decideNote(issued!.data, { ...note, amount: '11.00' }))).toBe(
      'BILLING.NOTE_EXISTS_WITH_DIFFERENT_FIELDS',
    );
  });

  it.each([
    ['a bad id', { noteId: 'no spaces' }, 'BILLING.NOTE_ID_INVALID'],
    ['a zero amount', { amount: '0' }, 'BILLING.NOT_POSITIVE'],
    ['a malformed amount', { amount: '1e3' }, 'BILLING.MALFORMED_DECIMAL'],
    ['no reason', { reason: ' ' }, 'BILLING.REASON_REQUIRED'],
    ['itself as counterparty', { counterparty: 'buy-1' }, 'BILLING.COUNTERPARTY_INVALID'],
  ])('refuses %s', (_what, change, code) => {
    expect(codeOf(() => decideNote(null, { ...note, ...change }))).toBe(code);
  });
});

describe('disputes', () => {
  const opened: DisputeOpened['data'] = {
    disputeId: 'd-1',
    allocationId: 'alloc-1',
    account: 'buy-1',
    buyerAccount: 'buy-1',
    providerAccount: 'prov-1',
    claimedHours: '7.5',
    billedHours: '9',
    price: '25.50',
    currency: 'CNY',
    reason: 'agent saw 7.5 h',
    openedAt: '2026-03-13T00:00:00.000Z',
  };
  const at = '2026-03-14T00:00:00.000Z';

  it('opens below the billed hours only, once', () => {
    const events = decideOpenDispute(noDispute, opened);
    expect(events).toHaveLength(1);
    const state = events.reduce(evolveDispute, noDispute);
    expect(decideOpenDispute(state, opened)).toEqual([]);
    expect(codeOf(() => decideOpenDispute(noDispute, { ...opened, claimedHours: '9' }))).toBe(
      'BILLING.NOTHING_TO_DISPUTE',
    );
    expect(codeOf(() => decideOpenDispute(state, { ...opened, claimedHours: '8' }))).toBe(
      'BILLING.DISPUTE_EXISTS_WITH_DIFFERENT_FIELDS',
    );
  });

  it('credits the billed hours above the claim when resolved for the buyer, nothing for the provider', () => {
    const state = decideOpenDispute(noDispute, opened).reduce(evolveDispute, noDispute);
    const [forBuyer] = decideResolveDispute(state, { inFavourOf: 'buyer', reason: 'meter fault', resolvedAt: at });
    expect(forBuyer?.data).toMatchObject({ creditedHours: '1.5', creditNoteId: 'dispute-d-1' });
    const [forProvider] = decideResolveDispute(state, { inFavourOf: 'provider', reason: 'logs', resolvedAt: at });
    expect(forProvider?.data).toMatchObject({ creditedHours: '0', creditNoteId: null });
  });

  it('resolves once, and not before it is opened', () => {
    expect(codeOf(() => decideResolveDispute(noDispute, { inFavourOf: 'buyer', reason: 'x', resolvedAt: at }))).toBe(
      'BILLING.DISPUTE_NOT_FOUND',
    );
    const state = [
      ...decideOpenDispute(noDispute, opened),
      ...decideResolveDispute(decideOpenDispute(noDispute, opened).reduce(evolveDispute, noDispute), {
        inFavourOf: 'buyer',
        reason: 'meter fault',
        resolvedAt: at,
      }),
    ].reduce(evolveDispute, noDispute);
    expect(decideResolveDispute(state, { inFavourOf: 'buyer', reason: 'meter fault', resolvedAt: at })).toEqual([]);
    expect(codeOf(() => decideResolveDispute(state, { inFavourOf: 'provider', reason: 'no', resolvedAt: at }))).toBe(
      'BILLING.DISPUTE_ALREADY_RESOLVED',
    );
  });
});
