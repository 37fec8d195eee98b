// Event-store benchmark: the SQLite adapter against raw better-sqlite3 doing the same work on the same kind of
// file (same pragmas, same schema), measured in the same run. `npm run bench -- event-store [--events N]
// [--concurrency C]`. Ends with one JSON line: events/s and ours ÷ raw ratios.
import Database from 'better-sqlite3';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { tempDir } from '@cx/testing';
import type { NewEvent } from '@cx/event-store';
import { SqliteEventStore } from '../../libs/event-store/src/sqlite/sqlite-event-store.adapter';
import { applyPragmas, migrate } from '../../libs/event-store/src/sqlite/sqlite-schema';

const argValue = (name: string, fallback: number): number => {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const n = Number(process.argv[i + 1]);
  if (!Number.isSafeInteger(n) || n <= 0) throw new Error(`--${name} needs a positive integer`);
  return n;
};

const EVENTS = argValue('events', 1_000_000);
const CONCURRENCY = argValue('concurrency', 500);
const SEQUENTIAL = Math.min(EVENTS, argValue('sequential', 5_000));
const BATCH = 100;
const HOT_STREAMS = 100;
const PRAGMAS = { busyTimeoutMs: 5_000, cacheSizeKiB: 64 * 1024 };

// A realistic event: about 230 bytes of data and 150 of metadata, the same for ours and the baseline.
const note = 'n'.repeat(120);
const correlationId = randomUUID();
const makeEvent = (i: number): NewEvent => ({
  type: 'OrderPlaced',
  data: {
    orderId: `ord-${i}`,
    account: `acc-${i % 997}`,
    side: i % 2 ? 'buy' : 'sell',
    price: '123.45',
    quantityLots: i % 50,
    note,
  },
  metadata: { correlationId, causationId: correlationId, actor: { keyId: 'key_bench', role: 'trader' } },
});

const gc = (): void => (globalThis as { gc?: () => void }).gc?.();
const now = (): number => Number(process.hrtime.bigint()) / 1e9;
const rate = (n: number, seconds: number): number => Math.round(n / seconds);

const dir = tempDir('cx-bench-es-');
const rawDb = (name: string): Database.Database => {
  const db = new Database(join(dir.path, name));
  applyPragmas(db, PRAGMAS);
  migrate(db);
  return db;
};

/**
 * Raw inserts, `perTxn` rows per transaction, with the same columns, id generation and JSON.stringify as the
 * adapter. Returns a function that writes events [from, to) and says how long it took, so that ours and raw can
 * run in alternating rounds: the disk's fsync latency drifts (other processes share it), and alternating keeps
 * that drift from favouring either side.
 */
const rawAppender = (db: Database.Database, perTxn: number, streamOf: (i: number) => string) => {
  const insert = db.prepare(
    'INSERT INTO events (stream, revision, event_id, type, data, metadata, created) VALUES (?, ?, ?, ?, ?, ?, ?)',
  );
  const revisions = new Map<string, number>();
  const txn = db.transaction((from: number, to: number) => {
    const created = Date.now();
    for (let i = from; i < to; i++) {
      const e = makeEvent(i);
      const stream = streamOf(i);
      const revision = (revisions.get(stream) ?? -1) + 1;
      revisions.set(stream, revision);
      insert.run(stream, revision, randomUUID(), e.type, JSON.stringify(e.data), JSON.stringify(e.metadata), created);
    }
  });
  return (from: number, to: number): number => {
    const t = now();
    // .immediate: BEGIN IMMEDIATE, as the adapter does.
    for (let i = from; i < to; i += perTxn) txn.immediate(i, Math.min(to, i + perTxn));
    return now() - t;
  };
};

const ROUNDS = 5;
/** [from, to) of each round. */
const rounds = (total: number): Array<[number, number]> =>
  Array.from({ length: ROUNDS }, (_, r) => [Math.floor((total * r) / ROUNDS), Math.floor((total * (r + 1)) / ROUNDS)]);

/**
 * A raw scan of the first `total` events, parsing data and metadata as any reader must. Pages of 1000 rows by
 * keyset on position with `.raw().all()`: the fastest plain better-sqlite3 reader we found (iterate() is slower).
 */
const rawScan = (db: Database.Database, total: number, parse: boolean): number => {
  const stmt = db
    .prepare(
      'SELECT position, stream, revision, event_id, type, data, metadata, created FROM events WHERE position > ? ORDER BY position LIMIT ?',
    )
    .raw(true);
  let sink = 0;
  let after = 0;
  let left = total;
  const t = now();
  while (left > 0) {
    const page = stmt.all(after, Math.min(1000, left)) as unknown[][];
    if (page.length === 0) break;
    for (const row of page) {
      if (parse) {
        const data = JSON.parse(row[5] as string) as { quantityLots: number };
        JSON.parse(row[6] as string);
        sink += data.quantityLots;
      } else sink += (row[5] as string).length;
    }
    after = Number((page[page.length - 1] as unknown[])[0]);
    left -= page.length;
  }
  const s = now() - t;
  if (sink < 0 || left !== 0) throw new Error(`raw scan read ${total - left} of ${total}`);
  return s;
};

