import { ConfigError } from '@cx/platform';
import { type FeeSchedule, parseFeeSchedule } from './domain/rating/fees';

// The billing service's own configuration: one typed object, validated once, passed in. Tests build their own
// with `billingConfig({...})`.

export const BILLING_CONFIG = 'cx.BillingConfig';

export interface BillingConfig {
  /** Most transfers one ledger append carries (CX_BILLING_LEDGER_MAX_BATCH). */
  maxBatchTransfers: number;
  /** Place a hold of the buyer's notional for each trade heard on `cx.matching.trades.v1` (CX_BILLING_TRADE_HOLDS). */
  tradeHolds: boolean;
  /** Exchange fee on settlement, basis points of the charge, for the side that rested (CX_BILLING_MAKER_FEE_BPS). */
  makerFeeBps: number;
  /** … and for the side that took liquidity (CX_BILLING_TAKER_FEE_BPS). */
  takerFeeBps: number;
  /** How long after a period ends it may be closed: late usage's grace (CX_BILLING_PERIOD_GRACE_MS, 48 h). */
  periodGraceMs: number;
  /** The Kafka consumer group billing hears its inputs in (CX_BILLING_CONSUMER_GROUP, `billing`). */
  consumerGroup: string;
  /**
   * Put before the name of every topic billing consumes (CX_BILLING_TOPIC_PREFIX, empty). Empty in production;
   * a test on a shared broker gives each run its own topics (`t-<run>.cx.matching.trades.v1`, …), declared by
   * billing at start, so no other run's messages reach it and its messages reach no one else.
   */
  topicPrefix: string;
  /**
   * Monthly volume tiers (CX_BILLING_FEE_TIERS, none by default): from an account's traded notional so far in the
   * month on, the maker and taker rates that replace makerFeeBps and takerFeeBps. Ascending; whole basis points.
   * The variable reads `<fromNotional>:<makerBps>:<takerBps>[,…]`, e.g. `1000000:8:15,10000000:5:10`.
   */
  feeTiers: FeeTier[];
}

export interface FeeTier {
  /** A decimal string: the month-to-date traded notional (in the account's currency) the tier starts at. */
  fromNotional: string;
  makerBps: number;
  takerBps: number;
}

const KAFKA_NAME = /^[A-Za-z0-9._-]{0,200}$/;

export const DEFAULT_PERIOD_GRACE_MS = 48 * 3_600_000;

export const DEFAULT_LEDGER_MAX_BATCH = 8_190;

export const billingConfig = (overrides: Partial<BillingConfig> = {}): BillingConfig => {
  const config: BillingConfig = {
    maxBatchTransfers: DEFAULT_LEDGER_MAX_BATCH,
    tradeHolds: true,
    makerFeeBps: 1,
    takerFeeBps: 2,
    periodGraceMs: DEFAULT_PERIOD_GRACE_MS,
    consumerGroup: 'billing',
    topicPrefix: '',
    feeTiers: [],
    ...overrides,
  };
  if (!Number.isSafeInteger(config.maxBatchTransfers) || config.maxBatchTransfers < 1) {
    throw new ConfigError('maxBatchTransfers must be a positive whole number');
  }
  if (typeof config.tradeHolds !== 'boolean') throw new ConfigError('tradeHolds must be a boolean');
  for (const k of ['makerFeeBps', 'takerFeeBps'] as const) {
    // A fee above 100% of the charge is a typo, not a policy.
    if (!Number.isSafeInteger(config[k]) || config[k] < 0 || config[k] > 10_000) {
      throw new ConfigError(`${k} must be a whole number of basis points from 0 to 10000`);
    }
  }
  if (!Number.isSafeInteger(config.periodGraceMs) || config.periodGraceMs < 0) {
    throw new ConfigError('periodGraceMs must be a whole number of milliseconds, 0 or more');
  }
  if (
    typeof config.consumerGroup !== 'string' ||
    config.consumerGroup === '' ||
    !KAFKA_NAME.test(config.consumerGroup)
  ) {
    throw new ConfigError(`consumerGroup must be 1-200 of [A-Za-z0-9._-], got "${String(config.consumerGroup)}"`);
  }
  if (typeof config.topicPrefix !== 'string' || !KAFKA_NAME.test(config.topicPrefix)) {
    throw new ConfigError(`topicPrefix must be up to 200 of [A-Za-z0-9._-], got "${String(config.topicPrefix)}"`);
  }
  if (!Array.isArray(config.feeTiers)) throw new ConfigError('feeTiers must be a list');
  config.feeTiers.forEach((t, i) => {
    for (const k of ['makerBps', 'takerBps'] as const) {
      if (!Number.isSafeInteger(t[k]) || t[k] < 0 || t[k] > 10_000) {
        throw new ConfigError(`feeTiers[${i}].${k} must be a whole number of basis points from 0 to 10000`);
      }
    }
  });
  try {
    feeScheduleOf(config);
  } catch (e) {
    throw new ConfigError(`feeTiers: ${(e as Error).message}`);
  }
  return config;
};

