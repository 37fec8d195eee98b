import { type Position, type RecordedEvent, comparePositions, positionToString } from '@cx/event-store';
import { type Currency, isCurrency } from '@cx/shared-kernel';
import { canonicalJson } from '../../hash-chain';
import {
  ALLOCATION_BILLING_PREFIX,
  type AllocationSettled,
  type AllocationTerms,
  type CashMovement,
  OFFER_USAGE_PREFIX,
  type OfferUsageSettled,
  PERIOD_STREAM_PREFIX,
  type SettlementRecord,
  STATEMENT_STREAM_PREFIX,
  type StatementIssued,
  type StatementLine,
  type StatementLinesRecorded,
  type StatementSummary,
  type TransferRecord,
  bookingDay,
  buildLines,
  cashIn,
  canonicalToMinor,
  contentHashOf,
  formatAmount,
  parsePeriod,
  readingDifferencesOf,
  shortfallsOf,
  statementStream,
  summarise,
} from '../../service-domains';
import type { Checker, Report } from '../checker';
import type { AuditRule } from './rule';

// Statements (issue 8): each issued statement, every version, equals the one rebuilt from the event history alone
// with billing's own pure buildLines and summarise: the ledger's posted cash movements of the account booked in
// the period (only ledger events up to the revision the issue says it was built from) and the settlement records,
// of allocations and of offer usage (only those recorded up to the position it was built from). Settlements are checked on their own too: each one's
// transfers balance against its declared deltas, and once its period is closed every transfer is in the ledger,
// as submitted (allocation settlements; offer usage settlements are not checked on their own yet).
//
// The ledger is folded here into what a statement reads: posted cash movements (single transfers and posts of
// holds); holds, voids and expiries never move cash. Opening balance, shortfalls and reading differences come from
// billing's own pure functions (cashIn, shortfallsOf, readingDifferencesOf), the ones its statements use.
//
// Checks: statement.content-hash (the stored lines and summary do not hash to contentHash), statement.lines
// (a stored line differs from the rebuilt one; reported at the chunk that holds it), statement.summary (a summary
// field differs from the rebuilt one), statement.closing (closing ≠ opening + Σ(amount + fee) of the stored
// lines), statement.totals (opening or net ≠ the ledger's posted cash movements, or the totals do not add up),
// statement.chunks (line chunks missing, out of place or not contiguous), statement.built-from (it claims a
// ledger revision or position not yet written), statement.version, statement.malformed; settlement.unbalanced,
// settlement.transfer-missing, settlement.transfer-mismatch, settlement.malformed.
//
// Memory: every posted cash movement of participant accounts and every ledger transfer record (billing keeps the
// same), every settlement record, and the line chunks of a statement until its header arrives.

const LEDGER_PREFIX = 'ledger-';
/** How much of a line or field a message shows. */
const SHOW = 240;

interface At {
  stream: string;
  revision: string;
  position: string;
}

/** A posted cash movement of a participant, with the ledger revision that recorded it. */
interface Posting extends CashMovement {
  revision: bigint;
}

interface Ledger {
  currency: Currency;
  revision: bigint;
  /** Participant account → its posted cash movements, in ledger order. */
  cash: Map<string, Posting[]>;
  transfers: Map<string, TransferRecord>;
}

/** An allocation's settlement with its terms, as billing's facts resolve it for buildLines. */
interface AllocationRecord {
  terms: AllocationTerms;
  settled: AllocationSettled['data'];
}

interface Settlement {
  record: AllocationRecord;
  position: Position;
  at: At;
}

interface Chunk {
  issueId: unknown;
  offset: unknown;
  lines: unknown;
  revision: bigint;
  at: At;
}

export class StatementsChecker implements Checker {
  readonly name = 'statements';
  readonly warnings: string[] = [];
  private readonly ledgers = new Map<string, Ledger>();
  private readonly terms = new Map<string, AllocationTerms>();
  private readonly settlements = new Map<string, Settlement>();
  /** Offer usage settlements by settlement id, with where they were recorded. */
  private readonly offerSettlements = new Map<string, { offer: OfferUsageSettled['data']; position: Position }>();
  private readonly closedPeriods = new Set<string>();
  /** Statement stream → line chunks written since its last header. */
  private readonly chunks = new Map<string, Chunk[]>();
  /** Statement stream → statement ids of its versions, oldest first. */
  private readonly versions = new Map<string, string[]>();
  private readonly missingLedgers = new Set<string>();
  statementsChecked = 0;
  settlementsChecked = 0;

