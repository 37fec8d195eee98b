import { Inject, Injectable, Logger } from '@nestjs/common';
import { type CommandMetadata, NO_STREAM, toNewEvents, WrongExpectedVersion } from '@cx/event-store';
import { IdentityProjection } from '@cx/identity';
import { CLOCK, type Clock, type Currency, Dec, DomainError, isCurrency } from '@cx/shared-kernel';
import { BILLING_CONFIG, type BillingConfig, feeScheduleOf } from '../config';
import type { FeeSchedule } from '../domain/rating/fees';
import { monthOf, notionalByAccount, settlementFeeBps } from '../domain/rating/fee-tiers';
import type { TransferInput } from '../domain/ledger/ledger.decider';
import { decideSettlement, deliveryDayOf } from '../domain/settlement/allocation-billing.decider';
import {
  type AllocationSettled,
  allocationBillingStream,
  type SettlementTransfer,
} from '../domain/settlement/allocation-billing.events';
import { type PeriodClosed, type PeriodStatementsIssued, periodStream } from '../domain/settlement/period.events';
import { daysOf, nextDay, type Period, parsePeriod } from '../domain/settlement/periods';
import type { StatementIssued } from '../domain/statement/statement.events';
import { BillingLedgerService, holdTransferId } from '../interface/ledger.http.service';
import { BillingFactsService } from './billing-facts.service';
import { GuidanceView } from './guidance-view';
import { OffersService } from '../interface/offers.http.service';
import {
  decideOfferUsageSettlement,
  OFFER_USAGE_PREFIX,
  type OfferUsageSettled,
} from '../domain/settlement/offer-usage';
import { StatementsService } from './statements.service';

export interface CloseResult {
  period: string;
  kind: Period['kind'];
  closedAt: string;
  settlements: number;
  statements: Array<{ account: string; statementId: string; contentHash: string }>;
  /** True when this call finished a close an earlier call had recorded but not completed (a crash mid-way). */
  resumed: boolean;
}

/** Reference prices for overage: the band's reference per accelerator-hour at an instant (null: none in force). */
export interface ReferencePrices {
  referenceAt(resourceClass: string, region: string | null, at: Date): { price: string; version: string } | null;
}
export const REFERENCE_PRICES = 'cx.billing.ReferencePrices';

/**
 * Closes billing periods (issue: "Periods"). Closing a day settles every allocation delivered up to it that is not
 * settled yet or changed since (late or corrected readings book an adjustment here, in the next open period),
 * records the close, and issues every account's statement; closing a month issues monthly statements over its
 * closed days. Days close in order, so a day's opening balance never changes after it is stated.
 *
 * A close is resumable: settlements are recorded (with the exact transfers they book) before the ledger is asked,
 * transfers have deterministic ids, and statements are issued once per period; a close cut short by a crash or by
 * a refused transfer is finished by calling it again, and books nothing twice.
 */
@Injectable()
export class PeriodCloseService {
  private readonly logger = new Logger('billing.periods');
  /** One close (or note) at a time: statements of one period are never issued concurrently. */
  private lock: Promise<unknown> = Promise.resolve();
  /** Maker and taker rates, with the monthly volume tiers, as configured. */
  private readonly fees: FeeSchedule;

  constructor(
    private readonly facts: BillingFactsService,
    private readonly ledgers: BillingLedgerService,
    private readonly statements: StatementsService,
    private readonly identity: IdentityProjection,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(BILLING_CONFIG) private readonly config: BillingConfig,
    @Inject(REFERENCE_PRICES) private readonly references: ReferencePrices,
    private readonly offers: OffersService,
    private readonly guidance: GuidanceView,
  ) {
    this.fees = feeScheduleOf(config);
  }

  /** Runs `work` under the billing lock (closes and corrections serialise here). */
  exclusive<T>(work: () => Promise<T>): Promise<T> {
    const run = this.lock.then(work, work);
    this.lock = run.catch(() => undefined);
    return run;
  }

  close(periodId: string, meta: CommandMetadata): Promise<CloseResult> {
    const period = parsePeriod(periodId);
    if (period === null) {
      throw DomainError.invalid(
        'BILLING.PERIOD_INVALID',
        `"${periodId}" is not a UTC day YYYY-MM-DD or month YYYY-MM`,
        'period',
      );
    }
    const closableAt = period.endMs + this.config.periodGraceMs;
    if (this.clock.now().getTime() < closableAt) {
      throw new DomainError(
        'BILLING.PERIOD_GRACE_NOT_OVER',
        `${period.id} can be closed from ${new Date(closableAt).toISOString()} (its end plus the late-usage grace)`,
        'unprocessable',
        [{ field: 'period', code: 'BILLING.PERIOD_GRACE_NOT_OVER' }],
      );
    }
    return this.exclusive(() => this.closeLocked(period, meta));
  }

