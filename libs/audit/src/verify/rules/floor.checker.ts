import { type RecordedEvent, positionToString } from '@cx/event-store';
import { Dec, isDecimalString } from '@cx/shared-kernel';
import { type BandVersion, BOOK_STREAM_PREFIX, parseInstrument } from '../../service-domains';
import type { Checker, Report } from '../checker';
import { GuidanceHistory } from './guidance-history';
import type { AuditRule } from './rule';

// The floor (DESIGN.md, "The floor"; issue 8): no order accepted or rested and no trade executed below the floor
// (or above the ceiling) of the band in force at its instant, by the guidance history itself, not by what the
// decision claims; every decision records the version that was in force; every resting order outside a band that
// took force was cancelled (FLOOR_RAISED / CEILING_LOWERED) before anything else happened on its book.
//
// Checks, each reported at the event that breaks it:
//   floor.<kind>-below-floor, floor.<kind>-above-ceiling   kind: trade, order (accepted or repriced), rested
//   floor.<kind>-version         the recorded guidanceVersion is not the version in force (null where none was)
//   floor.<kind>-recorded-floor  the recorded floor is not the floor of the version it names
//   floor.not-cancelled          a resting order outside the band in force when its book next acted
//   floor.cancel-unjustified     a FLOOR_RAISED / CEILING_LOWERED cancellation of an order inside the band
//   floor.guidance-backdated     a band version effective before it was issued
//   floor.malformed              a price or instant that cannot be read
//
// "When its book next acted": a band takes force at an instant, and matching applies it (with its cancellations)
// at the start of the first decision at or after that instant, in the same append. So resting orders are compared
// with the band in force at every event that starts or continues a decision, before the event is applied, and
// again after the last event of each book. Only when the band in force changes are they compared again, so the
// cost is one comparison per resting order per band change.
//
// Memory: per book, its resting orders (what matching itself holds) and the band last compared.

interface Resting {
  price: Dec;
  priceText: string;
  remainingLots: number;
}

interface BookTrack {
  resourceClass: string;
  region: string;
  resting: Map<string, Resting>;
  /** The version id last compared with the resting orders; undefined before the first comparison. */
  checkedVersion: string | null | undefined;
  reported: Set<string>;
  last: { tMs: number; at: At } | null;
}

interface At {
  stream: string;
  revision: string;
  position: string;
}

/** Decision events whose instant field names when the book acted. Housekeeping (band changes, expiries) is not here. */
const ACTING: Record<string, string> = {
  OrderAccepted: 'acceptedAt',
  OrderRejected: 'rejectedAt',
  ModificationRejected: 'rejectedAt',
  OrderReduced: 'reducedAt',
  OrderRepriced: 'repricedAt',
  TradeExecuted: 'executedAt',
  OrderRested: 'restedAt',
  MarketHalted: 'haltedAt',
  MarketResumed: 'resumedAt',
};
const BAND_CANCELS = new Set(['FLOOR_RAISED', 'CEILING_LOWERED']);

type Data = Record<string, unknown>;

export class FloorChecker implements Checker {
  readonly name = 'floor';
  readonly warnings: string[] = [];
  private readonly history = new GuidanceHistory();
  private readonly books = new Map<string, BookTrack>();
  /** Decisions seen while no guidance history was known: they could not be judged. */
  private unjudged = 0;
  decisionsChecked = 0;

  constructor(history: readonly RecordedEvent[] = []) {
    for (const e of history) if (GuidanceHistory.isBandEvent(e)) this.history.add(e);
  }

