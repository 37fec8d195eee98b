// Proves the ledger decider: deposits, holds, partial posts, voids, expiry, linked chains, limits, idempotency and
// the result codes, each scenario ending with every balance summing to zero.
import { DomainError } from '@cx/shared-kernel';
import { formatAmount, parseAmount } from './ledger.amounts';
import {
  assertLedgerBalanced,
  balanceView,
  decideCreditLine,
  decideExpiry,
  decideTransfers,
  evolve,
  initialLedger,
  type LedgerState,
  ledgerTotals,
  type TransferInput,
} from './ledger.decider';
import type { LedgerEvent, TransferResultCode } from './ledger.events';

const t0 = new Date('2026-03-10T08:00:00Z');
const later = (ms: number) => new Date(t0.getTime() + ms);

/** A CNY ledger where buyer `b1` (credit line 100.00) and provider `p1` exist. */
const given = (events: LedgerEvent[] = []): LedgerState => {
  const s = initialLedger('CNY');
  for (const [id, line] of [
    ['b1', '100.00'],
    ['p1', '0'],
  ] as const) {
    for (const e of decideCreditLine(
      { type: 'SetCreditLine', data: { participantAccountId: id, creditLine: line }, metadata: { now: t0 } },
      s,
    )) {
      evolve(s, e);
    }
  }
  for (const e of events) evolve(s, e);
  return s;
};

/** Decides one request, applies its events and answers the result codes. */
const submit = (s: LedgerState, transfers: TransferInput[], now = t0): TransferResultCode[] => {
  const d = decideTransfers({ type: 'CreateTransfers', data: { requests: [transfers] }, metadata: { now } }, s);
  for (const e of d.events) evolve(s, e);
  assertLedgerBalanced(s);
  return (d.results[0] ?? []).map((r) => r.result);
};

const deposit = (id: string, amount: string, to = 'b1'): TransferInput => ({
  id,
  debitAccount: 'world:CNY',
  creditAccount: `${to}:cash`,
  amount,
  code: 'deposit',
});
const hold = (id: string, amount: string, extra: Partial<TransferInput> = {}): TransferInput => ({
  id,
  debitAccount: 'b1:cash',
  creditAccount: 'exchange:clearing',
  amount,
  phase: 'pending',
  ...extra,
});

describe('amounts', () => {
  it('converts exactly and refuses more decimals than the minor unit', () => {
    expect(parseAmount('12.3', 'CNY')).toEqual({ ok: true, minor: 1230n });
    expect(parseAmount('12.300', 'CNY')).toEqual({ ok: true, minor: 1230n });
    expect(parseAmount('12.301', 'CNY')).toEqual({ ok: false, reason: 'too_many_decimals' });
    expect(parseAmount('5', 'JPY')).toEqual({ ok: true, minor: 5n });
    expect(parseAmount('5.5', 'JPY')).toEqual({ ok: false, reason: 'too_many_decimals' });
    for (const bad of ['-1', '1e3', ' 1', '01', '', '1.', 1]) {
      expect(parseAmount(bad, 'CNY')).toEqual({ ok: false, reason: 'invalid' });
    }
    expect(formatAmount(5n, 'CNY')).toBe('0.05');
    expect(formatAmount(-1234n, 'CNY')).toBe('-12.34');
    expect(formatAmount(7n, 'JPY')).toBe('7');
  });
});

