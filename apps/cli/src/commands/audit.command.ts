import type { KeyObject } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { once } from 'node:events';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { type EventStore, type Position, comparePositions, parsePosition } from '@cx/event-store';
// Relative until the lead adds the `@cx/audit` path alias.
import {
  SourceError,
  type VerifyReport,
  type VerifySource,
  ndjsonFileSource,
  parsePublicKey,
  storeSource,
  terminalProgress,
  toExportLine,
  verifySources,
} from '@cx/audit';
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

// `cx audit verify|export` (issue 8). verify exits 0 when clean, 1 on violations, 2 when a source or key could not
// be read. `--url` (verify through the HTTP API with an auditor key) is not implemented yet.

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

export const registerAuditCommands = (program: Command, ctx: CliContext): void => {
  // The global --store takes one value; audit verify reads every occurrence (distributed mode: one store per
  // service), so it listens to each one as commander parses it.
  const stores: string[] = [];
  program.on('option:store', (value: string) => stores.push(value));

  const audit = program.command('audit').description('verify and export the tamper-evident event history');

  audit
    .command('verify')
    .description(
      'replay every event and check hash chains and signed checkpoints; exit 0 clean, 1 violations, 2 unreadable (--store may be repeated)',
    )
    .option('--file <path>', 'an NDJSON export (cx audit export) instead of a store; repeatable', collect, [])
    .option('--public-key <path>', 'a trusted checkpoint public key (SPKI PEM); repeatable', collect, [])
    .option('--url <url>', 'verify through the HTTP API with an auditor key (not implemented yet)')
    .action(async (opts: { file: string[]; publicKey: string[]; url?: string }, cmd: Command) => {
      const g = globalOptions(cmd);
      if (opts.url !== undefined)
        throw new CliFailure(EXIT_USAGE, '--url is not implemented yet; use --store or --file');
      const keys = readKeys(opts.publicKey);
      const urls = stores.length > 0 ? stores : opts.file.length > 0 ? [] : [g.store];
      const opened: EventStore[] = [];
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
        let report: VerifyReport;
        try {
          report = await verifySources(sources, {
            trustedKeys: keys,
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
        for (const s of opened) await s.close().catch(() => undefined);
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
