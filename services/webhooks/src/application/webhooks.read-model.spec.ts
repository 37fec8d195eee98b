// Proves the read model the worker and the API answer from: a delivery's status follows its attempts (pending,
// succeeded, failed when given up, pending again on redeliver), the pending set tracks exactly the deliveries still
// to try, a redelivered event is applied once, and a rule's firings and re-armings set its armed scopes and alerts.
import type { RecordedEvent } from '@cx/event-store';
import { WebhooksReadModel } from './webhooks.read-model';

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
    expect(rule).toMatchObject({ firings: 1, lastInputAt: Date.parse(input.recordedAt) });
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
});
