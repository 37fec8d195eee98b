import type { RejectCode, Side, TimeInForce } from '../domain/order-book/order-book.events';
import type { AllocationCreated, MatchingEvent } from './matching.events';

// The market's read side, folded from the same events as the books, in the same step (one writer per book, so
// nothing can read a decision the store has not made durable: the engine folds only after the append resolves).
// Orders are kept after they leave the book (GET /v1/orders/{id} answers for filled, cancelled and rejected ones).

export type OrderStatus = 'open' | 'partially_filled' | 'filled' | 'cancelled' | 'expired' | 'rejected';

export interface OrderRecord {
  orderId: string;
  clientOrderId: string;
  account: string;
  instrument: string;
  side: Side;
  price: string;
  quantityLots: number;
  filledLots: number;
  remainingLots: number;
  timeInForce: TimeInForce;
  expiresAt: string | null;
  postOnly: boolean;
  status: OrderStatus;
  /** Why it was rejected, cancelled or expired; null while live or once filled. */
  reason: string | null;
  guidanceVersion: string | null;
  createdAt: string;
  updatedAt: string;
}

export interface TradeRecord {
  tradeId: string;
  sequence: number;
  instrument: string;
  price: string;
  quantityLots: number;
  aggressorSide: Side;
  guidanceVersion: string | null;
  floor: string | null;
  executedAt: string;
}

export type AllocationRecord = AllocationCreated['data'];

const sortKey =
  <T>(key: (t: T) => string) =>
  (a: T, b: T) =>
    key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0;

export class MarketReadModel {
  readonly orders = new Map<string, OrderRecord>();
  /** `${account}\u0000${clientOrderId}` → order id, for rejected orders too: an identical retry answers again. */
  readonly byClientId = new Map<string, string>();
  private readonly ordersByAccount = new Map<string, OrderRecord[]>();
  private readonly sortedAccounts = new Set<string>();
  readonly tapes = new Map<string, TradeRecord[]>();
  readonly allocations: AllocationRecord[] = [];
  private allocationsSorted = true;

  apply(instrument: string, e: MatchingEvent): void {
    switch (e.type) {
      case 'OrderAccepted': {
        const d = e.data;
        this.add({
          orderId: d.orderId,
          clientOrderId: d.clientOrderId,
          account: d.account,
          instrument,
          side: d.side,
          price: d.price,
          quantityLots: d.quantityLots,
          filledLots: 0,
          remainingLots: d.quantityLots,
          timeInForce: d.timeInForce,
          expiresAt: d.expiresAt,
          postOnly: d.postOnly,
          status: 'open',
          reason: null,
          guidanceVersion: d.guidanceVersion,
          createdAt: d.acceptedAt,
          updatedAt: d.acceptedAt,
        });
        return;
      }
      case 'OrderRejected': {
        const d = e.data;
        this.add({
          orderId: d.orderId,
          clientOrderId: d.clientOrderId,
          account: d.account,
          instrument,
          side: d.side,
          price: String(d.price),
          quantityLots: d.quantityLots,
          filledLots: 0,
          remainingLots: 0,
          timeInForce: d.timeInForce,
          expiresAt: null,
          postOnly: false,
          status: 'rejected',
          reason: d.code as RejectCode,
          guidanceVersion: d.guidanceVersion,
          createdAt: d.rejectedAt,
          updatedAt: d.rejectedAt,
        });
        return;
      }
      case 'TradeExecuted': {
        const d = e.data;
        for (const id of [d.makerOrderId, d.takerOrderId]) {
          const o = this.orders.get(id);
          if (o === undefined) continue;
          o.filledLots += d.quantityLots;
          o.remainingLots -= d.quantityLots;
          o.status = o.remainingLots === 0 ? 'filled' : 'partially_filled';
          o.updatedAt = d.executedAt;
        }
        let tape = this.tapes.get(instrument);
        if (tape === undefined) this.tapes.set(instrument, (tape = []));
        tape.push({
          tradeId: d.tradeId,
          sequence: d.sequence,
          instrument,
          price: d.price,
          quantityLots: d.quantityLots,
          aggressorSide: d.makerSide === 'buy' ? 'sell' : 'buy',
          guidanceVersion: d.guidanceVersion,
          floor: d.floor,
          executedAt: d.executedAt,
        });
        return;
      }
      case 'OrderCancelled':
      case 'OrderExpired': {
        const o = this.orders.get(e.data.orderId);
        if (o === undefined) return;
        o.remainingLots = 0;
        o.status = e.type === 'OrderCancelled' ? 'cancelled' : 'expired';
        o.reason = e.data.reason;
        o.updatedAt = e.type === 'OrderCancelled' ? e.data.cancelledAt : e.data.expiredAt;
        return;
      }
      case 'OrderReduced': {
        const o = this.orders.get(e.data.orderId);
        if (o === undefined) return;
        o.quantityLots = e.data.quantityLots;
        o.remainingLots = e.data.remainingLots;
        o.updatedAt = e.data.reducedAt;
        return;
      }
      case 'OrderRepriced': {
        const o = this.orders.get(e.data.orderId);
        if (o === undefined) return;
        o.price = e.data.price;
        o.guidanceVersion = e.data.guidanceVersion;
        o.updatedAt = e.data.repricedAt;
        return;
      }
      case 'AllocationCreated':
        this.allocations.push(e.data);
        this.allocationsSorted = false;
        return;
      default:
        return;
    }
  }

  private add(o: OrderRecord): void {
    this.orders.set(o.orderId, o);
    this.byClientId.set(`${o.account}\u0000${o.clientOrderId}`, o.orderId);
    let list = this.ordersByAccount.get(o.account);
    if (list === undefined) this.ordersByAccount.set(o.account, (list = []));
    list.push(o);
    this.sortedAccounts.delete(o.account);
  }

  orderByClientId(account: string, clientOrderId: string): OrderRecord | undefined {
    const id = this.byClientId.get(`${account}\u0000${clientOrderId}`);
    return id === undefined ? undefined : this.orders.get(id);
  }

  /** An account's orders sorted by id (UUIDv7: time order), for cursor pagination. */
  ordersOf(account: string): readonly OrderRecord[] {
    const list = this.ordersByAccount.get(account) ?? [];
    if (!this.sortedAccounts.has(account)) {
      list.sort(sortKey((o) => o.orderId));
      this.sortedAccounts.add(account);
    }
    return list;
  }

  accountsWithOrders(): string[] {
    return [...this.ordersByAccount.keys()];
  }

  /** Allocations sorted by id. */
  allAllocations(): readonly AllocationRecord[] {
    if (!this.allocationsSorted) {
      this.allocations.sort(sortKey((a) => a.allocationId));
      this.allocationsSorted = true;
    }
    return this.allocations;
  }
}
