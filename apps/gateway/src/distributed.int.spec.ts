// Proves distributed mode with real processes: the gateway and the four services as separate OS processes, each
// on its own SQLite file, talking over the real Kafka broker. Accounts and keys made at the gateway work at every
// service (each checks them against its own Kafka-fed identity projection), billing reads credit lines from that
// projection, the gateway forwards each route to its owner, a service answers nothing outside its prefixes, a key
// revoked at the gateway stops working at every service within a bound, orders trade once matching has heard the
// catalog and guidance on Kafka (and billing holds the notional), bad configuration exits 2 and SIGTERM exits 0.
//
// Topics other than identity are shared with other runs (no per-test topic prefixes exist), so every id here is
// fresh; the identity topic is a fresh one per run (CX_IDENTITY_TOPIC), because a read model drops events at or
// before the last store position it applied and this run's gateway store starts again from the beginning.
import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { httpCall, kafkaBrokers, scaled, tempDir, waitFor } from '@cx/testing';
import { type Proc, type ProcessName as Name, SERVICES, startProcess } from './testing/cluster';

type Listed = { instrumentId: string; tradingEndsAt: string };
/**
 * An H100 east instrument still open for an hour at least: tomorrow's stops trading an hour before it is delivered,
 * so in the last hour of a UTC day the first one listed is already closed.
 */
const tradable = (items: Listed[]): string =>
  items.find(
    (i) =>
      i.instrumentId.startsWith('nvidia-h100-sxm-80g.cn-east-1.') &&
      Date.parse(i.tradingEndsAt) > Date.now() + 3_600_000,
  )?.instrumentId ?? '';