describe('single-phase transfers', () => {
  it('records a deposit as one event and moves both sides', () => {
    const s = given();
    const d = decideTransfers(
      { type: 'CreateTransfers', data: { requests: [[deposit('d1', '500')]] }, metadata: { now: t0 } },
      s,
    );
    expect(d.results).toEqual([[{ id: 'd1', result: 'ok' }]]);
    expect(d.events).toEqual([
      {
        type: 'TransfersCommitted',
        data: {
          currency: 'CNY',
          at: t0.toISOString(),
          transfers: [
            {
              id: 'd1',
              debitAccount: 'world:CNY',
              creditAccount: 'b1:cash',
              amount: '500.00',
              code: 'deposit',
            },
          ],
        },
      },
    ]);
    d.events.forEach((e) => evolve(s, e));
    expect(balanceView(s, 'b1:cash')).toMatchObject({ balance: '500.00', available: '600.00' });
    expect(balanceView(s, 'world:CNY')).toMatchObject({ balance: '-500.00', available: null });
    expect(ledgerTotals(s)).toEqual({ posted: 0n, pending: 0n });
  });

  it('answers exists for the same id and body, exists_with_different_fields otherwise', () => {
    const s = given();
    expect(submit(s, [deposit('d1', '500')])).toEqual(['ok']);
    expect(submit(s, [deposit('d1', '500.00')])).toEqual(['exists']);
    expect(submit(s, [deposit('d1', '501')])).toEqual(['exists_with_different_fields']);
    expect(submit(s, [{ ...deposit('d1', '500'), ref: 'x' }])).toEqual(['exists_with_different_fields']);
    expect(submit(s, [deposit('d1', '500', 'p1')])).toEqual(['exists_with_different_fields']);
    expect(balanceView(s, 'b1:cash').balance).toBe('500.00');
  });

  it('judges a repeated id within one batch against the first', () => {
    const s = given();
    expect(submit(s, [deposit('d1', '1'), deposit('d1', '1'), deposit('d1', '2')])).toEqual([
      'ok',
      'exists',
      'exists_with_different_fields',
    ]);
  });

  it('refuses a withdrawal beyond cash plus the credit line, and allows one within it', () => {
    const s = given();
    submit(s, [deposit('d1', '50')]);
    const withdraw = (id: string, amount: string): TransferInput => ({
      id,
      debitAccount: 'b1:cash',
      creditAccount: 'world:CNY',
      amount,
    });
    expect(submit(s, [withdraw('w1', '150.01')])).toEqual(['exceeds_credits']);
    expect(submit(s, [withdraw('w1', '150')])).toEqual(['exceeds_debits']);
    expect(submit(s, [withdraw('w2', '50')])).toEqual(['ok']);
    expect(balanceView(s, 'b1:cash').balance).toBe('0.00');
  });

  // A table, in the order the checks run: the first code listed is the one a transfer wrong in several ways gets.
  it.each<[string, Partial<TransferInput>, TransferResultCode]>([
    ['id', { id: ' bad' }, 'id_invalid'],
    ['phase', { phase: 'later' as never }, 'phase_invalid'],
    ['code', { code: 'Bad Code' }, 'code_invalid'],
    ['ref', { ref: 'no spaces allowed' }, 'ref_invalid'],
    ['pending id on a single transfer', { pendingId: 'h1' }, 'pending_id_must_be_absent'],
    ['same account', { creditAccount: 'world:CNY' }, 'accounts_must_be_different'],
    ['timeout on a single transfer', { timeoutMs: 1000 }, 'timeout_reserved_for_pending_transfer'],
    ['debit account malformed', { debitAccount: 'b1:wallet' }, 'debit_account_invalid'],
    ['debit account other currency', { debitAccount: 'world:USD' }, 'currency_mismatch'],
    ['debit account unknown participant', { debitAccount: 'zz:cash' }, 'debit_account_not_found'],
    ['credit account unknown participant', { creditAccount: 'zz:cash' }, 'credit_account_not_found'],
    ['credit account reserved name', { creditAccount: 'exchange:cash' }, 'credit_account_invalid'],
    ['amount malformed', { amount: '1e2' }, 'amount_invalid'],
    ['amount too precise', { amount: '0.001' }, 'amount_has_too_many_decimals'],
    ['amount zero', { amount: '0.00' }, 'amount_must_not_be_zero'],
  ])('refuses %s', (_name, change, code) => {
    const s = given();
    expect(submit(s, [{ ...deposit('d1', '5'), ...change }])).toEqual([code]);
    expect(s.transfers.size).toBe(0);
  });
});

