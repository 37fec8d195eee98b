// Billing benchmark, two halves. `npm run bench -- billing [--transfers N] [--statement-lines N]`. Ends with one
// JSON line.
//
// Ledger: transfers/s through the ledger's application layer (decide, one durable append per batch, evolve) as the
// exchange runs it: the store is SQLite wrapped in the audit ChainedEventStore (apps/exchange/src/main.ts) and the
// ledger feeds the LedgerMovements read model (BillingLedgerService), so every batch is also hash-chained and
// folded into the statements' movements. Against it, raw better-sqlite3 inserts of the same transfer rows.
//
// Why raw is what it is: it is the least work that makes the same transfers durable. One row per transfer holding
// its JSON, one IMMEDIATE transaction per request, so one fsync per request, the same as the ledger's one append
// per batch (WAL, synchronous=FULL, the same pragmas through applyPragmas). It checks nothing (no id uniqueness,
// no balances, no hash chain), which is what the ratio prices: everything the ledger adds to getting the bytes on
// disk. Both run in the same process in alternating rounds, so disk and CPU drift favour neither.
//
// Statement: see statement.ts. An account with --statement-lines charge lines (default 1,000,000) and one with a
// tenth of them, each rendered fully to JSON and to CSV in a fresh process, peak memory sampled while rendering.
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { tempDir } from '@cx/testing';
import { systemClock } from '@cx/shared-kernel';
import { ChainedEventStore } from '@cx/audit';
import type { EventStore } from '@cx/event-store';
import { SqliteEventStore } from '../../libs/event-store/src/sqlite/sqlite-event-store.adapter';
import { applyPragmas } from '../../libs/event-store/src/sqlite/sqlite-schema';
import { LedgerService } from '../../services/billing/src/application/ledger.service';
import { LedgerMovements } from '../../services/billing/src/application/ledger-movements';
import type { TransferInput } from '../../services/billing/src/domain/ledger/ledger.decider';
import { renderInChild, renderStatement, writeStatement } from './statement';

const argValue = (name: string, fallback: number): number => {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const n = Number(process.argv[i + 1]);
  if (!Number.isSafeInteger(n) || n <= 0) throw new Error(`--${name} needs a positive integer`);
  return n;
};

const TRANSFERS = argValue('transfers', 1_000_000);
const STATEMENT_LINES = argValue('statement-lines', Number(process.env.CX_BENCH_STATEMENT_LINES ?? 1_000_000));
const BIG_BATCH = 8_190;
const SMALL_BATCH = 128;
// Small batches pay one fsync per 128 transfers, so they run on a slice to keep the benchmark short.
const SMALL_TRANSFERS = Math.min(TRANSFERS, argValue('small-transfers', 100_000));
const PARTICIPANTS = 1_000;
const ROUNDS = 5;
const PRAGMAS = { busyTimeoutMs: 5_000, cacheSizeKiB: 64 * 1024 };

const gc = (): void => (globalThis as { gc?: () => void }).gc?.();
const now = (): number => Number(process.hrtime.bigint()) / 1e9;
const rate = (n: number, seconds: number): number => Math.round(n / seconds);
const round2 = (n: number): number => Math.round(n * 100) / 100;

/**
 * A settlement-shaped workload: each trade holds the buyer's notional (pending), and a little later a linked chain
 * posts the delivered part, pays the provider and takes the fee. Requests hold whole chains, at most `size` transfers.
 */
const workload = (total: number, size: number, prefix: string): TransferInput[][] => {
  const units: TransferInput[][] = [];
  const trades = Math.floor(total / 4);
  const lag = 2_000;
  const settle = (k: number): TransferInput[] => {
    const p = `p${(k * 7) % PARTICIPANTS}`;
    return [
      {
        id: `${prefix}s${k}`,
        phase: 'post',
        pendingId: `${prefix}h${k}`,
        amount: '100.00',
        linked: true,
        ref: `t${k}`,
      },
      {
        id: `${prefix}y${k}`,
        debitAccount: 'exchange:clearing',
        creditAccount: `${p}:cash`,
        amount: '100.00',
        linked: true,
        code: 'settlement',
        ref: `t${k}`,
      },
      { id: `${prefix}f${k}`, debitAccount: `${p}:cash`, creditAccount: 'exchange:fees', amount: '1.00', code: 'fee' },
    ];
  };
  for (let k = 0; k < trades; k++) {
    units.push([
      {
        id: `${prefix}h${k}`,
        debitAccount: `b${k % PARTICIPANTS}:cash`,
        creditAccount: 'exchange:clearing',
        amount: '123.45',
        phase: 'pending',
        timeoutMs: 86_400_000,
        code: 'hold',
        ref: `t${k}`,
      },
    ]);
    if (k >= lag) units.push(settle(k - lag));
  }
  for (let k = Math.max(0, trades - lag); k < trades; k++) units.push(settle(k));
  const requests: TransferInput[][] = [];
  let current: TransferInput[] = [];
  for (const u of units) {
    if (current.length + u.length > size) {
      requests.push(current);
      current = [];
    }
    current.push(...u);
  }
  if (current.length > 0) requests.push(current);
  return requests;
};

