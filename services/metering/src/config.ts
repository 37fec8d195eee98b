import { ConfigError } from '@cx/platform';

// The metering service's own configuration: one typed object, validated once, passed in. Tests build their own
// with `meteringConfig({...})`.

// Injection token for the configuration, a plain string so that nothing here depends on a framework.
export const METERING_CONFIG = 'cx.MeteringConfig';

export interface MeteringConfig {
  /** Most events in one `POST /v1/usage` (CX_METERING_MAX_BATCH); a larger batch is refused whole. */
  maxBatch: number;
  /**
   * How far back a usage event's `time` may lie (CX_METERING_DEDUPE_WINDOW_DAYS, 35 days by default; or
   * CX_METERING_DEDUPE_WINDOW_MS): a month's statement plus a few days of late delivery. Older events are refused
   * (METERING.TOO_OLD). The `(source, id)` identity itself is never forgotten (it is the usage stream), so no
   * window setting can let a duplicate count twice; the window bounds how late usage may still arrive.
   */
  dedupeWindowMs: number;
  /** How far in the future an event's `time` may lie, for clock skew (CX_METERING_FUTURE_TOLERANCE_MS). */
  futureToleranceMs: number;
  /** Define the usual meters on first start (CX_METERING_SEED_METERS, `true` by default). */
  seedMeters: boolean;
  /** Consume integrators' CloudEvents from Kafka (CX_METERING_KAFKA_INGEST, `true` by default). */
  kafkaIngest: boolean;
  /** The topic integrators produce to (its dead letters go to `<topic>.dlq`); tests use a fresh one. */
  submissionsTopic: string;
  /** The consumer group reading it. */
  submissionsGroup: string;
}

export const DEFAULT_MAX_BATCH = 1_000;
export const DEFAULT_DEDUPE_WINDOW_MS = 35 * 24 * 3_600_000;
export const DEFAULT_FUTURE_TOLERANCE_MS = 5 * 60_000;
export const DEFAULT_SUBMISSIONS_TOPIC = 'cx.metering.usage-submitted.v1';
export const DEFAULT_SUBMISSIONS_GROUP = 'metering-usage-submitted';
const DAY_MS = 24 * 3_600_000;
const MAX_DURATION_MS = 400 * 24 * 3_600_000;
const MAX_BATCH_LIMIT = 100_000;

/** Validates a configuration built in code (tests, other hosts) exactly as one read from the environment. */
export const meteringConfig = (overrides: Partial<MeteringConfig> = {}): MeteringConfig => {
  const config: MeteringConfig = {
    maxBatch: DEFAULT_MAX_BATCH,
    dedupeWindowMs: DEFAULT_DEDUPE_WINDOW_MS,
    futureToleranceMs: DEFAULT_FUTURE_TOLERANCE_MS,
    seedMeters: true,
    kafkaIngest: true,
    submissionsTopic: DEFAULT_SUBMISSIONS_TOPIC,
    submissionsGroup: DEFAULT_SUBMISSIONS_GROUP,
    ...overrides,
  };
  for (const [name, v] of [
    ['submissionsTopic', config.submissionsTopic],
    ['submissionsGroup', config.submissionsGroup],
  ] as const) {
    if (typeof v !== 'string' || !/^[A-Za-z0-9._-]{1,200}$/.test(v) || v.endsWith('.dlq')) {
      throw new ConfigError(`${name} must be a Kafka name ([A-Za-z0-9._-], not a .dlq topic), got "${String(v)}"`);
    }
  }
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

const flag = (name: string, raw: string | undefined, fallback: boolean): boolean => {
  const v = raw ?? String(fallback);
  if (v !== 'true' && v !== 'false') throw new ConfigError(`${name} must be "true" or "false", got "${v}"`);
  return v === 'true';
};

/** The window from CX_METERING_DEDUPE_WINDOW_DAYS or CX_METERING_DEDUPE_WINDOW_MS (not both). */
const dedupeWindowFrom = (env: NodeJS.ProcessEnv): number => {
  const days = env.CX_METERING_DEDUPE_WINDOW_DAYS;
  const ms = env.CX_METERING_DEDUPE_WINDOW_MS;
  if (days !== undefined && ms !== undefined) {
    throw new ConfigError('set CX_METERING_DEDUPE_WINDOW_DAYS or CX_METERING_DEDUPE_WINDOW_MS, not both');
  }
  if (days !== undefined) return wholeNumber('CX_METERING_DEDUPE_WINDOW_DAYS', days) * DAY_MS;
  if (ms !== undefined) return wholeNumber('CX_METERING_DEDUPE_WINDOW_MS', ms);
  return DEFAULT_DEDUPE_WINDOW_MS;
};

export const loadMeteringConfig = (env: NodeJS.ProcessEnv = process.env): MeteringConfig => {
  const seed = env.CX_METERING_SEED_METERS ?? 'true';
  if (seed !== 'true' && seed !== 'false') {
    throw new ConfigError(`CX_METERING_SEED_METERS must be "true" or "false", got "${seed}"`);
  }
  return meteringConfig({
    maxBatch: wholeNumber('CX_METERING_MAX_BATCH', env.CX_METERING_MAX_BATCH ?? String(DEFAULT_MAX_BATCH)),
    dedupeWindowMs: dedupeWindowFrom(env),
    kafkaIngest: flag('CX_METERING_KAFKA_INGEST', env.CX_METERING_KAFKA_INGEST, true),
    futureToleranceMs: wholeNumber(
      'CX_METERING_FUTURE_TOLERANCE_MS',
      env.CX_METERING_FUTURE_TOLERANCE_MS ?? String(DEFAULT_FUTURE_TOLERANCE_MS),
    ),
    seedMeters: seed === 'true',
  });
};