describe('two-phase transfers (holds)', () => {
  it('holds, posts part and releases the rest', () => {
    const s = given();
    submit(s, [deposit('d1', '100')]);
    expect(submit(s, [hold('h1', '150')])).toEqual(['ok']);
    expect(balanceView(s, 'b1:cash')).toMatchObject({ debitsPending: '150.00', available: '50.00' });
    expect(submit(s, [hold('h2', '50.01')])).toEqual(['exceeds_credits']);
    expect(submit(s, [{ id: 'p1', phase: 'post', pendingId: 'h1', amount: '120' }])).toEqual(['ok']);
    expect(balanceView(s, 'b1:cash')).toMatchObject({ debitsPending: '0.00', balance: '-20.00', available: '80.00' });
    expect(balanceView(s, 'exchange:clearing')).toMatchObject({ creditsPending: '0.00', balance: '120.00' });
    expect(submit(s, [{ id: 'p2', phase: 'post', pendingId: 'h1', amount: '1' }])).toEqual([
      'pending_transfer_already_posted',
    ]);
    expect(submit(s, [{ id: 'v1', phase: 'void', pendingId: 'h1' }])).toEqual(['pending_transfer_already_posted']);
  });

  it('voids a hold, whole', () => {
    const s = given();
    submit(s, [hold('h1', '80')]);
    expect(submit(s, [{ id: 'v1', phase: 'void', pendingId: 'h1', amount: '70' }])).toEqual([
      'pending_transfer_has_different_amount',
    ]);
    expect(submit(s, [{ id: 'v1', phase: 'void', pendingId: 'h1' }])).toEqual(['ok']);
    expect(submit(s, [{ id: 'v1', phase: 'void', pendingId: 'h1', amount: '80' }])).toEqual(['exists']);
    expect(submit(s, [{ id: 'p1', phase: 'post', pendingId: 'h1', amount: '1' }])).toEqual([
      'pending_transfer_already_voided',
    ]);
    expect(balanceView(s, 'b1:cash')).toMatchObject({ debitsPending: '0.00', debitsPosted: '0.00' });
  });

  it('refuses posts that do not match their hold', () => {
    const s = given();
    submit(s, [hold('h1', '10'), deposit('d1', '1')]);
    const post = (change: Partial<TransferInput>): TransferInput => ({
      id: 'p1',
      phase: 'post',
      pendingId: 'h1',
      amount: '5',
      ...change,
    });
    expect(submit(s, [post({ pendingId: undefined })])).toEqual(['pending_id_required']);
    expect(submit(s, [post({ pendingId: 'p1' })])).toEqual(['pending_id_must_be_different']);
    expect(submit(s, [post({ pendingId: 'nope' })])).toEqual(['pending_transfer_not_found']);
    expect(submit(s, [post({ pendingId: 'd1' })])).toEqual(['pending_transfer_not_pending']);
    expect(submit(s, [post({ debitAccount: 'p1:cash' })])).toEqual(['pending_transfer_has_different_debit_account']);
    expect(submit(s, [post({ creditAccount: 'exchange:fees' })])).toEqual([
      'pending_transfer_has_different_credit_account',
    ]);
    expect(submit(s, [post({ amount: '10.01' })])).toEqual(['exceeds_pending_transfer_amount']);
    expect(submit(s, [post({ amount: undefined })])).toEqual(['amount_invalid']);
    expect(submit(s, [post({ amount: '10', debitAccount: 'b1:cash' })])).toEqual(['ok']);
  });

  it('expires a hold at its timeout, before a batch at that time can post it', () => {
    const s = given();
    submit(s, [hold('h1', '30', { timeoutMs: 60_000 })]);
    expect(decideExpiry({ type: 'ExpirePendingTransfers', metadata: { now: later(59_999) } }, s)).toEqual([]);
    const d = decideTransfers(
      {
        type: 'CreateTransfers',
        data: { requests: [[{ id: 'p1', phase: 'post', pendingId: 'h1', amount: '30' }]] },
        metadata: { now: later(60_000) },
      },
      s,
    );
    expect(d.results[0]).toEqual([{ id: 'p1', result: 'pending_transfer_expired' }]);
    expect(d.events).toEqual([
      { type: 'PendingTransfersExpired', data: { currency: 'CNY', at: later(60_000).toISOString(), ids: ['h1'] } },
    ]);
    d.events.forEach((e) => evolve(s, e));
    expect(balanceView(s, 'b1:cash').debitsPending).toBe('0.00');
    assertLedgerBalanced(s);
  });

  it('expires through the expiry command too, and never twice', () => {
    const s = given();
    submit(s, [hold('h1', '1', { timeoutMs: 1000 }), hold('h2', '2', { timeoutMs: 500 }), hold('h3', '3')]);
    const events = decideExpiry({ type: 'ExpirePendingTransfers', metadata: { now: later(5000) } }, s);
    expect(events.map((e) => e.data.ids)).toEqual([['h2', 'h1']]);
    events.forEach((e) => evolve(s, e));
    expect(decideExpiry({ type: 'ExpirePendingTransfers', metadata: { now: later(9000) } }, s)).toEqual([]);
    expect(balanceView(s, 'b1:cash').debitsPending).toBe('3.00');
  });

  it('refuses a timeout that is not a positive integer', () => {
    expect(submit(given(), [hold('h1', '1', { timeoutMs: 0 })])).toEqual(['timeout_invalid']);
    expect(submit(given(), [hold('h1', '1', { timeoutMs: 1.5 })])).toEqual(['timeout_invalid']);
  });
});

