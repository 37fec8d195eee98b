import { Inject, Injectable } from '@nestjs/common';
import {
  CancelReason,
  decodeEvent,
  GuidanceChangeKind,
  type Money,
  PeriodKind,
  ReporterRole,
  Side,
  type Timestamp,
  timestampDate,
} from '@cx/contracts';
import { type DeliveredMessage, TopicHandler } from '@cx/messaging';
import { AlertEvaluator } from '../application/alert-evaluator';
import { DeliveryWorker } from '../application/delivery.worker';
import {
  ALLOCATIONS_TOPIC,
  GUIDANCE_TOPIC,
  INDEX_TOPIC,
  MARKET_STATUS_TOPIC,
  ORDERS_TOPIC,
  PERIODS_TOPIC,
  SETTLEMENTS_TOPIC,
  STATEMENTS_TOPIC,
  TRADES_TOPIC,
  USAGE_TOPIC,
  WEBHOOKS_GROUP,
} from './webhooks-integration';

// The integration events the webhooks service hears, mapped to the webhook event types of issue 11 and to the
// inputs of participants' alert rules. Each event goes only to the accounts it concerns, with what each may see
// (a trade's buyer learns its side and price, not who sold). Guidance changes, market halts and period closes are
// market-wide. Delivery is at least once: scheduling is idempotent per endpoint and event id.
//
// `usage.rejected` comes from metering's UsageRejected (usage an integrator produced to Kafka and metering refused)
// and goes to the account the submission reported for only. Usage refused over HTTP is not published: the caller
// has the codes in the answer.

const money = (m: Money | undefined) => (m ? { amount: m.amount, currency: m.currency } : null);
const iso = (t: Timestamp | undefined): string | null => (t ? timestampDate(t).toISOString() : null);
const when = (t: Timestamp | undefined): Date => (t ? timestampDate(t) : new Date(0));
/** The input an alert rule judges: the integration event's id and when its producer recorded it. */
const inputOf = (env: { eventId: string; recordedAt?: Timestamp; occurredAt?: Timestamp }) => ({
  id: env.eventId,
  recordedAt: when(env.recordedAt ?? env.occurredAt).toISOString(),
});

const sideName = (s: Side): 'bid' | 'ask' | null => (s === Side.BID ? 'bid' : s === Side.ASK ? 'ask' : null);
const cancelReason = (r: CancelReason): string =>
  (
    ({
      [CancelReason.REQUESTED]: 'requested',
      [CancelReason.EXPIRED]: 'expired',
      [CancelReason.UNFILLED]: 'unfilled',
      [CancelReason.HALTED]: 'halted',
      [CancelReason.OUTSIDE_BAND]: 'outside-band',
      [CancelReason.SELF_TRADE]: 'self-trade',
    }) as Record<number, string>
  )[r] ?? 'unspecified';

@Injectable()
export class IntegrationConsumers {
  constructor(
    @Inject(DeliveryWorker) private readonly worker: DeliveryWorker,
    @Inject(AlertEvaluator) private readonly alerts: AlertEvaluator,
  ) {}

  @TopicHandler(TRADES_TOPIC, { group: WEBHOOKS_GROUP })
  async onTrade(m: DeliveredMessage): Promise<void> {
    const ev = decodeEvent(TRADES_TOPIC, m.value);
    if (ev.event.case !== 'tradeExecuted' || !ev.envelope) return;
    const t = ev.event.value;
    const occurredAt = when(ev.envelope.occurredAt);
    const common = {
      tradeId: t.tradeId,
      instrumentId: t.instrumentId,
      resourceClass: t.resourceClass,
      region: t.region,
      deliveryDay: t.deliveryDay,
      price: money(t.price),
      quantity: t.quantity,
      guidanceVersionId: t.guidanceVersionId ?? null,
    };
    const aggressor = sideName(t.aggressorSide);
    await this.worker.dispatch({
      eventId: ev.envelope.eventId,
      type: 'trade.executed',
      occurredAt,
      audience: {
        kind: 'accounts',
        recipients: [
          {
            accountId: t.buyerAccountId,
            data: {
              ...common,
              accountId: t.buyerAccountId,
              side: 'buy',
              orderId: t.buyOrderId,
              liquidity: aggressor === 'bid' ? 'taker' : 'maker',
            },
          },
          {
            accountId: t.sellerAccountId,
            data: {
              ...common,
              accountId: t.sellerAccountId,
              side: 'sell',
              orderId: t.sellOrderId,
              liquidity: aggressor === 'ask' ? 'taker' : 'maker',
            },
          },
        ],
      },
    });
    if (t.price) {
      await this.alerts.onPrice({
        source: 'last-trade',
        resourceClass: t.resourceClass,
        region: t.region || null,
        price: t.price.amount,
        currency: t.price.currency,
        at: occurredAt,
        input: inputOf(ev.envelope),
      });
    }
  }

