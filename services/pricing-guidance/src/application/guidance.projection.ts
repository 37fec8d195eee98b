import { CatchUpProjection, type EventStore } from '@cx/event-store';
import { GUIDANCE_STREAM_PREFIXES, GuidanceReadModel } from './guidance.read-model';

/** The catalog and band read model kept current from their streams; writers wait for their own write to show. */
export class GuidanceProjection extends CatchUpProjection<GuidanceReadModel> {
  constructor(store: EventStore) {
    super(store, new GuidanceReadModel(), { name: 'guidance', streamNamePrefixes: GUIDANCE_STREAM_PREFIXES });
  }
}
