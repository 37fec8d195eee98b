// A slow, obvious order book, written to be read rather than to be fast: one array of orders, decimal prices
// (decimal.js, no ticks), and every decision re-sorts what it needs. The property tests require the fast decider
// to agree with it event for event. It shares nothing with the fast core but the event and command types.
import { type BandVersionKind, bandAt } from '@cx/guidance';
import { Dec, isDecimalString } from '@cx/shared-kernel';
import type { AccountLimits, BookCommand, CommandMetadata, ExposureElsewhere, PlaceOrder } from '../order-book.decider';
import type { BandRecord, BookEvent, CancelReason, RejectCode, Side, TimeInForce } from '../order-book.events';

interface RefOrder {
  id: string;
  clientOrderId: string;
  account: string;
  side: Side;
  price: Dec;
  quantityLots: number;
  filledLots: number;
  timeInForce: TimeInForce;
  expiresAt: string | null;
  postOnly: boolean;
  /** When it (last) joined the book: time priority. */
  restedSeq: number;
}

// Bands: every version heard is kept, and the band in force at an instant is the shared `bandAt` over them (the
// rule the audit proves decisions against). The book records a change at each instant where that answer differs.
interface RefBand {
  versionId: string;
  bandId: string;
  version: number;
  kind: BandVersionKind;
  resourceClass: string;
  region: string | null;
  floor: Dec;
  ceiling: Dec | null;
  effectiveFrom: string;
  effectiveTo: string | null;
}

export class ReferenceBook {
  opened = false;
  instrument = '';
  tick = new Dec(1);
  lotSize = new Dec(1);
  tradingEndsAt: string | null = null;
  maxLagMs = 0;
  closed = false;
  halted = false;
  band: RefBand | null = null;
  /** When the band in force last changed. */
  bandSince = Number.NEGATIVE_INFINITY;
  heard: RefBand[] = [];
  resourceClass = '';
  region = '';
  versions = new Set<string>();
  orders: RefOrder[] = [];
  clientIds = new Set<string>();
  trades = 0;
  restCounter = 0;

