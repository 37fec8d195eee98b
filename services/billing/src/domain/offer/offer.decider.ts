import { floorFor, type GuidanceBandVersion } from '@cx/guidance';
import { assertNever, type Currency, Dec, DomainError, formatDecimal, isCurrency, isSafeId } from '@cx/shared-kernel';
import { assertNotBelowFloor, type FloorInForce } from '../rating/floor';
import { meterUnitOf, ratableMeters } from '../rating/meter-units';
import { parseRateCard, rateCardTerms } from '../rating/rate-card';
import type { OfferEvent, OfferListed, OfferTerms } from './offer.events';

// The offer aggregate as a decider. Everything the decision needs arrives on the command: the time, the band in
// force now for the offer's scope (the billing-side guidance view resolves it), and what identity says about the
// provider account. Refusals are DomainErrors (nothing is recorded); a listing or a withdrawal is an event.

export type OfferStatus = 'active' | 'withdrawn';

export type OfferState =
  | (OfferTerms & {
      status: OfferStatus;
      listedAt: string;
      withdrawnAt: string | null;
      floorPerUnit: string | null;
      guidanceVersion: string | null;
    })
  | null;
export const noOffer: OfferState = null;

/** What identity says about the provider account, or null when it has none. */
export interface ProviderFacts {
  kind: 'provider' | 'buyer' | 'both';
  currency: Currency;
}

export interface ListOffer {
  type: 'ListOffer';
  data: {
    offerId: string;
    providerAccount: string;
    resourceClass: unknown;
    region?: unknown;
    meter: unknown;
    currency: unknown;
    /** The card's wire form, parsed here. */
    rateCard: unknown;
    provider: ProviderFacts | null;
    /** The band in force now for (resourceClass, region), or null where none is. */
    band: GuidanceBandVersion | null;
  };
  metadata: { now: Date };
}

export interface WithdrawOffer {
  type: 'WithdrawOffer';
  data: { offerId: string; reason?: string | null };
  metadata: { now: Date };
}

export type OfferCommand = ListOffer | WithdrawOffer;

const RESOURCE_CLASS_RE = /^[a-z0-9]+(-[a-z0-9]+)*$/;
const REGION_RE = /^[a-z][a-z0-9]*(-[a-z0-9]+)+$/;
export const MAX_REASON_LENGTH = 500;

const invalid = (code: string, message: string, field: string) => DomainError.invalid(code, message, field);
const unprocessable = (code: string, message: string, field: string) =>
  new DomainError(code, message, 'unprocessable', [{ field, code }]);
export const offerNotFound = (offerId: string): DomainError =>
  DomainError.notFound('BILLING.OFFER_NOT_FOUND', `offer ${offerId} not found`);
export const accountNotFound = (account: string): DomainError =>
  DomainError.notFound('BILLING.ACCOUNT_NOT_FOUND', `account ${account} not found`);

export const evolve = (state: OfferState, e: OfferEvent): OfferState => {
  switch (e.type) {
    case 'OfferListed': {
      const { listedAt, floorPerUnit, guidanceVersion, ...terms } = e.data;
      return { ...terms, status: 'active', listedAt, withdrawnAt: null, floorPerUnit, guidanceVersion };
    }
    case 'OfferWithdrawn':
      return state === null ? state : { ...state, status: 'withdrawn', withdrawnAt: e.data.withdrawnAt };
    default:
      return assertNever(e);
  }
};

/** The band's floor for the unit as a rating or a listing check uses it; null where no band is in force. */
export const floorInForce = (band: GuidanceBandVersion | null, unit: OfferTerms['unit']): FloorInForce | null => {
  if (band === null) return null;
  const perUnit = floorFor(band, unit);
  return { perUnit: perUnit === null ? null : new Dec(perUnit), guidanceVersion: band.versionId };
};