  onEvent(e: RecordedEvent, report: Report): void {
    const s = e.streamId;
    // One character first: this runs for every event of the history, and most are none of these.
    switch (s.charCodeAt(0)) {
      case 108: // l
        if (s.startsWith(LEDGER_PREFIX)) this.onLedger(e);
        return;
      case 98: // b
        if (s.startsWith(ALLOCATION_BILLING_PREFIX)) this.onAllocation(e, report);
        else if (e.type === 'OfferUsageSettled' && s.startsWith(OFFER_USAGE_PREFIX)) {
          const offer = e.data as OfferUsageSettled['data'] | null;
          if (typeof offer?.settlementId === 'string') {
            this.offerSettlements.set(offer.settlementId, { offer, position: e.position });
          }
        } else if (e.type === 'PeriodClosed' && s.startsWith(PERIOD_STREAM_PREFIX)) {
          const period = (e.data as { period?: unknown } | null)?.period;
          if (typeof period === 'string') this.closedPeriods.add(period);
        }
        return;
      case 115: // s
        if (s.startsWith(STATEMENT_STREAM_PREFIX)) this.onStatement(e, report);
        return;
    }
  }

  finish(report: Report): void {
    for (const { record, at } of this.settlements.values()) {
      const settled = record.settled;
      if (!this.closedPeriods.has(settled.period) || !isCurrency(settled.currency)) continue;
      const ledger = this.ledgers.get(`${LEDGER_PREFIX}${settled.currency}`);
      if (ledger === undefined) {
        this.warnOnce(`${LEDGER_PREFIX}${settled.currency}`);
        continue;
      }
      for (const t of settled.transfers) {
        const booked = ledger.transfers.get(t.id);
        if (booked === undefined) {
          report({
            check: 'settlement.transfer-missing',
            ...at,
            message: `settlement ${settled.settlementId} of closed period ${settled.period}: transfer ${t.id} (${t.code} ${t.amount}) is not in ${LEDGER_PREFIX}${settled.currency}`,
          });
          continue;
        }
        const differs: string[] = (['amount', 'debitAccount', 'creditAccount', 'code'] as const).filter(
          (k) => booked[k] !== t[k],
        );
        if ((booked.phase ?? 'single') !== (t.phase ?? 'single')) differs.push('phase');
        if (differs.length > 0) {
          report({
            check: 'settlement.transfer-mismatch',
            ...at,
            message: `settlement ${settled.settlementId}: transfer ${t.id} is in the ledger with another ${differs.join(', ')} (settled ${describe(t)}, booked ${describe(booked)})`,
          });
        }
      }
    }
  }

  // ------------------------------------------------------------------------------------------------ the ledger

  private onLedger(e: RecordedEvent): void {
    const currency = e.streamId.slice(LEDGER_PREFIX.length);
    if (!isCurrency(currency)) return;
    let ledger = this.ledgers.get(e.streamId);
    if (ledger === undefined) {
      ledger = { currency, revision: -1n, cash: new Map(), transfers: new Map() };
      this.ledgers.set(e.streamId, ledger);
    }
    ledger.revision = e.revision;
    if (e.type !== 'TransfersCommitted') return;
    const d = e.data as { at?: unknown; transfers?: unknown } | null;
    // The ledger checker reports malformed ledger events; here they simply add no movement.
    if (typeof d?.at !== 'string' || !Array.isArray(d.transfers)) return;
    for (const t of d.transfers as TransferRecord[]) {
      if (typeof t !== 'object' || t === null || typeof t.id !== 'string') continue;
      ledger.transfers.set(t.id, t);
      const phase = t.phase ?? 'single';
      // Holds (pending), their releases (void) and expiries never move cash; a post books the posted amount.
      if (phase !== 'single' && phase !== 'post') continue;
      let minor: bigint;
      try {
        minor = canonicalToMinor(t.amount, currency);
      } catch {
        continue;
      }
      const day = bookingDay(t, d.at);
      this.post(ledger, t.debitAccount, -minor, t, day, e.revision);
      this.post(ledger, t.creditAccount, minor, t, day, e.revision);
    }
  }

