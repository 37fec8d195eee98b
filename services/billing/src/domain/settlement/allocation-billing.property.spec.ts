// Proves with random readings, amendments, voids and settlements, delivered in any order and redelivered
// (fast-check), that every settlement's transfers balance, that the cumulative charge is the capped delivered
// hours × price (+ overage at the reference price), and that a ledger applying every settlement sums to zero.
import fc from 'fast-check';
import { Dec, formatMoney } from '@cx/shared-kernel';
import { canonicalToMinor } from '../ledger/ledger.amounts';
import {
  assertLedgerBalanced,
  decideCreditLine,
  decideTransfers,
  evolve as evolveLedger,
  initialLedger,
  ledgerTotals,
  type LedgerState,
} from '../ledger/ledger.decider';
import {
  type AllocationBillingState,
  decideAmendment,
  decideReading,
  decideSettlement,
  decideVoid,
  evolve,
  initialAllocationBilling,
} from './allocation-billing.decider';
import type { AllocationBillingEvent, AllocationSettled, AllocationTerms } from './allocation-billing.events';

const t0 = new Date('2026-03-10T00:00:00Z');

type Input =
  | { kind: 'reading'; key: string; role: 'provider' | 'buyer'; meter: string; seconds: number }
  | { kind: 'amend'; key: string; seconds: number; previous: number }
  | { kind: 'void'; key: string }
  | { kind: 'settle' };

const key = fc.integer({ min: 0, max: 5 }).map((n) => `src/${n}`);
const seconds = fc.integer({ min: 0, max: 20 * 3600 });
const input: fc.Arbitrary<Input> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant('reading' as const),
      key,
      role: fc.constantFrom('provider' as const, 'buyer' as const),
      meter: fc.constantFrom('accelerator_seconds', 'tokens'),
      seconds,
    }),
  },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('amend' as const), key, seconds, previous: seconds }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('void' as const), key }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('settle' as const) }) },
);

const scenario = fc.record({
  hours: fc.integer({ min: 1, max: 24 }),
  priceCents: fc.integer({ min: 1, max: 50_000 }),
  referenceCents: fc.option(fc.integer({ min: 1, max: 50_000 }), { nil: null }),
  buyerFeeBps: fc.integer({ min: 0, max: 100 }),
  providerFeeBps: fc.integer({ min: 0, max: 100 }),
  holdCents: fc.integer({ min: 1, max: 2_000_000 }),
  // Each input is delivered once or twice (redelivery), and the deliveries in a shuffled order.
  inputs: fc.array(fc.tuple(input, fc.boolean()), { maxLength: 30 }),
  seed: fc.integer(),
});

const money = (cents: number): string => new Dec(cents).div(100).toFixed(2);

/** A ledger with both parties' accounts, money on the buyer's cash and the trade's hold on it. */
const ledgerFor = (terms: AllocationTerms, holdCents: number): LedgerState => {
  const s = initialLedger('CNY');
  const apply = (events: Parameters<typeof evolveLedger>[1][]) => events.forEach((e) => evolveLedger(s, e));
  // Neither party has a credit line: a downward adjustment refunds the provider's fee before the provider pays the
  // charge back, so it always has the money in hand (its cash is its cumulative charge less its cumulative fee).
  for (const [p, line] of [
    [terms.buyerAccount, '0'],
    [terms.providerAccount, '0'],
  ] as const) {
    apply(
      decideCreditLine(
        { type: 'SetCreditLine', data: { participantAccountId: p, creditLine: line }, metadata: { now: t0 } },
        s,
      ),
    );
  }
  const d = decideTransfers(
    {
      type: 'CreateTransfers',
      data: {
        requests: [
          [
            {
              id: 'dep',
              debitAccount: 'world:CNY',
              creditAccount: `${terms.buyerAccount}:cash`,
              amount: '100000000.00',
              code: 'deposit',
            },
            {
              id: 'hold',
              debitAccount: `${terms.buyerAccount}:cash`,
              creditAccount: `${terms.buyerAccount}:held`,
              amount: money(holdCents),
              phase: 'pending',
              code: 'hold',
            },
          ],
        ],
      },
      metadata: { now: t0 },
    },
    s,
  );
  expect(d.results.flat().map((r) => r.result)).toEqual(['ok', 'ok']);
  apply(d.events);
  return s;
};

/** Seeded Fisher-Yates, so a failing case replays exactly. */
const shuffle = <T>(items: T[], seed: number): T[] => {
  const out = [...items];
  let x = seed | 0 || 1;
  for (let i = out.length - 1; i > 0; i--) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    const j = Math.abs(x) % (i + 1);
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
};

