import { Inject, Injectable } from '@nestjs/common';
import { CatchUpProjection, EVENT_STORE, type EventStore, type Position } from '@cx/event-store';
import { WEBHOOK_STREAM_PREFIX } from '../domain/endpoint/webhook.events';
import { WebhooksReadModel } from './webhooks.read-model';

/** The read model and the subscription that keeps it current; writers wait on it to read their own writes. */
@Injectable()
export class WebhooksProjection {
  readonly model = new WebhooksReadModel();
  private readonly projection: CatchUpProjection<WebhooksReadModel>;

  constructor(@Inject(EVENT_STORE) store: EventStore) {
    this.projection = new CatchUpProjection(store, this.model, {
      name: 'webhooks',
      streamNamePrefixes: [WEBHOOK_STREAM_PREFIX],
    });
  }

  ready(): Promise<void> {
    return this.projection.ready();
  }

  caughtUpTo(position: Position): Promise<void> {
    return this.projection.caughtUpTo(position);
  }

  /** Called by the delivery worker once its attempts have finished, before CoreModule closes the store. */
  async stop(): Promise<void> {
    await this.projection.stop();
  }
}