  private post(ledger: Ledger, key: unknown, amountMinor: bigint, t: TransferRecord, day: string, revision: bigint) {
    if (typeof key !== 'string' || !key.endsWith(':cash')) return;
    const account = key.slice(0, key.lastIndexOf(':'));
    // `<account>:cash` of a participant; the exchange's and the world's accounts are no one's statement.
    if (account === 'exchange' || account === 'world') return;
    let list = ledger.cash.get(account);
    if (list === undefined) ledger.cash.set(account, (list = []));
    list.push({ transferId: t.id, amountMinor, code: t.code ?? null, ref: t.ref ?? null, day, revision });
  }

  // ------------------------------------------------------------------------------------------------ settlements

  private onAllocation(e: RecordedEvent, report: Report): void {
    const allocationId = e.streamId.slice(ALLOCATION_BILLING_PREFIX.length);
    if (e.type === 'AllocationRegistered') {
      if (typeof e.data === 'object' && e.data !== null) this.terms.set(allocationId, e.data as AllocationTerms);
      return;
    }
    if (e.type !== 'AllocationSettled') return;
    const at = atOf(e);
    const settled = e.data as AllocationSettled['data'] | null;
    if (
      typeof settled !== 'object' ||
      settled === null ||
      typeof settled.settlementId !== 'string' ||
      typeof settled.period !== 'string' ||
      !Array.isArray(settled.transfers) ||
      !isCurrency(settled.currency)
    ) {
      report({
        check: 'settlement.malformed',
        ...at,
        message: 'AllocationSettled without a settlement id, period, currency or transfers',
      });
      return;
    }
    this.settlementsChecked++;
    const terms = this.terms.get(allocationId);
    // Billing records a settlement only for an allocation whose terms it knows; so does the rebuild.
    if (terms !== undefined) {
      this.settlements.set(settled.settlementId, { record: { terms, settled }, position: e.position, at });
    }
    const problem = unbalanced(settled, settled.currency);
    if (problem !== null)
      report({ check: 'settlement.unbalanced', ...at, message: `settlement ${settled.settlementId}: ${problem}` });
  }

  // ------------------------------------------------------------------------------------------------ statements

