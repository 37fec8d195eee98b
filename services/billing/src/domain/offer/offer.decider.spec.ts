// Proves the offer decider (given events, when a command, then events or a refusal): listing with the floor in
// force checked in the meter's unit, refusals ordered by which error wins, idempotent re-listing and withdrawal,
// and rating usage of an offer at the card or, after a floor rise, at the floor.
import type { GuidanceBandVersion } from '@cx/guidance';
import { Dec, isDomainError } from '@cx/shared-kernel';
import { decide, evolve, type ListOffer, noOffer, type OfferState } from './offer.decider';
import type { OfferEvent } from './offer.events';
import { rateOfferUsage } from './offer-rating';

const NOW = new Date('2026-03-10T08:00:00.000Z');
const RC = 'nvidia-h100-sxm-80g';

const band = (over: Partial<GuidanceBandVersion> = {}): GuidanceBandVersion => ({
  bandId: RC,
  versionId: `${RC}.v1`,
  version: 1,
  kind: 'issued',
  resourceClass: RC,
  region: null,
  currency: 'CNY',
  floorPerAcceleratorHour: '12',
  floorPerThousandTokens: '0.02',
  ceilingPerAcceleratorHour: null,
  referencePrice: null,
  effectiveFrom: '2026-03-01T00:00:00.000Z',
  effectiveTo: null,
  previousVersionId: null,
  ...over,
});

const listing = (over: Partial<ListOffer['data']> = {}): ListOffer => ({
  type: 'ListOffer',
  data: {
    offerId: 'off-1',
    providerAccount: 'prov-01',
    resourceClass: RC,
    region: 'cn-east-1',
    meter: 'accelerator_seconds',
    currency: 'CNY',
    rateCard: { model: 'flat', unitPrice: '12.50' },
    provider: { kind: 'provider', currency: 'CNY' },
    band: band(),
    ...over,
  },
  metadata: { now: NOW },
});

const given = (events: OfferEvent[]): OfferState => events.reduce(evolve, noOffer);

const refusal = (f: () => unknown): [string, string, string | undefined] | null => {
  try {
    f();
    return null;
  } catch (e) {
    if (!isDomainError(e)) throw e;
    return [e.code, e.kind, e.details[0]?.field];
  }
};

