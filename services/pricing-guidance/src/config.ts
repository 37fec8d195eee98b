import { ConfigError } from '@cx/platform';
import { Dec, isDecimalString } from '@cx/shared-kernel';

// The pricing-guidance service's own configuration: one typed object, validated once, passed in. Tests build
// their own with `pricingGuidanceConfig({...})` (0 is allowed for both durations there).

// Injection token for the configuration, a plain string so that nothing here depends on a framework.
export const PRICING_GUIDANCE_CONFIG = 'cx.PricingGuidanceConfig';

export interface PricingGuidanceConfig {
  /**
   * How long before it takes effect a band change must be recorded (CX_GUIDANCE_MIN_NOTICE_MS). Never shorter
   * than the maximum propagation lag, so every market knows a band before it applies.
   */
  minNoticeMs: number;
  /**
   * The longest a consumer's view of guidance may lag the store (CX_GUIDANCE_MAX_LAG_MS); matching refuses to
   * match (MATCHING.GUIDANCE_STALE) beyond it.
   */
  maxPropagationLagMs: number;
  /** Load the starter catalog on first start (CX_GUIDANCE_STARTER_CATALOG, `true` by default). */
  starterCatalog: boolean;
  /**
   * How often "guidance complete up to now" is recorded and published (CX_GUIDANCE_HEARTBEAT_MS; 0: never).
   * Shorter than the propagation lag, or a quiet regulator would make every market stale.
   */
  heartbeatIntervalMs: number;
  /** The reference index, the surveillance rules and the circuit breaker. */
  surveillance: SurveillanceConfig;
}

/**
 * Thresholds of the reference index and of market surveillance (issue 4). Percentages are decimal strings, judged
 * exactly: a rule on a price must not depend on a float's rounding.
 */
export interface SurveillanceConfig {
  /** The intraday index's rolling window (CX_GUIDANCE_INDEX_WINDOW_MS; default one hour). */
  intradayWindowMs: number;
  /** Alert when the daily index is within this percentage above the floor (CX_GUIDANCE_ALERT_NEAR_FLOOR_PCT). */
  nearFloorPercent: string;
  /** Alert after this many consecutive daily declines (CX_GUIDANCE_ALERT_DECLINE_DAYS)… */
  declineDays: number;
  /** …that total more than this percentage (CX_GUIDANCE_ALERT_DECLINE_PCT). */
  declinePercent: string;
  /** Alert when more than this share (percent) of a day's volume traded at the floor (CX_GUIDANCE_ALERT_FLOOR_SHARE_PCT)… */
  floorSharePercent: string;
  /** …once the day has at least this many trades, so one trade is not a cluster (CX_GUIDANCE_ALERT_FLOOR_MIN_TRADES). */
  floorShareMinTrades: number;
  /** Halt an instrument whose price moves more than this percentage (CX_GUIDANCE_BREAKER_MOVE_PCT)… */
  breakerMovePercent: string;
  /** …within this window (CX_GUIDANCE_BREAKER_WINDOW_MS)… */
  breakerWindowMs: number;
  /** …for this cooling-off period, then resume it (CX_GUIDANCE_BREAKER_COOLING_OFF_MS). */
  coolingOffMs: number;
  /** How often halts whose cooling-off has ended are resumed (CX_GUIDANCE_HALT_SWEEP_MS; 0: never, tests). */
  haltSweepIntervalMs: number;
}

// Defaults in the range exchanges use: a 10% move within 5 minutes halts an instrument for 15 minutes (limit-up/
// limit-down style bands are 5–10%); an index within 3% of the floor, three days of declines totalling more than
// 10%, or more than half of a day's volume at the floor are early signs of a low-price spiral.
export const DEFAULT_SURVEILLANCE: Readonly<SurveillanceConfig> = {
  intradayWindowMs: 3_600_000,
  nearFloorPercent: '3',
  declineDays: 3,
  declinePercent: '10',
  floorSharePercent: '50',
  floorShareMinTrades: 5,
  breakerMovePercent: '10',
  breakerWindowMs: 5 * 60_000,
  coolingOffMs: 15 * 60_000,
  haltSweepIntervalMs: 1_000,
};

