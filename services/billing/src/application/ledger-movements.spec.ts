// Proves the movements read model: every participant side of every transfer, hold, post, void and expiry, in ledger
// order, each field as a statement and the transfer list read it.
import type { LedgerEvent } from '../domain/ledger/ledger.events';
import { LedgerMovements, type Movement, postedCash } from './ledger-movements';

const at = '2026-03-10T08:00:00.000Z';
const later = '2026-03-11T09:30:00.000Z';

const events: LedgerEvent[] = [
  {
    type: 'TransfersCommitted',
    data: {
      currency: 'CNY',
      at,
      transfers: [
        { amount: '500.00', code: 'deposit', creditAccount: 'b1:cash', debitAccount: 'world:CNY', id: 'd1' },
        {
          amount: '30.00',
          code: 'hold',
          creditAccount: 'exchange:clearing',
          debitAccount: 'b1:cash',
          id: 'h1',
          phase: 'pending',
          ref: 't1',
          timeoutMs: 60_000,
        },
        {
          amount: '10.00',
          creditAccount: 'exchange:clearing',
          debitAccount: 'b1:cash',
          id: 'h2',
          phase: 'pending',
        },
        {
          amount: '2.00',
          code: 'fee',
          creditAccount: 'exchange:fees',
          debitAccount: 'p1:payable',
          id: 'f1',
          period: '2026-03-09',
        },
      ],
    },
  },
  {
    type: 'TransfersCommitted',
    data: {
      currency: 'CNY',
      at: later,
      transfers: [
        {
          amount: '25.00',
          creditAccount: 'exchange:clearing',
          debitAccount: 'b1:cash',
          id: 's1',
          linked: true,
          pendingId: 'h1',
          phase: 'post',
          ref: 't1',
        },
        { amount: '25.00', creditAccount: 'p1:cash', debitAccount: 'exchange:clearing', id: 'y1', ref: 't1' },
      ],
    },
  },
  { type: 'PendingTransfersExpired', data: { currency: 'CNY', at: later, ids: ['h2'] } },
];

/** A movement's fields as plain values, the way the HTTP layer copies them. */
const fields = (m: Movement) => ({
  transferId: m.transferId,
  kind: m.kind,
  amountMinor: m.amountMinor,
  status: m.status,
  phase: m.phase,
  counterparty: m.counterparty,
  code: m.code,
  ref: m.ref,
  pendingId: m.pendingId,
  at: m.at,
  day: m.day,
});

describe('ledger movements', () => {
  const movements = new LedgerMovements('CNY');
  events.forEach(movements.apply);

  it('lists each participant side with its kind, signed amount, status, phase and counterparty', () => {
    expect(movements.of('b1').map(fields)).toEqual([
      {
        transferId: 'd1',
        kind: 'cash',
        amountMinor: 50000n,
        status: 'posted',
        phase: 'single',
        counterparty: 'world:CNY',
        code: 'deposit',
        ref: null,
        pendingId: null,
        at,
        day: '2026-03-10',
      },
      {
        transferId: 'h1',
        kind: 'cash',
        amountMinor: -3000n,
        status: 'pending',
        phase: 'pending',
        counterparty: 'exchange:clearing',
        code: 'hold',
        ref: 't1',
        pendingId: null,
        at,
        day: '2026-03-10',
      },
      {
        transferId: 'h2',
        kind: 'cash',
        amountMinor: -1000n,
        status: 'pending',
        phase: 'pending',
        counterparty: 'exchange:clearing',
        code: null,
        ref: null,
        pendingId: null,
        at,
        day: '2026-03-10',
      },
      {
        transferId: 's1',
        kind: 'cash',
        amountMinor: -2500n,
        status: 'posted',
        phase: 'post',
        counterparty: 'exchange:clearing',
        code: null,
        ref: 't1',
        pendingId: 'h1',
        at: later,
        day: '2026-03-11',
      },
      {
        transferId: 'h2:expired',
        kind: 'cash',
        amountMinor: -1000n,
        status: 'released',
        phase: 'expire',
        counterparty: 'exchange:clearing',
        code: null,
        ref: null,
        pendingId: null,
        at: later,
        day: '2026-03-11',
      },
    ]);
  });

  it('books a transfer in the period it names, and credits count positive', () => {
    expect(movements.of('p1').map(fields)).toEqual([
      {
        transferId: 'f1',
        kind: 'payable',
        amountMinor: -200n,
        status: 'posted',
        phase: 'single',
        counterparty: 'exchange:fees',
        code: 'fee',
        ref: null,
        pendingId: null,
        at,
        day: '2026-03-09',
      },
      {
        transferId: 'y1',
        kind: 'cash',
        amountMinor: 2500n,
        status: 'posted',
        phase: 'single',
        counterparty: 'exchange:clearing',
        code: null,
        ref: 't1',
        pendingId: null,
        at: later,
        day: '2026-03-11',
      },
    ]);
    expect(movements.accounts().sort()).toEqual(['b1', 'p1']);
    expect(movements.of('exchange')).toEqual([]);
  });

  it('gives a statement the posted cash movements only', () => {
    expect([...postedCash(movements.of('b1'))].map((m) => [m.transferId, m.amountMinor])).toEqual([
      ['d1', 50000n],
      ['s1', -2500n],
    ]);
  });
});
