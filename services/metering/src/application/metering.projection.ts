import { CatchUpProjection, type EventStore } from '@cx/event-store';
import { METERING_STREAM_PREFIXES, MeteringReadModel } from './metering.read-model';

/** Meters, usage aggregates and heard allocations kept current from their streams. */
export class MeteringProjection extends CatchUpProjection<MeteringReadModel> {
  constructor(store: EventStore) {
    super(store, new MeteringReadModel(), { name: 'metering', streamNamePrefixes: METERING_STREAM_PREFIXES });
  }
}
