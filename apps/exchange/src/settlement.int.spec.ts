// Proves settlement end to end in the embedded exchange, over real HTTP and a real SQLite file: a trade places a
// hold, delivery readings (provider billed, buyer kept as evidence, a duplicate counted once) settle at the day's
// close, the statement's totals equal the ledger's movements to the cent in JSON and CSV, a late reading becomes an
// adjustment in the next period, bad closes change nothing, and a restart rebuilds identical statements.
import 'reflect-metadata';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { BillingFactsService } from '@cx/billing';
import { Dec, SimulatedClock } from '@cx/shared-kernel';
import { httpCall, type HttpCallArgs, type HttpReply, tempDir, waitFor } from '@cx/testing';
import { DAY_MS, type EmbeddedApp, startEmbedded } from './testing/embedded-app';

const T0 = new Date('2026-03-10T08:00:00Z');
const DAY1 = '2026-03-11';
const INSTR = `nvidia-h100-sxm-80g.cn-east-1.${DAY1}`;
const FEES = { billing: { makerFeeBps: 10, takerFeeBps: 20 } };

describe('settlement in the embedded exchange', () => {
  const dir = tempDir('cx-settle-');
  const file = join(dir.path, 'cx.sqlite');
  const clock = new SimulatedClock(T0);
  let r: EmbeddedApp;
  let admin: string;
  let seller: string;
  let buyer: string;
  let sellerUsage: string;
  let buyerUsage: string;
  let finance: string;
  let allocationId: string;
  const call = (...args: HttpCallArgs): Promise<HttpReply> => httpCall(r.url, ...args);
  let seq = 0;
  const reading = (seconds: string, time: string, source = '//prov/agent') => ({
    specversion: '1.0',
    id: `u-${(seq += 1)}`,
    source,
    type: 'com.cx.usage.v1',
    subject: allocationId,
    time,
    data: { meter: 'accelerator_seconds', quantity: seconds },
  });
  const readings = () => {
    const entry = r.app.get(BillingFactsService).facts.allocations.get(allocationId);
    return entry?.state.readings.size ?? 0;
  };

  beforeAll(async () => {
    r = await startEmbedded(file, clock, FEES);
    admin = r.adminKey as string;
    for (const [accountId, kind] of [
      ['prov-1', 'provider'],
      ['buy-1', 'buyer'],
    ]) {
      const res = await call('POST', '/v1/accounts', admin, { accountId, legalName: accountId, kind });
      expect(res.status).toBe(201);
    }
    const key = async (role: string, accounts: string[]) =>
      (await call('POST', '/v1/keys', admin, { role, accounts })).body.key as string;
    seller = await key('trader', ['prov-1']);
    buyer = await key('trader', ['buy-1']);
    sellerUsage = await key('integrator', ['prov-1']);
    buyerUsage = await key('integrator', ['buy-1']);
    finance = await key('finance', ['buy-1']);
    const dep = { transferId: 'dep-1', account: 'buy-1', amount: '10000.00', currency: 'CNY' };
    expect((await call('POST', '/v1/ledger/deposits', admin, dep)).status).toBe(201);
  });

  afterAll(async () => {
    await r?.app.close();
    dir.remove();
  });

  it('holds the buyer’s notional when the trade executes, and records the allocation', async () => {
    const order = { instrument: INSTR, timeInForce: 'GTC', quantityLots: 10, price: '25.50' };
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
    await waitFor(async () => (await call('GET', '/v1/allocations?account=buy-1', buyer)).body.items.length === 1);
    allocationId = (await call('GET', '/v1/allocations?account=buy-1', buyer)).body.items[0].allocationId;
    await waitFor(async () => {
      const view = await call('GET', '/v1/ledger/accounts/buy-1', buyer);
      return view.body.balances.held.pending === '255.00';
    });
    const transfers = await call('GET', '/v1/ledger/transfers?account=buy-1', finance);
    expect(transfers.body.items.map((t: { code: string; status: string }) => [t.code, t.status])).toEqual([
      ['deposit', 'posted'],
      ['hold', 'pending'],
      ['hold', 'pending'],
    ]);
  });

  it('refuses bad closes with coded errors and changes nothing', async () => {
    const table: Array<[string, string, number, string]> = [
      ['a malformed period', '2026-13-01', 400, 'BILLING.PERIOD_INVALID'],
      ['a day that has not ended', DAY1, 422, 'BILLING.PERIOD_GRACE_NOT_OVER'],
      ['a month that has not ended', '2026-03', 422, 'BILLING.PERIOD_GRACE_NOT_OVER'],
      ['a month with open days', '2026-02', 422, 'BILLING.PERIOD_DAYS_OPEN'],
    ];
    for (const [what, period, status, code] of table) {
      const res = await call('POST', `/v1/periods/${period}/close`, admin);
      expect({ what, status: res.status, code: res.body.code }).toEqual({ what, status, code });
    }
    expect((await call('POST', `/v1/periods/2026-03-09/close`, finance)).status).toBe(403);
    expect((await call('GET', '/v1/statements/buy-1', finance)).body.items).toEqual([]);
  });

  it('settles delivered hours at the close: the provider’s reading billed, the buyer’s kept as evidence', async () => {
    clock.set(new Date(`${DAY1}T12:00:00Z`));
    // 8 of 10 hours delivered (28,800 s, in two readings, one sent twice); the buyer reports 7.5 hours.
    const first = reading('14400', `${DAY1}T04:00:00Z`);
    const posted = await call('POST', '/v1/usage', sellerUsage, [first, reading('14400', `${DAY1}T08:00:00Z`)]);
    expect(posted.body.accepted).toBe(2);
    expect((await call('POST', '/v1/usage', sellerUsage, [first])).body.duplicates).toBe(1);
    const evidence = reading('27000', `${DAY1}T08:00:00Z`, '//buyer/agent');
    expect((await call('POST', '/v1/usage', buyerUsage, [evidence])).body.accepted).toBe(1);
    await waitFor(() => readings() === 3);

    clock.set(new Date(Date.parse(`${DAY1}T00:00:00Z`) + DAY_MS + 1));
    const closed = await call('POST', `/v1/periods/${DAY1}/close`, admin);
    expect(closed.status).toBe(201);
    expect(closed.body).toMatchObject({ period: DAY1, kind: 'day', settlements: 1, resumed: false });
    expect((await call('POST', `/v1/periods/${DAY1}/close`, admin)).body.code).toBe('BILLING.PERIOD_ALREADY_CLOSED');

    const stmt = await call('GET', `/v1/statements/buy-1/${DAY1}`, finance);
    expect(stmt.status).toBe(200);
    const s = stmt.body;
    // 8 h × 25.50 = 204.00; the buyer took liquidity: 20 bps = 0.41 (0.408 half-even).
    expect(s.lines).toEqual([
      expect.objectContaining({
        kind: 'settlement',
        role: 'buyer',
        instrument: INSTR,
        quantity: '8',
        unitPrice: '25.50',
        amount: '-204.00',
        fee: '-0.41',
      }),
    ]);
    expect(s.openingBalance).toBe('10000.00');
    expect(s.closingBalance).toBe('9795.59');
    expect(s.shortfalls).toEqual([expect.objectContaining({ allocationId, shortfallHours: '2', value: '51.00' })]);
    expect(s.readingDifferences).toEqual([
      expect.objectContaining({ providerReportedHours: '8', buyerReportedHours: '7.5', differenceHours: '-0.5' }),
    ]);
    expect(s.contentHash).toMatch(/^[0-9a-f]{64}$/);

    // The provider: +204.00, maker fee 10 bps = 0.20.
    const p = (await call('GET', `/v1/statements/prov-1/${DAY1}`, seller)).body;
    expect(p.lines).toEqual([expect.objectContaining({ role: 'provider', amount: '204.00', fee: '-0.20' })]);
    expect(p.closingBalance).toBe('203.80');

    // The ledger agrees to the cent: posted cash equals the closing balances, the hold is released.
    const view = (await call('GET', '/v1/ledger/accounts/buy-1', buyer)).body;
    expect(view.balances.cash.posted).toBe(s.closingBalance);
    expect(view.balances.held.pending).toBe('0.00');
    const pv = (await call('GET', '/v1/ledger/accounts/prov-1', seller)).body;
    expect(pv.balances.cash.posted).toBe(p.closingBalance);
  });

  it('serves the statement as CSV with the same content, and hides it from other tenants', async () => {
    const res = await fetch(`${r.url}/v1/statements/buy-1/${DAY1}`, {
      headers: { authorization: `Bearer ${finance}`, accept: 'text/csv' },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/csv/);
    const json = (await call('GET', `/v1/statements/buy-1/${DAY1}`, finance)).body;
    expect(res.headers.get('x-content-hash')).toBe(json.contentHash);
    const rows = parse(await res.text(), { columns: true }) as Array<Record<string, string>>;
    expect(rows.map((x) => [x.kind, x.amount, x.fee])).toEqual([
      ['opening_balance', '10000.00', ''],
      ['settlement', '-204.00', '-0.41'],
      ['closing_balance', '9795.59', ''],
    ]);
    expect((await call('GET', `/v1/statements/buy-1/${DAY1}`, seller)).status).toBe(404);
    expect((await call('GET', `/v1/statements/buy-1/2026-99-01`, finance)).body.code).toBe('BILLING.PERIOD_INVALID');
  });

  it('books a late reading as an adjustment in the next open period, never editing the closed statement', async () => {
    const before = (await call('GET', `/v1/statements/buy-1/${DAY1}`, finance)).body;
    // One more hour for the closed day, reported late.
    const late = reading('3600', `${DAY1}T20:00:00Z`);
    expect((await call('POST', '/v1/usage', sellerUsage, [late])).body.accepted).toBe(1);
    await waitFor(() => readings() === 4);
    const day2 = '2026-03-12';
    clock.set(new Date(Date.parse(`${day2}T00:00:00Z`) + DAY_MS + 1));
    const closed = await call('POST', `/v1/periods/${day2}/close`, admin);
    expect(closed.status).toBe(201);
    const s = (await call('GET', `/v1/statements/buy-1/${day2}`, finance)).body;
    // 1 h × 25.50 = 25.50; fee 20 bps of the new total 229.50 is 0.46, 0.05 more than booked.
    expect(s.lines).toEqual([
      expect.objectContaining({ kind: 'adjustment', quantity: '1', amount: '-25.50', fee: '-0.05' }),
    ]);
    expect(s.openingBalance).toBe(before.closingBalance);
    expect(s.closingBalance).toBe(new Dec(before.closingBalance).minus('25.55').toFixed(2));
    expect((await call('GET', `/v1/statements/buy-1/${DAY1}`, finance)).body).toEqual(before);
    expect((await call('GET', '/v1/ledger/accounts/buy-1', buyer)).body.balances.cash.posted).toBe(s.closingBalance);
  });

  it('refuses a day out of order, or one that skips an open day', async () => {
    expect((await call('POST', '/v1/periods/2026-03-10/close', admin)).body.code).toBe('BILLING.PERIOD_OUT_OF_ORDER');
    clock.set(new Date('2026-03-20T00:00:00Z'));
    expect((await call('POST', '/v1/periods/2026-03-14/close', admin)).body.code).toBe('BILLING.EARLIER_PERIOD_OPEN');
  });

  it('issues notes against a closed statement without editing it', async () => {
    const before = (await call('GET', `/v1/statements/buy-1/${DAY1}`, finance)).body;
    const cash = async (key: string, account: string) =>
      new Dec((await call('GET', `/v1/ledger/accounts/${account}`, key)).body.balances.cash.posted);
    const c0 = await cash(buyer, 'buy-1');
    const path = `/v1/statements/buy-1/${DAY1}/notes`;
    const note = { noteId: 'cn-1', kind: 'credit', amount: '10.00', currency: 'CNY', reason: 'goodwill' };
    const issued = await call('POST', path, finance, note);
    expect(issued.status).toBe(201);
    expect(issued.body).toMatchObject({ statementId: before.statementId, transferId: 'note:cn-1' });
    expect((await call('POST', path, finance, note)).status).toBe(200);
    const table: Array<[string, string, string, Record<string, unknown>, number, string]> = [
      [
        'the same id with another amount',
        finance,
        path,
        { ...note, amount: '11.00' },
        409,
        'BILLING.NOTE_EXISTS_WITH_DIFFERENT_FIELDS',
      ],
      ['a zero amount', finance, path, { ...note, noteId: 'cn-2', amount: '0' }, 400, 'BILLING.NOT_POSITIVE'],
      [
        'another currency',
        finance,
        path,
        { ...note, noteId: 'cn-3', currency: 'USD' },
        422,
        'BILLING.CURRENCY_MISMATCH',
      ],
      [
        'a period without a statement',
        finance,
        '/v1/statements/buy-1/2026-01-05/notes',
        { ...note, noteId: 'cn-4' },
        404,
        'BILLING.STATEMENT_NOT_FOUND',
      ],
      [
        'another tenant’s statement',
        finance,
        `/v1/statements/prov-1/${DAY1}/notes`,
        { ...note, noteId: 'cn-5' },
        404,
        'BILLING.STATEMENT_NOT_FOUND',
      ],
      ['a trader', buyer, path, { ...note, noteId: 'cn-6' }, 403, 'AUTH.FORBIDDEN'],
    ];
    for (const [what, key, where, body, status, code] of table) {
      const res = await call('POST', where, key, body);
      expect({ what, status: res.status, code: res.body.code }).toEqual({ what, status, code });
    }
    expect((await cash(buyer, 'buy-1')).minus(c0).toFixed(2)).toBe('10.00');
    expect((await call('GET', path, finance)).body.items.map((n: { noteId: string }) => n.noteId)).toEqual(['cn-1']);
    // The note reissued the statement as a new version; the version it supersedes reads exactly as issued.
    expect((await call('GET', `/v1/statements/buy-1/${DAY1}?version=${before.version}`, finance)).body).toEqual(before);
    const reissued = (await call('GET', `/v1/statements/buy-1/${DAY1}`, finance)).body;
    expect(reissued).toMatchObject({
      version: before.version + 1,
      supersedes: before.statementId,
      reason: 'correction',
      lines: before.lines,
      closingBalance: before.closingBalance,
      adjustments: [expect.objectContaining({ noteId: 'cn-1', kind: 'credit_note', amount: '10.00' })],
      adjustedTotals: { closingBalance: new Dec(before.closingBalance).plus(10).toFixed(2) },
    });
    expect(reissued.contentHash).not.toBe(before.contentHash);
  });

  it('resolves a delivery dispute in the buyer’s favour with a credit note from the provider', async () => {
    const cash = async (key: string, account: string) =>
      new Dec((await call('GET', `/v1/ledger/accounts/${account}`, key)).body.balances.cash.posted);
    const [b0, p0] = [await cash(buyer, 'buy-1'), await cash(seller, 'prov-1')];
    const claim = {
      disputeId: 'd-1',
      allocationId,
      account: 'buy-1',
      claimedHours: '7.5',
      reason: 'our agent saw 7.5 h',
    };
    const opened = await call('POST', '/v1/disputes', finance, claim);
    expect(opened.status).toBe(201);
    // 9 h billed (8 at the close, 1 late) against 7.5 claimed.
    expect(opened.body).toMatchObject({ billedHours: '9', claimedHours: '7.5' });
    expect((await call('POST', '/v1/disputes', finance, claim)).status).toBe(200);
    expect((await call('POST', '/v1/disputes', seller, { ...claim, disputeId: 'd-2' })).status).toBe(404);
    const over = await call('POST', '/v1/disputes', finance, { ...claim, disputeId: 'd-3', claimedHours: '9.5' });
    expect(over.body.code).toBe('BILLING.NOTHING_TO_DISPUTE');
    expect((await call('POST', '/v1/disputes/d-1/resolve', finance, { inFavourOf: 'buyer', reason: 'x' })).status).toBe(
      403,
    );

    const resolved = await call('POST', '/v1/disputes/d-1/resolve', admin, {
      inFavourOf: 'buyer',
      reason: 'meter fault',
    });
    expect(resolved.status).toBe(201);
    expect(resolved.body.resolved).toMatchObject({
      inFavourOf: 'buyer',
      creditedHours: '1.5',
      creditNoteId: 'dispute-d-1',
    });
    // 1.5 h × 25.50 = 38.25 from the provider to the buyer.
    expect((await cash(buyer, 'buy-1')).minus(b0).toFixed(2)).toBe('38.25');
    expect(p0.minus(await cash(seller, 'prov-1')).toFixed(2)).toBe('38.25');
    const again = await call('POST', '/v1/disputes/d-1/resolve', admin, { inFavourOf: 'buyer', reason: 'meter fault' });
    expect(again.status).toBe(201);
    expect((await cash(buyer, 'buy-1')).minus(b0).toFixed(2)).toBe('38.25');
    const other = await call('POST', '/v1/disputes/d-1/resolve', admin, { inFavourOf: 'provider', reason: 'no' });
    expect(other.body.code).toBe('BILLING.DISPUTE_ALREADY_RESOLVED');
    expect((await call('GET', '/v1/disputes/d-1', seller)).body.resolved.creditNoteId).toBe('dispute-d-1');
  });

  it('rates usage of an on-demand offer by its card, and at the floor once a raised floor is in force', async () => {
    const regulator = (await call('POST', '/v1/keys', admin, { role: 'regulator', accounts: [] })).body.key as string;
    const listed = await call('POST', '/v1/offers', seller, {
      offerId: 'off-1',
      providerAccount: 'prov-1',
      resourceClass: 'nvidia-h100-sxm-80g',
      meter: 'accelerator_seconds',
      currency: 'CNY',
      rateCard: { model: 'flat', unitPrice: '30.00' },
    });
    expect(listed.status).toBe(201);
    const use = (seconds: string, time: string) => ({
      ...reading(seconds, time, '//buyer/notebook'),
      subject: 'buy-1',
      data: { meter: 'accelerator_seconds', quantity: seconds, offerId: 'off-1' },
    });
    // Two hours on 2026-03-20 at the card's 30.00.
    expect((await call('POST', '/v1/usage', buyerUsage, [use('7200', '2026-03-20T00:00:00Z')])).body.accepted).toBe(1);
    // The regulator raises the floor to 40.00 from 2026-03-25 (five days' notice); an hour used on 2026-03-26.
    const band = await call('POST', '/v1/guidance', regulator, {
      resourceClass: 'nvidia-h100-sxm-80g',
      floorPerAcceleratorHour: '40',
      effectiveFrom: '2026-03-25T00:00:00.000Z',
      reason: 'spiral stop',
      documentRef: 'NDRC-2026-099',
    });
    expect(band.status).toBe(201);
    clock.set(new Date('2026-03-26T10:00:00Z'));
    expect((await call('POST', '/v1/usage', buyerUsage, [use('3600', '2026-03-26T09:00:00Z')])).body.accepted).toBe(1);
    await waitFor(() => {
      const f = r.app.get(BillingFactsService).facts;
      return [...f.offerUsage.values()].reduce((n, e) => n + e.state.readings.size, 0) === 2;
    });
    clock.set(new Date('2026-03-27T00:00:01Z'));
    for (let day = 13; day <= 26; day++) {
      const res = await call('POST', `/v1/periods/2026-03-${day}/close`, admin);
      expect({ day, status: res.status }).toEqual({ day, status: 201 });
    }
    const d20 = (await call('GET', '/v1/statements/buy-1/2026-03-20', finance)).body;
    expect(d20.lines).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          kind: 'offer_usage',
          quantity: '2',
          unitPrice: '30.00',
          amount: '-60.00',
          fee: '-0.12',
          ratedAtFloor: false,
        }),
      ]),
    );
    const d26 = (await call('GET', '/v1/statements/buy-1/2026-03-26', finance)).body;
    expect(d26.lines).toEqual([
      expect.objectContaining({
        kind: 'offer_usage',
        quantity: '1',
        amount: '-40.00',
        ratedAtFloor: true,
        guidanceVersion: 'nvidia-h100-sxm-80g.v1',
      }),
    ]);
    const p26 = (await call('GET', '/v1/statements/prov-1/2026-03-26', seller)).body;
    expect(p26.lines).toEqual([expect.objectContaining({ role: 'provider', amount: '40.00', fee: '-0.04' })]);
    expect((await call('GET', '/v1/ledger/accounts/buy-1', buyer)).body.balances.cash.posted).toBe(d26.closingBalance);
  });

  it('exposes Prometheus metrics: requests by route, events by type', async () => {
    const res = await fetch(`${r.url}/metrics`);
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text).toMatch(/cx_events_appended_total\{type="TradeExecuted"\} [1-9]/);
    expect(text).toMatch(/cx_events_appended_total\{type="PeriodClosed"\} [1-9]/);
    // Usage is claimed many streams at a time (appendToStreams), and counted there too.
    expect(text).toMatch(/cx_events_appended_total\{type="UsageRecorded"\} [1-9]/);
    expect(text).toMatch(/cx_http_requests_total\{method="POST",route="\/v1\/orders",status="201"\} [1-9]/);
    expect(text).toMatch(/cx_http_request_duration_seconds_bucket\{le="0.1",method="GET"/);
    expect(text).toContain('cx_process_nodejs_eventloop_lag_seconds');
  });

  it('rebuilds identical statements after a restart', async () => {
    const hashes = async () =>
      (await call('GET', '/v1/statements/buy-1', finance)).body.items.map(
        (h: { contentHash: string }) => h.contentHash,
      );
    const before = await hashes();
    expect(before.length).toBeGreaterThan(2);
    await r.app.close();
    r = await startEmbedded(file, clock, FEES);
    expect(await hashes()).toEqual(before);
    const again = await call('POST', `/v1/periods/2026-03-12/close`, admin);
    expect(again.body.code).toBe('BILLING.PERIOD_ALREADY_CLOSED');
  });
});
