import { Inject, Injectable, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { canActFor, type Principal } from '@cx/auth';
import { CatchUpProjection, type CommandMetadata, EVENT_STORE, type EventStore } from '@cx/event-store';
import { IdentityProjection } from '@cx/identity';
import { CLOCK, type Clock, newId, type Page, paginate, parsePageRequest } from '@cx/shared-kernel';
import { GuidanceView } from '../application/guidance-view';
import { listOffer, type OfferDeps, withdrawOffer } from '../application/offer.handlers';
import { OFFER_STREAM_PREFIXES, OfferReadModel, type OfferView } from '../application/offer.read-model';
import { accountNotFound, offerNotFound } from '../domain/offer/offer.decider';
import type { ListOfferDto, OffersQueryDto } from './offers.dto';

export interface OfferAnswer {
  offer: OfferView;
  /** True when this request recorded the offer (201); false for a retry answered from the record (200). */
  created: boolean;
}

/**
 * Offers over HTTP: commands through the handlers (load, decide, append), reads from a projection of the offer
 * streams that each write waits for, so a client reads its own listing at once. Offers are market listings:
 * every authenticated key may read them; only a key acting for the provider account (or admin, to withdraw)
 * may change one, and to any other key another tenant's offer answers 404, as if it did not exist.
 */
@Injectable()
export class OffersService implements OnModuleInit, OnModuleDestroy {
  private readonly model = new OfferReadModel();
  private readonly projection: CatchUpProjection<OfferReadModel>;
  private readonly deps: OfferDeps;

  constructor(
    @Inject(EVENT_STORE) store: EventStore,
    @Inject(CLOCK) clock: Clock,
    @Inject(GuidanceView) readonly guidance: GuidanceView,
    @Inject(IdentityProjection) private readonly identity: IdentityProjection,
  ) {
    this.projection = new CatchUpProjection(store, this.model, {
      name: 'billing-offers',
      streamNamePrefixes: OFFER_STREAM_PREFIXES,
    });
    this.deps = {
      store,
      clock,
      bandAt: (rc, region, at) => guidance.bandAt(rc, region, at),
      provider: (accountId) => {
        const account = this.identity.model.account(accountId);
        return account === undefined ? null : { kind: account.kind, currency: account.currency };
      },
    };
  }

  async onModuleInit(): Promise<void> {
    await Promise.all([this.projection.ready(), this.identity.ready(), this.guidance.ready()]);
  }

  async onModuleDestroy(): Promise<void> {
    await this.projection.stop();
  }

  async list(p: Principal, body: ListOfferDto, meta: CommandMetadata): Promise<OfferAnswer> {
    // A key that does not act for the account learns nothing about it, not even whether it exists.
    if (!canActFor(p, body.providerAccount)) throw accountNotFound(body.providerAccount);
    const result = await listOffer(this.deps, { ...body, offerId: body.offerId ?? newId('off') }, meta);
    if (result.position !== null) await this.projection.caughtUpTo(result.position);
    return { offer: result.offer, created: result.changed };
  }

  async withdraw(p: Principal, offerId: string, reason: string | null, meta: CommandMetadata): Promise<OfferView> {
    // The owner check runs on the offer as loaded for the decision, never on a projection that may lag.
    const result = await withdrawOffer(this.deps, offerId, reason, meta, (o) => canActFor(p, o.providerAccount));
    if (result.position !== null) await this.projection.caughtUpTo(result.position);
    return result.offer;
  }

  get(offerId: string): OfferView {
    const offer = this.model.offer(offerId);
    if (offer === undefined) throw offerNotFound(offerId);
    return offer;
  }

  page(q: OffersQueryDto): Page<OfferView> {
    const req = parsePageRequest(q);
    const wanted = (o: OfferView) =>
      (q.provider === undefined || o.providerAccount === q.provider) &&
      (q.resourceClass === undefined || o.resourceClass === q.resourceClass) &&
      (q.status === undefined || o.status === q.status);
    const all = this.model.all();
    const visible =
      q.provider === undefined && q.resourceClass === undefined && q.status === undefined ? all : all.filter(wanted);
    return paginate(visible, (o) => o.offerId, req);
  }

  /** The offer as the read model holds it, if any (tests, settlement). */
  offer(offerId: string): OfferView | undefined {
    return this.model.offer(offerId);
  }
}