  private onStatement(e: RecordedEvent, report: Report): void {
    if (e.type === 'StatementLinesRecorded') {
      const d = e.data as Partial<StatementLinesRecorded['data']> | null;
      let list = this.chunks.get(e.streamId);
      if (list === undefined) this.chunks.set(e.streamId, (list = []));
      list.push({ issueId: d?.issueId, offset: d?.offset, lines: d?.lines, revision: e.revision, at: atOf(e) });
      return;
    }
    if (e.type !== 'StatementIssued') return;
    // Chunks of an issue that never got its header (a crash mid-way) are ignored, as billing ignores them.
    const chunks = this.chunks.get(e.streamId) ?? [];
    this.chunks.delete(e.streamId);
    const at = atOf(e);
    const fail = (check: string, message: string): void => report({ check, ...at, message });
    const h = e.data as StatementIssued['data'] | null;
    const summary = h?.summary;
    if (typeof h !== 'object' || h === null || typeof summary !== 'object' || summary === null) {
      return fail('statement.malformed', 'StatementIssued has no summary');
    }
    const period = parsePeriod(summary.period);
    const currency = summary.currency;
    if (
      period === null ||
      !isCurrency(currency) ||
      typeof summary.account !== 'string' ||
      statementStream(summary.account, period.id) !== e.streamId
    ) {
      return fail(
        'statement.malformed',
        `the summary names account ${String(summary.account)}, period ${String(summary.period)}, currency ${String(currency)}, which is not this stream's statement`,
      );
    }
    this.statementsChecked++;
    this.checkVersion(e.streamId, h, fail);

    const stored = this.storedLines(h, chunks, fail);
    if (stored === null) return;
    const lines = stored.flatMap((c) => c.lines);

    // The hash over what is stored, exactly as billing computes it (and as any auditor can).
    let hash: string | null = null;
    try {
      hash = contentHashOf(summary, lines);
    } catch (err) {
      fail('statement.malformed', `cannot hash the statement: ${(err as Error).message}`);
    }
    if (hash !== null && hash !== h.contentHash) {
      fail(
        'statement.content-hash',
        `${h.statementId}: the stored summary and ${lines.length} line(s) hash to ${hash.slice(0, 16)}…, the header says ${String(h.contentHash).slice(0, 16)}…`,
      );
    }
    this.checkClosing(summary, currency, lines, fail);

    // The rebuild, from the ledger and the settlements as they were when the issue was built.
    const ledgerStream = `${LEDGER_PREFIX}${currency}`;
    const ledger = this.ledgers.get(ledgerStream);
    const claimed = h.builtFrom?.ledgerRevision ?? null;
    if (claimed !== null && !/^\d{1,20}$/.test(String(claimed))) {
      return fail('statement.built-from', `builtFrom.ledgerRevision ${String(claimed)} is not a revision`);
    }
    const revision = claimed === null ? -1n : BigInt(claimed);
    if (ledger === undefined && revision >= 0n) {
      this.warnOnce(ledgerStream);
      return;
    }
    if (revision > (ledger?.revision ?? -1n)) {
      return fail(
        'statement.built-from',
        `${h.statementId} says it was built from ${ledgerStream} at revision ${revision}, which had only ${ledger?.revision ?? -1n} then`,
      );
    }
    let asOf: Position = e.position;
    const p = h.builtFrom?.position;
    if (p !== null && p !== undefined) {
      try {
        asOf = { commit: BigInt(p.commit), prepare: BigInt(p.prepare) };
      } catch {
        return fail('statement.built-from', `builtFrom.position is not a position`);
      }
      if (comparePositions(asOf, e.position) > 0) {
        return fail('statement.built-from', `built from position ${positionToString(asOf)}, after the header itself`);
      }
    }
    const account = summary.account;
    const { openingMinor, inPeriod } = cashIn(upTo(ledger?.cash.get(account) ?? [], revision), period);
    // As billing's facts resolve a settlement id: offer usage first, then allocations.
    const known = (id: string): SettlementRecord | undefined => {
      const o = this.offerSettlements.get(id);
      if (o !== undefined) return comparePositions(o.position, asOf) <= 0 ? { offer: o.offer } : undefined;
      const s = this.settlements.get(id);
      return s !== undefined && comparePositions(s.position, asOf) <= 0 ? s.record : undefined;
    };
    const records = [...this.settlements.values()].filter((s) => comparePositions(s.position, asOf) <= 0);
    let rebuilt: { lines: StatementLine[]; summary: StatementSummary };
    try {
      const rebuiltLines = buildLines(account, currency, inPeriod, known);
      rebuilt = {
        lines: rebuiltLines,
        summary: summarise({ account, period: period.id, currency, openingMinor }, rebuiltLines, {
          shortfalls: shortfallsOf(
            records.map((r) => r.record),
            account,
            period,
          ),
          readingDifferences: readingDifferencesOf(
            records.map((r) => r.record),
            account,
            period,
          ),
        }),
      };
    } catch (err) {
      return fail('statement.malformed', `cannot rebuild the statement: ${(err as Error).message}`);
    }
    this.checkTotals(summary, currency, openingMinor, inPeriod, ledgerStream, revision, fail);
    this.compareLines(h.statementId, stored, rebuilt.lines, fail, report);
    this.compareSummary(h.statementId, summary, rebuilt.summary, fail);
  }

  private checkVersion(stream: string, h: StatementIssued['data'], fail: (check: string, message: string) => void) {
    let ids = this.versions.get(stream);
    if (ids === undefined) this.versions.set(stream, (ids = []));
    if (h.version !== ids.length + 1) {
      fail(
        'statement.version',
        `${String(h.statementId)} is version ${String(h.version)}, after ${ids.length} version(s)`,
      );
    }
    if (h.supersedes !== null && !ids.includes(h.supersedes)) {
      fail('statement.version', `${String(h.statementId)} supersedes ${String(h.supersedes)}, not an earlier version`);
    }
    ids.push(String(h.statementId));
  }

  /** This issue's chunks, in order, checked against the header's lineChunks; null when they cannot be read. */
  private storedLines(
    h: StatementIssued['data'],
    chunks: readonly Chunk[],
    fail: (check: string, message: string) => void,
  ): Array<{ lines: StatementLine[]; offset: number; at: At }> | null {
    const mine = chunks.filter((c) => c.issueId === h.issueId);
    const out: Array<{ lines: StatementLine[]; offset: number; at: At }> = [];
    let expected = 0;
    for (const c of mine) {
      if (!Array.isArray(c.lines) || c.offset !== expected) {
        fail(
          'statement.chunks',
          `${h.statementId}: the chunk at revision ${c.revision} starts at line ${String(c.offset)}, expected ${expected}${Array.isArray(c.lines) ? '' : ' (and has no lines)'}`,
        );
        return null;
      }
      out.push({ lines: c.lines as StatementLine[], offset: expected, at: c.at });
      expected += c.lines.length;
    }
    const range = h.lineChunks;
    const first = mine[0];
    const last = mine[mine.length - 1];
    const ok =
      range === null
        ? mine.length === 0
        : first !== undefined &&
          last !== undefined &&
          String(first.revision) === range.fromRevision &&
          String(last.revision) === range.toRevision;
    if (!ok) {
      fail(
        'statement.chunks',
        `${h.statementId}: lineChunks ${range === null ? 'null' : `${range.fromRevision}..${range.toRevision}`}, but its chunks are at revisions [${mine.map((c) => c.revision).join(', ')}]`,
      );
    }
    return out;
  }