describe('linked chains', () => {
  // A settlement: post the delivered part of the hold, pay the provider and the fee, all or nothing.
  const settle = (amount: string, fee: string): TransferInput[] => [
    { id: 's-post', phase: 'post', pendingId: 'h1', amount, linked: true },
    { id: 's-pay', debitAccount: 'exchange:clearing', creditAccount: 'p1:cash', amount, linked: true },
    { id: 's-fee', debitAccount: 'p1:cash', creditAccount: 'exchange:fees', amount: fee },
  ];

  it('commits a chain whole', () => {
    const s = given();
    submit(s, [hold('h1', '100')]);
    expect(submit(s, settle('90', '0.90'))).toEqual(['ok', 'ok', 'ok']);
    expect(balanceView(s, 'p1:cash').balance).toBe('89.10');
    expect(balanceView(s, 'exchange:fees').balance).toBe('0.90');
    expect(balanceView(s, 'exchange:clearing').balance).toBe('0.00');
    // Sent again, the whole chain answers exists.
    expect(submit(s, settle('90', '0.90'))).toEqual(['exists', 'exists', 'exists']);
  });

  it('commits nothing of a chain when one transfer fails', () => {
    const s = given();
    submit(s, [hold('h1', '100')]);
    const before = JSON.stringify([...s.accounts].map(([k, a]) => [k, String(a.debitsPending)]));
    expect(submit(s, settle('90', '90.01'))).toEqual(['linked_event_failed', 'linked_event_failed', 'exceeds_credits']);
    expect(JSON.stringify([...s.accounts].map(([k, a]) => [k, String(a.debitsPending)]))).toBe(before);
    expect(s.transfers.has('s-post')).toBe(false);
    expect(s.pendings.get('h1')?.status).toBe('pending');
    // Fixed, it goes through.
    expect(submit(s, settle('90', '1'))).toEqual(['ok', 'ok', 'ok']);
  });

  it('fails a chain left open at the end of its request, without joining the next request', () => {
    const s = given();
    const d = decideTransfers(
      {
        type: 'CreateTransfers',
        data: {
          requests: [[deposit('a', '1'), { ...deposit('b', '1'), linked: true }], [deposit('c', '1')]],
        },
        metadata: { now: t0 },
      },
      s,
    );
    expect(d.results.map((r) => r.map((x) => x.result))).toEqual([['ok', 'linked_event_chain_open'], ['ok']]);
  });

  it('fails a chain that is only partly recorded', () => {
    const s = given();
    submit(s, [deposit('a', '1')]);
    expect(submit(s, [{ ...deposit('a', '1'), linked: true }, deposit('b', '1')])).toEqual([
      'exists_with_different_fields',
      'linked_event_failed',
    ]);
    expect(submit(s, [deposit('a', '1'), deposit('b', '1')])).toEqual(['exists', 'ok']);
  });
});

describe('credit lines', () => {
  it('records a change and nothing for the same line', () => {
    const s = given();
    const cmd = (creditLine: string) => ({
      type: 'SetCreditLine' as const,
      data: { participantAccountId: 'b1', creditLine },
      metadata: { now: t0 },
    });
    expect(decideCreditLine(cmd('100'), s)).toEqual([]);
    expect(decideCreditLine(cmd('250.5'), s)).toEqual([
      {
        type: 'CreditLineSet',
        data: { currency: 'CNY', participantAccountId: 'b1', creditLine: '250.50', at: t0.toISOString() },
      },
    ]);
    expect(() => decideCreditLine(cmd('-1'), s)).toThrow(DomainError);
    expect(() =>
      decideCreditLine({ ...cmd('1'), data: { participantAccountId: 'exchange', creditLine: '1' } }, s),
    ).toThrow(DomainError);
  });
});
