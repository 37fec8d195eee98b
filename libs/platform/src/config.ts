import { dirname, join, resolve } from 'node:path';

// One typed configuration object, read from the environment once at boot, validated, and passed in.
// Tests build their own with `buildConfig({...})`.

export interface CxConfig {
  /** HTTP port (PORT). */
  port: number;
  /** HTTP bind address (HOST). 0.0.0.0 by default so a container can be reached; tests use 127.0.0.1. */
  host: string;
  /** Event store location (CX_STORE): `sqlite:/path/file.sqlite` or `esdb://…`. */
  store: string;
  /** `system` (default) or `simulated` (CX_CLOCK=simulated; time moves only through POST /v1/sim/clock). */
  clock: 'system' | 'simulated';
  /** Start instant of the simulated clock (CX_SIM_START, ISO 8601); now when absent. */
  simStart: Date | null;
  /** pino level (LOG_LEVEL). */
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  /** Largest request body accepted, in bytes (CX_BODY_LIMIT_BYTES). */
  bodyLimitBytes: number;
  /** This process's name in audit checkpoints (CX_NODE). */
  node: string;
  /** The Ed25519 key that signs audit checkpoints, PEM (CX_AUDIT_KEY); created on first start when absent. */
  auditKeyPath: string;
  /** How often a signed audit checkpoint is appended (CX_AUDIT_CHECKPOINT_MS; 0: never). */
  auditCheckpointMs: number;
  /** Requests per second each API key may make, sustained (CX_RATE_LIMIT_PER_S; 0: no limit). */
  rateLimitPerS: number;
  /** Requests a quiet key may make at once (CX_RATE_LIMIT_BURST). */
  rateLimitBurst: number;
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

const intIn = (name: string, raw: string, min: number, max: number): number => {
  if (!/^\d+$/.test(raw) || Number(raw) < min || Number(raw) > max) {
    throw new ConfigError(`${name} must be an integer from ${min} to ${max}, got "${raw}"`);
  }
  return Number(raw);
};

export const loadConfig = (env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): CxConfig => {
  const clock = env.CX_CLOCK ?? 'system';
  if (clock !== 'system' && clock !== 'simulated') {
    throw new ConfigError(`CX_CLOCK must be "system" or "simulated", got "${clock}"`);
  }
  const logLevel = env.LOG_LEVEL ?? 'info';
  if (!(LOG_LEVELS as readonly string[]).includes(logLevel)) {
    throw new ConfigError(`LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}, got "${logLevel}"`);
  }
  let simStart: Date | null = null;
  if (env.CX_SIM_START) {
    if (clock !== 'simulated') throw new ConfigError('CX_SIM_START is only meaningful with CX_CLOCK=simulated');
    simStart = new Date(env.CX_SIM_START);
    if (Number.isNaN(simStart.getTime()))
      throw new ConfigError(`CX_SIM_START is not an ISO 8601 instant: "${env.CX_SIM_START}"`);
  }
  const store = env.CX_STORE ?? `sqlite:${resolve(cwd, 'data', 'cx.sqlite')}`;
  if (!/^(sqlite:.+|esdb(\+discover)?:\/\/.+)$/.test(store)) {
    throw new ConfigError(`CX_STORE must be "sqlite:<path>" or "esdb://…", got "${store}"`);
  }
  const node = env.CX_NODE ?? 'embedded';
  if (!/^[A-Za-z0-9_.:-]{1,64}$/.test(node))
    throw new ConfigError(`CX_NODE must be 1-64 of [A-Za-z0-9_.:-], got "${node}"`);
  // The signing key sits beside an embedded store by default, so one data folder holds everything to back up.
  const dataDir = store.startsWith('sqlite:')
    ? dirname(resolve(cwd, store.slice('sqlite:'.length)))
    : resolve(cwd, 'data');
  return {
    node,
    auditKeyPath: resolve(cwd, env.CX_AUDIT_KEY ?? join(dataDir, 'audit-signing-key.pem')),
    auditCheckpointMs: intIn('CX_AUDIT_CHECKPOINT_MS', env.CX_AUDIT_CHECKPOINT_MS ?? '60000', 0, 24 * 3600 * 1000),
    // Generous defaults: an integrator's batches and a trader's bursts pass; a runaway client is slowed, not served.
    rateLimitPerS: intIn('CX_RATE_LIMIT_PER_S', env.CX_RATE_LIMIT_PER_S ?? '500', 0, 1_000_000),
    rateLimitBurst: intIn('CX_RATE_LIMIT_BURST', env.CX_RATE_LIMIT_BURST ?? '1000', 1, 1_000_000),
    port: intIn('PORT', env.PORT ?? '3000', 0, 65535),
    host: env.HOST ?? '0.0.0.0',
    store,
    clock,
    simStart,
    logLevel: logLevel as CxConfig['logLevel'],
    bodyLimitBytes: intIn(
      'CX_BODY_LIMIT_BYTES',
      env.CX_BODY_LIMIT_BYTES ?? String(4 * 1024 * 1024),
      1024,
      256 * 1024 * 1024,
    ),
  };
};

export const buildConfig = (overrides: Partial<CxConfig> = {}): CxConfig => ({ ...loadConfig({}), ...overrides });
