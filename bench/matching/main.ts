// Matching-core benchmark: our order book decider (decide + evolve, decimal strings in and out) against the npm
// package nodejs-order-book fed the same command sequence in the same run. `npm run bench -- matching
// [--events N] [--rounds R]`. The mix is 70% limit orders near the touch, 20% cancels, 10% aggressive IOC orders.
// Then end to end with durable events (bench/matching/e2e.ts: the application layer over embedded SQLite,
// `--e2e-orders N`, 0 to skip). Ends with one JSON line.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { OrderBook as NobBook, Side as NobSide } from 'nodejs-order-book';
import {
  type BookCommand,
  type CommandMetadata,
  decide,
  evolve,
  initialBook,
} from '../../services/matching/src/domain/order-book/order-book.decider';
import type { Book } from '../../services/matching/src/domain/order-book/order-book.state';
import { runE2e } from './e2e';

const argValue = (name: string, fallback: number): number => {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const n = Number(process.argv[i + 1]);
  if (!Number.isSafeInteger(n) || n <= 0) throw new Error(`--${name} needs a positive integer`);
  return n;
};

const EVENTS = argValue('events', 1_000_000);
const ROUNDS = argValue('rounds', 3);
const TICK = 0.001;
const TICK_SIZE = '0.001';
const INSTRUMENT = 'nvidia-a100-sxm-40g.us-east-1.2026-03-10';

// The reference price: the median AWS spot price of a p4d.24xlarge (8×A100, Linux) per GPU-hour on 2022-05-31
// (/work/shared/data/aws-spot-gpu-2022-05-31), so prices have a realistic magnitude; 4.000 when the file is absent.
const referenceTicks = ((): number => {
  try {
    const tsv = readFileSync(join('/work/shared/data/aws-spot-gpu-2022-05-31', 'spot_price_changes_gpu.tsv'), 'utf8');
    const prices = tsv
      .split('\n')
      .map((l) => l.split('\t'))
      .filter((c) => c[1] === 'p4d.24xlarge' && c[2] === 'Linux/UNIX')
      .map((c) => Number(c[3]) / 8)
      .sort((a, b) => a - b);
    const median = prices[prices.length >> 1];
    if (median !== undefined && median > 0) return Math.round(median / TICK);
  } catch {
    // Synthetic reference below.
  }
  return 4000;
})();

// mulberry32: a tiny seeded PRNG, so every run (and both engines) sees the same sequence.
const prng = (seed: number) => () => {
  seed = (seed + 0x6d2b79f5) | 0;
  let t = seed;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
};

type Op =
  | {
      kind: 'limit';
      id: string;
      account: string;
      buy: boolean;
      ticks: number;
      price: string;
      lots: number;
      ioc: boolean;
    }
  | { kind: 'cancel'; id: string; account: string };

const T0 = Date.parse('2026-03-09T08:00:00Z');
const meta: CommandMetadata = { now: T0, guidanceSeenAt: T0 };

const toCommand = (op: Op): BookCommand =>
  op.kind === 'limit'
    ? {
        type: 'PlaceOrder',
        data: {
          orderId: op.id,
          clientOrderId: op.id,
          account: op.account,
          instrument: INSTRUMENT,
          side: op.buy ? 'buy' : 'sell',
          price: op.price,
          quantityLots: op.lots,
          timeInForce: op.ioc ? 'IOC' : 'GTC',
        },
        metadata: meta,
      }
    : { type: 'CancelOrder', data: { orderId: op.id, account: op.account, instrument: INSTRUMENT }, metadata: meta };

const openCoreBook = (): Book => {
  const book = initialBook();
  const setup: BookCommand[] = [
    {
      type: 'OpenBook',
      data: {
        instrument: INSTRUMENT,
        tickSize: TICK_SIZE,
        lotSize: '1',
        tradingEndsAt: null,
        maxGuidanceLagMs: 60_000,
      },
      metadata: meta,
    },
    // A band in force, so every order and trade goes through the floor and ceiling checks as in production.
    {
      type: 'ApplyBand',
      data: {
        guidanceVersion: 'gv-1',
        floor: '0.5',
        ceiling: '100',
        effectiveFrom: '2026-03-09T00:00:00Z',
        effectiveTo: null,
      },
      metadata: meta,
    },
  ];
  for (const c of setup) for (const e of decide(c, book)) evolve(book, e);
  return book;
};

