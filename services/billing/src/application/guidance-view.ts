import { Inject, Injectable, Logger, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { v5 as uuidv5 } from 'uuid';
import {
  CatchUpProjection,
  type CommandMetadata,
  EVENT_STORE,
  type EventStore,
  NO_STREAM,
  type Position,
  type ProjectionModel,
  type RecordedEvent,
  WrongExpectedVersion,
} from '@cx/event-store';
import { type ApplyResult, GuidanceBook, type GuidanceBandVersion } from '@cx/guidance';

// Billing's own view of guidance: every band version it has heard on `cx.pricing.guidance.v1`, answering "the band
// in force at T" with the shared rule (@cx/guidance). Listing an offer checks its card against the floor in force
// now; settlement rates offer usage against the band in force at the time of use.
//
// The consumer group commits its offsets, so a view held only in memory would be empty after a restart and every
// card would pass. So each version heard is first recorded in billing's own stream (`billing-guidance-<versionId>`,
// appended once: expected revision no_stream, a deterministic event id) and the book is the projection of those
// streams, rebuilt from the store at start. A redelivered version finds its stream and records nothing.

export const GUIDANCE_VIEW_STREAM_PREFIX = 'billing-guidance-';
export const guidanceViewStream = (versionId: string): string => `${GUIDANCE_VIEW_STREAM_PREFIX}${versionId}`;
export const GUIDANCE_VERSION_HEARD = 'GuidanceVersionHeard';

// A fixed namespace, so that the same version always gets the same event id (the store's own dedupe backs ours).
const EVENT_ID_NAMESPACE = '0b7c2a2e-6f7d-4a51-9d55-1a2b3c4d5e6f';

/** The heard versions as a projection model: a book, and the last store position applied. */
export class GuidanceViewModel implements ProjectionModel {
  readonly book = new GuidanceBook<GuidanceBandVersion>();
  private last: Position | null = null;

  get position(): Position | null {
    return this.last;
  }

  apply(e: Pick<RecordedEvent, 'type' | 'data' | 'position'>): ApplyResult | null {
    this.last = e.position;
    if (e.type !== GUIDANCE_VERSION_HEARD) return null;
    return this.book.apply(e.data as GuidanceBandVersion);
  }
}

@Injectable()
export class GuidanceView implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger('billing.guidance');
  private readonly model = new GuidanceViewModel();
  private readonly projection: CatchUpProjection<GuidanceViewModel>;

  constructor(@Inject(EVENT_STORE) private readonly store: EventStore) {
    this.projection = new CatchUpProjection(store, this.model, {
      name: 'billing-guidance',
      streamNamePrefixes: [GUIDANCE_VIEW_STREAM_PREFIX],
    });
  }

  async onModuleInit(): Promise<void> {
    await this.projection.ready();
  }

  async onModuleDestroy(): Promise<void> {
    await this.projection.stop();
  }

  /** Resolves once every version recorded before start is in the book. */
  ready(): Promise<void> {
    return this.projection.ready();
  }

  /** The band in force for the class (in the region, else nationally) at `at`; null where none is. */
  bandAt(resourceClass: string, region: string | null, at: Date): GuidanceBandVersion | null {
    return this.model.book.bandAt(resourceClass, region, at);
  }

  /** Every version heard for the class, in the order they were recorded (audit, tests). */
  versionsOf(resourceClass: string): readonly GuidanceBandVersion[] {
    return this.model.book.versionsOf(resourceClass);
  }

  /**
   * Records a version heard, once. Resolves when it is durable and in the book ('applied'), or at once for a
   * version already recorded ('duplicate'), or one recorded with other content ('conflict': logged, the first
   * copy is kept, since history is never edited upstream).
   */
  async record(version: GuidanceBandVersion, meta: CommandMetadata): Promise<ApplyResult> {
    await this.projection.ready();
    if (this.model.book.has(version.bandId, version.version)) {
      const known = this.model.book.apply(version);
      if (known === 'conflict') {
        this.logger.warn(`band version ${version.versionId} heard again with other content; the first copy stands`);
      }
      return known;
    }
    try {
      const appended = await this.store.appendToStream(
        guidanceViewStream(version.versionId),
        [
          {
            id: uuidv5(version.versionId, EVENT_ID_NAMESPACE),
            type: GUIDANCE_VERSION_HEARD,
            data: version,
            metadata: { correlationId: meta.correlationId, causationId: meta.causationId, actor: meta.actor },
          },
        ],
        { expectedRevision: NO_STREAM },
      );
      await this.projection.caughtUpTo(appended.position);
      return 'applied';
    } catch (e) {
      // Another consumer of the group recorded it first; its append reaches the book through the projection.
      if (e instanceof WrongExpectedVersion) return 'duplicate';
      throw e;
    }
  }
}
