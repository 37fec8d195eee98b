import type { KeyObject } from 'node:crypto';
import type { RecordedEvent } from '@cx/event-store';
import { ChainChecker } from './chain.checker';
import { CheckpointChecker } from './checkpoint.checker';
import type { Checker, Violation } from './checker';
import { noProgress, type Progress } from './progress';
import { type AuditRule, auditRules } from './rules';
import { SourceError, type VerifySource } from './sources';

// `cx audit verify`: replays every event of each source, in order, through the checkers. The hash chain and
// checkpoint checkers run per source (each store has its own chains and checkpoints); the business rules
// (verify/rules) see every source, one after the other (distributed mode: each service has its own store), and
// finish after the last. With several sources, the histories rules judge against (guidance) are read from every
// source first, so a trade in matching's store is judged by the bands in pricing-guidance's.

export interface VerifyOptions {
  trustedKeys?: KeyObject[];
  /** More checkers per source, built fresh for each (they keep per-source state). */
  extraCheckers?: () => Checker[];
  /** The business rules to check; all registered rules by default, [] for chains and checkpoints only. */
  rules?: readonly AuditRule[];
  progress?: (source: VerifySource, total: number | null) => Progress;
  /** Stop collecting violations after this many (they are still counted). */
  maxViolations?: number;
}

export interface VerifyReport {
  clean: boolean;
  sources: string[];
  eventsChecked: number;
  checkpointsChecked: number;
  checkpointsSignedByTrustedKey: number;
  /** Key ids given with --public-key; empty when keys were trusted on first use. */
  trustedKeyIds: string[];
  keyIdsSeen: string[];
  keysPinned: boolean;
  /** The business rules checked (names). */
  rules: string[];
  violationCount: number;
  violations: Violation[];
  warnings: string[];
  elapsedMs: number;
}

export const verifySources = async (sources: VerifySource[], opts: VerifyOptions = {}): Promise<VerifyReport> => {
  const started = Date.now();
  const max = opts.maxViolations ?? 10_000;
  const report: VerifyReport = {
    clean: true,
    sources: sources.map((s) => s.name),
    eventsChecked: 0,
    checkpointsChecked: 0,
    checkpointsSignedByTrustedKey: 0,
    trustedKeyIds: [],
    keyIdsSeen: [],
    keysPinned: (opts.trustedKeys?.length ?? 0) > 0,
    rules: [],
    violationCount: 0,
    violations: [],
    warnings: [],
    elapsedMs: 0,
  };
  const keyIds = new Set<string>();
  const rules = opts.rules ?? auditRules;
  report.rules = rules.map((r) => r.name);
  const history = sources.length > 1 ? await readHistories(sources, rules) : [];
  const ruleCheckers = rules.map((r) =>
    r.create({
      history: history.filter((e) => (r.historyStreamPrefixes ?? []).some((p) => e.streamId.startsWith(p))),
    }),
  );
  const sinkFor =
    (source: VerifySource | null) =>
    (v: Omit<Violation, 'source'>): void => {
      report.violationCount++;
      if (report.violations.length < max) {
        report.violations.push(sources.length > 1 && source !== null ? { ...v, source: source.name } : v);
      }
    };
  for (const source of sources) {
    const chain = new ChainChecker();
    const checkpoints = new CheckpointChecker(chain, { trustedKeys: opts.trustedKeys });
    const checkers: Checker[] = [chain, checkpoints, ...(opts.extraCheckers?.() ?? []), ...ruleCheckers];
    const sink = sinkFor(source);
    let progress = noProgress;
    let done: (e: Parameters<Checker['onEvent']>[0], n: number) => number = () => 0;
    if (opts.progress) {
      try {
        const p = await source.progress();
        progress = opts.progress(source, p.total);
        done = p.done;
      } catch (e) {
        throw new SourceError(`cannot read ${source.name}: ${(e as Error).message}`, { cause: e });
      }
    }
    let count = 0;
    try {
      for await (const e of source.events()) {
        for (const c of checkers) c.onEvent(e, sink);
        count++;
        if ((count & 1023) === 0) progress.tick(count, done(e, count));
      }
    } catch (e) {
      progress.end();
      if (e instanceof SourceError) throw e;
      throw new SourceError(`cannot read ${source.name}: ${(e as Error).message}`, { cause: e });
    }
    progress.end();
    for (const c of checkers) if (!ruleCheckers.includes(c)) c.finish?.(sink);
    report.eventsChecked += count;
    report.checkpointsChecked += checkpoints.checkpointsChecked;
    report.checkpointsSignedByTrustedKey += checkpoints.checkpointsSignedByTrustedKey;
    report.trustedKeyIds = checkpoints.trustedKeyIds;
    for (const k of checkpoints.keyIdsSeen) keyIds.add(k);
    report.warnings.push(...checkpoints.warnings.map((w) => (sources.length > 1 ? `${source.name}: ${w}` : w)));
    if (checkpoints.checkpointsChecked === 0) {
      report.warnings.push(`${source.name}: no checkpoints; only the hash chains were checked`);
    }
  }
  const ruleSink = sinkFor(null);
  for (const c of ruleCheckers) {
    c.finish?.(ruleSink);
    report.warnings.push(...(c.warnings ?? []).map((w) => `${c.name}: ${w}`));
  }
  report.keyIdsSeen = [...keyIds];
  report.clean = report.violationCount === 0;
  report.elapsedMs = Date.now() - started;
  return report;
};

/** The streams rules judge against (e.g. guidance), read from every source before the main pass. */
const readHistories = async (sources: VerifySource[], rules: readonly AuditRule[]): Promise<RecordedEvent[]> => {
  const prefixes = [...new Set(rules.flatMap((r) => r.historyStreamPrefixes ?? []))];
  const out: RecordedEvent[] = [];
  if (prefixes.length === 0) return out;
  for (const source of sources) {
    try {
      for await (const e of source.events({ streamNamePrefixes: prefixes })) out.push(e);
    } catch (e) {
      if (e instanceof SourceError) throw e;
      throw new SourceError(`cannot read ${source.name}: ${(e as Error).message}`, { cause: e });
    }
  }
  return out;
};
