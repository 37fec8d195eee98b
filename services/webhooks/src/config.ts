import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { ConfigError } from '@cx/platform';

// The webhooks service's configuration: one typed object, validated once, passed in. Tests build their own with
// `webhooksConfig({...})`.

export const WEBHOOKS_CONFIG = 'cx.WebhooksConfig';

export interface WebhooksConfig {
  /** Deliver to private, loopback and link-local addresses (CX_WEBHOOKS_ALLOW_PRIVATE; tests and development). */
  allowPrivate: boolean;
  /** Accept plain http URLs (CX_WEBHOOKS_ALLOW_HTTP; tests and development). */
  allowHttp: boolean;
  /** The wait before the second try, before jitter (CX_WEBHOOKS_BACKOFF_BASE_MS, 10 s). */
  backoffBaseMs: number;
  /** The longest wait between tries (CX_WEBHOOKS_BACKOFF_MAX_MS, 1 h). */
  backoffMaxMs: number;
  /** How long a delivery is retried before the endpoint is marked failing (CX_WEBHOOKS_MAX_AGE_MS, 3 days). */
  maxAgeMs: number;
  /** One attempt's limit, connect to last byte (CX_WEBHOOKS_TIMEOUT_MS, 10 s). */
  timeoutMs: number;
  /** How often the worker looks for deliveries that are due, in real time (CX_WEBHOOKS_POLL_MS, 1 s). */
  pollMs: number;
  /** Attempts in flight at once (CX_WEBHOOKS_CONCURRENCY, 8). */
  concurrency: number;
  /**
   * 64 hex characters (32 bytes): signing secrets are sealed with it (AES-256-GCM) before they are stored, so the
   * audit stream never shows them. From CX_WEBHOOKS_SECRET_KEY, else from the key file (CX_WEBHOOKS_SECRET_KEY_FILE,
   * default `webhooks-secret.key` beside the audit signing key), created on first start. null (stored as is) only
   * where a test builds its own config.
   */
  secretKeyHex: string | null;
  /**
   * Record each input the alert rules judge against, so a restart rebuilds them (the gateway: its consumers resume
   * from committed offsets). Embedded mode hears everything again at each start and leaves it off.
   */
  recordAlertInputs: boolean;
}

export const DEFAULT_MAX_AGE_MS = 3 * 86_400_000;

export const webhooksConfig = (overrides: Partial<WebhooksConfig> = {}): WebhooksConfig => {
  const config: WebhooksConfig = {
    allowPrivate: false,
    allowHttp: false,
    backoffBaseMs: 10_000,
    backoffMaxMs: 3_600_000,
    maxAgeMs: DEFAULT_MAX_AGE_MS,
    timeoutMs: 10_000,
    pollMs: 1_000,
    concurrency: 8,
    secretKeyHex: null,
    recordAlertInputs: false,
    ...overrides,
  };
  for (const k of ['allowPrivate', 'allowHttp', 'recordAlertInputs'] as const) {
    if (typeof config[k] !== 'boolean') throw new ConfigError(`${k} must be a boolean`);
  }
  for (const k of ['backoffBaseMs', 'backoffMaxMs', 'maxAgeMs', 'timeoutMs', 'pollMs', 'concurrency'] as const) {
    if (!Number.isSafeInteger(config[k]) || config[k] < 1)
      throw new ConfigError(`${k} must be a positive whole number`);
  }
  if (config.secretKeyHex !== null && !/^[0-9a-f]{64}$/.test(config.secretKeyHex)) {
    throw new ConfigError('secretKeyHex must be 64 lower-case hex characters (32 bytes)');
  }
  if (config.backoffMaxMs < config.backoffBaseMs) throw new ConfigError('backoffMaxMs must be at least backoffBaseMs');
  return config;
};

/**
 * The sealing key kept in `path` (64 hex characters), created there (mode 0600) on first start: one data folder
 * holds the store and every key it needs, like the audit signing key.
 */
export const loadOrCreateSecretKey = (path: string): string => {
  if (!existsSync(path)) {
    mkdirSync(dirname(path), { recursive: true });
    try {
      writeFileSync(path, `${randomBytes(32).toString('hex')}\n`, { mode: 0o600, flag: 'wx' });
    } catch (e) {
      // Another process created it first: read theirs.
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
  }
  const hex = readFileSync(path, 'utf8').trim().toLowerCase();
  if (!/^[0-9a-f]{64}$/.test(hex)) throw new ConfigError(`${path} must hold 64 hex characters (the webhooks key)`);
  return hex;
};

/** `keyDir`: where the key file goes by default (the folder of the audit signing key). */
export const loadWebhooksConfig = (env: NodeJS.ProcessEnv, keyDir: string): WebhooksConfig => {
  const bool = (name: string): boolean => {
    const raw = env[name] ?? 'false';
    if (raw !== 'true' && raw !== 'false') throw new ConfigError(`${name} must be "true" or "false", got "${raw}"`);
    return raw === 'true';
  };
  const whole = (name: string, fallback: number): number => {
    const raw = env[name] ?? String(fallback);
    if (!/^\d{1,12}$/.test(raw)) throw new ConfigError(`${name} must be a whole number, got "${raw}"`);
    return Number(raw);
  };
  const defaults = webhooksConfig();
  return webhooksConfig({
    allowPrivate: bool('CX_WEBHOOKS_ALLOW_PRIVATE'),
    allowHttp: bool('CX_WEBHOOKS_ALLOW_HTTP'),
    backoffBaseMs: whole('CX_WEBHOOKS_BACKOFF_BASE_MS', defaults.backoffBaseMs),
    backoffMaxMs: whole('CX_WEBHOOKS_BACKOFF_MAX_MS', defaults.backoffMaxMs),
    maxAgeMs: whole('CX_WEBHOOKS_MAX_AGE_MS', defaults.maxAgeMs),
    timeoutMs: whole('CX_WEBHOOKS_TIMEOUT_MS', defaults.timeoutMs),
    pollMs: whole('CX_WEBHOOKS_POLL_MS', defaults.pollMs),
    concurrency: whole('CX_WEBHOOKS_CONCURRENCY', defaults.concurrency),
    secretKeyHex:
      env.CX_WEBHOOKS_SECRET_KEY?.toLowerCase() ??
      loadOrCreateSecretKey(resolve(env.CX_WEBHOOKS_SECRET_KEY_FILE ?? join(keyDir, 'webhooks-secret.key'))),
  });
};
