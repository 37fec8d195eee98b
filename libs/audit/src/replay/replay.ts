import { type Position, type RecordedEvent, comparePositions, parsePosition, positionToString } from '@cx/event-store';
import { Dec, DomainError, isCurrency } from '@cx/shared-kernel';
import {
  type Book,
  type BookEvent,
  BOOK_STREAM_PREFIX,
  type LedgerEvent,
  type LedgerState,
  USAGE_STREAM_PREFIX,
  type UsageRecordedData,
  balanceView,
  evolveBook,
  evolveLedger,
  formatAmount,
  initialBook,
  initialLedger,
  isLedgerEvent,
  ledgerTotals,
  versionInForce,
} from '../service-domains';
import { GuidanceHistory } from '../verify/rules/guidance-history';
import { noProgress, type Progress } from '../verify/progress';
import { SourceError, type VerifySource } from '../verify/sources';

// `cx audit replay --until <instant | position>` (issue 8): the exchange's state as of a point in its history,
// rebuilt from events alone with the services' own pure evolve functions: the bands in force, every order book
// (best bid and ask, open orders), every ledger (balances per account, open holds) and usage totals.
//
// Until a position: every event at or before it (positions are per store; with several sources each is cut at it).
// Until an instant: every event whose business instant (the time the decision records, e.g. executedAt, `at`,
// recordedAt; the store's clock for events without one) is at or before it; the bands are those in force then.

export type ReplayUntil = { kind: 'position'; position: Position } | { kind: 'instant'; instant: Date };

const ISO_RE = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2}))?$/;

/** `--until`: a global position (`123` or `123/456`) or an ISO 8601 instant (a date alone means its UTC midnight). */
export const parseUntil = (text: string): ReplayUntil => {
  if (/^\d{1,20}(\/\d{1,20})?$/.test(text)) return { kind: 'position', position: parsePosition(text) };
  const instant = new Date(text);
  if (!ISO_RE.test(text) || Number.isNaN(instant.getTime())) {
    throw DomainError.invalid(
      'AUDIT.INVALID_UNTIL',
      `"${text}" is neither a global position nor an ISO 8601 instant with a timezone`,
      'until',
    );
  }
  return { kind: 'instant', instant };
};

const TIME_FIELDS = [
  'executedAt',
  'acceptedAt',
  'rejectedAt',
  'restedAt',
  'cancelledAt',
  'expiredAt',
  'reducedAt',
  'repricedAt',
  'activatedAt',
  'receivedAt',
  'openedAt',
  'haltedAt',
  'resumedAt',
  'closedAt',
  'issuedAt',
  'recordedAt',
  'definedAt',
  'at',
] as const;

/** The business instant of an event (epoch ms): the time field its decision records, else the store's clock. */
export const eventInstant = (e: RecordedEvent): number => {
  const d = e.data;
  if (typeof d === 'object' && d !== null) {
    for (const f of TIME_FIELDS) {
      const v = (d as Record<string, unknown>)[f];
      if (typeof v === 'string') {
        const ms = Date.parse(v);
        if (!Number.isNaN(ms)) return ms;
      }
    }
  }
  return e.created.getTime();
};

const BOOK_EVENT_TYPES = new Set<string>([
  'BookOpened',
  'BandScheduled',
  'BandActivated',
  'BandLapsed',
  'MarketHalted',
  'MarketResumed',
  'TradingClosed',
  'OrderAccepted',
  'OrderRejected',
  'OrderRested',
  'TradeExecuted',
  'OrderCancelled',
  'OrderExpired',
  'OrderReduced',
  'OrderRepriced',
  'ModificationRejected',
] satisfies BookEvent['type'][]);

export interface BandInForceView {
  bandId: string;
  resourceClass: string;
  /** null: the national band. */
  region: string | null;
  versionId: string;
  currency: string;
  floorPerAcceleratorHour: string;
  ceilingPerAcceleratorHour: string | null;
  effectiveFrom: string;
  effectiveTo: string | null;
}

export interface OpenOrderView {
  orderId: string;
  account: string;
  side: 'buy' | 'sell';
  price: string;
  remainingLots: number;
  filledLots: number;
  timeInForce: string;
  expiresAt: string | null;
}

