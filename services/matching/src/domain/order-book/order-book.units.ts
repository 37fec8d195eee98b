import { Dec, isDecimalString } from '@cx/shared-kernel';

// The matching core counts in integer ticks and lots. This module is the one place where decimal strings become
// ticks and back, so exactness is argued once: a fast path with plain integers while every intermediate value is
// far below 2^53, and decimal.js (the shared `Dec` clone) for anything longer.

/** Highest price the core accepts, in ticks: keeps price × quantity for one order below 2^53 (see MAX_QUANTITY_LOTS). */
export const MAX_PRICE_TICKS = 1_000_000_000;
/** Highest quantity of one order, in lots. 1e9 ticks × 1e6 lots = 1e15 < 2^53 ≈ 9.007e15. */
export const MAX_QUANTITY_LOTS = 1_000_000;

/** A tick size parsed once per book: tick = units × 10^-scale, with units a positive integer. */
export interface TickGrid {
  readonly tickSize: string;
  readonly scale: number;
  readonly units: number;
  /** Prices already formatted, by tick count: prices near the touch repeat constantly, formatting them once pays. */
  readonly priceCache: Map<number, string>;
}

export const tickGrid = (tickSize: string): TickGrid => {
  if (!isDecimalString(tickSize)) throw new TypeError(`tick size is not a decimal string: ${tickSize}`);
  const d = new Dec(tickSize);
  if (d.lte(0)) throw new TypeError(`tick size must be positive: ${tickSize}`);
  const scale = d.decimalPlaces();
  const units = d.mul(new Dec(10).pow(scale)).toNumber();
  if (!Number.isSafeInteger(units) || units > 1e9 || scale > 12)
    throw new TypeError(`unsupported tick size ${tickSize}`);
  return { tickSize: d.toFixed(), scale, units, priceCache: new Map() };
};

export type TicksResult = number | 'INVALID_PRICE' | 'OFF_TICK';

const POW10 = [1, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12];

/**
 * Converts a limit price (a plain decimal string) to whole ticks, refusing anything that is not positive and
 * exactly on the grid. Never rounds: a price between two ticks is OFF_TICK.
 */
export const priceToTicks = (grid: TickGrid, price: unknown): TicksResult => {
  if (!isDecimalString(price) || price.charCodeAt(0) === 45 /* '-' */) return 'INVALID_PRICE';
  const dot = price.indexOf('.');
  const intPart = dot < 0 ? price : price.slice(0, dot);
  let frac = dot < 0 ? '' : price.slice(dot + 1);
  let end = frac.length;
  while (end > 0 && frac.charCodeAt(end - 1) === 48 /* '0' */) end--;
  frac = frac.slice(0, end);
  // A multiple of units × 10^-scale never has more than `scale` significant decimals.
  if (frac.length > grid.scale) return isZero(intPart, frac) ? 'INVALID_PRICE' : 'OFF_TICK';
  let ticks: number;
  if (intPart.length + grid.scale <= 15) {
    // Every value here is an integer below 10^15, so Number arithmetic is exact.
    const scaled = Number(intPart) * (POW10[grid.scale] as number) + (frac ? Number(frac.padEnd(grid.scale, '0')) : 0);
    if (scaled % grid.units !== 0) return scaled === 0 ? 'INVALID_PRICE' : 'OFF_TICK';
    ticks = scaled / grid.units;
  } else {
    const q = new Dec(price).div(new Dec(grid.tickSize));
    if (!q.isInteger()) return 'OFF_TICK';
    if (q.gt(MAX_PRICE_TICKS)) return 'INVALID_PRICE';
    ticks = q.toNumber();
  }
  if (ticks <= 0 || ticks > MAX_PRICE_TICKS) return 'INVALID_PRICE';
  return ticks;
};

const isZero = (intPart: string, frac: string): boolean => /^0*$/.test(intPart) && /^0*$/.test(frac);

/** The canonical decimal string of a tick count: fixed notation, no trailing zeros (formatDecimal's form). */
export const ticksToPrice = (grid: TickGrid, ticks: number): string => {
  const cached = grid.priceCache.get(ticks);
  if (cached !== undefined) return cached;
  // ticks ≤ 1e9 and units ≤ 1e9 can exceed 2^53 together, so the product is formed with Dec.
  const s = new Dec(ticks).mul(grid.units).div(new Dec(10).pow(grid.scale)).toFixed();
  if (grid.priceCache.size < 100_000) grid.priceCache.set(ticks, s);
  return s;
};

/** The lowest tick price at or above a floor: `p < floor` exactly when `p < floorTicks(floor)`. */
export const floorToTicks = (grid: TickGrid, floor: string): number =>
  new Dec(floor).div(new Dec(grid.tickSize)).ceil().toNumber();

/** The highest tick price at or below a ceiling: `p > ceiling` exactly when `p > ceilingTicks(ceiling)`. */
export const ceilingToTicks = (grid: TickGrid, ceiling: string): number =>
  new Dec(ceiling).div(new Dec(grid.tickSize)).floor().toNumber();

/** Positive whole lots within the core's bound. */
export const isValidLots = (q: unknown): q is number =>
  typeof q === 'number' && Number.isSafeInteger(q) && q > 0 && q <= MAX_QUANTITY_LOTS;

// ISO-8601 UTC instants, as every event carries them. One-entry cache: a command's events share one `now`.
let lastMs = Number.NaN;
let lastIso = '';
export const isoOf = (ms: number): string => {
  if (ms !== lastMs) {
    lastIso = new Date(ms).toISOString();
    lastMs = ms;
  }
  return lastIso;
};

const ISO_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,3})?Z$/;
/** Parses a strict UTC instant (`…Z`), or returns NaN: a time zone offset or a date alone is refused. */
export const parseInstant = (value: unknown): number =>
  typeof value === 'string' && ISO_RE.test(value) ? Date.parse(value) : Number.NaN;
