import { createHash, type Hash } from 'node:crypto';
import canonicalize from 'canonicalize';
import { assert, type Currency, Dec, formatMoney, minorUnits } from '@cx/shared-kernel';
import { deliveryDayOf } from '../settlement/allocation-billing.decider';
import { type Period, periodContainsDay } from '../settlement/periods';
import { canonicalToMinor, formatAmount } from '../ledger/ledger.amounts';
import type { AllocationSettled, AllocationTerms } from '../settlement/allocation-billing.events';
import type { OfferUsageSettled } from '../settlement/offer-usage';

// A settlement statement for one account and period (issue: "Statements"): opening balance, one line per
// allocation settlement (or adjustment, deposit, withdrawal, note), fees, shortfalls, closing balance and totals.
// Its money comes from the ledger's cash movements booked in the period and nothing else, so the statement's totals
// equal the ledger's movements exactly; the settlement records only add what a line is about (instrument,
// quantity, unit price, guidance version).
//
// Lines are sorted by a key of their content (day, then reference), never by arrival, so the same inputs in any
// order give the same statement and the same content hash.

export type LineKind =
  'settlement' | 'adjustment' | 'offer_usage' | 'deposit' | 'withdrawal' | 'credit_note' | 'debit_note' | 'other';

export interface StatementLine {
  day: string;
  kind: LineKind;
  /** What the line is about: an allocation id, a transfer id, a note id. */
  ref: string;
  role: 'buyer' | 'provider' | null;
  instrument: string | null;
  quantity: string | null;
  unit: string | null;
  unitPrice: string | null;
  /** The account's cash effect, signed (a buyer's charge is negative), without fees. */
  amount: string;
  /** Fees the account paid (negative) or had refunded (positive) on this line. */
  fee: string;
  guidanceVersion: string | null;
  /** Offer usage rated at the floor because the card's price was below the floor in force when it was used. */
  ratedAtFloor: boolean;
}

export interface Shortfall {
  allocationId: string;
  role: 'buyer' | 'provider';
  allocatedHours: string;
  deliveredHours: string;
  shortfallHours: string;
  /** What the undelivered hours would have cost at the traded price: reported, never charged. */
  value: string;
}

export interface ReadingDifference {
  allocationId: string;
  providerReportedHours: string;
  buyerReportedHours: string;
  /** buyer − provider. */
  differenceHours: string;
}

export interface StatementTotals {
  charges: string;
  fees: string;
  deposits: string;
  withdrawals: string;
  notes: string;
  net: string;
  acceleratorHours: string;
  /** Charges and fees per accelerator-hour on the lines priced per hour; null without hours. */
  costPerAcceleratorHour: string | null;
  thousandTokens: string;
  /** Charges and fees per 1,000 tokens on the lines priced per 1,000 tokens; null without tokens. */
  costPerThousandTokens: string | null;
}

/** Everything a statement says except its lines: what its content hash covers besides them. */
export interface StatementSummary {
  account: string;
  period: string;
  currency: Currency;
  openingBalance: string;
  closingBalance: string;
  totals: StatementTotals;
  lineCount: number;
  shortfalls: Shortfall[];
  readingDifferences: ReadingDifference[];
  guidanceVersions: string[];
  /**
   * Only on a version reissued by a correction (absent on a version issued at the close, so its content hash is
   * the one it was issued with): the credit and debit notes issued against the statement, oldest first.
   */
  adjustments?: NoteAdjustment[];
  /** Only with `adjustments`: the statement's totals with the notes counted in. */
  adjustedTotals?: AdjustedTotals;
}

/**
 * A credit or debit note against the statement, as its reissued version shows it. Its money moves in the ledger in
 * the period that was open when it was issued (`bookedOn`), where that period's statement has it as a line: the
 * stated period's ledger lines and `totals` stay exactly what the ledger booked in it, and the note is counted in
 * `adjustedTotals` instead.
 */
