import {
  type BeforeApplicationShutdown,
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { v5 as uuidv5 } from 'uuid';
import {
  type CommandMetadata,
  EVENT_STORE,
  type EventStore,
  type NewEvent,
  type RecordedEvent,
  toNewEvents,
  WrongExpectedVersion,
} from '@cx/event-store';
import { CLOCK, type Clock } from '@cx/shared-kernel';
import type { AlertFired } from '../domain/alerts/alert-rule';
import { type BackoffPolicy, nextAttemptAt } from '../domain/delivery/backoff';
import { SIGNATURE_HEADER, signatureHeader } from '../domain/delivery/signature';
import {
  type DeliveryAttempted,
  type DeliveryGaveUp,
  type DeliveryRedeliveryRequested,
  type DeliveryScheduled,
  deliveryStream,
  endpointStream,
  type WebhookMarkedFailing,
  type WebhookRecovered,
} from '../domain/endpoint/webhook.events';
import { WEBHOOKS_CONFIG, type WebhooksConfig } from '../config';
import { postWebhook, type SendResult } from '../infrastructure/http-sender';
import { openSecret, parseSecretKey, SecretUnavailable } from '../infrastructure/secret-box';
import type { Outgoing } from './outgoing';
import { WebhooksProjection } from './webhooks.projection';
import type { AlertView, DeliveryState, EndpointState } from './webhooks.read-model';

// The delivery worker. A delivery is recorded (DeliveryScheduled, at `no_stream` under an id derived from the
// endpoint and the event) before anything is sent, so a redelivered integration event schedules nothing new and a
// restart finds every pending delivery in the store. Each attempt is an event appended at the revision the
// worker read; a delivery recorded as succeeded is never attempted again (only an explicit redeliver reopens it).
// At least once: an attempt interrupted by a crash before its outcome was recorded is sent again after restart.
// Per-endpoint ordering is not promised.

const DELIVERY_ID_NAMESPACE = '1d0f4a3c-5a0e-4b8e-9d3a-2b7c6e1f9a44';
const FAILING_ALERT_NAMESPACE = '7e2b9c1d-3f4a-4c5b-8d6e-0a1b2c3d4e5f';

export const deliveryIdFor = (webhookId: string, eventId: string): string =>
  uuidv5(`${webhookId}\u0000${eventId}`, DELIVERY_ID_NAMESPACE);

const actor = { service: 'webhooks' };

@Injectable()
export class DeliveryWorker implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly log = new Logger('DeliveryWorker');
  private readonly inFlight = new Map<string, Promise<void>>();
  private timer: NodeJS.Timeout | null = null;
  private live = false;
  private stopping = false;
  private readonly policy: BackoffPolicy;
  private readonly sealingKey: Buffer | null;

  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(WEBHOOKS_CONFIG) private readonly config: WebhooksConfig,
    @Inject(WebhooksProjection) private readonly projection: WebhooksProjection,
  ) {
    this.policy = { baseMs: config.backoffBaseMs, maxMs: config.backoffMaxMs, maxAgeMs: config.maxAgeMs };
    this.sealingKey = parseSecretKey(config.secretKeyHex);
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.projection.ready();
    this.projection.model.onApplied((e) => this.onOwnEvent(e));
    this.live = true;
    // Alerts raised while nothing was listening (or before a crash) are scheduled now; scheduling is idempotent.
    for (const alert of this.projection.model.alerts) await this.dispatchAlert(alert);
    this.timer = setInterval(() => this.tick(), this.config.pollMs);
    this.tick();
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.stopping = true;
    if (this.timer) clearInterval(this.timer);
    await Promise.allSettled([...this.inFlight.values()]);
    await this.projection.stop();
  }

  /** Schedules one delivery per endpoint that should hear the event (the consumers call this). */
  async dispatch(out: Outgoing): Promise<void> {
    await this.projection.ready();
    const model = this.projection.model;
    const targets = new Map<string, { endpoint: EndpointState; data: unknown }>();
    const eligible = (ep: EndpointState) =>
      !ep.deleted && ep.eventTypes.includes(out.type) && Date.parse(ep.registeredAt) <= out.occurredAt.getTime();
    if (out.audience.kind === 'market') {
      for (const ep of model.endpoints.values())
        if (eligible(ep)) targets.set(ep.webhookId, { endpoint: ep, data: out.audience.data });
    } else {
      for (const r of out.audience.recipients) {
        for (const ep of model.endpoints.values()) {
          // Tenancy: an endpoint hears only the events of its own accounts, each with that account's view.
          if (eligible(ep) && ep.accounts.includes(r.accountId) && !targets.has(ep.webhookId)) {
            targets.set(ep.webhookId, { endpoint: ep, data: r.data });
          }
        }
      }
    }
    let scheduled = false;
    for (const { endpoint, data } of targets.values()) {
      const deliveryId = deliveryIdFor(endpoint.webhookId, out.eventId);
      if (model.deliveries.has(deliveryId)) continue;
      const body = JSON.stringify({ id: out.eventId, type: out.type, time: out.occurredAt.toISOString(), data });
      const event: DeliveryScheduled = {
        type: 'DeliveryScheduled',
        data: {
          deliveryId,
          webhookId: endpoint.webhookId,
          eventId: out.eventId,
          eventType: out.type,
          body,
          scheduledAt: this.clock.now().toISOString(),
        },
      };
      try {
        await this.store.appendToStream(
          deliveryStream(deliveryId),
          [{ id: deliveryId, ...event, metadata: { actor } }],
          {
            expectedRevision: 'no_stream',
          },
        );
        scheduled = true;
      } catch (e) {
        // Scheduled before (a redelivered integration event the model had not seen yet): nothing to do.
        if (!(e instanceof WrongExpectedVersion)) throw e;
      }
    }
    if (scheduled) this.tick();
  }

  /** Reopens a delivery: its retry window starts again now. Recorded with who asked, like every owner's write. */
  async redeliver(delivery: DeliveryState, meta: CommandMetadata): Promise<void> {
    const requested: DeliveryRedeliveryRequested = {
      type: 'DeliveryRedeliveryRequested',
      data: { at: this.clock.now().toISOString() },
    };
    const result = await this.store.appendToStream(
      deliveryStream(delivery.deliveryId),
      toNewEvents([requested], meta),
      {
        expectedRevision: delivery.revision,
      },
    );
    await this.projection.caughtUpTo(result.position);
    this.tick();
  }

  private onOwnEvent(e: RecordedEvent): void {
    if (!this.live || this.stopping) return;
    const model = this.projection.model;
    if (e.type === 'AlertFired') {
      const d = e.data as AlertFired['data'];
      const view = model.alerts.find((a) => a.alertId === d.alertId);
      if (view)
        void this.dispatchAlert(view).catch((err: unknown) => this.log.warn(`alert dispatch failed: ${String(err)}`));
    } else if (e.type === 'WebhookMarkedFailing') {
      const d = e.data as WebhookMarkedFailing['data'];
      for (const view of model.alerts.filter((a) => a.alertId === d.alertId)) {
        void this.dispatchAlert(view).catch((err: unknown) => this.log.warn(`alert dispatch failed: ${String(err)}`));
      }
    }
  }

  private dispatchAlert(a: AlertView): Promise<void> {
    return this.dispatch({
      eventId: a.alertId,
      type: 'alert.raised',
      occurredAt: new Date(a.raisedAt),
      audience: {
        kind: 'accounts',
        recipients: [
          {
            accountId: a.accountId,
            data: {
              alertId: a.alertId,
              accountId: a.accountId,
              kind: a.kind,
              ruleId: a.ruleId,
              webhookId: a.webhookId,
              value: a.value,
              line: a.line,
              scope: a.scope,
              message: a.message,
              raisedAt: a.raisedAt,
            },
          },
        ],
      },
    });
  }

  /** Starts the attempts that are due, up to the concurrency limit. */
  tick(): void {
    if (!this.live || this.stopping) return;
    const now = this.clock.now().getTime();
    const free = this.config.concurrency - this.inFlight.size;
    if (free <= 0) return;
    const model = this.projection.model;
    const due = [...model.pending]
      .map((id) => model.deliveries.get(id))
      .filter(
        (d): d is DeliveryState =>
          d !== undefined &&
          d.status === 'pending' &&
          d.nextAttemptAt !== null &&
          Date.parse(d.nextAttemptAt) <= now &&
          !this.inFlight.has(d.deliveryId),
      )
      .sort((a, b) => Date.parse(a.nextAttemptAt ?? '') - Date.parse(b.nextAttemptAt ?? ''))
      .slice(0, free);
    for (const d of due) {
      const run = this.attempt(d)
        .catch((e: unknown) => {
          // Another writer moved the delivery (a redeliver): the next tick judges it again from the model.
          if (!(e instanceof WrongExpectedVersion))
            this.log.warn(`delivery ${d.deliveryId} attempt failed: ${String(e)}`);
        })
        .finally(() => {
          this.inFlight.delete(d.deliveryId);
          this.tick();
        });
      this.inFlight.set(d.deliveryId, run);
    }
  }

  private async attempt(d: DeliveryState): Promise<void> {
    const endpoint = this.projection.model.endpoints.get(d.webhookId);
    const attemptNo = d.attempts.length + 1;
    if (endpoint === undefined || endpoint.deleted) {
      const gaveUp: DeliveryGaveUp = {
        type: 'DeliveryGaveUp',
        data: { at: this.clock.now().toISOString(), attempts: d.attempts.length },
      };
      const r = await this.store.appendToStream(deliveryStream(d.deliveryId), [{ ...gaveUp, metadata: { actor } }], {
        expectedRevision: d.revision,
      });
      await this.projection.caughtUpTo(r.position);
      return;
    }
    const result = await this.send(endpoint, d, attemptNo);
    const now = this.clock.now();
    const succeeded = result.statusCode !== null && result.statusCode >= 200 && result.statusCode < 300;
    // Backoff counts the tries since the retry window opened (a redeliver opens a new one).
    const triesInWindow = d.attempts.filter((a) => Date.parse(a.at) >= Date.parse(d.dueSince)).length + 1;
    const next = succeeded ? null : nextAttemptAt(this.policy, triesInWindow, now, new Date(d.dueSince), Math.random());
    const attempted: DeliveryAttempted = {
      type: 'DeliveryAttempted',
      data: {
        attempt: attemptNo,
        at: now.toISOString(),
        statusCode: result.statusCode,
        error: result.error ?? (succeeded ? null : `HTTP ${String(result.statusCode)}`),
        latencyMs: result.latencyMs,
        succeeded,
        nextAttemptAt: next?.toISOString() ?? null,
      },
    };
    const events: NewEvent[] = [{ ...attempted, metadata: { actor } }];
    if (!succeeded && next === null) {
      events.push({
        type: 'DeliveryGaveUp',
        data: { at: now.toISOString(), attempts: attemptNo },
        metadata: { actor },
      });
    }
    const r = await this.store.appendToStream(deliveryStream(d.deliveryId), events, { expectedRevision: d.revision });
    await this.projection.caughtUpTo(r.position);
    if (!succeeded && next === null && !endpoint.failing) await this.markFailing(endpoint, d, now);
    if (succeeded && endpoint.failing) await this.markRecovered(endpoint, d, now);
  }

  private async send(endpoint: EndpointState, d: DeliveryState, attemptNo: number): Promise<SendResult> {
    let secret: string;
    try {
      secret = openSecret(endpoint.secret, this.sealingKey);
    } catch (e) {
      // Nothing unsigned ever leaves: the attempt fails and is retried (the key may be restored).
      if (!(e instanceof SecretUnavailable)) throw e;
      this.log.error(`webhook ${endpoint.webhookId}: ${e.message}`);
      return { statusCode: null, error: e.message, latencyMs: 0 };
    }
    // The signature's timestamp is wall-clock time: the receiver compares it with its own clock.
    const t = Math.floor(Date.now() / 1000);
    return postWebhook({
      url: endpoint.url,
      body: d.body,
      headers: {
        'content-type': 'application/json',
        'user-agent': 'cx-webhooks/1',
        [SIGNATURE_HEADER]: signatureHeader(secret, t, d.body),
        'cx-event-id': d.eventId,
        'cx-event-type': d.eventType,
        'cx-delivery-id': d.deliveryId,
        'cx-delivery-attempt': String(attemptNo),
      },
      timeoutMs: this.config.timeoutMs,
      allowPrivate: this.config.allowPrivate,
    });
  }

  private async markFailing(endpoint: EndpointState, d: DeliveryState, at: Date): Promise<void> {
    const failing: WebhookMarkedFailing = {
      type: 'WebhookMarkedFailing',
      data: {
        alertId: uuidv5(`${endpoint.webhookId}\u0000${d.deliveryId}`, FAILING_ALERT_NAMESPACE),
        deliveryId: d.deliveryId,
        at: at.toISOString(),
        reason: `webhook ${endpoint.webhookId} is failing: delivery ${d.deliveryId} (${d.eventType}) was not accepted within ${this.config.maxAgeMs} ms`,
      },
    };
    await this.appendToEndpoint(endpoint, { ...failing, metadata: { actor } });
  }

  private async markRecovered(endpoint: EndpointState, d: DeliveryState, at: Date): Promise<void> {
    const recovered: WebhookRecovered = {
      type: 'WebhookRecovered',
      data: { deliveryId: d.deliveryId, at: at.toISOString() },
    };
    await this.appendToEndpoint(endpoint, { ...recovered, metadata: { actor } });
  }

  private async appendToEndpoint(endpoint: EndpointState, event: NewEvent): Promise<void> {
    try {
      const r = await this.store.appendToStream(endpointStream(endpoint.webhookId), [event], {
        expectedRevision: endpoint.revision,
      });
      await this.projection.caughtUpTo(r.position);
    } catch (e) {
      // The owner changed the endpoint meanwhile (rotated, deleted): the next failure or success judges again.
      if (!(e instanceof WrongExpectedVersion)) throw e;
    }
  }
}
