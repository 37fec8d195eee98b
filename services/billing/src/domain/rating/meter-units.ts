import type { BandUnit } from '@cx/guidance';
import { Dec } from '@cx/shared-kernel';

// What an offer's card is quoted in, per meter. Meters count in their own unit (metering's `accelerator_seconds`
// counts seconds, `tokens*` count tokens); cards and floors are quoted per accelerator-hour and per 1,000 tokens
// (DESIGN.md, "Resource class", "Price band"). The conversion is one exact division, done once when usage is
// rated, so a card never sees a seconds figure.

export interface MeterUnit {
  /** The unit the card and the floor are quoted in. */
  unit: BandUnit;
  /** Meter units per card unit: 3,600 seconds per accelerator-hour, 1,000 tokens per thousand tokens. */
  perCardUnit: number;
}

export const ratableMeters: Readonly<Record<string, MeterUnit>> = {
  accelerator_seconds: { unit: 'accelerator-hour', perCardUnit: 3_600 },
  tokens: { unit: 'thousand-tokens', perCardUnit: 1_000 },
  tokens_in: { unit: 'thousand-tokens', perCardUnit: 1_000 },
  tokens_out: { unit: 'thousand-tokens', perCardUnit: 1_000 },
};

export const meterUnitOf = (meter: string): MeterUnit | undefined =>
  Object.prototype.hasOwnProperty.call(ratableMeters, meter) ? ratableMeters[meter] : undefined;

/** A meter reading in the card's unit (e.g. 5,400 accelerator_seconds → 1.5 accelerator-hours). */
export const toCardUnits = (meterQuantity: Dec, unit: MeterUnit): Dec => meterQuantity.div(unit.perCardUnit);
