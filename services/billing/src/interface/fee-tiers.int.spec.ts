// Proves monthly volume fee tiers on statements, over real HTTP and a real SQLite file: with a tier from 1,000 CNY
// traded in the month, an account's first allocations of the month are charged the base rates and those after its
// month-to-date notional reaches the bound the tier's, on both sides (taker buyer, maker provider); the next month
// starts again at the base rates; and the same store restarted gives the same statements.
import 'reflect-metadata';
import { join } from 'node:path';
import { ReporterRole, Side } from '@cx/contracts';
import { SimulatedClock } from '@cx/shared-kernel';
import { httpCall, type HttpCallArgs, type HttpReply, tempDir, waitFor } from '@cx/testing';
import { BillingFactsService } from '../application/billing-facts.service';
import { type InProcessBilling, startInProcessBilling, stopInProcessBilling } from '../testing/billing-host.fixture';
import { deliveryInputs, envelopeNumbering } from '../testing/delivery-inputs.fixture';

const MARCH_31 = '2026-03-31';
const APRIL_1 = '2026-04-01';
const DAY_MS = 86_400_000;

// Base 10 bp maker, 20 bp taker; from 1,000 traded in the month: 5 and 10.
const tiered = {
  periodGraceMs: 0,
  makerFeeBps: 10,
  takerFeeBps: 20,
  feeTiers: [{ fromNotional: '1000', makerBps: 5, takerBps: 10 }],
};

// One numbering for the whole file: event ids never repeat across allocations.
const envelopes = envelopeNumbering(
  (seq) => `e-${seq}`,
  (seq) => `c-${seq}`,
);
/** A trade (the buyer takes), its allocation of 10 h at 60.00 and the provider's reading of all 10 h. */
const allocation = (id: string, day: string) =>
  deliveryInputs({
    tradeId: `t-${id}`,
    allocationId: `alloc-${id}`,
    day,
    buyer: 'buy-1',
    provider: 'prov-1',
    price: '60.00',
    quantity: '10',
    buyOrderId: `b-${id}`,
    sellOrderId: `s-${id}`,
    aggressorSide: Side.BID,
    // The trade's sequence is its envelope's number.
    readings: [{ role: ReporterRole.PROVIDER, id: `u-${id}`, seconds: '36000' }],
    envelopes,
  });

describe('monthly volume fee tiers on statements', () => {
  const dir = tempDir('cx-billing-tiers-');
  const file = join(dir.path, 'cx.sqlite');
  const clock = new SimulatedClock(new Date(`${MARCH_31}T00:00:00Z`));
  let r: InProcessBilling;
  const call = (...args: HttpCallArgs): Promise<HttpReply> => httpCall(r.url, ...args);

  beforeAll(async () => {
    r = await startInProcessBilling(file, clock, tiered);
    for (const [accountId, kind] of [
      ['buy-1', 'buyer'],
      ['prov-1', 'provider'],
    ]) {
      expect((await call('POST', '/v1/accounts', r.adminKey, { accountId, legalName: accountId, kind })).status).toBe(
        201,
      );
    }
    const dep = { transferId: 'dep-1', account: 'buy-1', amount: '10000', currency: 'CNY' };
    expect((await call('POST', '/v1/ledger/deposits', r.adminKey, dep)).status).toBe(201);
  });

  afterAll(async () => {
    if (r) await stopInProcessBilling(r);
    dir.remove();
  });

  const feed = async (allocations: Array<ReturnType<typeof allocation>>) => {
    // Last first: the order billing hears them in must not matter, only the order a close settles them in.
    for (const a of [...allocations].reverse()) for (const m of a.messages) await r.bus.publish(m.topic, [m.message]);
    const facts = r.app.get(BillingFactsService).facts;
    await waitFor(() =>
      allocations.every(
        (a) => facts.allocations.get(a.allocationId)?.state.readings.size === 1 && facts.trades.has(a.tradeId),
      ),
    );
  };

  const fees = async (account: string, day: string) =>
    ((await call('GET', `/v1/statements/${account}/${day}`, r.adminKey)).body.lines as Array<Record<string, string>>)
      .filter((l) => l.kind === 'settlement')
      .map((l) => [String(l.ref).split(':')[0], l.amount, l.fee]);

  it('charges the tier’s rates once the month’s traded notional reaches its bound, and the base rates again next month', async () => {
    // Three allocations of 600.00 on 31 March: 0 and 600 traded before the first two, 1,200 before the third.
    await feed([allocation('m1', MARCH_31), allocation('m2', MARCH_31), allocation('m3', MARCH_31)]);
    clock.set(new Date(Date.parse(`${MARCH_31}T00:00:00Z`) + DAY_MS + 1));
    expect((await call('POST', `/v1/periods/${MARCH_31}/close`, r.adminKey)).status).toBe(201);
    // Buyer (taker): 20 bp = 1.20 twice, then 10 bp = 0.60. Provider (maker): 10 bp = 0.60 twice, then 5 bp = 0.30.
    expect(await fees('buy-1', MARCH_31)).toEqual([
      ['alloc-m1', '-600.00', '-1.20'],
      ['alloc-m2', '-600.00', '-1.20'],
      ['alloc-m3', '-600.00', '-0.60'],
    ]);
    expect(await fees('prov-1', MARCH_31)).toEqual([
      ['alloc-m1', '600.00', '-0.60'],
      ['alloc-m2', '600.00', '-0.60'],
      ['alloc-m3', '600.00', '-0.30'],
    ]);

    // April starts from nothing traded: the base rates again.
    await feed([allocation('a1', APRIL_1)]);
    clock.set(new Date(Date.parse(`${APRIL_1}T00:00:00Z`) + DAY_MS + 1));
    expect((await call('POST', `/v1/periods/${APRIL_1}/close`, r.adminKey)).status).toBe(201);
    expect(await fees('buy-1', APRIL_1)).toEqual([['alloc-a1', '-600.00', '-1.20']]);
    expect(await fees('prov-1', APRIL_1)).toEqual([['alloc-a1', '600.00', '-0.60']]);

    const hashes = async () =>
      Promise.all(
        [MARCH_31, APRIL_1].map(
          async (d) => (await call('GET', `/v1/statements/buy-1/${d}`, r.adminKey)).body.contentHash as string,
        ),
      );
    const before = await hashes();
    await stopInProcessBilling(r);
    r = await startInProcessBilling(file, clock, tiered, r.adminKey);
    expect(await hashes()).toEqual(before);
  });
});
