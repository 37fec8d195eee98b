// Proves the ledger over real HTTP and a real SQLite file: deposits and withdrawals with client-idempotent ids,
// refusals that change nothing, roles and tenancy on balances, holds placed once for a trade heard twice on the
// bus, and a ledger whose balances sum to zero.
import 'reflect-metadata';
import { join } from 'node:path';
import { createEvent, timestampFromDate, toKafkaRecord } from '@cx/contracts';
import { SimulatedClock } from '@cx/shared-kernel';
import { tempDir, waitFor, httpCall, type HttpReply, type HttpCallArgs } from '@cx/testing';
import { TRADES_TOPIC } from '../infrastructure/billing-integration';
import { type InProcessBilling, startInProcessBilling, stopInProcessBilling } from '../testing/billing-host.fixture';
import { BillingLedgerService, holdTransferId } from './ledger.http.service';

const T0 = new Date('2026-03-10T08:00:00Z');

type Reply = HttpReply;

const call = (r: InProcessBilling, ...args: HttpCallArgs): Promise<Reply> => httpCall(r.url, ...args);

const publishTrade = async (r: InProcessBilling, tradeId: string, buyer: string, price: string, quantity: string) => {
  const ev = createEvent(TRADES_TOPIC, {
    envelope: {
      eventId: `evt-${tradeId}`,
      aggregateId: 'nvidia-h100-sxm-80g.cn-east-1.2026-03-10',
      occurredAt: timestampFromDate(T0),
      correlationId: `corr-${tradeId}`,
      causationId: `corr-${tradeId}`,
      source: { streamId: 'book-test', streamRevision: 0n },
    },
    event: {
      case: 'tradeExecuted',
      value: {
        tradeId,
        instrumentId: 'nvidia-h100-sxm-80g.cn-east-1.2026-03-10',
        resourceClass: 'nvidia-h100-sxm-80g',
        region: 'cn-east-1',
        deliveryDay: '2026-03-10',
        price: { amount: price, currency: 'CNY' },
        quantity,
        buyOrderId: `bo-${tradeId}`,
        sellOrderId: `so-${tradeId}`,
        buyerAccountId: buyer,
        sellerAccountId: 'prov-01',
        sequence: 1n,
      },
    },
  });
  await r.bus.publish(TRADES_TOPIC, [toKafkaRecord(TRADES_TOPIC, ev)]);
};

