// Proves webhook delivery end to end in the embedded exchange, over real HTTP to a real receiver on loopback and a
// real SQLite file: signatures verify; a trade, a statement and an alert each arrive exactly once per delivery id;
// 500-then-200 gets the retry; a receiver down for a while gets everything once back; the app stopped mid-way and
// started again on the same file loses nothing and resends nothing acknowledged; a participant's endpoint never
// hears another participant's trades, statements or alerts; another tenant's webhook id answers 404.
import 'reflect-metadata';
import { join } from 'node:path';
import { SimulatedClock } from '@cx/shared-kernel';
import { httpCall, type HttpCallArgs, type HttpReply, tempDir, waitFor } from '@cx/testing';
import { type EmbeddedApp, startEmbedded } from './testing/embedded-app';
import { openTenants } from '../../../services/webhooks/src/testing/tenants.fixture';
import { WebhookReceiver } from '../../../services/webhooks/src/testing/webhook-receiver.fixture';

const T0 = new Date('2026-03-10T08:00:00Z');
const DAY1 = '2026-03-11';
const INSTR = `nvidia-h100-sxm-80g.cn-east-1.${DAY1}`;
/** Deliveries are given up after a minute of simulated time, so the failing-endpoint case can be driven. */
const WEBHOOKS = {
  allowPrivate: true,
  allowHttp: true,
  backoffBaseMs: 1_000,
  backoffMaxMs: 8_000,
  maxAgeMs: 60_000,
  pollMs: 20,
  // Signing secrets are sealed in the store (as in production), so the audit stream never shows them.
  secretKeyHex: 'a1'.repeat(32),
};
/** Past the longest backoff: every failed delivery is due again. */
const PAST_BACKOFF_MS = 8_001;
const WAIT = { timeoutMs: 20_000 };

interface Delivery {
  deliveryId: string;
  eventId: string;
  eventType: string;
  status: string;
  attempts: { statusCode: number | null; succeeded: boolean }[];
}