/** Checks a listing's input in the order errors win: malformed fields (400), then the account, then the rules. */
const termsOf = (cmd: ListOffer): OfferTerms => {
  const d = cmd.data;
  if (!isSafeId(d.offerId)) throw invalid('BILLING.OFFER_ID_INVALID', 'offerId is not a valid id', 'offerId');
  if (!isSafeId(d.providerAccount)) {
    throw invalid('BILLING.ACCOUNT_ID_INVALID', 'providerAccount is not a valid account id', 'providerAccount');
  }
  if (typeof d.resourceClass !== 'string' || d.resourceClass.length > 64 || !RESOURCE_CLASS_RE.test(d.resourceClass)) {
    throw invalid('BILLING.RESOURCE_CLASS_INVALID', 'resourceClass is not a resource class id', 'resourceClass');
  }
  const region = d.region ?? null;
  if (region !== null && (typeof region !== 'string' || region.length > 32 || !REGION_RE.test(region))) {
    throw invalid('BILLING.REGION_INVALID', 'region is not a region id', 'region');
  }
  const meterUnit = typeof d.meter === 'string' ? meterUnitOf(d.meter) : undefined;
  if (meterUnit === undefined) {
    throw invalid('BILLING.METER_NOT_RATABLE', `meter is one of ${Object.keys(ratableMeters).join(', ')}`, 'meter');
  }
  if (!isCurrency(d.currency)) throw invalid('BILLING.CURRENCY_INVALID', 'currency is not supported', 'currency');
  const card = parseRateCard(d.rateCard, d.currency);
  return {
    offerId: d.offerId,
    providerAccount: d.providerAccount,
    resourceClass: d.resourceClass,
    region: region as string | null,
    meter: d.meter as string,
    unit: meterUnit.unit,
    currency: d.currency,
    rateCard: rateCardTerms(card),
  };
};

const sameTerms = (a: OfferTerms, b: OfferTerms): boolean =>
  JSON.stringify([a.providerAccount, a.resourceClass, a.region, a.meter, a.unit, a.currency, a.rateCard]) ===
  JSON.stringify([b.providerAccount, b.resourceClass, b.region, b.meter, b.unit, b.currency, b.rateCard]);

const list = (cmd: ListOffer, state: OfferState): OfferEvent[] => {
  const terms = termsOf(cmd);
  if (state !== null) {
    // The client's offer id gives idempotency: the same listing again records nothing.
    if (sameTerms(state, terms)) return [];
    throw DomainError.conflict(
      'BILLING.OFFER_EXISTS_WITH_DIFFERENT_FIELDS',
      `offer ${terms.offerId} was listed with other terms`,
      'offerId',
    );
  }
  const provider = cmd.data.provider;
  if (provider === null) throw accountNotFound(terms.providerAccount);
  if (provider.kind === 'buyer') {
    throw unprocessable('BILLING.ACCOUNT_NOT_PROVIDER', 'a buyer account cannot list offers', 'providerAccount');
  }
  if (provider.currency !== terms.currency) {
    throw unprocessable(
      'BILLING.CURRENCY_MISMATCH',
      `account ${terms.providerAccount} settles in ${provider.currency}, not ${terms.currency}`,
      'currency',
    );
  }
  const band = cmd.data.band;
  if (band !== null && band.currency !== terms.currency) {
    // A floor in another currency cannot be compared without a rate nobody here may choose.
    throw unprocessable(
      'BILLING.GUIDANCE_CURRENCY_MISMATCH',
      `the band in force (${band.versionId}) is in ${band.currency}, the offer in ${terms.currency}`,
      'currency',
    );
  }
  const floor = floorInForce(band, terms.unit);
  assertNotBelowFloor(parseRateCard(terms.rateCard, terms.currency), floor);
  const listed: OfferListed = {
    type: 'OfferListed',
    data: {
      ...terms,
      listedAt: cmd.metadata.now.toISOString(),
      floorPerUnit: floor?.perUnit ? formatDecimal(floor.perUnit) : null,
      guidanceVersion: floor?.guidanceVersion ?? null,
    },
  };
  return [listed];
};

const withdraw = (cmd: WithdrawOffer, state: OfferState): OfferEvent[] => {
  if (state === null) throw offerNotFound(cmd.data.offerId);
  // Withdrawing a withdrawn offer is a retry: it records nothing and answers the offer as it is.
  if (state.status === 'withdrawn') return [];
  const reason = cmd.data.reason ?? null;
  if (reason !== null && (typeof reason !== 'string' || reason.length > MAX_REASON_LENGTH)) {
    throw invalid('BILLING.REASON_INVALID', `reason is at most ${MAX_REASON_LENGTH} characters`, 'reason');
  }
  return [
    {
      type: 'OfferWithdrawn',
      data: { offerId: state.offerId, withdrawnAt: cmd.metadata.now.toISOString(), reason },
    },
  ];
};

export const decide = (cmd: OfferCommand, state: OfferState): OfferEvent[] => {
  switch (cmd.type) {
    case 'ListOffer':
      return list(cmd, state);
    case 'WithdrawOffer':
      return withdraw(cmd, state);
    default:
      return assertNever(cmd);
  }
};
