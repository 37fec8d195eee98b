import { load, type Position, toNewEvents, withConcurrencyRetry } from '@cx/event-store';
import {
  type AmendBand,
  type Band,
  type BandCommand,
  type BandState,
  decide,
  evolve,
  type IssueBand,
  noBand,
  type WithdrawBand,
} from '../domain/price-band/price-band.decider';
import {
  bandIdOf,
  type BandVersion,
  isBandId,
  isPriceBandEvent,
  type PriceBandEvent,
  priceBandStream,
} from '../domain/price-band/price-band.events';
import { isRegionId, isResourceClassId } from '../domain/validation';
import { loadRegion, loadResourceClass } from './catalog.handlers';
import type { CommandMetadata, GuidanceDeps } from './ports';

// One handler per band command: load the band's stream (and, for an issue, what the catalog says), decide with
// the clock's now and the configured notice, append at the revision read.

export interface BandResult {
  band: BandState;
  /** The version this command recorded. */
  version: BandVersion;
  position: Position;
}

const loadBand = (deps: GuidanceDeps, bandId: string) =>
  load<Band, PriceBandEvent>(deps.store, priceBandStream(bandId), evolve, noBand, isPriceBandEvent);

const commandMeta = (deps: GuidanceDeps, meta: CommandMetadata): BandCommand['metadata'] => ({
  now: deps.clock.now(),
  minNoticeMs: deps.config.minNoticeMs,
  issuedBy: { keyId: meta.actor.keyId ?? null, role: meta.actor.role ?? null },
});

const run = (
  deps: GuidanceDeps,
  bandId: string | null,
  meta: CommandMetadata,
  command: () => Promise<BandCommand>,
): Promise<BandResult> =>
  withConcurrencyRetry(async () => {
    // A scope that is not one (a malformed class or region) names no stream; the decider refuses it.
    const { state, revision } =
      bandId === null ? { state: noBand, revision: 'no_stream' as const } : await loadBand(deps, bandId);
    const events = decide(await command(), state);
    const after = events.reduce(evolve, state);
    const version = after?.versions[after.versions.length - 1];
    if (after === null || version === undefined || events.length !== 1) {
      throw new TypeError(`band ${String(bandId)}: a band command must record exactly one version`);
    }
    const result = await deps.store.appendToStream(priceBandStream(after.bandId), toNewEvents(events, meta), {
      expectedRevision: revision,
    });
    return { band: after, version, position: result.position };
  });

export type IssueBandInput = Omit<IssueBand['data'], 'catalog'>;

export const issueBand = (deps: GuidanceDeps, input: IssueBandInput, meta: CommandMetadata): Promise<BandResult> => {
  const region = input.region ?? null;
  const scopeOk = isResourceClassId(input.resourceClass) && (region === null || isRegionId(region));
  const bandId = scopeOk ? bandIdOf(input.resourceClass as string, region as string | null) : null;
  return run(deps, bandId, meta, async () => {
    // The catalog is read from its streams, not from a projection: the store is never behind.
    const resourceClass = isResourceClassId(input.resourceClass)
      ? (await loadResourceClass(deps, input.resourceClass)).state
      : null;
    const regionExists = isRegionId(region) ? (await loadRegion(deps, region)).state !== null : false;
    return {
      type: 'IssueBand',
      data: { ...input, catalog: { resourceClass, regionExists } },
      metadata: commandMeta(deps, meta),
    };
  });
};

// A path segment that cannot name a band is a band that does not exist.
const bandIdOrNull = (bandId: string): string | null =>
  isBandId(bandId, isResourceClassId, isRegionId) ? bandId : null;

export const amendBand = (deps: GuidanceDeps, data: AmendBand['data'], meta: CommandMetadata): Promise<BandResult> =>
  run(deps, bandIdOrNull(data.bandId), meta, async () => ({
    type: 'AmendBand',
    data,
    metadata: commandMeta(deps, meta),
  }));

export const withdrawBand = (
  deps: GuidanceDeps,
  data: WithdrawBand['data'],
  meta: CommandMetadata,
): Promise<BandResult> =>
  run(deps, bandIdOrNull(data.bandId), meta, async () => ({
    type: 'WithdrawBand',
    data,
    metadata: commandMeta(deps, meta),
  }));