  /** closing = opening + Σ(amount + fee) over the stored lines, exactly. */
  private checkClosing(
    summary: StatementSummary,
    currency: Currency,
    lines: readonly StatementLine[],
    fail: (check: string, message: string) => void,
  ): void {
    try {
      let sum = canonicalToMinor(summary.openingBalance, currency);
      for (const l of lines) sum += canonicalToMinor(l.amount, currency) + canonicalToMinor(l.fee, currency);
      if (formatAmount(sum, currency) !== summary.closingBalance) {
        fail(
          'statement.closing',
          `closing balance ${summary.closingBalance} ≠ opening ${summary.openingBalance} + Σ(amount + fee) of ${lines.length} line(s) = ${formatAmount(sum, currency)}`,
        );
      }
    } catch (err) {
      fail('statement.malformed', `an amount is not a canonical ${currency} amount: ${(err as Error).message}`);
    }
  }

  /** The header's opening and net against the ledger's posted cash movements, and its totals against each other. */
  private checkTotals(
    summary: StatementSummary,
    currency: Currency,
    openingMinor: bigint,
    inPeriod: readonly CashMovement[],
    ledgerStream: string,
    revision: bigint,
    fail: (check: string, message: string) => void,
  ): void {
    const f = (v: bigint) => formatAmount(v, currency);
    let moved = 0n;
    for (const m of inPeriod) moved += m.amountMinor;
    const problems: string[] = [];
    const t = summary.totals;
    if (summary.openingBalance !== f(openingMinor)) {
      problems.push(`opening ${summary.openingBalance} ≠ ${f(openingMinor)} posted before the period`);
    }
    if (t?.net !== f(moved)) {
      problems.push(`net ${String(t?.net)} ≠ ${f(moved)} posted in the period (${inPeriod.length} movement(s))`);
    }
    try {
      const parts = [t.charges, t.fees, t.deposits, t.withdrawals, t.notes].reduce(
        (acc, v) => acc + canonicalToMinor(v, currency),
        0n,
      );
      if (f(parts) !== t.net)
        problems.push(`charges + fees + deposits + withdrawals + notes = ${f(parts)} ≠ net ${t.net}`);
    } catch {
      problems.push('a total is not a canonical amount');
    }
    if (problems.length > 0) {
      fail(
        'statement.totals',
        `${summary.account} ${summary.period} against ${ledgerStream} up to revision ${revision}: ${problems.join('; ')}`,
      );
    }
  }

  private compareLines(
    statementId: string,
    stored: ReadonlyArray<{ lines: StatementLine[]; offset: number; at: At }>,
    rebuilt: readonly StatementLine[],
    fail: (check: string, message: string) => void,
    report: Report,
  ): void {
    let count = 0;
    for (const chunk of stored) {
      let first = -1;
      let differing = 0;
      chunk.lines.forEach((l, i) => {
        const r = rebuilt[chunk.offset + i];
        if (r === undefined || safeCanonical(l) !== canonicalJson(r)) {
          differing++;
          if (first < 0) first = i;
        }
      });
      count += chunk.lines.length;
      if (differing === 0) continue;
      const n = chunk.offset + first;
      const r = rebuilt[n];
      report({
        check: 'statement.lines',
        ...chunk.at,
        message: `${statementId}: ${differing} line(s) of this chunk differ from the rebuild; line ${n + 1} is ${clip(safeCanonical(chunk.lines[first]))}, rebuilt ${r === undefined ? 'nothing (no such line)' : clip(canonicalJson(r))}`,
      });
    }
    if (count < rebuilt.length) {
      fail(
        'statement.lines',
        `${statementId}: ${count} line(s) stored, ${rebuilt.length} rebuilt; first missing: ${clip(canonicalJson(rebuilt[count]))}`,
      );
    }
  }

