// Proves the service configuration: defaults, environment parsing, and the rule that the minimum notice is never shorter than the maximum propagation lag.
import { ConfigError } from '@cx/platform';
import {
  DEFAULT_MAX_PROPAGATION_LAG_MS,
  DEFAULT_SURVEILLANCE,
  DEFAULT_MIN_NOTICE_MS,
  loadPricingGuidanceConfig,
  pricingGuidanceConfig,
} from './config';

describe('pricing-guidance configuration', () => {
  it('defaults to a notice longer than the lag, with the starter catalog', () => {
    expect(loadPricingGuidanceConfig({})).toEqual({
      minNoticeMs: DEFAULT_MIN_NOTICE_MS,
      maxPropagationLagMs: DEFAULT_MAX_PROPAGATION_LAG_MS,
      starterCatalog: true,
      heartbeatIntervalMs: DEFAULT_MAX_PROPAGATION_LAG_MS / 3,
      surveillance: DEFAULT_SURVEILLANCE,
    });
    expect(DEFAULT_MIN_NOTICE_MS).toBeGreaterThanOrEqual(DEFAULT_MAX_PROPAGATION_LAG_MS);
  });

  it('reads the environment', () => {
    expect(
      loadPricingGuidanceConfig({
        CX_GUIDANCE_MIN_NOTICE_MS: '120000',
        CX_GUIDANCE_MAX_LAG_MS: '120000',
        CX_GUIDANCE_STARTER_CATALOG: 'false',
        CX_GUIDANCE_HEARTBEAT_MS: '5000',
      }),
    ).toEqual({
      minNoticeMs: 120_000,
      maxPropagationLagMs: 120_000,
      starterCatalog: false,
      heartbeatIntervalMs: 5000,
      surveillance: DEFAULT_SURVEILLANCE,
    });
  });

  it('reads the surveillance thresholds from the environment', () => {
    expect(
      loadPricingGuidanceConfig({
        CX_GUIDANCE_INDEX_WINDOW_MS: '1800000',
        CX_GUIDANCE_ALERT_NEAR_FLOOR_PCT: '2.5',
        CX_GUIDANCE_ALERT_DECLINE_DAYS: '5',
        CX_GUIDANCE_ALERT_DECLINE_PCT: '15',
        CX_GUIDANCE_ALERT_FLOOR_SHARE_PCT: '60',
        CX_GUIDANCE_ALERT_FLOOR_MIN_TRADES: '10',
        CX_GUIDANCE_BREAKER_MOVE_PCT: '7.5',
        CX_GUIDANCE_BREAKER_WINDOW_MS: '60000',
        CX_GUIDANCE_BREAKER_COOLING_OFF_MS: '600000',
        CX_GUIDANCE_HALT_SWEEP_MS: '0',
      }).surveillance,
    ).toEqual({
      intradayWindowMs: 1_800_000,
      nearFloorPercent: '2.5',
      declineDays: 5,
      declinePercent: '15',
      floorSharePercent: '60',
      floorShareMinTrades: 10,
      breakerMovePercent: '7.5',
      breakerWindowMs: 60_000,
      coolingOffMs: 600_000,
      haltSweepIntervalMs: 0,
    });
  });

  it('allows 0 for both (tests)', () => {
    expect(pricingGuidanceConfig({ minNoticeMs: 0, maxPropagationLagMs: 0 })).toMatchObject({ minNoticeMs: 0 });
  });

  it.each([
    [{ CX_GUIDANCE_MIN_NOTICE_MS: '1000', CX_GUIDANCE_MAX_LAG_MS: '1001' }, /must not be shorter/],
    [{ CX_GUIDANCE_MIN_NOTICE_MS: '-1' }, /CX_GUIDANCE_MIN_NOTICE_MS/],
    [{ CX_GUIDANCE_MAX_LAG_MS: '1.5' }, /CX_GUIDANCE_MAX_LAG_MS/],
    [{ CX_GUIDANCE_STARTER_CATALOG: 'yes' }, /CX_GUIDANCE_STARTER_CATALOG/],
    [{ CX_GUIDANCE_HEARTBEAT_MS: '30000' }, /heartbeat interval/],
    [{ CX_GUIDANCE_HEARTBEAT_MS: 'often' }, /CX_GUIDANCE_HEARTBEAT_MS/],
    [{ CX_GUIDANCE_BREAKER_MOVE_PCT: '0' }, /breakerMovePercent/],
    [{ CX_GUIDANCE_BREAKER_MOVE_PCT: '10%' }, /CX_GUIDANCE_BREAKER_MOVE_PCT/],
    [{ CX_GUIDANCE_ALERT_NEAR_FLOOR_PCT: '101' }, /nearFloorPercent/],
    [{ CX_GUIDANCE_ALERT_FLOOR_SHARE_PCT: '100' }, /floorSharePercent/],
    [{ CX_GUIDANCE_ALERT_DECLINE_DAYS: '0' }, /declineDays/],
    [{ CX_GUIDANCE_ALERT_DECLINE_DAYS: 'three' }, /CX_GUIDANCE_ALERT_DECLINE_DAYS/],
    [{ CX_GUIDANCE_BREAKER_WINDOW_MS: '0' }, /breakerWindowMs/],
    [{ CX_GUIDANCE_BREAKER_COOLING_OFF_MS: '0' }, /coolingOffMs/],
  ])('refuses %j at boot', (env, message) => {
    expect(() => loadPricingGuidanceConfig(env)).toThrow(ConfigError);
    expect(() => loadPricingGuidanceConfig(env)).toThrow(message);
  });

  it('validates a configuration built in code the same way', () => {
    expect(() => pricingGuidanceConfig({ minNoticeMs: 10, maxPropagationLagMs: 20 })).toThrow(ConfigError);
    expect(() => pricingGuidanceConfig({ minNoticeMs: Number.NaN })).toThrow(ConfigError);
  });
});
