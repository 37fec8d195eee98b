import { Inject, Injectable } from '@nestjs/common';
import { decodeEvent, timestampDate } from '@cx/contracts';
import { type DeliveredMessage, type SourceRef, TopicHandler, relaySourceOf } from '@cx/messaging';
import { SurveillanceService } from '../interface/surveillance.service';
import { PRICING_GUIDANCE_GROUP, TRADES_TOPIC } from './surveillance-publication';

// The tape reaches pricing-guidance as integration events (services never import each other): in embedded mode on
// the in-process bus, in distributed mode on Kafka, in group `pricing-guidance`. Delivery is at least once; the
// indexer applies each trade's effect once (see TradeIndexer) and resolves only once it is durable, so the offset
// is committed after the effect.

/** The store event a trade was recorded as: the envelope says (and the relay's header, for older messages). */
const sourceOfTrade = (
  m: DeliveredMessage,
  env: { eventId: string; source?: { streamId: string; streamRevision: bigint } } | undefined,
  tradeId: string,
): SourceRef => {
  if (env?.source?.streamId) {
    return { stream: env.source.streamId, revision: env.source.streamRevision, eventId: env.eventId || tradeId };
  }
  const header = relaySourceOf(m.headers);
  if (header !== undefined && /^\d+$/.test(header.revision)) {
    return { stream: header.stream, revision: BigInt(header.revision), eventId: header.eventId };
  }
  // No source at all: the trade is its own source, applied once by its id.
  return { stream: `trade-${tradeId}`, revision: 0n, eventId: tradeId };
};

@Injectable()
export class TradesConsumer {
  constructor(@Inject(SurveillanceService) private readonly surveillance: SurveillanceService) {}

  @TopicHandler(TRADES_TOPIC, { group: PRICING_GUIDANCE_GROUP })
  async onTrade(m: DeliveredMessage): Promise<void> {
    const event = decodeEvent(TRADES_TOPIC, m.value);
    if (event.event.case !== 'tradeExecuted') return;
    const t = event.event.value;
    const env = event.envelope;
    const fallback = `${m.topic}/${m.partition}/${m.offset}`;
    await this.surveillance.indexTrade(
      {
        tradeId: t.tradeId,
        instrumentId: t.instrumentId,
        tradeResourceClass: t.resourceClass,
        region: t.region,
        currency: t.price?.currency ?? '',
        price: t.price?.amount ?? '',
        quantity: t.quantity,
        // An absent floor is "no band was in force" (the contract keeps the distinction).
        floor: t.floor?.amount ? t.floor.amount : null,
        guidanceVersion: t.guidanceVersionId ?? null,
        executedAt: env?.occurredAt ? timestampDate(env.occurredAt) : null,
      },
      sourceOfTrade(m, env, t.tradeId),
      {
        correlationId: env?.correlationId || fallback,
        causationId: env?.eventId || fallback,
        actor: { service: 'pricing-guidance' },
      },
    );
  }
}
