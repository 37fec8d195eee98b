// Audit benchmark: `cx audit verify` over a store of N chained events (default 5,000,000) against a raw read of
// the same events from the same store (SqliteEventStore.readAll, what verify itself must at least do), in the
// same run. `npm run bench -- audit [--events N] [--streams S]`. Ends with one JSON line.
//
// The store is generated with raw better-sqlite3 inserts of correctly chained rows (chainBatch computes the same
// cx.prevHash / cx.hash ChainedEventStore would), one transaction per 10,000 rows, because appending 5M events
// through the store's group commit would dominate the run; the rows are exactly what the decorator writes.
import Database from 'better-sqlite3';
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '@cx/testing';
import { SqliteEventStore } from '../../libs/event-store/src/sqlite/sqlite-event-store.adapter';
import { applyPragmas, migrate } from '../../libs/event-store/src/sqlite/sqlite-schema';
import { chainBatch, storeSource, verifySources } from '@cx/audit';

const argValue = (name: string, fallback: number): number => {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const n = Number(process.argv[i + 1]);
  if (!Number.isSafeInteger(n) || n <= 0) throw new Error(`--${name} needs a positive integer`);
  return n;
};

const EVENTS = argValue('events', 5_000_000);
const STREAMS = argValue('streams', 10_000);
const TXN = 10_000;

const now = (): number => Number(process.hrtime.bigint()) / 1e9;
const gc = (): void => (globalThis as { gc?: () => void }).gc?.();

// `--keep <file>`: generate the store there once and reuse it on later runs (generating 5M chained events takes
// minutes; the measured phases read it and never write). Without it, a temporary store per run.
const keepAt = process.argv.indexOf('--keep');
const kept = keepAt >= 0 ? process.argv[keepAt + 1] : undefined;
const dir = tempDir('cx-bench-audit-');
const file = kept ?? join(dir.path, 'audit.sqlite');

const generate = (): void => {
  const db = new Database(file);
  applyPragmas(db, { busyTimeoutMs: 5_000, cacheSizeKiB: 64 * 1024 });
  db.pragma('synchronous = OFF');
  migrate(db);
  const insert = db.prepare(
    'INSERT INTO events (stream, revision, event_id, type, data, metadata, created) VALUES (?, ?, ?, ?, ?, ?, ?)',
  );
  const upsert = db.prepare('INSERT OR REPLACE INTO streams (name, last_revision) VALUES (?, ?)');
  const heads: Array<{ revision: bigint; hash: string | null }> = Array.from({ length: STREAMS }, () => ({
    revision: -1n,
    hash: null,
  }));
  const correlationId = randomUUID();
  const note = 'n'.repeat(100);
  const created = Date.now();
  const txn = db.transaction((from: number, to: number) => {
    for (let i = from; i < to; i++) {
      const s = i % STREAMS;
      const head = heads[s] as { revision: bigint; hash: string | null };
      const stream = `orderbook-${s}`;
      const event = {
        id: randomUUID(),
        type: 'OrderPlaced',
        data: {
          orderId: `ord-${i}`,
          account: `acc-${i % 997}`,
          side: i % 2 ? 'buy' : 'sell',
          price: '123.45',
          lots: i % 50,
          note,
        },
        metadata: { correlationId, causationId: correlationId, actor: { keyId: 'key_bench', role: 'trader' } },
      };
      const { events, lastHash } = chainBatch(stream, head.revision + 1n, head.hash, [event]);
      const e = events[0] as (typeof events)[0];
      head.revision++;
      head.hash = lastHash;
      insert.run(stream, head.revision, e.id, e.type, JSON.stringify(e.data), JSON.stringify(e.metadata), created);
    }
  });
  for (let i = 0; i < EVENTS; i += TXN) txn(i, Math.min(EVENTS, i + TXN));
  db.transaction(() => heads.forEach((h, s) => h.revision >= 0n && upsert.run(`orderbook-${s}`, h.revision)))();
  db.close();
};

/** Wall and CPU seconds (user + system of this process): on a shared machine the CPU time is the steadier figure. */
const peakWhile = async <T>(
  body: () => Promise<T>,
): Promise<{ value: T; peakMb: number; seconds: number; cpuSeconds: number }> => {
  gc();
  let peak = process.memoryUsage().rss;
  const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 50);
  const t = now();
  const cpu = process.cpuUsage();
  try {
    const value = await body();
    peak = Math.max(peak, process.memoryUsage().rss);
    const used = process.cpuUsage(cpu);
    return {
      value,
      peakMb: Math.round(peak / 1024 / 1024),
      seconds: now() - t,
      cpuSeconds: (used.user + used.system) / 1e6,
    };
  } finally {
    clearInterval(timer);
  }
};

const main = async (): Promise<void> => {
  let t = now();
  if (kept !== undefined && existsSync(kept)) {
    console.log(`reusing the store at ${kept}`);
  } else {
    generate();
    console.log(
      `generated ${EVENTS.toLocaleString('en')} chained events in ${STREAMS} streams in ${(now() - t).toFixed(1)} s`,
    );
  }
  const store = SqliteEventStore.open(file);
  try {
    t = now();
    // Raw side: every event through the store's own $all read (SqliteEventStore.readAll: paged SELECTs, each row's
    // data and metadata JSON.parse'd into a RecordedEvent), counted and dropped; the least verify must do.
    // Verify side: the same readAll over the same store, each event then through the chain checker (prev-hash
    // links, revisions), the checkpoint checker and every business rule, while a worker thread reads the same rows
    // again and hashes every event (sha256 of its canonical text) against its cx.hash, as `cx audit verify` does
    // for a SQLite store (the second core). Its CPU time counts both threads.
    const raw = await peakWhile(async () => {
      let n = 0;
      for await (const _ of store.readAll()) n++;
      return n;
    });
    const rawRate = Math.round(raw.value / raw.seconds);
    console.log(`raw read (SqliteEventStore.readAll): ${rawRate.toLocaleString('en')} events/s, peak ${raw.peakMb} MB`);
    const verified = await peakWhile(() => verifySources([storeSource(file, store)]));
    if (!verified.value.clean || verified.value.eventsChecked !== EVENTS) {
      throw new Error(
        `verify did not come out clean over ${EVENTS} events: ${JSON.stringify(verified.value.violations.slice(0, 3))}`,
      );
    }
    const verifyRate = Math.round(EVENTS / verified.seconds);
    console.log(`verify: ${verifyRate.toLocaleString('en')} events/s, peak ${verified.peakMb} MB`);
    const ratio = verifyRate / rawRate;
    // The same ratio by CPU time: what each side costs, whatever else the machine runs.
    const cpuRatio = raw.cpuSeconds / verified.cpuSeconds;
    console.log(
      `verify ÷ raw read: ${ratio.toFixed(2)} (goal ≥ 0.5; goal ≥ 200,000 events/s); by CPU time ${cpuRatio.toFixed(2)}`,
    );
    console.log(
      JSON.stringify({
        bench: 'audit',
        events: EVENTS,
        streams: STREAMS,
        ratios: { verify_vs_raw_read: Number(ratio.toFixed(3)) },
        metrics: {
          verify_events_per_s: verifyRate,
          raw_read_events_per_s: rawRate,
          peak_mb: verified.peakMb,
          verify_vs_raw_read_cpu: Number(cpuRatio.toFixed(3)),
          verify_cpu_events_per_s: Math.round(EVENTS / verified.cpuSeconds),
        },
      }),
    );
  } finally {
    await store.close();
    dir.remove();
  }
};

void main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
