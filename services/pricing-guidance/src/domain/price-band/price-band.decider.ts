import { assert, assertNever, type Currency, Dec, DomainError, isCurrency } from '@cx/shared-kernel';
import type { ResourceClassState } from '../catalog/resource-class.decider';
import {
  formatPrice,
  isRegionId,
  isResourceClassId,
  parseInstant,
  priceField,
  refuse,
  textField,
  unprocessable,
} from '../validation';
import {
  bandIdOf,
  type BandVersion,
  type Issuer,
  kindOf,
  type PriceBandEvent,
  type PriceBandVersion,
  versionIdOf,
} from './price-band.events';

// The price-band aggregate: one band's versions, never edited. The regulator issues a band, amends it (a new
// version that applies from its own effective instant) and withdraws it (a version that ends the band). Time,
// the minimum notice and what the catalog knows arrive on the command: the decider reads nothing.

export interface BandState {
  bandId: string;
  resourceClass: string;
  region: string | null;
  currency: Currency;
  /** Every version, in version order. */
  versions: BandVersion[];
}

export type Band = BandState | null;
export const noBand: Band = null;

export const DEFAULT_CURRENCY: Currency = 'CNY';

interface CommandMeta {
  now: Date;
  /**
   * How long before it takes effect a change must be recorded, so matching (which may lag the store by at most
   * the configured propagation lag, never more than this) always knows a band before it applies.
   */
  minNoticeMs: number;
  issuedBy: Issuer;
}

/** Prices and times of a version, as the caller sent them (strings; validated here). */
export interface BandTerms {
  floorPerAcceleratorHour?: unknown;
  floorPerThousandTokens?: unknown;
  ceilingPerAcceleratorHour?: unknown;
  referencePrice?: unknown;
  effectiveFrom?: unknown;
  effectiveTo?: unknown;
}

export interface IssueBand {
  type: 'IssueBand';
  data: BandTerms & {
    resourceClass: unknown;
    region?: unknown;
    currency?: unknown;
    reason: unknown;
    documentRef: unknown;
    /** What the handler found in the catalog: the class (null when unknown) and whether the region exists. */
    catalog: { resourceClass: ResourceClassState | null; regionExists: boolean };
  };
  metadata: CommandMeta;
}

/** Only the terms given change; null clears an optional one (tokens floor, ceiling, reference, effectiveTo). */
export interface AmendBand {
  type: 'AmendBand';
  data: BandTerms & { bandId: string; reason: unknown; documentRef: unknown };
  metadata: CommandMeta;
}

export interface WithdrawBand {
  type: 'WithdrawBand';
  /** `effectiveAt` defaults to the earliest instant the notice allows. */
  data: { bandId: string; effectiveAt?: unknown; reason: unknown; documentRef: unknown };
  metadata: CommandMeta;
}

export type BandCommand = IssueBand | AmendBand | WithdrawBand;

const notFound = (bandId: string): DomainError =>
  DomainError.notFound('PRICING.BAND_NOT_FOUND', `price band ${bandId} not found`);

const reasonOf = (v: unknown): string => textField(v, 'PRICING.INVALID_REASON', 'reason', { min: 1, max: 1000 });
const documentRefOf = (v: unknown): string =>
  textField(v, 'PRICING.INVALID_DOCUMENT_REF', 'documentRef', { min: 1, max: 200 });

const instantOf = (v: unknown, field: string): Date => {
  const at = parseInstant(v);
  if (at === null) {
    throw refuse('PRICING.INVALID_INSTANT', `${field} must be an ISO 8601 instant with an offset`, field);
  }
  return at;
};

/**
 * A change may take effect no earlier than `now + minNotice`. In the past is its own code: it is the mistake
 * people make (a date typed wrong), and it can never be fixed by waiting.
 */
const noticeRule = (at: Date, field: string, meta: CommandMeta): void => {
  if (at.getTime() < meta.now.getTime()) {
    throw refuse('PRICING.EFFECTIVE_IN_PAST', `${field} is in the past`, field);
  }
  if (at.getTime() < meta.now.getTime() + meta.minNoticeMs) {
    throw refuse(
      'PRICING.NOTICE_TOO_SHORT',
      `${field} must be at least ${meta.minNoticeMs} ms after now, so every market knows the band before it applies`,
      field,
    );
  }
};

type Priced = Pick<
  PriceBandVersion,
  | 'floorPerAcceleratorHour'
  | 'floorPerThousandTokens'
  | 'ceilingPerAcceleratorHour'
  | 'referencePrice'
  | 'effectiveFrom'
  | 'effectiveTo'
>;

/**
 * Judges a version's terms: each given value over the previous version's (none for an issue). Field order:
 * floor, tokens floor, ceiling, reference, effectiveFrom, effectiveTo; each field's relation to the earlier
 * ones is judged with it, so the first field at fault is the one reported.
 */