const count = (requests: TransferInput[][]): number => requests.reduce((n, r) => n + r.length, 0);

/** Rounds of requests, [from, to) indexes, so ours and raw alternate and disk drift favours neither. */
const rounds = (n: number): Array<[number, number]> =>
  Array.from({ length: ROUNDS }, (_, r) => [Math.floor((n * r) / ROUNDS), Math.floor((n * (r + 1)) / ROUNDS)]);

/** The ledger as BillingLedgerService opens it in the exchange: chained store, movements read model. */
const openLedger = async (dir: string, name: string): Promise<{ store: EventStore; ledger: LedgerService }> => {
  const store = new ChainedEventStore(SqliteEventStore.open(join(dir, name)));
  const ledger = await LedgerService.open({ store, clock: systemClock }, 'CNY', {
    listeners: [new LedgerMovements('CNY').apply],
  });
  const ids = Array.from({ length: PARTICIPANTS }, (_, i) => i);
  await ledger.setCreditLines([
    ...ids.map((i) => ({ participantAccountId: `b${i}`, creditLine: '1000.00' })),
    ...ids.map((i) => ({ participantAccountId: `p${i}`, creditLine: '0' })),
  ]);
  const deposits = ids.map((i) => ({
    id: `dep-b${i}`,
    debitAccount: 'world:CNY',
    creditAccount: `b${i}:cash`,
    amount: '100000000.00',
    code: 'deposit',
  }));
  const r = await ledger.submit(deposits);
  if (r.some((x) => x.result !== 'ok')) throw new Error('bench setup: a deposit failed');
  return { store, ledger };
};

/** Raw: the same transfer rows (one JSON document per transfer), one IMMEDIATE transaction per request. */
const rawWriter = (dir: string, name: string) => {
  const db = new Database(join(dir, name));
  applyPragmas(db, PRAGMAS);
  db.exec('CREATE TABLE transfers (seq INTEGER PRIMARY KEY, transfer_id TEXT NOT NULL, data TEXT NOT NULL)');
  const insert = db.prepare('INSERT INTO transfers (transfer_id, data) VALUES (?, ?)');
  const txn = db.transaction((request: TransferInput[]) => {
    for (const t of request) insert.run(t.id, JSON.stringify(t));
  });
  return {
    run: (requests: TransferInput[][], from: number, to: number): number => {
      const t = now();
      for (let i = from; i < to; i++) txn.immediate(requests[i] as TransferInput[]);
      return now() - t;
    },
    close: () => db.close(),
  };
};

interface Outcome {
  ours: number;
  raw: number;
  perBatch: number;
  ledger: LedgerService;
  store: EventStore;
}

/** `concurrency` callers submit requests side by side; 1 means one request per batch, awaited in turn. */
const measure = async (
  dir: string,
  label: string,
  total: number,
  size: number,
  concurrency: number,
): Promise<Outcome> => {
  const requests = workload(total, size, `${label}-`);
  const n = count(requests);
  const { store, ledger } = await openLedger(dir, `${label}.db`);
  const raw = rawWriter(dir, `${label}-raw.db`);
  let oursS = 0;
  let rawS = 0;
  let failed = 0;
  const before = { ...ledger.stats };
  for (const [from, to] of rounds(requests.length)) {
    gc();
    const t = now();
    let next = from;
    const worker = async (): Promise<void> => {
      for (let i = next++; i < to; i = next++) {
        for (const r of await ledger.submit(requests[i] as TransferInput[])) if (r.result !== 'ok') failed++;
      }
    };
    await Promise.all(Array.from({ length: concurrency }, worker));
    oursS += now() - t;
    gc();
    rawS += raw.run(requests, from, to);
  }
  raw.close();
  if (failed > 0) throw new Error(`${label}: ${failed} transfers were refused; the workload should all succeed`);
  const perBatch = Math.round((ledger.stats.transfers - before.transfers) / (ledger.stats.batches - before.batches));
  return { ours: rate(n, oursS), raw: rate(n, rawS), perBatch, ledger, store };
};