  @TopicHandler(ALLOCATIONS_TOPIC, { group: WEBHOOKS_GROUP })
  async onAllocation(m: DeliveredMessage): Promise<void> {
    const ev = decodeEvent(ALLOCATIONS_TOPIC, m.value);
    if (ev.event.case !== 'allocationCreated' || !ev.envelope) return;
    const a = ev.event.value;
    await this.alerts.onAllocation(ev.envelope.eventId, {
      allocationId: a.allocationId,
      providerAccountId: a.providerAccountId,
      buyerAccountId: a.buyerAccountId,
      quantityHours: a.quantity,
      start: when(a.deliveryStart),
      end: when(a.deliveryEnd),
    });
    const data = (accountId: string, role: 'provider' | 'buyer') => ({
      allocationId: a.allocationId,
      tradeId: a.tradeId,
      accountId,
      role,
      instrumentId: a.instrumentId,
      resourceClass: a.resourceClass,
      region: a.region,
      quantity: a.quantity,
      unit: 'accelerator-hour',
      price: money(a.price),
      deliveryStart: iso(a.deliveryStart),
      deliveryEnd: iso(a.deliveryEnd),
    });
    await this.worker.dispatch({
      eventId: ev.envelope.eventId,
      type: 'allocation.created',
      occurredAt: when(ev.envelope.occurredAt),
      audience: {
        kind: 'accounts',
        recipients: [
          { accountId: a.buyerAccountId, data: data(a.buyerAccountId, 'buyer') },
          { accountId: a.providerAccountId, data: data(a.providerAccountId, 'provider') },
        ],
      },
    });
  }

  @TopicHandler(ORDERS_TOPIC, { group: WEBHOOKS_GROUP })
  async onOrder(m: DeliveredMessage): Promise<void> {
    const ev = decodeEvent(ORDERS_TOPIC, m.value);
    if (ev.event.case !== 'orderCancelled' || !ev.envelope) return;
    const o = ev.event.value;
    await this.worker.dispatch({
      eventId: ev.envelope.eventId,
      type: 'order.cancelled',
      occurredAt: when(ev.envelope.occurredAt),
      audience: {
        kind: 'accounts',
        recipients: [
          {
            accountId: o.accountId,
            data: {
              orderId: o.orderId,
              clientOrderId: o.clientOrderId,
              accountId: o.accountId,
              instrumentId: o.instrumentId,
              side: sideName(o.side),
              reason: cancelReason(o.reason),
              cancelledQuantity: o.cancelledQuantity,
              filledQuantity: o.filledQuantity,
              guidanceVersionId: o.guidanceVersionId ?? null,
            },
          },
        ],
      },
    });
  }