  handle(cmd: BookCommand): BookEvent[] {
    const out: BookEvent[] = [];
    const now = cmd.metadata.now;
    const iso = new Date(now).toISOString();
    if (cmd.type === 'OpenBook') {
      this.opened = true;
      this.instrument = cmd.data.instrument;
      const parts = cmd.data.instrument.split('.');
      [this.resourceClass, this.region] = parts.length === 3 ? [parts[0]!, parts[1]!] : [cmd.data.instrument, ''];
      this.tick = new Dec(cmd.data.tickSize);
      this.lotSize = new Dec(cmd.data.lotSize);
      this.tradingEndsAt = cmd.data.tradingEndsAt;
      this.maxLagMs = cmd.data.maxGuidanceLagMs;
      out.push({
        type: 'BookOpened',
        data: {
          instrument: cmd.data.instrument,
          tickSize: this.tick.toFixed(),
          lotSize: this.lotSize.toFixed(),
          tradingEndsAt: cmd.data.tradingEndsAt,
          maxGuidanceLagMs: cmd.data.maxGuidanceLagMs,
          openedAt: iso,
        },
      });
      return out;
    }
    if (cmd.type === 'ApplyBand' && !this.versions.has(cmd.data.guidanceVersion)) {
      const d = cmd.data;
      this.versions.add(d.guidanceVersion);
      // A version named by its id alone is a national issue (v1) or amendment of the book's class.
      const m = /^(.*)\.v(\d+)$/.exec(d.guidanceVersion);
      const n = d.version ?? (m ? Number(m[2]) : 1);
      const b: RefBand = {
        versionId: d.guidanceVersion,
        bandId: d.bandId ?? (m ? m[1]! : d.guidanceVersion),
        version: n,
        kind: d.kind ?? (n === 1 ? 'issued' : 'amended'),
        resourceClass: this.resourceClass,
        region: d.region ?? null,
        floor: new Dec(d.floor),
        ceiling: d.ceiling === null ? null : new Dec(d.ceiling),
        effectiveFrom: d.effectiveFrom,
        effectiveTo: d.effectiveTo,
      };
      this.heard.push(b);
      out.push({
        type: 'BandScheduled',
        data: {
          guidanceVersion: b.versionId,
          bandId: b.bandId,
          version: b.version,
          kind: b.kind,
          region: b.region,
          floor: b.floor.toFixed(),
          ceiling: b.ceiling?.toFixed() ?? null,
          effectiveFrom: b.effectiveFrom,
          effectiveTo: b.effectiveTo,
          receivedAt: iso,
        },
      });
    }
    if (this.opened) this.passTime(now, out);
    switch (cmd.type) {
      case 'PlaceOrder':
        this.place(cmd, out);
        break;
      case 'CancelOrder': {
        const o = this.own(cmd.data.orderId, cmd.data.account);
        if (!this.opened || cmd.data.instrument !== this.instrument)
          this.refuse(out, 'CANCEL', cmd.data, 'MATCHING.UNKNOWN_INSTRUMENT', 'instrument', cmd.metadata, true);
        else if (!o) this.refuse(out, 'CANCEL', cmd.data, 'MATCHING.ORDER_NOT_FOUND', 'orderId', cmd.metadata);
        else this.cancel(o, 'USER', null, iso, out);
        break;
      }
      case 'ReduceOrder': {
        const d = cmd.data;
        const o = this.own(d.orderId, d.account);
        if (!this.opened || d.instrument !== this.instrument)
          this.refuse(out, 'REDUCE', d, 'MATCHING.UNKNOWN_INSTRUMENT', 'instrument', cmd.metadata, true);
        else if (!o) this.refuse(out, 'REDUCE', d, 'MATCHING.ORDER_NOT_FOUND', 'orderId', cmd.metadata);
        else if (
          !Number.isInteger(d.quantityLots) ||
          d.quantityLots <= o.filledLots ||
          d.quantityLots >= o.quantityLots
        ) {
          this.refuse(out, 'REDUCE', d, 'MATCHING.INVALID_QUANTITY', 'quantityLots', cmd.metadata);
        } else {
          o.quantityLots = d.quantityLots;
          out.push({
            type: 'OrderReduced',
            data: {
              orderId: o.id,
              account: o.account,
              quantityLots: o.quantityLots,
              remainingLots: o.quantityLots - o.filledLots,
              reducedAt: iso,
            },
          });
        }
        break;
      }
      case 'RepriceOrder':
        this.reprice(cmd.data, cmd.metadata, out);
        break;
      case 'CancelAllOrders':
        if (this.opened && cmd.data.instrument === this.instrument) {
          for (const o of [...this.orders].sort((a, b) => a.restedSeq - b.restedSeq)) {
            if (o.account === cmd.data.account) this.cancel(o, 'KILL_SWITCH', null, iso, out);
          }
        }
        break;
      case 'SetMarketStatus':
        if (cmd.data.status === 'HALTED' && !this.halted) {
          this.halted = true;
          out.push({ type: 'MarketHalted', data: { reason: cmd.data.reason, haltedAt: iso } });
        } else if (cmd.data.status === 'OPEN' && this.halted) {
          this.halted = false;
          out.push({ type: 'MarketResumed', data: { reason: cmd.data.reason, resumedAt: iso } });
        }
        break;
      case 'ApplyBand':
      case 'Tick':
        break;
    }
    return out;
  }

  /** The band in force at `t` by the shared rule, over every version heard. */
  private bandAtMs(t: number): RefBand | null {
    return Number.isFinite(t) ? bandAt(this.heard, this.resourceClass, this.region, new Date(t)) : null;
  }

  /** The first instant from `bandSince` on at which the band in force is not the one the book has; or null. */
  private nextBandChange(now: number): number | null {
    const differs = (t: number) => (this.bandAtMs(t)?.versionId ?? null) !== (this.band?.versionId ?? null);
    if (differs(this.bandSince)) return this.bandSince;
    const instants = this.heard
      .flatMap((v) => [v.effectiveFrom, v.effectiveTo])
      .filter((x): x is string => x !== null)
      .map((x) => Date.parse(x))
      .filter((t) => t > this.bandSince && t <= now)
      .sort((a, b) => a - b);
    return instants.find(differs) ?? null;
  }

