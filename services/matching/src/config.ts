import { ConfigError } from '@cx/platform';
import { Dec, isDecimalString } from '@cx/shared-kernel';

// The matching service's own configuration: one typed object, validated once at boot, passed in. Tests build
// their own with `matchingConfig({...})`.

// Injection token for the configuration, a plain string so that nothing here depends on a framework.
export const MATCHING_CONFIG = 'cx.MatchingConfig';

/** Tick size (price step, currency per accelerator-hour) and lot size (accelerator-hours per lot). */
export interface InstrumentSpec {
  tickSize: string;
  lotSize: string;
}

export interface MatchingConfig {
  /** Delivery days listed ahead of today, UTC (CX_MATCHING_LISTING_DAYS): tomorrow … tomorrow + n − 1. */
  listingDays: number;
  /** Trading stops this long before the delivery day starts (CX_MATCHING_CUT_OFF_MS); resting orders expire. */
  tradingCutOffMs: number;
  /**
   * Matching refuses to match (MATCHING.GUIDANCE_STALE) when its last guidance heartbeat is older than this
   * (CX_GUIDANCE_MAX_LAG_MS, shared with pricing-guidance so both sides agree on the bound).
   */
  maxGuidanceLagMs: number;
  /** How often the scheduler reads the clock and sends Tick to books with something due (CX_MATCHING_TICK_MS). */
  tickIntervalMs: number;
  /** Most queued commands one book decides and appends together (one append, one durable write). */
  maxCommandsPerAppend: number;
  /** The instruments' currency: guidance bands are in CNY by default. */
  currency: string;
  /** Tick and lot for every resource class without an override. */
  defaultSpec: InstrumentSpec;
  /** Per resource class id. */
  specs: Record<string, InstrumentSpec>;
}

// 0.01 CNY per accelerator-hour is the currency's minor unit: a finer tick would let traders step ahead of a queue
// for a fraction of a fen. One accelerator-hour per lot keeps quantities whole hours, the unit meters deliver in.
export const DEFAULT_SPEC: InstrumentSpec = { tickSize: '0.01', lotSize: '1' };
export const DEFAULT_LISTING_DAYS = 7;
export const DEFAULT_CUT_OFF_MS = 3_600_000;
export const DEFAULT_MAX_GUIDANCE_LAG_MS = 30_000;
export const DEFAULT_TICK_INTERVAL_MS = 1_000;
const DAY_MS = 86_400_000;

const checkSpec = (name: string, s: InstrumentSpec): void => {
  for (const [field, v] of [
    ['tickSize', s.tickSize],
    ['lotSize', s.lotSize],
  ] as const) {
    if (!isDecimalString(v) || new Dec(v).lte(0)) throw new ConfigError(`${name}.${field} must be a positive decimal`);
  }
};

const intIn = (name: string, v: number, min: number, max: number): void => {
  if (!Number.isSafeInteger(v) || v < min || v > max) {
    throw new ConfigError(`${name} must be an integer from ${min} to ${max}, got ${v}`);
  }
};

export const matchingConfig = (overrides: Partial<MatchingConfig> = {}): MatchingConfig => {
  const c: MatchingConfig = {
    listingDays: DEFAULT_LISTING_DAYS,
    tradingCutOffMs: DEFAULT_CUT_OFF_MS,
    maxGuidanceLagMs: DEFAULT_MAX_GUIDANCE_LAG_MS,
    tickIntervalMs: DEFAULT_TICK_INTERVAL_MS,
    maxCommandsPerAppend: 512,
    currency: 'CNY',
    defaultSpec: DEFAULT_SPEC,
    specs: {},
    ...overrides,
  };
  intIn('listingDays', c.listingDays, 1, 60);
  intIn('tradingCutOffMs', c.tradingCutOffMs, 0, DAY_MS);
  intIn('maxGuidanceLagMs', c.maxGuidanceLagMs, 0, 30 * DAY_MS);
  intIn('tickIntervalMs', c.tickIntervalMs, 10, 3_600_000);
  intIn('maxCommandsPerAppend', c.maxCommandsPerAppend, 1, 10_000);
  if (!/^[A-Z]{3}$/.test(c.currency)) throw new ConfigError(`currency must be ISO 4217, got "${c.currency}"`);
  checkSpec('defaultSpec', c.defaultSpec);
  for (const [rc, s] of Object.entries(c.specs)) checkSpec(`specs.${rc}`, s);
  return c;
};

const envInt = (env: NodeJS.ProcessEnv, name: string, fallback: number): number => {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (!/^\d{1,10}$/.test(raw)) throw new ConfigError(`${name} must be a whole number, got "${raw}"`);
  return Number(raw);
};

/**
 * Reads CX_MATCHING_* (and CX_GUIDANCE_MAX_LAG_MS). Per-class specs come as JSON in CX_MATCHING_SPECS, e.g.
 * `{"nvidia-h100-sxm-80g":{"tickSize":"0.05","lotSize":"8"}}`.
 */
export const loadMatchingConfig = (env: NodeJS.ProcessEnv = process.env): MatchingConfig => {
  let specs: Record<string, InstrumentSpec> = {};
  if (env.CX_MATCHING_SPECS) {
    try {
      specs = JSON.parse(env.CX_MATCHING_SPECS) as Record<string, InstrumentSpec>;
    } catch (e) {
      throw new ConfigError(`CX_MATCHING_SPECS is not JSON: ${(e as Error).message}`);
    }
  }
  return matchingConfig({
    listingDays: envInt(env, 'CX_MATCHING_LISTING_DAYS', DEFAULT_LISTING_DAYS),
    tradingCutOffMs: envInt(env, 'CX_MATCHING_CUT_OFF_MS', DEFAULT_CUT_OFF_MS),
    maxGuidanceLagMs: envInt(env, 'CX_GUIDANCE_MAX_LAG_MS', DEFAULT_MAX_GUIDANCE_LAG_MS),
    tickIntervalMs: envInt(env, 'CX_MATCHING_TICK_MS', DEFAULT_TICK_INTERVAL_MS),
    specs,
  });
};

export const specFor = (config: MatchingConfig, resourceClass: string): InstrumentSpec =>
  config.specs[resourceClass] ?? config.defaultSpec;
