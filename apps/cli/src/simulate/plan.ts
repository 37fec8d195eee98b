import { Dec } from '@cx/shared-kernel';
import { Prng } from './prng';
import type { ReferencePrices } from './reference-price';

// The market day, drawn up front from the seed: who takes part, and every order and cancellation with its
// simulated time, price and size. Nothing here talks to the exchange, so the same seed and sizes always give the
// same plan; what the exchange makes of it (trades, rests, cancels) is then deterministic too, because the story
// sends the plan in order and waits for the exchange at every point where timers could race it.

export const HOUR = 3_600_000;
export const MINUTE = 60_000;

/** The day's schedule, as offsets from the trading day's midnight (UTC). */
export const SCHEDULE = {
  /** The regulator's band for the day: issued at midnight, in force at the open. */
  open: 6 * HOUR,
  /** The raised floor is announced mid-morning… */
  floorAnnounced: 9 * HOUR,
  /** …and takes effect early afternoon: resting orders below it are cancelled (FLOOR_RAISED). */
  floorRaised: 13 * HOUR,
  /** A manual halt of the instrument, and its resumption. */
  halt: 16 * HOUR,
  resume: 16 * HOUR + 45 * MINUTE,
  /** One buyer pulls all its resting orders (kill switch). */
  killSwitch: 22 * HOUR,
  /** No order is planned after this… */
  lastOrder: 22 * HOUR + 45 * MINUTE,
  /** …and trading in the next day's instrument stops here (the exchange's default cut-off, one hour). */
  cutOff: 23 * HOUR,
} as const;

export interface Participant {
  accountId: string;
  legalName: string;
  kind: 'provider' | 'buyer';
}

export type TimeInForce = 'GTC' | 'GTD' | 'IOC' | 'FOK';

export interface PlannedOrder {
  kind: 'order';
  seq: number;
  at: number;
  account: string;
  side: 'buy' | 'sell';
  price: string;
  quantityLots: number;
  timeInForce: TimeInForce;
  expiresAt: number | null;
  clientOrderId: string;
  /** Priced without looking at the floor in force (may be refused MATCHING.BELOW_FLOOR). */
  naive: boolean;
}

export interface PlannedCancel {
  kind: 'cancel';
  at: number;
  orderSeq: number;
  account: string;
}

export interface PlannedKillSwitch {
  kind: 'kill-switch';
  at: number;
  account: string;
}

export type PlannedAction = PlannedOrder | PlannedCancel | PlannedKillSwitch;

export interface MarketPlan {
  participants: Participant[];
  actions: PlannedAction[];
  orders: PlannedOrder[];
  /** Cash each buyer deposits: enough for every buy order it plans to fill, fees included. */
  deposits: Map<string, string>;
}

const PROVIDER_NAMES = [
  'Yangtze Compute',
  'Gui’an Cloud Works',
  'Pearl River GPU Leasing',
  'Tianfu Accelerator Farm',
  'Bohai Data Centre',
  'Ningxia Green Compute',
  'Qiantang Cloud',
  'Ulanqab Server Park',
];
const BUYER_NAMES = [
  'Lingxi AI Lab',
  'Zhiyuan Robotics',
  'Mingjing Vision',
  'Kunlun Language Models',
  'Xinghe Biotech',
  'Haitang Media',
  'Shenlan Autonomous Driving',
  'Qingyun Finance AI',
];

const nameOf = (names: readonly string[], i: number): string =>
  `${names[i % names.length]}${i >= names.length ? ` ${Math.floor(i / names.length) + 1}` : ''} Co., Ltd.`;

const TICK = new Dec('0.01');

const toTick = (price: number, side: 'buy' | 'sell'): Dec => {
  const p = new Dec(price.toFixed(6)).div(TICK);
  // Bids round down and asks up, as a trader's price would.
  return (side === 'buy' ? p.floor() : p.ceil()).times(TICK);
};

export interface PlanOptions {
  seed: number;
  providers: number;
  buyers: number;
  orders: number;
  /** Prefix of the account ids (unique per run on a shared exchange). */
  idPrefix: string;
  /** The trading day's midnight, epoch ms. */
  dayStartMs: number;
  prices: ReferencePrices;
}

