import { ConfigError } from '@cx/platform';

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
}

export const DEFAULT_PERIOD_GRACE_MS = 48 * 3_600_000;

export const DEFAULT_LEDGER_MAX_BATCH = 8_190;

export const billingConfig = (overrides: Partial<BillingConfig> = {}): BillingConfig => {
  const config: BillingConfig = {
    maxBatchTransfers: DEFAULT_LEDGER_MAX_BATCH,
    tradeHolds: true,
    makerFeeBps: 1,
    takerFeeBps: 2,
    periodGraceMs: DEFAULT_PERIOD_GRACE_MS,
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
  return config;
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
  });
};
