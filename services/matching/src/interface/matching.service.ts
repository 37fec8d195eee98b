import { Inject, Injectable, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { canActFor, canRead, type Principal } from '@cx/auth';
import type { CommandMetadata } from '@cx/event-store';
import { CLOCK, type Clock, DomainError, type Page, paginate, parsePageRequest } from '@cx/shared-kernel';
import { MatchingEngine, orderNotFound } from '../application/matching.engine';
import type { AllocationRecord, OrderRecord } from '../application/market.read-model';
import { depthOf, instrumentSummary, quoteOf } from '../application/market.queries';
import type { AmendOrderDto, OrdersQueryDto, PlaceOrderDto } from './matching.dto';
import { PageQueryDto } from '@cx/platform';

const unknownInstrument = (id: string): DomainError =>
  DomainError.notFound('MATCHING.UNKNOWN_INSTRUMENT', `no instrument ${id}`);

/**
 * Matching for HTTP hosts: tenancy (another tenant's order answers 404, exactly like a missing one) on top of the
 * engine. Every write answers only after its events are durable (the engine resolves after the append).
 */
@Injectable()
export class MatchingService implements OnApplicationBootstrap, OnModuleDestroy {
  constructor(
    @Inject(MatchingEngine) readonly engine: MatchingEngine,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  // After every module's init, so pricing-guidance has written its starter catalog and identity is caught up.
  async onApplicationBootstrap(): Promise<void> {
    await this.engine.start();
  }

  async onModuleDestroy(): Promise<void> {
    await this.engine.stop();
  }

  async placeOrder(p: Principal, body: PlaceOrderDto, meta: CommandMetadata) {
    // Acting for another tenant's account answers as if the account did not exist.
    if (!canActFor(p, body.account)) throw DomainError.notFound('MATCHING.ACCOUNT_NOT_FOUND', 'account not found');
    return this.engine.placeOrder(
      {
        account: body.account,
        instrument: body.instrument,
        clientOrderId: body.clientOrderId,
        side: body.side,
        price: body.price,
        quantityLots: body.quantityLots,
        timeInForce: body.timeInForce,
        expiresAt: body.expiresAt ?? null,
        postOnly: body.postOnly ?? false,
      },
      meta,
    );
  }

  private readable(p: Principal, orderId: string): OrderRecord {
    const o = this.engine.order(orderId);
    if (o === undefined || !canRead(p, o.account)) throw orderNotFound();
    return o;
  }

  private own(p: Principal, orderId: string): OrderRecord {
    const o = this.engine.order(orderId);
    if (o === undefined || !canActFor(p, o.account)) throw orderNotFound();
    return o;
  }

  getOrder(p: Principal, orderId: string): OrderRecord {
    return this.readable(p, orderId);
  }

  listOrders(p: Principal, q: OrdersQueryDto): Page<OrderRecord> {
    const req = parsePageRequest(q);
    const accounts = q.account !== undefined ? [q.account] : this.engine.model.accountsWithOrders();
    let orders = accounts.filter((a) => canRead(p, a)).flatMap((a) => [...this.engine.model.ordersOf(a)]);
    if (accounts.length > 1) orders.sort((a, b) => (a.orderId < b.orderId ? -1 : a.orderId > b.orderId ? 1 : 0));
    if (q.status !== undefined) orders = orders.filter((o) => o.status === q.status);
    return paginate(orders, (o) => o.orderId, req);
  }

  amendOrder(p: Principal, orderId: string, body: AmendOrderDto, meta: CommandMetadata): Promise<OrderRecord> {
    const o = this.own(p, orderId);
    if ((body.quantityLots === undefined) === (body.price === undefined)) {
      throw new DomainError(
        'MATCHING.INVALID_AMENDMENT',
        'send exactly one of quantityLots (reduce) or price (reprice)',
        'invalid',
        [{ field: 'quantityLots', code: 'MATCHING.INVALID_AMENDMENT' }],
      );
    }
    return body.price !== undefined
      ? this.engine.repriceOrder(o.orderId, body.price, meta)
      : this.engine.reduceOrder(o.orderId, body.quantityLots as number, meta);
  }

  cancelOrder(p: Principal, orderId: string, meta: CommandMetadata): Promise<OrderRecord> {
    return this.engine.cancelOrder(this.own(p, orderId).orderId, meta);
  }

  async cancelAll(p: Principal, account: string, meta: CommandMetadata): Promise<{ cancelledOrderIds: string[] }> {
    if (!canActFor(p, account)) throw DomainError.notFound('MATCHING.ACCOUNT_NOT_FOUND', 'account not found');
    return { cancelledOrderIds: await this.engine.cancelAll(account, meta) };
  }

  listAllocations(p: Principal, q: PageQueryDto & { account?: string }): Page<AllocationRecord> {
    const req = parsePageRequest(q);
    const visible = this.engine.model
      .allAllocations()
      .filter(
        (a) =>
          (q.account === undefined || a.providerAccount === q.account || a.buyerAccount === q.account) &&
          (canRead(p, a.providerAccount) || canRead(p, a.buyerAccount)),
      );
    return paginate(visible, (a) => a.allocationId, req);
  }

  listInstruments(q: PageQueryDto) {
    const req = parsePageRequest(q);
    const page = paginate(this.engine.instrumentIds(), (id) => id, req);
    const now = this.clock.now().getTime();
    return {
      items: page.items.map((id) => {
        const h = this.engine.handle(id)!;
        const tape = this.engine.model.tapes.get(id);
        return instrumentSummary(h, tape?.[tape.length - 1], now);
      }),
      nextCursor: page.nextCursor,
    };
  }

  private handle(instrument: string) {
    const h = this.engine.handle(instrument);
    if (h === undefined) throw unknownInstrument(instrument);
    return h;
  }

  depth(instrument: string, levels: number) {
    const h = this.handle(instrument);
    return { instrumentId: instrument, ...depthOf(h.book, levels), currency: h.info.currency };
  }

  trades(instrument: string, q: PageQueryDto) {
    this.handle(instrument);
    const req = parsePageRequest(q);
    // Keys are zero-padded sequences, so the tape's order is the string order the paginator needs.
    const tape = this.engine.model.tapes.get(instrument) ?? [];
    return paginate(tape, (t) => String(t.sequence).padStart(12, '0'), req);
  }

  quote(instrument: string, side: 'buy' | 'sell', quantityLots: number) {
    return { instrumentId: instrument, ...quoteOf(this.handle(instrument), side, quantityLots) };
  }

  assertInstrument(instrument: string): void {
    this.handle(instrument);
  }
}