  private compareSummary(
    statementId: string,
    stored: StatementSummary,
    rebuilt: StatementSummary,
    fail: (check: string, message: string) => void,
  ): void {
    const differs: string[] = [];
    for (const k of Object.keys(rebuilt) as Array<keyof StatementSummary>) {
      const a = safeCanonical(stored[k]);
      const b = canonicalJson(rebuilt[k]);
      if (a !== b) differs.push(`${k} ${clip(a, 80)} (rebuilt ${clip(b, 80)})`);
    }
    if (differs.length > 0) fail('statement.summary', `${statementId}: ${differs.join('; ')}`);
  }

  private warnOnce(ledgerStream: string): void {
    if (this.missingLedgers.has(ledgerStream)) return;
    this.missingLedgers.add(ledgerStream);
    this.warnings.push(`${ledgerStream} is not in the sources: statements and settlements in it were not rebuilt`);
  }
}

// ------------------------------------------------------------------------------------------------ the rebuild

/** The account's postings up to a ledger revision, in ledger order (what a statement built then could see). */
function* upTo(postings: readonly Posting[], revision: bigint): Generator<Posting> {
  for (const m of postings) {
    if (m.revision > revision) return;
    yield m;
  }
}

/**
 * Why a settlement's transfers do not balance, or null. Each transfer moves one positive canonical amount between
 * two different accounts; and per owner, what the posted transfers (voids release a hold and move nothing) move
 * equals what the settlement declares: the buyer pays chargeDelta + buyerFeeDelta (from cash or the hold), the
 * provider receives chargeDelta − providerFeeDelta, the exchange's fee account both fee deltas.
 */
const unbalanced = (s: AllocationSettled['data'], currency: Currency): string | null => {
  const net = new Map<string, bigint>();
  const add = (owner: string, v: bigint) => net.set(owner, (net.get(owner) ?? 0n) + v);
  const expected = new Map<string, bigint>();
  const expect = (owner: string, v: bigint) => expected.set(owner, (expected.get(owner) ?? 0n) + v);
  try {
    for (const t of s.transfers) {
      const amount = canonicalToMinor(t.amount, currency);
      if (formatAmount(amount, currency) !== t.amount || amount <= 0n)
        return `transfer ${t.id}: amount ${t.amount} is not positive`;
      if (t.debitAccount === t.creditAccount) return `transfer ${t.id} debits and credits ${t.debitAccount}`;
      if (t.phase === 'void') continue;
      add(ownerOf(t.debitAccount), -amount);
      add(ownerOf(t.creditAccount), amount);
    }
    const m = (v: string) => canonicalToMinor(v, currency);
    expect(s.buyerAccount, -(m(s.chargeDelta) + m(s.buyerFeeDelta)));
    expect(s.providerAccount, m(s.chargeDelta) - m(s.providerFeeDelta));
    expect('exchange', m(s.buyerFeeDelta) + m(s.providerFeeDelta));
  } catch (err) {
    return `an amount is not a canonical ${currency} amount (${(err as Error).message})`;
  }
  const off: string[] = [];
  for (const owner of new Set([...net.keys(), ...expected.keys()])) {
    const got = net.get(owner) ?? 0n;
    const want = expected.get(owner) ?? 0n;
    if (got !== want)
      off.push(`${owner} moves ${formatAmount(got, currency)}, declared ${formatAmount(want, currency)}`);
  }
  return off.length === 0 ? null : `its transfers do not match its deltas: ${off.join('; ')}`;
};

const ownerOf = (key: string): string => key.slice(0, key.lastIndexOf(':'));

const atOf = (e: RecordedEvent): At => ({
  stream: e.streamId,
  revision: e.revision.toString(),
  position: positionToString(e.position),
});

const safeCanonical = (v: unknown): string => {
  try {
    return canonicalJson(v);
  } catch {
    return String(v);
  }
};

const clip = (s: string | undefined, n = SHOW): string =>
  s === undefined ? 'nothing' : s.length > n ? `${s.slice(0, n)}…` : s;

const describe = (t: Partial<TransferRecord>): string =>
  `${t.phase ?? 'single'} ${String(t.code)} ${String(t.amount)} ${String(t.debitAccount)} → ${String(t.creditAccount)}`;

export const statementsRule: AuditRule = { name: 'statements', create: () => new StatementsChecker() };
