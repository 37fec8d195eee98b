// Proves the circuit breaker end to end in the embedded exchange over real HTTP: real trades that move an
// instrument's price more than the breaker's percentage within its window halt it (pricing-guidance decides,
// publishes on cx.pricing.market-status.v1), matching then refuses orders with MATCHING.MARKET_HALTED, and after the
// cooling-off the instrument resumes and trades again; a manual halt by the regulator does the same.
import { join } from 'node:path';
import { SimulatedClock } from '@cx/shared-kernel';
import { httpCall, type HttpCallArgs, type HttpReply, tempDir, waitFor } from '@cx/testing';
import { type EmbeddedApp, startEmbedded } from './testing/embedded-app';

const T0 = new Date('2026-03-10T10:00:00Z');
const INSTR = 'nvidia-h100-sxm-80g.cn-east-1.2026-03-11';

describe('circuit breaker and halts in the embedded exchange', () => {
  const dir = tempDir('cx-breaker-');
  const clock = new SimulatedClock(T0);
  let r: EmbeddedApp;
  let admin: string;
  let seller: string;
  let buyer: string;
  let regulator: string;
  let n = 0;
  const call = (...args: HttpCallArgs): Promise<HttpReply> => httpCall(r.url, ...args);
  const order = (key: string, account: string, side: 'buy' | 'sell', price: string) =>
    call('POST', '/v1/orders', key, {
      account,
      side,
      instrument: INSTR,
      price,
      quantityLots: 1,
      timeInForce: 'GTC',
      clientOrderId: `o-${(n += 1)}`,
    });
  const trade = async (price: string) => {
    expect((await order(seller, 'prov-1', 'sell', price)).status).toBe(201);
    const bid = await order(buyer, 'buy-1', 'buy', price);
    expect([bid.status, bid.body.status]).toEqual([201, 'filled']);
  };
  const active = async () => (await call('GET', '/v1/market-status', buyer)).body.items as Array<{ haltId: string }>;

  beforeAll(async () => {
    r = await startEmbedded(join(dir.path, 'cx.sqlite'), clock);
    admin = r.adminKey as string;
    for (const [accountId, kind] of [
      ['prov-1', 'provider'],
      ['buy-1', 'buyer'],
    ]) {
      expect((await call('POST', '/v1/accounts', admin, { accountId, legalName: accountId, kind })).status).toBe(201);
    }
    const key = async (role: string, accounts: string[]) =>
      (await call('POST', '/v1/keys', admin, { role, accounts })).body.key as string;
    seller = await key('trader', ['prov-1']);
    buyer = await key('trader', ['buy-1']);
    regulator = await key('regulator', []);
    await call('POST', '/v1/ledger/deposits', admin, {
      transferId: 'd1',
      account: 'buy-1',
      amount: '5000.00',
      currency: 'CNY',
    });
  });
  afterAll(async () => {
    await r.app.close();
    dir.remove();
  });

  it('halts an instrument whose price moves more than the breaker allows, and matching refuses orders', async () => {
    await trade('20.00');
    clock.set(new Date(T0.getTime() + 60_000));
    // +15% within a minute: beyond the default 10% in 5 minutes.
    await trade('23.00');
    const halts = await waitFor(async () => ((await active()).length === 1 ? await active() : null), {
      what: 'the breaker to halt the instrument',
    });
    expect(halts[0]).toMatchObject({ status: 'halted', origin: 'circuit-breaker', scope: { instrumentId: INSTR } });
    await waitFor(async () => (await order(seller, 'prov-1', 'sell', '23.00')).body.code === 'MATCHING.MARKET_HALTED', {
      what: 'matching to hear the halt',
    });
    const alerts = await call('GET', '/v1/alerts?rule=circuit-breaker', regulator);
    expect(alerts.body.items).toEqual([expect.objectContaining({ instrumentId: INSTR, observedPercent: '15' })]);
  });

  it('resumes after the cooling-off, and the instrument trades again', async () => {
    clock.set(new Date(T0.getTime() + 60_000 + 15 * 60_000));
    await waitFor(async () => (await active()).length === 0, { what: 'the automatic resume' });
    await waitFor(async () => (await order(seller, 'prov-1', 'sell', '23.00')).status === 201, {
      what: 'matching to hear the resume',
    });
    const bid = await order(buyer, 'buy-1', 'buy', '23.00');
    expect(bid.body.status).toBe('filled');
  });

  it('halts and resumes by the regulator’s hand, never by a trader’s', async () => {
    const body = { scope: { instrumentId: INSTR }, reason: 'suspected manipulation' };
    expect((await call('POST', '/v1/market-status/halts', buyer, body)).status).toBe(403);
    const halt = await call('POST', '/v1/market-status/halts', regulator, body);
    expect(halt.status).toBe(201);
    await waitFor(async () => (await order(seller, 'prov-1', 'sell', '23.00')).body.code === 'MATCHING.MARKET_HALTED');
    const resumed = await call('POST', `/v1/market-status/halts/${halt.body.haltId}/resume`, regulator, {
      reason: 'cleared',
    });
    expect(resumed.status).toBeLessThan(300);
    await waitFor(async () => (await order(seller, 'prov-1', 'sell', '23.00')).status === 201);
  });
});
