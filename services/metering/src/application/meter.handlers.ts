import { type AppendResult, load, toNewEvents, WrongExpectedVersion, withConcurrencyRetry } from '@cx/event-store';
import { DomainError } from '@cx/shared-kernel';
import { decide, type DefineMeter, evolve, noMeter } from '../domain/meter/meter.decider';
import { isMeterEvent, type MeterDefinition, type MeterEvent, meterStream } from '../domain/meter/meter.events';
import { starterMeters } from '../domain/meter/starter-meters';
import type { CommandMetadata, MeteringDeps } from './ports';

export const defineMeter = (
  deps: MeteringDeps,
  input: Omit<DefineMeter['data'], 'now'>,
  meta: CommandMetadata,
): Promise<AppendResult> =>
  withConcurrencyRetry(async () => {
    const stream = meterStream(input.key);
    const { state, revision } = await load(deps.store, stream, evolve, noMeter, isMeterEvent);
    const events: MeterEvent[] = decide({ type: 'DefineMeter', data: { ...input, now: deps.clock.now() } }, state);
    return deps.store.appendToStream(stream, toNewEvents(events, meta), { expectedRevision: revision });
  });

const SEED_META: CommandMetadata = {
  correlationId: 'metering-starter-meters',
  causationId: 'metering-starter-meters',
  actor: { service: 'metering' },
};

/**
 * Defines the starter meters that do not exist yet. Each is appended at `no_stream`, so two processes starting
 * together define each meter once, and a meter an admin defined first is left as it is.
 */
export const seedMeters = async (deps: MeteringDeps, meters: readonly MeterDefinition[] = starterMeters) => {
  const results: AppendResult[] = [];
  for (const m of meters) {
    try {
      results.push(await defineMeter(deps, m, SEED_META));
    } catch (e) {
      if (e instanceof DomainError && e.code === 'METERING.METER_EXISTS') continue;
      if (e instanceof WrongExpectedVersion) continue;
      throw e;
    }
  }
  return results;
};
