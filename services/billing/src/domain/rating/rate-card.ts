import { type Currency, Dec, DomainError, formatDecimal, parseDecimal } from '@cx/shared-kernel';

// Rate cards (issue 7, "Rate cards for on-demand metered offers"): how an offer turns a quantity of its unit
// (accelerator-hours, thousands of tokens) into money. Five price models, as billing systems name them:
//
//   flat       every unit at one price.
//   package    units sold in packages of `packageSize` at `packagePrice`; a started package is a whole package;
//              the first `freeUnits` cost nothing.
//   graduated  tiers by quantity; each unit is priced by the tier it falls in (1–100 at 10, 101+ at 8).
//   volume     tiers by quantity; every unit is priced by the tier the total reaches (150 units: all at 8).
//   either tier model may add a flat fee per tier (`flatFee`): graduated charges it for every tier the quantity
//   enters, volume for the one tier it reaches.
//
// Tier bounds are inclusive upper bounds in the card's unit (`upTo: "100"` covers quantities up to and including
// 100); the last tier is open (`upTo: null`). The wire form (events, HTTP) holds decimal strings; the parsed form
// holds Dec. Parsing refuses anything malformed with a BILLING.* code and the field at fault, under `field`.

export const priceModels = ['flat', 'package', 'graduated', 'volume'] as const;
export type PriceModelName = (typeof priceModels)[number];

/** Most digits after the point of a unit price: fractions of the minor unit are normal per token. */
export const PRICE_DECIMALS = 10;
/** Most digits after the point of a quantity bound (tier bounds, package size, free units). */
export const QUANTITY_DECIMALS = 9;
export const MAX_TIERS = 50;

export interface TierTerms {
  upTo: string | null;
  unitPrice: string;
  flatFee?: string | null;
}

/** A rate card as it crosses a boundary: decimal strings. */
export type RateCardTerms =
  | { model: 'flat'; unitPrice: string }
  | { model: 'package'; packageSize: string; packagePrice: string; freeUnits?: string | null }
  | { model: 'graduated' | 'volume'; tiers: TierTerms[] };

export interface Tier {
  /** Inclusive upper bound; null: open. */
  upTo: Dec | null;
  unitPrice: Dec;
  /** Zero when the tier has none. */
  flatFee: Dec;
}

export type PriceModel =
  | { model: 'flat'; unitPrice: Dec }
  | { model: 'package'; packageSize: Dec; packagePrice: Dec; freeUnits: Dec }
  | { model: 'graduated' | 'volume'; tiers: Tier[] };

/** A parsed card, priced in one currency. */
export type RateCard = PriceModel & { currency: Currency };

const invalid = (code: string, message: string, field: string): DomainError =>
  DomainError.invalid(`BILLING.${code}`, message, field);

const price = (value: unknown, field: string): Dec =>
  parseDecimal(value, { field, service: 'BILLING', nonNegative: true, maxDecimals: PRICE_DECIMALS });

const quantity = (value: unknown, field: string, positive: boolean): Dec =>
  parseDecimal(value, {
    field,
    service: 'BILLING',
    maxDecimals: QUANTITY_DECIMALS,
    ...(positive ? { positive: true } : { nonNegative: true }),
  });

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

const parseTiers = (raw: unknown, field: string): Tier[] => {
  if (!Array.isArray(raw) || raw.length === 0) throw invalid('TIERS_REQUIRED', 'at least one tier is required', field);
  if (raw.length > MAX_TIERS) throw invalid('TOO_MANY_TIERS', `at most ${MAX_TIERS} tiers`, field);
  const tiers: Tier[] = [];
  raw.forEach((t: unknown, i) => {
    const at = `${field}[${i}]`;
    if (!isRecord(t)) throw invalid('TIER_INVALID', 'a tier is an object', at);
    const last = i === raw.length - 1;
    let upTo: Dec | null = null;
    if (t.upTo === null || t.upTo === undefined) {
      if (!last) throw invalid('TIER_UP_TO_REQUIRED', 'only the last tier is open', `${at}.upTo`);
    } else {
      if (last) throw invalid('LAST_TIER_MUST_BE_OPEN', 'the last tier has upTo null', `${at}.upTo`);
      upTo = quantity(t.upTo, `${at}.upTo`, true);
      const previous = tiers[i - 1]?.upTo;
      if (previous && upTo.lte(previous)) {
        throw invalid('TIERS_NOT_ASCENDING', 'tier bounds must increase', `${at}.upTo`);
      }
    }
    const flatFee = t.flatFee === null || t.flatFee === undefined ? new Dec(0) : price(t.flatFee, `${at}.flatFee`);
    tiers.push({ upTo, unitPrice: price(t.unitPrice, `${at}.unitPrice`), flatFee });
  });
  return tiers;
};

/**
 * Parses a card's wire form. `field` names where it sits in the request (`rateCard`), so errors point at e.g.
 * `rateCard.tiers[1].upTo`.
 */
export const parseRateCard = (terms: unknown, currency: Currency, field = 'rateCard'): RateCard => {
  if (!isRecord(terms)) throw invalid('RATE_CARD_INVALID', 'rateCard is an object', field);
  switch (terms.model) {
    case 'flat':
      return { model: 'flat', currency, unitPrice: price(terms.unitPrice, `${field}.unitPrice`) };
    case 'package':
      return {
        model: 'package',
        currency,
        packageSize: quantity(terms.packageSize, `${field}.packageSize`, true),
        packagePrice: price(terms.packagePrice, `${field}.packagePrice`),
        freeUnits:
          terms.freeUnits === null || terms.freeUnits === undefined
            ? new Dec(0)
            : quantity(terms.freeUnits, `${field}.freeUnits`, false),
      };
    case 'graduated':
    case 'volume':
      return { model: terms.model, currency, tiers: parseTiers(terms.tiers, `${field}.tiers`) };
    default:
      throw invalid('PRICE_MODEL_UNKNOWN', `model is one of ${priceModels.join(', ')}`, `${field}.model`);
  }
};

/** The canonical wire form of a parsed card (what an event records): plain decimals, no trailing zeros. */
export const rateCardTerms = (card: RateCard): RateCardTerms => {
  const s = formatDecimal;
  switch (card.model) {
    case 'flat':
      return { model: 'flat', unitPrice: s(card.unitPrice) };
    case 'package':
      return {
        model: 'package',
        packageSize: s(card.packageSize),
        packagePrice: s(card.packagePrice),
        freeUnits: s(card.freeUnits),
      };
    default:
      return {
        model: card.model,
        tiers: card.tiers.map((t) => ({
          upTo: t.upTo === null ? null : s(t.upTo),
          unitPrice: s(t.unitPrice),
          flatFee: s(t.flatFee),
        })),
      };
  }
};