const termsOf = (t: BandTerms, previous: Priced | null, currency: Currency, meta: CommandMeta): Priced => {
  const pick = <K extends keyof BandTerms>(k: K): unknown =>
    t[k] !== undefined ? t[k] : previous === null ? undefined : previous[k];

  const floorRaw = pick('floorPerAcceleratorHour');
  if (floorRaw === undefined || floorRaw === null) {
    throw refuse('PRICING.INVALID_PRICE', 'floorPerAcceleratorHour is required', 'floorPerAcceleratorHour');
  }
  const floor = priceField(floorRaw, 'floorPerAcceleratorHour');
  if (floor.lte(0)) {
    throw refuse(
      'PRICING.FLOOR_NOT_POSITIVE',
      'floorPerAcceleratorHour must be greater than zero',
      'floorPerAcceleratorHour',
    );
  }

  const tokensRaw = pick('floorPerThousandTokens');
  let tokens: Dec | null = null;
  if (tokensRaw !== undefined && tokensRaw !== null) {
    tokens = priceField(tokensRaw, 'floorPerThousandTokens');
    if (tokens.lte(0)) {
      throw refuse(
        'PRICING.FLOOR_NOT_POSITIVE',
        'floorPerThousandTokens must be greater than zero',
        'floorPerThousandTokens',
      );
    }
  }

  const ceilingRaw = pick('ceilingPerAcceleratorHour');
  let ceiling: Dec | null = null;
  if (ceilingRaw !== undefined && ceilingRaw !== null) {
    ceiling = priceField(ceilingRaw, 'ceilingPerAcceleratorHour');
    if (ceiling.lt(floor)) {
      throw refuse(
        'PRICING.CEILING_BELOW_FLOOR',
        'ceilingPerAcceleratorHour must not be below the floor',
        'ceilingPerAcceleratorHour',
      );
    }
  }

  const referenceRaw = pick('referencePrice');
  let reference: Dec | null = null;
  if (referenceRaw !== undefined && referenceRaw !== null) {
    reference = priceField(referenceRaw, 'referencePrice');
    if (reference.lt(floor) || (ceiling !== null && reference.gt(ceiling))) {
      throw refuse(
        'PRICING.REFERENCE_OUTSIDE_BAND',
        'referencePrice must lie within [floor, ceiling]',
        'referencePrice',
      );
    }
  }

  // The effective instant is never inherited: every version says when it starts, and that start is held to
  // the notice rule.
  if (t.effectiveFrom === undefined || t.effectiveFrom === null) {
    throw refuse('PRICING.INVALID_INSTANT', 'effectiveFrom is required', 'effectiveFrom');
  }
  const from = instantOf(t.effectiveFrom, 'effectiveFrom');
  noticeRule(from, 'effectiveFrom', meta);

  const toRaw = pick('effectiveTo');
  let to: Date | null = null;
  if (toRaw !== undefined && toRaw !== null) {
    to = instantOf(toRaw, 'effectiveTo');
    if (to.getTime() <= from.getTime()) {
      throw refuse('PRICING.EFFECTIVE_TO_BEFORE_FROM', 'effectiveTo must be after effectiveFrom', 'effectiveTo');
    }
  }

  return {
    floorPerAcceleratorHour: formatPrice(floor, currency),
    floorPerThousandTokens: tokens === null ? null : formatPrice(tokens, currency),
    ceilingPerAcceleratorHour: ceiling === null ? null : formatPrice(ceiling, currency),
    referencePrice: reference === null ? null : formatPrice(reference, currency),
    effectiveFrom: from.toISOString(),
    effectiveTo: to === null ? null : to.toISOString(),
  };
};

const latest = (state: BandState): BandVersion => {
  const v = state.versions[state.versions.length - 1];
  assert(v !== undefined, `band ${state.bandId} has no version`);
  return v;
};

/** A band whose latest version is a withdrawal: it may be issued again (a new line of versions), not amended. */
export const isWithdrawn = (state: BandState): boolean => latest(state).kind === 'withdrawn';

const nextVersion = (
  state: Band,
  base: Pick<PriceBandVersion, 'bandId' | 'resourceClass' | 'region' | 'currency'>,
): Pick<PriceBandVersion, 'version' | 'versionId' | 'previousVersionId'> => {
  const previous = state === null ? null : latest(state);
  const version = previous === null ? 1 : previous.version + 1;
  return {
    version,
    versionId: versionIdOf(base.bandId, version),
    previousVersionId: previous === null ? null : previous.versionId,
  };
};

