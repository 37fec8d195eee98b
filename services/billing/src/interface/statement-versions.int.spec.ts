// Proves over real HTTP and a real SQLite file that a credit or debit note reissues the statement as a new version:
// version 1 stays readable exactly as issued (same bytes, same content hash), the new version lists the notes as
// adjustments with totals that count them, its own content hash and the version it supersedes; the latest answers by
// default, `?version=N` a given one (an unknown one is a coded 404), the list shows the current version per period,
// JSON and CSV alike; a retried note reissues nothing; the audit's statement rebuild accepts every version; and a
// dispute resolved in the buyer's favour reissues the buyer's statement with the credit note it issues.
import 'reflect-metadata';
import { join } from 'node:path';
import { StatementsChecker, type Violation } from '@cx/audit';
import { ReporterRole, Side } from '@cx/contracts';
import { SimulatedClock } from '@cx/shared-kernel';
import { tempDir, httpCall, type HttpCallArgs, type HttpReply, waitFor } from '@cx/testing';
import { BillingFactsService } from '../application/billing-facts.service';
import { type InProcessBilling, startInProcessBilling, stopInProcessBilling } from '../testing/billing-host.fixture';
import { deliveryInputs, envelopeNumbering } from '../testing/delivery-inputs.fixture';

const DAY = '2026-03-10';
const config = { periodGraceMs: 0 };

/** A trade of 10 h at 20.00 delivered on `day` (buy-1 from prov-1), the provider's reading of 8 h, the buyer's 7 h. */
const delivery = (day: string) =>
  deliveryInputs({
    tradeId: `t-${day}`,
    allocationId: `alloc-t-${day}`,
    day,
    buyer: 'buy-1',
    provider: 'prov-1',
    price: '20.00',
    quantity: '10',
    buyOrderId: `b-${day}`,
    sellOrderId: `s-${day}`,
    aggressorSide: Side.BID,
    sequence: 1n,
    readings: [
      { role: ReporterRole.PROVIDER, id: `u-${day}`, seconds: '28800' },
      { role: ReporterRole.BUYER, id: `u-${day}`, seconds: '25200' },
    ],
    envelopes: envelopeNumbering((seq) => `${day}-${seq}`),
  });

