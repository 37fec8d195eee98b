import {
  CatchUpProjection,
  comparePositions,
  type EventStore,
  type Position,
  type RecordedEvent,
} from '@cx/event-store';
import { evolve as evolveHalt, type HaltState } from '../domain/market-halt/market-halt.decider';
import {
  isMarketHaltEvent,
  MARKET_HALT_STREAM_PREFIX,
  type MarketHaltEvent,
} from '../domain/market-halt/market-halt.events';
import {
  type Alert,
  type IndexValue,
  REFERENCE_INDEX_STREAM_PREFIX,
} from '../domain/surveillance/reference-index.events';

// What the index, alert and market-status queries read: built only from the reference-index and halt streams, so a
// replay answers exactly as the live process does. Delivery is at least once: an event at or before the last
// applied position is ignored.

export type RecordedIndexValue = IndexValue & { seq: number };
export type RecordedAlert = Alert & { seq: number; recordedAt: string };
export type RecordedHalt = HaltState & { seq: number };

type Applicable = Pick<RecordedEvent, 'type' | 'data' | 'position' | 'created'>;

export class SurveillanceReadModel {
  /** Every version of every index value, per resource class, in the order recorded. */
  private readonly values = new Map<string, RecordedIndexValue[]>();
  private readonly alertList: RecordedAlert[] = [];
  private readonly halts = new Map<string, RecordedHalt>();
  private haltSeq = 0;
  private last: Position | null = null;

  get position(): Position | null {
    return this.last;
  }

  apply(e: Applicable): boolean {
    if (this.last !== null && comparePositions(e.position, this.last) <= 0) return false;
    this.last = e.position;
    if (e.type === 'ReferenceIndexPublished') {
      const v = e.data as IndexValue;
      const list = this.values.get(v.resourceClass) ?? [];
      list.push({ ...v, seq: list.length + 1 });
      this.values.set(v.resourceClass, list);
      return true;
    }
    if (e.type === 'SurveillanceAlertRaised') {
      this.alertList.push({
        ...(e.data as Alert),
        seq: this.alertList.length + 1,
        recordedAt: e.created.toISOString(),
      });
      return true;
    }
    if (isMarketHaltEvent(e.type)) {
      const event = { type: e.type, data: e.data } as MarketHaltEvent;
      const before = this.halts.get(event.data.haltId) ?? null;
      const next = evolveHalt(before, event);
      if (next !== null) this.halts.set(next.haltId, { ...next, seq: before?.seq ?? ++this.haltSeq });
      return true;
    }
    return false;
  }

  /** Every published version of the class's index values, in the order recorded. */
  indexValues(resourceClass: string): readonly RecordedIndexValue[] {
    return this.values.get(resourceClass) ?? [];
  }

  alerts(): readonly RecordedAlert[] {
    return this.alertList;
  }

  /** Every halt, in the order first recorded. */
  allHalts(): RecordedHalt[] {
    return [...this.halts.values()].sort((a, b) => a.seq - b.seq);
  }

  halt(haltId: string): RecordedHalt | undefined {
    return this.halts.get(haltId);
  }
}

export const SURVEILLANCE_STREAM_PREFIXES = [REFERENCE_INDEX_STREAM_PREFIX, MARKET_HALT_STREAM_PREFIX];

export class SurveillanceProjection extends CatchUpProjection<SurveillanceReadModel> {
  constructor(store: EventStore) {
    super(store, new SurveillanceReadModel(), {
      name: 'surveillance',
      streamNamePrefixes: SURVEILLANCE_STREAM_PREFIXES,
    });
  }
}