// Order: the scope (class, region, currency), the terms, reason and document; then what the catalog knows (422);
// then the band's own state (409).
const decideIssue = (cmd: IssueBand, state: Band): PriceBandEvent[] => {
  const d = cmd.data;
  if (!isResourceClassId(d.resourceClass)) {
    throw refuse('PRICING.INVALID_RESOURCE_CLASS', 'resourceClass is not a resource class id', 'resourceClass');
  }
  const region = d.region ?? null;
  if (region !== null && !isRegionId(region)) {
    throw refuse('PRICING.INVALID_REGION', 'region is not a region id, e.g. cn-east-1', 'region');
  }
  const currency = d.currency ?? DEFAULT_CURRENCY;
  if (!isCurrency(currency)) {
    throw refuse('PRICING.INVALID_CURRENCY', 'currency is not one the exchange settles in', 'currency');
  }
  const terms = termsOf(d, null, currency, cmd.metadata);
  const reason = reasonOf(d.reason);
  const documentRef = documentRefOf(d.documentRef);

  const rc = d.catalog.resourceClass;
  if (rc === null || rc.resourceClassId !== d.resourceClass) {
    throw unprocessable('PRICING.UNKNOWN_RESOURCE_CLASS', `no resource class ${d.resourceClass}`, 'resourceClass');
  }
  if (region !== null && !d.catalog.regionExists) {
    throw unprocessable('PRICING.UNKNOWN_REGION', `no region ${String(region)}`, 'region');
  }
  if (terms.floorPerThousandTokens !== null && !rc.units.includes('thousand-tokens')) {
    throw unprocessable(
      'PRICING.UNIT_NOT_OFFERED',
      `${rc.resourceClassId} is not priced per 1,000 tokens`,
      'floorPerThousandTokens',
    );
  }
  const bandId = bandIdOf(d.resourceClass, region);
  if (state !== null && !isWithdrawn(state)) {
    throw DomainError.conflict('PRICING.BAND_EXISTS', `price band ${bandId} exists: amend it instead`, 'resourceClass');
  }
  const base = { bandId, resourceClass: d.resourceClass, region, currency };
  return [
    {
      type: 'PriceBandIssued',
      data: {
        ...base,
        ...nextVersion(state, base),
        ...terms,
        reason,
        documentRef,
        issuedBy: cmd.metadata.issuedBy,
        issuedAt: cmd.metadata.now.toISOString(),
      },
    },
  ];
};

const refuseIfWithdrawn = (state: BandState): void => {
  if (isWithdrawn(state)) {
    throw DomainError.conflict('PRICING.BAND_WITHDRAWN', `price band ${state.bandId} is withdrawn: issue a new one`);
  }
};

// The band must exist and be live before the terms can be judged: an amendment inherits what it does not give.
const decideAmend = (cmd: AmendBand, state: Band): PriceBandEvent[] => {
  const d = cmd.data;
  if (state === null) throw notFound(d.bandId);
  refuseIfWithdrawn(state);
  const previous = latest(state);
  const terms = termsOf(d, previous, state.currency, cmd.metadata);
  const reason = reasonOf(d.reason);
  const documentRef = documentRefOf(d.documentRef);
  const base = {
    bandId: state.bandId,
    resourceClass: state.resourceClass,
    region: state.region,
    currency: state.currency,
  };
  return [
    {
      type: 'PriceBandAmended',
      data: {
        ...base,
        ...nextVersion(state, base),
        ...terms,
        reason,
        documentRef,
        issuedBy: cmd.metadata.issuedBy,
        issuedAt: cmd.metadata.now.toISOString(),
      },
    },
  ];
};

// A withdrawal removes a floor, which matters to matching as much as setting one: the same notice applies.
const decideWithdraw = (cmd: WithdrawBand, state: Band): PriceBandEvent[] => {
  const d = cmd.data;
  if (state === null) throw notFound(d.bandId);
  refuseIfWithdrawn(state);
  const at =
    d.effectiveAt === undefined || d.effectiveAt === null
      ? new Date(cmd.metadata.now.getTime() + cmd.metadata.minNoticeMs)
      : instantOf(d.effectiveAt, 'effectiveAt');
  noticeRule(at, 'effectiveAt', cmd.metadata);
  const reason = reasonOf(d.reason);
  const documentRef = documentRefOf(d.documentRef);
  const previous = latest(state);
  const { kind: _kind, ...prices } = previous;
  return [
    {
      type: 'PriceBandWithdrawn',
      data: {
        ...prices,
        ...nextVersion(state, previous),
        effectiveFrom: at.toISOString(),
        effectiveTo: at.toISOString(),
        reason,
        documentRef,
        issuedBy: cmd.metadata.issuedBy,
        issuedAt: cmd.metadata.now.toISOString(),
      },
    },
  ];
};

export const decide = (cmd: BandCommand, state: Band): PriceBandEvent[] => {
  switch (cmd.type) {
    case 'IssueBand':
      return decideIssue(cmd, state);
    case 'AmendBand':
      return decideAmend(cmd, state);
    case 'WithdrawBand':
      return decideWithdraw(cmd, state);
    default:
      return assertNever(cmd);
  }
};

export const evolve = (state: Band, e: PriceBandEvent): Band => {
  const version: BandVersion = { ...e.data, kind: kindOf(e.type) };
  if (state === null) {
    // Only an issue can start a band; anything else first means the stream is corrupt.
    assert(
      e.type === 'PriceBandIssued' && e.data.version === 1,
      `${e.type} before PriceBandIssued for ${e.data.bandId}`,
    );
    const { bandId, resourceClass, region, currency } = e.data;
    return { bandId, resourceClass, region, currency, versions: [version] };
  }
  assert(
    e.data.version === latest(state).version + 1 && e.data.bandId === state.bandId,
    `version ${e.data.versionId} does not follow ${latest(state).versionId}`,
  );
  return { ...state, versions: [...state.versions, version] };
};