  /** Everything due at or before `now`, one instant at a time. */
  private passTime(now: number, out: BookEvent[]): void {
    const ms = (s: string) => Date.parse(s);
    for (;;) {
      // The next thing to happen: expiries first at an instant, then band changes, then the cut-off.
      const candidates: { at: number; rank: number; run: () => void }[] = [];
      for (const o of [...this.orders].sort((a, b) => a.restedSeq - b.restedSeq)) {
        if (o.expiresAt !== null && ms(o.expiresAt) <= now) {
          candidates.push({
            at: ms(o.expiresAt),
            rank: 0,
            run: () => this.expire(o, 'GTD', o.expiresAt as string, out),
          });
        }
      }
      const change = this.nextBandChange(now);
      if (change !== null) candidates.push({ at: change, rank: 1, run: () => this.changeBand(change, now, out) });
      if (!this.closed && this.tradingEndsAt !== null && ms(this.tradingEndsAt) <= now) {
        const at = this.tradingEndsAt;
        candidates.push({
          at: ms(at),
          rank: 2,
          run: () => {
            this.closed = true;
            out.push({ type: 'TradingClosed', data: { closedAt: at } });
            for (const o of [...this.orders].sort((a, b) => a.restedSeq - b.restedSeq))
              this.expire(o, 'TRADING_CUT_OFF', at, out);
          },
        });
      }
      if (candidates.length === 0) return;
      // A stable sort keeps resting order among expiries.
      candidates.sort((a, b) => a.at - b.at || a.rank - b.rank);
      candidates[0]!.run();
    }
  }

  private changeBand(at: number, now: number, out: BookEvent[]): void {
    const previous = this.band;
    const b = this.bandAtMs(at);
    this.band = b;
    this.bandSince = at;
    if (b === null) {
      out.push({
        type: 'BandLapsed',
        data: { guidanceVersion: previous!.versionId, effectiveTo: new Date(at).toISOString() },
      });
      return;
    }
    const iso = new Date(now).toISOString();
    out.push({
      type: 'BandActivated',
      data: {
        guidanceVersion: b.versionId,
        floor: b.floor.toFixed(),
        ceiling: b.ceiling?.toFixed() ?? null,
        effectiveFrom: b.effectiveFrom,
        activatedAt: iso,
        effectiveAt: new Date(at).toISOString(),
      },
    });
    for (const side of ['buy', 'sell'] as const) {
      for (const o of this.queue(side)) {
        if (o.price.lt(b.floor)) this.cancel(o, 'FLOOR_RAISED', b.versionId, iso, out);
        else if (b.ceiling !== null && o.price.gt(b.ceiling)) this.cancel(o, 'CEILING_LOWERED', b.versionId, iso, out);
      }
    }
  }

  /** One side's resting orders, best price first, then oldest first. */
  private queue(side: Side): RefOrder[] {
    return this.orders
      .filter((o) => o.side === side)
      .sort((a, b) => (side === 'buy' ? b.price.cmp(a.price) : a.price.cmp(b.price)) || a.restedSeq - b.restedSeq);
  }

  private own(id: string, account: string): RefOrder | undefined {
    return this.orders.find((o) => o.id === id && o.account === account);
  }

  private remove(o: RefOrder): void {
    this.orders.splice(this.orders.indexOf(o), 1);
  }

  private cancel(o: RefOrder, reason: CancelReason, version: string | null, iso: string, out: BookEvent[]): void {
    this.remove(o);
    out.push({
      type: 'OrderCancelled',
      data: {
        orderId: o.id,
        account: o.account,
        reason,
        cancelledLots: o.quantityLots - o.filledLots,
        filledLots: o.filledLots,
        guidanceVersion: version,
        cancelledAt: iso,
      },
    });
  }

  private expire(o: RefOrder, reason: 'GTD' | 'TRADING_CUT_OFF', at: string, out: BookEvent[]): void {
    this.remove(o);
    out.push({
      type: 'OrderExpired',
      data: {
        orderId: o.id,
        account: o.account,
        reason,
        expiredLots: o.quantityLots - o.filledLots,
        filledLots: o.filledLots,
        expiredAt: new Date(Date.parse(at)).toISOString(),
      },
    });
  }

  private bandRecord(): BandRecord {
    const b = this.band;
    return b
      ? { floor: b.floor.toFixed(), ceiling: b.ceiling?.toFixed() ?? null, guidanceVersion: b.versionId }
      : { floor: null, ceiling: null, guidanceVersion: null };
  }

