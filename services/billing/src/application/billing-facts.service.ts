import { Inject, Injectable, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import {
  CatchUpProjection,
  type CommandMetadata,
  EVENT_STORE,
  type EventStore,
  type NewEvent,
  NO_STREAM,
  toNewEvents,
  WrongExpectedVersion,
} from '@cx/event-store';
import {
  decideAmendment,
  decideReading,
  decideVoid,
  type HasReadings,
  type ReadingOutcome,
} from '../domain/settlement/allocation-billing.decider';
import { OFFER_USAGE_PREFIX, type OfferUsageOpened, offerUsageStream } from '../domain/settlement/offer-usage';
import {
  ALLOCATION_BILLING_PREFIX,
  allocationBillingStream,
  type AllocationTerms,
  type DeliveryReadingAmended,
  type DeliveryReadingRecorded,
  type DeliveryReadingVoided,
  type TradeHeard,
  tradeBillingStream,
} from '../domain/settlement/allocation-billing.events';
import { BILLING_FACT_PREFIXES, BillingFacts } from './billing-facts';

const MAX_ATTEMPTS = 5;

/**
 * Records what billing hears from matching and metering into its own streams, once each: every append is at the
 * exact revision the facts know, so a redelivered message decides against a state that already has it and
 * appends nothing (DESIGN.md: "never relying on the store's best-effort id cache").
 */
@Injectable()
export class BillingFactsService implements OnModuleInit, OnModuleDestroy {
  readonly facts = new BillingFacts();
  private readonly projection: CatchUpProjection<BillingFacts>;

  constructor(@Inject(EVENT_STORE) readonly store: EventStore) {
    this.projection = new CatchUpProjection(store, this.facts, {
      name: 'billing-facts',
      streamNamePrefixes: BILLING_FACT_PREFIXES,
    });
  }

  async onModuleInit(): Promise<void> {
    await this.projection.ready();
  }

  async onModuleDestroy(): Promise<void> {
    await this.projection.stop();
  }

  ready(): Promise<void> {
    return this.projection.ready();
  }

  /**
   * Decides against the facts and appends at the revision they know for the stream; a lost race waits for the
   * facts to catch up with the stream and decides again. Resolves once the facts hold the appended events.
   */
  async decideAndAppend<T>(
    stream: string,
    revisionOf: () => bigint | 'no_stream',
    decide: () => { result: T; events: NewEvent[] },
  ): Promise<T> {
    await this.projection.ready();
    for (let attempt = 1; ; attempt++) {
      const expectedRevision = revisionOf();
      const { result, events } = decide();
      if (events.length === 0) return result;
      try {
        const r = await this.store.appendToStream(stream, events, { expectedRevision });
        await this.projection.caughtUpTo(r.position);
        return result;
      } catch (e) {
        if (!(e instanceof WrongExpectedVersion) || attempt >= MAX_ATTEMPTS) throw e;
        await this.catchUpWith(stream);
      }
    }
  }

  /** Waits until the facts have applied the stream's last event. */
  async catchUpWith(stream: string): Promise<void> {
    for await (const e of this.store.readStream(stream, { direction: 'backwards', fromRevision: 'end', maxCount: 1 })) {
      await this.projection.caughtUpTo(e.position);
    }
  }

  private allocationRevision(allocationId: string): () => bigint | 'no_stream' {
    return () => {
      const entry = this.facts.allocations.get(allocationId);
      return entry === undefined ? NO_STREAM : entry.revision;
    };
  }

  /** The stream a reading was recorded in (an allocation's or an offer usage's), or null. */
  streamOfReading(key: string): string | null {
    return this.facts.readingStream.get(key) ?? null;
  }

  /** An allocation heard from matching: its terms are recorded once. */
  recordAllocation(terms: AllocationTerms, meta: CommandMetadata): Promise<'recorded' | 'duplicate'> {
    return this.decideAndAppend(
      allocationBillingStream(terms.allocationId),
      this.allocationRevision(terms.allocationId),
      () => {
        const known = this.facts.allocations.get(terms.allocationId)?.state.terms;
        if (known != null) return { result: 'duplicate' as const, events: [] };
        return {
          result: 'recorded' as const,
          events: toNewEvents([{ type: 'AllocationRegistered', data: terms }], meta),
        };
      },
    );
  }

  /** A trade's maker/taker side, recorded once per trade. */
  async recordTrade(trade: TradeHeard['data'], meta: CommandMetadata): Promise<'recorded' | 'duplicate'> {
    try {
      return await this.decideAndAppend(
        tradeBillingStream(trade.tradeId),
        () => NO_STREAM,
        () =>
          this.facts.trades.has(trade.tradeId)
            ? { result: 'duplicate' as const, events: [] }
            : { result: 'recorded' as const, events: toNewEvents([{ type: 'TradeHeard', data: trade }], meta) },
      );
    } catch (e) {
      // The stream exists: another delivery recorded it first.
      if (e instanceof WrongExpectedVersion) return 'duplicate';
      throw e;
    }
  }

  /** A delivery reading for an allocation, recorded once per `(source, id)`. */
  recordReading(allocationId: string, r: DeliveryReadingRecorded['data'], meta: CommandMetadata) {
    return this.readingCommand(allocationBillingStream(allocationId), meta, (s) => decideReading(s, r));
  }

  /** Usage of an offer by an account, recorded once per `(source, id)` in the offer usage of its day. */
  recordOfferReading(offerId: string, account: string, r: DeliveryReadingRecorded['data'], meta: CommandMetadata) {
    const day = r.usageTime.slice(0, 10);
    return this.readingCommand(offerUsageStream(offerId, account, day), meta, (s, opened) => {
      const decided = decideReading(s, r);
      if (opened || decided.events.length === 0) return decided;
      const open: OfferUsageOpened = { type: 'OfferUsageOpened', data: { offerId, account, day } };
      return { ...decided, events: [open, ...decided.events] };
    });
  }

  /** A correction of a reading, in whichever stream the reading was recorded. */
  amendReading(stream: string, a: DeliveryReadingAmended['data'], meta: CommandMetadata) {
    return this.readingCommand(stream, meta, (s) => decideAmendment(s, a));
  }

  voidReading(stream: string, v: DeliveryReadingVoided['data'], meta: CommandMetadata) {
    return this.readingCommand(stream, meta, (s) => decideVoid(s, v));
  }

  private readingCommand(
    stream: string,
    meta: CommandMetadata,
    decide: (
      s: HasReadings,
      opened: boolean,
    ) => { outcome: ReadingOutcome; events: Array<{ type: string; data: unknown }> },
  ): Promise<ReadingOutcome> {
    const entryOf = () =>
      stream.startsWith(OFFER_USAGE_PREFIX)
        ? this.facts.offerUsage.get(stream)
        : this.facts.allocations.get(stream.slice(ALLOCATION_BILLING_PREFIX.length));
    return this.decideAndAppend(
      stream,
      () => entryOf()?.revision ?? NO_STREAM,
      () => {
        const entry = entryOf();
        // Usage can arrive before its allocation (two topics): the reading opens the stream, the terms follow.
        const { outcome, events } = decide(entry?.state ?? { readings: new Map() }, entry !== undefined);
        return { result: outcome, events: toNewEvents(events, meta) };
      },
    );
  }
}
