// Proves the four webhook event types no other test delivers, end to end in the embedded exchange over real HTTP to a
// real receiver on loopback: a trade's allocation (allocation.created) and a cancelled resting order
// (order.cancelled) reach only the account's own endpoint, with that account's view; a band the regulator issues
// and then amends (guidance.changed) and a manual halt (market.halted) reach every endpoint that asked for them.
// Each arrives once, signed, and the deliveries listing shows each attempt's status code and latency.
import 'reflect-metadata';
import { join } from 'node:path';
import { SimulatedClock } from '@cx/shared-kernel';
import { httpCall, type HttpCallArgs, type HttpReply, tempDir, waitFor } from '@cx/testing';
import { type EmbeddedApp, startEmbedded } from './testing/embedded-app';
import { openTenants } from '../../../services/webhooks/src/testing/tenants.fixture';
import { type Received, WebhookReceiver } from '../../../services/webhooks/src/testing/webhook-receiver.fixture';

const T0 = new Date('2026-03-10T08:00:00Z');
const DAY1 = '2026-03-11';
const INSTR = `nvidia-h100-sxm-80g.cn-east-1.${DAY1}`;
const WEBHOOKS = {
  allowPrivate: true,
  allowHttp: true,
  backoffBaseMs: 1_000,
  backoffMaxMs: 8_000,
  pollMs: 20,
  secretKeyHex: 'b2'.repeat(32),
};
const WAIT = { timeoutMs: 20_000 };
const TYPES = ['allocation.created', 'order.cancelled', 'guidance.changed', 'market.halted'];

interface Attempt {
  statusCode: number | null;
  succeeded: boolean;
  latencyMs: unknown;
}