  @TopicHandler(STATEMENTS_TOPIC, { group: WEBHOOKS_GROUP })
  async onStatement(m: DeliveredMessage): Promise<void> {
    const ev = decodeEvent(STATEMENTS_TOPIC, m.value);
    if (ev.event.case !== 'statementIssued' || !ev.envelope) return;
    const s = ev.event.value;
    await this.worker.dispatch({
      eventId: ev.envelope.eventId,
      type: 'statement.issued',
      occurredAt: when(ev.envelope.occurredAt),
      audience: {
        kind: 'accounts',
        recipients: [
          {
            accountId: s.accountId,
            data: {
              statementId: s.statementId,
              accountId: s.accountId,
              period: s.period,
              openingBalance: money(s.openingBalance),
              charges: money(s.charges),
              fees: money(s.fees),
              adjustments: money(s.adjustments),
              closingBalance: money(s.closingBalance),
              lineCount: s.lineCount,
              contentHash: s.contentHash,
              supersedesStatementId: s.supersedesStatementId ?? null,
            },
          },
        ],
      },
    });
  }

  @TopicHandler(PERIODS_TOPIC, { group: WEBHOOKS_GROUP })
  async onPeriod(m: DeliveredMessage): Promise<void> {
    const ev = decodeEvent(PERIODS_TOPIC, m.value);
    if (ev.event.case !== 'periodClosed' || !ev.envelope) return;
    const p = ev.event.value;
    await this.worker.dispatch({
      eventId: ev.envelope.eventId,
      type: 'period.closed',
      occurredAt: when(ev.envelope.occurredAt),
      audience: {
        kind: 'market',
        data: {
          period: p.period,
          kind: p.kind === PeriodKind.DAY ? 'day' : p.kind === PeriodKind.MONTH ? 'month' : null,
          start: iso(p.start),
          end: iso(p.end),
        },
      },
    });
  }

  @TopicHandler(GUIDANCE_TOPIC, { group: WEBHOOKS_GROUP })
  async onGuidance(m: DeliveredMessage): Promise<void> {
    const ev = decodeEvent(GUIDANCE_TOPIC, m.value);
    if (ev.event.case !== 'guidanceChanged' || !ev.envelope) return;
    const g = ev.event.value;
    const b = g.band;
    if (!b) return;
    const kind =
      g.kind === GuidanceChangeKind.ISSUED
        ? 'issued'
        : g.kind === GuidanceChangeKind.AMENDED
          ? 'amended'
          : g.kind === GuidanceChangeKind.WITHDRAWN
            ? 'withdrawn'
            : 'unspecified';
    await this.alerts.onBand(ev.envelope.eventId, {
      resourceClass: b.resourceClass,
      region: b.region ?? null,
      versionId: b.versionId,
      version: b.version,
      floor: b.floorPerAcceleratorHour?.amount ?? null,
      ceiling: b.ceilingPerAcceleratorHour?.amount ?? null,
      effectiveFrom: when(b.effectiveFrom),
      effectiveTo: b.effectiveTo ? timestampDate(b.effectiveTo) : null,
      withdrawn: g.kind === GuidanceChangeKind.WITHDRAWN,
    });
    await this.worker.dispatch({
      eventId: ev.envelope.eventId,
      type: 'guidance.changed',
      occurredAt: when(ev.envelope.occurredAt),
      audience: {
        kind: 'market',
        data: {
          change: kind,
          bandId: b.bandId,
          versionId: b.versionId,
          version: b.version.toString(),
          previousVersionId: g.previousVersionId ?? null,
          resourceClass: b.resourceClass,
          region: b.region ?? null,
          floorPerAcceleratorHour: money(b.floorPerAcceleratorHour),
          floorPerThousandTokens: money(b.floorPerThousandTokens),
          ceilingPerAcceleratorHour: money(b.ceilingPerAcceleratorHour),
          referencePrice: money(b.referencePrice),
          effectiveFrom: iso(b.effectiveFrom),
          effectiveTo: iso(b.effectiveTo),
          reason: b.reason,
        },
      },
    });
  }

