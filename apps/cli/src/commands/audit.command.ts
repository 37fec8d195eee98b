import type { KeyObject } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { once } from 'node:events';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { type EventStore, type Position, comparePositions, parsePosition } from '@cx/event-store';
import {
  type ReplayResult,
  type ReplayUntil,
  SourceError,
  type VerifyReport,
  type VerifySource,
  auditRules,
  httpSource,
  ndjsonFileSource,
  parsePublicKey,
  parseUntil,
  replayState,
  storeSource,
  terminalProgress,
  toExportLine,
  verifySources,
} from '@cx/audit';
import { isDomainError } from '@cx/shared-kernel';
import {
  type CliContext,
  CliFailure,
  EXIT_REFUSED,
  EXIT_USAGE,
  collect,
  globalOptions,
  table,
  withStore,
} from '../cli-context';

// `cx audit verify|replay|export` (issue 8). verify exits 0 when clean, 1 on violations, 2 when a source or key
// could not be read. Sources: --store (repeatable: distributed mode, one store per service), --file (an export),
// --url with --key (GET /v1/audit/events of a running exchange, with an auditor key).

/** Opens a store for reading; a SQLite file that does not exist is an unreadable source, never a new empty store. */
const openForReading = async (ctx: CliContext, url: string): Promise<EventStore> => {
  if (url.startsWith('sqlite:') && !existsSync(resolve(url.slice('sqlite:'.length)))) {
    throw new CliFailure(EXIT_USAGE, `cannot read store ${url}: no such file`);
  }
  try {
    return await ctx.openStore(url);
  } catch (e) {
    throw new CliFailure(EXIT_USAGE, `cannot open store ${url}: ${(e as Error).message}`, { cause: e });
  }
};

const readKeys = (paths: string[]): KeyObject[] =>
  paths.map((p) => {
    let text: string;
    try {
      text = readFileSync(p, 'utf8');
    } catch (e) {
      throw new CliFailure(EXIT_USAGE, `cannot read public key ${p}: ${(e as Error).message}`);
    }
    try {
      return parsePublicKey(text);
    } catch (e) {
      throw new CliFailure(EXIT_USAGE, `public key ${p}: ${(e as Error).message}`);
    }
  });

const summary = (r: VerifyReport): string => {
  const lines = [
    `${r.clean ? 'CLEAN' : 'VIOLATIONS FOUND'}: ${r.eventsChecked} events, ${r.checkpointsChecked} checkpoints, ${r.violationCount} violations (${(r.elapsedMs / 1000).toFixed(1)} s)`,
    `sources: ${r.sources.join(', ')}`,
    `rules: ${r.rules.length > 0 ? r.rules.join(', ') : 'none (chains and checkpoints only)'}`,
    r.keysPinned
      ? `checkpoint keys: pinned (${r.trustedKeyIds.join(', ')})`
      : `checkpoint keys: NOT pinned, trusted on first use (${r.keyIdsSeen.join(', ') || 'none'}); pass --public-key`,
  ];
  if (r.violations.length > 0) {
    lines.push(
      '',
      table([
        ['CHECK', 'STREAM', 'REVISION', 'POSITION', 'MESSAGE'],
        ...r.violations.map((v) => [v.check, v.stream, v.revision, v.position, v.message]),
      ]),
    );
    if (r.violations.length < r.violationCount)
      lines.push(`(${r.violationCount - r.violations.length} more not shown)`);
  }
  for (const w of r.warnings) lines.push(`warning: ${w}`);
  return lines.join('\n');
};

interface SourceOptions {
  file: string[];
  url?: string;
  key?: string;
}

/** The sources a verify or replay reads, opened; `close` closes the stores among them. */
const openSources = async (
  ctx: CliContext,
  stores: string[],
  fallbackStore: string,
  opts: SourceOptions,
): Promise<{ sources: VerifySource[]; close: () => Promise<void> }> => {
  if (opts.url !== undefined && (opts.key === undefined || opts.key === '')) {
    throw new CliFailure(EXIT_USAGE, '--url needs --key <an auditor API key> (or CX_API_KEY)');
  }
  if (opts.url !== undefined && !/^https?:\/\/[^\s]+$/.test(opts.url)) {
    throw new CliFailure(EXIT_USAGE, `--url must be an http(s) URL, got "${opts.url}"`);
  }
  const urls = stores.length > 0 ? stores : opts.file.length > 0 || opts.url !== undefined ? [] : [fallbackStore];
  const opened: EventStore[] = [];
  const close = async (): Promise<void> => {
    for (const s of opened) await s.close().catch(() => undefined);
  };
  try {
    const sources: VerifySource[] = [];
    for (const url of urls) {
      const store = await openForReading(ctx, url);
      opened.push(store);
      sources.push(storeSource(url, store));
    }
    for (const f of opts.file) {
      if (!existsSync(f)) throw new CliFailure(EXIT_USAGE, `cannot read ${f}: no such file`);
      sources.push(ndjsonFileSource(f));
    }
    if (opts.url !== undefined) sources.push(httpSource(opts.url, opts.key as string));
    return { sources, close };
  } catch (e) {
    await close();
    throw e;
  }
};