  private stale(m: CommandMetadata): boolean {
    return m.guidanceSeenAt === null || m.now - m.guidanceSeenAt > this.maxLagMs;
  }

  /** Why a price is refused, or null. */
  private priceProblem(price: unknown): RejectCode | null {
    if (!isDecimalString(price) || new Dec(price).lte(0)) return 'MATCHING.INVALID_PRICE';
    const p = new Dec(price);
    if (!p.mod(this.tick).isZero()) return 'MATCHING.OFF_TICK';
    if (p.div(this.tick).gt(1_000_000_000)) return 'MATCHING.INVALID_PRICE';
    return null;
  }

  private bandProblem(price: Dec): RejectCode | null {
    if (this.band === null) return null;
    if (price.lt(this.band.floor)) return 'MATCHING.BELOW_FLOOR';
    if (this.band.ceiling !== null && price.gt(this.band.ceiling)) return 'MATCHING.ABOVE_CEILING';
    return null;
  }

  private exposure(account: string): { lots: number; notional: Dec } {
    let lots = 0;
    let notional = new Dec(0);
    for (const o of this.orders) {
      if (o.account !== account) continue;
      lots += o.quantityLots - o.filledLots;
      notional = notional.plus(o.price.mul(o.quantityLots - o.filledLots).mul(this.lotSize));
    }
    return { lots, notional };
  }

  private refuse(
    out: BookEvent[],
    action: 'CANCEL' | 'REDUCE' | 'REPRICE',
    d: { orderId: string; account: string },
    code: RejectCode,
    field: string | null,
    m: CommandMetadata,
    noBand = false,
  ): void {
    const band = noBand ? { floor: null, ceiling: null, guidanceVersion: null } : this.bandRecord();
    out.push({
      type: 'ModificationRejected',
      data: {
        orderId: d.orderId,
        account: d.account,
        action,
        code,
        field,
        ...band,
        rejectedAt: new Date(m.now).toISOString(),
      },
    });
  }

  private place(cmd: PlaceOrder, out: BookEvent[]): void {
    const d = cmd.data;
    const now = cmd.metadata.now;
    const iso = new Date(now).toISOString();
    const problem = ((): [RejectCode, string | null] | null => {
      if (!this.opened || d.instrument !== this.instrument) return ['MATCHING.UNKNOWN_INSTRUMENT', 'instrument'];
      const priceCode = this.priceProblem(d.price);
      if (priceCode) return [priceCode, 'price'];
      if (!Number.isInteger(d.quantityLots) || d.quantityLots <= 0 || d.quantityLots > 1_000_000)
        return ['MATCHING.INVALID_QUANTITY', 'quantityLots'];
      if (d.timeInForce === 'GTD') {
        if (!d.expiresAt) return ['MATCHING.INVALID_EXPIRES_AT', 'expiresAt'];
        if (Date.parse(d.expiresAt) <= now) return ['MATCHING.GTD_EXPIRED', 'expiresAt'];
      } else if (d.expiresAt != null) return ['MATCHING.INVALID_EXPIRES_AT', 'expiresAt'];
      if (d.postOnly && (d.timeInForce === 'IOC' || d.timeInForce === 'FOK'))
        return ['MATCHING.INVALID_POST_ONLY', 'postOnly'];
      if (this.clientIds.has(`${d.account}/${d.clientOrderId}`))
        return ['MATCHING.DUPLICATE_CLIENT_ORDER_ID', 'clientOrderId'];
      if (this.closed) return ['MATCHING.TRADING_CLOSED', null];
      if (this.halted) return ['MATCHING.MARKET_HALTED', null];
      if (this.stale(cmd.metadata)) return ['MATCHING.GUIDANCE_STALE', null];
      const bandCode = this.bandProblem(new Dec(d.price));
      if (bandCode) return [bandCode, 'price'];
      const limitCode = this.limitProblem(
        d.account,
        d.limits ?? null,
        d.elsewhere ?? null,
        d.quantityLots,
        new Dec(d.price).mul(d.quantityLots),
      );
      if (limitCode) return [limitCode, limitCode === 'MATCHING.MAX_OPEN_QUANTITY_EXCEEDED' ? 'quantityLots' : 'price'];
      return null;
    })();
    if (problem) {
      out.push({
        type: 'OrderRejected',
        data: {
          orderId: d.orderId,
          clientOrderId: d.clientOrderId,
          account: d.account,
          instrument: d.instrument,
          side: d.side,
          price: d.price,
          quantityLots: d.quantityLots,
          timeInForce: d.timeInForce,
          code: problem[0],
          field: problem[1],
          ...this.bandRecord(),
          rejectedAt: iso,
        },
      });
      return;
    }
    const price = new Dec(d.price);
    this.clientIds.add(`${d.account}/${d.clientOrderId}`);
    out.push({
      type: 'OrderAccepted',
      data: {
        orderId: d.orderId,
        clientOrderId: d.clientOrderId,
        account: d.account,
        instrument: d.instrument,
        side: d.side,
        price: price.toFixed(),
        priceTicks: price.div(this.tick).toNumber(),
        quantityLots: d.quantityLots,
        timeInForce: d.timeInForce,
        expiresAt: d.expiresAt ?? null,
        postOnly: d.postOnly === true,
        ...this.bandRecord(),
        acceptedAt: iso,
      },
    });
    const o: RefOrder = {
      id: d.orderId,
      clientOrderId: d.clientOrderId,
      account: d.account,
      side: d.side,
      price,
      quantityLots: d.quantityLots,
      filledLots: 0,
      timeInForce: d.timeInForce,
      expiresAt: d.expiresAt ?? null,
      postOnly: d.postOnly === true,
      restedSeq: 0,
    };
    this.match(o, o.postOnly, iso, out);
  }

