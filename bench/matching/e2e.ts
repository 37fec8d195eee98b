// End-to-end matching benchmark: orders through the application layer (the engine HTTP uses), decided by the
// core and made durable in the store the exchange runs (SQLite, same pragmas as production: WAL, synchronous=FULL,
// wrapped in the audit hash chain as apps/exchange/src/main.ts wraps it). Many
// books run in parallel so group commit batches their appends; latency is measured from the command to its
// durable append (the engine resolves only then). The lead calls runE2e from bench/matching/main.ts.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ChainedEventStore } from '../../libs/audit/src';
import { SqliteEventStore } from '../../libs/event-store/src';
import { newId, systemClock } from '../../libs/shared-kernel/src';
import { MatchingEngine } from '../../services/matching/src/application/matching.engine';
import { instrumentId } from '../../services/matching/src/application/instruments';
import { matchingConfig } from '../../services/matching/src/config';

export interface E2eOptions {
  /** Orders placed in all (after a warm-up of a tenth as many). */
  orders?: number;
  /** Order books traded in parallel. */
  books?: number;
  /** Orders in flight at once (clients waiting for their answer). */
  concurrency?: number;
}

const percentile = (sorted: Float64Array, p: number): number =>
  sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? Number.NaN;

export const runE2e = async (opts: E2eOptions = {}): Promise<{ ordersPerS: number; p99Ms: number }> => {
  const orders = opts.orders ?? 200_000;
  const books = opts.books ?? 64;
  const concurrency = opts.concurrency ?? 4_096;
  const dir = mkdtempSync(join(tmpdir(), 'cx-bench-matching-'));
  const sqlite = SqliteEventStore.open(join(dir, 'cx.sqlite'));
  const store = new ChainedEventStore(sqlite);
  const config = matchingConfig({ maxGuidanceLagMs: 30 * 86_400_000 });
  const engine = new MatchingEngine({ store, clock: systemClock, config });
  try {
    await engine.start({ follow: false });
    const day = new Date(Date.now() + 2 * 86_400_000).toISOString().slice(0, 10);
    const ids = Array.from({ length: books }, (_, i) => instrumentId(`bench-class-${i}`, 'bench-region', day));
    await Promise.all(ids.map((id) => engine.openInstrument(id)));
    // No band: no floor, but matching still needs a fresh view of guidance.
    for (let i = 0; i < books; i++) engine.guidanceHeard(`bench-class-${i}`, Date.now());
    const meta = { correlationId: newId(), causationId: newId(), actor: { service: 'bench' } };

    // A deterministic mix: limit orders around 20.00 on both sides (about a third cross and trade), GTC.
    let seq = 0;
    const place = async (latencies: Float64Array | null, slot: number): Promise<void> => {
      const n = seq++;
      const book = ids[n % books]!;
      const buy = (n * 2654435761) % 2 === 0;
      const offset = ((n * 40503) % 21) - 10;
      const ticks = 2000 + (buy ? offset : -offset);
      const t0 = performance.now();
      await engine.placeOrder(
        {
          account: `acct-${n % 50}`,
          instrument: book,
          clientOrderId: `c-${n}`,
          side: buy ? 'buy' : 'sell',
          price: (ticks / 100).toFixed(2),
          quantityLots: 1 + (n % 5),
          timeInForce: 'GTC',
        },
        meta,
      );
      if (latencies) latencies[slot] = performance.now() - t0;
    };
    const drive = async (count: number, latencies: Float64Array | null): Promise<number> => {
      let next = 0;
      const t0 = performance.now();
      const worker = async () => {
        while (next < count) {
          const slot = next++;
          await place(latencies, slot);
        }
      };
      await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
      return performance.now() - t0;
    };
    await drive(Math.max(1, Math.floor(orders / 10)), null);
    const latencies = new Float64Array(orders);
    const commitsBefore = sqlite.stats.commits;
    const ms = await drive(orders, latencies);
    latencies.sort();
    const result = {
      ordersPerS: Math.round((orders / ms) * 1000),
      p99Ms: Number(percentile(latencies, 0.99).toFixed(2)),
    };
    process.stderr.write(
      `matching e2e: ${orders} orders on ${books} books, ${concurrency} in flight: ${result.ordersPerS} orders/s, ` +
        `p50 ${percentile(latencies, 0.5).toFixed(2)} ms, p99 ${result.p99Ms} ms, ` +
        `${sqlite.stats.commits - commitsBefore} group commits\n`,
    );
    return result;
  } finally {
    await engine.stop();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
};

if (require.main === module) {
  void runE2e().then((r) => process.stdout.write(`${JSON.stringify(r)}\n`));
}