describe('webhooks: allocation, cancellation, guidance and halt events in the embedded exchange', () => {
  const dir = tempDir('cx-webhooks-events-');
  const clock = new SimulatedClock(T0);
  const receiver = new WebhookReceiver();
  let r: EmbeddedApp;
  let seller: string;
  let buyer: string;
  let other: string;
  let regulator: string;
  const hooks: Record<string, string> = {};
  const call = (...args: HttpCallArgs): Promise<HttpReply> => httpCall(r.url, ...args);
  const of = (path: string, type: string): Received[] =>
    receiver.received.filter((x) => x.path === path && x.type === type);

  beforeAll(async () => {
    await receiver.start();
    r = await startEmbedded(join(dir.path, 'cx.sqlite'), clock, { webhooks: WEBHOOKS });
    const tenants = await openTenants(call, r.adminKey as string, {
      deposits: [
        ['dep-b', 'buy-1'],
        ['dep-o', 'other-1'],
      ],
    });
    ({ seller, buyer, other } = tenants);
    regulator = await tenants.key('regulator', []);
    for (const [who, k] of [
      ['buyer', buyer],
      ['seller', seller],
      ['other', other],
    ] as const) {
      const res = await call('POST', '/v1/webhooks', k, { url: receiver.url(`/${who}`), eventTypes: TYPES });
      expect(res.status).toBe(201);
      hooks[who] = res.body.webhookId as string;
      receiver.trust(`/${who}`, res.body.secret as string);
    }
  });

  afterAll(async () => {
    await r?.app.close();
    await receiver.stop();
    dir.remove();
  });

  it('delivers allocation.created to the buyer’s and the provider’s own endpoints, each with its own role', async () => {
    const order = { instrument: INSTR, timeInForce: 'GTC', quantityLots: 2, price: '25.50' };
    const sell = await call('POST', '/v1/orders', seller, {
      ...order,
      account: 'prov-1',
      side: 'sell',
      clientOrderId: 's1',
    });
    expect(sell.status).toBe(201);
    const buy = await call('POST', '/v1/orders', buyer, {
      ...order,
      account: 'buy-1',
      side: 'buy',
      clientOrderId: 'b1',
    });
    expect(buy.status).toBe(201);
    await waitFor(
      () => of('/buyer', 'allocation.created').length === 1 && of('/seller', 'allocation.created').length === 1,
      { ...WAIT, what: 'the allocation at both sides’ endpoints' },
    );
    const [b] = of('/buyer', 'allocation.created');
    const [s] = of('/seller', 'allocation.created');
    expect(b).toMatchObject({
      signature: 'ok',
      status: 200,
      body: {
        id: b?.eventId,
        type: 'allocation.created',
        data: { accountId: 'buy-1', role: 'buyer', instrumentId: INSTR, quantity: '2', unit: 'accelerator-hour' },
      },
    });
    expect(s).toMatchObject({ signature: 'ok', body: { data: { accountId: 'prov-1', role: 'provider' } } });
    // One allocation, one event id; the other tenant hears nothing of it.
    expect(s?.eventId).toBe(b?.eventId);
    expect(s?.body.data.allocationId).toBe(b?.body.data.allocationId);
    expect(of('/other', 'allocation.created')).toEqual([]);
  });

  it('delivers order.cancelled to the order’s own account only', async () => {
    const rest = await call('POST', '/v1/orders', other, {
      instrument: INSTR,
      timeInForce: 'GTC',
      quantityLots: 1,
      price: '24.00',
      account: 'other-1',
      side: 'buy',
      clientOrderId: 'o-rest',
    });
    expect(rest.status).toBe(201);
    const orderId = rest.body.orderId as string;
    expect((await call('DELETE', `/v1/orders/${orderId}`, other)).status).toBeLessThan(300);
    await waitFor(() => of('/other', 'order.cancelled').length === 1, { ...WAIT, what: 'the cancellation' });
    const [c] = of('/other', 'order.cancelled');
    expect(c).toMatchObject({
      signature: 'ok',
      body: {
        id: c?.eventId,
        type: 'order.cancelled',
        data: { orderId, clientOrderId: 'o-rest', accountId: 'other-1', side: 'bid', reason: 'requested' },
      },
    });
    expect(of('/buyer', 'order.cancelled')).toEqual([]);
    expect(of('/seller', 'order.cancelled')).toEqual([]);
  });

  it('delivers guidance.changed market-wide when the regulator issues and then amends a band', async () => {
    const issued = await call('POST', '/v1/guidance', regulator, {
      resourceClass: 'nvidia-h100-sxm-80g',
      floorPerAcceleratorHour: '20',
      effectiveFrom: '2026-03-20T00:00:00.000Z',
      reason: 'spiral stop',
      documentRef: 'NDRC-2026-101',
    });
    expect(issued.status).toBe(201);
    const forBand = (path: string, change: string) =>
      of(path, 'guidance.changed').filter(
        (x) => x.body.data.bandId === issued.body.bandId && x.body.data.change === change,
      );
    await waitFor(() => ['/buyer', '/seller', '/other'].every((p) => forBand(p, 'issued').length === 1), {
      ...WAIT,
      what: 'the issued band at every endpoint',
    });
    const amended = await call('POST', `/v1/guidance/${issued.body.bandId as string}/amend`, regulator, {
      floorPerAcceleratorHour: '21',
      effectiveFrom: '2026-03-21T00:00:00.000Z',
      reason: 'spiral stop, revised',
      documentRef: 'NDRC-2026-102',
    });
    expect(amended.status).toBeLessThan(300);
    await waitFor(() => ['/buyer', '/seller', '/other'].every((p) => forBand(p, 'amended').length === 1), {
      ...WAIT,
      what: 'the amended band at every endpoint',
    });
    for (const p of ['/buyer', '/seller', '/other']) {
      const [i] = forBand(p, 'issued');
      const [a] = forBand(p, 'amended');
      expect(i).toMatchObject({
        signature: 'ok',
        body: {
          type: 'guidance.changed',
          data: { resourceClass: 'nvidia-h100-sxm-80g', floorPerAcceleratorHour: { amount: '20.00', currency: 'CNY' } },
        },
      });
      expect(a).toMatchObject({
        signature: 'ok',
        body: { data: { floorPerAcceleratorHour: { amount: '21.00', currency: 'CNY' } } },
      });
      // Market-wide: the same event (one id) to every endpoint, no account in it.
      expect(i?.eventId).toBe(forBand('/buyer', 'issued')[0]?.eventId);
      expect(i?.body.data.accountId).toBeUndefined();
    }
  });

  it('delivers market.halted market-wide on a manual halt', async () => {
    const halt = await call('POST', '/v1/market-status/halts', regulator, {
      scope: { instrumentId: INSTR },
      reason: 'suspected manipulation',
    });
    expect(halt.status).toBe(201);
    const forHalt = (path: string) => of(path, 'market.halted').filter((x) => x.body.data.haltId === halt.body.haltId);
    await waitFor(() => ['/buyer', '/seller', '/other'].every((p) => forHalt(p).length === 1), {
      ...WAIT,
      what: 'the halt at every endpoint',
    });
    for (const p of ['/buyer', '/seller', '/other']) {
      expect(forHalt(p)[0]).toMatchObject({
        signature: 'ok',
        eventId: forHalt('/buyer')[0]?.eventId,
        body: {
          type: 'market.halted',
          data: { scope: { instrumentId: INSTR }, reason: 'suspected manipulation' },
        },
      });
    }
  });

  it('counts a redirect as a failed attempt: not followed, recorded with its 302, retried later', async () => {
    const res = await call('POST', '/v1/webhooks', other, {
      url: receiver.url('/moved'),
      eventTypes: ['order.cancelled'],
    });
    expect(res.status).toBe(201);
    receiver.trust('/moved', res.body.secret as string);
    receiver.script('/moved', 302);
    const rest = await call('POST', '/v1/orders', other, {
      instrument: `nvidia-h100-sxm-80g.cn-east-1.2026-03-12`,
      timeInForce: 'GTC',
      quantityLots: 1,
      price: '24.00',
      account: 'other-1',
      side: 'buy',
      clientOrderId: 'o-moved',
    });
    expect(rest.status).toBe(201);
    expect((await call('DELETE', `/v1/orders/${rest.body.orderId as string}`, other)).status).toBeLessThan(300);
    const [d] = await waitFor(
      async () => {
        const items = (await call('GET', `/v1/webhooks/${res.body.webhookId as string}/deliveries`, other)).body
          .items as { status: string; attempts: Attempt[] }[];
        return items[0]?.attempts.length === 1 ? items : null;
      },
      { ...WAIT, what: 'the redirected attempt recorded' },
    );
    expect(d).toMatchObject({ status: 'pending', attempts: [{ statusCode: 302, succeeded: false }] });
    expect(receiver.received.filter((x) => x.path === '/moved').map((x) => x.status)).toEqual([302]);
    // Past the backoff the same delivery is tried again, and this time accepted.
    clock.advance(8_001);
    await waitFor(() => receiver.acknowledged('/moved').length === 1, { ...WAIT, what: 'the retry' });
    expect(receiver.received.filter((x) => x.path === '/moved').map((x) => [x.status, x.deliveryId])).toEqual([
      [302, receiver.received.find((x) => x.path === '/moved')?.deliveryId],
      [200, receiver.received.find((x) => x.path === '/moved')?.deliveryId],
    ]);
  });

  it('sent each event once per endpoint, and lists every attempt with its status code and latency', async () => {
    for (const p of ['/buyer', '/seller', '/other']) {
      const ids = receiver.received.filter((x) => x.path === p).map((x) => x.deliveryId);
      expect(new Set(ids).size).toBe(ids.length);
      expect(receiver.received.filter((x) => x.path === p).every((x) => x.signature === 'ok')).toBe(true);
    }
    const listed = await waitFor(
      async () => {
        const items = (await call('GET', `/v1/webhooks/${hooks.buyer}/deliveries?limit=500`, buyer)).body.items as {
          eventType: string;
          status: string;
          attempts: Attempt[];
        }[];
        return items.length > 0 && items.every((d) => d.status === 'succeeded') ? items : null;
      },
      { ...WAIT, what: 'every delivery to the buyer recorded as succeeded' },
    );
    expect(new Set(listed.map((d) => d.eventType))).toEqual(
      new Set(['allocation.created', 'guidance.changed', 'market.halted']),
    );
    for (const d of listed) {
      expect(d.attempts).toHaveLength(1);
      const [a] = d.attempts;
      expect(a).toMatchObject({ statusCode: 200, succeeded: true });
      expect(typeof a?.latencyMs).toBe('number');
      expect(Number.isInteger(a?.latencyMs) && (a?.latencyMs as number) >= 0).toBe(true);
    }
  });
});
