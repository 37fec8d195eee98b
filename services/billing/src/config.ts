import { ConfigError } from '@cx/platform';

// The billing service's own configuration: one typed object, validated once, passed in. Tests build their own
// with `billingConfig({...})`.

export const BILLING_CONFIG = 'cx.BillingConfig';

export interface BillingConfig {
  /** Most transfers one ledger append carries (CX_BILLING_LEDGER_MAX_BATCH). */
  maxBatchTransfers: number;
  /** Place a hold of the buyer's notional for each trade heard on `cx.matching.trades.v1` (CX_BILLING_TRADE_HOLDS). */
  tradeHolds: boolean;
}

export const DEFAULT_LEDGER_MAX_BATCH = 8_190;

export const billingConfig = (overrides: Partial<BillingConfig> = {}): BillingConfig => {
  const config: BillingConfig = { maxBatchTransfers: DEFAULT_LEDGER_MAX_BATCH, tradeHolds: true, ...overrides };
  if (!Number.isSafeInteger(config.maxBatchTransfers) || config.maxBatchTransfers < 1) {
    throw new ConfigError('maxBatchTransfers must be a positive whole number');
  }
  if (typeof config.tradeHolds !== 'boolean') throw new ConfigError('tradeHolds must be a boolean');
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
  return billingConfig({ maxBatchTransfers: Number(rawBatch), tradeHolds: holds === 'true' });
};
