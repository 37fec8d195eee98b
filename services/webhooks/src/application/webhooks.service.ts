import { randomBytes } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { type Principal } from '@cx/auth';
import { type CommandMetadata, EVENT_STORE, type EventStore, toNewEvents, withConcurrencyRetry } from '@cx/event-store';
import { CLOCK, type Clock, DomainError, newId, type Page, paginate, parsePageRequest } from '@cx/shared-kernel';
import {
  type AlertRuleCreated,
  type AlertRuleDeleted,
  type AlertRuleInput,
  parseAlertRule,
} from '../domain/alerts/alert-rule';
import {
  assertDestinationAllowed,
  hostOf,
  MAX_ENDPOINTS_PER_TENANT,
  parseEventTypes,
  parseWebhookUrl,
} from '../domain/endpoint/webhook.decider';
import {
  alertRuleStream,
  endpointStream,
  type WebhookDeleted,
  type WebhookRegistered,
  type WebhookSecretRotated,
} from '../domain/endpoint/webhook.events';
import { WEBHOOKS_CONFIG, type WebhooksConfig } from '../config';
import { resolveHost } from '../infrastructure/http-sender';
import { parseSecretKey, sealSecret } from '../infrastructure/secret-box';
import { DeliveryWorker } from './delivery.worker';
import { WebhooksProjection } from './webhooks.projection';
import type { AlertView, DeliveryState, EndpointState, RuleState } from './webhooks.read-model';

// Endpoints, their deliveries, alert rules and alerts, as their owners see them. Tenancy: a key sees and changes an
// endpoint or rule only when it acts for every account the object belongs to; anything else answers 404 exactly as
// a missing id does.

const NOT_FOUND = 'WEBHOOKS.NOT_FOUND';
const RULE_NOT_FOUND = 'WEBHOOKS.ALERT_RULE_NOT_FOUND';
const MAX_DESCRIPTION = 200;

export interface WebhookView {
  webhookId: string;
  accounts: string[];
  url: string;
  eventTypes: string[];
  description: string | null;
  registeredAt: string;
  status: 'active' | 'failing';
}

export interface AttemptListView {
  deliveryId: string;
  eventId: string;
  eventType: string;
  status: string;
  scheduledAt: string;
  nextAttemptAt: string | null;
  attempts: {
    attempt: number;
    at: string;
    statusCode: number | null;
    error: string | null;
    latencyMs: number;
    succeeded: boolean;
  }[];
}

export interface AlertRuleView {
  ruleId: string;
  accountId: string;
  kind: string;
  condition: Record<string, unknown>;
  rearmMarginPercent: string;
  createdAt: string;
  armed: boolean;
  firings: number;
}

const newSecret = (): string => `whsec_${randomBytes(32).toString('base64url')}`;

const viewOf = (ep: EndpointState): WebhookView => ({
  webhookId: ep.webhookId,
  accounts: ep.accounts,
  url: ep.url,
  eventTypes: ep.eventTypes,
  description: ep.description,
  registeredAt: ep.registeredAt,
  status: ep.failing ? 'failing' : 'active',
});

const deliveryView = (d: DeliveryState): AttemptListView => ({
  deliveryId: d.deliveryId,
  eventId: d.eventId,
  eventType: d.eventType,
  status: d.status,
  scheduledAt: d.scheduledAt,
  nextAttemptAt: d.nextAttemptAt,
  attempts: d.attempts,
});

const ruleView = (r: RuleState): AlertRuleView => ({
  ruleId: r.ruleId,
  accountId: r.accountId,
  kind: r.condition.kind,
  condition: { ...r.condition },
  rearmMarginPercent: r.rearmMarginPercent,
  createdAt: r.createdAt,
  armed: r.disarmed.size === 0,
  firings: r.firings,
});

const owns = (p: Principal, accounts: readonly string[]): boolean =>
  accounts.length > 0 && accounts.every((a) => p.accounts.includes(a));