  @TopicHandler(MARKET_STATUS_TOPIC, { group: WEBHOOKS_GROUP })
  async onMarketStatus(m: DeliveredMessage): Promise<void> {
    const ev = decodeEvent(MARKET_STATUS_TOPIC, m.value);
    if (ev.event.case !== 'marketHalted' || !ev.envelope) return;
    const h = ev.event.value;
    await this.worker.dispatch({
      eventId: ev.envelope.eventId,
      type: 'market.halted',
      occurredAt: when(ev.envelope.occurredAt),
      audience: {
        kind: 'market',
        data: {
          haltId: h.haltId,
          scope: {
            resourceClass: h.scope?.resourceClass ?? null,
            region: h.scope?.region ?? null,
            instrumentId: h.scope?.instrumentId ?? null,
          },
          reason: h.reason,
          resumesAt: iso(h.resumesAt),
        },
      },
    });
  }

  @TopicHandler(INDEX_TOPIC, { group: WEBHOOKS_GROUP })
  async onIndex(m: DeliveredMessage): Promise<void> {
    const ev = decodeEvent(INDEX_TOPIC, m.value);
    if (ev.event.case !== 'referenceIndexPublished' || !ev.envelope) return;
    const i = ev.event.value;
    if (!i.vwap) return;
    await this.alerts.onPrice({
      source: 'index',
      resourceClass: i.resourceClass,
      region: i.region ?? null,
      price: i.vwap.amount,
      currency: i.vwap.currency,
      at: when(ev.envelope.occurredAt),
      input: inputOf(ev.envelope),
    });
  }

  @TopicHandler(SETTLEMENTS_TOPIC, { group: WEBHOOKS_GROUP })
  async onSettlement(m: DeliveredMessage): Promise<void> {
    const ev = decodeEvent(SETTLEMENTS_TOPIC, m.value);
    if (ev.event.case !== 'settlementPosted' || !ev.envelope) return;
    const s = ev.event.value;
    if (!s.amount) return;
    await this.alerts.onSettlement({
      settlementId: s.settlementId,
      period: s.period,
      buyerAccountId: s.buyerAccountId,
      amount: s.amount.amount,
      fee: s.buyerFee?.amount ?? '0',
      currency: s.amount.currency,
      at: when(ev.envelope.occurredAt),
      input: inputOf(ev.envelope),
    });
  }

  @TopicHandler(USAGE_TOPIC, { group: WEBHOOKS_GROUP })
  async onUsage(m: DeliveredMessage): Promise<void> {
    const ev = decodeEvent(USAGE_TOPIC, m.value);
    if (!ev.envelope) return;
    const at = when(ev.envelope.occurredAt);
    const input = inputOf(ev.envelope);
    const e = ev.event;
    if (e.case === 'usageRejected') {
      const r = e.value;
      // A submission that named no account concerns no participant we can tell.
      if (r.accountId === '') return;
      await this.worker.dispatch({
        eventId: ev.envelope.eventId,
        type: 'usage.rejected',
        occurredAt: when(r.rejectedAt ?? ev.envelope.occurredAt),
        audience: {
          kind: 'accounts',
          recipients: [
            {
              accountId: r.accountId,
              data: {
                accountId: r.accountId,
                source: r.ref?.source || null,
                id: r.ref?.id || null,
                subject: r.subject ?? null,
                code: r.code,
                field: r.field || null,
                message: r.message,
                rejectedAt: iso(r.rejectedAt),
              },
            },
          ],
        },
      });
      return;
    }
    if (e.case === 'usageRecorded') {
      const u = e.value;
      if (u.subject.case !== 'allocationId' || u.meter !== 'accelerator_seconds') return;
      if (u.reporterRole !== ReporterRole.PROVIDER) return;
      await this.alerts.onReading({
        ref: `${u.ref?.source}/${u.ref?.id}`,
        allocationId: u.subject.value,
        seconds: u.quantity,
        at,
        input,
      });
    } else if (e.case === 'usageAmended') {
      await this.alerts.onReading({
        ref: `${e.value.ref?.source}/${e.value.ref?.id}`,
        allocationId: null,
        seconds: e.value.quantity,
        at,
        input,
      });
    } else if (e.case === 'usageVoided') {
      await this.alerts.onReading({
        ref: `${e.value.ref?.source}/${e.value.ref?.id}`,
        allocationId: null,
        seconds: '0',
        at,
        input,
      });
    }
  }
}