  private limitProblem(
    account: string,
    limits: AccountLimits | null,
    elsewhere: ExposureElsewhere | null,
    addLots: number,
    addNotionalTicksTimesTick: Dec,
  ): RejectCode | null {
    // The limits hold across the account's books: what it has open elsewhere counts too.
    const e = this.exposure(account);
    const lotsElsewhere = elsewhere?.openLots ?? 0;
    const notionalElsewhere = new Dec(elsewhere?.openNotional ?? 0);
    if (limits?.maxOpenQuantityLots != null && lotsElsewhere + e.lots + addLots > limits.maxOpenQuantityLots)
      return 'MATCHING.MAX_OPEN_QUANTITY_EXCEEDED';
    if (
      limits?.maxOpenNotional != null &&
      notionalElsewhere.plus(e.notional).plus(addNotionalTicksTimesTick.mul(this.lotSize)).gt(limits.maxOpenNotional)
    ) {
      return 'MATCHING.MAX_OPEN_NOTIONAL_EXCEEDED';
    }
    return null;
  }

  private crosses(taker: RefOrder, maker: RefOrder): boolean {
    return taker.side === 'buy' ? maker.price.lte(taker.price) : maker.price.gte(taker.price);
  }

  /** Matches an incoming (or repriced) order, then rests or cancels what is left. */
  private match(t: RefOrder, postOnly: boolean, iso: string, out: BookEvent[]): void {
    const opposite = this.queue(t.side === 'buy' ? 'sell' : 'buy').filter((m) => this.crosses(t, m));
    const cancelTaker = (reason: CancelReason) =>
      out.push({
        type: 'OrderCancelled',
        data: {
          orderId: t.id,
          account: t.account,
          reason,
          cancelledLots: t.quantityLots - t.filledLots,
          filledLots: t.filledLots,
          guidanceVersion: null,
          cancelledAt: iso,
        },
      });
    if (postOnly && opposite.length > 0) return void cancelTaker('POST_ONLY_WOULD_CROSS');
    if (!postOnly && t.timeInForce === 'FOK') {
      const available = opposite
        .filter((m) => m.account !== t.account)
        .reduce((s, m) => s + m.quantityLots - m.filledLots, 0);
      if (available < t.quantityLots - t.filledLots) return void cancelTaker('FOK_UNFILLED');
    }
    for (const m of opposite) {
      if (t.filledLots === t.quantityLots) break;
      if (m.account === t.account) {
        this.cancel(m, 'SELF_TRADE', null, iso, out);
        continue;
      }
      const q = Math.min(t.quantityLots - t.filledLots, m.quantityLots - m.filledLots);
      t.filledLots += q;
      m.filledLots += q;
      this.trades++;
      const buy = t.side === 'buy';
      out.push({
        type: 'TradeExecuted',
        data: {
          tradeId: `${this.instrument}-${this.trades}`,
          sequence: this.trades,
          instrument: this.instrument,
          price: m.price.toFixed(),
          priceTicks: m.price.div(this.tick).toNumber(),
          quantityLots: q,
          makerOrderId: m.id,
          takerOrderId: t.id,
          buyOrderId: buy ? t.id : m.id,
          sellOrderId: buy ? m.id : t.id,
          buyerAccount: buy ? t.account : m.account,
          sellerAccount: buy ? m.account : t.account,
          makerSide: m.side,
          ...this.bandRecord(),
          executedAt: iso,
        },
      });
      if (m.filledLots === m.quantityLots) this.remove(m);
    }
    if (t.filledLots === t.quantityLots) return;
    if (t.timeInForce === 'IOC') return void cancelTaker('IOC_REMAINDER');
    t.restedSeq = ++this.restCounter;
    this.orders.push(t);
    out.push({
      type: 'OrderRested',
      data: {
        orderId: t.id,
        clientOrderId: t.clientOrderId,
        account: t.account,
        side: t.side,
        price: t.price.toFixed(),
        priceTicks: t.price.div(this.tick).toNumber(),
        quantityLots: t.quantityLots,
        filledLots: t.filledLots,
        remainingLots: t.quantityLots - t.filledLots,
        timeInForce: t.timeInForce,
        expiresAt: t.expiresAt,
        postOnly: t.postOnly,
        restedAt: iso,
      },
    });
  }

