import {
  Body,
  Controller,
  Delete,
  Get,
  Inject,
  type OnModuleDestroy,
  Param,
  Patch,
  Post,
  Query,
  Req,
  Res,
} from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiBearerAuth,
  ApiCreatedResponse,
  ApiForbiddenResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
  ApiUnauthorizedResponse,
  ApiUnprocessableEntityResponse,
} from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { CurrentPrincipal, type Principal, Roles, canRead } from '@cx/auth';
import type { CommandMetadata } from '@cx/event-store';
import type { MatchingEvent } from '../application/matching.events';
import { depthOf } from '../application/market.queries';
import { CommandMeta } from '@cx/auth';
import {
  AccountQueryDto,
  AmendOrderDto,
  CancelAllQueryDto,
  DepthQueryDto,
  OrdersQueryDto,
  PlaceOrderDto,
  QuoteQueryDto,
} from './matching.dto';
import { PageQueryDto } from '@cx/platform';
import { MatchingService } from './matching.service';
import { SseHub } from './sse';

const REJECTIONS =
  'A business rejection, recorded as OrderRejected / ModificationRejected: MATCHING.BELOW_FLOOR, ABOVE_CEILING, ' +
  'GUIDANCE_STALE, MARKET_HALTED, TRADING_CLOSED, DUPLICATE_CLIENT_ORDER_ID, MAX_OPEN_QUANTITY_EXCEEDED, ' +
  'MAX_OPEN_NOTIONAL_EXCEEDED, POST_ONLY_WOULD_CROSS';
/**
 * Who reads orders (DESIGN.md, roles): traders their own accounts', the market-wide readers everyone's. An
 * integrator or finance key reads allocations or statements of its accounts, not their orders.
 */
const ORDER_READERS = ['trader', 'admin', 'regulator', 'auditor'] as const;
const INPUT =
  'Malformed input, nothing recorded: VALIDATION.INVALID, MATCHING.UNKNOWN_INSTRUMENT, OFF_TICK, INVALID_PRICE, ' +
  'INVALID_QUANTITY, INVALID_EXPIRES_AT, GTD_EXPIRED, INVALID_POST_ONLY';

@ApiTags('market')
@ApiBearerAuth()
@ApiUnauthorizedResponse({ description: 'AUTH.UNAUTHENTICATED, AUTH.KEY_EXPIRED or AUTH.KEY_REVOKED' })
@Controller('v1/orders')
export class OrdersController implements OnModuleDestroy {
  private readonly sse = new SseHub();

  constructor(@Inject(MatchingService) private readonly matching: MatchingService) {}

  onModuleDestroy(): void {
    this.sse.closeAll();
  }

  @Post()
  @Roles('trader')
  @ApiOperation({
    summary: 'Place an order for one of the key’s accounts. A retry with the same clientOrderId answers the original.',
  })
  @ApiCreatedResponse({ description: 'The order as decided (it may have traded, rested, or been cancelled).' })
  @ApiOkResponse({ description: 'A retry: the original order, as it is now.' })
  @ApiBadRequestResponse({ description: INPUT })
  @ApiUnprocessableEntityResponse({ description: REJECTIONS })
  @ApiForbiddenResponse({ description: 'AUTH.FORBIDDEN' })
  @ApiNotFoundResponse({ description: 'MATCHING.ACCOUNT_NOT_FOUND (not an account the key acts for)' })
  async place(
    @CurrentPrincipal() p: Principal,
    @Body() body: PlaceOrderDto,
    @CommandMeta() meta: CommandMetadata,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    const { order, replayed } = await this.matching.placeOrder(p, body, meta);
    void reply.status(replayed ? 200 : 201);
    return order;
  }

  @Get()
  @Roles(...ORDER_READERS)
  @ApiOperation({ summary: 'Orders of the accounts the caller may read, newest last.' })
  list(@CurrentPrincipal() p: Principal, @Query() q: OrdersQueryDto) {
    return this.matching.listOrders(p, q);
  }

  @Get('stream')
  @Roles(...ORDER_READERS)
  @ApiOperation({ summary: 'Server-Sent Events: the caller’s own fills, cancellations and expiries.' })
  stream(@CurrentPrincipal() p: Principal, @Req() req: FastifyRequest, @Res() reply: FastifyReply): void {
    const s = this.sse.start(req, reply);
    const off = this.matching.engine.onCommitted((instrument, events) => {
      for (const e of events) {
        if (e.type === 'TradeExecuted') {
          const d = e.data;
          for (const [account, orderId, side] of [
            [d.buyerAccount, d.buyOrderId, 'buy'],
            [d.sellerAccount, d.sellOrderId, 'sell'],
          ] as const) {
            if (!canRead(p, account)) continue;
            s.send('fill', {
              orderId,
              account,
              side,
              instrumentId: instrument,
              tradeId: d.tradeId,
              price: d.price,
              quantityLots: d.quantityLots,
              maker: d.makerSide === side,
              executedAt: d.executedAt,
            });
          }
        } else if ((e.type === 'OrderCancelled' || e.type === 'OrderExpired') && canRead(p, e.data.account)) {
          s.send(e.type === 'OrderCancelled' ? 'cancelled' : 'expired', { instrumentId: instrument, ...e.data });
        }
      }
    });
    s.onClose(off);
  }

