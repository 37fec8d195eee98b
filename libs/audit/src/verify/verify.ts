import type { KeyObject } from 'node:crypto';
import { type RecordedEvent, parsePosition } from '@cx/event-store';
import { ChainChecker } from './chain.checker';
import { CheckpointChecker } from './checkpoint.checker';
import { type HashPassResult, hashPassInWorker } from './hash-pass';
import type { Checker, Report, Violation } from './checker';
import { noProgress, type Progress } from './progress';
import { type AuditRule, auditRules } from './rules';
import { SourceError, type VerifySource } from './sources';

// `cx audit verify`: replays every event of each source, in order, through the checkers. The hash chain and
// checkpoint checkers run per source (each store has its own chains and checkpoints); the business rules
// (verify/rules) see every source, one after the other (distributed mode: each service has its own store), and
// finish after the last. With several sources, the histories rules judge against (guidance) are read from every
// source first, so a trade in matching's store is judged by the bands in pricing-guidance's.

const PARALLEL_FROM_EVENTS = 100_000n;

export interface VerifyOptions {
  trustedKeys?: KeyObject[];
  /** More checkers per source, built fresh for each (they keep per-source state). */
  extraCheckers?: () => Checker[];
  /** The business rules to check; all registered rules by default, [] for chains and checkpoints only. */
  rules?: readonly AuditRule[];
  progress?: (source: VerifySource, total: number | null) => Progress;
  /** Stop collecting violations after this many (they are still counted). */
  maxViolations?: number;
  /**
   * Hash a SQLite store's events in a worker thread beside the other checks: true always, false never (everything
   * on this thread, one event at a time); by default for stores of 100,000 events or more.
   */
  parallel?: boolean;
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
  for (const source of sources) {
    // A SQLite store's event contents are hashed by a worker thread reading the same rows, through the head as of
    // now, while this thread checks the rest (links, checkpoints, rules); any other source is checked all here.
    let rows: { file: string; upTo: bigint } | undefined;
    try {
      rows = opts.parallel === false ? undefined : await source.storedRows?.();
      // A worker's start-up costs more than it saves on a small store (positions on SQLite count events).
      if (rows !== undefined && opts.parallel === undefined && rows.upTo < PARALLEL_FROM_EVENTS) rows = undefined;
    } catch (e) {
      throw new SourceError(`cannot read ${source.name}: ${(e as Error).message}`, { cause: e });
    }
    const hashPass = rows === undefined ? undefined : hashPassInWorker(rows.file, rows.upTo, max);
    const upTo = rows?.upTo;
    const chain = new ChainChecker({ contentHashes: hashPass === undefined });
    const checkpoints = new CheckpointChecker(chain, { trustedKeys: opts.trustedKeys });
    const checkers: Checker[] = [chain, checkpoints, ...(opts.extraCheckers?.() ?? []), ...ruleCheckers];
    const found: Violation[] = [];
    let foundCount = 0;
    // This source's violations, collected so that the hash pass's can be merged in position order.
    const sink: Report = (v) => {
      foundCount++;
      if (found.length < max) found.push(v);
    };
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
        if (upTo !== undefined && e.position.commit > upTo) break;
        for (const c of checkers) c.onEvent(e, sink);
        count++;
        if ((count & 1023) === 0) progress.tick(count, done(e, count));
      }
    } catch (e) {
      progress.end();
      hashPass?.stop();
      if (e instanceof SourceError) throw e;
      throw new SourceError(`cannot read ${source.name}: ${(e as Error).message}`, { cause: e });
    }
    progress.end();
    for (const c of checkers) if (!ruleCheckers.includes(c)) c.finish?.(sink);
    let hashed: HashPassResult = { eventsChecked: count, violations: [], violationCount: 0 };
    if (hashPass !== undefined) {
      try {
        hashed = await hashPass.result;
      } catch (e) {
        throw new SourceError(`cannot read ${source.name}: ${(e as Error).message}`, { cause: e });
      }
      if (hashed.eventsChecked !== count) {
        throw new SourceError(
          `cannot read ${source.name}: the hash pass read ${hashed.eventsChecked} events, the main pass ${count}`,
        );
      }
    }
    // One event's violations in the order one thread finds them: links and rules, then its content hash.
    const merged = byPosition([...found, ...hashed.violations]).slice(0, Math.max(0, max - report.violations.length));
    report.violations.push(...merged.map((v) => (sources.length > 1 ? { ...v, source: source.name } : v)));
    report.violationCount += foundCount + hashed.violationCount;
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
  const ruleSink: Report = (v) => {
    report.violationCount++;
    if (report.violations.length < max) report.violations.push(v);
  };
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

/** Violations in global position order (stable: one event's stay in the order they were found). */
const byPosition = <V extends { position: string }>(vs: V[]): V[] => {
  const key = (v: V): bigint => {
    try {
      return parsePosition(v.position).commit;
    } catch {
      return -1n;
    }
  };
  const keyed = vs.map((v, i) => ({ v, i, k: key(v) }));
  keyed.sort((a, b) => (a.k < b.k ? -1 : a.k > b.k ? 1 : a.i - b.i));
  return keyed.map((x) => x.v);
};
