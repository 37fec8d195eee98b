import type { KeyObject } from 'node:crypto';
import { ChainChecker } from './chain.checker';
import { CheckpointChecker } from './checkpoint.checker';
import type { Checker, Violation } from './checker';
import { noProgress, type Progress } from './progress';
import { SourceError, type VerifySource } from './sources';

// `cx audit verify`: replays every event of each source, in order, through the checkers. The hash chain and
// checkpoint checkers always run; `extraCheckers` is where business-rule checkers plug in.
// Sources are verified one after the other (distributed mode: each service has its own store and chains).

export interface VerifyOptions {
  trustedKeys?: KeyObject[];
  /** More checkers per source, built fresh for each (they keep per-source state). */
  extraCheckers?: () => Checker[];
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
    violationCount: 0,
    violations: [],
    warnings: [],
    elapsedMs: 0,
  };
  const keyIds = new Set<string>();
  for (const source of sources) {
    const chain = new ChainChecker();
    const checkpoints = new CheckpointChecker(chain, { trustedKeys: opts.trustedKeys });
    const checkers: Checker[] = [chain, checkpoints, ...(opts.extraCheckers?.() ?? [])];
    const sink = (v: Omit<Violation, 'source'>): void => {
      report.violationCount++;
      if (report.violations.length < max) {
        report.violations.push(sources.length > 1 ? { ...v, source: source.name } : v);
      }
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
    for (const c of checkers) c.finish?.(sink);
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
  report.keyIdsSeen = [...keyIds];
  report.clean = report.violationCount === 0;
  report.elapsedMs = Date.now() - started;
  return report;
};
