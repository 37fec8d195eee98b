// Proves with random settlements, deposits and withdrawals (fast-check) that a statement reconciles with the
// ledger's movements: closing = opening + Σ(amount + fee) exactly, every cash movement is in exactly one line, the
// same movements in any order give the same content hash, and rounded charge lines stay within a minor unit per
// line of the unrounded total.
import fc from 'fast-check';
import { Dec } from '@cx/shared-kernel';
import { canonicalToMinor } from '../ledger/ledger.amounts';
import { decideSettlement, initialAllocationBilling } from '../settlement/allocation-billing.decider';
import type { AllocationSettled, AllocationTerms } from '../settlement/allocation-billing.events';
import {
  type AllocationRecord,
  buildLines,
  type CashMovement,
  contentHashOf,
  type SettlementRecord,
  summarise,
} from './statement';

const ACCOUNT = 'acct-a';
const OTHERS = ['acct-b', 'acct-c'];
const PERIOD = '2026-03';
const minor = (s: string): bigint => canonicalToMinor(s, 'CNY');

interface Allocation {
  buyerIsUs: boolean;
  other: string;
  /** Allocated hours and the provider's delivered seconds (whole seconds, as metering sends them). */
  hours: number;
  seconds: number;
  priceCents: number;
  buyerFeeBps: number;
  providerFeeBps: number;
  holdCents: number | null;
  day: number;
}

const allocation: fc.Arbitrary<Allocation> = fc.record({
  buyerIsUs: fc.boolean(),
  other: fc.constantFrom(...OTHERS),
  hours: fc.integer({ min: 1, max: 48 }),
  seconds: fc.integer({ min: 0, max: 60 * 3600 }),
  priceCents: fc.integer({ min: 1, max: 100_000 }),
  buyerFeeBps: fc.integer({ min: 0, max: 100 }),
  providerFeeBps: fc.integer({ min: 0, max: 100 }),
  holdCents: fc.option(fc.integer({ min: 1, max: 10_000_000 }), { nil: null }),
  day: fc.integer({ min: 1, max: 28 }),
});

const cash = fc.record({
  code: fc.constantFrom('deposit', 'withdrawal', 'credit_note', 'fee'),
  cents: fc.integer({ min: 1, max: 10_000_000 }),
  day: fc.integer({ min: 1, max: 28 }),
});

const dayOf = (d: number): string => `2026-03-${String(d).padStart(2, '0')}`;
const money = (cents: number): string => new Dec(cents).div(100).toFixed(2);

/** Settles each allocation once (decideSettlement) and returns the account's posted cash movements and records. */
const settle = (allocations: Allocation[]) => {
  const records = new Map<string, AllocationRecord>();
  const movements: CashMovement[] = [];
  const exact: Dec[] = [];
  allocations.forEach((a, i) => {
    const terms: AllocationTerms = {
      allocationId: `al-${i}`,
      tradeId: `tr-${i}`,
      instrumentId: 'gpu-h100.cn-north-1',
      resourceClass: 'gpu-h100',
      region: 'cn-north-1',
      buyerAccount: a.buyerIsUs ? ACCOUNT : a.other,
      providerAccount: a.buyerIsUs ? a.other : ACCOUNT,
      quantity: String(a.hours),
      price: money(a.priceCents),
      currency: 'CNY',
      deliveryStart: `${dayOf(a.day)}T00:00:00Z`,
      deliveryEnd: `${dayOf(a.day)}T23:00:00Z`,
      guidanceVersion: `g-${a.day % 3}`,
    };
    const s = initialAllocationBilling();
    s.terms = terms;
    s.readings.set('r', {
      role: 'provider',
      meter: 'accelerator_seconds',
      quantity: String(a.seconds),
      usageTime: terms.deliveryStart,
      voided: false,
    });
    const [settled] = decideSettlement(s, {
      settlementId: `set-${i}`,
      period: dayOf(a.day),
      currency: 'CNY',
      buyerFeeBps: a.buyerFeeBps,
      providerFeeBps: a.providerFeeBps,
      reference: null,
      hold: a.holdCents === null ? null : { id: `hold-${i}`, amount: money(a.holdCents) },
      now: new Date('2026-04-02T00:00:00Z'),
    }) as [AllocationSettled];
    records.set(settled.data.settlementId, { terms, settled: settled.data });
    exact.push(Dec.min(new Dec(a.seconds).div(3600), a.hours).times(terms.price));
    // What the ledger's movements read model records for the account's cash: debits negative, credits positive.
    for (const t of settled.data.transfers) {
      const m = { transferId: t.id, code: t.code, ref: t.ref, day: t.period };
      if (t.phase === 'void') continue; // a released hold moves no posted cash
      if (t.debitAccount === `${ACCOUNT}:cash`) movements.push({ ...m, amountMinor: -minor(t.amount) });
      if (t.creditAccount === `${ACCOUNT}:cash`) movements.push({ ...m, amountMinor: minor(t.amount) });
    }
  });
  return { records, movements, exact };
};