describe('statement versions after corrections', () => {
  const dir = tempDir('cx-billing-versions-');
  const file = join(dir.path, 'cx.sqlite');
  const clock = new SimulatedClock(new Date(`${DAY}T08:00:00Z`));
  let r: InProcessBilling;
  let admin: string;
  let finance: string;
  const call = (...args: HttpCallArgs): Promise<HttpReply> => httpCall(r.url, ...args);
  const csv = async (path: string, key: string) => {
    const res = await fetch(`${r.url}${path}`, { headers: { authorization: `Bearer ${key}`, accept: 'text/csv' } });
    return { status: res.status, text: await res.text(), hash: res.headers.get('x-content-hash') };
  };
  const path = `/v1/statements/buy-1/${DAY}`;

  beforeAll(async () => {
    r = await startInProcessBilling(file, clock, config);
    admin = r.adminKey;
    for (const accountId of ['buy-1', 'prov-1']) {
      const res = await call('POST', '/v1/accounts', admin, { accountId, legalName: accountId, kind: 'buyer' });
      expect(res.status).toBe(201);
    }
    finance = (await call('POST', '/v1/keys', admin, { role: 'finance', accounts: ['buy-1'] })).body.key as string;
    const dep = { transferId: 'dep-1', account: 'buy-1', amount: '500', currency: 'CNY' };
    expect((await call('POST', '/v1/ledger/deposits', admin, dep)).status).toBe(201);
    const wd = { transferId: 'wd-1', account: 'buy-1', amount: '120.25', currency: 'CNY' };
    expect((await call('POST', '/v1/ledger/withdrawals', admin, wd)).status).toBe(201);
    clock.set(new Date(`${DAY}T23:59:59.999Z`));
    clock.set(new Date('2026-03-11T00:00:00.001Z'));
    expect((await call('POST', `/v1/periods/${DAY}/close`, admin)).status).toBe(201);
    clock.set(new Date('2026-03-11T09:30:00Z'));
  });

  afterAll(async () => {
    if (r) await stopInProcessBilling(r);
    dir.remove();
  });

  it('keeps version 1 as issued and answers a note with version 2 that counts it', async () => {
    const v1 = (await call('GET', path, finance)).body;
    expect(v1).toMatchObject({ version: 1, supersedes: null, reason: 'period_close', closingBalance: '379.75' });
    expect(v1.adjustments).toBeUndefined();
    const v1Csv = await csv(path, finance);

    const note = { noteId: 'cn-1', kind: 'credit', amount: '10', currency: 'CNY', reason: 'goodwill' };
    const issued = await call('POST', `${path}/notes`, finance, note);
    expect(issued.status).toBe(201);
    expect(issued.body.statementId).toBe(v1.statementId);

    const v2 = (await call('GET', path, finance)).body;
    expect(v2).toMatchObject({
      statementId: `stmt-buy-1-${DAY}-v2`,
      version: 2,
      supersedes: v1.statementId,
      reason: 'correction',
      // The period's ledger lines and totals are what the ledger booked in it; the note is counted beside them.
      openingBalance: v1.openingBalance,
      closingBalance: v1.closingBalance,
      totals: v1.totals,
      lines: v1.lines,
      adjustments: [
        {
          noteId: 'cn-1',
          kind: 'credit_note',
          amount: '10.00',
          reason: 'goodwill',
          disputeId: null,
          transferId: 'note:cn-1',
          bookedOn: '2026-03-11',
        },
      ],
      adjustedTotals: { adjustments: '10.00', net: '389.75', closingBalance: '389.75' },
    });
    expect(v2.contentHash).toMatch(/^[0-9a-f]{64}$/);
    expect(v2.contentHash).not.toBe(v1.contentHash);

    // Version 1, exactly as issued, JSON and CSV.
    expect((await call('GET', `${path}?version=1`, finance)).body).toEqual(v1);
    expect(await csv(`${path}?version=1`, finance)).toEqual(v1Csv);
    const unknown = await call('GET', `${path}?version=3`, finance);
    expect({ status: unknown.status, code: unknown.body.code }).toEqual({
      status: 404,
      code: 'BILLING.STATEMENT_VERSION_NOT_FOUND',
    });
    expect((await call('GET', `${path}?version=0`, finance)).body.code).toBe('BILLING.VERSION_INVALID');
    expect((await call('GET', '/v1/statements/buy-1/2026-03-09?version=1', finance)).body.code).toBe(
      'BILLING.STATEMENT_NOT_FOUND',
    );

    const v2Csv = await csv(path, finance);
    expect(v2Csv.hash).toBe(v2.contentHash);
    const rows = v2Csv.text.trim().split('\n');
    expect(rows.slice(0, -2)).toEqual(
      v1Csv.text
        .trim()
        .split('\n')
        .map((l) => l.replace(v1.statementId, v2.statementId)),
    );
    expect(rows.slice(-2)).toEqual([
      `${v2.statementId},buy-1,${DAY},CNY,4,2026-03-11,credit_note,cn-1,,,,,,10.00,,`,
      `${v2.statementId},buy-1,${DAY},CNY,5,,adjusted_closing_balance,,,,,,,389.75,,`,
    ]);

    const list = (await call('GET', '/v1/statements/buy-1', finance)).body.items;
    expect(list.map((h: { period: string; version: number }) => [h.period, h.version])).toEqual([[DAY, 2]]);
  });

  it('reissues nothing for a retried note, and a debit note supersedes version 2', async () => {
    const note = { noteId: 'cn-1', kind: 'credit', amount: '10', currency: 'CNY', reason: 'goodwill' };
    expect((await call('POST', `${path}/notes`, finance, note)).status).toBe(200);
    expect((await call('GET', path, finance)).body.version).toBe(2);

    const debit = {
      noteId: 'dn-1',
      kind: 'debit',
      amount: '2.5',
      currency: 'CNY',
      reason: 'late fee',
      counterparty: 'prov-1',
    };
    expect((await call('POST', `${path}/notes`, finance, debit)).status).toBe(201);
    const v3 = (await call('GET', path, finance)).body;
    expect(v3).toMatchObject({
      version: 3,
      supersedes: `stmt-buy-1-${DAY}-v2`,
      adjustedTotals: { adjustments: '7.50', closingBalance: '387.25' },
    });
    expect(v3.adjustments.map((a: { noteId: string; amount: string }) => [a.noteId, a.amount])).toEqual([
      ['cn-1', '10.00'],
      ['dn-1', '-2.50'],
    ]);
    expect((await call('GET', `${path}?version=2`, finance)).body.adjustments).toHaveLength(1);
    // The notes' money moved in the open day, which states it as lines.
    const bal = (await call('GET', '/v1/ledger/accounts/buy-1', finance)).body.balances.cash.posted;
    expect(bal).toBe('387.25');
  });

  it('gives the same versions and hashes after a restart, and the audit rebuilds every version', async () => {
    const all = async () =>
      Promise.all([1, 2, 3].map(async (v) => (await call('GET', `${path}?version=${v}`, finance)).body.contentHash));
    const before = await all();
    await stopInProcessBilling(r);
    r = await startInProcessBilling(file, clock, config);
    expect(await all()).toEqual(before);

    const checker = new StatementsChecker();
    const violations: Array<Omit<Violation, 'source'>> = [];
    for await (const e of r.store.readAll({ fromPosition: 'start' })) checker.onEvent(e, (v) => violations.push(v));
    checker.finish((v) => violations.push(v));
    expect(violations).toEqual([]);
    expect(checker.statementsChecked).toBe(3);
  });

  it('reissues the buyer’s statement with the credit note of a dispute resolved in its favour', async () => {
    const day = '2026-03-11';
    const d = delivery(day);
    for (const m of d.messages) await r.bus.publish(m.topic, [m.message]);
    const facts = r.app.get(BillingFactsService).facts;
    await waitFor(
      () => facts.allocations.get(d.allocationId)?.state.readings.size === 2 && facts.trades.has(d.tradeId),
    );
    clock.set(new Date('2026-03-12T00:00:00.001Z'));
    expect((await call('POST', `/v1/periods/${day}/close`, admin)).status).toBe(201);
    const v1 = (await call('GET', `/v1/statements/buy-1/${day}`, finance)).body;
    expect(v1).toMatchObject({ version: 1 });

    const claim = {
      disputeId: 'dsp-1',
      allocationId: d.allocationId,
      account: 'buy-1',
      claimedHours: '7',
      reason: 'r',
    };
    expect((await call('POST', '/v1/disputes', finance, claim)).status).toBe(201);
    const resolved = await call('POST', '/v1/disputes/dsp-1/resolve', admin, { inFavourOf: 'buyer', reason: 'meter' });
    expect(resolved.status).toBe(201);

    // 8 h billed − 7 h claimed = 1 h at 20.00, paid by the provider.
    const v2 = (await call('GET', `/v1/statements/buy-1/${day}`, finance)).body;
    expect(v2).toMatchObject({
      version: 2,
      supersedes: v1.statementId,
      lines: v1.lines,
      adjustments: [{ noteId: 'dispute-dsp-1', kind: 'credit_note', amount: '20.00', disputeId: 'dsp-1' }],
      adjustedTotals: { adjustments: '20.00' },
    });
    expect((await call('GET', `/v1/statements/buy-1/${day}?version=1`, finance)).body).toEqual(v1);
    // The provider's statement is not the one corrected: still its first version.
    expect((await call('GET', `/v1/statements/prov-1/${day}`, admin)).body.version).toBe(1);
  });
});