describe('distributed mode: gateway and four services over Kafka', () => {
  const dir = tempDir('cx-distributed-');
  const run = randomUUID().slice(0, 8);
  const procs = new Map<Name, Proc>();
  let env: Record<string, string>;
  let admin: string;
  const gw = (...args: Parameters<typeof httpCall> extends [string, ...infer R] ? R : never) =>
    httpCall(procs.get('gateway')!.url, ...args);
  const at = (name: Name, path: string, key: string) => httpCall(procs.get(name)!.url, 'GET', path, key);
  /**
   * A route each service owns and authenticates (pricing-guidance and metering host no /v1/me). Meters are
   * admin-only, so a trader's known key gets 403 there: "known" is anything but 401.
   */
  const probe = (name: (typeof SERVICES)[number], accountId: string): string =>
    ({
      'pricing-guidance': '/v1/regions',
      matching: `/v1/orders?account=${accountId}`,
      metering: '/v1/meters',
      billing: `/v1/ledger/accounts/${accountId}`,
    })[name];

  beforeAll(async () => {
    const brokers = await kafkaBrokers();
    env = {
      KAFKA_BROKERS: brokers.join(','),
      CX_IDENTITY_TOPIC: `cx.test.identity-${run}.v1`,
      // Short notice and lag (heartbeats every few seconds), so a band issued in the test takes effect soon after.
      CX_GUIDANCE_MIN_NOTICE_MS: '10000',
      CX_GUIDANCE_MAX_LAG_MS: '10000',
    };
    const storeOf = (name: Name) => {
      // A folder each: the audit signing key is kept beside the store.
      mkdirSync(join(dir.path, name), { recursive: true });
      return `sqlite:${join(dir.path, name, 'store.sqlite')}`;
    };
    // The services first, in parallel (the gateway needs their URLs).
    const started = await Promise.all(SERVICES.map((s) => startProcess(s, { ...env, CX_STORE: storeOf(s) })));
    for (const p of started) procs.set(p.name, p);
    const gateway = await startProcess('gateway', {
      ...env,
      CX_STORE: storeOf('gateway'),
      CX_PRICING_GUIDANCE_URL: procs.get('pricing-guidance')!.url,
      CX_MATCHING_URL: procs.get('matching')!.url,
      CX_METERING_URL: procs.get('metering')!.url,
      CX_BILLING_URL: procs.get('billing')!.url,
    });
    procs.set('gateway', gateway);
    admin = /Admin API key: (\S+)/.exec(gateway.output())?.[1] ?? '';
    expect(admin).toMatch(/^cx_/);
  }, 240_000);

  afterAll(async () => {
    await Promise.all([...procs.values()].map((p) => p.stop('SIGKILL')));
    dir.remove();
  });

  const account = (kind: string) => `${kind}-${run}`;
  const issueKey = async (role: string, accounts: string[]): Promise<{ key: string; keyId: string }> => {
    const res = await gw('POST', '/v1/keys', admin, { role, accounts });
    expect(res.status).toBe(201);
    return { key: res.body.key as string, keyId: res.body.keyId as string };
  };

  it('creates accounts and keys at the gateway, and every service accepts the keys from its own projection', async () => {
    for (const [accountId, kind] of [
      [account('prov'), 'provider'],
      [account('buy'), 'buyer'],
    ]) {
      const res = await gw('POST', '/v1/accounts', admin, {
        accountId,
        legalName: accountId,
        kind,
        creditLine: '500.00',
      });
      expect(res.status).toBe(201);
    }
    const trader = await issueKey('trader', [account('buy')]);
    for (const name of SERVICES) {
      await waitFor(async () => (await at(name, probe(name, account('buy')), trader.key)).status !== 401, {
        timeoutMs: 30_000,
        what: `the new key to work at ${name}`,
      });
    }
    // Matching and billing host /v1/me over the same Kafka-fed projection.
    for (const name of ['matching', 'billing'] as const) {
      expect((await at(name, '/v1/me', trader.key)).body).toMatchObject({
        keyId: trader.keyId,
        role: 'trader',
        accounts: [account('buy')],
      });
    }
    // The key acts for its own account only, at the service too: another tenant's ledger is not found.
    expect((await at('billing', probe('billing', account('prov')), trader.key)).status).toBe(404);
  });

  it('forwards each route to the service that owns it, Authorization included, and streams the answers back', async () => {
    const table: Array<[string, number, (body: unknown) => boolean]> = [
      ['/v1/resource-classes?limit=5', 200, (b) => Array.isArray((b as { items: unknown[] }).items)],
      ['/v1/regions', 200, (b) => Array.isArray((b as { items: unknown[] }).items)],
      ['/v1/market-status', 200, (b) => typeof b === 'object' && b !== null],
      ['/v1/instruments', 200, (b) => Array.isArray((b as { items: unknown[] }).items)],
      [`/v1/orders?account=${account('buy')}`, 200, (b) => Array.isArray((b as { items: unknown[] }).items)],
      ['/v1/meters', 200, (b) => Array.isArray((b as { items: unknown[] }).items)],
      [`/v1/ledger/accounts/${account('buy')}`, 200, (b) => (b as { creditLine: string }).creditLine === '500.00'],
    ];
    for (const [path, status, ok] of table) {
      const res = await gw('GET', path, admin);
      expect({ path, status: res.status }).toEqual({ path, status });
      expect({ path, ok: ok(res.body) }).toEqual({ path, ok: true });
    }
    // No key: each service refuses on its own (the gateway does not authenticate proxied routes for it).
    expect((await gw('GET', '/v1/instruments', null)).status).toBe(401);
    expect((await gw('GET', '/v1/no-such-route', admin)).body.code).toBe('HTTP.NOT_FOUND');
  });

  it('posts deposits and usage through the gateway: billing knows the account from Kafka, metering validates', async () => {
    const dep = { transferId: `dep-${run}`, account: account('buy'), amount: '1000.00', currency: 'CNY' };
    const deposit = await gw('POST', '/v1/ledger/deposits', admin, dep);
    expect(deposit.status).toBe(201);
    const view = await gw('GET', `/v1/ledger/accounts/${account('buy')}`, admin);
    expect(view.body).toMatchObject({ creditLine: '500.00', balances: { cash: { posted: '1000.00' } } });
    // Usage for an allocation metering never heard of: refused with a coded 4xx by metering, not lost in transit.
    const usage = await gw('POST', '/v1/usage', admin, [
      {
        specversion: '1.0',
        id: `u-${run}`,
        source: '//test/agent',
        type: 'com.cx.usage.v1',
        subject: `alloc-${run}`,
        time: new Date().toISOString(),
        data: { meter: 'accelerator_seconds', quantity: '3600' },
      },
    ]);
    expect(usage.status).toBeGreaterThanOrEqual(200);
    expect(usage.status).toBeLessThan(500);
  });

  it('keeps identity writes at the gateway: a service answers only under its own prefixes', async () => {
    for (const name of SERVICES) {
      const res = await httpCall(procs.get(name)!.url, 'POST', '/v1/accounts', admin, {
        legalName: 'x',
        kind: 'buyer',
      });
      expect({ name, status: res.status, code: res.body.code }).toEqual({ name, status: 404, code: 'HTTP.NOT_FOUND' });
    }
    expect((await httpCall(procs.get('matching')!.url, 'GET', '/v1/usage/aggregate', admin)).status).toBe(404);
  });

  it('stops a key revoked at the gateway at every service within the bound', async () => {
    // Several keys, scaled: each revocation must reach each service.
    const keys = await Promise.all(Array.from({ length: scaled(10, 2) }, () => issueKey('trader', [account('prov')])));
    for (const name of SERVICES) {
      await waitFor(async () => (await at(name, probe(name, account('prov')), keys.at(-1)!.key)).status !== 401, {
        timeoutMs: 30_000,
        what: `the keys to reach ${name}`,
      });
    }
    const revokedAt = Date.now();
    for (const k of keys) expect((await gw('POST', `/v1/keys/${k.keyId}/revoke`, admin, {})).status).toBe(200);
    // At the gateway at once: it waits for its own projection before answering.
    expect((await gw('GET', '/v1/me', keys[0]!.key)).status).toBe(401);
    const boundMs = 15_000;
    for (const name of SERVICES) {
      for (const k of keys) {
        await waitFor(async () => (await at(name, probe(name, account('prov')), k.key)).status === 401, {
          timeoutMs: boundMs,
          what: `the revocation to reach ${name}`,
        });
      }
    }
    process.stderr.write(`distributed: revocations effective at all services after ${Date.now() - revokedAt} ms\n`);
    // And through the gateway, at a service's route.
    expect((await gw('GET', '/v1/instruments', keys[0]!.key)).status).toBe(401);
  });

  it('trades through the gateway once matching has heard the catalog over Kafka, and billing holds the notional', async () => {
    const seller = await issueKey('trader', [account('prov')]);
    const buyer = await issueKey('trader', [account('buy')]);
    let instrument = '';
    await waitFor(
      async () => {
        const items = ((await gw('GET', '/v1/instruments?limit=500', buyer.key)).body.items ?? []) as Listed[];
        instrument = tradable(items);
        return instrument !== '';
      },
      { timeoutMs: 60_000, what: 'matching to list instruments from the catalog heard on Kafka' },
    );
    const order = { instrument, timeInForce: 'GTC', quantityLots: 2, price: '20.00' };
    // Matching trades only once guidance is fresh (a heartbeat heard over Kafka): retry with fresh client ids.
    let attempt = 0;
    let last: unknown = null;
    await waitFor(
      async () => {
        attempt += 1;
        const res = await gw('POST', '/v1/orders', seller.key, {
          ...order,
          account: account('prov'),
          side: 'sell',
          clientOrderId: `s-${attempt}`,
        });
        last = res.body;
        return res.status === 201 && res.body.status === 'open';
      },
      { timeoutMs: 60_000, what: 'an ask to rest' },
    ).catch((e: unknown) => {
      throw new Error(`${String(e)}; last answer ${JSON.stringify(last)}`);
    });
    const bid = await gw('POST', '/v1/orders', buyer.key, {
      ...order,
      account: account('buy'),
      side: 'buy',
      clientOrderId: 'b-1',
    });
    expect(bid.status).toBe(201);
    await waitFor(
      async () => (await gw('GET', `/v1/allocations?account=${account('buy')}`, buyer.key)).body.items?.length === 1,
      {
        timeoutMs: 30_000,
        what: 'the allocation',
      },
    );
    // Billing heard the trade on Kafka and held 2 h × 20.00 of the buyer's cash.
    await waitFor(
      async () =>
        (await gw('GET', `/v1/ledger/accounts/${account('buy')}`, buyer.key)).body.balances?.held?.pending === '40.00',
      { timeoutMs: 30_000, what: 'the hold' },
    );
  });

  it('a floor raised by the regulator through pricing-guidance cancels resting asks below it at effectiveFrom', async () => {
    const seller = await issueKey('trader', [account('prov')]);
    const regulator = await issueKey('regulator', []);
    // New keys reach the services over Kafka: wait until matching knows this one (and lists the instrument).
    let instrument = '';
    await waitFor(
      async () => {
        const items = ((await gw('GET', '/v1/instruments?limit=500', seller.key)).body.items ?? []) as Listed[];
        instrument = tradable(items);
        return instrument !== '';
      },
      { timeoutMs: 30_000, what: 'the new key to work at matching' },
    );
    const ask = await gw('POST', '/v1/orders', seller.key, {
      instrument,
      account: account('prov'),
      side: 'sell',
      price: '15.00',
      quantityLots: 1,
      timeInForce: 'GTC',
      clientOrderId: 'low-ask',
    });
    expect([ask.status, ask.body.status]).toEqual([201, 'open']);
    const effectiveFrom = new Date(Date.now() + 12_000).toISOString();
    await waitFor(async () => (await gw('GET', '/v1/regions', regulator.key)).status === 200, {
      timeoutMs: 30_000,
      what: 'the regulator key to work at pricing-guidance',
    });
    const band = await gw('POST', '/v1/guidance', regulator.key, {
      resourceClass: 'nvidia-h100-sxm-80g',
      floorPerAcceleratorHour: '18.00',
      effectiveFrom,
      reason: 'stop a low-price spiral',
      documentRef: `TEST-${run}`,
    });
    expect(band.status).toBe(201);
    // Published by pricing-guidance's relay on Kafka, heard by matching before it takes effect, applied at it.
    const cancelled = await waitFor(
      async () => {
        const o = (await gw('GET', `/v1/orders/${ask.body.orderId as string}`, seller.key)).body;
        return o.status === 'cancelled' ? o : null;
      },
      { timeoutMs: 30_000, what: 'the resting ask below the new floor to be cancelled' },
    );
    expect(cancelled).toMatchObject({ reason: 'FLOOR_RAISED' });
    // Cancelled at the floor's effective instant, not when the band was heard.
    expect(Date.parse(cancelled.updatedAt as string)).toBeGreaterThanOrEqual(Date.parse(effectiveFrom));
    const below = await gw('POST', '/v1/orders', seller.key, {
      instrument,
      account: account('prov'),
      side: 'sell',
      price: '17.00',
      quantityLots: 1,
      timeInForce: 'GTC',
      clientOrderId: 'below-floor',
    });
    expect([below.status, below.body.code]).toEqual([422, 'MATCHING.BELOW_FLOOR']);
  });

  it('stops every process on SIGTERM with exit code 0', async () => {
    const codes = await Promise.all(
      (['gateway', ...SERVICES] as Name[]).map(async (n) => [n, await procs.get(n)!.stop('SIGTERM')] as const),
    );
    expect(codes).toEqual((['gateway', ...SERVICES] as Name[]).map((n) => [n, 0]));
  });
});

describe('distributed mode: configuration', () => {
  it.each([
    ['gateway' as Name, { KAFKA_BROKERS: '127.0.0.1:9092' }, 'CX_PRICING_GUIDANCE_URL'],
    ['matching' as Name, {}, 'KAFKA_BROKERS'],
    ['billing' as Name, { KAFKA_BROKERS: '127.0.0.1:9092', CX_CLOCK: 'simulated' }, 'distributed mode'],
    ['metering' as Name, { KAFKA_BROKERS: 'not a broker' }, 'KAFKA_BROKERS'],
  ])('refuses bad configuration of %s at boot with exit code 2', async (name, env, what) => {
    const dir = tempDir();
    try {
      await expect(
        startProcess(name, { KAFKA_BROKERS: '', CX_STORE: `sqlite:${join(dir.path, 's.sqlite')}`, ...env }),
      ).rejects.toThrow(new RegExp(`exited with 2[\\s\\S]*${what}`));
    } finally {
      dir.remove();
    }
  });
});