export interface NoteAdjustment {
  noteId: string;
  kind: 'credit_note' | 'debit_note';
  /** The account's cash effect, signed: a credit note is positive, a debit note negative. */
  amount: string;
  reason: string;
  disputeId: string | null;
  transferId: string;
  issuedAt: string;
  bookedOn: string;
}

export interface AdjustedTotals {
  /** Σ adjustments. */
  adjustments: string;
  /** totals.net + adjustments. */
  net: string;
  /** closingBalance + adjustments. */
  closingBalance: string;
}

/** What a note contributes to a reissue: its terms as the note's event recorded them. */
export interface NoteForStatement {
  noteId: string;
  kind: 'credit' | 'debit';
  amount: string;
  reason: string;
  disputeId: string | null;
  transferId: string;
  issuedAt: string;
}

const byIssue = (a: NoteAdjustment, b: NoteAdjustment): number =>
  a.issuedAt < b.issuedAt ? -1 : a.issuedAt > b.issuedAt ? 1 : a.noteId < b.noteId ? -1 : a.noteId > b.noteId ? 1 : 0;

/**
 * The summary of a version reissued because of notes: the summary as the ledger states the period, plus the notes
 * as adjustments and the totals with them. Sorted by issue time then id, never by arrival, so the same notes give
 * the same content hash in any order. Without notes the summary is returned as it is.
 */
export const withNoteAdjustments = (
  summary: StatementSummary,
  notes: readonly NoteForStatement[],
): StatementSummary => {
  if (notes.length === 0) return summary;
  const { currency } = summary;
  const f = (minor: bigint) => formatAmount(minor, currency);
  let total = 0n;
  const adjustments = notes
    .map((n): NoteAdjustment => {
      const minor = canonicalToMinor(formatMoney(new Dec(n.amount), currency), currency);
      const signed = n.kind === 'credit' ? minor : -minor;
      total += signed;
      return {
        noteId: n.noteId,
        kind: n.kind === 'credit' ? 'credit_note' : 'debit_note',
        amount: f(signed),
        reason: n.reason,
        disputeId: n.disputeId,
        transferId: n.transferId,
        issuedAt: n.issuedAt,
        bookedOn: n.issuedAt.slice(0, 10),
      };
    })
    .sort(byIssue);
  const m = (s: string) => canonicalToMinor(s, currency);
  return {
    ...summary,
    adjustments,
    adjustedTotals: {
      adjustments: f(total),
      net: f(m(summary.totals.net) + total),
      closingBalance: f(m(summary.closingBalance) + total),
    },
  };
};

/** Note ids a version's adjustments include (none on a version issued at the close). */
export const adjustedNoteIds = (summary: StatementSummary): Set<string> =>
  new Set((summary.adjustments ?? []).map((a) => a.noteId));

/** A posted cash movement of the account booked in the period, as the ledger recorded it. */
export interface CashMovement {
  transferId: string;
  amountMinor: bigint;
  code: string | null;
  ref: string | null;
  day: string;
}

/** What a settlement's transfers are about: an allocation's delivery, or usage of an offer. */
export interface AllocationRecord {
  terms: AllocationTerms;
  settled: AllocationSettled['data'];
}
export type SettlementRecord = AllocationRecord | { offer: OfferUsageSettled['data'] };

const SETTLEMENT_CODES = new Set(['hold_post', 'settlement', 'adjustment', 'fee', 'offer_usage']);
const KIND_OF_CODE: Record<string, LineKind> = {
  deposit: 'deposit',
  withdrawal: 'withdrawal',
  credit_note: 'credit_note',
  debit_note: 'debit_note',
};

/** A settlement's transfers are `<settlementId>:<n>`. */
const settlementIdOf = (transferId: string): string => transferId.slice(0, transferId.lastIndexOf(':'));

