import { randomUUID } from 'node:crypto';
import { load, type Position, toNewEvents, withConcurrencyRetry, WrongExpectedVersion } from '@cx/event-store';
import {
  decide,
  evolve,
  type Halt,
  type HaltState,
  type HaltMarket,
  noHalt,
  type ResumeMarket,
} from '../domain/market-halt/market-halt.decider';
import {
  type HaltActor,
  isMarketHaltEvent,
  type MarketHaltEvent,
  marketHaltStream,
} from '../domain/market-halt/market-halt.events';
import type { CircuitBreakerTripped } from '../domain/surveillance/reference-index.events';
import type { CommandMetadata, GuidanceDeps } from './ports';

// Halting and resuming the market: by the regulator (HTTP), by the circuit breaker (the trade consumer) and when a
// halt's cooling-off ends (the sweep). Each loads the halt's stream, decides and appends at the revision read.

export interface HaltResult {
  halt: HaltState;
  position: Position | null;
}

const loadHalt = (deps: GuidanceDeps, haltId: string) =>
  load<Halt, MarketHaltEvent>(deps.store, marketHaltStream(haltId), evolve, noHalt, isMarketHaltEvent);

// A halt id names a stream: only plain ids are let through, anything else is a halt that does not exist.
const HALT_ID_RE = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;
export const isHaltId = (v: string): boolean => HALT_ID_RE.test(v);

const actorOf = (meta: CommandMetadata, rule: string | null = null): HaltActor => ({
  keyId: meta.actor.keyId ?? null,
  role: meta.actor.role ?? null,
  rule,
});

const run = (
  deps: GuidanceDeps,
  haltId: string,
  meta: CommandMetadata,
  command: () => HaltMarket | ResumeMarket,
): Promise<HaltResult> =>
  withConcurrencyRetry(async () => {
    const { state, revision } = await loadHalt(deps, haltId);
    const events = decide(command(), state);
    const after = events.reduce(evolve, state);
    if (after === null) throw new TypeError(`halt ${haltId} has no state after ${events.length} events`);
    const result = await deps.store.appendToStream(marketHaltStream(haltId), toNewEvents(events, meta), {
      expectedRevision: revision,
    });
    return { halt: after, position: result.position };
  });

export interface HaltInput {
  scope?: { resourceClass?: unknown; region?: unknown; instrumentId?: unknown };
  reason: unknown;
  resumesAt?: unknown;
}

/** The regulator halts (part of) the market; the halt id is new. */
export const haltMarket = (
  deps: GuidanceDeps,
  input: HaltInput,
  catalog: HaltMarket['data']['catalog'],
  meta: CommandMetadata,
): Promise<HaltResult> => {
  const haltId = `halt-${randomUUID()}`;
  return run(deps, haltId, meta, () => ({
    type: 'HaltMarket',
    data: {
      haltId,
      scope: input.scope ?? {},
      reason: input.reason,
      ...(input.resumesAt !== undefined ? { resumesAt: input.resumesAt } : {}),
      origin: 'manual',
      catalog,
    },
    metadata: { now: deps.clock.now(), actor: actorOf(meta) },
  }));
};

/** Resumes a halt: by the regulator, or (`automatic`) because its cooling-off has ended. */
export const resumeMarket = (
  deps: GuidanceDeps,
  data: { haltId: string; reason: unknown; automatic: boolean },
  meta: CommandMetadata,
): Promise<HaltResult> =>
  run(deps, data.haltId, meta, () => ({
    type: 'ResumeMarket',
    data,
    metadata: { now: deps.clock.now(), actor: actorOf(meta, data.automatic ? 'cooling-off' : null) },
  }));

/**
 * The breaker's halt, at `no_stream` under the id the trade determines: written once however often the trade is
 * heard (a second append is refused with WrongExpectedVersion, which is the halt already being there). Business
 * time is the trade's, so a replayed tape halts at the same instants.
 */
export const recordBreakerHalt = async (
  deps: GuidanceDeps,
  trip: CircuitBreakerTripped['data'],
  meta: CommandMetadata,
): Promise<Position | null> => {
  const events = decide(
    {
      type: 'HaltMarket',
      data: {
        haltId: trip.haltId,
        scope: { instrumentId: trip.instrumentId },
        reason: `circuit breaker: ${trip.instrumentId} moved ${trip.movePercent}% (limit ${trip.thresholdPercent}%) within ${trip.windowMs} ms`,
        resumesAt: trip.resumesAt,
        origin: 'circuit-breaker',
        // The tape is matching's record of an instrument that exists; the catalog is not asked.
        catalog: { resourceClassExists: () => true, regionExists: () => true },
      },
      metadata: {
        now: new Date(Date.parse(trip.haltedAt)),
        actor: { keyId: null, role: null, rule: 'circuit-breaker' },
      },
    },
    noHalt,
  );
  try {
    const r = await deps.store.appendToStream(marketHaltStream(trip.haltId), toNewEvents(events, meta), {
      expectedRevision: 'no_stream',
    });
    return r.position;
  } catch (e) {
    if (e instanceof WrongExpectedVersion) return null;
    throw e;
  }
};