const sourceOptions = (cmd: Command): Command =>
  cmd
    .option('--file <path>', 'an NDJSON export (cx audit export) instead of a store; repeatable', collect, [])
    .option('--url <url>', 'a running exchange: reads GET /v1/audit/events (needs --key)')
    .option(
      '--key <key>',
      'the API key for --url (auditor, regulator or admin); default $CX_API_KEY',
      process.env.CX_API_KEY,
    );

const replaySummary = (r: ReplayResult): string => {
  const lines = [
    `state as of ${'position' in r.until ? `position ${r.until.position}` : r.until.instant} (bands at ${r.asOf ?? 'no instant'}): ${r.eventsApplied} events applied from ${r.sources.join(', ')}`,
    '',
    'BANDS IN FORCE',
    r.bands.length === 0
      ? '(none)'
      : table([
          ['BAND', 'VERSION', 'FLOOR', 'CEILING', 'CURRENCY', 'FROM', 'TO'],
          ...r.bands.map((b) => [
            b.bandId,
            b.versionId,
            b.floorPerAcceleratorHour,
            b.ceilingPerAcceleratorHour ?? '-',
            b.currency,
            b.effectiveFrom,
            b.effectiveTo ?? '-',
          ]),
        ]),
    '',
    'BOOKS',
    r.books.length === 0
      ? '(none)'
      : table([
          ['INSTRUMENT', 'BEST BID', 'BEST ASK', 'OPEN ORDERS', 'BAND', 'STATUS'],
          ...r.books.map((b) => [
            b.instrument,
            b.bestBid ? `${b.bestBid.quantityLots} @ ${b.bestBid.price}` : '-',
            b.bestAsk ? `${b.bestAsk.quantityLots} @ ${b.bestAsk.price}` : '-',
            String(b.openOrders.length),
            b.band?.guidanceVersion ?? '-',
            b.closed ? 'closed' : b.halted ? 'halted' : 'open',
          ]),
        ]),
    '',
    'BALANCES',
    r.ledgers.length === 0
      ? '(none)'
      : table([
          ['LEDGER', 'ACCOUNT', 'BALANCE', 'HELD (DEBITS PENDING)', 'AVAILABLE'],
          ...r.ledgers.flatMap((l) =>
            l.accounts.map((a) => [l.currency, a.account, a.balance, a.debitsPending, a.available ?? '-']),
          ),
        ]),
    ...r.ledgers.map(
      (l) =>
        `${l.currency}: ${l.openHolds.length} open holds; totals ${l.totals.posted} posted, ${l.totals.pending} pending`,
    ),
    '',
    'USAGE',
    r.usage.length === 0
      ? '(none)'
      : table([
          ['SUBJECT', 'METER', 'REPORTER', 'EVENTS', 'QUANTITY'],
          ...r.usage.map((u) => [u.subject, u.meter, u.reporterRole, String(u.events), u.quantity]),
        ]),
  ];
  for (const w of r.warnings) lines.push(`warning: ${w}`);
  return lines.join('\n');
};