  onEvent(e: RecordedEvent, report: Report): void {
    if (GuidanceHistory.isBandEvent(e)) {
      this.onBand(e, report);
      return;
    }
    if (!e.streamId.startsWith(BOOK_STREAM_PREFIX)) return;
    const book = this.track(e.streamId);
    if (book === null) return;
    const d = (typeof e.data === 'object' && e.data !== null ? e.data : {}) as Data;
    const at = atOf(e);
    const actingField = ACTING[e.type];
    const isActing = actingField !== undefined || (e.type === 'OrderCancelled' && !BAND_CANCELS.has(String(d.reason)));
    const instantField = actingField ?? (e.type === 'OrderCancelled' ? 'cancelledAt' : null);
    const tMs = instantField === null ? Number.NaN : Date.parse(String(d[instantField]));
    if (instantField !== null && Number.isNaN(tMs)) {
      report({ check: 'floor.malformed', ...at, message: `${e.type} has no readable ${instantField}` });
    }
    if (isActing && !Number.isNaN(tMs)) this.sweep(book, tMs, at, report);

    switch (e.type) {
      case 'TradeExecuted':
        this.judge('trade', book, d, tMs, true, at, report);
        this.fill(book, d);
        break;
      case 'OrderAccepted':
      case 'OrderRepriced':
        this.judge('order', book, d, tMs, true, at, report);
        if (e.type === 'OrderRepriced') book.resting.delete(String(d.orderId));
        break;
      case 'OrderRested':
        this.judge('rested', book, d, tMs, false, at, report);
        this.rest(book, d, at, report);
        break;
      case 'OrderCancelled':
        if (BAND_CANCELS.has(String(d.reason))) this.judgeCancel(book, d, at, report);
        book.resting.delete(String(d.orderId));
        break;
      case 'OrderExpired':
        book.resting.delete(String(d.orderId));
        break;
      case 'OrderReduced': {
        const r = book.resting.get(String(d.orderId));
        if (r !== undefined && typeof d.remainingLots === 'number') {
          r.remainingLots = d.remainingLots;
          if (r.remainingLots <= 0) book.resting.delete(String(d.orderId));
        }
        break;
      }
      default:
        // Other book events (band schedules, lapses, the cut-off) and types this version does not know.
        break;
    }
    book.last = { tMs: Number.isNaN(tMs) ? (book.last?.tMs ?? Number.NaN) : tMs, at };
  }

  finish(report: Report): void {
    for (const book of this.books.values()) {
      if (book.last !== null && !Number.isNaN(book.last.tMs)) this.sweep(book, book.last.tMs, book.last.at, report);
    }
    if (this.unjudged > 0) {
      this.warnings.push(
        `${this.unjudged} order and trade decisions were not checked against floors: the sources hold no guidance history (guidance-* streams); add the pricing-guidance store`,
      );
    }
  }

  private onBand(e: RecordedEvent, report: Report): void {
    const at = atOf(e);
    if (this.history.add(e) === 'malformed') {
      report({ check: 'floor.malformed', ...at, message: `${e.type} does not carry a complete band version` });
      return;
    }
    const v = e.data as BandVersion;
    if (e.type !== 'PriceBandWithdrawn' && typeof v.issuedAt === 'string') {
      const from = Date.parse(v.effectiveFrom);
      const issued = Date.parse(v.issuedAt);
      if (!Number.isNaN(from) && !Number.isNaN(issued) && from < issued) {
        report({
          check: 'floor.guidance-backdated',
          ...at,
          message: `band version ${v.versionId} takes effect at ${v.effectiveFrom}, before it was issued at ${v.issuedAt}`,
        });
      }
    }
  }

  private track(stream: string): BookTrack | null {
    let book = this.books.get(stream);
    if (book !== undefined) return book;
    const inst = parseInstrument(stream.slice(BOOK_STREAM_PREFIX.length));
    if (inst === null) return null;
    book = {
      resourceClass: inst.resourceClass,
      region: inst.region,
      resting: new Map(),
      checkedVersion: undefined,
      reported: new Set(),
      last: null,
    };
    this.books.set(stream, book);
    return book;
  }

  private bandFor(book: BookTrack, tMs: number): BandVersion | null | undefined {
    if (this.history.size === 0) return undefined;
    return this.history.inForce(book.resourceClass, book.region, tMs);
  }