export const DEFAULT_MIN_NOTICE_MS = 5 * 60_000;
export const DEFAULT_MAX_PROPAGATION_LAG_MS = 30_000;
const MAX_DURATION_MS = 30 * 24 * 3_600_000;

const durationOf = (name: string, raw: string): number => {
  if (!/^\d{1,10}$/.test(raw) || Number(raw) > MAX_DURATION_MS) {
    throw new ConfigError(`${name} must be a whole number of milliseconds from 0 to ${MAX_DURATION_MS}, got "${raw}"`);
  }
  return Number(raw);
};

/** Validates a configuration built in code (tests, other hosts) exactly as one read from the environment. */
export type PricingGuidanceConfigInput = Partial<Omit<PricingGuidanceConfig, 'surveillance'>> & {
  surveillance?: Partial<SurveillanceConfig>;
};

export const pricingGuidanceConfig = (overrides: PricingGuidanceConfigInput = {}): PricingGuidanceConfig => {
  const config: PricingGuidanceConfig = {
    minNoticeMs: DEFAULT_MIN_NOTICE_MS,
    maxPropagationLagMs: DEFAULT_MAX_PROPAGATION_LAG_MS,
    starterCatalog: true,
    ...overrides,
    surveillance: { ...DEFAULT_SURVEILLANCE, ...overrides.surveillance },
    // A third of the lag by default, so two heartbeats may go missing before a market turns stale; off when the
    // lag is 0 (tests that switch staleness off).
    heartbeatIntervalMs:
      overrides.heartbeatIntervalMs ??
      Math.floor((overrides.maxPropagationLagMs ?? DEFAULT_MAX_PROPAGATION_LAG_MS) / 3),
  };
  for (const [name, v] of [
    ['minNoticeMs', config.minNoticeMs],
    ['maxPropagationLagMs', config.maxPropagationLagMs],
    ['heartbeatIntervalMs', config.heartbeatIntervalMs],
  ] as const) {
    if (!Number.isSafeInteger(v) || v < 0 || v > MAX_DURATION_MS) {
      throw new ConfigError(`${name} must be a whole number of milliseconds from 0 to ${MAX_DURATION_MS}`);
    }
  }
  // A notice shorter than the lag would let a band take effect before some market has heard of it.
  if (config.minNoticeMs < config.maxPropagationLagMs) {
    throw new ConfigError(
      `the minimum notice (${config.minNoticeMs} ms) must not be shorter than the maximum propagation lag (${config.maxPropagationLagMs} ms)`,
    );
  }
  if (
    config.heartbeatIntervalMs > 0 &&
    config.maxPropagationLagMs > 0 &&
    config.heartbeatIntervalMs >= config.maxPropagationLagMs
  ) {
    throw new ConfigError(
      `the heartbeat interval (${config.heartbeatIntervalMs} ms) must be shorter than the maximum propagation lag (${config.maxPropagationLagMs} ms)`,
    );
  }
  validateSurveillance(config.surveillance);
  return config;
};

const percentOf = (name: string, v: unknown, max: string): void => {
  if (!isDecimalString(v) || new Dec(v).lte(0) || new Dec(v).gt(max)) {
    throw new ConfigError(`${name} must be a decimal percentage above 0 and at most ${max}, got "${String(v)}"`);
  }
};

const wholeIn = (name: string, v: unknown, min: number, max: number): void => {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min || v > max) {
    throw new ConfigError(`${name} must be a whole number from ${min} to ${max}, got "${String(v)}"`);
  }
};

