import { comparePositions, type Position, type ProjectionModel, type RecordedEvent } from '@cx/event-store';
import { evolve, type OfferState } from '../domain/offer/offer.decider';
import { isOfferEvent, OFFER_STREAM_PREFIX, type OfferEvent } from '../domain/offer/offer.events';

// Every offer, in memory, folded with the aggregate's own `evolve`, so the list and the write side cannot
// disagree. Delivery is at least once: an event at or before the last applied position is ignored.

export type OfferView = NonNullable<OfferState>;

export const OFFER_STREAM_PREFIXES = [OFFER_STREAM_PREFIX];

export class OfferReadModel implements ProjectionModel {
  private readonly offers = new Map<string, OfferView>();
  private sorted: OfferView[] | null = null;
  private last: Position | null = null;

  get position(): Position | null {
    return this.last;
  }

  apply(e: Pick<RecordedEvent, 'type' | 'data' | 'position'>): boolean {
    if (this.last !== null && comparePositions(e.position, this.last) <= 0) return false;
    this.last = e.position;
    if (!isOfferEvent(e.type)) return false;
    const event = { type: e.type, data: e.data } as OfferEvent;
    const next = evolve(this.offers.get(event.data.offerId) ?? null, event);
    if (next === null) return false;
    this.offers.set(next.offerId, next);
    this.sorted = null;
    return true;
  }

  offer(offerId: string): OfferView | undefined {
    return this.offers.get(offerId);
  }

  /** Every offer, ordered by id (the pagination key). */
  all(): readonly OfferView[] {
    this.sorted ??= [...this.offers.values()].sort((a, b) =>
      a.offerId < b.offerId ? -1 : a.offerId > b.offerId ? 1 : 0,
    );
    return this.sorted;
  }
}
