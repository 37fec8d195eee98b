import { comparePositions, type Position, type ProjectionModel, type RecordedEvent } from '@cx/event-store';
import type { AlertCondition, AlertFired, AlertRearmed, AlertRuleCreated, InputRef } from '../domain/alerts/alert-rule';
import {
  ALERT_RULE_STREAM_PREFIX,
  DELIVERY_STREAM_PREFIX,
  type DeliveryAttempted,
  type DeliveryScheduled,
  ENDPOINT_STREAM_PREFIX,
  type StoredSecret,
  type WebhookEventType,
  type WebhookMarkedFailing,
  type WebhookRegistered,
} from '../domain/endpoint/webhook.events';

// The webhooks service's read model, rebuilt at every start from its own streams (a catch-up projection) and
// kept current by the same subscription. Each stream's events apply once: a redelivered revision is ignored.

export interface EndpointState {
  webhookId: string;
  accounts: string[];
  url: string;
  eventTypes: WebhookEventType[];
  secret: StoredSecret;
  description: string | null;
  registeredAt: string;
  deleted: boolean;
  failing: boolean;
  revision: bigint;
}

export interface AttemptView {
  attempt: number;
  at: string;
  statusCode: number | null;
  error: string | null;
  latencyMs: number;
  succeeded: boolean;
}

export type DeliveryStatus = 'pending' | 'succeeded' | 'failed';

export interface DeliveryState {
  deliveryId: string;
  webhookId: string;
  eventId: string;
  eventType: WebhookEventType;
  body: string;
  scheduledAt: string;
  status: DeliveryStatus;
  /** When the retry window started: first scheduled, or last redelivery asked. */
  dueSince: string;
  nextAttemptAt: string | null;
  attempts: AttemptView[];
  revision: bigint;
}

export interface RuleState {
  ruleId: string;
  accountId: string;
  condition: AlertCondition;
  rearmMarginPercent: string;
  createdAt: string;
  /** Disarmed scopes (a scope is '' for a market price, else an allocation id or a period). */
  disarmed: Set<string>;
  /** When the rule was recorded (store time): inputs recorded before it are not judged. */
  createdRecordedAt: number;
  /**
   * Per scope ('' for a market price, else an allocation id or a period): the record time of the last input that
   * moved the rule there, and the inputs at that instant; older ones for that scope are a replay. Per scope, not per
   * rule: one allocation's (or period's) input arriving after another's, but recorded earlier, is still news.
   */
  judged: Map<string, JudgedMark>;
  firings: number;
  revision: bigint;
}

export interface JudgedMark {
  lastInputAt: number;
  inputsAtLast: Set<string>;
}

/** Has this input (or a later one) already moved the rule in this scope? Then judging it again would be a replay. */
export const judgedAlready = (rule: RuleState, scope: string | null, input: InputRef): boolean => {
  const recorded = Date.parse(input.recordedAt);
  if (recorded < rule.createdRecordedAt) return true;
  const mark = rule.judged.get(scope ?? '');
  if (mark === undefined) return false;
  return recorded < mark.lastInputAt || (recorded === mark.lastInputAt && mark.inputsAtLast.has(input.id));
};

export interface AlertView {
  alertId: string;
  accountId: string;
  ruleId: string | null;
  webhookId: string | null;
  kind: AlertCondition['kind'] | 'webhook-failing';
  value: string | null;
  line: string | null;
  scope: string | null;
  message: string;
  raisedAt: string;
}

export type ModelListener = (e: RecordedEvent) => void;

export class WebhooksReadModel implements ProjectionModel {
  position: Position | null = null;
  readonly endpoints = new Map<string, EndpointState>();
  readonly deliveries = new Map<string, DeliveryState>();
  /** The deliveries still to be tried, so the worker need not scan them all. */
  readonly pending = new Set<string>();
  readonly rules = new Map<string, RuleState>();
  readonly alerts: AlertView[] = [];
  private readonly listeners: ModelListener[] = [];

  onApplied(listener: ModelListener): void {
    this.listeners.push(listener);
  }

  apply(e: RecordedEvent): void {
    if (this.position !== null && comparePositions(e.position, this.position) <= 0) return;
    this.position = e.position;
    if (e.streamId.startsWith(ENDPOINT_STREAM_PREFIX)) this.applyEndpoint(e);
    else if (e.streamId.startsWith(DELIVERY_STREAM_PREFIX)) this.applyDelivery(e);
    else if (e.streamId.startsWith(ALERT_RULE_STREAM_PREFIX)) this.applyRule(e);
    for (const l of this.listeners) l(e);
  }