// The generator keeps a book of its own (our core, outside any timing) only to know which quotes still rest, so
// that cancels name live orders, as in a real market, and the book's depth stays steady over the run.
const generate = (n: number): Op[] => {
  const rnd = prng(42);
  const sim = openCoreBook();
  const apply = (op: Op): void => {
    for (const e of decide(toCommand(op), sim)) evolve(sim, e);
  };
  const ops: Op[] = [];
  const placed: { id: string; account: string }[] = [];
  let next = 0;
  const skipFilled = (): number => {
    while (next < placed.length && !sim.orders.has((placed[next] as { id: string }).id)) next++;
    return next;
  };
  let mid = referenceTicks;
  const priceStr = (ticks: number): string => (ticks * TICK).toFixed(3);
  for (let i = 0; i < n; i++) {
    // The mid drifts a tick now and then, so the touch moves and levels appear and vanish as in a real market;
    // it reverts towards the reference, so the book keeps a steady depth instead of stranding orders.
    if (rnd() < 0.02) mid += rnd() < 0.5 + (referenceTicks - mid) * 0.05 ? 1 : -1;
    const r = rnd();
    const account = `acc-${Math.floor(rnd() * 1000)}`;
    const buy = rnd() < 0.5;
    const lots = 1 + Math.floor(rnd() * 10);
    if (r < 0.7) {
      // Passive, near the touch: 1 to 20 ticks away from the mid on the order's own side, most within a few.
      const away = 1 + Math.floor(rnd() * rnd() * 20);
      const ticks = buy ? mid - away : mid + away;
      const id = `o${i}`;
      ops.push({ kind: 'limit', id, account, buy, ticks, price: priceStr(ticks), lots, ioc: false });
      placed.push({ id, account });
    } else if (r < 0.9 && skipFilled() < placed.length) {
      // Cancel the oldest quote still resting, as market makers refresh stale quotes.
      const p = placed[next++] as { id: string; account: string };
      ops.push({ kind: 'cancel', id: p.id, account: p.account });
    } else {
      // Aggressive: through the touch by up to 5 ticks, IOC, several times a quote's size.
      const ticks = buy ? mid + 1 + Math.floor(rnd() * 5) : mid - 1 - Math.floor(rnd() * 5);
      ops.push({ kind: 'limit', id: `o${i}`, account, buy, ticks, price: priceStr(ticks), lots: lots * 8, ioc: true });
    }
    apply(ops[ops.length - 1] as Op);
  }
  return ops;
};

const gc = (): void => (globalThis as { gc?: () => void }).gc?.();
const seconds = (): number => Number(process.hrtime.bigint()) / 1e9;

const runCore = (cmds: BookCommand[]): { s: number; trades: number } => {
  const book = openCoreBook();
  let trades = 0;
  const t0 = seconds();
  for (let i = 0; i < cmds.length; i++) {
    const events = decide(cmds[i] as BookCommand, book);
    for (let j = 0; j < events.length; j++) {
      const e = events[j]!;
      if (e.type === 'TradeExecuted') trades++;
      evolve(book, e);
    }
  }
  if (process.env.BENCH_DEBUG)
    console.log(`resting ${book.orders.size}, levels ${book.bids.levels.length}/${book.asks.levels.length}`);
  return { s: seconds() - t0, trades };
};

const runNob = (ops: Op[]): { s: number; trades: number } => {
  const ob = new NobBook();
  // The package works in JS numbers; it gets prices as numbers, built outside the timed loop like our strings.
  const prices = ops.map((op) => (op.kind === 'limit' ? op.ticks * TICK : 0));
  let trades = 0;
  const t0 = seconds();
  for (let i = 0; i < ops.length; i++) {
    const op = ops[i] as Op;
    if (op.kind === 'limit') {
      const r = ob.limit({
        id: op.id,
        side: op.buy ? NobSide.BUY : NobSide.SELL,
        size: op.lots,
        price: prices[i] as number,
        timeInForce: (op.ioc ? 'IOC' : 'GTC') as never,
      });
      trades += r.done.length + (r.partial ? 1 : 0);
    } else {
      ob.cancel(op.id);
    }
  }
  return { s: seconds() - t0, trades };
};

const ops = generate(EVENTS);
const cmds = ops.map(toCommand);
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1] as number;

// Warm-up on a slice, so both engines are measured after the JIT settles.
runCore(cmds.slice(0, Math.min(50_000, cmds.length)));
runNob(ops.slice(0, Math.min(50_000, ops.length)));

const core: number[] = [];
const nob: number[] = [];
console.log(`matching bench: ${EVENTS} commands, reference ${(referenceTicks * TICK).toFixed(3)}, ${ROUNDS} rounds`);
console.log('round  engine              orders/s   fills (each engine counts its own way)');
for (let r = 0; r < ROUNDS; r++) {
  // Alternate which engine goes first, so neither always runs on a warmer or colder heap.
  const order = r % 2 === 0 ? ['core', 'nob'] : ['nob', 'core'];
  for (const which of order) {
    gc();
    const res = which === 'core' ? runCore(cmds) : runNob(ops);
    const rate = Math.round(EVENTS / res.s);
    (which === 'core' ? core : nob).push(rate);
    const label = which === 'core' ? 'cx core' : 'nodejs-order-book';
    console.log(
      `${String(r + 1).padEnd(7)}${label.padEnd(20)}${String(rate).padStart(10)}  ${String(res.trades).padStart(10)}`,
    );
  }
}
const coreRate = median(core);
const nobRate = median(nob);
const E2E_ORDERS = process.argv.includes('--e2e-orders')
  ? Number(process.argv[process.argv.indexOf('--e2e-orders') + 1])
  : 200_000;
const main = async (): Promise<void> => {
  let e2e: { ordersPerS: number; p99Ms: number } | null = null;
  if (E2E_ORDERS > 0) {
    e2e = await runE2e({ orders: E2E_ORDERS });
    console.log(`end to end (durable, embedded SQLite): ${e2e.ordersPerS} orders/s, p99 ${e2e.p99Ms} ms`);
  }
  console.log(
    JSON.stringify({
      bench: 'matching',
      metrics: {
        core_orders_per_s: coreRate,
        nodejs_order_book_orders_per_s: nobRate,
        e2e_orders_per_s: e2e?.ordersPerS ?? null,
        e2e_p99_ms: e2e?.p99Ms ?? null,
      },
      ratios: { core_vs_nodejs_order_book: Math.round((coreRate / nobRate) * 100) / 100 },
    }),
  );
};
main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