export const registerAuditCommands = (program: Command, ctx: CliContext): void => {
  // The global --store takes one value; audit verify reads every occurrence (distributed mode: one store per
  // service), so it listens to each one as commander parses it.
  const stores: string[] = [];
  program.on('option:store', (value: string) => stores.push(value));

  const audit = program.command('audit').description('verify and export the tamper-evident event history');

  sourceOptions(
    audit
      .command('verify')
      .description(
        'replay every event and check hash chains, signed checkpoints and the business rules (floors, ledger, usage, statements); exit 0 clean, 1 violations, 2 unreadable (--store may be repeated)',
      ),
  )
    .option('--public-key <path>', 'a trusted checkpoint public key (SPKI PEM); repeatable', collect, [])
    .option(
      '--rules <names>',
      `business rules to check, comma-separated (${auditRules.map((r) => r.name).join(', ')}), or "none"`,
    )
    .action(async (opts: SourceOptions & { publicKey: string[]; rules?: string }, cmd: Command) => {
      const g = globalOptions(cmd);
      const keys = readKeys(opts.publicKey);
      let rules = auditRules;
      if (opts.rules !== undefined) {
        const names = opts.rules === 'none' ? [] : opts.rules.split(',').map((n) => n.trim());
        const unknown = names.filter((n) => !auditRules.some((r) => r.name === n));
        if (unknown.length > 0) throw new CliFailure(EXIT_USAGE, `unknown rule(s): ${unknown.join(', ')}`);
        rules = auditRules.filter((r) => names.includes(r.name));
      }
      const { sources, close } = await openSources(ctx, stores, g.store, opts);
      try {
        let report: VerifyReport;
        try {
          report = await verifySources(sources, {
            trustedKeys: keys,
            rules,
            progress: (s, total) => terminalProgress(`verify ${s.name}`, total),
          });
        } catch (e) {
          if (e instanceof SourceError) throw new CliFailure(EXIT_USAGE, e.message, { cause: e });
          throw e;
        }
        if (keys.length > 0 && report.checkpointsChecked > 0 && report.checkpointsSignedByTrustedKey === 0) {
          throw new CliFailure(
            EXIT_USAGE,
            `wrong public key: none of the ${report.checkpointsChecked} checkpoints is signed by ${report.trustedKeyIds.join(', ')} (they carry ${report.keyIdsSeen.join(', ')})`,
          );
        }
        ctx.io.out(g.json ? JSON.stringify(report) : summary(report));
        if (!report.clean) throw new CliFailure(EXIT_REFUSED, `audit verify: ${report.violationCount} violation(s)`);
      } finally {
        await close();
      }
    });

  sourceOptions(
    audit
      .command('replay')
      .description(
        'rebuild the state as of a position or instant: bands in force, books (best bid/ask, open orders), ledger balances and holds, usage totals',
      ),
  )
    .requiredOption('--until <position|instant>', 'a global position ("123") or an ISO 8601 instant with timezone')
    .action(async (opts: SourceOptions & { until: string }, cmd: Command) => {
      const g = globalOptions(cmd);
      let until: ReplayUntil;
      try {
        until = parseUntil(opts.until);
      } catch (e) {
        if (isDomainError(e)) throw new CliFailure(EXIT_USAGE, `--until: ${e.message}`);
        throw e;
      }
      const { sources, close } = await openSources(ctx, stores, g.store, opts);
      try {
        let state: ReplayResult;
        try {
          state = await replayState(sources, until, {
            progress: (s, total) => terminalProgress(`replay ${s.name}`, total),
          });
        } catch (e) {
          if (e instanceof SourceError) throw new CliFailure(EXIT_USAGE, e.message, { cause: e });
          throw e;
        }
        ctx.io.out(g.json ? JSON.stringify(state) : replaySummary(state));
      } finally {
        await close();
      }
    });

  audit
    .command('export')
    .description('write every event with its position and metadata as NDJSON to stdout (input for verify --file)')
    .option('--after <position>', 'resume strictly after this position (the last line’s "position")')
    .action(async (opts: { after?: string }, cmd: Command) => {
      const g = globalOptions(cmd);
      let after: Position | null = null;
      if (opts.after !== undefined) {
        try {
          after = parsePosition(opts.after);
        } catch (e) {
          throw new CliFailure(EXIT_USAGE, (e as Error).message);
        }
      }
      if (g.store.startsWith('sqlite:') && !existsSync(resolve(g.store.slice('sqlite:'.length)))) {
        throw new CliFailure(EXIT_USAGE, `cannot read store ${g.store}: no such file`);
      }
      await withStore(ctx, g.store, async (store) => {
        let chunk: string[] = [];
        const flush = async (): Promise<void> => {
          if (chunk.length === 0) return;
          ctx.io.out(chunk.join('\n'));
          chunk = [];
          // Respect back-pressure when stdout is a slow pipe, so memory stays bounded.
          if (process.stdout.writableNeedDrain) await once(process.stdout, 'drain');
        };
        for await (const e of store.readAll({ fromPosition: after ?? 'start' })) {
          if (after !== null && comparePositions(e.position, after) <= 0) continue;
          chunk.push(toExportLine(e));
          if (chunk.length >= 1000) await flush();
        }
        await flush();
      });
    });
};
