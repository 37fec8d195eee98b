// Proves the owner's writes on alert rules and deliveries in the embedded exchange, over real HTTP and a real SQLite
// file: DELETE /v1/alert-rules/{id} removes one of the key's own rules (another tenant's id, or one already
// deleted, answers 404 and changes nothing), is recorded as an event with who asked, and a deleted rule never fires
// again while its twin still does; a redelivery is recorded with the key that asked for it.
import 'reflect-metadata';
import { join } from 'node:path';
import type { RecordedEvent } from '@cx/event-store';
import { SimulatedClock } from '@cx/shared-kernel';
import { httpCall, type HttpCallArgs, type HttpReply, tempDir, waitFor } from '@cx/testing';
import { type EmbeddedApp, startEmbedded } from './testing/embedded-app';
import { openTenants } from '../../../services/webhooks/src/testing/tenants.fixture';
import { WebhookReceiver } from '../../../services/webhooks/src/testing/webhook-receiver.fixture';

const T0 = new Date('2026-03-10T08:00:00Z');
const INSTR = 'nvidia-h100-sxm-80g.cn-east-1.2026-03-11';
const WEBHOOKS = { allowPrivate: true, allowHttp: true, pollMs: 20, secretKeyHex: 'c3'.repeat(32) };
const WAIT = { timeoutMs: 20_000 };

describe('alert rule deletion and redelivery, recorded with who asked', () => {
  const dir = tempDir('cx-webhooks-rules-');
  const clock = new SimulatedClock(T0);
  const receiver = new WebhookReceiver();
  let r: EmbeddedApp;
  let seller: string;
  let buyer: string;
  let other: string;
  let seq = 0;
  const call = (...args: HttpCallArgs): Promise<HttpReply> => httpCall(r.url, ...args);
  const stream = async (name: string): Promise<RecordedEvent[]> => {
    const out: RecordedEvent[] = [];
    for await (const e of r.store.readStream(name)) out.push(e);
    return out;
  };
  const trade = async (price: string): Promise<void> => {
    seq += 1;
    const order = { instrument: INSTR, timeInForce: 'GTC', quantityLots: 1, price };
    const sell = { ...order, account: 'prov-1', side: 'sell', clientOrderId: `s${seq}` };
    expect((await call('POST', '/v1/orders', seller, sell)).status).toBe(201);
    const buy = { ...order, account: 'buy-1', side: 'buy', clientOrderId: `b${seq}` };
    expect((await call('POST', '/v1/orders', buyer, buy)).status).toBe(201);
  };
  const rule = async (level: string): Promise<string> => {
    const res = await call('POST', '/v1/alert-rules', buyer, {
      accountId: 'buy-1',
      kind: 'price-level',
      resourceClass: 'nvidia-h100-sxm-80g',
      source: 'last-trade',
      direction: 'above',
      level,
    });
    expect(res.status).toBe(201);
    return res.body.ruleId as string;
  };
  const alerts = async () => (await call('GET', '/v1/alerts/mine', buyer)).body.items as { ruleId: string }[];
  const ruleIds = async (key: string) =>
    ((await call('GET', '/v1/alert-rules', key)).body.items as { ruleId: string }[]).map((x) => x.ruleId);

  beforeAll(async () => {
    await receiver.start();
    r = await startEmbedded(join(dir.path, 'cx.sqlite'), clock, { webhooks: WEBHOOKS });
    ({ seller, buyer, other } = await openTenants(call, r.adminKey as string, { deposits: [['dep-b', 'buy-1']] }));
  });

  afterAll(async () => {
    await r?.app.close();
    await receiver.stop();
    dir.remove();
  });

  it('deletes only the key’s own rule, records it with who asked, and the deleted rule never fires', async () => {
    const kept = await rule('26');
    const gone = await rule('26');
    const before = await stream(`webhook-alert-rule-${gone}`);

    // Another tenant's key: 404 as for a missing id, and nothing is written.
    const foreign = await call('DELETE', `/v1/alert-rules/${gone}`, other);
    expect({ status: foreign.status, code: foreign.body.code }).toEqual({
      status: 404,
      code: 'WEBHOOKS.ALERT_RULE_NOT_FOUND',
    });
    expect(await stream(`webhook-alert-rule-${gone}`)).toHaveLength(before.length);
    expect(await ruleIds(buyer)).toEqual(expect.arrayContaining([kept, gone]));
    expect((await call('DELETE', '/v1/alert-rules/rule-missing', buyer)).status).toBe(404);

    expect((await call('DELETE', `/v1/alert-rules/${gone}`, buyer)).status).toBe(204);
    const after = await stream(`webhook-alert-rule-${gone}`);
    expect(after).toHaveLength(before.length + 1);
    const deleted = after[after.length - 1];
    expect(deleted).toMatchObject({ type: 'AlertRuleDeleted', data: { ruleId: gone } });
    expect(deleted?.metadata.actor).toMatchObject({ role: 'trader' });
    expect(deleted?.metadata.actor?.keyId).toEqual(expect.any(String));
    expect(await ruleIds(buyer)).toEqual([kept]);
    // Deleted already: 404, nothing written.
    expect((await call('DELETE', `/v1/alert-rules/${gone}`, buyer)).status).toBe(404);
    expect(await stream(`webhook-alert-rule-${gone}`)).toHaveLength(after.length);

    // A price past both lines: the twin that was kept fires, the deleted one does not.
    await trade('26.50');
    await waitFor(async () => (await alerts()).some((a) => a.ruleId === kept), { ...WAIT, what: 'the kept rule' });
    // A second trade is judged after the first (one relay, in order): once it has moved the kept rule back past
    // its margin and fired it again, the deleted rule has had every chance to fire.
    await trade('25.00');
    await trade('26.60');
    await waitFor(async () => (await alerts()).filter((a) => a.ruleId === kept).length === 2, {
      ...WAIT,
      what: 'the kept rule’s second firing',
    });
    expect((await alerts()).filter((a) => a.ruleId === gone)).toEqual([]);
    expect(await stream(`webhook-alert-rule-${gone}`)).toHaveLength(after.length);
  });

  it('records a redelivery with the key that asked for it', async () => {
    const hook = await call('POST', '/v1/webhooks', buyer, { url: receiver.url('/b'), eventTypes: ['trade.executed'] });
    expect(hook.status).toBe(201);
    receiver.trust('/b', hook.body.secret as string);
    await trade('26.00');
    const [d] = await waitFor(
      async () => {
        const items = (await call('GET', `/v1/webhooks/${hook.body.webhookId as string}/deliveries`, buyer)).body
          .items as { deliveryId: string; status: string }[];
        return items.length === 1 && items[0]?.status === 'succeeded' ? items : null;
      },
      { ...WAIT, what: 'the trade delivered' },
    );
    const again = await call(
      'POST',
      `/v1/webhooks/${hook.body.webhookId as string}/deliveries/${d?.deliveryId}/redeliver`,
      buyer,
    );
    expect(again.status).toBe(201);
    const events = await stream(`webhook-delivery-${d?.deliveryId}`);
    const asked = events.find((e) => e.type === 'DeliveryRedeliveryRequested');
    expect(asked?.metadata.actor).toMatchObject({ role: 'trader', keyId: expect.any(String) });
    expect(asked?.metadata.actor?.service).toBeUndefined();
    expect(asked?.metadata.correlationId).toEqual(expect.any(String));
    await waitFor(() => receiver.acknowledged('/b').length === 2, { ...WAIT, what: 'the redelivery' });
  });
});