export const planMarket = (o: PlanOptions): MarketPlan => {
  const rng = new Prng(o.seed);
  const participants: Participant[] = [
    ...Array.from({ length: o.providers }, (_, i) => ({
      accountId: `${o.idPrefix}-prov-${String(i + 1).padStart(2, '0')}`,
      legalName: nameOf(PROVIDER_NAMES, i),
      kind: 'provider' as const,
    })),
    ...Array.from({ length: o.buyers }, (_, i) => ({
      accountId: `${o.idPrefix}-buy-${String(i + 1).padStart(2, '0')}`,
      legalName: nameOf(BUYER_NAMES, i),
      kind: 'buyer' as const,
    })),
  ];
  const providers = participants.filter((p) => p.kind === 'provider');
  const buyers = participants.filter((p) => p.kind === 'buyer');

  const ref = Number(o.prices.reference);
  const floor1 = Number(o.prices.openingFloor);
  const floor2 = Number(o.prices.raisedFloor);
  const ceiling = Number(o.prices.ceiling);
  const disp = o.prices.dispersion;
  const day = o.dayStartMs;

  // Order times: spread over the session, busier after the open and before the close (a U-shaped day).
  const span = SCHEDULE.lastOrder - SCHEDULE.open;
  const times = Array.from({ length: o.orders }, () => {
    const u = rng.next();
    // Half uniform, half arcsine-distributed (denser at both ends of the session).
    const shaped = rng.chance(0.5) ? u : (1 - Math.cos(Math.PI * u)) / 2;
    return day + SCHEDULE.open + Math.floor((shaped * span) / 1000) * 1000;
  }).sort((a, b) => a - b);

  // The mid price wanders around the reference (a mean-reverting random walk, steps a fraction of the observed
  // dispersion), and each trader prices around it: bids below, asks above, with a spread as wide as the offers in
  // the dataset.
  let mid = ref;
  const orders: PlannedOrder[] = [];
  const actions: PlannedAction[] = [];
  for (let seq = 1; seq <= o.orders; seq++) {
    const at = times[seq - 1] as number;
    mid = mid * (1 + rng.normal(0, disp / 20)) + 0.1 * (ref - mid);
    mid = Math.min(Math.max(mid, floor2), ref * (1 + disp / 2));
    const buyer = rng.chance(0.5);
    const side = buyer ? 'buy' : 'sell';
    const who = buyer ? rng.pick(buyers) : rng.pick(providers);
    let price = mid * (1 + rng.normal(buyer ? -0.12 * disp : 0.12 * disp, 0.25 * disp));
    const raised = at >= day + SCHEDULE.floorRaised;
    const naive = raised && rng.chance(0.06);
    const floor = raised ? floor2 : floor1;
    if (!naive) price = Math.max(price, floor);
    price = Math.min(Math.max(price, floor1 * 0.97), ceiling);
    const r = rng.next();
    let timeInForce: TimeInForce = r < 0.7 ? 'GTC' : r < 0.82 ? 'IOC' : r < 0.86 ? 'FOK' : 'GTD';
    if (timeInForce === 'GTD' && at + HOUR > day + SCHEDULE.killSwitch) timeInForce = 'GTC';
    let expiresAt: number | null = null;
    if (timeInForce === 'GTD') {
      // On the hour, one to three hours on: the story waits for the book to expire it at each hour it crosses.
      expiresAt = Math.min(Math.ceil(at / HOUR) * HOUR + rng.int(1, 3) * HOUR, day + SCHEDULE.killSwitch);
    }
    const order: PlannedOrder = {
      kind: 'order',
      seq,
      at,
      account: who.accountId,
      side,
      price: toTick(price, side).toFixed(2),
      quantityLots: 8 * rng.int(1, 12),
      timeInForce,
      expiresAt,
      clientOrderId: `sim-${o.seed}-${String(seq).padStart(5, '0')}`,
      naive,
    };
    orders.push(order);
    actions.push(order);
    if (timeInForce === 'GTC' && rng.chance(0.15)) {
      const cancelAt = at + Math.floor(rng.uniform(0.3, 4) * 3600) * 1000;
      if (cancelAt < day + SCHEDULE.lastOrder)
        actions.push({ kind: 'cancel', at: cancelAt, orderSeq: seq, account: who.accountId });
    }
  }
  if (buyers.length > 0)
    actions.push({ kind: 'kill-switch', at: day + SCHEDULE.killSwitch, account: buyers[0]!.accountId });
  // Stable: same instant keeps plan order (orders before the cancels drawn after them).
  actions.sort((a, b) => a.at - b.at);

  const deposits = new Map<string, string>();
  for (const b of buyers) {
    const notional = orders
      .filter((x) => x.account === b.accountId)
      .reduce((s, x) => s.plus(new Dec(x.price).times(x.quantityLots)), new Dec(0));
    // Everything it bids for, plus 10% for fees and rounding, in whole ten-thousands; at least 100,000.
    const amount = Dec.max(notional.times('1.1').div(10_000).ceil().times(10_000), 100_000);
    deposits.set(b.accountId, amount.toFixed(2));
  }
  return { participants, actions, orders, deposits };
};