  private async closeLocked(period: Period, meta: CommandMetadata): Promise<CloseResult> {
    await this.facts.ready();
    await this.identity.ready();
    const f = this.facts.facts;
    const recorded = f.periods.get(period.id);
    if (f.completedPeriods.has(period.id)) {
      throw DomainError.conflict('BILLING.PERIOD_ALREADY_CLOSED', `${period.id} is already closed`, 'period');
    }
    this.checkOrder(period, recorded !== undefined);
    let settlementIds: string[] = recorded?.settlementIds ?? [];
    if (recorded === undefined && period.kind === 'day') settlementIds = await this.settle(period, meta);
    const closedAt = recorded?.closedAt ?? this.clock.now().toISOString();
    if (recorded === undefined) {
      const closed: PeriodClosed['data'] = {
        period: period.id,
        kind: period.kind,
        start: new Date(period.startMs).toISOString(),
        end: new Date(period.endMs).toISOString(),
        closedAt,
        graceMs: this.config.periodGraceMs,
        settlementIds,
      };
      await this.facts.decideAndAppend(
        periodStream(period.id),
        () => NO_STREAM,
        () => ({
          result: null,
          events: toNewEvents([{ type: 'PeriodClosed', data: closed }], meta),
        }),
      );
    }
    const statements = await this.issueStatements(period, meta);
    const done: PeriodStatementsIssued['data'] = {
      period: period.id,
      statementIds: statements.map((s) => s.statementId),
    };
    await this.facts.decideAndAppend(
      periodStream(period.id),
      () => this.facts.facts.periodRevisions.get(period.id) ?? NO_STREAM,
      () => ({ result: null, events: toNewEvents([{ type: 'PeriodStatementsIssued', data: done }], meta) }),
    );
    return {
      period: period.id,
      kind: period.kind,
      closedAt,
      settlements: settlementIds.length,
      statements,
      resumed: recorded !== undefined,
    };
  }

  /** Days close in order after the first; a month closes once all its days have. */
  private checkOrder(period: Period, alreadyRecorded: boolean): void {
    const last = this.facts.facts.lastClosedDay();
    if (period.kind === 'month') {
      const days = daysOf(period);
      const lastDay = days[days.length - 1] as string;
      if (last === null || last < lastDay) {
        throw new DomainError(
          'BILLING.PERIOD_DAYS_OPEN',
          `${period.id} has open days: close every day up to ${lastDay} first (last closed: ${last ?? 'none'})`,
          'unprocessable',
          [{ field: 'period', code: 'BILLING.PERIOD_DAYS_OPEN' }],
        );
      }
      return;
    }
    if (alreadyRecorded || last === null) return;
    if (period.id < last) {
      throw new DomainError(
        'BILLING.PERIOD_OUT_OF_ORDER',
        `${period.id} is before the last closed day ${last}; its money is booked in the periods after it`,
        'unprocessable',
        [{ field: 'period', code: 'BILLING.PERIOD_OUT_OF_ORDER' }],
      );
    }
    if (period.id !== nextDay(last)) {
      throw new DomainError(
        'BILLING.EARLIER_PERIOD_OPEN',
        `close ${nextDay(last)} first: days close in order (last closed: ${last})`,
        'unprocessable',
        [{ field: 'period', code: 'BILLING.EARLIER_PERIOD_OPEN' }],
      );
    }
  }

  // -------------------------------------------------------------------------------------------- settlement

