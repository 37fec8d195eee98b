import { load, type Position, toNewEvents, withConcurrencyRetry, WrongExpectedVersion } from '@cx/event-store';
import {
  type AmendRegion,
  type CreateRegion,
  decide as decideRegion,
  evolve as evolveRegion,
  noRegion,
  type Region,
  type RegionState,
} from '../domain/catalog/region.decider';
import { isRegionEvent, type RegionEvent, regionStream } from '../domain/catalog/region.events';
import {
  type AmendResourceClass,
  type CreateResourceClass,
  decide as decideResourceClass,
  evolve as evolveResourceClass,
  noResourceClass,
  type ResourceClass,
  type ResourceClassState,
} from '../domain/catalog/resource-class.decider';
import {
  isResourceClassEvent,
  type ResourceClassEvent,
  resourceClassStream,
} from '../domain/catalog/resource-class.events';
import { starterRegions, starterResourceClasses } from '../domain/catalog/starter-catalog';
import { isRegionId, isResourceClassId } from '../domain/validation';
import type { CommandMetadata, GuidanceDeps } from './ports';

// One handler per catalog command: load the entry's stream, decide, append at the revision read.

export interface Written<T> {
  value: T;
  /** Where the write landed in $all (null when nothing changed), so a reader can wait until it has seen it. */
  position: Position | null;
}

export const loadResourceClass = (deps: GuidanceDeps, id: string) =>
  load<ResourceClass, ResourceClassEvent>(
    deps.store,
    resourceClassStream(id),
    evolveResourceClass,
    noResourceClass,
    isResourceClassEvent,
  );

export const loadRegion = (deps: GuidanceDeps, id: string) =>
  load<Region, RegionEvent>(deps.store, regionStream(id), evolveRegion, noRegion, isRegionEvent);

const runResourceClass = (
  deps: GuidanceDeps,
  id: unknown,
  meta: CommandMetadata,
  command: (now: Date) => CreateResourceClass | AmendResourceClass,
): Promise<Written<ResourceClassState>> =>
  withConcurrencyRetry(async () => {
    // An id that is not one cannot name a stream: the decider refuses it against an empty state.
    const { state, revision } = isResourceClassId(id)
      ? await loadResourceClass(deps, id)
      : { state: noResourceClass, revision: 'no_stream' as const };
    const events = decideResourceClass(command(deps.clock.now()), state);
    const after = events.reduce(evolveResourceClass, state);
    if (after === null) throw new TypeError(`resource class ${String(id)} has no state after ${events.length} events`);
    if (events.length === 0) return { value: after, position: null };
    const result = await deps.store.appendToStream(
      resourceClassStream(after.resourceClassId),
      toNewEvents(events, meta),
      {
        expectedRevision: revision,
      },
    );
    return { value: after, position: result.position };
  });

export const createResourceClass = (deps: GuidanceDeps, data: CreateResourceClass['data'], meta: CommandMetadata) =>
  runResourceClass(deps, data.resourceClassId, meta, (now) => ({
    type: 'CreateResourceClass',
    data,
    metadata: { now },
  }));

export const amendResourceClass = (deps: GuidanceDeps, data: AmendResourceClass['data'], meta: CommandMetadata) =>
  runResourceClass(deps, data.resourceClassId, meta, (now) => ({
    type: 'AmendResourceClass',
    data,
    metadata: { now },
  }));

const runRegion = (
  deps: GuidanceDeps,
  id: unknown,
  meta: CommandMetadata,
  command: (now: Date) => CreateRegion | AmendRegion,
): Promise<Written<RegionState>> =>
  withConcurrencyRetry(async () => {
    const { state, revision } = isRegionId(id)
      ? await loadRegion(deps, id)
      : { state: noRegion, revision: 'no_stream' as const };
    const events = decideRegion(command(deps.clock.now()), state);
    const after = events.reduce(evolveRegion, state);
    if (after === null) throw new TypeError(`region ${String(id)} has no state after ${events.length} events`);
    if (events.length === 0) return { value: after, position: null };
    const result = await deps.store.appendToStream(regionStream(after.regionId), toNewEvents(events, meta), {
      expectedRevision: revision,
    });
    return { value: after, position: result.position };
  });

export const createRegion = (deps: GuidanceDeps, data: CreateRegion['data'], meta: CommandMetadata) =>
  runRegion(deps, data.regionId, meta, (now) => ({ type: 'CreateRegion', data, metadata: { now } }));

export const amendRegion = (deps: GuidanceDeps, data: AmendRegion['data'], meta: CommandMetadata) =>
  runRegion(deps, data.regionId, meta, (now) => ({ type: 'AmendRegion', data, metadata: { now } }));

/**
 * The starter catalog, on first start: each entry is appended only if its stream does not exist yet
 * (`no_stream`), so two starts (or two processes starting at once) never duplicate one, and an entry the admin
 * has since amended is left alone. Returns the position of the last write, or null when all existed.
 */
export const loadStarterCatalog = async (deps: GuidanceDeps): Promise<Position | null> => {
  const meta: CommandMetadata = {
    correlationId: 'pricing-guidance-starter-catalog',
    causationId: 'pricing-guidance-starter-catalog',
    actor: { service: 'pricing-guidance' },
  };
  const now = deps.clock.now();
  let last: Position | null = null;
  const appendIfNew = async (stream: string, events: { type: string; data: unknown }[]): Promise<void> => {
    try {
      const r = await deps.store.appendToStream(stream, toNewEvents(events, meta), { expectedRevision: 'no_stream' });
      last = r.position;
    } catch (e) {
      if (!(e instanceof WrongExpectedVersion)) throw e;
    }
  };
  for (const rc of starterResourceClasses) {
    const events = decideResourceClass(
      { type: 'CreateResourceClass', data: { ...rc, units: [...rc.units] }, metadata: { now } },
      noResourceClass,
    );
    await appendIfNew(resourceClassStream(rc.resourceClassId), events);
  }
  for (const region of starterRegions) {
    const events = decideRegion({ type: 'CreateRegion', data: region, metadata: { now } }, noRegion);
    await appendIfNew(regionStream(region.regionId), events);
  }
  return last;
};
