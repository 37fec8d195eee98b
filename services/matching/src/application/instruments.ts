import { DomainError } from '@cx/shared-kernel';
import { type InstrumentSpec, type MatchingConfig, specFor } from '../config';

// Instruments: resource class × region × UTC delivery day, id `<resourceClass>.<region>.<YYYY-MM-DD>`. Catalog
// ids never contain a dot (pricing-guidance uses `.` to join a class and a region in band ids), so the id splits
// back unambiguously.

const DAY_MS = 86_400_000;
const DAY_RE = /^\d{4}-\d{2}-\d{2}$/;

export interface InstrumentInfo {
  id: string;
  resourceClass: string;
  region: string;
  deliveryDay: string;
  deliveryStart: string;
  deliveryEnd: string;
  tradingEndsAt: string;
  spec: InstrumentSpec;
  currency: string;
}

export const instrumentId = (resourceClass: string, region: string, day: string): string =>
  `${resourceClass}.${region}.${day}`;

/** The parts of an instrument id, or null when it cannot name one. */
export const parseInstrumentId = (
  id: string,
): { resourceClass: string; region: string; deliveryDay: string } | null => {
  const parts = id.split('.');
  if (parts.length !== 3) return null;
  const [resourceClass, region, deliveryDay] = parts as [string, string, string];
  if (!resourceClass || !region || !DAY_RE.test(deliveryDay)) return null;
  if (Number.isNaN(Date.parse(`${deliveryDay}T00:00:00Z`))) return null;
  return { resourceClass, region, deliveryDay };
};

export const instrumentInfo = (config: MatchingConfig, id: string): InstrumentInfo => {
  const p = parseInstrumentId(id);
  if (p === null) throw DomainError.invalid('MATCHING.UNKNOWN_INSTRUMENT', `not an instrument id: ${id}`, 'instrument');
  const start = Date.parse(`${p.deliveryDay}T00:00:00Z`);
  return {
    id,
    ...p,
    deliveryStart: new Date(start).toISOString(),
    deliveryEnd: new Date(start + DAY_MS).toISOString(),
    tradingEndsAt: new Date(start - config.tradingCutOffMs).toISOString(),
    spec: specFor(config, p.resourceClass),
    currency: config.currency,
  };
};

/** The delivery days listed at `nowMs`: tomorrow (UTC) and the days after it, `listingDays` in all. */
export const listedDays = (config: MatchingConfig, nowMs: number): string[] => {
  const today = Math.floor(nowMs / DAY_MS) * DAY_MS;
  const days: string[] = [];
  for (let i = 1; i <= config.listingDays; i++) days.push(new Date(today + i * DAY_MS).toISOString().slice(0, 10));
  return days;
};