export interface BookView {
  instrument: string;
  halted: boolean;
  closed: boolean;
  /** The band matching had in force on this book (as the book recorded it). */
  band: { guidanceVersion: string; floor: string; ceiling: string | null } | null;
  bestBid: { price: string; quantityLots: number; orders: number } | null;
  bestAsk: { price: string; quantityLots: number; orders: number } | null;
  openOrders: OpenOrderView[];
}

export interface LedgerView {
  currency: string;
  accounts: ReturnType<typeof balanceView>[];
  openHolds: Array<{
    id: string;
    debitAccount: string;
    creditAccount: string;
    amount: string;
    expiresAt: string | null;
  }>;
  /** Sums over all accounts: both "0" in a sound ledger. */
  totals: { posted: string; pending: string };
}

export interface UsageTotalView {
  subject: string;
  meter: string;
  reporterRole: string;
  events: number;
  quantity: string;
}

export interface ReplayResult {
  until: { position: string } | { instant: string };
  /** The instant bands are reported for: the --until instant, or the latest business instant replayed. */
  asOf: string | null;
  sources: string[];
  eventsApplied: number;
  bands: BandInForceView[];
  books: BookView[];
  ledgers: LedgerView[];
  usage: UsageTotalView[];
  warnings: string[];
}

export interface ReplayOptions {
  progress?: (source: VerifySource, total: number | null) => Progress;
}

export const replayState = async (
  sources: VerifySource[],
  until: ReplayUntil,
  opts: ReplayOptions = {},
): Promise<ReplayResult> => {
  const history = new GuidanceHistory();
  const books = new Map<string, Book>();
  const ledgers = new Map<string, LedgerState>();
  const usage = new Map<string, UsageTotalView & { sum: Dec }>();
  const warnings: string[] = [];
  const untilMs = until.kind === 'instant' ? until.instant.getTime() : Number.NaN;
  let latestMs = Number.NEGATIVE_INFINITY;
  let applied = 0;
  const warn = (e: RecordedEvent, what: string): void => {
    if (warnings.length < 100) warnings.push(`${e.streamId}@${e.revision} (${positionToString(e.position)}): ${what}`);
  };

  const apply = (e: RecordedEvent): void => {
    if (GuidanceHistory.isBandEvent(e)) {
      if (history.add(e) === 'malformed') warn(e, 'not a complete band version; ignored');
    } else if (e.streamId.startsWith(BOOK_STREAM_PREFIX) && BOOK_EVENT_TYPES.has(e.type)) {
      let book = books.get(e.streamId);
      if (book === undefined) {
        book = initialBook();
        books.set(e.streamId, book);
      }
      try {
        evolveBook(book, { type: e.type, data: e.data } as BookEvent);
      } catch (err) {
        warn(e, `cannot be applied to its book: ${(err as Error).message}`);
      }
    } else if (e.streamId.startsWith('ledger-') && isLedgerEvent(e.type)) {
      const currency = e.streamId.slice('ledger-'.length);
      if (!isCurrency(currency)) return;
      let ledger = ledgers.get(currency);
      if (ledger === undefined) {
        ledger = initialLedger(currency);
        ledgers.set(currency, ledger);
      }
      try {
        evolveLedger(ledger, { type: e.type, data: e.data } as LedgerEvent);
      } catch (err) {
        warn(e, `cannot be applied to the ledger: ${(err as Error).message}`);
      }
    } else if (e.type === 'UsageRecorded' && e.streamId.startsWith(USAGE_STREAM_PREFIX)) {
      const d = e.data as UsageRecordedData;
      const key = `${d.subject}\u0000${d.meter}\u0000${d.reporterRole}`;
      let u = usage.get(key);
      if (u === undefined) {
        u = {
          subject: d.subject,
          meter: d.meter,
          reporterRole: d.reporterRole,
          events: 0,
          quantity: '0',
          sum: new Dec(0),
        };
        usage.set(key, u);
      }
      try {
        u.sum = u.sum.add(new Dec(d.quantity));
        u.events++;
      } catch {
        warn(e, `quantity ${String(d.quantity)} is not a decimal; not counted`);
      }
    } else {
      return;
    }
    applied++;
  };

  for (const source of sources) {
    const progress = opts.progress ? opts.progress(source, (await source.progress()).total) : noProgress;
    let count = 0;
    try {
      for await (const e of source.events()) {
        count++;
        if ((count & 1023) === 0) progress.tick(count, Number(e.position.commit));
        if (until.kind === 'position') {
          if (comparePositions(e.position, until.position) > 0) break;
          latestMs = Math.max(latestMs, eventInstant(e));
        } else {
          const t = eventInstant(e);
          if (t > untilMs) continue;
          latestMs = Math.max(latestMs, t);
        }
        apply(e);
      }
    } catch (e) {
      if (e instanceof SourceError) throw e;
      throw new SourceError(`cannot read ${source.name}: ${(e as Error).message}`, { cause: e });
    } finally {
      progress.end();
    }
  }

  const asOfMs = until.kind === 'instant' ? untilMs : latestMs;
  const asOf = Number.isFinite(asOfMs) ? new Date(asOfMs).toISOString() : null;
  return {
    until:
      until.kind === 'position'
        ? { position: positionToString(until.position) }
        : { instant: until.instant.toISOString() },
    asOf,
    sources: sources.map((s) => s.name),
    eventsApplied: applied,
    bands: Number.isFinite(asOfMs) ? bandsInForce(history, asOfMs) : [],
    books: [...books.values()]
      .filter((b) => b.opened)
      .map(bookView)
      .sort(byKey((b) => b.instrument)),
    ledgers: [...ledgers.values()].map(ledgerView).sort(byKey((l) => l.currency)),
    usage: [...usage.values()]
      .map(({ sum, ...u }) => ({ ...u, quantity: sum.toFixed() }))
      .sort(byKey((u) => `${u.subject}\u0000${u.meter}\u0000${u.reporterRole}`)),
    warnings,
  };
};