  private judge(
    kind: 'trade' | 'order' | 'rested',
    book: BookTrack,
    d: Data,
    tMs: number,
    recorded: boolean,
    at: At,
    report: Report,
  ): void {
    if (Number.isNaN(tMs)) return;
    const band = this.bandFor(book, tMs);
    if (band === undefined) {
      this.unjudged++;
      return;
    }
    this.decisionsChecked++;
    const fail = (what: string, message: string): void => report({ check: `floor.${kind}-${what}`, ...at, message });
    const label = kind === 'trade' ? `trade ${String(d.tradeId)}` : `order ${String(d.orderId)}`;
    const instant = new Date(tMs).toISOString();
    if (recorded) {
      const expected = band?.versionId ?? null;
      const claimed = d.guidanceVersion ?? null;
      if (claimed !== expected) {
        fail(
          'version',
          `${label} records guidance version ${String(claimed)}, but ${expected ?? 'no band'} was in force at ${instant}`,
        );
      } else if (band !== null && isDecimalString(d.floor) && !new Dec(d.floor).eq(band.floorPerAcceleratorHour)) {
        fail(
          'recorded-floor',
          `${label} records floor ${d.floor}, but ${band.versionId} has ${band.floorPerAcceleratorHour}`,
        );
      }
    }
    if (band === null) return;
    if (!isDecimalString(d.price)) {
      report({ check: 'floor.malformed', ...at, message: `${label} has no readable price` });
      return;
    }
    const price = new Dec(d.price);
    if (price.lt(band.floorPerAcceleratorHour)) {
      fail(
        'below-floor',
        `${label} at ${d.price} is below the floor ${band.floorPerAcceleratorHour} of ${band.versionId} in force at ${instant}`,
      );
    } else if (band.ceilingPerAcceleratorHour !== null && price.gt(band.ceilingPerAcceleratorHour)) {
      fail(
        'above-ceiling',
        `${label} at ${d.price} is above the ceiling ${band.ceilingPerAcceleratorHour} of ${band.versionId} in force at ${instant}`,
      );
    }
  }

  private judgeCancel(book: BookTrack, d: Data, at: At, report: Report): void {
    const r = book.resting.get(String(d.orderId));
    const tMs = Date.parse(String(d.cancelledAt));
    const band = Number.isNaN(tMs) ? undefined : this.bandFor(book, tMs);
    if (r === undefined || band === undefined) return;
    const outside =
      band !== null &&
      (r.price.lt(band.floorPerAcceleratorHour) ||
        (band.ceilingPerAcceleratorHour !== null && r.price.gt(band.ceilingPerAcceleratorHour)));
    if (!outside) {
      report({
        check: 'floor.cancel-unjustified',
        ...at,
        message: `order ${String(d.orderId)} at ${r.priceText} was cancelled ${String(d.reason)}, but it is inside ${band === null ? 'no band (none was in force)' : `${band.versionId} (${band.floorPerAcceleratorHour}–${band.ceilingPerAcceleratorHour ?? '∞'})`}`,
      });
    }
  }

  /** Compares the resting orders with the band in force at `tMs` when that band differs from the last compared. */
  private sweep(book: BookTrack, tMs: number, at: At, report: Report): void {
    const band = this.bandFor(book, tMs);
    if (band === undefined) return;
    const id = band?.versionId ?? null;
    if (book.checkedVersion === id) return;
    book.checkedVersion = id;
    if (band === null) return;
    for (const [orderId, r] of book.resting) {
      if (book.reported.has(orderId)) continue;
      const below = r.price.lt(band.floorPerAcceleratorHour);
      const above = band.ceilingPerAcceleratorHour !== null && r.price.gt(band.ceilingPerAcceleratorHour);
      if (!below && !above) continue;
      book.reported.add(orderId);
      report({
        check: 'floor.not-cancelled',
        ...at,
        message: `order ${orderId} still rests at ${r.priceText}, ${below ? `below the floor ${band.floorPerAcceleratorHour}` : `above the ceiling ${String(band.ceilingPerAcceleratorHour)}`} of ${band.versionId} in force since ${band.effectiveFrom}: it should have been cancelled ${below ? 'FLOOR_RAISED' : 'CEILING_LOWERED'}`,
      });
    }
  }

  private rest(book: BookTrack, d: Data, at: At, report: Report): void {
    if (!isDecimalString(d.price) || typeof d.remainingLots !== 'number') {
      report({ check: 'floor.malformed', ...at, message: `OrderRested of ${String(d.orderId)} has no readable price` });
      return;
    }
    book.resting.set(String(d.orderId), {
      price: new Dec(d.price),
      priceText: d.price,
      remainingLots: d.remainingLots,
    });
  }

  private fill(book: BookTrack, d: Data): void {
    const maker = book.resting.get(String(d.makerOrderId));
    if (maker === undefined || typeof d.quantityLots !== 'number') return;
    maker.remainingLots -= d.quantityLots;
    if (maker.remainingLots <= 0) book.resting.delete(String(d.makerOrderId));
  }
}

const atOf = (e: RecordedEvent): At => ({
  stream: e.streamId,
  revision: e.revision.toString(),
  position: positionToString(e.position),
});

export const floorRule: AuditRule = {
  name: 'floor',
  historyStreamPrefixes: [GuidanceHistory.PREFIX],
  create: (ctx) => new FloorChecker(ctx.history),
};