  /**
   * Settles every allocation delivered on or before the day that has nothing settled yet or changed since.
   * Records each settlement, then books its transfers as one linked chain. Refused transfers leave the period
   * open and say which allocation and why; calling close again re-submits the same transfers.
   */
  private async settle(period: Period, meta: CommandMetadata): Promise<string[]> {
    const f = this.facts.facts;
    const settled: string[] = [];
    const refused: Array<{ field: string; code: string }> = [];
    const ids = [...f.allocations.keys()].sort();
    // Month-to-date traded notional per account, before each settlement of this close (see fee-tiers.ts).
    const month = monthOf(period.id);
    const traded = notionalByAccount(f.settlements.values(), month);
    const tradedBy = (account: string) => traded.get(account) ?? new Dec(0);
    for (const allocationId of ids) {
      const entry = f.allocations.get(allocationId);
      const terms = entry?.state.terms;
      if (entry === undefined || terms == null || deliveryDayOf(terms) > period.id) continue;
      if (!isCurrency(terms.currency)) continue;
      const currency: Currency = terms.currency;
      const { ledger } = await this.ledgers.movements(currency);
      // Accounts must exist in the ledger before money moves to them (their credit lines make them).
      await this.ledgers.ensureAccount(terms.buyerAccount, meta);
      await this.ledgers.ensureAccount(terms.providerAccount, meta);
      const settlement = await this.facts.decideAndAppend(
        allocationBillingStream(allocationId),
        () => f.allocations.get(allocationId)?.revision ?? NO_STREAM,
        () => {
          const state = f.allocations.get(allocationId)?.state;
          if (state === undefined) return { result: null, events: [] };
          const trade = f.trades.get(terms.tradeId);
          const buyerTakes = trade?.aggressorSide !== 'sell';
          const providerTakes = trade?.aggressorSide !== 'buy';
          const hold = ledger.pendingStatus(holdTransferId(terms.tradeId));
          const events = decideSettlement(state, {
            settlementId: `${allocationId}:s${state.settled.sequence + 1}`,
            period: period.id,
            currency,
            // A trade billing never heard (it should always hear it) is charged as taker on both sides.
            buyerFeeBps: settlementFeeBps(this.fees, buyerTakes ? 'taker' : 'maker', tradedBy(terms.buyerAccount)),
            providerFeeBps: settlementFeeBps(
              this.fees,
              providerTakes ? 'taker' : 'maker',
              tradedBy(terms.providerAccount),
            ),
            reference: this.references.referenceAt(terms.resourceClass, terms.region, new Date(terms.deliveryStart)),
            hold:
              hold !== undefined && hold.status === 'pending'
                ? { id: holdTransferId(terms.tradeId), amount: hold.amount }
                : null,
            now: this.clock.now(),
          });
          const [event] = events;
          return { result: event?.data ?? null, events: toNewEvents(events, meta) };
        },
      );
      // Counted once recorded, booked or not: a close run again after a refusal starts from every recorded
      // settlement, so the allocations after this one must see it here too.
      if (settlement !== null) {
        for (const account of new Set([terms.buyerAccount, terms.providerAccount])) {
          traded.set(account, tradedBy(account).plus(settlement.chargeDelta));
        }
      }
      // Also re-books a settlement recorded by an earlier, interrupted close.
      const toBook = settlement ?? this.unbooked(allocationId, ledger);
      if (toBook === null) {
        // Settled and booked in this period by an earlier close that a crash cut short: still one of this close's.
        const last = this.facts.facts.lastSettlement.get(allocationId);
        if (last?.period === period.id) settled.push(last.settlementId);
        continue;
      }
      const results = await ledger.submit(chain(toBook.transfers), meta);
      const bad = results.find((r) => r.result !== 'ok' && r.result !== 'exists');
      if (bad !== undefined) {
        refused.push({ field: `allocations.${allocationId}`, code: `BILLING.${bad.result.toUpperCase()}` });
        continue;
      }
      if (settlement !== null || toBook.period === period.id) settled.push(toBook.settlementId);
    }
    for (const stream of [...f.offerUsage.keys()].sort()) {
      const outcome = await this.settleOfferUsage(stream, period, meta);
      if (outcome === null) continue;
      if ('refused' in outcome) refused.push(outcome.refused);
      else settled.push(outcome.settlementId);
    }
    if (refused.length > 0) {
      throw new DomainError(
        'BILLING.SETTLEMENT_REFUSED',
        `the ledger refused ${refused.length} settlement(s); ${period.id} stays open: fund the accounts and close again`,
        'unprocessable',
        refused,
      );
    }
    return settled;
  }