  private reprice(
    d: {
      orderId: string;
      account: string;
      instrument: string;
      price: string;
      limits?: AccountLimits | null;
      elsewhere?: ExposureElsewhere | null;
    },
    m: CommandMetadata,
    out: BookEvent[],
  ): void {
    const iso = new Date(m.now).toISOString();
    if (!this.opened || d.instrument !== this.instrument)
      return this.refuse(out, 'REPRICE', d, 'MATCHING.UNKNOWN_INSTRUMENT', 'instrument', m, true);
    const o = this.own(d.orderId, d.account);
    if (!o) return this.refuse(out, 'REPRICE', d, 'MATCHING.ORDER_NOT_FOUND', 'orderId', m);
    const priceCode = this.priceProblem(d.price);
    if (priceCode) return this.refuse(out, 'REPRICE', d, priceCode, 'price', m);
    if (this.halted) return this.refuse(out, 'REPRICE', d, 'MATCHING.MARKET_HALTED', null, m);
    if (this.stale(m)) return this.refuse(out, 'REPRICE', d, 'MATCHING.GUIDANCE_STALE', null, m);
    const price = new Dec(d.price);
    const bandCode = this.bandProblem(price);
    if (bandCode) return this.refuse(out, 'REPRICE', d, bandCode, 'price', m);
    const moved = { ...o, price };
    if (o.postOnly && this.orders.some((x) => x !== o && x.side !== o.side && this.crosses(moved, x))) {
      return this.refuse(out, 'REPRICE', d, 'MATCHING.POST_ONLY_WOULD_CROSS', 'price', m);
    }
    const delta = price.minus(o.price).mul(o.quantityLots - o.filledLots);
    if (
      delta.gt(0) &&
      this.limitProblem(
        o.account,
        { maxOpenQuantityLots: null, maxOpenNotional: d.limits?.maxOpenNotional ?? null },
        d.elsewhere ?? null,
        0,
        delta,
      )
    ) {
      return this.refuse(out, 'REPRICE', d, 'MATCHING.MAX_OPEN_NOTIONAL_EXCEEDED', 'price', m);
    }
    this.remove(o);
    out.push({
      type: 'OrderRepriced',
      data: {
        orderId: o.id,
        account: o.account,
        previousPrice: o.price.toFixed(),
        price: price.toFixed(),
        priceTicks: price.div(this.tick).toNumber(),
        remainingLots: o.quantityLots - o.filledLots,
        ...this.bandRecord(),
        repricedAt: iso,
      },
    });
    this.match(moved, false, iso, out);
  }
}
