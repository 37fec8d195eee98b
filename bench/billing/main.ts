// Billing benchmark: the settlement ledger's transfers/s through its application layer (decide, one durable append
// per batch, evolve) against raw better-sqlite3 inserts of the same transfer rows, one transaction per batch, same
// pragmas (WAL, synchronous=FULL), measured in the same run in alternating rounds.
// `npm run bench -- billing [--transfers N]`. Ends with one JSON line.
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { tempDir } from '@cx/testing';
import { systemClock } from '@cx/shared-kernel';
import { SqliteEventStore } from '../../libs/event-store/src/sqlite/sqlite-event-store.adapter';
import { applyPragmas } from '../../libs/event-store/src/sqlite/sqlite-schema';
import { LedgerService } from '../../services/billing/src/application/ledger.service';
import type { TransferInput } from '../../services/billing/src/domain/ledger/ledger.decider';

const argValue = (name: string, fallback: number): number => {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const n = Number(process.argv[i + 1]);
  if (!Number.isSafeInteger(n) || n <= 0) throw new Error(`--${name} needs a positive integer`);
  return n;
};

const TRANSFERS = argValue('transfers', 1_000_000);
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

const openLedger = async (dir: string, name: string): Promise<{ store: SqliteEventStore; ledger: LedgerService }> => {
  const store = SqliteEventStore.open(join(dir, name));
  const ledger = await LedgerService.open({ store, clock: systemClock }, 'CNY');
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
  store: SqliteEventStore;
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
    metrics.statement_1m_json_s = null;
    metrics.statement_1m_csv_s = null;
    metrics.statement_1m_peak_mb = null;
    const ratios = { ledger_vs_raw: Math.round((big.ours / big.raw) * 100) / 100 };
    console.log(JSON.stringify({ bench: 'billing', metrics, ratios }));
  } finally {
    dir.remove();
  }
};

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