describe('billing ledger over HTTP', () => {
  const dir = tempDir('cx-billing-');
  const clock = new SimulatedClock(T0);
  let r: InProcessBilling;
  let admin: string;
  let trader: string;
  let finance: string;
  let otherFinance: string;
  let auditor: string;

  const deposit = (body: Record<string, unknown>, key = admin) => call(r, 'POST', '/v1/ledger/deposits', key, body);
  const withdraw = (body: Record<string, unknown>, key = admin) => call(r, 'POST', '/v1/ledger/withdrawals', key, body);
  const balances = (account: string, key = admin) => call(r, 'GET', `/v1/ledger/accounts/${account}`, key);

  beforeAll(async () => {
    r = await startInProcessBilling(join(dir.path, 'cx.sqlite'), clock, { tradeHolds: true });
    admin = r.adminKey;
    for (const [accountId, kind] of [
      ['buyer-01', 'buyer'],
      ['prov-01', 'provider'],
      ['poor-01', 'buyer'],
    ] as const) {
      expect((await call(r, 'POST', '/v1/accounts', admin, { accountId, legalName: accountId, kind })).status).toBe(
        201,
      );
    }
    const key = async (role: string, accounts: string[]) =>
      (await call(r, 'POST', '/v1/keys', admin, { role, accounts })).body.key as string;
    trader = await key('trader', ['buyer-01']);
    finance = await key('finance', ['buyer-01']);
    otherFinance = await key('finance', ['prov-01']);
    auditor = await key('auditor', []);
  });

  afterAll(async () => {
    if (r) await stopInProcessBilling(r);
    dir.remove();
  });

  it('deposits, answers a repeat as exists and a changed repeat as a conflict', async () => {
    const body = { transferId: 'dep-1', account: 'buyer-01', amount: '1000', currency: 'CNY' };
    const first = await deposit(body);
    expect(first).toMatchObject({ status: 201, body: { transferId: 'dep-1', amount: '1000.00', result: 'ok' } });
    expect(await deposit(body)).toMatchObject({ status: 200, body: { result: 'exists' } });
    expect(await deposit({ ...body, amount: '999' })).toMatchObject({
      status: 409,
      body: { code: 'BILLING.TRANSFER_EXISTS_WITH_DIFFERENT_FIELDS' },
    });
    const b = await balances('buyer-01');
    expect(b.status).toBe(200);
    expect(b.body).toEqual({
      account: 'buyer-01',
      currency: 'CNY',
      creditLine: '0.00',
      available: '1000.00',
      balances: {
        cash: { posted: '1000.00', pending: '0.00' },
        payable: { posted: '0.00', pending: '0.00' },
        receivable: { posted: '0.00', pending: '0.00' },
        held: { posted: '0.00', pending: '0.00' },
      },
    });
  });

  it('refuses malformed and unknown requests', async () => {
    const body = { transferId: 'dep-x', account: 'buyer-01', amount: '1.001', currency: 'CNY' };
    expect(await deposit(body)).toMatchObject({ status: 400, body: { code: 'BILLING.AMOUNT_HAS_TOO_MANY_DECIMALS' } });
    expect(await deposit({ ...body, amount: '0' })).toMatchObject({
      status: 400,
      body: { code: 'BILLING.AMOUNT_MUST_NOT_BE_ZERO' },
    });
    expect(await deposit({ ...body, amount: 5 })).toMatchObject({ status: 400 });
    expect(await deposit({ ...body, amount: '1', account: 'nobody' })).toMatchObject({
      status: 404,
      body: { code: 'BILLING.ACCOUNT_NOT_FOUND' },
    });
    expect(await deposit({ ...body, amount: '1', currency: 'USD' })).toMatchObject({
      status: 422,
      body: { code: 'BILLING.CURRENCY_MISMATCH' },
    });
  });

  it('refuses a withdrawal beyond the balance and changes nothing', async () => {
    const before = (await balances('buyer-01')).body;
    expect(
      await withdraw({ transferId: 'wd-big', account: 'buyer-01', amount: '1000.01', currency: 'CNY' }),
    ).toMatchObject({ status: 422, body: { code: 'BILLING.EXCEEDS_CREDITS' } });
    expect((await balances('buyer-01')).body).toEqual(before);
    expect(await withdraw({ transferId: 'wd-1', account: 'buyer-01', amount: '100', currency: 'CNY' })).toMatchObject({
      status: 201,
      body: { result: 'ok', amount: '100.00' },
    });
    expect((await balances('buyer-01')).body.balances.cash.posted).toBe('900.00');
  });

  it('enforces roles and tenancy', async () => {
    const body = { transferId: 'dep-t', account: 'buyer-01', amount: '1', currency: 'CNY' };
    expect(await deposit(body, trader)).toMatchObject({ status: 403, body: { code: 'AUTH.FORBIDDEN' } });
    expect(await withdraw(body, finance)).toMatchObject({ status: 403 });
    expect((await balances('buyer-01', trader)).status).toBe(200);
    expect((await balances('buyer-01', finance)).status).toBe(200);
    expect((await balances('buyer-01', auditor)).status).toBe(200);
    expect(await balances('buyer-01', otherFinance)).toMatchObject({
      status: 404,
      body: { code: 'BILLING.ACCOUNT_NOT_FOUND' },
    });
    // Exactly as a missing account answers.
    expect(await balances('nobody', admin)).toMatchObject({ status: 404, body: { code: 'BILLING.ACCOUNT_NOT_FOUND' } });
  });

  it('holds the buyer’s notional once for a trade delivered twice, and records nothing for a refused hold', async () => {
    const ledger = r.app.get(BillingLedgerService);
    await publishTrade(r, 'trade-1', 'buyer-01', '12.5', '10');
    await publishTrade(r, 'trade-1', 'buyer-01', '12.5', '10');
    // A buyer with no funds: the hold is refused and nothing is recorded.
    await publishTrade(r, 'trade-2', 'poor-01', '12.5', '10');
    // A marker trade after them on the same key (partition): once it is held, everything before it was handled.
    await publishTrade(r, 'trade-3', 'buyer-01', '1', '1');
    await waitFor(async () => (await ledger.transfer('CNY', holdTransferId('trade-3'))) !== undefined, {
      what: 'hold for the marker trade',
    });
    expect(await ledger.transfer('CNY', holdTransferId('trade-1'))).toMatchObject({
      debitAccount: 'buyer-01:cash',
      creditAccount: 'buyer-01:held',
      amount: '125.00',
      phase: 'pending',
      ref: 'trade-1',
    });
    expect(await ledger.transfer('CNY', holdTransferId('trade-2'))).toBeUndefined();
    const b = (await balances('buyer-01')).body;
    // 125.00 for trade-1 (once, though delivered twice) and 1.00 for the marker.
    expect(b.balances.cash).toEqual({ posted: '900.00', pending: '-126.00' });
    expect(b.balances.held).toEqual({ posted: '0.00', pending: '126.00' });
    expect(b.available).toBe('774.00');
    expect((await balances('poor-01')).body.balances.cash).toEqual({ posted: '0.00', pending: '0.00' });
    // Every balance of the ledger sums to zero, posted and pending.
    expect((await ledger.ledger('CNY')).totals()).toEqual({ posted: 0n, pending: 0n });
  });
});
