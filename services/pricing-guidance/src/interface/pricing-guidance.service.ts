import { Inject, Injectable, Logger, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { EVENT_STORE, type EventStore, type Position } from '@cx/event-store';
import { CLOCK, type Clock, DomainError, type Page, paginate, parsePageRequest } from '@cx/shared-kernel';
import {
  amendRegion,
  amendResourceClass,
  createRegion,
  createResourceClass,
  loadStarterCatalog,
} from '../application/catalog.handlers';
import { HeartbeatRecorder } from '../application/guidance-heartbeat.handlers';
import { GuidanceProjection } from '../application/guidance.projection';
import { WriteLock } from '../application/write-lock';
import type { RecordedVersion } from '../application/guidance.read-model';
import { amendBand, type BandResult, issueBand, withdrawBand } from '../application/price-band.handlers';
import type { CommandMetadata, GuidanceDeps } from '../application/ports';
import {
  type BandVersionViewData,
  type GuidanceAtViewData,
  type RegionViewData,
  type ResourceClassViewData,
  toBandVersionView,
  toRegionView,
  toResourceClassView,
} from '../application/views';
import { PRICING_GUIDANCE_CONFIG, type PricingGuidanceConfig } from '../config';
import { parseInstant } from '../domain/validation';
import type {
  AmendBandDto,
  AmendRegionDto,
  AmendResourceClassDto,
  CreateRegionDto,
  CreateResourceClassDto,
  GuidanceAtQueryDto,
  IssueBandDto,
  WithdrawBandDto,
} from './pricing-guidance.dto';
import { PageQueryDto } from '@cx/platform';

const resourceClassNotFound = (id: string): DomainError =>
  DomainError.notFound('PRICING.RESOURCE_CLASS_NOT_FOUND', `resource class ${id} not found`);

/**
 * Pricing guidance for HTTP hosts: commands go through the handlers; queries read the projection. Every write
 * waits until the projection has applied it, so the next GET already sees it.
 */
@Injectable()
export class PricingGuidanceService implements OnModuleInit, OnModuleDestroy {
  private readonly deps: GuidanceDeps;
  private readonly lock = new WriteLock();
  private readonly heartbeats: HeartbeatRecorder;
  private heartbeatTimer: NodeJS.Timeout | null = null;
  private readonly logger = new Logger('pricing-guidance');

  constructor(
    @Inject(EVENT_STORE) store: EventStore,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(PRICING_GUIDANCE_CONFIG) config: PricingGuidanceConfig,
    private readonly projection: GuidanceProjection,
  ) {
    this.deps = { store, clock, config };
    this.heartbeats = new HeartbeatRecorder(this.deps, projection.model);
  }

  // Nest awaits this before the app listens, so no request is answered from a half-built projection, and the
  // starter catalog is there before the first request.
  async onModuleInit(): Promise<void> {
    await this.projection.ready();
    if (this.deps.config.starterCatalog) await this.seen(await loadStarterCatalog(this.deps));
    const every = this.deps.config.heartbeatIntervalMs;
    if (every > 0) {
      await this.heartbeat();
      this.heartbeatTimer = setInterval(() => void this.heartbeat(), every);
    }
  }

  async onModuleDestroy(): Promise<void> {
    if (this.heartbeatTimer !== null) clearInterval(this.heartbeatTimer);
    this.heartbeatTimer = null;
    await this.lock.run(async () => undefined);
    await this.projection.stop();
  }

  /** Records "guidance complete up to now", after any band change in flight (see WriteLock). */
  heartbeat(): Promise<void> {
    return this.lock.run(async () => {
      try {
        await this.heartbeats.record();
      } catch (e) {
        // A missed heartbeat is survivable (markets go stale and refuse to match, which is the safe side);
        // the next one retries.
        this.logger.warn(`guidance heartbeat not recorded: ${e instanceof Error ? e.message : String(e)}`);
      }
    });
  }

  ready(): Promise<void> {
    return this.projection.ready();
  }

  private async seen(position: Position | null): Promise<void> {
    if (position !== null) await this.projection.caughtUpTo(position);
  }

  private get model() {
    return this.projection.model;
  }

  // Catalog.

  listResourceClasses(query: PageQueryDto): Page<ResourceClassViewData> {
    const page = paginate(this.model.resourceClasses(), (c) => c.resourceClassId, parsePageRequest(query));
    return { items: page.items.map(toResourceClassView), nextCursor: page.nextCursor };
  }

  getResourceClass(id: string): ResourceClassViewData {
    const found = this.model.resourceClass(id);
    if (found === undefined) throw resourceClassNotFound(id);
    return toResourceClassView(found);
  }

  async createResourceClass(body: CreateResourceClassDto, meta: CommandMetadata): Promise<ResourceClassViewData> {
    const r = await createResourceClass(this.deps, body, meta);
    await this.seen(r.position);
    return toResourceClassView(r.value);
  }

  async amendResourceClass(
    id: string,
    body: AmendResourceClassDto,
    meta: CommandMetadata,
  ): Promise<ResourceClassViewData> {
    const r = await amendResourceClass(this.deps, { ...body, resourceClassId: id }, meta);
    await this.seen(r.position);
    return toResourceClassView(r.value);
  }

  listRegions(query: PageQueryDto): Page<RegionViewData> {
    const page = paginate(this.model.regions(), (r) => r.regionId, parsePageRequest(query));
    return { items: page.items.map(toRegionView), nextCursor: page.nextCursor };
  }

  getRegion(id: string): RegionViewData {
    const found = this.model.region(id);
    if (found === undefined) throw DomainError.notFound('PRICING.REGION_NOT_FOUND', `region ${id} not found`);
    return toRegionView(found);
  }

  async createRegion(body: CreateRegionDto, meta: CommandMetadata): Promise<RegionViewData> {
    const r = await createRegion(this.deps, body, meta);
    await this.seen(r.position);
    return toRegionView(r.value);
  }

  async amendRegion(id: string, body: AmendRegionDto, meta: CommandMetadata): Promise<RegionViewData> {
    const r = await amendRegion(this.deps, { ...body, regionId: id }, meta);
    await this.seen(r.position);
    return toRegionView(r.value);
  }

  // Bands.

  private async recorded(result: BandResult): Promise<BandVersionViewData> {
    await this.seen(result.position);
    const found = this.model.history(result.band.resourceClass).find((v) => v.versionId === result.version.versionId);
    // The projection has applied our own write (we waited for it), so the version must be there.
    if (found === undefined) throw new TypeError(`version ${result.version.versionId} missing after catch-up`);
    return toBandVersionView(found);
  }

  async issueBand(body: IssueBandDto, meta: CommandMetadata): Promise<BandVersionViewData> {
    return this.recorded(await this.lock.run(() => issueBand(this.deps, body, meta)));
  }

  async amendBand(bandId: string, body: AmendBandDto, meta: CommandMetadata): Promise<BandVersionViewData> {
    return this.recorded(await this.lock.run(() => amendBand(this.deps, { ...body, bandId }, meta)));
  }

  async withdrawBand(bandId: string, body: WithdrawBandDto, meta: CommandMetadata): Promise<BandVersionViewData> {
    return this.recorded(await this.lock.run(() => withdrawBand(this.deps, { ...body, bandId }, meta)));
  }

  /** The band in force at `query.at` (now by default): the regional band when one is in force, else the national. */
  bandAt(resourceClass: string, query: GuidanceAtQueryDto): GuidanceAtViewData {
    if (this.model.resourceClass(resourceClass) === undefined) throw resourceClassNotFound(resourceClass);
    const region = query.region === undefined || query.region === '' ? null : query.region;
    if (region !== null && this.model.region(region) === undefined) {
      throw new DomainError('PRICING.UNKNOWN_REGION', `no region ${region}`, 'unprocessable', [
        { field: 'region', code: 'PRICING.UNKNOWN_REGION' },
      ]);
    }
    let at = this.clock.now();
    if (query.at !== undefined) {
      const parsed = parseInstant(query.at);
      if (parsed === null) {
        throw DomainError.invalid('PRICING.INVALID_INSTANT', 'at must be an ISO 8601 instant with an offset', 'at');
      }
      at = parsed;
    }
    const band = this.model.bandAt(resourceClass, region, at);
    return {
      resourceClass,
      region,
      at: at.toISOString(),
      guidanceVersion: band?.versionId ?? null,
      band: band === null ? null : toBandVersionView(band),
    };
  }

  /** Every version of the class's bands, national and regional, in the order recorded. */
  history(resourceClass: string, query: PageQueryDto): Page<BandVersionViewData> {
    if (this.model.resourceClass(resourceClass) === undefined) throw resourceClassNotFound(resourceClass);
    // The key is the version's place in the class's history, zero-padded so that string order is that order.
    const key = (v: RecordedVersion): string => String(v.seq).padStart(12, '0');
    const page = paginate(this.model.history(resourceClass), key, parsePageRequest(query));
    return { items: page.items.map(toBandVersionView), nextCursor: page.nextCursor };
  }
}
