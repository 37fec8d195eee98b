import { ConfigError } from '@cx/platform';

// The metering service's own configuration: one typed object, validated once, passed in. Tests build their own
// with `meteringConfig({...})`.

// Injection token for the configuration, a plain string so that nothing here depends on a framework.
export const METERING_CONFIG = 'cx.MeteringConfig';

export interface MeteringConfig {
  /** Most events in one `POST /v1/usage` (CX_METERING_MAX_BATCH); a larger batch is refused whole. */
  maxBatch: number;
  /**
   * How far back a usage event's `time` may lie (CX_METERING_DEDUPE_WINDOW_MS, 35 days by default): a month's
   * statement plus a few days of late delivery. Older events are refused (METERING.TOO_OLD).
   */
  dedupeWindowMs: number;
  /** How far in the future an event's `time` may lie, for clock skew (CX_METERING_FUTURE_TOLERANCE_MS). */
  futureToleranceMs: number;
  /** Define the usual meters on first start (CX_METERING_SEED_METERS, `true` by default). */
  seedMeters: boolean;
}

export const DEFAULT_MAX_BATCH = 1_000;
export const DEFAULT_DEDUPE_WINDOW_MS = 35 * 24 * 3_600_000;
export const DEFAULT_FUTURE_TOLERANCE_MS = 5 * 60_000;
const MAX_DURATION_MS = 400 * 24 * 3_600_000;
const MAX_BATCH_LIMIT = 100_000;

/** Validates a configuration built in code (tests, other hosts) exactly as one read from the environment. */
export const meteringConfig = (overrides: Partial<MeteringConfig> = {}): MeteringConfig => {
  const config: MeteringConfig = {
    maxBatch: DEFAULT_MAX_BATCH,
    dedupeWindowMs: DEFAULT_DEDUPE_WINDOW_MS,
    futureToleranceMs: DEFAULT_FUTURE_TOLERANCE_MS,
    seedMeters: true,
    ...overrides,
  };
  if (!Number.isSafeInteger(config.maxBatch) || config.maxBatch < 1 || config.maxBatch > MAX_BATCH_LIMIT) {
    throw new ConfigError(`maxBatch must be a whole number from 1 to ${MAX_BATCH_LIMIT}`);
  }
  for (const [name, v] of [
    ['dedupeWindowMs', config.dedupeWindowMs],
    ['futureToleranceMs', config.futureToleranceMs],
  ] as const) {
    if (!Number.isSafeInteger(v) || v < 0 || v > MAX_DURATION_MS) {
      throw new ConfigError(`${name} must be a whole number of milliseconds from 0 to ${MAX_DURATION_MS}`);
    }
  }
  return config;
};

const wholeNumber = (name: string, raw: string): number => {
  if (!/^\d{1,12}$/.test(raw)) throw new ConfigError(`${name} must be a whole number, got "${raw}"`);
  return Number(raw);
};

export const loadMeteringConfig = (env: NodeJS.ProcessEnv = process.env): MeteringConfig => {
  const seed = env.CX_METERING_SEED_METERS ?? 'true';
  if (seed !== 'true' && seed !== 'false') {
    throw new ConfigError(`CX_METERING_SEED_METERS must be "true" or "false", got "${seed}"`);
  }
  return meteringConfig({
    maxBatch: wholeNumber('CX_METERING_MAX_BATCH', env.CX_METERING_MAX_BATCH ?? String(DEFAULT_MAX_BATCH)),
    dedupeWindowMs: wholeNumber(
      'CX_METERING_DEDUPE_WINDOW_MS',
      env.CX_METERING_DEDUPE_WINDOW_MS ?? String(DEFAULT_DEDUPE_WINDOW_MS),
    ),
    futureToleranceMs: wholeNumber(
      'CX_METERING_FUTURE_TOLERANCE_MS',
      env.CX_METERING_FUTURE_TOLERANCE_MS ?? String(DEFAULT_FUTURE_TOLERANCE_MS),
    ),
    seedMeters: seed === 'true',
  });
};
