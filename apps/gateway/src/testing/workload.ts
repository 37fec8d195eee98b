import { Dec } from '@cx/shared-kernel';
import { type HttpReply, waitFor } from '@cx/testing';
import { auditEvents, callPatiently, type RetryStats } from './client';
import {
  countEvents,
  createAccountsAndKeys,
  readStatements,
  type StoryResult,
  type StoryTarget,
  type UsageEvent,
  waitForEvents,
  waitForFreshMatching,
} from './story';

// A deterministic market workload for the faults test: orders on four books (a book's trade ids, and so its
// allocation ids, depend only on the order its orders arrive in), then usage against the allocations over HTTP
// and over Kafka (with duplicates), then the day's close and the statements. The same input through a cluster
// being killed and restarted and through an undisturbed exchange must give the same statements.
//
// Each book's orders go one at a time, each until a definite answer: that keeps the book's sequence the input's
// sequence. A retry of a write carries the same Idempotency-Key and client ids; an order refused because
// matching had no fresh guidance after a restart (MATCHING.GUIDANCE_STALE, "try again shortly") is placed again
// under a new client order id, as an integrator would.

export const WORKLOAD_T0 = '2026-03-10T08:00:00.000Z';
export const WORKLOAD_DAY = '2026-03-11';
/**
 * One resource class in four regions: four books. Each book gets its orders one at a time, in input order, and
 * the four go concurrently (a book's trade ids depend only on its own sequence).
 */
const BOOKS = ['cn-east-1', 'cn-north-1', 'cn-south-1', 'cn-west-1'].map(
  (region) => `nvidia-h100-sxm-80g.${region}.${WORKLOAD_DAY}`,
);
export const WORKLOAD_ACCOUNTS = ['prov-1', 'prov-2', 'buy-1', 'buy-2'] as const;
/** At most this many allocations receive usage (each gets under an hour of seconds, never more than allocated). */
const USAGE_SUBJECTS = 50;
const BATCH = 50;

export interface WorkloadSizes {
  orders: number;
  usage: number;
}

export interface WorkloadHooks {
  /**
   * Called after each definite answer, and awaited: a fault injector holds the load here until its next fault
   * has struck, so every fault lands mid-load at any scale.
   */
  progress?: (phase: 'orders' | 'usage', done: number, total: number) => Promise<void> | void;
  /** Runs beside the day's close request (a fault injector kills billing while it settles). */
  duringClose?: () => Promise<void>;
}

export interface WorkloadResult extends StoryResult {
  trades: number;
  usageEvents: number;
  /** Per allocation, the seconds sent (distinct events only). */
  usageSent: Record<string, string>;
  retries: number;
  staleRetries: number;
  /** How the close answered: at once, resumed after a crash, or "already closed" (the answer was lost). */
  closeAnswer: string;
  /** The settlements the close reported (null when its answer was lost: "already closed"). */
  closeSettlements: number | null;
}

/** mulberry32: a small seeded generator, so both runs draw the same orders. */
const random = (seed: number) => () => {
  seed = (seed + 0x6d2b79f5) | 0;
  let t = seed;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
};

interface OrderInput {
  account: string;
  side: 'buy' | 'sell';
  price: string;
  quantityLots: number;
}

export const workloadOrders = (n: number): OrderInput[] => {
  const rnd = random(20260310);
  return Array.from({ length: n }, () => {
    const sell = rnd() < 0.5;
    const who = rnd() < 0.5 ? '1' : '2';
    // Asks 19.90–20.10 and bids 19.95–20.15: most cross, some rest.
    const cents = (sell ? 1990 : 1995) + Math.floor(rnd() * 21);
    return {
      account: sell ? `prov-${who}` : `buy-${who}`,
      side: sell ? 'sell' : 'buy',
      price: (cents / 100).toFixed(2),
      quantityLots: 1 + Math.floor(rnd() * 3),
    };
  });
};

interface Allocation {
  allocationId: string;
  instrument: string;
  providerAccount: string;
  buyerAccount: string;
  quantity: string;
  price: string;
}