const main = async (): Promise<void> => {
  console.log(
    `event-store bench: ${EVENTS.toLocaleString()} events, ${CONCURRENCY} concurrent batch-1 appenders, temp dir ${dir.path}`,
  );
  const rows: Array<[string, number, number | null, string]> = [];
  const metrics: Record<string, number> = {};

  // -------------------------------------------------- append, batches of 100, sequential (one transaction each)
  const store = SqliteEventStore.open(join(dir.path, 'ours.db'));
  gc();
  {
    const expected = new Array<bigint | 'no_stream'>(HOT_STREAMS).fill('no_stream');
    const raw = rawAppender(rawDb('raw-100.db'), BATCH, (i) => `hot-${Math.floor(i / BATCH) % HOT_STREAMS}`);
    let oursS = 0;
    let rawS = 0;
    for (const [from, to] of rounds(EVENTS)) {
      gc();
      const t = now();
      for (let i = from; i < to; i += BATCH) {
        const b = Math.floor(i / BATCH);
        const s = b % HOT_STREAMS;
        const events = Array.from({ length: Math.min(BATCH, to - i) }, (_, j) => makeEvent(i + j));
        const r = await store.appendToStream(`hot-${s}`, events, {
          expectedRevision: expected[s] as bigint | 'no_stream',
        });
        expected[s] = r.nextExpectedRevision;
      }
      oursS += now() - t;
      gc();
      rawS += raw(from, to);
    }
    const ours = rate(EVENTS, oursS);
    const rawRate = rate(EVENTS, rawS);
    metrics.append_batch_100_events_per_s = ours;
    metrics.append_batch_100_raw_events_per_s = rawRate;
    rows.push(['append, batches of 100 (1 txn each)', ours, rawRate, 'raw: 100 inserts per txn']);
  }

  // -------------------------------------------------- append, batches of 1, concurrent (group commit)
  gc();
  {
    // Ours first, alone, to learn how many appends a group commit carried; then ours and raw in alternating rounds.
    const workers = new Map<number, bigint | 'no_stream'>();
    const oursRound = async (from: number, to: number): Promise<number> => {
      let next = from;
      const worker = async (w: number): Promise<void> => {
        for (let i = next++; i < to; i = next++) {
          const r = await store.appendToStream(`cold-${w}`, makeEvent(i), {
            expectedRevision: workers.get(w) ?? 'no_stream',
          });
          workers.set(w, r.nextExpectedRevision);
        }
      };
      const t = now();
      await Promise.all(Array.from({ length: CONCURRENCY }, (_, w) => worker(w)));
      return now() - t;
    };
    const before = { ...store.stats };
    const plan = rounds(EVENTS);
    let oursS = await oursRound(...(plan[0] as [number, number]));
    const perCommit = Math.max(
      1,
      Math.round((store.stats.appends - before.appends) / (store.stats.commits - before.commits)),
    );
    const raw = rawAppender(rawDb('raw-1.db'), perCommit, (i) => `cold-${i % CONCURRENCY}`);
    let rawS = raw(...(plan[0] as [number, number]));
    for (const [from, to] of plan.slice(1)) {
      gc();
      oursS += await oursRound(from, to);
      gc();
      rawS += raw(from, to);
    }
    const ours = rate(EVENTS, oursS);
    const rawRate = rate(EVENTS, rawS);
    metrics.append_batch_1_events_per_s = ours;
    metrics.append_batch_1_raw_events_per_s = rawRate;
    metrics.append_batch_1_rows_per_group_commit = perCommit;
    rows.push([
      `append, batches of 1, ${CONCURRENCY} concurrent`,
      ours,
      rawRate,
      `raw: ${perCommit} rows per txn, as our group commits averaged`,
    ]);
  }

  // -------------------------------------------------- append, batches of 1, sequential awaited (no grouping possible)
  gc();
  {
    let expected: bigint | 'no_stream' = 'no_stream';
    const raw = rawAppender(rawDb('raw-1-single.db'), 1, () => 'single-1');
    let oursS = 0;
    let rawS = 0;
    for (const [from, to] of rounds(SEQUENTIAL)) {
      const t = now();
      for (let i = from; i < to; i++) {
        expected = (await store.appendToStream('sequential-1', makeEvent(i), { expectedRevision: expected }))
          .nextExpectedRevision;
      }
      oursS += now() - t;
      rawS += raw(from, to);
    }
    const ours = rate(SEQUENTIAL, oursS);
    const rawRate = rate(SEQUENTIAL, rawS);
    metrics.append_batch_1_sequential_events_per_s = ours;
    metrics.append_batch_1_raw_one_row_txn_events_per_s = rawRate;
    rows.push([
      'append, batches of 1, sequential awaited',
      ours,
      rawRate,
      `raw: one row per txn (${SEQUENTIAL.toLocaleString()} events)`,
    ]);
  }

  // -------------------------------------------------- readAll and catch-up subscription over the first N events
  const reader = new Database(join(dir.path, 'ours.db'));
  applyPragmas(reader, PRAGMAS);
  // Warm the OS page cache first, so neither side pays for the first read of the file.
  rawScan(reader, EVENTS, false);
  const oursRead = async (): Promise<number> => {
    let sink = 0;
    let n = 0;
    const t = now();
    for await (const e of store.readAll({ maxCount: EVENTS })) {
      sink += (e.data as { quantityLots: number }).quantityLots;
      n++;
    }
    const s = now() - t;
    if (sink < 0 || n !== EVENTS) throw new Error(`read ${n} events`);
    return s;
  };
  const oursSubscribe = async (): Promise<number> => {
    let sink = 0;
    let n = 0;
    const sub = store.subscribeToAll({ fromPosition: 'start' });
    const t = now();
    for await (const e of sub) {
      sink += (e.data as { quantityLots: number }).quantityLots;
      if (++n === EVENTS) break;
    }
    const s = now() - t;
    if (sink < 0) throw new Error('unreachable');
    return s;
  };
  // Reads are CPU-bound and the CPU is shared: the best of three alternating runs of each.
  const best = { read: Infinity, sub: Infinity, raw: Infinity, rawNoParse: Infinity };
  for (let rep = 0; rep < 3; rep++) {
    gc();
    best.read = Math.min(best.read, await oursRead());
    gc();
    best.raw = Math.min(best.raw, rawScan(reader, EVENTS, true));
    gc();
    best.sub = Math.min(best.sub, await oursSubscribe());
    gc();
    best.rawNoParse = Math.min(best.rawNoParse, rawScan(reader, EVENTS, false));
  }
  metrics.read_all_events_per_s = rate(EVENTS, best.read);
  metrics.read_all_raw_events_per_s = rate(EVENTS, best.raw);
  metrics.subscribe_events_per_s = rate(EVENTS, best.sub);
  metrics.subscribe_raw_events_per_s = rate(EVENTS, best.raw);
  metrics.raw_scan_without_json_parse_events_per_s = rate(EVENTS, best.rawNoParse);
  rows.push([
    'readAll forwards (best of 3)',
    metrics.read_all_events_per_s,
    metrics.read_all_raw_events_per_s,
    'raw: paged SELECT + JSON.parse of data and metadata',
  ]);
  rows.push([
    'subscribeToAll catch-up (best of 3)',
    metrics.subscribe_events_per_s,
    metrics.subscribe_raw_events_per_s,
    'raw: the same scan',
  ]);
  rows.push([
    '  raw scan without JSON.parse',
    metrics.raw_scan_without_json_parse_events_per_s,
    null,
    'for reference only',
  ]);
  reader.close();
  await store.close();
  dir.remove();

  const ratio = (a: string, b: string): number => Math.round(((metrics[a] ?? 0) / (metrics[b] ?? 1)) * 100) / 100;
  const ratios = {
    append_batch_1: ratio('append_batch_1_events_per_s', 'append_batch_1_raw_events_per_s'),
    append_batch_100: ratio('append_batch_100_events_per_s', 'append_batch_100_raw_events_per_s'),
    read_all: ratio('read_all_events_per_s', 'read_all_raw_events_per_s'),
    subscribe: ratio('subscribe_events_per_s', 'subscribe_raw_events_per_s'),
  };

  const fmt = (n: number | null): string => (n === null ? '' : n.toLocaleString('en-US'));
  console.log('');
  console.log(
    `${'measure'.padEnd(44)}${'ours ev/s'.padStart(12)}${'raw ev/s'.padStart(12)}${'ratio'.padStart(8)}  baseline`,
  );
  for (const [name, ours, raw, why] of rows) {
    const r = raw === null || name.startsWith('  ') ? '' : (ours / raw).toFixed(2);
    console.log(`${name.padEnd(44)}${fmt(ours).padStart(12)}${fmt(raw).padStart(12)}${r.padStart(8)}  ${why}`);
  }
  console.log('');
  console.log(
    'Same pragmas (WAL, synchronous=FULL) and schema on both sides; the raw side writes only the events table',
  );
  console.log(
    '(no streams row, no expected-revision check, no savepoint) and its id generation and JSON.stringify are timed too.',
  );
  console.log(JSON.stringify({ bench: 'event-store', metrics, ratios }));
};

main().catch((e: unknown) => {
  console.error(e);
  dir.remove();
  process.exit(1);
});