  private applyEndpoint(e: RecordedEvent): void {
    const id = e.streamId.slice(ENDPOINT_STREAM_PREFIX.length);
    if (e.type === 'WebhookRegistered') {
      const d = e.data as WebhookRegistered['data'];
      this.endpoints.set(id, { ...d, deleted: false, failing: false, revision: e.revision });
      return;
    }
    const ep = this.endpoints.get(id);
    if (ep === undefined) return;
    ep.revision = e.revision;
    switch (e.type) {
      case 'WebhookSecretRotated':
        ep.secret = (e.data as { secret: StoredSecret }).secret;
        break;
      case 'WebhookDeleted':
        ep.deleted = true;
        break;
      case 'WebhookMarkedFailing': {
        ep.failing = true;
        const d = e.data as WebhookMarkedFailing['data'];
        for (const accountId of ep.accounts) {
          this.alerts.push({
            alertId: d.alertId,
            accountId,
            ruleId: null,
            webhookId: id,
            kind: 'webhook-failing',
            value: null,
            line: null,
            scope: d.deliveryId,
            message: d.reason,
            raisedAt: d.at,
          });
        }
        break;
      }
      case 'WebhookRecovered':
        ep.failing = false;
        break;
    }
  }

  private applyDelivery(e: RecordedEvent): void {
    const id = e.streamId.slice(DELIVERY_STREAM_PREFIX.length);
    if (e.type === 'DeliveryScheduled') {
      const d = e.data as DeliveryScheduled['data'];
      this.deliveries.set(id, {
        ...d,
        status: 'pending',
        dueSince: d.scheduledAt,
        nextAttemptAt: d.scheduledAt,
        attempts: [],
        revision: e.revision,
      });
      this.pending.add(id);
      return;
    }
    const del = this.deliveries.get(id);
    if (del === undefined) return;
    this.applyToDelivery(del, e);
    if (del.status === 'pending') this.pending.add(id);
    else this.pending.delete(id);
  }

  private applyToDelivery(del: DeliveryState, e: RecordedEvent): void {
    del.revision = e.revision;
    switch (e.type) {
      case 'DeliveryAttempted': {
        const d = e.data as DeliveryAttempted['data'];
        del.attempts.push({
          attempt: d.attempt,
          at: d.at,
          statusCode: d.statusCode,
          error: d.error,
          latencyMs: d.latencyMs,
          succeeded: d.succeeded,
        });
        del.status = d.succeeded ? 'succeeded' : d.nextAttemptAt === null ? 'failed' : 'pending';
        del.nextAttemptAt = d.nextAttemptAt;
        break;
      }
      case 'DeliveryGaveUp':
        del.status = 'failed';
        del.nextAttemptAt = null;
        break;
      case 'DeliveryRedeliveryRequested': {
        const at = (e.data as { at: string }).at;
        del.status = 'pending';
        del.dueSince = at;
        del.nextAttemptAt = at;
        break;
      }
    }
  }

  private applyRule(e: RecordedEvent): void {
    const id = e.streamId.slice(ALERT_RULE_STREAM_PREFIX.length);
    if (e.type === 'AlertRuleCreated') {
      const d = e.data as AlertRuleCreated['data'];
      this.rules.set(id, {
        ...d,
        disarmed: new Set(),
        createdRecordedAt: e.created.getTime(),
        judged: new Map(),
        firings: 0,
        revision: e.revision,
      });
      return;
    }
    const rule = this.rules.get(id);
    if (rule === undefined) return;
    rule.revision = e.revision;
    if (e.type === 'AlertRuleDeleted') {
      // Gone from every loop the evaluator runs and from the owner's list; an outcome appended after this
      // (none can be: it would be at a stale revision) would find no rule and be ignored.
      this.rules.delete(id);
    } else if (e.type === 'AlertFired') {
      const d = e.data as AlertFired['data'];
      rule.disarmed.add(d.scope ?? '');
      this.noteInput(rule, d.scope, d.input);
      rule.firings += 1;
      this.alerts.push({
        alertId: d.alertId,
        accountId: d.accountId,
        ruleId: d.ruleId,
        webhookId: null,
        kind: rule.condition.kind,
        value: d.value,
        line: d.line,
        scope: d.scope,
        message: d.message,
        raisedAt: d.at,
      });
    } else if (e.type === 'AlertRearmed') {
      const d = e.data as AlertRearmed['data'];
      rule.disarmed.delete(d.scope ?? '');
      this.noteInput(rule, d.scope, d.input);
    }
  }

  private noteInput(rule: RuleState, scope: string | null, input: InputRef): void {
    const t = Date.parse(input.recordedAt);
    const mark = rule.judged.get(scope ?? '');
    if (mark === undefined || t > mark.lastInputAt) {
      rule.judged.set(scope ?? '', { lastInputAt: t, inputsAtLast: new Set([input.id]) });
    } else if (t === mark.lastInputAt) mark.inputsAtLast.add(input.id);
  }

  /** The endpoints (not deleted) of an account subscribed to a type. */
  endpointsFor(accountId: string, type: WebhookEventType): EndpointState[] {
    return [...this.endpoints.values()].filter(
      (ep) => !ep.deleted && ep.accounts.includes(accountId) && ep.eventTypes.includes(type),
    );
  }
}