  /**
   * Rates and settles one day's usage of an offer by one account (or what changed since it was settled), at the
   * card's prices and never below the floor in force when each unit was used.
   */
  private async settleOfferUsage(
    stream: string,
    period: Period,
    meta: CommandMetadata,
  ): Promise<{ settlementId: string } | { refused: { field: string; code: string } } | null> {
    const f = this.facts.facts;
    const key = f.offerUsage.get(stream)?.state.key;
    if (key == null || key.day > period.id) return null;
    const offer = this.offers.offer(key.offerId);
    if (offer == null) {
      this.logger.warn(`usage of unknown offer ${key.offerId} by ${key.account}; left unrated`);
      return null;
    }
    const currency = offer.currency;
    const { ledger } = await this.ledgers.movements(currency);
    await this.ledgers.ensureAccount(key.account, meta);
    await this.ledgers.ensureAccount(offer.providerAccount, meta);
    const settlement = await this.facts.decideAndAppend(
      stream,
      () => f.offerUsage.get(stream)?.revision ?? NO_STREAM,
      () => {
        const state = f.offerUsage.get(stream)?.state;
        if (state === undefined) return { result: null, events: [] };
        const events = decideOfferUsageSettlement(state, {
          settlementId: `${stream.slice(OFFER_USAGE_PREFIX.length)}:s${state.settled.sequence + 1}`,
          period: period.id,
          offer,
          bandAt: (at) => this.guidance.bandAt(offer.resourceClass, offer.region, at),
          // The consuming account takes the offer's liquidity; the provider's listing rested.
          consumerFeeBps: this.config.takerFeeBps,
          providerFeeBps: this.config.makerFeeBps,
          now: this.clock.now(),
        });
        return { result: events[0]?.data ?? null, events: toNewEvents(events, meta) };
      },
    );
    const last = settlement ?? lastUnbooked(f.offerUsage.get(stream)?.state.settled.sequence, stream, f, ledger);
    if (last === null) return null;
    const results = await ledger.submit(chain(last.transfers), meta);
    const bad = results.find((r) => r.result !== 'ok' && r.result !== 'exists');
    if (bad !== undefined)
      return { refused: { field: `offers.${key.offerId}`, code: `BILLING.${bad.result.toUpperCase()}` } };
    return settlement === null ? null : { settlementId: settlement.settlementId };
  }

  /** The allocation's last settlement, if its transfers are not all in the ledger yet. */
  private unbooked(allocationId: string, ledger: { transfer(id: string): unknown }): AllocationSettled['data'] | null {
    const last = this.facts.facts.lastSettlement.get(allocationId) ?? null;
    if (last === null || last.transfers.every((t) => ledger.transfer(t.id) !== undefined)) return null;
    return last;
  }

  // -------------------------------------------------------------------------------------------- statements

  private async issueStatements(period: Period, meta: CommandMetadata): Promise<CloseResult['statements']> {
    const out: CloseResult['statements'] = [];
    const accounts = [...this.identity.model.accounts()].sort((a, b) => (a.accountId < b.accountId ? -1 : 1));
    const barriers = new Set<Currency>();
    for (const account of accounts) {
      if (!isCurrency(account.currency)) continue;
      const { ledger, movements } = await this.ledgers.movements(account.currency);
      // Everything decided before the close is durable and folded before a statement reads the ledger.
      if (!barriers.has(account.currency)) {
        barriers.add(account.currency);
        await ledger.barrier();
      }
      const existing = this.statements.versions(account.accountId, period.id);
      let header: StatementIssued['data'] | undefined = existing[existing.length - 1];
      if (header === undefined) {
        if (!this.statements.hasContent(movements, account.accountId, period)) continue;
        try {
          header = await this.statements.issue(
            {
              account: account.accountId,
              currency: account.currency,
              period,
              movements,
              ledgerRevision: String(ledger.streamRevision),
              reason: 'period_close',
              supersedes: null,
            },
            meta,
          );
        } catch (e) {
          if (!(e instanceof WrongExpectedVersion)) throw e;
          this.logger.warn(`statement ${account.accountId} ${period.id}: written concurrently; keeping the other`);
          continue;
        }
      }
      out.push({ account: account.accountId, statementId: header.statementId, contentHash: header.contentHash });
    }
    return out;
  }
}

/** An offer usage's last settlement, if an interrupted close left its transfers unbooked. */
const lastUnbooked = (
  sequence: number | undefined,
  stream: string,
  f: BillingFactsService['facts'],
  ledger: { transfer(id: string): unknown },
): OfferUsageSettled['data'] | null => {
  if (sequence === undefined || sequence === 0) return null;
  const last = f.offerSettlements.get(`${stream.slice(OFFER_USAGE_PREFIX.length)}:s${sequence}`);
  if (last === undefined || last.transfers.every((t) => ledger.transfer(t.id) !== undefined)) return null;
  return last;
};

/** A settlement's transfers as one linked chain: all booked or none. */
const chain = (transfers: SettlementTransfer[]): TransferInput[] =>
  transfers.map((t, i) => ({ ...t, ...(i < transfers.length - 1 ? { linked: true } : {}) }));
