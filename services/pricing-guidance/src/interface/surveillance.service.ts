import { Inject, Injectable, Logger, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { EVENT_STORE, type EventStore, type Position } from '@cx/event-store';
import type { SourceRef } from '@cx/messaging';
import {
  CLOCK,
  type Clock,
  DomainError,
  isDomainError,
  type Page,
  paginate,
  parsePageRequest,
} from '@cx/shared-kernel';
import { GuidanceProjection } from '../application/guidance.projection';
import { haltMarket, isHaltId, resumeMarket } from '../application/market-halt.handlers';
import type { CommandMetadata, GuidanceDeps } from '../application/ports';
import {
  type RecordedAlert,
  type RecordedHalt,
  type RecordedIndexValue,
  SurveillanceProjection,
} from '../application/surveillance.read-model';
import { type IndexTradeData, TradeIndexer } from '../application/trade-indexer';
import { PRICING_GUIDANCE_CONFIG, type PricingGuidanceConfig } from '../config';
import { parseInstant } from '../domain/validation';
import type {
  AlertQueryDto,
  AlertView,
  HaltMarketDto,
  HaltView,
  IndexQueryDto,
  IndexValueView,
  MarketStatusQueryDto,
  ResumeMarketDto,
} from './surveillance.dto';

const DAY_MS = 86_400_000;

const haltNotFound = (id: string): DomainError =>
  DomainError.notFound('PRICING.HALT_NOT_FOUND', `halt ${id} not found`);

/** A UTC day ("2026-03-10", its midnight) or an ISO 8601 instant; null when it is neither. */
const parseBound = (v: string): Date | null => {
  if (/^\d{4}-\d{2}-\d{2}$/.test(v)) {
    const d = new Date(`${v}T00:00:00.000Z`);
    return Number.isNaN(d.getTime()) || d.toISOString().slice(0, 10) !== v ? null : d;
  }
  return parseInstant(v);
};

const toIndexView = ({ seq: _seq, ...v }: RecordedIndexValue): IndexValueView => ({ ...v });
const toAlertView = ({ seq: _seq, recordedAt: _at, ...a }: RecordedAlert): AlertView => ({ ...a });
const toHaltView = (h: RecordedHalt): HaltView => ({
  haltId: h.haltId,
  status: h.resumed === null ? 'halted' : 'resumed',
  scope: { ...h.scope },
  reason: h.reason,
  origin: h.origin,
  haltedBy: { ...h.haltedBy },
  haltedAt: h.haltedAt,
  resumesAt: h.resumesAt,
  resumed: h.resumed === null ? null : { ...h.resumed, by: { ...h.resumed.by } },
});
const seqKey = (seq: number): string => String(seq).padStart(12, '0');

/**
 * The reference index, surveillance alerts and market halts for HTTP hosts and the tape consumer. Commands go
 * through the handlers; queries read the surveillance projection; a halt or resume answers once the projection
 * shows it. A timer resumes halts whose cooling-off has ended.
 */
@Injectable()
export class SurveillanceService implements OnModuleInit, OnModuleDestroy {
  private readonly deps: GuidanceDeps;
  private readonly indexer: TradeIndexer;
  private sweepTimer: NodeJS.Timeout | null = null;
  private sweeping: Promise<void> | null = null;
  private readonly logger = new Logger('pricing-guidance.surveillance');

  constructor(
    @Inject(EVENT_STORE) store: EventStore,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(PRICING_GUIDANCE_CONFIG) config: PricingGuidanceConfig,
    private readonly guidance: GuidanceProjection,
    private readonly projection: SurveillanceProjection,
  ) {
    this.deps = { store, clock, config };
    this.indexer = new TradeIndexer(this.deps);
  }

  async onModuleInit(): Promise<void> {
    await Promise.all([this.guidance.ready(), this.projection.ready()]);
    const every = this.deps.config.surveillance.haltSweepIntervalMs;
    if (every > 0) this.sweepTimer = setInterval(() => void this.sweepHalts(), every);
  }

  async onModuleDestroy(): Promise<void> {
    if (this.sweepTimer !== null) clearInterval(this.sweepTimer);
    this.sweepTimer = null;
    await this.sweeping;
    await this.projection.stop();
  }

  ready(): Promise<void> {
    return this.projection.ready();
  }

  /** One trade from the tape: its effect on the index, the alerts and the breaker, applied once. */
  indexTrade(trade: IndexTradeData, source: SourceRef, meta: CommandMetadata): Promise<'applied' | 'duplicate'> {
    return this.indexer.onTrade(trade, source, meta);
  }

  /** Resumes every halt whose cooling-off has ended (one sweep at a time). */
  sweepHalts(): Promise<void> {
    this.sweeping ??= this.sweep().finally(() => {
      this.sweeping = null;
    });
    return this.sweeping;
  }

  private async sweep(): Promise<void> {
    const now = this.clock.now().getTime();
    const meta: CommandMetadata = {
      correlationId: 'pricing-guidance-halt-sweep',
      causationId: 'pricing-guidance-halt-sweep',
      actor: { service: 'pricing-guidance' },
    };
    for (const h of this.projection.model.allHalts()) {
      if (h.resumed !== null || h.resumesAt === null || Date.parse(h.resumesAt) > now) continue;
      try {
        const r = await resumeMarket(
          this.deps,
          { haltId: h.haltId, reason: 'cooling-off period ended', automatic: true },
          { ...meta, causationId: h.haltId },
        );
        await this.seen(r.position);
      } catch (e) {
        // Resumed by hand meanwhile (or by another process): nothing left to do. Anything else is retried next time.
        if (isDomainError(e) && e.code === 'PRICING.HALT_RESUMED') continue;
        this.logger.warn(`halt ${h.haltId} not resumed: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
  }

  private async seen(position: Position | null): Promise<void> {
    if (position !== null) await this.projection.caughtUpTo(position);
  }

  private requireClass(resourceClass: string): void {
    if (this.guidance.model.resourceClass(resourceClass) === undefined) {
      throw DomainError.notFound('PRICING.RESOURCE_CLASS_NOT_FOUND', `resource class ${resourceClass} not found`);
    }
  }

  /** The index of a class (a region's, or national) whose windows start in [from, to). */
  index(resourceClass: string, query: IndexQueryDto): Page<IndexValueView> {
    this.requireClass(resourceClass);
    const region = query.region === undefined || query.region === '' ? null : query.region;
    if (region !== null && this.guidance.model.region(region) === undefined) {
      throw new DomainError('PRICING.UNKNOWN_REGION', `no region ${region}`, 'unprocessable', [
        { field: 'region', code: 'PRICING.UNKNOWN_REGION' },
      ]);
    }
    const window = query.window ?? 'daily';
    const bound = (v: string | undefined, field: string, fallback: Date): Date => {
      if (v === undefined || v === '') return fallback;
      const d = parseBound(v);
      if (d === null) {
        throw DomainError.invalid(
          'PRICING.INVALID_INSTANT',
          `${field} must be a UTC day or an ISO 8601 instant`,
          field,
        );
      }
      return d;
    };
    const to = bound(query.to, 'to', this.clock.now());
    const from = bound(query.from, 'from', new Date(to.getTime() - (window === 'daily' ? 30 : 1) * DAY_MS));
    if (from.getTime() > to.getTime()) throw DomainError.invalid('PRICING.INVALID_RANGE', 'from is after to', 'from');
    const inRange = this.projection.model.indexValues(resourceClass).filter((v) => {
      const start = Date.parse(v.windowStart);
      return v.window === window && v.region === region && start >= from.getTime() && start < to.getTime();
    });
    let items: RecordedIndexValue[] = inRange;
    if (window === 'daily' && (query.versions ?? 'latest') === 'latest') {
      const latest = new Map<string, RecordedIndexValue>();
      for (const v of inRange) latest.set(v.indexId, v);
      items = [...latest.values()];
    }
    // Ordered by window, then currency, then version: a stable key for the cursor.
    const key = (v: RecordedIndexValue): string =>
      `${v.windowStart}|${v.windowEnd}|${v.currency}|${String(v.version).padStart(12, '0')}`;
    items = [...items].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
    const page = paginate(items, key, parsePageRequest(query));
    return { items: page.items.map(toIndexView), nextCursor: page.nextCursor };
  }

  /** Alerts in the order raised, optionally of one class or rule. */
  alerts(query: AlertQueryDto): Page<AlertView> {
    const items = this.projection.model
      .alerts()
      .filter(
        (a) =>
          (query.resourceClass === undefined || a.resourceClass === query.resourceClass) &&
          (query.rule === undefined || a.rule === query.rule),
      );
    const page = paginate(items, (a) => seqKey(a.seq), parsePageRequest(query));
    return { items: page.items.map(toAlertView), nextCursor: page.nextCursor };
  }

  /** Halts in force (or every halt), in the order they were first recorded. */
  marketStatus(query: MarketStatusQueryDto): Page<HaltView> {
    const all = this.projection.model.allHalts();
    const items = (query.state ?? 'active') === 'all' ? all : all.filter((h) => h.resumed === null);
    const page = paginate(items, (h) => seqKey(h.seq), parsePageRequest(query));
    return { items: page.items.map(toHaltView), nextCursor: page.nextCursor };
  }

  getHalt(haltId: string): HaltView {
    const h = this.projection.model.halt(haltId);
    if (h === undefined) throw haltNotFound(haltId);
    return toHaltView(h);
  }

  async halt(body: HaltMarketDto, meta: CommandMetadata): Promise<HaltView> {
    const model = this.guidance.model;
    const r = await haltMarket(
      this.deps,
      body,
      {
        resourceClassExists: (id) => model.resourceClass(id) !== undefined,
        regionExists: (id) => model.region(id) !== undefined,
      },
      meta,
    );
    await this.seen(r.position);
    return this.getHalt(r.halt.haltId);
  }

  async resume(haltId: string, body: ResumeMarketDto, meta: CommandMetadata): Promise<HaltView> {
    if (!isHaltId(haltId)) throw haltNotFound(haltId);
    const r = await resumeMarket(this.deps, { haltId, reason: body.reason, automatic: false }, meta);
    await this.seen(r.position);
    return this.getHalt(haltId);
  }
}
