import { Inject, Injectable, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { type Principal } from '@cx/auth';
import { EVENT_STORE, type EventStore, type Position } from '@cx/event-store';
import { CLOCK, type Clock, DomainError, paginate, parsePageRequest, type Page } from '@cx/shared-kernel';
import { recordAllocation } from '../application/allocation.handlers';
import { defineMeter, seedMeters } from '../application/meter.handlers';
import type { AllocationHeardData, PeriodClosedHeardData } from '../application/metering.events';
import { MeteringProjection } from '../application/metering.projection';
import { recordPeriodClosed } from '../application/period.handlers';
import { recordRejections, type RejectionFacts } from '../application/rejection.handlers';
import type { CommandMetadata, MeteringDeps } from '../application/ports';
import {
  correctUsage,
  type IngestOutcome,
  ingestUsage,
  type PublisherOf,
  type UsageResult,
  type UsageViews,
} from '../application/usage.handlers';
import { METERING_CONFIG, type MeteringConfig } from '../config';
import type { MeterDefinition } from '../domain/meter/meter.events';
import { inIntervals } from '../domain/period/closed-periods';
import { MINUTE_MS, valueOf, type WindowSize, windowSizes, zoneFormatter } from '../domain/usage/usage-aggregate';
import type { AggregateQueryDto, DefineMeterDto } from './metering.dto';
import { PageQueryDto } from '@cx/platform';

export interface CorrectionView {
  source: string;
  id: string;
  /** What this request did: a new correction, or nothing (it repeated the last one). */
  outcome: 'amended' | 'voided' | 'unchanged';
  /** The quantity that counts now ("0" once void). */
  quantity: string;
  voided: boolean;
  late: boolean;
}

export interface AggregateView {
  subject: string;
  meter: string;
  unit: string;
  aggregation: string;
  window: WindowSize;
  tz: string;
  from: string;
  to: string;
  windows: { start: string; label: string; value: string; events: number }[];
}

// The most windows one query may produce: a month of minutes.
const MAX_WINDOWS = 31 * 24 * 60;
const RFC3339_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;

const subjectNotFound = (): DomainError =>
  DomainError.notFound('METERING.SUBJECT_NOT_FOUND', 'no such allocation or account');

/**
 * Metering for HTTP hosts: commands go through the handlers, queries read the projection. Every write waits until
 * the projection has applied it, so the next GET already sees it.
 */
@Injectable()
export class MeteringService implements OnModuleInit, OnModuleDestroy {
  private readonly deps: MeteringDeps;

  constructor(
    @Inject(EVENT_STORE) store: EventStore,
    @Inject(CLOCK) clock: Clock,
    @Inject(METERING_CONFIG) readonly config: MeteringConfig,
    private readonly projection: MeteringProjection,
  ) {
    this.deps = { store, clock, config };
  }

  // Nest awaits this before the app listens: no answer comes from a half-built projection, and the starter
  // meters exist before the first usage arrives.
  async onModuleInit(): Promise<void> {
    await this.projection.ready();
    if (this.config.seedMeters) await this.seen(...(await seedMeters(this.deps)).map((r) => r.position));
  }

  async onModuleDestroy(): Promise<void> {
    await this.projection.stop();
  }

  private async seen(...positions: (Position | null)[]): Promise<void> {
    for (const p of positions) if (p !== null) await this.projection.caughtUpTo(p);
  }

  listMeters(query: PageQueryDto): Page<MeterDefinition> {
    const sorted = [...this.projection.model.meters.values()].sort((a, b) => (a.key < b.key ? -1 : 1));
    return paginate(sorted, (m) => m.key, parsePageRequest(query));
  }

  async defineMeter(body: DefineMeterDto, meta: CommandMetadata): Promise<MeterDefinition> {
    const r = await defineMeter(
      this.deps,
      {
        key: body.key,
        unit: body.unit,
        aggregation: body.aggregation,
        valueField: body.valueField ?? null,
        billable: body.billable,
        ...(body.description !== undefined ? { description: body.description } : {}),
      },
      meta,
    );
    await this.seen(r.position);
    return this.projection.model.meters.get(body.key) as MeterDefinition;
  }

  hasAllocation(id: string): boolean {
    return this.projection.model.allocations.has(id);
  }

  async recordAllocation(a: AllocationHeardData, cause: { eventId: string; correlationId: string }): Promise<void> {
    const r = await recordAllocation(this.deps, a, cause);
    if (r !== null) await this.seen(r.position);
  }

  async recordPeriodClosed(p: PeriodClosedHeardData, cause: { eventId: string; correlationId: string }): Promise<void> {
    const r = await recordPeriodClosed(this.deps, p, cause);
    if (r !== null) await this.seen(r.position);
  }

  isPeriodClosed(period: string): boolean {
    return this.projection.model.periods.has(period);
  }

  private views(): UsageViews {
    const model = this.projection.model;
    return { meters: model.meters, allocations: model.allocations, closedPeriods: model.closedPeriods };
  }

  async ingest(raws: readonly unknown[], principal: Principal, meta: CommandMetadata): Promise<UsageResult[]> {
    const outcome = await ingestUsage(
      this.deps,
      raws,
      { role: principal.role === 'admin' ? 'admin' : 'integrator', accounts: principal.accounts },
      this.views(),
      meta,
    );
    await this.seen(outcome.lastPosition);
    return outcome.results;
  }

  /**
   * Ingestion for the Kafka path: the same validation, tenancy and exactly-once claim as HTTP, one publisher per
   * message. Accepted events are durable when it resolves; nobody waits for an answer, so it does not wait for
   * the projection either.
   */
  ingestSubmissions(raws: readonly unknown[], publisher: PublisherOf, meta: CommandMetadata): Promise<IngestOutcome> {
    return ingestUsage(this.deps, raws, publisher, this.views(), meta);
  }

  /** Records refused Kafka submissions (once per record and reason), for the relay to publish. */
  recordRejections(rejections: readonly RejectionFacts[], meta: CommandMetadata): Promise<{ recorded: number }> {
    return recordRejections(this.deps, rejections, meta);
  }

  async correct(
    ref: { source: string; id: string },
    request: { type: 'AmendUsage'; quantity: unknown; reason: unknown } | { type: 'VoidUsage'; reason: unknown },
    principal: Principal,
    meta: CommandMetadata,
  ): Promise<CorrectionView> {
    const closed = this.projection.model.closedPeriods;
    const { events, result, state } = await correctUsage(
      this.deps,
      ref,
      request,
      { role: principal.role === 'admin' ? 'admin' : 'integrator', accounts: principal.accounts },
      closed,
      meta,
    );
    if (result !== null) await this.seen(result.position);
    // decide refuses a usage that was never recorded, so a state that comes back is a recorded one.
    if (!state.recorded) throw new TypeError('a correction answered without a recorded usage');
    const e = events[0];
    return {
      source: state.usage.source,
      id: state.usage.id,
      outcome: e === undefined ? 'unchanged' : e.type === 'UsageAmended' ? 'amended' : 'voided',
      quantity: state.voided ? '0' : state.quantity,
      voided: state.voided,
      late: inIntervals(closed, Date.parse(state.usage.time)),
    };
  }

  aggregate(q: AggregateQueryDto, principal: Principal): AggregateView {
    const model = this.projection.model;
    // Tenancy first: another tenant's subject answers as a missing one, whatever else is wrong.
    if (!['admin', 'regulator', 'auditor'].includes(principal.role)) {
      const a = model.allocations.get(q.subject);
      const party = a
        ? principal.accounts.includes(a.providerAccount) || principal.accounts.includes(a.buyerAccount)
        : principal.accounts.includes(q.subject);
      if (!party) throw subjectNotFound();
    }
    const meter = model.meters.get(q.meter);
    if (!meter) throw DomainError.invalid('METERING.UNKNOWN_METER', `no meter "${q.meter}"`, 'meter');
    const window = (q.window ?? 'hour') as WindowSize;
    if (!windowSizes.includes(window)) {
      throw DomainError.invalid('METERING.INVALID_WINDOW', 'window must be minute, hour or day', 'window');
    }
    const tz = q.tz ?? 'UTC';
    const fmt = zoneFormatter(tz);
    if (fmt === null) throw DomainError.invalid('METERING.INVALID_TZ', `unknown timezone "${tz.slice(0, 64)}"`, 'tz');
    const fromMs = instant(q.from, 'from');
    const toMs = instant(q.to, 'to');
    if (toMs <= fromMs) throw DomainError.invalid('METERING.INVALID_RANGE', 'to must be after from', 'to');
    // Usage is summarised per minute, so a range must not cut one.
    if (fromMs % MINUTE_MS !== 0 || toMs % MINUTE_MS !== 0) {
      throw DomainError.invalid('METERING.UNALIGNED_RANGE', 'from and to must be whole minutes', 'from');
    }
    if ((toMs - fromMs) / MINUTE_MS > MAX_WINDOWS) {
      throw DomainError.invalid('METERING.RANGE_TOO_LARGE', `at most ${MAX_WINDOWS} minutes per query`, 'to');
    }
    const roles = q.reporter === undefined || q.reporter === 'all' ? null : [q.reporter];
    const windows = model.aggregate({ subject: q.subject, meter: q.meter, roles, fromMs, toMs, window, fmt });
    return {
      subject: q.subject,
      meter: meter.key,
      unit: meter.unit,
      aggregation: meter.aggregation,
      window,
      tz,
      from: new Date(fromMs).toISOString(),
      to: new Date(toMs).toISOString(),
      windows: windows.map((w) => ({
        start: new Date(w.startMs).toISOString(),
        label: w.label,
        value: valueOf(w.summary, meter.aggregation),
        events: w.summary.count,
      })),
    };
  }
}

const instant = (value: string, field: string): number => {
  if (!RFC3339_RE.test(value) || Number.isNaN(Date.parse(value))) {
    throw DomainError.invalid('METERING.INVALID_TIME', `${field} must be an RFC 3339 timestamp`, field);
  }
  return Date.parse(value);
};
