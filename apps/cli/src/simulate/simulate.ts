import { createPublicKey } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type VerifyReport, auditRules, httpSource, storeSource, terminalProgress, verifySources } from '@cx/audit';
import { openEventStore } from '@cx/event-store';
import { type EmbeddedExchange, findRepoRoot, startEmbeddedExchange } from './embedded';
import { ExchangeClient } from './http';
import { HOUR, planMarket } from './plan';
import { type StoryProgress, storyProgress } from './progress';
import { type ReferencePrices, defaultDataDir, referencePrices } from './reference-price';
import { type StoryResult, runStory } from './story';

// `cx simulate`: start (or reach) an exchange with a simulated clock, play a market day on it, check its history
// with the audit verifier, and summarise. See story.ts for the day itself.

/** The trading day of an embedded run: fixed, so the same seed gives the same statements on any machine and date. */
export const DEFAULT_TRADING_DAY = '2026-03-10';

/**
 * How the embedded exchange is configured. Guidance: a band change needs three hours' notice and matching
 * tolerates three hours without news of guidance, with heartbeats every 250 ms of real time, so the story's clock
 * jumps (at most an hour between checks) never make matching stale. The circuit breaker is widened so that the
 * day's spread (floor to ceiling ≈ 25%) does not halt the book on its own: the story halts it by hand.
 */
export const embeddedEnv = (storeFile: string, tradingDay: string): Record<string, string> => ({
  CX_CLOCK: 'simulated',
  CX_SIM_START: `${tradingDay}T00:00:00.000Z`,
  CX_STORE: `sqlite:${storeFile}`,
  PORT: '0',
  HOST: '127.0.0.1',
  LOG_LEVEL: 'info',
  CX_NODE: 'simulate',
  CX_BILLING_PERIOD_GRACE_MS: '0',
  CX_GUIDANCE_MIN_NOTICE_MS: String(3 * HOUR),
  CX_GUIDANCE_MAX_LAG_MS: String(3 * HOUR),
  CX_GUIDANCE_HEARTBEAT_MS: '250',
  CX_GUIDANCE_BREAKER_MOVE_PCT: '40',
  CX_AUDIT_CHECKPOINT_MS: '5000',
  CX_METERING_KAFKA_INGEST: 'false',
});

export interface SimulateOptions {
  seed: number;
  providers: number;
  buyers: number;
  orders: number;
  url?: string;
  key?: string;
  keep: boolean;
  dataDir?: string;
}

export interface AuditSummary {
  clean: boolean;
  source: string;
  eventsChecked: number;
  checkpointsChecked: number;
  keysPinned: boolean;
  rules: string[];
  violationCount: number;
  violations: VerifyReport['violations'];
  warnings: string[];
}

export interface SimulationSummary extends StoryResult {
  seed: number;
  sizes: { providers: number; buyers: number; orders: number };
  exchange: { mode: 'embedded' | 'remote'; url: string; store: string | null; kept: boolean };
  reference: ReferencePrices;
  audit: AuditSummary;
  /** Every statement's content hash, account/period → hash: equal across runs of the same seed. */
  contentHashes: Record<string, string>;
  requests: number;
  elapsedMs: number;
}

export class SimulationFailed extends Error {
  constructor(
    message: string,
    readonly keptStore: string | null,
  ) {
    super(message);
  }
}

const auditSummary = (source: string, r: VerifyReport): AuditSummary => ({
  clean: r.clean,
  source,
  eventsChecked: r.eventsChecked,
  checkpointsChecked: r.checkpointsChecked,
  keysPinned: r.keysPinned,
  rules: r.rules,
  violationCount: r.violationCount,
  violations: r.violations.slice(0, 50),
  warnings: r.warnings,
});

const verifyStore = async (storeFile: string, keyFile: string): Promise<AuditSummary> => {
  // `cx audit verify --store sqlite:<file> --public-key <the exchange's key>`, in-process: the checkpoints are
  // checked against the signing key the embedded exchange created beside its store, not trusted on first use.
  const url = `sqlite:${storeFile}`;
  const trustedKeys = existsSync(keyFile) ? [createPublicKey(readFileSync(keyFile, 'utf8'))] : [];
  const store = await openEventStore(url);
  try {
    const report = await verifySources([storeSource(url, store)], {
      trustedKeys,
      rules: auditRules,
      progress: (_s, total) => terminalProgress('audit verify', total),
    });
    return auditSummary(url, report);
  } finally {
    await store.close().catch(() => undefined);
  }
};

