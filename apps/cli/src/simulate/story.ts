import { Dec } from '@cx/shared-kernel';
import { parseCsvObjects } from './csv';
import { type AuditLine, type ExchangeClient, StepFailed, sleep, until } from './http';
import { HOUR, type MarketPlan, type PlannedAction, type PlannedOrder, SCHEDULE } from './plan';
import { Prng } from './prng';
import type { StoryProgress } from './progress';
import { CURRENCY, REGION, type ReferencePrices } from './reference-price';
import { type Reading, type UsagePlan, planUsage } from './usage';
import type {
  AllocationView,
  BandVersionView,
  InstrumentView,
  LedgerView,
  OrderView,
  StatementView,
  TradeView,
  UsageBatchView,
} from './views';

// The market day over the exchange's public HTTP API, in simulated time:
//
//   D 00:00  accounts, keys and deposits; the regulator issues the day's band for H100 in cn-east-1 (in force 06:00)
//   D 06:00  the open: orders for the next day's delivery arrive all day, priced around the reference
//   D 09:00  the regulator announces a higher floor from 13:00 (an amendment: a new guidance version)
//   D 13:00  the raised floor takes effect: resting orders below it are cancelled (FLOOR_RAISED)
//   D 16:00  the regulator halts the instrument; orders are refused (MARKET_HALTED) until it resumes at 16:45
//   D 22:00  one buyer pulls all its orders (kill switch); 23:00 trading stops, what rests expires
//   D+1      delivery: providers' and buyers' agents post usage per allocation, with retries (duplicates)
//   D+2 00:00  the trading day and the delivery day are closed; late readings arrive; D+2 is closed after them
//   then     every account's statements (JSON and CSV) and ledger balances are read
//
// Matching runs on timers in the exchange (band changes, GTD expiries and the cut-off apply at its next tick, and
// guidance heartbeats keep it from going stale), so at each of those points the story waits until the exchange
// shows the effect before it sends the next order: the same plan then gives the same trades on every run.

/** How far the simulated clock may run past the last guidance heartbeat the story saw before it waits for one. */
const FRESHNESS_STEP = HOUR;
const DAY = 24 * HOUR;
const HEARTBEAT_STREAM = 'pricing-heartbeat';

export interface Keys {
  admin: string;
}

export interface StoryOptions {
  api: ExchangeClient;
  adminKey: string;
  plan: MarketPlan;
  prices: ReferencePrices;
  seed: number;
  /** The trading day, YYYY-MM-DD (its midnight is where the clock starts). */
  tradingDay: string;
  progress: StoryProgress;
}

export interface PeriodTotals {
  period: string;
  opening: string;
  charges: string;
  fees: string;
  /** Deposits, withdrawals and notes: the rest of what moved the balance. */
  deposits: string;
  closing: string;
  lines: number;
  contentHash: string;
  /** The CSV carried the JSON's content hash and the same closing balance. */
  csvAgrees: boolean;
}

export interface AccountStatements {
  account: string;
  kind: 'provider' | 'buyer';
  currency: string;
  periods: PeriodTotals[];
  opening: string;
  charges: string;
  fees: string;
  deposits: string;
  closing: string;
  /** The ledger's posted cash balance after the last close. */
  ledgerBalance: string;
  matchesLedger: boolean;
}

export interface StoryResult {
  tradingDay: string;
  deliveryDay: string;
  instrument: string;
  guidance: {
    bandId: string;
    opening: { floor: string; versionId: string; effectiveFrom: string };
    raised: { floor: string; versionId: string; effectiveFrom: string; announcedAt: string };
  };
  orders: {
    planned: number;
    placed: number;
    byStatus: Record<string, number>;
    rejected: Record<string, number>;
    cancelled: Record<string, number>;
    expired: Record<string, number>;
    userCancelsSent: number;
  };
  trades: {
    count: number;
    lots: number;
    acceleratorHours: string;
    notional: string;
    vwap: string | null;
    high: string | null;
    low: string | null;
    belowFloor: number;
  };
  halt: { haltId: string; haltedAt: string; resumedAt: string; ordersRefused: number };
  usage: {
    allocations: number;
    eventsSent: number;
    accepted: number;
    duplicates: number;
    late: number;
    rejected: number;
  };
  periodsClosed: string[];
  statements: AccountStatements[];
}

