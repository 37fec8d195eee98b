// Proves the read model the worker and the API answer from: a delivery's status follows its attempts (pending,
// succeeded, failed when given up, pending again on redeliver), the pending set tracks exactly the deliveries still
// to try, a redelivered event is applied once, a rule's firings and re-armings set its armed scopes and alerts, and
// a deleted rule is gone from the model (its alerts stay) and ignores anything later on its stream; what a rule has
// already judged is kept per scope, so a late input for one allocation is not taken for a replay of another's.
import type { RecordedEvent } from '@cx/event-store';
import { judgedAlready, WebhooksReadModel } from './webhooks.read-model';

let pos = 0n;
const revisions = new Map<string, bigint>();
const ev = (streamId: string, type: string, data: unknown): RecordedEvent => {
  pos += 1n;
  const revision = (revisions.get(streamId) ?? -1n) + 1n;
  revisions.set(streamId, revision);
  return {
    id: `e${pos}`,
    streamId,
    revision,
    type,
    data,
    metadata: {},
    created: new Date(Number(pos) * 1000),
    position: { commit: pos, prepare: pos },
  };
};

describe('webhooks read model', () => {
  it('follows a delivery through failure, retry, give-up and redelivery', () => {
    const m = new WebhooksReadModel();
    const s = 'webhook-delivery-d1';
    const scheduled = ev(s, 'DeliveryScheduled', {
      deliveryId: 'd1',
      webhookId: 'w1',
      eventId: 'x',
      eventType: 'trade.executed',
      body: '{}',
      scheduledAt: '2026-03-10T00:00:00.000Z',
    });
    m.apply(scheduled);
    expect([...m.pending]).toEqual(['d1']);
    const attempt = (n: number, ok: boolean, next: string | null) =>
      ev(s, 'DeliveryAttempted', {
        attempt: n,
        at: '2026-03-10T00:00:01.000Z',
        statusCode: ok ? 200 : 500,
        error: ok ? null : 'HTTP 500',
        latencyMs: 3,
        succeeded: ok,
        nextAttemptAt: next,
      });
    m.apply(attempt(1, false, '2026-03-10T00:00:10.000Z'));
    expect(m.deliveries.get('d1')).toMatchObject({ status: 'pending', nextAttemptAt: '2026-03-10T00:00:10.000Z' });
    m.apply(attempt(2, false, null));
    m.apply(ev(s, 'DeliveryGaveUp', { at: '2026-03-10T00:00:11.000Z', attempts: 2 }));
    expect(m.deliveries.get('d1')?.status).toBe('failed');
    expect(m.pending.size).toBe(0);
    m.apply(ev(s, 'DeliveryRedeliveryRequested', { at: '2026-03-11T00:00:00.000Z' }));
    expect(m.deliveries.get('d1')).toMatchObject({ status: 'pending', dueSince: '2026-03-11T00:00:00.000Z' });
    const ok = attempt(3, true, null);
    m.apply(ok);
    // Heard again (a subscription redelivers): applied once.
    m.apply(ok);
    expect(m.deliveries.get('d1')?.attempts.map((a) => a.statusCode)).toEqual([500, 500, 200]);
    expect(m.deliveries.get('d1')?.status).toBe('succeeded');
    expect(m.pending.size).toBe(0);
  });

  it('keeps a rule’s armed scopes and lists its firings and a failing endpoint as alerts', () => {
    const m = new WebhooksReadModel();
    const r = 'webhook-alert-rule-r1';
    const condition = { kind: 'spend', period: 'day', threshold: '10', currency: 'CNY' };
    m.apply(
      ev(r, 'AlertRuleCreated', {
        ruleId: 'r1',
        accountId: 'a',
        condition,
        rearmMarginPercent: '1',
        createdAt: '2026-03-10T00:00:00.000Z',
      }),
    );
    const input = { id: 'i1', recordedAt: '2026-03-10T00:00:05.000Z' };
    m.apply(
      ev(r, 'AlertFired', {
        alertId: 'al1',
        ruleId: 'r1',
        accountId: 'a',
        value: '12',
        line: '10',
        scope: '2026-03-10',
        message: 'm',
        at: '2026-03-10T01:00:00.000Z',
        input,
      }),
    );
    const rule = m.rules.get('r1');
    expect([...(rule?.disarmed ?? [])]).toEqual(['2026-03-10']);
    expect(rule?.firings).toBe(1);
    expect(rule?.judged.get('2026-03-10')?.lastInputAt).toBe(Date.parse(input.recordedAt));
    m.apply(
      ev(r, 'AlertRearmed', {
        value: '0',
        scope: '2026-03-10',
        at: '2026-03-11T00:00:00.000Z',
        input: { id: 'i2', recordedAt: '2026-03-11T00:00:00.000Z' },
      }),
    );
    expect(rule?.disarmed.size).toBe(0);

    const w = 'webhook-endpoint-w1';
    m.apply(
      ev(w, 'WebhookRegistered', {
        webhookId: 'w1',
        accounts: ['a', 'b'],
        url: 'https://h/x',
        eventTypes: ['alert.raised'],
        secret: 's',
        description: null,
        registeredAt: '2026-03-10T00:00:00.000Z',
      }),
    );
    m.apply(
      ev(w, 'WebhookMarkedFailing', {
        alertId: 'al2',
        deliveryId: 'd9',
        at: '2026-03-12T00:00:00.000Z',
        reason: 'failing',
      }),
    );
    expect(m.endpoints.get('w1')?.failing).toBe(true);
    expect(m.alerts.map((a) => [a.alertId, a.accountId, a.kind])).toEqual([
      ['al1', 'a', 'spend'],
      ['al2', 'a', 'webhook-failing'],
      ['al2', 'b', 'webhook-failing'],
    ]);
    expect(m.endpointsFor('b', 'alert.raised').map((e) => e.webhookId)).toEqual(['w1']);
    expect(m.endpointsFor('b', 'trade.executed')).toEqual([]);
    m.apply(ev(w, 'WebhookDeleted', { deletedAt: '2026-03-13T00:00:00.000Z' }));
    expect(m.endpointsFor('a', 'alert.raised')).toEqual([]);
  });

  it('drops a deleted rule and keeps the alerts it raised', () => {
    const m = new WebhooksReadModel();
    const r = 'webhook-alert-rule-r2';
    const condition = { kind: 'spend', period: 'day', threshold: '10', currency: 'CNY' };
    m.apply(
      ev(r, 'AlertRuleCreated', {
        ruleId: 'r2',
        accountId: 'a',
        condition,
        rearmMarginPercent: '1',
        createdAt: '2026-03-10T00:00:00.000Z',
      }),
    );
    const fired = (alertId: string, scope: string) =>
      ev(r, 'AlertFired', {
        alertId,
        ruleId: 'r2',
        accountId: 'a',
        value: '12',
        line: '10',
        scope,
        message: 'm',
        at: '2026-03-10T01:00:00.000Z',
        input: { id: alertId, recordedAt: '2026-03-10T00:00:05.000Z' },
      });
    m.apply(fired('al3', '2026-03-10'));
    m.apply(ev(r, 'AlertRuleDeleted', { ruleId: 'r2', deletedAt: '2026-03-10T02:00:00.000Z' }));
    expect(m.rules.has('r2')).toBe(false);
    m.apply(fired('al4', '2026-03-11'));
    expect(m.rules.has('r2')).toBe(false);
    expect(m.alerts.map((a) => a.alertId)).toEqual(['al3']);
  });

  it('keeps what a rule has judged per scope: a late input for another allocation is still judged', () => {
    const m = new WebhooksReadModel();
    const r = 'webhook-alert-rule-r3';
    m.apply(
      ev(r, 'AlertRuleCreated', {
        ruleId: 'r3',
        accountId: 'a',
        condition: { kind: 'utilization-drift', allocationId: null, driftPercent: '20' },
        rearmMarginPercent: '1',
        createdAt: '2026-03-10T00:00:00.000Z',
      }),
    );
    const at = (id: string, recordedAt: string) => ({ id, recordedAt });
    const late = at('reading-b', '2026-03-10T09:00:00.000Z');
    const moved = at('reading-a', '2026-03-10T10:00:00.000Z');
    m.apply(
      ev(r, 'AlertFired', {
        alertId: 'al5',
        ruleId: 'r3',
        accountId: 'a',
        value: '50',
        line: '20',
        scope: 'alloc-a',
        message: 'm',
        at: '2026-03-10T10:00:00.000Z',
        input: moved,
      }),
    );
    const rule = m.rules.get('r3');
    if (rule === undefined) throw new Error('rule r3 not in the model');
    // Allocation b's reading, recorded before a's but heard after: news for b, a replay for a.
    expect(judgedAlready(rule, 'alloc-b', late)).toBe(false);
    expect(judgedAlready(rule, 'alloc-a', late)).toBe(true);
    // The input that moved a, again: a replay; another input of the same instant, or a later one: news.
    expect(judgedAlready(rule, 'alloc-a', moved)).toBe(true);
    expect(judgedAlready(rule, 'alloc-a', at('reading-a2', moved.recordedAt))).toBe(false);
    expect(judgedAlready(rule, 'alloc-a', at('reading-a3', '2026-03-10T11:00:00.000Z'))).toBe(false);
    // A market price (no scope) is its own scope.
    expect(judgedAlready(rule, null, late)).toBe(false);
    // Anything recorded before the rule never is.
    expect(judgedAlready(rule, 'alloc-c', at('old', '1970-01-01T00:00:00.000Z'))).toBe(true);
  });
});
