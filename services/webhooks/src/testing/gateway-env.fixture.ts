// The environment of a gateway process that hosts webhooks and nothing else runs beside it, for tests that start it
// with `startProcess('gateway', env)`: every upstream it proxies to answers nothing (a proxied route shows up as 502,
// a route the gateway serves itself does not), the identity topic is the run's own, and the store is a SQLite file
// the test owns, so a restart on the same env resumes from the same state. Settings a test depends on go in `extra`.

export interface GatewayEnvInput {
  brokers: string[];
  /** The run's id, unique per test file run: it names the identity topic. */
  run: string;
  /** The SQLite file the gateway keeps its store in. */
  storeFile: string;
}

/** The discard port, where nothing listens on a test machine. */
const NOWHERE = 'http://127.0.0.1:9';

export const webhooksGatewayEnv = (g: GatewayEnvInput, extra: Record<string, string> = {}): Record<string, string> => ({
  KAFKA_BROKERS: g.brokers.join(','),
  CX_IDENTITY_TOPIC: `cx.test.identity-${g.run}.v1`,
  CX_STORE: `sqlite:${g.storeFile}`,
  CX_PRICING_GUIDANCE_URL: NOWHERE,
  CX_MATCHING_URL: NOWHERE,
  CX_METERING_URL: NOWHERE,
  CX_BILLING_URL: NOWHERE,
  CX_PROXY_TIMEOUT_MS: '2000',
  CX_WEBHOOKS_POLL_MS: '50',
  ...extra,
});