describe('allocation settlement (property)', () => {
  it('balances every settlement, charges the capped delivery at the price, and leaves the ledger at zero', () => {
    fc.assert(
      fc.property(scenario, (sc) => {
        const terms: AllocationTerms = {
          allocationId: 'al-1',
          tradeId: 'tr-1',
          instrumentId: 'gpu-h100.cn-north-1',
          resourceClass: 'gpu-h100',
          region: 'cn-north-1',
          providerAccount: 'prov',
          buyerAccount: 'buyer',
          quantity: String(sc.hours),
          price: money(sc.priceCents),
          currency: 'CNY',
          deliveryStart: '2026-03-10T00:00:00Z',
          deliveryEnd: '2026-03-11T00:00:00Z',
          guidanceVersion: 'g-1',
        };
        const s: AllocationBillingState = initialAllocationBilling();
        const fold = (events: AllocationBillingEvent[]) => events.forEach((e) => evolve(s, e));
        fold([{ type: 'AllocationRegistered', data: terms }]);
        const ledger = ledgerFor(terms, sc.holdCents);
        const settlements: AllocationSettled['data'][] = [];
        const reference = sc.referenceCents === null ? null : { price: money(sc.referenceCents), version: 'g-ref' };
        const settle = () => {
          const events = decideSettlement(s, {
            settlementId: `set-${settlements.length + 1}`,
            period: '2026-03-10',
            currency: 'CNY',
            buyerFeeBps: sc.buyerFeeBps,
            providerFeeBps: sc.providerFeeBps,
            reference,
            hold: settlements.length === 0 ? { id: 'hold', amount: money(sc.holdCents) } : null,
            now: t0,
          });
          for (const e of events) {
            settlements.push(e.data);
            fold([e]);
            const d = decideTransfers(
              { type: 'CreateTransfers', data: { requests: [e.data.transfers] }, metadata: { now: t0 } },
              ledger,
            );
            expect(d.results.flat().filter((r) => r.result !== 'ok')).toEqual([]);
            d.events.forEach((le) => evolveLedger(ledger, le));
          }
        };
        const deliveries = shuffle(
          sc.inputs.flatMap(([i, twice]) => (twice ? [i, i] : [i])),
          sc.seed,
        );
        for (const i of deliveries) {
          if (i.kind === 'settle') settle();
          else if (i.kind === 'reading') {
            const usageTime = '2026-03-10T01:00:00Z';
            const data = {
              key: i.key,
              role: i.role,
              meter: i.meter,
              quantity: String(i.seconds),
              usageTime,
              late: false,
            };
            fold(decideReading(s, data).events);
          } else if (i.kind === 'amend') {
            fold(
              decideAmendment(s, { key: i.key, quantity: String(i.seconds), previousQuantity: String(i.previous) })
                .events,
            );
          } else fold(decideVoid(s, { key: i.key }).events);
        }
        settle();

        // Every settlement's transfers move as much out of accounts as into them.
        for (const st of settlements) {
          const net = new Map<string, bigint>();
          for (const t of st.transfers) {
            const a = canonicalToMinor(t.amount, 'CNY');
            net.set(t.debitAccount, (net.get(t.debitAccount) ?? 0n) - a);
            net.set(t.creditAccount, (net.get(t.creditAccount) ?? 0n) + a);
          }
          expect([...net.values()].reduce((x, y) => x + y, 0n)).toBe(0n);
        }

        // The cumulative charge, from the readings the allocation ended with, computed independently here.
        let providerSeconds = 0;
        for (const r of s.readings.values()) {
          if (r.role === 'provider' && r.meter === 'accelerator_seconds' && !r.voided)
            providerSeconds += Number(r.quantity);
        }
        const delivered = Dec.min(new Dec(providerSeconds).div(3600), sc.hours);
        const overage = Dec.max(new Dec(providerSeconds).div(3600).minus(sc.hours), 0);
        const expected = delivered.times(terms.price).plus(reference === null ? 0 : overage.times(reference.price));
        const last = settlements[settlements.length - 1] as AllocationSettled['data'];
        expect(last.charge).toBe(formatMoney(expected, 'CNY'));
        // The charges the settlements booked add up to the cumulative one.
        const booked = settlements.reduce((d, st) => d.plus(st.chargeDelta), new Dec(0));
        expect(booked.toFixed(2)).toBe(last.charge);

        // The ledger that applied them all sums to zero, with nothing left on hold.
        assertLedgerBalanced(ledger);
        expect(ledgerTotals(ledger)).toEqual({ posted: 0n, pending: 0n });
        expect(ledger.pendings.get('hold')?.status).not.toBe('pending');
      }),
    );
  });
});