const main = async (): Promise<void> => {
  const dir = tempDir('cx-bench-billing-');
  console.log(`billing bench: ${TRANSFERS.toLocaleString()} transfers, temp dir ${dir.path}`);
  try {
    const rows: Array<[string, number, number, string]> = [];
    const metrics: Record<string, number | null> = {};

    const big = await measure(dir.path, 'big', TRANSFERS, BIG_BATCH, 1);
    metrics.transfers_per_s = big.ours;
    metrics.raw_transfers_per_s = big.raw;
    rows.push([`ledger, requests of ${BIG_BATCH}, one at a time`, big.ours, big.raw, 'raw: same rows, 1 txn/request']);

    // Rebuild: a restart replays the stream; its speed says how long a million-transfer ledger takes to come back.
    const totals = big.ledger.totals();
    const t = now();
    const reopened = await LedgerService.open({ store: big.store, clock: systemClock }, 'CNY');
    const rebuildS = now() - t;
    if (reopened.transferCount !== big.ledger.transferCount || reopened.totals().posted !== totals.posted) {
      throw new Error('rebuild disagrees with the ledger it rebuilt');
    }
    if (totals.posted !== 0n || totals.pending !== 0n) throw new Error('the ledger does not balance');
    metrics.rebuild_transfers_per_s = rate(reopened.transferCount, rebuildS);
    metrics.heap_mb_after_rebuild = Math.round(process.memoryUsage().heapUsed / 1e6);
    await big.store.close();

    gc();
    const grouped = await measure(dir.path, 'grouped', SMALL_TRANSFERS, SMALL_BATCH, 64);
    metrics.grouped_transfers_per_s = grouped.ours;
    metrics.grouped_raw_transfers_per_s = grouped.raw;
    metrics.grouped_transfers_per_batch = grouped.perBatch;
    rows.push([
      `ledger, requests of ${SMALL_BATCH}, 64 concurrent callers`,
      grouped.ours,
      grouped.raw,
      `raw: 1 txn/request of ${SMALL_BATCH} (ours grouped ${grouped.perBatch}/batch)`,
    ]);
    await grouped.store.close();

    gc();
    const small = await measure(dir.path, 'small', SMALL_TRANSFERS, SMALL_BATCH, 1);
    metrics.small_batch_transfers_per_s = small.ours;
    metrics.small_batch_raw_transfers_per_s = small.raw;
    rows.push([`ledger, requests of ${SMALL_BATCH}, one at a time`, small.ours, small.raw, 'raw: same rows, 1 txn']);
    await small.store.close();

    const fmt = (n: number): string => n.toLocaleString('en-US');
    console.log('');
    console.log(`${'measure'.padEnd(48)}${'ours tr/s'.padStart(12)}${'raw tr/s'.padStart(12)}${'ratio'.padStart(8)}`);
    for (const [name, ours, raw, why] of rows) {
      console.log(
        `${name.padEnd(48)}${fmt(ours).padStart(12)}${fmt(raw).padStart(12)}${(ours / raw).toFixed(2).padStart(8)}  ${why}`,
      );
    }
    console.log(
      `rebuild: ${fmt(metrics.rebuild_transfers_per_s)} transfers/s (${rebuildS.toFixed(1)} s for ${fmt(reopened.transferCount)})`,
    );
    console.log('');
    // Statement: the N-line account and the N/10 one, written, then each rendered in a process of its own.
    const tenth = Math.max(1, Math.floor(STATEMENT_LINES / 10));
    const renders: Array<{ n: number; writeS: number; r: ReturnType<typeof renderInChild> }> = [];
    for (const n of [tenth, STATEMENT_LINES]) {
      const file = join(dir.path, `statement-${n}.db`);
      const { seconds } = await writeStatement(file, n);
      renders.push({ n, writeS: seconds, r: renderInChild(file) });
    }
    console.log(
      `${'statement lines'.padStart(16)}${'write s'.padStart(9)}${'json s'.padStart(9)}${'json MB'.padStart(9)}` +
        `${'csv s'.padStart(9)}${'csv MB'.padStart(9)}${'base rss'.padStart(10)}${'peak rss'.padStart(10)}${'peak heap'.padStart(11)}`,
    );
    for (const { n, writeS, r } of renders) {
      console.log(
        `${fmt(n).padStart(16)}${writeS.toFixed(1).padStart(9)}${r.jsonS.toFixed(2).padStart(9)}` +
          `${(r.jsonBytes / 1e6).toFixed(0).padStart(9)}${r.csvS.toFixed(2).padStart(9)}${(r.csvBytes / 1e6).toFixed(0).padStart(9)}` +
          `${r.baseRssMb.toFixed(0).padStart(10)}${r.peakRssMb.toFixed(0).padStart(10)}${r.peakHeapMb.toFixed(0).padStart(11)}`,
      );
    }
    console.log('');
    const [tenthRun, full] = renders as [(typeof renders)[0], (typeof renders)[0]];
    // Named for the million lines; with --statement-lines they hold the figures for that N.
    metrics.statement_lines = STATEMENT_LINES;
    metrics.statement_1m_json_s = round2(full.r.jsonS);
    metrics.statement_1m_csv_s = round2(full.r.csvS);
    metrics.statement_1m_peak_mb = Math.round(full.r.peakRssMb);
    metrics.statement_tenth_peak_mb = Math.round(tenthRun.r.peakRssMb);
    metrics.statement_1m_peak_heap_mb = Math.round(full.r.peakHeapMb);
    metrics.statement_tenth_peak_heap_mb = Math.round(tenthRun.r.peakHeapMb);
    metrics.statement_1m_write_s = round2(full.writeS);
    const ratios = { ledger_vs_raw: Math.round((big.ours / big.raw) * 100) / 100 };
    console.log(JSON.stringify({ bench: 'billing', metrics, ratios }));
  } finally {
    dir.remove();
  }
};

const renderArg = process.argv.indexOf('--statement-render');
const entry =
  renderArg < 0
    ? main
    : async (): Promise<void> =>
        console.log(JSON.stringify(await renderStatement(process.argv[renderArg + 1] as string)));

entry().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