  @Get(':id')
  @Roles(...ORDER_READERS)
  @ApiOperation({ summary: 'One order. Another tenant’s order answers 404, as if it did not exist.' })
  @ApiNotFoundResponse({ description: 'MATCHING.ORDER_NOT_FOUND' })
  get(@CurrentPrincipal() p: Principal, @Param('id') id: string) {
    return this.matching.getOrder(p, id);
  }

  @Patch(':id')
  @Roles('trader')
  @ApiOperation({ summary: 'Reduce (quantityLots, keeps priority) or reprice (price, loses priority) an order.' })
  @ApiNotFoundResponse({ description: 'MATCHING.ORDER_NOT_FOUND' })
  @ApiBadRequestResponse({ description: 'VALIDATION.INVALID, MATCHING.INVALID_AMENDMENT, INVALID_QUANTITY, OFF_TICK' })
  @ApiUnprocessableEntityResponse({ description: REJECTIONS })
  amend(
    @CurrentPrincipal() p: Principal,
    @Param('id') id: string,
    @Body() body: AmendOrderDto,
    @CommandMeta() meta: CommandMetadata,
  ) {
    return this.matching.amendOrder(p, id, body, meta);
  }

  @Delete(':id')
  @Roles('trader')
  @ApiOperation({ summary: 'Cancel one resting order.' })
  @ApiNotFoundResponse({ description: 'MATCHING.ORDER_NOT_FOUND (also for an order no longer resting)' })
  cancel(@CurrentPrincipal() p: Principal, @Param('id') id: string, @CommandMeta() meta: CommandMetadata) {
    return this.matching.cancelOrder(p, id, meta);
  }

  @Delete()
  @Roles('trader')
  @ApiOperation({ summary: 'Kill switch: cancel every resting order of the account, on every instrument.' })
  cancelAll(@CurrentPrincipal() p: Principal, @Query() q: CancelAllQueryDto, @CommandMeta() meta: CommandMetadata) {
    return this.matching.cancelAll(p, q.account, meta);
  }
}

@ApiTags('market')
@ApiBearerAuth()
@ApiUnauthorizedResponse({ description: 'AUTH.UNAUTHENTICATED, AUTH.KEY_EXPIRED or AUTH.KEY_REVOKED' })
@Controller('v1')
export class MarketController implements OnModuleDestroy {
  private readonly sse = new SseHub();

  constructor(@Inject(MatchingService) private readonly matching: MatchingService) {}

  onModuleDestroy(): void {
    this.sse.closeAll();
  }

  @Get('instruments')
  @ApiOperation({ summary: 'Listed instruments: status, best bid and ask, last price.' })
  instruments(@Query() q: PageQueryDto) {
    return this.matching.listInstruments(q);
  }

  @Get('allocations')
  @Roles('trader', 'integrator', 'admin', 'auditor', 'regulator')
  @ApiOperation({
    summary: 'Allocations where the caller’s accounts are provider or buyer (all, market-wide readers).',
  })
  allocations(@CurrentPrincipal() p: Principal, @Query() q: AccountQueryDto) {
    return this.matching.listAllocations(p, q);
  }

  @Get('market/:instrument/depth')
  @ApiOperation({ summary: 'Anonymised depth: price levels with total lots and order counts.' })
  @ApiNotFoundResponse({ description: 'MATCHING.UNKNOWN_INSTRUMENT' })
  depth(@Param('instrument') instrument: string, @Query() q: DepthQueryDto) {
    const levels = Math.min(500, Math.max(1, Number(q.levels ?? '20')));
    return this.matching.depth(instrument, levels);
  }

  @Get('market/:instrument/trades')
  @ApiOperation({ summary: 'The tape, oldest first.' })
  trades(@Param('instrument') instrument: string, @Query() q: PageQueryDto) {
    return this.matching.trades(instrument, q);
  }

  @Get('market/:instrument/quote')
  @ApiOperation({ summary: 'What taking a quantity from the book would cost now, or that it cannot be filled.' })
  quote(@Param('instrument') instrument: string, @Query() q: QuoteQueryDto) {
    return this.matching.quote(instrument, q.side, Number(q.quantity));
  }

  @Get('market/:instrument/stream')
  @ApiOperation({ summary: 'Server-Sent Events: depth after every change, and every trade.' })
  stream(@Param('instrument') instrument: string, @Req() req: FastifyRequest, @Res() reply: FastifyReply): void {
    this.matching.assertInstrument(instrument);
    const s = this.sse.start(req, reply);
    const h = this.matching.engine.handle(instrument)!;
    s.send('depth', { instrumentId: instrument, ...depthOf(h.book, 20) });
    const off = this.matching.engine.onCommitted((id, events: readonly MatchingEvent[]) => {
      if (id !== instrument) return;
      let changed = false;
      for (const e of events) {
        if (e.type === 'TradeExecuted') {
          const d = e.data;
          s.send('trade', {
            instrumentId: id,
            tradeId: d.tradeId,
            sequence: d.sequence,
            price: d.price,
            quantityLots: d.quantityLots,
            aggressorSide: d.makerSide === 'buy' ? 'sell' : 'buy',
            executedAt: d.executedAt,
          });
        }
        if (DEPTH_EVENTS.has(e.type)) changed = true;
      }
      if (changed) s.send('depth', { instrumentId: id, ...depthOf(h.book, 20) });
    });
    s.onClose(off);
  }
}

const DEPTH_EVENTS = new Set([
  'OrderRested',
  'TradeExecuted',
  'OrderCancelled',
  'OrderExpired',
  'OrderReduced',
  'OrderRepriced',
]);