/**
 * The statement's lines from the account's cash movements booked in the period. `settlements` resolves a
 * settlement id to what it settled; a movement whose settlement is unknown is still a line (kind `other`), so no
 * money is ever left off.
 */
export const buildLines = (
  account: string,
  currency: Currency,
  movements: readonly CashMovement[],
  settlements: (settlementId: string) => SettlementRecord | undefined,
): StatementLine[] => {
  const f = (minor: bigint) => formatAmount(minor, currency);
  const grouped = new Map<string, { day: string; amount: bigint; fee: bigint; record: SettlementRecord }>();
  const lines: StatementLine[] = [];
  for (const m of movements) {
    const record =
      m.code !== null && SETTLEMENT_CODES.has(m.code) ? settlements(settlementIdOf(m.transferId)) : undefined;
    if (record === undefined) {
      lines.push({
        day: m.day,
        kind: KIND_OF_CODE[m.code ?? ''] ?? 'other',
        ref: m.transferId,
        role: null,
        instrument: null,
        quantity: null,
        unit: null,
        unitPrice: null,
        amount: f(m.amountMinor),
        fee: f(0n),
        guidanceVersion: null,
        ratedAtFloor: false,
      });
      continue;
    }
    const id = 'offer' in record ? record.offer.settlementId : record.settled.settlementId;
    let g = grouped.get(id);
    if (g === undefined) grouped.set(id, (g = { day: m.day, amount: 0n, fee: 0n, record }));
    if (m.code === 'fee') g.fee += m.amountMinor;
    else g.amount += m.amountMinor;
  }
  for (const g of grouped.values()) {
    if ('offer' in g.record) {
      const o = g.record.offer;
      lines.push({
        day: g.day,
        kind: 'offer_usage',
        ref: o.settlementId,
        role: o.consumerAccount === account ? 'buyer' : 'provider',
        instrument: o.offerId,
        quantity: o.quantityDelta,
        unit: o.unit,
        unitPrice: o.unitPrice === null ? null : showPrice(o.unitPrice, currency),
        amount: f(g.amount),
        fee: f(g.fee),
        guidanceVersion: o.guidanceVersions.length === 0 ? null : o.guidanceVersions.join(','),
        ratedAtFloor: o.ratedAtFloor,
      });
      continue;
    }
    const { terms, settled } = g.record;
    lines.push({
      day: g.day,
      kind: settled.kind,
      ref: settled.settlementId,
      role: terms.buyerAccount === account ? 'buyer' : 'provider',
      instrument: terms.instrumentId,
      quantity: settled.deliveredHoursDelta,
      unit: 'accelerator-hour',
      unitPrice: showPrice(terms.price, currency),
      amount: f(g.amount),
      fee: f(g.fee),
      guidanceVersion: terms.guidanceVersion,
      ratedAtFloor: false,
    });
  }
  return lines.sort(compareLines);
};

/** A unit price with at least the currency's minor digits ("25.5" CNY shows as "25.50"), never fewer than it has. */
const showPrice = (price: string, currency: Currency): string => {
  const d = new Dec(price);
  return d.toFixed(Math.max(d.decimalPlaces(), minorUnits[currency]));
};

const compareLines = (a: StatementLine, b: StatementLine): number =>
  a.day < b.day ? -1 : a.day > b.day ? 1 : a.ref < b.ref ? -1 : a.ref > b.ref ? 1 : 0;

/**
 * The account's posted cash before the period (its opening balance) and the movements booked in it, from its posted
 * cash movements in ledger order. Billing passes its read model's; the audit passes the ones it folds from the
 * ledger stream up to the revision a statement was built from.
 */
export const cashIn = (
  posted: Iterable<CashMovement>,
  period: Period,
): { openingMinor: bigint; inPeriod: CashMovement[] } => {
  let openingMinor = 0n;
  const inPeriod: CashMovement[] = [];
  const startDay = new Date(period.startMs).toISOString().slice(0, 10);
  for (const m of posted) {
    if (m.day < startDay) openingMinor += m.amountMinor;
    else if (periodContainsDay(period, m.day)) inPeriod.push(m);
  }
  return { openingMinor, inPeriod };
};

