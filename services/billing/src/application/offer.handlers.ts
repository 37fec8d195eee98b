import type { GuidanceBandVersion } from '@cx/guidance';
import {
  type CommandMetadata,
  type EventStore,
  load,
  type Position,
  toNewEvents,
  withConcurrencyRetry,
} from '@cx/event-store';
import { type Clock, isSafeId } from '@cx/shared-kernel';
import {
  decide,
  evolve,
  type ListOffer,
  noOffer,
  offerNotFound,
  type OfferCommand,
  type OfferState,
  type ProviderFacts,
} from '../domain/offer/offer.decider';
import { isOfferEvent, type OfferEvent, offerStream } from '../domain/offer/offer.events';

// One handler per offer command: load the offer's stream, decide with the clock's now and the band in force now,
// append at the revision read. A lost race is retried from a fresh load (the second decision sees the first).

export interface OfferDeps {
  store: EventStore;
  clock: Clock;
  /** The band in force for a scope at an instant (billing's guidance view). */
  bandAt: (resourceClass: string, region: string | null, at: Date) => GuidanceBandVersion | null;
  /** What identity says about an account, or null when it has none. */
  provider: (accountId: string) => ProviderFacts | null;
}

export interface OfferResult {
  offer: NonNullable<OfferState>;
  /** False when the command recorded nothing (the same listing again, a second withdrawal). */
  changed: boolean;
  /** Where the recorded events landed; null when nothing was recorded. */
  position: Position | null;
}

/** Whether the caller may change this existing offer; one that may not is answered as not found. */
export type MayChange = (offer: NonNullable<OfferState>) => boolean;

const run = (
  deps: OfferDeps,
  offerId: string,
  meta: CommandMetadata,
  command: (now: Date) => OfferCommand,
  mayChange: MayChange = () => true,
) =>
  withConcurrencyRetry(async (): Promise<OfferResult> => {
    const stream = offerStream(offerId);
    // An id that cannot name an offer names no stream: the decider refuses it (or answers not found).
    const { state, revision } = isSafeId(offerId)
      ? await load<OfferState, OfferEvent>(deps.store, stream, evolve, noOffer, isOfferEvent)
      : { state: noOffer, revision: 'no_stream' as const };
    if (state !== null && !mayChange(state)) throw offerNotFound(offerId);
    const events = decide(command(deps.clock.now()), state);
    const after = events.reduce(evolve, state);
    if (after === null) throw new TypeError(`offer ${offerId}: a decision left no offer`);
    if (events.length === 0) return { offer: after, changed: false, position: null };
    const appended = await deps.store.appendToStream(stream, toNewEvents(events, meta), { expectedRevision: revision });
    return { offer: after, changed: true, position: appended.position };
  });

export type ListOfferInput = Omit<ListOffer['data'], 'provider' | 'band'>;

export const listOffer = (deps: OfferDeps, input: ListOfferInput, meta: CommandMetadata): Promise<OfferResult> =>
  run(deps, input.offerId, meta, (now) => {
    const region = typeof input.region === 'string' ? input.region : null;
    const band = typeof input.resourceClass === 'string' ? deps.bandAt(input.resourceClass, region, now) : null;
    return {
      type: 'ListOffer',
      data: { ...input, provider: deps.provider(input.providerAccount), band },
      metadata: { now },
    };
  });

export const withdrawOffer = (
  deps: OfferDeps,
  offerId: string,
  reason: string | null,
  meta: CommandMetadata,
  mayChange: MayChange,
): Promise<OfferResult> =>
  run(
    deps,
    offerId,
    meta,
    (now) => ({ type: 'WithdrawOffer', data: { offerId, reason }, metadata: { now } }),
    mayChange,
  );