const byKey =
  <T>(key: (t: T) => string) =>
  (a: T, b: T): number =>
    key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0;

const bandsInForce = (history: GuidanceHistory, tMs: number): BandInForceView[] => {
  // Only versions issued by then: a version issued later cannot have been in force then (it would be backdated).
  const versions = history.all().filter((v) => !(Date.parse(v.issuedAt) > tMs));
  const out: BandInForceView[] = [];
  for (const bandId of [...new Set(versions.map((v) => v.bandId))].sort()) {
    const v = versionInForce(versions, bandId, tMs);
    if (v === null) continue;
    out.push({
      bandId,
      resourceClass: v.resourceClass,
      region: v.region,
      versionId: v.versionId,
      currency: v.currency,
      floorPerAcceleratorHour: v.floorPerAcceleratorHour,
      ceilingPerAcceleratorHour: v.ceilingPerAcceleratorHour,
      effectiveFrom: v.effectiveFrom,
      effectiveTo: v.effectiveTo,
    });
  }
  return out;
};

const bookView = (book: Book): BookView => {
  const best = (levels: Book['bids']['levels']): BookView['bestBid'] => {
    const level = levels[levels.length - 1];
    if (level === undefined || level.head === null) return null;
    return { price: level.head.price, quantityLots: level.totalLots, orders: level.count };
  };
  return {
    instrument: book.instrument,
    halted: book.halted,
    closed: book.closed,
    band: book.band && {
      guidanceVersion: book.band.guidanceVersion,
      floor: book.band.floor,
      ceiling: book.band.ceiling,
    },
    bestBid: best(book.bids.levels),
    bestAsk: best(book.asks.levels),
    openOrders: [...book.orders.values()].map((o) => ({
      orderId: o.id,
      account: o.account,
      side: o.side,
      price: o.price,
      remainingLots: o.remainingLots,
      filledLots: o.filledLots,
      timeInForce: o.timeInForce,
      expiresAt: o.expiresAt,
    })),
  };
};

const ledgerView = (state: LedgerState): LedgerView => {
  const totals = ledgerTotals(state);
  const openHolds: LedgerView['openHolds'] = [];
  for (const [id, p] of state.pendings) {
    if (p.status !== 'pending') continue;
    openHolds.push({
      id,
      debitAccount: p.record.debitAccount,
      creditAccount: p.record.creditAccount,
      amount: formatAmount(p.amount, state.currency),
      expiresAt: p.expiresAtMs === null ? null : new Date(p.expiresAtMs).toISOString(),
    });
  }
  return {
    currency: state.currency,
    accounts: [...state.accounts.keys()].sort().map((k) => balanceView(state, k)),
    openHolds,
    totals: {
      posted: formatAmount(totals.posted, state.currency),
      pending: formatAmount(totals.pending, state.currency),
    },
  };
};
