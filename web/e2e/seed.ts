import { waitFor } from '@cx/testing';
import { type ConsoleExchange } from './exchange';

// Market data the console shows, created through the public API only (as a participant would): accounts and a
// key per role, a national H100 band, trades and resting orders, delivery readings, a closed day with statements,
// and a trade just above the floor on the next day, which raises a near-floor surveillance alert.

export const T0 = '2026-03-10T08:00:00Z';
export const RC = 'nvidia-h100-sxm-80g';
export const BAND_FROM = '2026-03-15T08:00:00Z';
export const TRADED_DAY = '2026-03-16';
export const TRADED = `${RC}.cn-east-1.${TRADED_DAY}`;
/** Listed and open for trading after the seed (the clock ends on 2026-03-17). */
export const OPEN = `${RC}.cn-east-1.2026-03-19`;
/** The price of the one trade on OPEN: 1.11% above the 18.00 floor, within the 3% that raises a near-floor alert. */
export const NEAR_FLOOR_PRICE = '18.20';
export const NEAR_FLOOR_ALERT = `near-floor.${RC}.cn-east-1.CNY.2026-03-17`;

export interface Keys {
  admin: string;
  regulator: string;
  auditor: string;
  provider: string;
  buyer: string;
  /** A second buyer (buy-2), whose trade near the floor leaves buy-1's balances as the statement tests know them. */
  buyer2: string;
  finance: string;
  integrator: string;
}

export interface Reply {
  status: number;
  // Bodies are read loosely: each use states the shape it expects.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  body: any;
}

export const api = async (url: string, method: string, path: string, key: string, body?: unknown): Promise<Reply> => {
  const headers: Record<string, string> = { authorization: `Bearer ${key}` };
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(`${url}${path}`, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
};

const ok = (r: Reply, what: string): Reply => {
  if (r.status >= 300) throw new Error(`${what}: ${r.status} ${JSON.stringify(r.body)}`);
  return r;
};

export const seed = async (x: ConsoleExchange): Promise<Keys> => {
  const call = (method: string, path: string, key: string, body?: unknown) => api(x.url, method, path, key, body);
  const admin = x.adminKey;
  for (const [accountId, kind, timezone] of [
    ['prov-1', 'provider', 'Asia/Shanghai'],
    ['buy-1', 'buyer', 'Asia/Shanghai'],
    ['buy-2', 'buyer', 'Asia/Shanghai'],
  ] as const) {
    ok(
      await call('POST', '/v1/accounts', admin, { accountId, legalName: `${accountId} Co.`, kind, timezone }),
      'account',
    );
  }
  const key = async (role: string, accounts: string[] = []) =>
    ok(await call('POST', '/v1/keys', admin, { role, accounts, label: `e2e ${role}` }), 'key').body.key as string;
  const keys: Keys = {
    admin,
    regulator: await key('regulator'),
    auditor: await key('auditor'),
    provider: await key('trader', ['prov-1']),
    buyer: await key('trader', ['buy-1']),
    buyer2: await key('trader', ['buy-2']),
    finance: await key('finance', ['buy-1']),
    integrator: await key('integrator', ['prov-1']),
  };
  ok(
    await call('POST', '/v1/ledger/deposits', admin, {
      transferId: 'dep-1',
      account: 'buy-1',
      amount: '10000.00',
      currency: 'CNY',
    }),
    'deposit',
  );
  ok(
    await call('POST', '/v1/ledger/deposits', admin, {
      transferId: 'dep-2',
      account: 'buy-2',
      amount: '1000.00',
      currency: 'CNY',
    }),
    'deposit',
  );
  ok(
    await call('POST', '/v1/guidance', keys.regulator, {
      resourceClass: RC,
      floorPerAcceleratorHour: '18.00',
      ceilingPerAcceleratorHour: '60.00',
      referencePrice: '25.00',
      effectiveFrom: BAND_FROM,
      reason: 'stop a low-price spiral',
      documentRef: 'NDRC-2026-041',
    }),
    'band',
  );
  await x.moveTo('2026-03-15T09:00:00Z');
  // Matching lists the days ahead on its scheduler's next tick after the clock moved.
  await waitFor(async () => (await call('GET', `/v1/market/${TRADED}/depth`, keys.buyer)).status === 200, {
    what: `${TRADED} listed`,
  });
  const order = async (
    trader: string,
    account: string,
    side: string,
    price: string,
    lots: number,
    id: string,
    instrument = TRADED,
  ) =>
    ok(
      await call('POST', '/v1/orders', trader, {
        account,
        side,
        instrument,
        price,
        quantityLots: lots,
        timeInForce: 'GTC',
        clientOrderId: id,
      }),
      `order ${id}`,
    );
  await order(keys.provider, 'prov-1', 'sell', '25.50', 6, 's1');
  await order(keys.buyer, 'buy-1', 'buy', '25.50', 6, 'b1');
  // A regulator halts H100 trading for an hour between the two trades (a marker on every H100 price chart).
  await x.moveTo('2026-03-15T11:00:00Z');
  const halt = ok(
    await call('POST', '/v1/market-status/halts', keys.regulator, {
      scope: { resourceClass: RC },
      reason: 'review of quotes near the floor',
    }),
    'halt',
  ).body as { haltId: string };
  await x.moveTo('2026-03-15T12:00:00Z');
  ok(
    await call('POST', `/v1/market-status/halts/${halt.haltId}/resume`, keys.regulator, { reason: 'review done' }),
    'resume',
  );
  await x.moveTo('2026-03-15T13:00:00Z');
  await order(keys.provider, 'prov-1', 'sell', '26.20', 4, 's2');
  await order(keys.buyer, 'buy-1', 'buy', '26.20', 4, 'b2');
  await order(keys.provider, 'prov-1', 'sell', '27.00', 20, 's3');
  await order(keys.buyer, 'buy-1', 'buy', '24.00', 15, 'b3');
  const allocations = ok(await call('GET', '/v1/allocations?account=prov-1', keys.provider), 'allocations').body
    .items as Array<{ allocationId: string }>;
  await x.moveTo(`${TRADED_DAY}T12:00:00Z`);
  const readings = allocations.map((a, i) => ({
    specversion: '1.0',
    id: `u-${i}`,
    source: '//prov/agent',
    type: 'com.cx.usage.v1',
    subject: a.allocationId,
    time: `${TRADED_DAY}T08:00:00Z`,
    data: { meter: 'accelerator_seconds', quantity: '14400' },
  }));
  ok(await call('POST', '/v1/usage', keys.integrator, readings), 'usage');
  await x.moveTo('2026-03-17T00:00:01Z');
  ok(await call('POST', `/v1/periods/${TRADED_DAY}/close`, admin), 'close');
  await waitFor(async () => (await call('GET', `/v1/market/${OPEN}/depth`, keys.buyer)).status === 200, {
    what: `${OPEN} listed`,
  });
  // One lot traded just above the floor on 2026-03-17: that day's east-China index is within 3% of the floor.
  // Both orders fill entirely, so OPEN's book is empty again for the order tests.
  await order(keys.provider, 'prov-1', 'sell', NEAR_FLOOR_PRICE, 1, 's-near', OPEN);
  await order(keys.buyer2, 'buy-2', 'buy', NEAR_FLOOR_PRICE, 1, 'b-near', OPEN);
  await waitFor(
    async () =>
      ((await call('GET', '/v1/alerts', keys.regulator)).body?.items ?? []).some(
        (a: { alertId: string }) => a.alertId === NEAR_FLOOR_ALERT,
      ),
    { what: 'the near-floor alert' },
  );
  return keys;
};