const isoOf = (ms: number) => new Date(ms).toISOString();
const dayOf = (ms: number) => isoOf(ms).slice(0, 10);
const bump = (m: Record<string, number>, k: string, n = 1) => {
  m[k] = (m[k] ?? 0) + n;
};
const sorted = (m: Record<string, number>): Record<string, number> =>
  Object.fromEntries(Object.entries(m).sort(([a], [b]) => (a < b ? -1 : 1)));

type Milestone =
  | { kind: 'open' | 'announce-floor' | 'floor-raised' | 'halt' | 'resume' | 'cut-off'; at: number }
  | { kind: 'gtd-expiry'; at: number };

export const runStory = async (o: StoryOptions): Promise<StoryResult> => {
  const { api, plan, prices, progress } = o;
  const admin = o.adminKey;
  const day0 = Date.parse(`${o.tradingDay}T00:00:00.000Z`);
  const deliveryDay = dayOf(day0 + DAY);
  const instrument = `${prices.resourceClass}.${REGION}.${deliveryDay}`;
  const mine = new Set(plan.participants.map((p) => p.accountId));

  // ---- the clock ----
  let now = Number.NaN;
  const setClock = async (to: number): Promise<void> => {
    if (to <= now) return;
    const r = await api.call<{ now: string }>('POST', '/v1/sim/clock', admin, { to: isoOf(to) });
    now = Date.parse(r.body.now);
    progress.phase(currentPhase, isoOf(now).slice(0, 16).replace('T', ' '));
  };
  let currentPhase = 'setting up';
  const phase = (label: string) => {
    currentPhase = label;
    progress.phase(label, Number.isNaN(now) ? '' : isoOf(now).slice(0, 16).replace('T', ' '));
  };
  {
    const r = await api.call<{ now: string }>('POST', '/v1/sim/clock', admin, { advanceMs: 0 });
    now = Date.parse(r.body.now);
    if (now > day0) {
      throw new StepFailed(
        'clock',
        null,
        `the exchange's clock (${r.body.now}) is past the trading day's start ${isoOf(day0)}`,
      );
    }
    await setClock(day0);
  }

  // ---- guidance freshness: matching refuses orders when its last heartbeat is older than the configured lag ----
  let heartbeatAfter: string | undefined;
  let freshAt = Number.NEGATIVE_INFINITY;
  const awaitHeartbeat = async (): Promise<void> => {
    await until(
      'a guidance heartbeat at the simulated time (set CX_GUIDANCE_HEARTBEAT_MS to a few hundred ms on the target)',
      async () => {
        const lines: AuditLine[] = await api.auditEvents(admin, {
          stream: HEARTBEAT_STREAM,
          ...(heartbeatAfter ? { after: heartbeatAfter } : {}),
        });
        let found = false;
        for (const l of lines) {
          heartbeatAfter = l.position;
          if (Date.parse(String(l.data.completeUpTo)) >= now) found = true;
        }
        return found ? true : undefined;
      },
      30_000,
      40,
    );
    // The heartbeat is in the store; give the relay a moment to hand it to matching.
    await sleep(60);
    freshAt = now;
  };
  const ensureFresh = async () => {
    if (now - freshAt >= FRESHNESS_STEP) await awaitHeartbeat();
  };

  // ---- reads of the book's state ----
  const instrumentView = async (): Promise<InstrumentView | undefined> =>
    (await api.all<InstrumentView>('/v1/instruments', admin)).find((i) => i.instrumentId === instrument);
  const restingOrders = async (): Promise<OrderView[]> => {
    const out: OrderView[] = [];
    for (const status of ['open', 'partially_filled']) {
      const items = await api.all<OrderView>(`/v1/orders?status=${status}`, admin);
      out.push(...items.filter((x) => x.instrument === instrument && mine.has(x.account)));
    }
    return out;
  };

  // ---- participants: accounts, keys, deposits ----
  phase('opening accounts');
  const traderKey = new Map<string, string>();
  const integratorKey = new Map<string, string>();
  for (const p of plan.participants) {
    await api.call('POST', '/v1/accounts', admin, {
      accountId: p.accountId,
      legalName: p.legalName,
      kind: p.kind,
      currency: CURRENCY,
      timezone: 'Asia/Shanghai',
    });
    for (const [role, into] of [
      ['trader', traderKey],
      ['integrator', integratorKey],
    ] as const) {
      const k = await api.call<{ key: string }>('POST', '/v1/keys', admin, {
        role,
        accounts: [p.accountId],
        label: `simulate ${role} ${p.accountId}`,
      });
      into.set(p.accountId, k.body.key);
    }
    const deposit = plan.deposits.get(p.accountId);
    if (deposit !== undefined) {
      await api.call('POST', '/v1/ledger/deposits', admin, {
        transferId: `${p.accountId}-deposit-1`,
        account: p.accountId,
        amount: deposit,
        currency: CURRENCY,
      });
    }
    progress.tick();
  }
  const regulator = (
    await api.call<{ key: string }>('POST', '/v1/keys', admin, { role: 'regulator', accounts: [], label: 'simulate' })
  ).body.key;

  // ---- the day's band: in force from the open ----
  phase('issuing guidance');
  const openAt = day0 + SCHEDULE.open;
  const bandBody = {
    floorPerAcceleratorHour: prices.openingFloor,
    ceilingPerAcceleratorHour: prices.ceiling,
    referencePrice: prices.reference,
    effectiveFrom: isoOf(openAt),
    reason: `Daily band for ${o.tradingDay}: floor at the median interruptible price, reference at the median on-demand price`,
    documentRef: `SIM-${o.tradingDay}-1`,
  };
  let band: BandVersionView;
  const issued = await api.call<BandVersionView & { code?: string }>(
    'POST',
    '/v1/guidance',
    regulator,
    { resourceClass: prices.resourceClass, region: REGION, currency: CURRENCY, ...bandBody },
    { ok: [201, 409] },
  );
  if (issued.status === 201) band = issued.body;
  else {
    // A shared exchange already has this band (an earlier run): today's terms are its next version.
    const current = await api.call<{ band: BandVersionView | null }>(
      'GET',
      `/v1/guidance/${prices.resourceClass}?region=${REGION}`,
      regulator,
    );
    if (current.body.band === null || current.body.band.region !== REGION) {
      throw new StepFailed('guidance', null, `a ${REGION} band exists but none is in force to amend`);
    }
    band = (
      await api.call<BandVersionView>('POST', `/v1/guidance/${current.body.band.bandId}/amend`, regulator, bandBody)
    ).body;
  }
  progress.tick();
  await until(`${instrument} to be listed`, async () =>
    (await api.call('GET', `/v1/market/${instrument}/depth`, admin, undefined, { ok: [200, 404] })).status === 200
      ? true
      : undefined,
  );

  // ---- the trading day ----
  const milestones: Milestone[] = [
    { kind: 'open', at: openAt },
    { kind: 'announce-floor', at: day0 + SCHEDULE.floorAnnounced },
    { kind: 'floor-raised', at: day0 + SCHEDULE.floorRaised },
    { kind: 'halt', at: day0 + SCHEDULE.halt },
    { kind: 'resume', at: day0 + SCHEDULE.resume },
    { kind: 'cut-off', at: day0 + SCHEDULE.cutOff },
    ...[...new Set(plan.orders.flatMap((x) => (x.expiresAt === null ? [] : [x.expiresAt])))].map((at): Milestone => ({
      kind: 'gtd-expiry',
      at,
    })),
  ];
  // Milestones first at equal times: an order at 13:00:00 meets the raised floor, as it would on the exchange.
  const rank = (x: Milestone | PlannedAction) =>
    x.kind === 'order' || x.kind === 'cancel' || x.kind === 'kill-switch' ? 1 : 0;
  const timeline: Array<Milestone | PlannedAction> = [...milestones, ...plan.actions].sort(
    (a, b) => a.at - b.at || rank(a) - rank(b),
  );
  const floorIs = async (floor: string) => {
    const f = (await instrumentView())?.floor;
    return f !== null && f !== undefined && new Dec(f).eq(floor);
  };

  const orderIds = new Map<number, string>();
  const rejected: Record<string, number> = {};
  let placed = 0;
  let userCancels = 0;
  let raised: BandVersionView | null = null;
  let raisedAnnouncedAt = '';
  let haltId = '';
  let haltedAt = '';
  let resumedAt = '';
  let refusedWhileHalted = 0;
  let halted = false;

  const place = async (x: PlannedOrder, attempt = 0): Promise<void> => {
    await ensureFresh();
    const r = await api.call<OrderView & { code?: string }>(
      'POST',
      '/v1/orders',
      traderKey.get(x.account) as string,
      {
        account: x.account,
        instrument,
        clientOrderId: attempt === 0 ? x.clientOrderId : `${x.clientOrderId}-retry${attempt}`,
        side: x.side,
        price: x.price,
        quantityLots: x.quantityLots,
        timeInForce: x.timeInForce,
        ...(x.expiresAt !== null ? { expiresAt: isoOf(x.expiresAt) } : {}),
      },
      { ok: [200, 201, 422] },
    );
    placed += 1;
    if (r.status === 422) {
      const code = r.body.code ?? 'UNKNOWN';
      if (code === 'MATCHING.GUIDANCE_STALE' && attempt < 3) {
        // The story paces itself on heartbeats, so this is rare; wait for the next one and send it again.
        freshAt = Number.NEGATIVE_INFINITY;
        bump(rejected, code);
        return place(x, attempt + 1);
      }
      bump(rejected, code);
      if (halted && code === 'MATCHING.MARKET_HALTED') refusedWhileHalted += 1;
      return;
    }
    orderIds.set(x.seq, r.body.orderId);
  };

  const settleGtd = (at: number) =>
    until(`GTD orders expiring at ${isoOf(at)} to expire`, async () =>
      (await restingOrders()).some((x) => x.expiresAt !== null && Date.parse(x.expiresAt) <= at) ? undefined : true,
    );

  phase('trading');
  for (const step of timeline) {
    await setClock(step.at);
    switch (step.kind) {
      case 'open':
        await until('the day’s band to reach the book', async () =>
          (await floorIs(prices.openingFloor)) ? true : undefined,
        );
        break;
      case 'announce-floor': {
        phase('floor raise announced');
        raisedAnnouncedAt = isoOf(now);
        raised = (
          await api.call<BandVersionView>('POST', `/v1/guidance/${band.bandId}/amend`, regulator, {
            floorPerAcceleratorHour: prices.raisedFloor,
            effectiveFrom: isoOf(day0 + SCHEDULE.floorRaised),
            reason: 'Floor raised to the cheapest non-interruptible listing after sustained selling near the floor',
            documentRef: `SIM-${o.tradingDay}-2`,
          })
        ).body;
        phase('trading');
        break;
      }
      case 'floor-raised':
        phase('floor raised');
        await until('the raised floor to reach the book and cancel what rests below it', async () => {
          if (!(await floorIs(prices.raisedFloor))) return undefined;
          return (await restingOrders()).some((x) => new Dec(x.price).lt(prices.raisedFloor)) ? undefined : true;
        });
        phase('trading');
        break;
      case 'halt': {
        phase('market halted');
        await ensureFresh();
        const h = await api.call<{ haltId: string; haltedAt: string }>('POST', '/v1/market-status/halts', regulator, {
          scope: { instrumentId: instrument },
          reason: 'Disorderly trading after a data-centre power incident',
        });
        haltId = h.body.haltId;
        haltedAt = h.body.haltedAt;
        await until('the halt to reach the book', async () =>
          (await instrumentView())?.status === 'halted' ? true : undefined,
        );
        halted = true;
        break;
      }
      case 'resume': {
        const r = await api.call<{ resumed?: { at: string } }>(
          'POST',
          `/v1/market-status/halts/${haltId}/resume`,
          regulator,
          { reason: 'Power restored; orderly conditions' },
        );
        resumedAt = r.body.resumed?.at ?? isoOf(now);
        await until('the resumption to reach the book', async () =>
          (await instrumentView())?.status === 'open' ? true : undefined,
        );
        halted = false;
        phase('trading');
        break;
      }
      case 'gtd-expiry':
        await settleGtd(step.at);
        break;
      case 'cut-off':
        phase('cut-off');
        await until('resting orders to expire at the cut-off', async () =>
          (await restingOrders()).length === 0 ? true : undefined,
        );
        break;
      case 'order':
        await place(step);
        progress.tick();
        break;
      case 'cancel': {
        const id = orderIds.get(step.orderSeq);
        if (id !== undefined) {
          // 404 when it is no longer resting (filled, expired or cancelled by the floor): nothing to cancel.
          const r = await api.call('DELETE', `/v1/orders/${id}`, traderKey.get(step.account) as string, undefined, {
            ok: [200, 404],
          });
          if (r.status === 200) userCancels += 1;
        }
        progress.tick();
        break;
      }
      case 'kill-switch':
        await api.call('DELETE', `/v1/orders?account=${step.account}`, traderKey.get(step.account) as string);
        progress.tick();
        break;
    }
  }
  if (raised === null) throw new StepFailed('guidance', null, 'the floor raise was never announced');

  // ---- what the day produced ----
  phase('reading the tape');
  const trades = await api.all<TradeView>(`/v1/market/${instrument}/trades`, admin);
  const allocations = await until('an allocation per trade', async () => {
    const items = (await api.all<AllocationView>('/v1/allocations', admin)).filter((a) => a.instrument === instrument);
    return items.length >= trades.length ? items : undefined;
  });
  const orders = (await api.all<OrderView>('/v1/orders', admin)).filter(
    (x) => x.instrument === instrument && mine.has(x.account),
  );
  const byStatus: Record<string, number> = {};
  const cancelled: Record<string, number> = {};
  const expired: Record<string, number> = {};
  for (const x of orders) {
    bump(byStatus, x.status);
    if (x.status === 'cancelled') bump(cancelled, x.reason ?? 'UNKNOWN');
    if (x.status === 'expired') bump(expired, x.reason ?? 'UNKNOWN');
  }
  let lots = 0;
  let notional = new Dec(0);
  let high: Dec | null = null;
  let low: Dec | null = null;
  let belowFloor = 0;
  for (const t of trades) {
    const p = new Dec(t.price);
    lots += t.quantityLots;
    notional = notional.plus(p.times(t.quantityLots));
    high = high === null || p.gt(high) ? p : high;
    low = low === null || p.lt(low) ? p : low;
    if (t.floor !== null && p.lt(t.floor)) belowFloor += 1;
  }
  const hoursPerLot =
    allocations.length > 0 ? new Dec(allocations[0]!.quantity).div(allocations[0]!.quantityLots) : new Dec(1);

  // ---- billing must have heard every trade and allocation before the days close ----
  const allocationIds = new Set(allocations.map((a) => a.allocationId));
  const tradeIds = new Set(trades.map((t) => t.tradeId));
  const countBilling = async (stream: string, type: string, ids: Set<string>, prefix: string): Promise<number> =>
    (await api.auditEvents(admin, { stream: `${stream}*`, type })).filter((l) => ids.has(l.stream.slice(prefix.length)))
      .length;
  phase('waiting for billing');
  await until('billing to register every allocation and trade', async () => {
    const a = await countBilling('billing-allocation-', 'AllocationRegistered', allocationIds, 'billing-allocation-');
    const t = await countBilling('billing-trade-', 'TradeHeard', tradeIds, 'billing-trade-');
    return a >= allocationIds.size && t >= tradeIds.size ? true : undefined;
  });

  const periodsClosed: string[] = [];
  const closeDay = async (period: string) => {
    phase(`closing ${period}`);
    await setClock(Date.parse(`${period}T00:00:00.000Z`) + DAY);
    await api.call('POST', `/v1/periods/${period}/close`, admin);
    periodsClosed.push(period);
    progress.tick();
  };
  await closeDay(o.tradingDay);

  // ---- delivery and usage ----
  const usagePlan: UsagePlan = planUsage(allocations, day0 + DAY, new Prng(o.seed).fork('usage'));
  progress.grow(usagePlan.rounds.length * 2);
  const usage = { allocations: allocations.length, eventsSent: 0, accepted: 0, duplicates: 0, late: 0, rejected: 0 };
  const post = async (readings: Reading[]): Promise<void> => {
    const byKey = new Map<string, Reading[]>();
    for (const r of readings) {
      const key = integratorKey.get(r.account) as string;
      byKey.set(key, [...(byKey.get(key) ?? []), r]);
    }
    for (const [key, list] of byKey) {
      for (let i = 0; i < list.length; i += 100) {
        let batch = list.slice(i, i + 100).map((r) => r.event);
        for (let attempt = 0; batch.length > 0; attempt++) {
          const r = await api.call<UsageBatchView>('POST', '/v1/usage', key, batch);
          if (attempt === 0) usage.eventsSent += batch.length;
          const retry: typeof batch = [];
          for (const [j, res] of r.body.results.entries()) {
            if (res.status === 'accepted') {
              usage.accepted += 1;
              if (res.late === true) usage.late += 1;
            } else if (res.status === 'duplicate') usage.duplicates += 1;
            else if (res.code === 'METERING.SUBJECT_NOT_FOUND' && attempt < 100) retry.push(batch[j]!);
            else {
              usage.rejected += 1;
              throw new StepFailed(
                'usage',
                { status: r.status, code: res.code, message: res.message },
                `usage refused: ${res.code}: ${res.message}`,
              );
            }
          }
          // Metering hears of allocations from matching asynchronously; one it has not heard of yet is sent again.
          batch = retry;
          if (batch.length > 0) await sleep(100);
        }
      }
    }
  };
  const readingsRecorded = async (): Promise<number> =>
    countBilling('billing-allocation-', 'DeliveryReadingRecorded', allocationIds, 'billing-allocation-');

  for (const round of usagePlan.rounds) {
    if (round.late) {
      await closeDay(deliveryDay);
      phase('late usage');
    } else phase('delivery: usage');
    await setClock(day0 + DAY + round.sentAt);
    await post(round.readings);
    progress.tick();
    await post(round.retries);
    progress.tick();
    if (!round.late && round === usagePlan.rounds[usagePlan.rounds.length - 2]) {
      // Every on-time reading must be in billing before the delivery day closes, or it would settle a day late.
      await setClock(day0 + 2 * DAY);
      await until('billing to record every on-time reading', async () =>
        (await readingsRecorded()) >= usagePlan.onTime ? true : undefined,
      );
    }
  }
  await until('billing to record the late readings', async () =>
    (await readingsRecorded()) >= usagePlan.onTime + usagePlan.late ? true : undefined,
  );
  await closeDay(dayOf(day0 + 2 * DAY));

  // ---- statements and balances ----
  phase('statements');
  const statements: AccountStatements[] = [];
  for (const p of plan.participants) {
    const periods: PeriodTotals[] = [];
    for (const period of periodsClosed) {
      const json = await api.call<StatementView>('GET', `/v1/statements/${p.accountId}/${period}`, admin, undefined, {
        ok: [200, 404],
      });
      if (json.status === 404) continue;
      const csv = await api.call<string>('GET', `/v1/statements/${p.accountId}/${period}`, admin, undefined, {
        accept: 'text/csv',
      });
      const rows = parseCsvObjects(csv.text);
      const closingRow = rows.find((r) => r.kind === 'closing_balance');
      const s = json.body;
      periods.push({
        period,
        opening: s.openingBalance,
        charges: s.totals.charges,
        fees: s.totals.fees,
        deposits: new Dec(s.totals.deposits).plus(s.totals.withdrawals).plus(s.totals.notes).toFixed(2),
        closing: s.closingBalance,
        lines: s.lineCount,
        contentHash: s.contentHash,
        csvAgrees: csv.headers.get('x-content-hash') === s.contentHash && closingRow?.amount === s.closingBalance,
      });
    }
    const ledger = (await api.call<LedgerView>('GET', `/v1/ledger/accounts/${p.accountId}`, admin)).body;
    const first = periods[0];
    const last = periods[periods.length - 1];
    const sum = (f: (x: PeriodTotals) => string) => periods.reduce((s, x) => s.plus(f(x)), new Dec(0)).toFixed(2);
    const closing = last?.closing ?? '0.00';
    statements.push({
      account: p.accountId,
      kind: p.kind,
      currency: ledger.currency,
      periods,
      opening: first?.opening ?? '0.00',
      charges: sum((x) => x.charges),
      fees: sum((x) => x.fees),
      deposits: sum((x) => x.deposits),
      closing,
      ledgerBalance: ledger.balances.cash.posted,
      matchesLedger: new Dec(closing).eq(ledger.balances.cash.posted),
    });
    progress.tick();
  }

  return {
    tradingDay: o.tradingDay,
    deliveryDay,
    instrument,
    guidance: {
      bandId: band.bandId,
      opening: { floor: band.floorPerAcceleratorHour, versionId: band.versionId, effectiveFrom: band.effectiveFrom },
      raised: {
        floor: raised.floorPerAcceleratorHour,
        versionId: raised.versionId,
        effectiveFrom: raised.effectiveFrom,
        announcedAt: raisedAnnouncedAt,
      },
    },
    orders: {
      planned: plan.orders.length,
      placed,
      byStatus: sorted(byStatus),
      rejected: sorted(rejected),
      cancelled: sorted(cancelled),
      expired: sorted(expired),
      userCancelsSent: userCancels,
    },
    trades: {
      count: trades.length,
      lots,
      acceleratorHours: hoursPerLot.times(lots).toString(),
      notional: notional.toFixed(2),
      vwap: lots > 0 ? notional.div(lots).toDecimalPlaces(4, Dec.ROUND_HALF_EVEN).toFixed(4) : null,
      high: high?.toFixed(2) ?? null,
      low: low?.toFixed(2) ?? null,
      belowFloor,
    },
    halt: { haltId, haltedAt, resumedAt, ordersRefused: refusedWhileHalted },
    usage,
    periodsClosed,
    statements,
  };
};
