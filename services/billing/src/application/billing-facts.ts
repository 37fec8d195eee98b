import type { Position, ProjectionModel, RecordedEvent } from '@cx/event-store';
import {
  type AllocationBillingState,
  evolve as evolveAllocation,
  initialAllocationBilling,
} from '../domain/settlement/allocation-billing.decider';
import {
  ALLOCATION_BILLING_PREFIX,
  type AllocationBillingEvent,
  type AllocationSettled,
  isAllocationBillingEvent,
  TRADE_BILLING_PREFIX,
  type TradeHeard,
} from '../domain/settlement/allocation-billing.events';
import {
  PERIOD_STREAM_PREFIX,
  type PeriodClosed,
  type PeriodStatementsIssued,
} from '../domain/settlement/period.events';
import type { AllocationRecord, SettlementRecord } from '../domain/statement/statement';
import { STATEMENT_STREAM_PREFIX, type StatementIssued } from '../domain/statement/statement.events';
import { NOTE_STREAM_PREFIX, type NoteIssued } from '../domain/correction/correction.decider';
import {
  evolveOfferUsage,
  initialOfferUsage,
  isOfferUsageEvent,
  OFFER_USAGE_PREFIX,
  type OfferUsageEvent,
  type OfferUsageSettled,
  type OfferUsageState,
} from '../domain/settlement/offer-usage';

// Billing's own facts, folded from its streams by a catch-up projection: allocations with their readings and
// settlements, the trades' maker/taker sides, closed periods and issued statements. Writers decide against it
// and append at the revision it knows for the stream (a lost race is caught up and decided again), then wait
// until it has their own event, so the next decision sees it.

export const BILLING_FACT_PREFIXES = [
  OFFER_USAGE_PREFIX,
  NOTE_STREAM_PREFIX,
  ALLOCATION_BILLING_PREFIX,
  TRADE_BILLING_PREFIX,
  PERIOD_STREAM_PREFIX,
  STATEMENT_STREAM_PREFIX,
];

export interface AllocationEntry {
  state: AllocationBillingState;
  revision: bigint;
}

export class BillingFacts implements ProjectionModel {
  position: Position | null = null;
  readonly allocations = new Map<string, AllocationEntry>();
  /** Allocation settlements by settlement id. */
  readonly settlements = new Map<string, AllocationRecord>();
  /** Offer usage settlements by settlement id. */
  readonly offerSettlements = new Map<string, OfferUsageSettled['data']>();
  readonly trades = new Map<string, TradeHeard['data']>();
  readonly periods = new Map<string, PeriodClosed['data']>();
  /** Period stream → its revision. */
  readonly periodRevisions = new Map<string, bigint>();
  /** Periods whose statements were all issued: a close that got this far is complete. */
  readonly completedPeriods = new Set<string>();
  /** Each allocation's latest settlement. */
  readonly lastSettlement = new Map<string, AllocationSettled['data']>();
  /** `<account>|<period>` → issued versions, oldest first. */
  readonly statements = new Map<string, StatementIssued['data'][]>();
  /** A reading's `(source, id)` key → the stream it was recorded in (corrections name only the usage). */
  readonly readingStream = new Map<string, string>();
  /** Offer usage aggregates by stream. */
  readonly offerUsage = new Map<string, { state: OfferUsageState; revision: bigint }>();
  /** `<account>|<period>` → notes issued against that statement, in the order issued. */
  readonly notes = new Map<string, NoteIssued['data'][]>();
  /** Statement stream → its revision, for the next issue's append. */
  readonly statementRevisions = new Map<string, bigint>();

  apply(e: RecordedEvent): void {
    this.position = e.position;
    const stream = e.streamId;
    if (stream.startsWith(ALLOCATION_BILLING_PREFIX)) {
      const id = stream.slice(ALLOCATION_BILLING_PREFIX.length);
      let entry = this.allocations.get(id);
      if (entry === undefined) this.allocations.set(id, (entry = { state: initialAllocationBilling(), revision: -1n }));
      entry.revision = e.revision;
      if (!isAllocationBillingEvent(e.type)) return;
      const event = { type: e.type, data: e.data } as AllocationBillingEvent;
      evolveAllocation(entry.state, event);
      if (event.type === 'DeliveryReadingRecorded') this.readingStream.set(event.data.key, stream);
      if (event.type === 'AllocationSettled' && entry.state.terms !== null) {
        this.settlements.set(event.data.settlementId, { terms: entry.state.terms, settled: event.data });
        this.lastSettlement.set(id, event.data);
      }
    } else if (stream.startsWith(OFFER_USAGE_PREFIX)) {
      let entry = this.offerUsage.get(stream);
      if (entry === undefined) this.offerUsage.set(stream, (entry = { state: initialOfferUsage(), revision: -1n }));
      entry.revision = e.revision;
      if (!isOfferUsageEvent(e.type)) return;
      const event = { type: e.type, data: e.data } as OfferUsageEvent;
      evolveOfferUsage(entry.state, event);
      if (event.type === 'DeliveryReadingRecorded') this.readingStream.set(event.data.key, stream);
      if (event.type === 'OfferUsageSettled') this.offerSettlements.set(event.data.settlementId, event.data);
    } else if (stream.startsWith(TRADE_BILLING_PREFIX)) {
      if (e.type === 'TradeHeard') {
        const d = e.data as TradeHeard['data'];
        this.trades.set(d.tradeId, d);
      }
    } else if (stream.startsWith(PERIOD_STREAM_PREFIX)) {
      this.periodRevisions.set(stream.slice(PERIOD_STREAM_PREFIX.length), e.revision);
      if (e.type === 'PeriodClosed') {
        const d = e.data as PeriodClosed['data'];
        this.periods.set(d.period, d);
      } else if (e.type === 'PeriodStatementsIssued') {
        this.completedPeriods.add((e.data as PeriodStatementsIssued['data']).period);
      }
    } else if (stream.startsWith(NOTE_STREAM_PREFIX)) {
      if (e.type === 'NoteIssued') {
        const d = e.data as NoteIssued['data'];
        const key = `${d.account}|${d.period}`;
        this.notes.set(key, [...(this.notes.get(key) ?? []), d]);
      }
    } else if (stream.startsWith(STATEMENT_STREAM_PREFIX)) {
      this.statementRevisions.set(stream, e.revision);
      if (e.type === 'StatementIssued') {
        const d = e.data as StatementIssued['data'];
        const key = `${d.summary.account}|${d.summary.period}`;
        const versions = this.statements.get(key) ?? [];
        versions.push(d);
        this.statements.set(key, versions);
      }
    }
  }

  /** What a settlement id settled (an allocation's delivery or an offer's usage), for statement lines. */
  settlementRecord(id: string): SettlementRecord | undefined {
    const offer = this.offerSettlements.get(id);
    return offer !== undefined ? { offer } : this.settlements.get(id);
  }

  /** The latest closed day, or null before the first close. */
  lastClosedDay(): string | null {
    let last: string | null = null;
    for (const p of this.periods.values()) if (p.kind === 'day' && (last === null || p.period > last)) last = p.period;
    return last;
  }
}