const byAllocation = (a: { allocationId: string }, b: { allocationId: string }): number =>
  a.allocationId < b.allocationId ? -1 : a.allocationId > b.allocationId ? 1 : 0;

/** The account's first settlements in the period that delivered less than allocated: reported, never charged. */
export const shortfallsOf = (records: Iterable<AllocationRecord>, account: string, period: Period): Shortfall[] => {
  const out: Shortfall[] = [];
  for (const { terms, settled } of records) {
    if (settled.kind !== 'settlement' || !periodContainsDay(period, settled.period)) continue;
    if (terms.buyerAccount !== account && terms.providerAccount !== account) continue;
    if (new Dec(settled.shortfallHours).isZero()) continue;
    out.push({
      allocationId: terms.allocationId,
      role: terms.buyerAccount === account ? 'buyer' : 'provider',
      allocatedHours: terms.quantity,
      deliveredHours: settled.deliveredHours,
      shortfallHours: settled.shortfallHours,
      value: formatMoney(new Dec(settled.shortfallHours).times(terms.price), terms.currency as Currency),
    });
  }
  return out.sort(byAllocation);
};

/** Per allocation delivered in the period, the latest buyer − provider reported hours where they differ. */
export const readingDifferencesOf = (
  records: Iterable<AllocationRecord>,
  account: string,
  period: Period,
): ReadingDifference[] => {
  const latest = new Map<string, ReadingDifference>();
  for (const { terms, settled } of records) {
    if (!periodContainsDay(period, deliveryDayOf(terms))) continue;
    if (terms.buyerAccount !== account && terms.providerAccount !== account) continue;
    latest.set(terms.allocationId, {
      allocationId: terms.allocationId,
      providerReportedHours: settled.reportedHours,
      buyerReportedHours: settled.buyerReportedHours,
      differenceHours: new Dec(settled.buyerReportedHours).minus(settled.reportedHours).toFixed(),
    });
  }
  return [...latest.values()].filter((d) => !new Dec(d.differenceHours).isZero()).sort(byAllocation);
};

/** Totals, closing balance and the rest of the summary from the lines (decimal strings, summed exactly). */
export const summarise = (
  base: { account: string; period: string; currency: Currency; openingMinor: bigint },
  lines: Iterable<StatementLine>,
  extra: { shortfalls: Shortfall[]; readingDifferences: ReadingDifference[] },
): StatementSummary => {
  const { currency } = base;
  const minor = (s: string) => canonicalToMinor(s, currency);
  let charges = 0n;
  let fees = 0n;
  let deposits = 0n;
  let withdrawals = 0n;
  let notes = 0n;
  let other = 0n;
  let hoursMicro = 0n;
  let hourMoney = 0n;
  let tokensMicro = 0n;
  let tokenMoney = 0n;
  let count = 0;
  const versions = new Set<string>();
  for (const l of lines) {
    count++;
    const amount = minor(l.amount);
    fees += minor(l.fee);
    if (l.kind === 'deposit') deposits += amount;
    else if (l.kind === 'withdrawal') withdrawals += amount;
    else if (l.kind === 'credit_note' || l.kind === 'debit_note') notes += amount;
    else if (l.kind === 'other') other += amount;
    else charges += amount;
    if (l.unit === 'accelerator-hour' && l.quantity !== null) {
      hoursMicro += toMinorDigits(roundDigits(l.quantity, 6), 6);
      hourMoney += amount + minor(l.fee);
    } else if (l.unit === 'thousand-tokens' && l.quantity !== null) {
      tokensMicro += toMinorDigits(roundDigits(l.quantity, 6), 6);
      tokenMoney += amount + minor(l.fee);
    }
    if (l.guidanceVersion !== null) versions.add(l.guidanceVersion);
  }
  const net = charges + fees + deposits + withdrawals + notes + other;
  const f = (v: bigint) => formatAmount(v, currency);
  return {
    account: base.account,
    period: base.period,
    currency,
    openingBalance: f(base.openingMinor),
    closingBalance: f(base.openingMinor + net),
    totals: {
      charges: f(charges),
      fees: f(fees),
      deposits: f(deposits),
      withdrawals: f(withdrawals),
      notes: f(notes + other),
      net: f(net),
      acceleratorHours: formatDigits(hoursMicro, 6),
      costPerAcceleratorHour: hoursMicro === 0n ? null : perUnit(hourMoney, hoursMicro, currency),
      thousandTokens: formatDigits(tokensMicro, 6),
      costPerThousandTokens: tokensMicro === 0n ? null : perUnit(tokenMoney, tokensMicro, currency),
    },
    lineCount: count,
    shortfalls: extra.shortfalls,
    readingDifferences: extra.readingDifferences,
    guidanceVersions: [...versions].sort(),
  };
};

