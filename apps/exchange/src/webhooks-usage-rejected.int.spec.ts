// Proves `usage.rejected` end to end in the embedded exchange: an integrator produces invalid CloudEvents to the
// usage submissions topic; metering records each rejection once, even when the broker delivers the same record
// again; the relay publishes it on cx.metering.usage.v1; and the webhooks module delivers exactly one signed
// `usage.rejected` per rejection, with the code and field at fault, to the endpoint of the account the record
// reported for, and nothing to another tenant's endpoint subscribed to the same type.
import 'reflect-metadata';
import { join } from 'node:path';
import { MESSAGE_BUS, type MessageBus, type OutgoingMessage } from '@cx/messaging';
import { USAGE_SUBMITTED_TOPIC } from '@cx/metering';
import { SimulatedClock } from '@cx/shared-kernel';
import { httpCall, type HttpCallArgs, type HttpReply, tempDir, waitFor } from '@cx/testing';
import { type EmbeddedApp, startEmbedded } from './testing/embedded-app';
import { WebhookReceiver } from '../../../services/webhooks/src/testing/webhook-receiver.fixture';

const T0 = new Date('2026-03-10T08:00:00Z');
const WAIT = { timeoutMs: 20_000 };

/** One CloudEvent in the binding's structured mode, as an integrator's producer writes it. */
const structured = (event: Record<string, unknown>): OutgoingMessage => ({
  key: String(event.subject ?? 'k'),
  value: Buffer.from(JSON.stringify(event)),
  headers: { 'content-type': 'application/cloudevents+json' },
});

describe('usage.rejected in the embedded exchange', () => {
  const dir = tempDir('cx-webhooks-rejected-');
  const clock = new SimulatedClock(T0);
  const receiver = new WebhookReceiver();
  let r: EmbeddedApp;
  let buyer: string;
  let other: string;
  const call = (...args: HttpCallArgs): Promise<HttpReply> => httpCall(r.url, ...args);
  const rejectedAt = (path: string) => receiver.acknowledged(path).filter((x) => x.type === 'usage.rejected');

  beforeAll(async () => {
    await receiver.start();
    r = await startEmbedded(join(dir.path, 'cx.sqlite'), clock, {
      webhooks: { allowPrivate: true, allowHttp: true, pollMs: 20, secretKeyHex: 'b2'.repeat(32) },
    });
    const admin = r.adminKey as string;
    for (const accountId of ['buy-1', 'other-1']) {
      const res = await call('POST', '/v1/accounts', admin, { accountId, legalName: accountId, kind: 'buyer' });
      expect(res.status).toBe(201);
    }
    const key = async (role: string, accounts: string[]) =>
      (await call('POST', '/v1/keys', admin, { role, accounts })).body.key as string;
    buyer = await key('integrator', ['buy-1']);
    other = await key('integrator', ['other-1']);
    for (const [who, k] of [
      ['buyer', buyer],
      ['other', other],
    ] as const) {
      const res = await call('POST', '/v1/webhooks', k, {
        url: receiver.url(`/${who}`),
        eventTypes: ['usage.rejected'],
      });
      expect(res.status).toBe(201);
      receiver.trust(`/${who}`, res.body.secret);
    }
  });

  afterAll(async () => {
    await r?.app.close();
    await receiver.stop();
    dir.remove();
  });

  it('tells the reporting account once per rejection, with code and field, and no other tenant', async () => {
    const bus = r.app.get<MessageBus>(MESSAGE_BUS);
    const base = {
      specversion: '1.0',
      source: '//agent.example/buy-1',
      type: 'com.cx.usage.v1',
      subject: 'buy-1',
      time: '2026-03-10T07:00:00Z',
      cxaccount: 'buy-1',
    };
    const negative = structured({ ...base, id: 'neg-1', data: { meter: 'tokens_in', quantity: '-1', offerId: 'o-1' } });
    const unknownMeter = structured({ ...base, id: 'meter-1', data: { meter: 'nope', quantity: '1', offerId: 'o-1' } });
    // The same record produced again (an integrator's retry after a timeout): the same rejection, not a second one.
    await bus.publish(USAGE_SUBMITTED_TOPIC, [negative, unknownMeter, negative]);

    await waitFor(() => rejectedAt('/buyer').length >= 2, WAIT);
    const got = rejectedAt('/buyer');
    expect(got.every((x) => x.signature === 'ok')).toBe(true);
    const byId = new Map(got.map((x) => [x.body.data.id, x.body]));
    expect(byId.get('neg-1')).toMatchObject({
      type: 'usage.rejected',
      data: {
        accountId: 'buy-1',
        source: '//agent.example/buy-1',
        id: 'neg-1',
        subject: 'buy-1',
        code: 'METERING.NEGATIVE_QUANTITY',
        field: 'data.quantity',
      },
    });
    expect(byId.get('meter-1')?.data).toMatchObject({ code: 'METERING.UNKNOWN_METER', field: 'data.meter' });

    // A redelivery of the whole batch (as after a crash before the offset commit) records nothing new. A valid
    // event after it, once accepted, shows the consumer has handled everything produced before it.
    await bus.publish(USAGE_SUBMITTED_TOPIC, [negative, unknownMeter]);
    const marker = structured({ ...base, id: 'marker', data: { meter: 'nope', quantity: '1', offerId: 'o-1' } });
    await bus.publish(USAGE_SUBMITTED_TOPIC, [marker]);
    await waitFor(() => rejectedAt('/buyer').some((x) => x.body.data.id === 'marker'), WAIT);

    const ids = rejectedAt('/buyer').map((x) => x.body.data.id);
    expect(ids.sort()).toEqual(['marker', 'meter-1', 'neg-1']);
    // One delivery, one event id per rejection.
    expect(new Set(rejectedAt('/buyer').map((x) => x.eventId)).size).toBe(3);
    expect(receiver.received.filter((x) => x.path === '/other')).toEqual([]);
    const listed = await call('GET', '/v1/webhooks', other);
    const deliveries = await call('GET', `/v1/webhooks/${listed.body.items[0].webhookId}/deliveries`, other);
    expect(deliveries.body.items).toEqual([]);
  });
});
