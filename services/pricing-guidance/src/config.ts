import { ConfigError } from '@cx/platform';

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
}

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
export const pricingGuidanceConfig = (overrides: Partial<PricingGuidanceConfig> = {}): PricingGuidanceConfig => {
  const config: PricingGuidanceConfig = {
    minNoticeMs: DEFAULT_MIN_NOTICE_MS,
    maxPropagationLagMs: DEFAULT_MAX_PROPAGATION_LAG_MS,
    starterCatalog: true,
    ...overrides,
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
  return config;
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
    ...(env.CX_GUIDANCE_HEARTBEAT_MS !== undefined
      ? { heartbeatIntervalMs: durationOf('CX_GUIDANCE_HEARTBEAT_MS', env.CX_GUIDANCE_HEARTBEAT_MS) }
      : {}),
  });
};