/** The configured rates as the fee schedule settlement chooses a rate from (validated at boot). */
export const feeScheduleOf = (config: Pick<BillingConfig, 'makerFeeBps' | 'takerFeeBps' | 'feeTiers'>): FeeSchedule =>
  parseFeeSchedule(
    {
      makerBps: String(config.makerFeeBps),
      takerBps: String(config.takerFeeBps),
      volumeTiers: config.feeTiers.map((t) => ({
        fromNotional: t.fromNotional,
        makerBps: String(t.makerBps),
        takerBps: String(t.takerBps),
      })),
    },
    'feeTiers',
  );

/** `<fromNotional>:<makerBps>:<takerBps>[,…]`; empty: no tiers. */
export const parseFeeTiers = (raw: string): FeeTier[] => {
  if (raw.trim() === '') return [];
  return raw.split(',').map((part) => {
    const m = /^\s*(\d{1,20}(?:\.\d{1,8})?):(\d{1,5}):(\d{1,5})\s*$/.exec(part);
    if (m === null) {
      throw new ConfigError(
        `CX_BILLING_FEE_TIERS: "${part}" is not <fromNotional>:<makerBps>:<takerBps> (e.g. 1000000:8:15)`,
      );
    }
    return { fromNotional: m[1] as string, makerBps: Number(m[2]), takerBps: Number(m[3]) };
  });
};

export const loadBillingConfig = (env: NodeJS.ProcessEnv = process.env): BillingConfig => {
  const rawBatch = env.CX_BILLING_LEDGER_MAX_BATCH ?? String(DEFAULT_LEDGER_MAX_BATCH);
  if (!/^\d{1,9}$/.test(rawBatch)) {
    throw new ConfigError(`CX_BILLING_LEDGER_MAX_BATCH must be a whole number, got "${rawBatch}"`);
  }
  const holds = env.CX_BILLING_TRADE_HOLDS ?? 'true';
  if (holds !== 'true' && holds !== 'false') {
    throw new ConfigError(`CX_BILLING_TRADE_HOLDS must be "true" or "false", got "${holds}"`);
  }
  const whole = (name: string, fallback: number): number => {
    const raw = env[name] ?? String(fallback);
    if (!/^\d{1,12}$/.test(raw)) throw new ConfigError(`${name} must be a whole number, got "${raw}"`);
    return Number(raw);
  };
  return billingConfig({
    maxBatchTransfers: Number(rawBatch),
    tradeHolds: holds === 'true',
    makerFeeBps: whole('CX_BILLING_MAKER_FEE_BPS', 1),
    takerFeeBps: whole('CX_BILLING_TAKER_FEE_BPS', 2),
    periodGraceMs: whole('CX_BILLING_PERIOD_GRACE_MS', DEFAULT_PERIOD_GRACE_MS),
    consumerGroup: env.CX_BILLING_CONSUMER_GROUP ?? 'billing',
    topicPrefix: env.CX_BILLING_TOPIC_PREFIX ?? '',
    feeTiers: parseFeeTiers(env.CX_BILLING_FEE_TIERS ?? ''),
  });
};