describe('offer decider', () => {
  it('lists an offer with the floor it was checked against, in the meter’s unit', () => {
    expect(decide(listing(), noOffer)).toEqual([
      {
        type: 'OfferListed',
        data: {
          offerId: 'off-1',
          providerAccount: 'prov-01',
          resourceClass: RC,
          region: 'cn-east-1',
          meter: 'accelerator_seconds',
          unit: 'accelerator-hour',
          currency: 'CNY',
          rateCard: { model: 'flat', unitPrice: '12.5' },
          listedAt: NOW.toISOString(),
          floorPerUnit: '12',
          guidanceVersion: `${RC}.v1`,
        },
      },
    ]);
  });

  it('checks a token offer against the per-1,000-token floor, and records null where no band is in force', () => {
    const tokens = listing({ meter: 'tokens', rateCard: { model: 'flat', unitPrice: '0.03' } });
    expect(decide(tokens, noOffer)[0]?.data).toMatchObject({ unit: 'thousand-tokens', floorPerUnit: '0.02' });
    expect(decide(listing({ band: null }), noOffer)[0]?.data).toMatchObject({
      floorPerUnit: null,
      guidanceVersion: null,
    });
    // A band with no token floor: nothing to check, but the version consulted is recorded.
    const noTokenFloor = listing({
      meter: 'tokens',
      rateCard: { model: 'flat', unitPrice: '0.0001' },
      band: band({ floorPerThousandTokens: null }),
    });
    expect(decide(noTokenFloor, noOffer)[0]?.data).toMatchObject({ floorPerUnit: null, guidanceVersion: `${RC}.v1` });
  });

  // Ordered by which error wins.
  it.each<[string, Partial<ListOffer['data']>, [string, string, string | undefined]]>([
    ['a malformed offer id', { offerId: 'no spaces', meter: 'x' }, ['BILLING.OFFER_ID_INVALID', 'invalid', 'offerId']],
    [
      'a malformed class',
      { resourceClass: 'H100!', meter: 'x' },
      ['BILLING.RESOURCE_CLASS_INVALID', 'invalid', 'resourceClass'],
    ],
    ['a malformed region', { region: 'east', meter: 'x' }, ['BILLING.REGION_INVALID', 'invalid', 'region']],
    ['a meter no card can rate', { meter: 'requests' }, ['BILLING.METER_NOT_RATABLE', 'invalid', 'meter']],
    ['an unknown currency', { currency: 'XXX' }, ['BILLING.CURRENCY_INVALID', 'invalid', 'currency']],
    [
      'a malformed card',
      { rateCard: { model: 'flat', unitPrice: '1e3' }, provider: null },
      ['BILLING.MALFORMED_DECIMAL', 'invalid', 'rateCard.unitPrice'],
    ],
    ['an unknown account', { provider: null }, ['BILLING.ACCOUNT_NOT_FOUND', 'not_found', undefined]],
    [
      'a buyer account',
      { provider: { kind: 'buyer', currency: 'CNY' } },
      ['BILLING.ACCOUNT_NOT_PROVIDER', 'unprocessable', 'providerAccount'],
    ],
    [
      'another currency than the account’s',
      { provider: { kind: 'both', currency: 'USD' }, currency: 'CNY' },
      ['BILLING.CURRENCY_MISMATCH', 'unprocessable', 'currency'],
    ],
    [
      'a band in another currency',
      { band: band({ currency: 'USD' }) },
      ['BILLING.GUIDANCE_CURRENCY_MISMATCH', 'unprocessable', 'currency'],
    ],
    [
      'a card below the floor',
      { rateCard: { model: 'flat', unitPrice: '11.99' } },
      ['BILLING.RATE_BELOW_FLOOR', 'unprocessable', 'rateCard.unitPrice'],
    ],
  ])('refuses %s', (_what, over, expected) => {
    expect(refusal(() => decide(listing(over), noOffer))).toEqual(expected);
  });

  it('answers the same listing again with nothing, and other terms under the same id with a conflict', () => {
    const state = given(decide(listing(), noOffer));
    // Even after a floor rise: the listing was decided when it was made.
    expect(decide(listing({ band: band({ floorPerAcceleratorHour: '20' }) }), state)).toEqual([]);
    expect(refusal(() => decide(listing({ rateCard: { model: 'flat', unitPrice: '13' } }), state))).toEqual([
      'BILLING.OFFER_EXISTS_WITH_DIFFERENT_FIELDS',
      'conflict',
      'offerId',
    ]);
  });

  it('withdraws once; a second withdrawal records nothing; an unknown offer is not found', () => {
    const state = given(decide(listing(), noOffer));
    const withdraw = { type: 'WithdrawOffer' as const, data: { offerId: 'off-1', reason: 'capacity sold' } };
    const events = decide({ ...withdraw, metadata: { now: NOW } }, state);
    expect(events).toEqual([
      { type: 'OfferWithdrawn', data: { offerId: 'off-1', withdrawnAt: NOW.toISOString(), reason: 'capacity sold' } },
    ]);
    const withdrawn = events.reduce(evolve, state);
    expect(withdrawn).toMatchObject({ status: 'withdrawn', withdrawnAt: NOW.toISOString() });
    expect(decide({ ...withdraw, metadata: { now: NOW } }, withdrawn)).toEqual([]);
    expect(refusal(() => decide({ ...withdraw, metadata: { now: NOW } }, noOffer))).toEqual([
      'BILLING.OFFER_NOT_FOUND',
      'not_found',
      undefined,
    ]);
  });
});

describe('rateOfferUsage', () => {
  const offer = given(decide(listing(), noOffer));
  if (offer === null) throw new TypeError('listed');

  it('converts seconds to accelerator-hours and rates by the card', () => {
    // 5,400 s = 1.5 h at 12.5 = 18.75.
    expect(rateOfferUsage(offer, '5400', band())).toEqual({
      offerId: 'off-1',
      meter: 'accelerator_seconds',
      meterQuantity: '5400',
      unit: 'accelerator-hour',
      quantity: '1.5',
      unitPrice: '12.5',
      amount: '18.75',
      currency: 'CNY',
      ratedAtFloor: false,
      floorPerUnit: '12',
      guidanceVersion: `${RC}.v1`,
    });
  });

  it('rates at the floor after a floor rise and says so', () => {
    // 3,600 s = 1 h; the card's 12.5 is below the new floor of 14: 14.00, flagged with v2.
    const risen = band({ versionId: `${RC}.v2`, version: 2, kind: 'amended', floorPerAcceleratorHour: '14' });
    expect(rateOfferUsage(offer, new Dec(3600), risen)).toMatchObject({
      amount: '14.00',
      unitPrice: '14',
      ratedAtFloor: true,
      guidanceVersion: `${RC}.v2`,
    });
  });

  it('rates per 1,000 tokens, and records no version where no band was in force', () => {
    const tokens = given(decide(listing({ meter: 'tokens', rateCard: { model: 'flat', unitPrice: '0.03' } }), noOffer));
    if (tokens === null) throw new TypeError('listed');
    // 2,500 tokens = 2.5 thousand at 0.03 = 0.075, a tie: half-even to 0.08.
    expect(rateOfferUsage(tokens, '2500', null)).toMatchObject({
      quantity: '2.5',
      amount: '0.08',
      guidanceVersion: null,
      ratedAtFloor: false,
    });
  });

  it('refuses negative usage', () => {
    expect(refusal(() => rateOfferUsage(offer, '-1', null))).toEqual(['BILLING.NEGATIVE', 'invalid', 'quantity']);
  });
});
