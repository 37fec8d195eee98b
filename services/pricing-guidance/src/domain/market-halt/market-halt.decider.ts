import { assertNever, DomainError } from '@cx/shared-kernel';
import { isRegionId, isResourceClassId, parseInstant, refuse, textField, unprocessable } from '../validation';
import type { HaltActor, HaltScope, MarketHaltEvent, MarketHalted, MarketResumed } from './market-halt.events';

// One halt's life: halted, then resumed once. Time, the actor and what the catalog knows arrive on the command.

export interface HaltState {
  haltId: string;
  scope: HaltScope;
  reason: string;
  origin: MarketHalted['data']['origin'];
  haltedBy: HaltActor;
  haltedAt: string;
  resumesAt: string | null;
  resumed: { at: string; reason: string; automatic: boolean; by: HaltActor } | null;
}
export type Halt = HaltState | null;
export const noHalt: Halt = null;

export interface HaltMarket {
  type: 'HaltMarket';
  data: {
    haltId: string;
    scope: { resourceClass?: unknown; region?: unknown; instrumentId?: unknown };
    reason: unknown;
    resumesAt?: unknown;
    origin: MarketHalted['data']['origin'];
    /** What the handler found in the catalog for the scope's class and region (and the instrument's). */
    catalog: { resourceClassExists: (id: string) => boolean; regionExists: (id: string) => boolean };
  };
  metadata: { now: Date; actor: HaltActor };
}

export interface ResumeMarket {
  type: 'ResumeMarket';
  data: { haltId: string; reason: unknown; automatic: boolean };
  metadata: { now: Date; actor: HaltActor };
}

export type HaltCommand = HaltMarket | ResumeMarket;

export const evolve = (state: Halt, e: MarketHaltEvent): Halt => {
  switch (e.type) {
    case 'MarketHalted':
      return { ...e.data, resumed: null };
    case 'MarketResumed':
      if (state === null) return null;
      return {
        ...state,
        resumed: { at: e.data.resumedAt, reason: e.data.reason, automatic: e.data.automatic, by: e.data.resumedBy },
      };
    default:
      return assertNever(e);
  }
};

// `<resourceClass>.<region>.<YYYY-MM-DD>`: the instrument id matching lists (DESIGN.md, "Instrument").
const INSTRUMENT_RE = /^([^.]+)\.([^.]+)\.(\d{4}-\d{2}-\d{2})$/;

const optionalId = (v: unknown): string | null => (v === undefined || v === null || v === '' ? null : (v as string));

const scopeOf = (cmd: HaltMarket): HaltScope => {
  const s = cmd.data.scope ?? {};
  const resourceClass = optionalId(s.resourceClass);
  const region = optionalId(s.region);
  const instrumentId = optionalId(s.instrumentId);
  const { catalog } = cmd.data;
  if (resourceClass !== null) {
    if (!isResourceClassId(resourceClass)) {
      throw refuse(
        'PRICING.INVALID_RESOURCE_CLASS',
        'scope.resourceClass is not a resource class id',
        'scope.resourceClass',
      );
    }
    if (!catalog.resourceClassExists(resourceClass)) {
      throw unprocessable(
        'PRICING.UNKNOWN_RESOURCE_CLASS',
        `no resource class ${resourceClass}`,
        'scope.resourceClass',
      );
    }
  }
  if (region !== null) {
    if (!isRegionId(region)) throw refuse('PRICING.INVALID_REGION', 'scope.region is not a region id', 'scope.region');
    if (!catalog.regionExists(region))
      throw unprocessable('PRICING.UNKNOWN_REGION', `no region ${region}`, 'scope.region');
  }
  if (instrumentId !== null) {
    const m = typeof instrumentId === 'string' ? INSTRUMENT_RE.exec(instrumentId) : null;
    if (m === null || Number.isNaN(Date.parse(`${m[3]}T00:00:00Z`))) {
      throw refuse(
        'PRICING.INVALID_INSTRUMENT',
        'scope.instrumentId must be <resourceClass>.<region>.<YYYY-MM-DD>',
        'scope.instrumentId',
      );
    }
    const [, rc, rg] = m as unknown as [string, string, string];
    if (!catalog.resourceClassExists(rc) || !catalog.regionExists(rg)) {
      throw unprocessable(
        'PRICING.UNKNOWN_INSTRUMENT',
        `no instrument ${instrumentId} in the catalog`,
        'scope.instrumentId',
      );
    }
    // A scope whose fields disagree would halt nothing; refuse it rather than publish it.
    if ((resourceClass !== null && resourceClass !== rc) || (region !== null && region !== rg)) {
      throw refuse(
        'PRICING.SCOPE_MISMATCH',
        'scope.instrumentId is not of scope.resourceClass / scope.region',
        'scope.instrumentId',
      );
    }
  }
  return { resourceClass, region, instrumentId };
};

export const decide = (cmd: HaltCommand, state: Halt): MarketHaltEvent[] => {
  const now = cmd.metadata.now;
  switch (cmd.type) {
    case 'HaltMarket': {
      const reason = textField(cmd.data.reason, 'PRICING.INVALID_REASON', 'reason', { min: 1, max: 500 });
      const scope = scopeOf(cmd);
      let resumesAt: string | null = null;
      if (cmd.data.resumesAt !== undefined && cmd.data.resumesAt !== null) {
        const at = parseInstant(cmd.data.resumesAt);
        if (at === null)
          throw refuse('PRICING.INVALID_INSTANT', 'resumesAt must be an ISO 8601 instant with an offset', 'resumesAt');
        if (at.getTime() <= now.getTime())
          throw refuse('PRICING.RESUME_IN_PAST', 'resumesAt must be after now', 'resumesAt');
        resumesAt = at.toISOString();
      }
      if (state !== null) throw DomainError.conflict('PRICING.HALT_EXISTS', `halt ${cmd.data.haltId} exists`);
      return [
        {
          type: 'MarketHalted',
          data: {
            haltId: cmd.data.haltId,
            scope,
            reason,
            origin: cmd.data.origin,
            haltedBy: cmd.metadata.actor,
            haltedAt: now.toISOString(),
            resumesAt,
          },
        },
      ];
    }
    case 'ResumeMarket': {
      if (state === null) throw DomainError.notFound('PRICING.HALT_NOT_FOUND', `halt ${cmd.data.haltId} not found`);
      const reason = textField(cmd.data.reason, 'PRICING.INVALID_REASON', 'reason', { min: 1, max: 500 });
      if (state.resumed !== null) {
        throw DomainError.conflict('PRICING.HALT_RESUMED', `halt ${state.haltId} was resumed at ${state.resumed.at}`);
      }
      // The cooling-off is a minimum for the automatic resume only; the regulator may lift a halt sooner.
      if (cmd.data.automatic && (state.resumesAt === null || Date.parse(state.resumesAt) > now.getTime())) {
        throw DomainError.conflict('PRICING.HALT_NOT_DUE', `halt ${state.haltId} is not due to resume`);
      }
      const resumed: MarketResumed = {
        type: 'MarketResumed',
        data: {
          haltId: state.haltId,
          scope: state.scope,
          reason,
          automatic: cmd.data.automatic,
          resumedBy: cmd.metadata.actor,
          resumedAt: now.toISOString(),
        },
      };
      return [resumed];
    }
    default:
      return assertNever(cmd);
  }
};
