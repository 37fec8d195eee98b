// The statement half of the billing benchmark: an account with N charge lines, written through
// StatementsService.write (line chunks, then the header) on the production store (SQLite wrapped in the audit
// ChainedEventStore, as apps/exchange wires it), then rendered as the HTTP layer streams it, JSON and CSV, each
// consumed to the end by a sink that only counts bytes.
//
// Rendering runs in a child process of its own (`--statement-render <file>`), one per N, so its memory is
// measured from a clean start: the writing phase's heap is not in it, and a peak that grew with N would show as
// the N run's peak above the N/10 run's.
import { spawnSync } from 'node:child_process';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { ChainedEventStore } from '@cx/audit';
import { type Currency, systemClock } from '@cx/shared-kernel';
import { SqliteEventStore } from '../../libs/event-store/src/sqlite/sqlite-event-store.adapter';
import { BillingFactsService } from '../../services/billing/src/application/billing-facts.service';
import { StatementsService } from '../../services/billing/src/application/statements.service';
import { parsePeriod } from '../../services/billing/src/domain/settlement/periods';
import { type StatementLine, summarise } from '../../services/billing/src/domain/statement/statement';
import { type StatementIssued, statementStream } from '../../services/billing/src/domain/statement/statement.events';
import { StatementsHttpService } from '../../services/billing/src/interface/statements.http.service';

const ACCOUNT = 'acct-bench';
const PERIOD = '2026-03';
const CURRENCY: Currency = 'CNY';

const now = (): number => Number(process.hrtime.bigint()) / 1e9;

/** N settlement lines of a buyer, generated on the fly (never an array of N) and the same every time. */
function* chargeLines(n: number): Generator<StatementLine> {
  for (let i = 0; i < n; i++) {
    const cents = 1_000 + ((i * 7_919) % 500_000);
    const day = `2026-03-${String(1 + (i % 28)).padStart(2, '0')}`;
    yield {
      day,
      kind: 'settlement',
      ref: `set-${String(i).padStart(8, '0')}`,
      role: 'buyer',
      instrument: 'gpu-h100-sxm.cn-north-1',
      quantity: `${1 + (i % 24)}.5`,
      unit: 'accelerator-hour',
      unitPrice: '25.50',
      amount: `-${Math.floor(cents / 100)}.${String(cents % 100).padStart(2, '0')}`,
      fee: `-${Math.floor(cents / 10_000)}.${String(Math.floor(cents / 100) % 100).padStart(2, '0')}`,
      guidanceVersion: `g-2026-03-${String(1 + (i % 3)).padStart(2, '0')}`,
      ratedAtFloor: false,
    };
  }
}

/** Writes the N-line statement into the store file at `path` through StatementsService.write. */
export const writeStatement = async (path: string, n: number): Promise<{ seconds: number }> => {
  const store = new ChainedEventStore(SqliteEventStore.open(path));
  const facts = new BillingFactsService(store);
  await facts.ready();
  const statements = new StatementsService(store, systemClock, facts);
  const period = parsePeriod(PERIOD);
  if (period === null) throw new Error('bench period does not parse');
  const t = now();
  const summary = summarise(
    { account: ACCOUNT, period: PERIOD, currency: CURRENCY, openingMinor: 0n },
    chargeLines(n),
    {
      shortfalls: [],
      readingDifferences: [],
    },
  );
  const meta = { correlationId: 'bench', causationId: 'bench', actor: { service: 'bench' } };
  const header = await statements.write(
    { account: ACCOUNT, period, ledgerRevision: null, reason: 'period_close', supersedes: null },
    summary,
    chargeLines(n),
    meta,
  );
  const seconds = now() - t;
  if (header.summary.lineCount !== n) throw new Error(`wrote ${header.summary.lineCount} lines, expected ${n}`);
  await facts.onModuleDestroy();
  await store.close();
  return { seconds };
};

export interface RenderResult {
  lines: number;
  jsonS: number;
  jsonBytes: number;
  csvS: number;
  csvBytes: number;
  /** Highest RSS sampled while rendering, MB, and the RSS before rendering started. */
  peakRssMb: number;
  baseRssMb: number;
  peakHeapMb: number;
}

/** A sink that drops what it is given and counts the bytes: what /dev/null would do, without the syscalls. */
const countingSink = (): { sink: Writable; bytes: () => number } => {
  let bytes = 0;
  const sink = new Writable({
    write(chunk: Buffer | string, _enc, done) {
      bytes += typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.length;
      done();
    },
  });
  return { sink, bytes: () => bytes };
};

/** In the child: renders the statement in `path` as JSON then CSV, timing each and sampling memory throughout. */
export const renderStatement = async (path: string): Promise<RenderResult> => {
  const store = SqliteEventStore.open(path);
  let header: StatementIssued['data'] | undefined;
  const stream = statementStream(ACCOUNT, PERIOD);
  for await (const e of store.readStream(stream, { direction: 'backwards', fromRevision: 'end', maxCount: 1 })) {
    header = e.data as StatementIssued['data'];
  }
  if (header === undefined) throw new Error('no statement header in the bench store');
  // Rendering reads lines from the store only; the facts, the period close and the ledgers are not used by it.
  const statements = new StatementsService(store, systemClock, undefined as never);
  const http = new StatementsHttpService(undefined as never, statements, undefined as never);
  (globalThis as { gc?: () => void }).gc?.();
  const baseRss = process.memoryUsage().rss;
  let peakRss = baseRss;
  let peakHeap = 0;
  const sample = (): void => {
    const m = process.memoryUsage();
    if (m.rss > peakRss) peakRss = m.rss;
    if (m.heapUsed > peakHeap) peakHeap = m.heapUsed;
  };
  const timer = setInterval(sample, 10);
  try {
    const json = countingSink();
    let t = now();
    await pipeline(http.json(header), json.sink);
    const jsonS = now() - t;
    sample();
    const csv = countingSink();
    t = now();
    await pipeline(http.csv(header), csv.sink);
    const csvS = now() - t;
    sample();
    return {
      lines: header.summary.lineCount,
      jsonS,
      jsonBytes: json.bytes(),
      csvS,
      csvBytes: csv.bytes(),
      peakRssMb: peakRss / 1e6,
      baseRssMb: baseRss / 1e6,
      peakHeapMb: peakHeap / 1e6,
    };
  } finally {
    clearInterval(timer);
    await store.close();
  }
};

/** In the parent: renders in a fresh child process and reads its one JSON line back. */
export const renderInChild = (path: string): RenderResult => {
  const r = spawnSync(process.execPath, [...process.execArgv, process.argv[1] as string, '--statement-render', path], {
    encoding: 'utf8',
    env: process.env,
    maxBuffer: 1 << 20,
  });
  if (r.status !== 0) throw new Error(`statement render failed (${r.status}): ${r.stderr}`);
  const last = r.stdout.trim().split('\n').pop() as string;
  return JSON.parse(last) as RenderResult;
};