const allocationSeq = (id: string): number => Number(id.slice(id.lastIndexOf('-') + 1));
/** Allocations in a fixed order: by book, then by the book's trade sequence. */
const byBookAndSeq = (a: Allocation, b: Allocation): number =>
  BOOKS.indexOf(a.instrument) - BOOKS.indexOf(b.instrument) ||
  allocationSeq(a.allocationId) - allocationSeq(b.allocationId);

export const runWorkload = async (
  t: StoryTarget,
  sizes: WorkloadSizes,
  hooks: WorkloadHooks = {},
): Promise<WorkloadResult> => {
  const stats: RetryStats = { retries: 0 };
  const call = (method: string, path: string, key: string, body?: unknown, idem?: string): Promise<HttpReply> =>
    callPatiently(t.url, method, path, key, body, { stats, ...(idem === undefined ? {} : { idempotencyKey: idem }) });
  await t.setClock(WORKLOAD_T0);
  const keys = await createAccountsAndKeys(
    t,
    [
      { accountId: 'prov-1', kind: 'provider' },
      { accountId: 'prov-2', kind: 'provider' },
      { accountId: 'buy-1', kind: 'buyer', creditLine: '100000.00' },
      { accountId: 'buy-2', kind: 'buyer', creditLine: '100000.00' },
    ],
    [
      ...WORKLOAD_ACCOUNTS.map((a) => ({ name: `trader-${a}`, role: 'trader', accounts: [a] })),
      { name: 'usage-prov-1', role: 'integrator', accounts: ['prov-1'] },
      { name: 'usage-prov-2', role: 'integrator', accounts: ['prov-2'] },
      { name: 'auditor', role: 'auditor', accounts: [] },
    ],
  );
  const k = (name: string): string => keys[name] as string;
  for (const account of ['buy-1', 'buy-2']) {
    const dep = { transferId: `dep-${account}`, account, amount: '10000000.00', currency: 'CNY' };
    expect((await call('POST', '/v1/ledger/deposits', t.admin, dep, `dep-${account}`)).status).toBe(201);
  }
  await waitFor(
    async () =>
      (
        (await call('GET', '/v1/instruments?limit=500', k('auditor'))).body as {
          items: Array<{ instrumentId: string }>;
        }
      ).items.filter((i) => BOOKS.includes(i.instrumentId)).length === BOOKS.length,
    { timeoutMs: 60_000, intervalMs: 200, what: `matching to list ${BOOKS.join(', ')}` },
  );
  await waitForFreshMatching(t, k('trader-buy-1'), 'buy-1', 'start');

  // Orders: one at a time per book, the books concurrently.
  const orders = workloadOrders(sizes.orders);
  let staleRetries = 0;
  let placed = 0;
  const placeOrder = async (i: number, o: OrderInput): Promise<void> => {
    for (let attempt = 0; ; attempt++) {
      const id = attempt === 0 ? `o-${i}` : `o-${i}-r${attempt}`;
      const body = { instrument: BOOKS[i % BOOKS.length], timeInForce: 'GTC', clientOrderId: id, ...o };
      const res = await call('POST', '/v1/orders', k(`trader-${o.account}`), body, id);
      if (res.status === 422 && (res.body as { code?: string }).code === 'MATCHING.GUIDANCE_STALE') {
        staleRetries += 1;
        await new Promise((r) => setTimeout(r, 200));
        continue;
      }
      if (res.status !== 201 && res.status !== 200) {
        throw new Error(`order ${i}: ${res.status} ${JSON.stringify(res.body)}`);
      }
      break;
    }
    placed += 1;
    await hooks.progress?.('orders', placed, orders.length);
  };
  await Promise.all(
    BOOKS.map(async (_, b) => {
      for (let i = b; i < orders.length; i += BOOKS.length) await placeOrder(i, orders[i]!);
    }),
  );

  // Every order of the input was accepted on the book exactly once (retries and lost answers included).
  const accepted = (await auditEvents(t.storeUrl('matching'), t.admin, 'OrderAccepted'))
    .map((e) => e.data as { instrument: string; clientOrderId: string })
    .filter((d) => BOOKS.includes(d.instrument))
    .map((d) => Number(/^o-(\d+)(-r\d+)?$/.exec(d.clientOrderId)?.[1] ?? -1));
  expect(accepted.length).toBe(orders.length);
  expect(new Set(accepted).size).toBe(orders.length);
  expect(Math.min(...accepted)).toBe(0);
  expect(Math.max(...accepted)).toBe(orders.length - 1);

  // The allocations, as matching recorded them; every one reaches metering (tenancy) and billing (holds).
  const allocations = (await auditEvents(t.storeUrl('matching'), t.admin, 'AllocationCreated'))
    .map((e) => e.data as unknown as Allocation)
    .sort(byBookAndSeq);
  for (const book of BOOKS) {
    // Trade sequences without a gap or a repeat, per book.
    const seqs = allocations.filter((a) => a.instrument === book).map((a) => allocationSeq(a.allocationId));
    expect({ book, seqs }).toEqual({ book, seqs: seqs.map((_, n) => n + 1) });
  }
  expect(allocations.length).toBeGreaterThan(0);
  let listed = 0;
  for (const buyer of ['buy-1', 'buy-2']) {
    let cursor: string | null = null;
    do {
      const page: HttpReply = await call(
        'GET',
        `/v1/allocations?account=${buyer}&limit=500${cursor ? `&cursor=${cursor}` : ''}`,
        k(`trader-${buyer}`),
      );
      expect(page.status).toBe(200);
      listed += (page.body.items as unknown[]).length;
      cursor = page.body.nextCursor as string | null;
    } while (cursor);
  }
  expect(listed).toBe(allocations.length);
  await waitForEvents(t, 'metering', 'AllocationHeard', allocations.length, 180_000);
  await waitForEvents(t, 'billing', 'AllocationRegistered', allocations.length, 180_000);
  // Billing holds each trade's notional on the buyer's cash, exactly once.
  for (const buyer of ['buy-1', 'buy-2']) {
    const notional = allocations
      .filter((a) => a.buyerAccount === buyer)
      .reduce((s, a) => s.plus(new Dec(a.quantity).times(a.price)), new Dec(0))
      .toFixed(2);
    await waitFor(
      async () =>
        (await call('GET', `/v1/ledger/accounts/${buyer}`, k('auditor'))).body.balances?.held?.pending === notional,
      { timeoutMs: 180_000, intervalMs: 250, what: `${buyer}'s holds of ${notional}` },
    );
  }

  // Usage on the delivery day: distinct events, a fifth of the batches over Kafka, some sent twice.
  await t.setClock(`${WORKLOAD_DAY}T20:00:00.000Z`);
  const subjects = allocations.slice(0, USAGE_SUBJECTS);
  const sent = new Map<string, Dec>();
  const events: Array<{ event: UsageEvent; provider: string }> = Array.from({ length: sizes.usage }, (_, i) => {
    const a = subjects[i % subjects.length]!;
    // Quarter-seconds up to one second: at most 2,000 per allocation at full size, under the hour allocated.
    const quantity = (((i % 4) + 1) / 4).toString();
    sent.set(a.allocationId, (sent.get(a.allocationId) ?? new Dec(0)).plus(quantity));
    const minute = Math.floor(i / subjects.length) % 1_200;
    return {
      provider: a.providerAccount,
      event: {
        specversion: '1.0',
        id: `u-${i}`,
        source: `//${a.providerAccount}/agent-${i % 3}`,
        type: 'com.cx.usage.v1',
        subject: a.allocationId,
        time: new Date(Date.parse(`${WORKLOAD_DAY}T00:00:00Z`) + minute * 60_000).toISOString(),
        data: { meter: 'accelerator_seconds', quantity },
      },
    };
  });
  const batches: Array<{ provider: string; events: UsageEvent[] }> = [];
  for (const provider of ['prov-1', 'prov-2']) {
    const mine = events.filter((e) => e.provider === provider).map((e) => e.event);
    for (let n = 0; n < mine.length; n += BATCH) batches.push({ provider, events: mine.slice(n, n + BATCH) });
  }
  let done = 0;
  for (const [n, b] of batches.entries()) {
    if (t.produceUsage && n % 5 === 4) {
      // Over Kafka, and the whole batch again (an integrator that did not see its acknowledgement).
      await t.produceUsage(b.events, b.provider);
      await t.produceUsage(b.events, b.provider);
    } else {
      const res = await call('POST', '/v1/usage', k(`usage-${b.provider}`), b.events, `usage-${n}`);
      expect({ n, ok: res.status >= 200 && res.status < 300, rejected: res.body.rejected ?? 0 }).toEqual({
        n,
        ok: true,
        rejected: 0,
      });
      if (n % 7 === 3) {
        // The same events under a new key: every one a duplicate.
        const again = await call('POST', '/v1/usage', k(`usage-${b.provider}`), b.events, `usage-${n}-again`);
        expect(again.body).toMatchObject({ accepted: 0, duplicates: b.events.length });
      }
    }
    done += b.events.length;
    await hooks.progress?.('usage', done, events.length);
  }

  // Nothing lost, nothing twice: metering recorded every distinct event once, billing heard each once.
  await waitForEvents(t, 'metering', 'UsageRecorded', events.length, 300_000);
  await waitForEvents(t, 'billing', 'DeliveryReadingRecorded', events.length, 300_000);
  expect(await countEvents(t, 'metering', 'UsageRecorded')).toBe(events.length);
  expect(await countEvents(t, 'billing', 'DeliveryReadingRecorded')).toBe(events.length);
  const usageSent: Record<string, string> = {};
  for (const [id, total] of sent) {
    usageSent[id] = total.toFixed();
    const q = `subject=${id}&meter=accelerator_seconds&from=${WORKLOAD_DAY}T00:00:00Z&to=2026-03-12T00:00:00Z&window=day`;
    const res = await call('GET', `/v1/usage/aggregate?${q}`, k('auditor'));
    const got = (res.body.windows as Array<{ value: string }>).reduce((s, w) => s.plus(w.value), new Dec(0));
    expect({ id, seconds: got.toFixed() }).toEqual({ id, seconds: usageSent[id] });
  }

  // The day closes (retried under one Idempotency-Key: a close is resumable), and the statements.
  let closeAnswer = '';
  let closeSettlements: number | null = null;
  await t.setClock('2026-03-12T00:00:01.000Z');
  const closing = call('POST', `/v1/periods/${WORKLOAD_DAY}/close`, t.admin, undefined, 'close-day');
  const [closed] = await Promise.all([closing, hooks.duringClose?.()]);
  if (closed.status === 409) {
    // The first attempt finished the close but its answer was lost with the process: the close is done.
    expect(closed.body).toMatchObject({ code: 'BILLING.PERIOD_ALREADY_CLOSED' });
  } else {
    expect(closed.status).toBe(201);
    expect(closed.body).toMatchObject({ period: WORKLOAD_DAY });
    // Every allocation delivered that day is one of the close's settlements; the caller asserts it (after the
    // other checks, so that a wrong count does not hide whether money and statements came out right).
    closeSettlements = closed.body.settlements as number;
  }
  closeAnswer = closed.status === 409 ? 'already closed' : closed.body.resumed ? 'resumed' : 'closed';
  const result = await readStatements(t, k('auditor'), WORKLOAD_ACCOUNTS, WORKLOAD_DAY);
  // The ledger agrees with every statement, and what buyers paid for delivery is what providers received.
  let paid = new Dec(0);
  let received = new Dec(0);
  for (const account of WORKLOAD_ACCOUNTS) {
    const s = result.statements[account] as { closingBalance: string; lines: Array<{ kind: string; amount: string }> };
    const cash = (await call('GET', `/v1/ledger/accounts/${account}`, k('auditor'))).body.balances.cash.posted;
    expect({ account, cash }).toEqual({ account, cash: s.closingBalance });
    const settled = s.lines.filter((l) => l.kind === 'settlement').reduce((x, l) => x.plus(l.amount), new Dec(0));
    if (account.startsWith('buy')) paid = paid.plus(settled);
    else received = received.plus(settled);
  }
  expect(paid.plus(received).toFixed(2)).toBe('0.00');
  expect(received.gt(0)).toBe(true);
  return {
    ...result,
    trades: allocations.length,
    usageEvents: events.length,
    usageSent,
    retries: stats.retries,
    staleRetries,
    closeAnswer,
    closeSettlements,
  };
};