const cashMovements = (list: Array<{ code: string; cents: number; day: number }>): CashMovement[] =>
  list.map((c, i) => ({
    // A fee whose settlement is unknown is still money: it must become a line of its own (kind `other`).
    transferId: c.code === 'fee' ? `unknown-${i}:1` : `${c.code}-${i}`,
    amountMinor: BigInt(c.code === 'withdrawal' ? -c.cents : c.cents),
    code: c.code,
    ref: null,
    day: dayOf(c.day),
  }));

const statementOf = (movements: readonly CashMovement[], records: Map<string, SettlementRecord>, opening: bigint) => {
  const lines = buildLines(ACCOUNT, 'CNY', movements, (id) => records.get(id));
  const summary = summarise({ account: ACCOUNT, period: PERIOD, currency: 'CNY', openingMinor: opening }, lines, {
    shortfalls: [],
    readingDifferences: [],
  });
  return { lines, summary };
};

const settlementIdOf = (transferId: string): string => transferId.slice(0, transferId.lastIndexOf(':'));

const inputs = fc.record({
  allocations: fc.array(allocation, { maxLength: 12 }),
  cash: fc.array(cash, { maxLength: 12 }),
  opening: fc.bigInt({ min: -1_000_000n, max: 1_000_000n }),
  seed: fc.integer(),
});

describe('statement (property)', () => {
  it('closes at opening + Σ(amount + fee) exactly, and its totals equal the movements', () => {
    fc.assert(
      fc.property(inputs, ({ allocations, cash: c, opening }) => {
        const { records, movements } = settle(allocations);
        const all = [...movements, ...cashMovements(c)];
        const { lines, summary } = statementOf(all, records, opening);
        const sum = lines.reduce((n, l) => n + minor(l.amount) + minor(l.fee), 0n);
        expect(minor(summary.closingBalance)).toBe(opening + sum);
        expect(minor(summary.totals.net)).toBe(sum);
        expect(sum).toBe(all.reduce((n, m) => n + m.amountMinor, 0n));
        expect(summary.lineCount).toBe(lines.length);
      }),
    );
  });

  it('puts every movement of the account in exactly one line', () => {
    fc.assert(
      fc.property(inputs, ({ allocations, cash: c, opening }) => {
        const { records, movements } = settle(allocations);
        const all = [...movements, ...cashMovements(c)];
        const { lines } = statementOf(all, records, opening);
        // Each movement names the one line it belongs to: its settlement's line, or a line of its own.
        const lineOf = (m: CashMovement): string => {
          const settlement = settlementIdOf(m.transferId);
          return records.has(settlement) ? settlement : m.transferId;
        };
        const refs = lines.map((l) => l.ref);
        expect(new Set(refs).size).toBe(refs.length);
        const expected = new Map<string, bigint>();
        for (const m of all) expected.set(lineOf(m), (expected.get(lineOf(m)) ?? 0n) + m.amountMinor);
        expect(new Set(refs)).toEqual(new Set(expected.keys()));
        for (const l of lines) expect(minor(l.amount) + minor(l.fee)).toBe(expected.get(l.ref));
      }),
    );
  });

  it('gives the same content hash for the same movements in any order', () => {
    fc.assert(
      fc.property(inputs, ({ allocations, cash: c, opening, seed }) => {
        const { records, movements } = settle(allocations);
        const all = [...movements, ...cashMovements(c)];
        const a = statementOf(all, records, opening);
        const shuffled = fc.sample(fc.shuffledSubarray(all, { minLength: all.length }), { seed, numRuns: 1 })[0];
        const b = statementOf(shuffled as CashMovement[], records, opening);
        expect(contentHashOf(b.summary, b.lines)).toBe(contentHashOf(a.summary, a.lines));
      }),
    );
  });

  it('keeps the rounded charge lines within one minor unit per line of the unrounded total', () => {
    fc.assert(
      fc.property(fc.array(allocation, { minLength: 1, maxLength: 20 }), (allocations) => {
        const buyers = allocations.map((a) => ({ ...a, buyerIsUs: true }));
        const { records, movements, exact } = settle(buyers);
        const { lines } = statementOf(movements, records, 0n);
        const charges = lines.filter((l) => l.kind === 'settlement');
        // A charge that rounds to zero books no transfer, so it has no line; its settlement still counts below.
        const settledCharges = [...records.values()].map((r) => new Dec(r.settled.charge));
        expect(charges.reduce((d, l) => d.minus(l.amount), new Dec(0)).toFixed(2)).toBe(
          settledCharges.reduce((d, x) => d.plus(x), new Dec(0)).toFixed(2),
        );
        // Each charge is rounded to the cent once, half-even: at most half a minor unit from its exact value.
        const rounded = settledCharges.reduce((d, x) => d.plus(x), new Dec(0));
        const unrounded = exact.reduce((d, x) => d.plus(x), new Dec(0));
        expect(rounded.minus(unrounded).abs().lte(new Dec(buyers.length).times('0.005'))).toBe(true);
      }),
    );
  });
});