@Injectable()
export class WebhooksService {
  private readonly sealingKey: Buffer | null;

  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(WEBHOOKS_CONFIG) private readonly config: WebhooksConfig,
    @Inject(WebhooksProjection) private readonly projection: WebhooksProjection,
    @Inject(DeliveryWorker) private readonly worker: DeliveryWorker,
  ) {
    this.sealingKey = parseSecretKey(config.secretKeyHex);
  }

  async register(
    p: Principal,
    input: { url: string; eventTypes: unknown[]; accounts?: string[]; description?: string },
    meta: CommandMetadata,
  ): Promise<WebhookView & { secret: string }> {
    const url = parseWebhookUrl(input.url, this.config);
    const eventTypes = parseEventTypes(input.eventTypes);
    const accounts = input.accounts === undefined ? [...p.accounts] : [...new Set(input.accounts)];
    if (accounts.length === 0) {
      throw DomainError.invalid('WEBHOOKS.NO_ACCOUNTS', 'the key acts for no account', 'accounts');
    }
    for (const a of accounts) {
      if (!p.accounts.includes(a)) {
        throw new DomainError('WEBHOOKS.ACCOUNT_NOT_FOUND', `account ${a} not found`, 'not_found', [
          { field: 'accounts', code: 'WEBHOOKS.ACCOUNT_NOT_FOUND' },
        ]);
      }
    }
    if (input.description !== undefined && input.description.length > MAX_DESCRIPTION) {
      throw DomainError.invalid(
        'WEBHOOKS.INVALID_DESCRIPTION',
        `description is at most ${MAX_DESCRIPTION} characters`,
        'description',
      );
    }
    assertDestinationAllowed(url, await resolveHost(hostOf(url)), this.config.allowPrivate);
    await this.projection.ready();
    const mine = [...this.projection.model.endpoints.values()].filter((ep) => !ep.deleted && owns(p, ep.accounts));
    if (mine.length >= MAX_ENDPOINTS_PER_TENANT) {
      throw DomainError.conflict(
        'WEBHOOKS.TOO_MANY_ENDPOINTS',
        `at most ${MAX_ENDPOINTS_PER_TENANT} endpoints per key`,
      );
    }
    const webhookId = newId('wh');
    const secret = newSecret();
    const event: WebhookRegistered = {
      type: 'WebhookRegistered',
      data: {
        webhookId,
        accounts,
        url: url.toString(),
        eventTypes,
        secret: sealSecret(secret, this.sealingKey),
        description: input.description ?? null,
        registeredAt: this.clock.now().toISOString(),
      },
    };
    const r = await this.store.appendToStream(endpointStream(webhookId), toNewEvents([event], meta), {
      expectedRevision: 'no_stream',
    });
    await this.projection.caughtUpTo(r.position);
    return { ...viewOf(this.mustOwn(p, webhookId)), secret };
  }

  async list(p: Principal, q: { limit?: string; cursor?: string }): Promise<Page<WebhookView>> {
    await this.projection.ready();
    const mine = [...this.projection.model.endpoints.values()]
      .filter((ep) => !ep.deleted && owns(p, ep.accounts))
      .sort((a, b) => (a.webhookId < b.webhookId ? -1 : 1))
      .map(viewOf);
    return paginate(mine, (v) => v.webhookId, parsePageRequest(q));
  }

  async get(p: Principal, webhookId: string): Promise<WebhookView> {
    await this.projection.ready();
    return viewOf(this.mustOwn(p, webhookId));
  }

  async delete(p: Principal, webhookId: string, meta: CommandMetadata): Promise<void> {
    await this.projection.ready();
    const ep = this.mustOwn(p, webhookId);
    const event: WebhookDeleted = { type: 'WebhookDeleted', data: { deletedAt: this.clock.now().toISOString() } };
    const r = await this.store.appendToStream(endpointStream(webhookId), toNewEvents([event], meta), {
      expectedRevision: ep.revision,
    });
    await this.projection.caughtUpTo(r.position);
  }

  async rotateSecret(
    p: Principal,
    webhookId: string,
    meta: CommandMetadata,
  ): Promise<{ webhookId: string; secret: string }> {
    await this.projection.ready();
    const ep = this.mustOwn(p, webhookId);
    const secret = newSecret();
    const event: WebhookSecretRotated = {
      type: 'WebhookSecretRotated',
      data: { secret: sealSecret(secret, this.sealingKey), rotatedAt: this.clock.now().toISOString() },
    };
    const r = await this.store.appendToStream(endpointStream(webhookId), toNewEvents([event], meta), {
      expectedRevision: ep.revision,
    });
    await this.projection.caughtUpTo(r.position);
    return { webhookId, secret };
  }

  async deliveries(
    p: Principal,
    webhookId: string,
    q: { limit?: string; cursor?: string },
  ): Promise<Page<AttemptListView>> {
    await this.projection.ready();
    this.mustOwn(p, webhookId);
    const list = [...this.projection.model.deliveries.values()]
      .filter((d) => d.webhookId === webhookId)
      .map((d) => ({ key: `${d.scheduledAt}|${d.deliveryId}`, view: deliveryView(d) }))
      .sort((a, b) => (a.key < b.key ? -1 : 1));
    // In the order scheduled (ties by id): the key is unique and sorts as text.
    const page = paginate(list, (x) => x.key, parsePageRequest(q));
    return { items: page.items.map((x) => x.view), nextCursor: page.nextCursor };
  }

  async redeliver(
    p: Principal,
    webhookId: string,
    deliveryId: string,
    meta: CommandMetadata,
  ): Promise<AttemptListView> {
    await this.projection.ready();
    this.mustOwn(p, webhookId);
    const d = this.projection.model.deliveries.get(deliveryId);
    if (d === undefined || d.webhookId !== webhookId) throw DomainError.notFound(NOT_FOUND, 'delivery not found');
    await this.worker.redeliver(d, meta);
    return deliveryView(this.projection.model.deliveries.get(deliveryId) ?? d);
  }

  async createRule(p: Principal, input: AlertRuleInput, meta: CommandMetadata): Promise<AlertRuleView> {
    if (!p.accounts.includes(input.accountId)) {
      throw new DomainError('WEBHOOKS.ACCOUNT_NOT_FOUND', `account ${input.accountId} not found`, 'not_found', [
        { field: 'accountId', code: 'WEBHOOKS.ACCOUNT_NOT_FOUND' },
      ]);
    }
    const { condition, rearmMarginPercent } = parseAlertRule(input);
    await this.projection.ready();
    const ruleId = newId('rule');
    const event: AlertRuleCreated = {
      type: 'AlertRuleCreated',
      data: {
        ruleId,
        accountId: input.accountId,
        condition,
        rearmMarginPercent,
        createdAt: this.clock.now().toISOString(),
      },
    };
    const r = await this.store.appendToStream(alertRuleStream(ruleId), toNewEvents([event], meta), {
      expectedRevision: 'no_stream',
    });
    await this.projection.caughtUpTo(r.position);
    const rule = this.projection.model.rules.get(ruleId);
    if (rule === undefined) throw new Error(`rule ${ruleId} not in the read model after its append`);
    return ruleView(rule);
  }

  /** Deletes one of the key's rules; another tenant's rule answers 404 exactly as a missing id does. */
  async deleteRule(p: Principal, ruleId: string, meta: CommandMetadata): Promise<void> {
    await this.projection.ready();
    // The evaluator may append a firing between our read and our append: read again and retry.
    await withConcurrencyRetry(async () => {
      const rule = this.projection.model.rules.get(ruleId);
      if (rule === undefined || !p.accounts.includes(rule.accountId)) {
        throw DomainError.notFound(RULE_NOT_FOUND, 'alert rule not found');
      }
      const event: AlertRuleDeleted = {
        type: 'AlertRuleDeleted',
        data: { ruleId, deletedAt: this.clock.now().toISOString() },
      };
      const r = await this.store.appendToStream(alertRuleStream(ruleId), toNewEvents([event], meta), {
        expectedRevision: rule.revision,
      });
      await this.projection.caughtUpTo(r.position);
    });
  }

  async rules(p: Principal, q: { limit?: string; cursor?: string }): Promise<Page<AlertRuleView>> {
    await this.projection.ready();
    const list = [...this.projection.model.rules.values()]
      .filter((r) => p.accounts.includes(r.accountId))
      .sort((a, b) => (a.ruleId < b.ruleId ? -1 : 1))
      .map(ruleView);
    return paginate(list, (v) => v.ruleId, parsePageRequest(q));
  }

  async myAlerts(p: Principal, q: { limit?: string; cursor?: string }): Promise<Page<AlertView>> {
    await this.projection.ready();
    // Listed in the order raised; the key is the position in that list, zero-padded so it sorts as text.
    const list = this.projection.model.alerts
      .map((a, i) => ({ a, key: String(i).padStart(12, '0') }))
      .filter(({ a }) => p.accounts.includes(a.accountId));
    const page = paginate(list, (x) => x.key, parsePageRequest(q));
    return { items: page.items.map((x) => x.a), nextCursor: page.nextCursor };
  }

  private mustOwn(p: Principal, webhookId: string): EndpointState {
    const ep = this.projection.model.endpoints.get(webhookId);
    if (ep === undefined || ep.deleted || !owns(p, ep.accounts)) {
      throw DomainError.notFound(NOT_FOUND, 'webhook not found');
    }
    return ep;
  }
}