const validateSurveillance = (s: SurveillanceConfig): void => {
  wholeIn('surveillance.intradayWindowMs', s.intradayWindowMs, 1, MAX_DURATION_MS);
  percentOf('surveillance.nearFloorPercent', s.nearFloorPercent, '100');
  wholeIn('surveillance.declineDays', s.declineDays, 1, 365);
  percentOf('surveillance.declinePercent', s.declinePercent, '100');
  // "More than Z%" of the volume: 100 could never fire.
  percentOf('surveillance.floorSharePercent', s.floorSharePercent, '99.999999');
  wholeIn('surveillance.floorShareMinTrades', s.floorShareMinTrades, 1, 1_000_000);
  percentOf('surveillance.breakerMovePercent', s.breakerMovePercent, '1000');
  wholeIn('surveillance.breakerWindowMs', s.breakerWindowMs, 1, MAX_DURATION_MS);
  // A halt must last: resuming at the very instant it halted would publish a halt that never held.
  wholeIn('surveillance.coolingOffMs', s.coolingOffMs, 1, MAX_DURATION_MS);
  wholeIn('surveillance.haltSweepIntervalMs', s.haltSweepIntervalMs, 0, MAX_DURATION_MS);
};

const SURVEILLANCE_ENV: readonly (readonly [keyof SurveillanceConfig, string, 'duration' | 'count' | 'percent'])[] = [
  ['intradayWindowMs', 'CX_GUIDANCE_INDEX_WINDOW_MS', 'duration'],
  ['nearFloorPercent', 'CX_GUIDANCE_ALERT_NEAR_FLOOR_PCT', 'percent'],
  ['declineDays', 'CX_GUIDANCE_ALERT_DECLINE_DAYS', 'count'],
  ['declinePercent', 'CX_GUIDANCE_ALERT_DECLINE_PCT', 'percent'],
  ['floorSharePercent', 'CX_GUIDANCE_ALERT_FLOOR_SHARE_PCT', 'percent'],
  ['floorShareMinTrades', 'CX_GUIDANCE_ALERT_FLOOR_MIN_TRADES', 'count'],
  ['breakerMovePercent', 'CX_GUIDANCE_BREAKER_MOVE_PCT', 'percent'],
  ['breakerWindowMs', 'CX_GUIDANCE_BREAKER_WINDOW_MS', 'duration'],
  ['coolingOffMs', 'CX_GUIDANCE_BREAKER_COOLING_OFF_MS', 'duration'],
  ['haltSweepIntervalMs', 'CX_GUIDANCE_HALT_SWEEP_MS', 'duration'],
];

const surveillanceFromEnv = (env: NodeJS.ProcessEnv): Partial<SurveillanceConfig> => {
  const out: Record<string, string | number> = {};
  for (const [key, name, kind] of SURVEILLANCE_ENV) {
    const raw = env[name];
    if (raw === undefined) continue;
    if (kind === 'duration') out[key] = durationOf(name, raw);
    else if (kind === 'count') {
      if (!/^\d{1,7}$/.test(raw)) throw new ConfigError(`${name} must be a whole number, got "${raw}"`);
      out[key] = Number(raw);
    } else {
      if (!isDecimalString(raw)) throw new ConfigError(`${name} must be a decimal percentage, got "${raw}"`);
      out[key] = raw;
    }
  }
  return out as Partial<SurveillanceConfig>;
};

export const loadPricingGuidanceConfig = (env: NodeJS.ProcessEnv = process.env): PricingGuidanceConfig => {
  const starter = env.CX_GUIDANCE_STARTER_CATALOG ?? 'true';
  if (starter !== 'true' && starter !== 'false') {
    throw new ConfigError(`CX_GUIDANCE_STARTER_CATALOG must be "true" or "false", got "${starter}"`);
  }
  return pricingGuidanceConfig({
    minNoticeMs: durationOf(
      'CX_GUIDANCE_MIN_NOTICE_MS',
      env.CX_GUIDANCE_MIN_NOTICE_MS ?? String(DEFAULT_MIN_NOTICE_MS),
    ),
    maxPropagationLagMs: durationOf(
      'CX_GUIDANCE_MAX_LAG_MS',
      env.CX_GUIDANCE_MAX_LAG_MS ?? String(DEFAULT_MAX_PROPAGATION_LAG_MS),
    ),
    starterCatalog: starter === 'true',
    surveillance: surveillanceFromEnv(env),
    ...(env.CX_GUIDANCE_HEARTBEAT_MS !== undefined
      ? { heartbeatIntervalMs: durationOf('CX_GUIDANCE_HEARTBEAT_MS', env.CX_GUIDANCE_HEARTBEAT_MS) }
      : {}),
  });
};