describe('webhooks in the embedded exchange', () => {
  const dir = tempDir('cx-webhooks-');
  const file = join(dir.path, 'cx.sqlite');
  const clock = new SimulatedClock(T0);
  const receiver = new WebhookReceiver();
  let r: EmbeddedApp;
  let admin: string;
  let seller: string;
  let buyer: string;
  let other: string;
  const hooks: Record<'buyer' | 'seller' | 'other' | 'dead', { id: string; secret: string }> = {} as never;
  const call = (...args: HttpCallArgs): Promise<HttpReply> => httpCall(r.url, ...args);
  /** Every secret an answer showed. */
  const shown: string[] = [];
  let seq = 0;

  /** One trade of `lots` at `price`: the seller's ask rests, the buyer's bid takes it. */
  const trade = async (price: string, lots = 1): Promise<void> => {
    seq += 1;
    const order = { instrument: INSTR, timeInForce: 'GTC', quantityLots: lots, price };
    const sell = await call('POST', '/v1/orders', seller, {
      ...order,
      account: 'prov-1',
      side: 'sell',
      clientOrderId: `s${seq}`,
    });
    expect(sell.status).toBe(201);
    const buy = await call('POST', '/v1/orders', buyer, {
      ...order,
      account: 'buy-1',
      side: 'buy',
      clientOrderId: `b${seq}`,
    });
    expect(buy.status).toBe(201);
  };
  const deliveries = async (who: keyof typeof hooks, key: string): Promise<Delivery[]> =>
    (await call('GET', `/v1/webhooks/${hooks[who].id}/deliveries?limit=500`, key)).body.items as Delivery[];
  const tradesAcked = (path: string) => receiver.acknowledged(path).filter((x) => x.type === 'trade.executed');

  beforeAll(async () => {
    await receiver.start();
    r = await startEmbedded(file, clock, { webhooks: WEBHOOKS });
    admin = r.adminKey as string;
    ({ seller, buyer, other } = await openTenants(call, admin, {
      deposits: [
        ['dep-b', 'buy-1'],
        ['dep-o', 'other-1'],
      ],
    }));
  });

  afterAll(async () => {
    await r?.app.close();
    await receiver.stop();
    dir.remove();
  });

  it('registers endpoints, shows each secret once and never again', async () => {
    const all = [
      'trade.executed',
      'allocation.created',
      'order.cancelled',
      'usage.rejected',
      'statement.issued',
      'period.closed',
      'guidance.changed',
      'market.halted',
      'alert.raised',
    ];
    const plan = [
      ['buyer', buyer, ['trade.executed', 'statement.issued', 'alert.raised']],
      ['seller', seller, ['trade.executed', 'alert.raised']],
      ['other', other, all],
    ] as const;
    for (const [who, key, eventTypes] of plan) {
      const res = await call('POST', '/v1/webhooks', key, { url: receiver.url(`/${who}`), eventTypes });
      expect(res.status).toBe(201);
      expect(res.body).toMatchObject({ url: receiver.url(`/${who}`), eventTypes, status: 'active' });
      expect(res.body.secret).toMatch(/^whsec_/);
      hooks[who] = { id: res.body.webhookId, secret: res.body.secret };
      shown.push(res.body.secret as string);
      receiver.trust(`/${who}`, res.body.secret);
    }
    expect(hooks.buyer.secret).not.toBe(hooks.seller.secret);
    const listed = await call('GET', '/v1/webhooks', buyer);
    expect(listed.body.items).toHaveLength(1);
    expect(listed.body.items[0].accounts).toEqual(['buy-1']);
    expect(JSON.stringify(listed.body)).not.toContain(hooks.buyer.secret);
    const one = await call('GET', `/v1/webhooks/${hooks.buyer.id}`, buyer);
    expect(one.status).toBe(200);
    expect(one.body.secret).toBeUndefined();
  });

  it('delivers a trade, signed, to each side’s own endpoint only, with only that side’s view', async () => {
    await trade('25.50', 2);
    await waitFor(() => tradesAcked('/buyer').length === 1 && tradesAcked('/seller').length === 1, WAIT);
    const [b] = tradesAcked('/buyer');
    const [s] = tradesAcked('/seller');
    expect(b?.signature).toBe('ok');
    expect(s?.signature).toBe('ok');
    expect(b?.body).toMatchObject({
      id: b?.eventId,
      type: 'trade.executed',
      time: T0.toISOString(),
      data: { accountId: 'buy-1', side: 'buy', price: { amount: '25.5', currency: 'CNY' }, instrumentId: INSTR },
    });
    expect(s?.body.data).toMatchObject({ accountId: 'prov-1', side: 'sell' });
    // The same trade, one event id; neither side learns the other's account.
    expect(s?.eventId).toBe(b?.eventId);
    expect(JSON.stringify(b?.body)).not.toContain('prov-1');
    expect(JSON.stringify(s?.body)).not.toContain('buy-1');
    const listed = await deliveries('buyer', buyer);
    expect(listed).toEqual([
      expect.objectContaining({
        eventType: 'trade.executed',
        status: 'succeeded',
        attempts: [expect.objectContaining({ statusCode: 200, succeeded: true })],
      }),
    ]);
  });

  it('retries after a 500 and records both attempts', async () => {
    receiver.script('/buyer', 500);
    await trade('25.60');
    const failed = await waitFor(async () => {
      const d = (await deliveries('buyer', buyer)).find((x) => x.status === 'pending' && x.attempts.length === 1);
      return d?.attempts[0]?.statusCode === 500 ? d : null;
    }, WAIT);
    expect(tradesAcked('/buyer')).toHaveLength(1);
    clock.advance(PAST_BACKOFF_MS);
    await waitFor(() => tradesAcked('/buyer').length === 2, WAIT);
    // The receiver has answered; the worker records the attempt right after.
    const after = await waitFor(async () => {
      const d = (await deliveries('buyer', buyer)).find((x) => x.deliveryId === failed.deliveryId);
      return d?.status === 'succeeded' ? d : null;
    }, WAIT);
    expect(after?.attempts.map((a) => a.statusCode)).toEqual([500, 200]);
    expect(receiver.received.filter((x) => x.deliveryId === failed.deliveryId).map((x) => x.status)).toEqual([
      500, 200,
    ]);
  });

  it('raises a participant’s price alert once per crossing (hysteresis), delivered and listed for it alone', async () => {
    const rule = await call('POST', '/v1/alert-rules', buyer, {
      accountId: 'buy-1',
      kind: 'price-level',
      resourceClass: 'nvidia-h100-sxm-80g',
      source: 'last-trade',
      direction: 'above',
      level: '26',
      rearmMarginPercent: '2',
    });
    expect(rule.status).toBe(201);
    expect(rule.body).toMatchObject({ kind: 'price-level', armed: true, firings: 0 });
    const alertsAcked = () => receiver.acknowledged('/buyer').filter((x) => x.type === 'alert.raised');
    const base = tradesAcked('/buyer').length;
    // Moves stay under the circuit breaker's 10%.
    await trade('26.00');
    await waitFor(() => alertsAcked().length === 1, WAIT);
    // Hovering above, then dipping but not past the margin (26 − 2% = 25.48), then above again: no new alert.
    await trade('26.10');
    await trade('25.60');
    await trade('26.05');
    await waitFor(() => tradesAcked('/buyer').length === base + 4, WAIT);
    // Past the margin: re-armed; the next crossing fires again.
    await trade('25.40');
    await trade('26.20');
    await waitFor(() => alertsAcked().length === 2, WAIT);
    await waitFor(() => tradesAcked('/buyer').length === base + 6, WAIT);
    const mine = await call('GET', '/v1/alerts/mine', buyer);
    expect(mine.body.items).toHaveLength(2);
    expect(mine.body.items.map((a: { value: string }) => a.value)).toEqual(['26', '26.2']);
    expect(alertsAcked().map((a) => a.body.data.value)).toEqual(['26', '26.2']);
    expect(alertsAcked().every((a) => a.signature === 'ok')).toBe(true);
    expect((await call('GET', '/v1/alerts/mine', other)).body.items).toEqual([]);
    expect((await call('GET', '/v1/alert-rules', other)).body.items).toEqual([]);
    const rules = await call('GET', '/v1/alert-rules', buyer);
    expect(rules.body.items).toEqual([expect.objectContaining({ firings: 2, armed: false })]);
  });

  it('marks an endpoint failing once a delivery outlives its max age, and alerts its owner', async () => {
    const res = await call('POST', '/v1/webhooks', seller, {
      url: receiver.url('/dead'),
      eventTypes: ['trade.executed'],
    });
    expect(res.status).toBe(201);
    hooks.dead = { id: res.body.webhookId, secret: res.body.secret };
    shown.push(res.body.secret as string);
    receiver.trust('/dead', res.body.secret);
    receiver.script('/dead', ...new Array<number>(100).fill(503));
    await trade('26.20');
    // Every failed try is followed by the clock moving past the backoff, until the minute of retries is over.
    let seen = 0;
    for (let round = 0; round < 40; round++) {
      const d = await waitFor(async () => {
        const [x] = await deliveries('dead', seller);
        return x !== undefined && (x.attempts.length > seen || x.status === 'failed') ? x : null;
      }, WAIT);
      if (d.status === 'failed') break;
      seen = d.attempts.length;
      clock.advance(PAST_BACKOFF_MS);
    }
    const [gaveUp] = await deliveries('dead', seller);
    expect(gaveUp?.status).toBe('failed');
    expect(gaveUp?.attempts.every((a) => a.statusCode === 503)).toBe(true);
    expect((await call('GET', `/v1/webhooks/${hooks.dead.id}`, seller)).body.status).toBe('failing');
    const alerts = await waitFor(async () => {
      const items = (await call('GET', '/v1/alerts/mine', seller)).body.items as { kind: string; webhookId: string }[];
      return items.length === 1 ? items : null;
    }, WAIT);
    expect(alerts[0]).toMatchObject({ kind: 'webhook-failing', webhookId: hooks.dead.id });
    // The owner hears it on its other endpoint.
    await waitFor(
      () =>
        receiver
          .acknowledged('/seller')
          .some((x) => x.type === 'alert.raised' && x.body.data.kind === 'webhook-failing'),
      WAIT,
    );
    expect((await call('GET', '/v1/alerts/mine', buyer)).body.items).toHaveLength(2);
  });

  it('delivers each account’s statement to its own endpoint when the period closes', async () => {
    clock.set(new Date('2026-03-11T00:00:01Z'));
    const closed = await call('POST', '/v1/periods/2026-03-10/close', admin);
    expect(closed.status).toBe(201);
    const stmts = () => receiver.acknowledged().filter((x) => x.type === 'statement.issued');
    await waitFor(() => stmts().length === 2, WAIT);
    expect(stmts().map((x) => [x.path, x.body.data.accountId])).toEqual(
      expect.arrayContaining([
        ['/buyer', 'buy-1'],
        ['/other', 'other-1'],
      ]),
    );
    expect(stmts().every((x) => x.signature === 'ok')).toBe(true);
    // period.closed is market-wide: the endpoint subscribed to it hears it.
    await waitFor(() => receiver.acknowledged('/other').some((x) => x.type === 'period.closed'), WAIT);
  });

  it('delivers everything to a receiver that was down for a while, once it is back', async () => {
    const base = { buyer: tradesAcked('/buyer').length, seller: tradesAcked('/seller').length };
    await receiver.stop();
    clock.set(new Date('2026-03-11T00:10:00Z'));
    const instr = `nvidia-h100-sxm-80g.cn-east-1.2026-03-12`;
    for (const [i, price] of ['25.10', '25.20'].entries()) {
      const order = { instrument: instr, timeInForce: 'GTC', quantityLots: 1, price };
      expect(
        (
          await call('POST', '/v1/orders', seller, {
            ...order,
            account: 'prov-1',
            side: 'sell',
            clientOrderId: `ds${i}`,
          })
        ).status,
      ).toBe(201);
      expect(
        (await call('POST', '/v1/orders', buyer, { ...order, account: 'buy-1', side: 'buy', clientOrderId: `db${i}` }))
          .status,
      ).toBe(201);
    }
    // Each has failed at least twice (connection refused) before the receiver comes back.
    for (let round = 0; round < 2; round++) {
      await waitFor(async () => {
        const pending = (await deliveries('buyer', buyer)).filter((d) => d.status === 'pending');
        return (
          pending.length === 2 &&
          pending.every((d) => d.attempts.length > round && d.attempts.every((a) => a.statusCode === null))
        );
      }, WAIT);
      clock.advance(PAST_BACKOFF_MS);
    }
    await receiver.start();
    clock.advance(PAST_BACKOFF_MS);
    await waitFor(
      () => tradesAcked('/buyer').length === base.buyer + 2 && tradesAcked('/seller').length === base.seller + 2,
      WAIT,
    );
    await waitFor(async () => (await deliveries('buyer', buyer)).every((d) => d.status === 'succeeded'), WAIT);
  });

  it('loses nothing and resends nothing acknowledged when the app is stopped mid-way and started again', async () => {
    const base = { buyer: tradesAcked('/buyer').length, seller: tradesAcked('/seller').length };
    await receiver.stop();
    const instr = `nvidia-h100-sxm-80g.cn-east-1.2026-03-12`;
    const order = { instrument: instr, timeInForce: 'GTC', quantityLots: 1, price: '25.30' };
    expect(
      (await call('POST', '/v1/orders', seller, { ...order, account: 'prov-1', side: 'sell', clientOrderId: 'rs1' }))
        .status,
    ).toBe(201);
    expect(
      (await call('POST', '/v1/orders', buyer, { ...order, account: 'buy-1', side: 'buy', clientOrderId: 'rb1' }))
        .status,
    ).toBe(201);
    await waitFor(
      async () => (await deliveries('buyer', buyer)).some((d) => d.status === 'pending' && d.attempts.length >= 1),
      WAIT,
    );
    const before = receiver.acknowledged().length;
    const rulesBefore = (await call('GET', '/v1/alert-rules', buyer)).body.items;

    await r.app.close();
    await receiver.start();
    r = await startEmbedded(file, clock, { webhooks: WEBHOOKS });
    expect(r.adminKey).toBeNull();
    clock.advance(PAST_BACKOFF_MS);
    await waitFor(
      () => tradesAcked('/buyer').length === base.buyer + 1 && tradesAcked('/seller').length === base.seller + 1,
      WAIT,
    );
    // A trade after the restart is delivered too: the replayed history ahead of it has been heard by then. Right
    // after a start matching may still answer GUIDANCE_STALE ("try again shortly"): such an order is sent again.
    let attempt = 0;
    const place = (key: string, body: Record<string, unknown>) =>
      waitFor(async () => {
        const res = await call('POST', '/v1/orders', key, {
          ...body,
          clientOrderId: `${String(body.clientOrderId)}-${(attempt += 1)}`,
        });
        if (res.status === 201) return res;
        if (res.body.code === 'MATCHING.GUIDANCE_STALE') return null;
        throw new Error(`order refused: ${JSON.stringify(res.body)}`);
      }, WAIT);
    const after = { ...order, price: '25.40' };
    await place(seller, { ...after, account: 'prov-1', side: 'sell', clientOrderId: 'rs2' });
    await place(buyer, { ...after, account: 'buy-1', side: 'buy', clientOrderId: 'rb2' });
    await waitFor(
      () => tradesAcked('/buyer').length === base.buyer + 2 && tradesAcked('/seller').length === base.seller + 2,
      WAIT,
    );
    expect(receiver.acknowledged().length).toBe(before + 4);
    // The replayed trades did not move the price rule: no new firing, the same armed state.
    expect((await call('GET', '/v1/alerts/mine', buyer)).body.items).toHaveLength(2);
    expect((await call('GET', '/v1/alert-rules', buyer)).body.items).toEqual(rulesBefore);

    // Exactly once per delivery id, every signature good, every delivery succeeded once.
    const acked = receiver.acknowledged();
    const ids = acked.map((x) => x.deliveryId);
    expect(new Set(ids).size).toBe(ids.length);
    expect(acked.every((x) => x.signature === 'ok')).toBe(true);
    for (const who of ['buyer', 'seller'] as const) {
      const key = who === 'buyer' ? buyer : seller;
      const list = await waitFor(async () => {
        const all = await deliveries(who, key);
        return all.every((d) => d.status === 'succeeded') ? all : null;
      }, WAIT);
      expect(list.filter((d) => d.attempts.filter((a) => a.succeeded).length !== 1)).toEqual([]);
    }
  });

  it('raises spend and utilization-drift alerts from settlements, readings and the clock', async () => {
    const allocs = (await call('GET', '/v1/allocations?account=buy-1', buyer)).body.items as {
      allocationId: string;
      quantity: string;
    }[];
    const two = allocs.find((a) => a.quantity === '2');
    expect(two).toBeDefined();
    const rules = [
      { kind: 'utilization-drift', allocationId: two?.allocationId, driftPercent: '20' },
      { kind: 'spend', period: 'day', threshold: '10.00', currency: 'CNY' },
    ];
    for (const rule of rules) {
      expect((await call('POST', '/v1/alert-rules', buyer, { accountId: 'buy-1', ...rule })).status).toBe(201);
    }
    const usageKey = (await call('POST', '/v1/keys', admin, { role: 'integrator', accounts: ['prov-1'] })).body.key;
    // Within the first hour of delivery nothing is judged yet (readings arrive after the fact), so whether the
    // timer or the reading is heard first, the rule fires once: at the end of the day 1 of 2 hours was delivered.
    clock.set(new Date(`${DAY1}T00:30:00Z`));
    // One of the two hours delivered.
    const reading = {
      specversion: '1.0',
      id: 'u-1',
      source: '//prov/agent',
      type: 'com.cx.usage.v1',
      subject: two?.allocationId,
      time: `${DAY1}T00:20:00Z`,
      data: { meter: 'accelerator_seconds', quantity: '3600' },
    };
    expect((await call('POST', '/v1/usage', usageKey, [reading])).body.accepted).toBe(1);
    clock.set(new Date('2026-03-12T00:00:01Z'));
    expect((await call('POST', `/v1/periods/${DAY1}/close`, admin)).status).toBe(201);
    const kinds = async () =>
      ((await call('GET', '/v1/alerts/mine', buyer)).body.items as { kind: string }[]).map((a) => a.kind).sort();
    await waitFor(async () => (await kinds()).join() === 'price-level,price-level,spend,utilization-drift', {
      ...WAIT,
      what: 'a spend and a utilization alert beside the two price alerts',
    });
    await waitFor(() => receiver.acknowledged('/buyer').filter((x) => x.type === 'alert.raised').length === 4, WAIT);
    const spendAlert = receiver.acknowledged('/buyer').find((x) => x.body.data.kind === 'spend');
    expect(spendAlert?.body.data).toMatchObject({ accountId: 'buy-1', scope: DAY1, line: '10' });
    // Each fired once, and stays quiet while the value stays past its line.
    expect((await call('GET', '/v1/alert-rules', buyer)).body.items.map((x: { firings: number }) => x.firings)).toEqual(
      [2, 1, 1],
    );
    expect((await call('GET', '/v1/alerts/mine', other)).body.items).toEqual([]);
  });

  it('keeps tenants apart: no other participant’s trade, statement or alert reaches an endpoint', () => {
    for (const x of receiver.received) {
      const account = x.body.data.accountId;
      if (x.path === '/other') {
        expect({ type: x.type, account }).toEqual({
          type: x.type,
          account: x.type === 'period.closed' ? undefined : 'other-1',
        });
      }
      if (x.path === '/buyer') expect(account).toBe('buy-1');
      if (x.path === '/seller' || x.path === '/dead') expect(account).toBe('prov-1');
    }
    expect(receiver.acknowledged('/other').some((x) => x.type === 'trade.executed')).toBe(false);
  });

  it('answers another tenant’s webhook id with 404 and changes nothing', async () => {
    const id = hooks.buyer.id;
    for (const [method, path] of [
      ['GET', `/v1/webhooks/${id}`],
      ['DELETE', `/v1/webhooks/${id}`],
      ['POST', `/v1/webhooks/${id}/rotate-secret`],
      ['GET', `/v1/webhooks/${id}/deliveries`],
      ['POST', `/v1/webhooks/${id}/deliveries/x/redeliver`],
    ] as const) {
      const res = await call(method, path, other);
      expect({ method, path, status: res.status, code: res.body.code }).toEqual({
        method,
        path,
        status: 404,
        code: 'WEBHOOKS.NOT_FOUND',
      });
    }
    expect((await call('GET', `/v1/webhooks/${id}`, buyer)).status).toBe(200);
  });

  it('signs with the new secret after a rotation, and redelivers on request with the same event id', async () => {
    const rotated = await call('POST', `/v1/webhooks/${hooks.buyer.id}/rotate-secret`, buyer);
    expect(rotated.status).toBe(201);
    expect(rotated.body.secret).not.toBe(hooks.buyer.secret);
    receiver.trust('/buyer', rotated.body.secret);
    shown.push(rotated.body.secret as string);
    const [first] = await deliveries('buyer', buyer);
    const again = await call('POST', `/v1/webhooks/${hooks.buyer.id}/deliveries/${first?.deliveryId}/redeliver`, buyer);
    expect(again.status).toBe(201);
    await waitFor(
      () => receiver.received.filter((x) => x.deliveryId === first?.deliveryId && x.status === 200).length === 2,
      WAIT,
    );
    const resent = receiver.received.filter((x) => x.deliveryId === first?.deliveryId);
    expect(resent[resent.length - 1]).toMatchObject({ eventId: first?.eventId, signature: 'ok' });
    const del = await call('DELETE', `/v1/webhooks/${hooks.buyer.id}`, buyer);
    expect(del.status).toBe(204);
    expect((await call('GET', `/v1/webhooks/${hooks.buyer.id}`, buyer)).status).toBe(404);
  });

  it('keeps every signing secret out of the store: sealed, never readable from the event stream', async () => {
    expect(shown.length).toBe(5);
    let endpointEvents = 0;
    for await (const e of r.store.readAll()) {
      const text = JSON.stringify(e.data);
      if (e.streamId.startsWith('webhook-endpoint-')) endpointEvents += 1;
      for (const secret of shown) expect(text.includes(secret)).toBe(false);
      expect(text.includes('whsec_')).toBe(false);
    }
    expect(endpointEvents).toBeGreaterThanOrEqual(5);
  });
});