export const simulate = async (opts: SimulateOptions): Promise<SimulationSummary> => {
  const started = Date.now();
  const repoRoot = findRepoRoot();
  const prices = referencePrices(opts.dataDir ?? defaultDataDir(repoRoot));

  let exchange: EmbeddedExchange | null = null;
  let dir: string | null = null;
  let storeFile: string | null = null;
  let api: ExchangeClient;
  let adminKey: string;
  let tradingDay = DEFAULT_TRADING_DAY;
  let progress: StoryProgress | null = null;
  let succeeded = false;
  try {
    if (opts.url === undefined) {
      dir = mkdtempSync(join(tmpdir(), 'cx-simulate-'));
      storeFile = join(dir, 'cx.sqlite');
      exchange = await startEmbeddedExchange({ repoRoot, env: embeddedEnv(storeFile, tradingDay) });
      api = new ExchangeClient(exchange.url);
      adminKey = exchange.adminKey;
    } else {
      api = new ExchangeClient(opts.url.replace(/\/+$/, ''));
      adminKey = opts.key as string;
      // The next UTC midnight on the target's clock (or now, when it is one): a fresh day for this run.
      const r = await api.call<{ now: string }>('POST', '/v1/sim/clock', adminKey, { advanceMs: 0 });
      const nowMs = Date.parse(r.body.now);
      const midnight = Math.ceil(nowMs / (24 * HOUR)) * 24 * HOUR;
      tradingDay = new Date(midnight).toISOString().slice(0, 10);
    }
    // Account ids carry the seed and the day: unique on a shared exchange, identical across embedded runs.
    const idPrefix = `s${opts.seed}-${tradingDay.slice(5).replace('-', '')}`;
    const plan = planMarket({
      seed: opts.seed,
      providers: opts.providers,
      buyers: opts.buyers,
      orders: opts.orders,
      idPrefix,
      dayStartMs: Date.parse(`${tradingDay}T00:00:00.000Z`),
      prices,
    });
    progress = storyProgress(plan.participants.length + plan.actions.length + 8);
    const story = await runStory({ api, adminKey, plan, prices, seed: opts.seed, tradingDay, progress });
    progress.stop();
    progress = null;

    let audit: AuditSummary;
    if (exchange !== null && storeFile !== null && dir !== null) {
      // Stop the exchange first: the verifier reads a store nobody is writing to.
      const code = await exchange.stop();
      exchange = null;
      if (code !== 0) throw new Error(`the embedded exchange exited with ${code} when stopped`);
      audit = await verifyStore(storeFile, join(dir, 'audit-signing-key.pem'));
    } else {
      const report = await verifySources([httpSource(api.baseUrl, adminKey)], {
        rules: auditRules,
        progress: (_s, total) => terminalProgress('audit verify', total),
      });
      audit = auditSummary(api.baseUrl, report);
    }
    const contentHashes: Record<string, string> = {};
    for (const s of story.statements)
      for (const p of s.periods) contentHashes[`${s.account}/${p.period}`] = p.contentHash;
    succeeded = true;
    return {
      seed: opts.seed,
      sizes: { providers: opts.providers, buyers: opts.buyers, orders: opts.orders },
      exchange: {
        mode: opts.url === undefined ? 'embedded' : 'remote',
        url: api.baseUrl,
        store: storeFile,
        kept: opts.keep && storeFile !== null,
      },
      reference: prices,
      ...story,
      audit,
      contentHashes,
      requests: api.requests,
      elapsedMs: Date.now() - started,
    };
  } catch (e) {
    progress?.stop();
    const tail =
      exchange !== null
        ? `\n--- embedded exchange output (last lines) ---\n${exchange.output().split('\n').slice(-30).join('\n')}`
        : '';
    throw new SimulationFailed(`${e instanceof Error ? e.message : String(e)}${tail}`, dir);
  } finally {
    if (exchange !== null) await exchange.stop().catch(() => null);
    // On failure the folder stays for inspection; on success only with --keep.
    if (dir !== null && succeeded && !opts.keep) rmSync(dir, { recursive: true, force: true });
  }
};
