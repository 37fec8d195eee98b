import { IDENTITY_TOPIC } from '@cx/identity';
import { ConfigError, type CxConfig } from '@cx/platform';

// What distributed mode reads beside the common CxConfig (libs/platform): validated at boot, like the rest.

export interface DistributedConfig {
  /** Kafka bootstrap brokers (KAFKA_BROKERS, `host:port[,host:port…]`); required. */
  brokers: string[];
  /**
   * The identity topic (CX_IDENTITY_TOPIC, `cx.identity.v1` unless given). Only tests name another one: the read
   * models drop events at or before the last store position they applied, so one topic must be fed by one
   * gateway store for its whole life, and a test's fresh store needs a topic of its own.
   */
  identityTopic: string;
  /**
   * Kafka consumer session timeout (CX_KAFKA_SESSION_TIMEOUT_MS, default 30 s, at least 6 s: the broker's
   * group.min.session.timeout.ms). A process restarted after a crash rejoins its groups only once the broker has
   * given up on its predecessor, after this long.
   */
  sessionTimeoutMs: number;
}

const TOPIC = /^[A-Za-z0-9._-]{1,249}$/;
const BROKER = /^[A-Za-z0-9.-]+:\d{1,5}$/;

export const loadDistributedConfig = (env: NodeJS.ProcessEnv = process.env): DistributedConfig => {
  const brokers = (env.KAFKA_BROKERS ?? '')
    .split(',')
    .map((b) => b.trim())
    .filter((b) => b.length > 0);
  if (brokers.length === 0) throw new ConfigError('KAFKA_BROKERS is required in distributed mode (host:port[,…])');
  for (const b of brokers) if (!BROKER.test(b)) throw new ConfigError(`KAFKA_BROKERS: "${b}" is not host:port`);
  const identityTopic = env.CX_IDENTITY_TOPIC ?? IDENTITY_TOPIC;
  if (!TOPIC.test(identityTopic))
    throw new ConfigError(`CX_IDENTITY_TOPIC is not a Kafka topic name: "${identityTopic}"`);
  const session = env.CX_KAFKA_SESSION_TIMEOUT_MS ?? '30000';
  if (!/^\d+$/.test(session) || Number(session) < 6_000 || Number(session) > 300_000)
    throw new ConfigError(`CX_KAFKA_SESSION_TIMEOUT_MS must be an integer from 6000 to 300000, got "${session}"`);
  return { brokers, identityTopic, sessionTimeoutMs: Number(session) };
};

/**
 * Each process of distributed mode has its own clock; a simulated one could only be moved process by process,
 * and services would disagree about the time. Refused until the simulated clock travels over Kafka.
 */
export const refuseSimulatedClock = (config: CxConfig): void => {
  if (config.clock === 'simulated')
    throw new ConfigError('CX_CLOCK=simulated is not supported in distributed mode (one clock per process)');
};

export interface GatewayConfig {
  /** Base URLs of the four services (CX_PRICING_GUIDANCE_URL, CX_MATCHING_URL, CX_METERING_URL, CX_BILLING_URL). */
  upstreams: Record<'pricing-guidance' | 'matching' | 'metering' | 'billing', URL>;
  /** How long the gateway waits for a service's response headers (CX_PROXY_TIMEOUT_MS, 30 s by default). */
  proxyTimeoutMs: number;
}

const URL_VARS = {
  'pricing-guidance': 'CX_PRICING_GUIDANCE_URL',
  matching: 'CX_MATCHING_URL',
  metering: 'CX_METERING_URL',
  billing: 'CX_BILLING_URL',
} as const;

export const loadGatewayConfig = (env: NodeJS.ProcessEnv = process.env): GatewayConfig => {
  const upstreams = {} as GatewayConfig['upstreams'];
  for (const [service, name] of Object.entries(URL_VARS) as [keyof typeof URL_VARS, string][]) {
    const raw = env[name];
    if (!raw) throw new ConfigError(`${name} is required: the base URL of the ${service} service`);
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      throw new ConfigError(`${name} is not a URL: "${raw}"`);
    }
    if ((url.protocol !== 'http:' && url.protocol !== 'https:') || url.pathname !== '/' || url.search !== '')
      throw new ConfigError(`${name} must be an http(s) base URL without path or query, got "${raw}"`);
    upstreams[service] = url;
  }
  const timeout = env.CX_PROXY_TIMEOUT_MS ?? '30000';
  if (!/^\d+$/.test(timeout) || Number(timeout) < 100 || Number(timeout) > 600_000)
    throw new ConfigError(`CX_PROXY_TIMEOUT_MS must be an integer from 100 to 600000, got "${timeout}"`);
  return { upstreams, proxyTimeoutMs: Number(timeout) };
};