// ------------------------------------------------------------------------------------------------ content hash

/**
 * The content hash covers the business content only (DESIGN.md): the summary and the lines, not the statement's
 * id, version, issue time or the event positions it was built from. It is computed as the lines stream past, so a
 * million-line statement is never held in memory: sha256 over the RFC 8785 canonical JSON of the summary, then of
 * each line in order, each followed by a newline. An auditor recomputes it the same way.
 */
export class ContentHasher {
  private readonly hash: Hash = createHash('sha256');

  constructor(summary: StatementSummary) {
    this.hash.update(`${canonical(summary)}\n`);
  }

  line(l: StatementLine): void {
    this.hash.update(`${canonical(l)}\n`);
  }

  digest(): string {
    return this.hash.digest('hex');
  }
}

export const contentHashOf = (summary: StatementSummary, lines: Iterable<StatementLine>): string => {
  const h = new ContentHasher(summary);
  for (const l of lines) h.line(l);
  return h.digest();
};

const canonical = (v: unknown): string => {
  const s = canonicalize(v);
  assert(s !== undefined, 'a statement part has no canonical JSON');
  return s;
};

// ------------------------------------------------------------------------------------------------ arithmetic

/** A decimal string as an integer count of 10^-digits (exact; the string has at most `digits` decimals). */
const toMinorDigits = (s: string, digits: number): bigint => {
  const neg = s.startsWith('-');
  const [int = '0', frac = ''] = (neg ? s.slice(1) : s).split('.');
  assert(frac.length <= digits, `${s} has more than ${digits} decimals`);
  const v = BigInt(int + frac.padEnd(digits, '0'));
  return neg ? -v : v;
};

const formatDigits = (v: bigint, digits: number): string => {
  const neg = v < 0n;
  const abs = (neg ? -v : v).toString().padStart(digits + 1, '0');
  const s = digits === 0 ? abs : `${abs.slice(0, -digits)}.${abs.slice(-digits)}`;
  return neg ? `-${s}` : s;
};

/** |money| per unit, to the currency's minor unit, half-even (a presentation figure, not booked). */
const perUnit = (moneyMinor: bigint, unitsMicro: bigint, currency: Currency): string => {
  const abs = moneyMinor < 0n ? -moneyMinor : moneyMinor;
  const units = unitsMicro < 0n ? -unitsMicro : unitsMicro;
  const num = abs * 1_000_000n;
  let q = num / units;
  const r = num % units;
  if (r * 2n > units || (r * 2n === units && q % 2n === 1n)) q += 1n;
  return formatAmount(q, currency);
};

/** A decimal string rounded half-even to `digits` places (card-unit quantities may carry up to 12). */
const roundDigits = (s: string, digits: number): string =>
  new Dec(s).toDecimalPlaces(digits, Dec.ROUND_HALF_EVEN).toFixed();
