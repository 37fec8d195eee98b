// Proves the statements rule on the SQLite file of a real exchange process: two settled days (a settlement, then a
// late reading's adjustment) leave statements that verify clean, each rebuilt from the ledger and the settlement
// records; then, on copies of the file, a forged line amount, a forged content hash, a forged closing balance, a
// settlement transfer missing from the ledger and an unbalanced settlement are each found at their position.
import Database from 'better-sqlite3';
import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { type ExchangeProcess, httpCall, startExchange, tempDir, waitFor } from '@cx/testing';
import { SqliteEventStore } from '../../../../event-store/src/sqlite/sqlite-event-store.adapter';
import type { Violation } from '../checker';
import { storeSource } from '../sources';
import { type VerifyReport, verifySources } from '../verify';
import type { AuditRule } from './rule';
import { StatementsChecker, statementsRule } from './statements.checker';

const DAY1 = '2026-03-11';
const DAY2 = '2026-03-12';
const INSTR = `nvidia-h100-sxm-80g.cn-east-1.${DAY1}`;
const DAY_MS = 86_400_000;
const LAG_MS = 5 * DAY_MS;

interface Row {
  position: number;
  stream: string;
  revision: number;
  type: string;
  data: string;
}

describe('statements rule on a real exchange run', () => {
  const dir = tempDir('cx-audit-statements-');
  const file = join(dir.path, 'cx.sqlite');
  let ex: ExchangeProcess;
  let copies = 0;

  const rows = (path: string, where: string, ...params: unknown[]): Row[] => {
    const db = new Database(path, { readonly: true });
    try {
      return db.prepare(`SELECT * FROM events WHERE ${where} ORDER BY position`).all(...params) as Row[];
    } finally {
      db.close();
    }
  };

  /** Verifies a file with the given rules ('all': every registered rule). */
  const verify = async (
    path: string,
    rules: readonly AuditRule[] | 'all' = [statementsRule],
  ): Promise<VerifyReport> => {
    const store = SqliteEventStore.open(path);
    try {
      return await verifySources([storeSource(path, store)], rules === 'all' ? {} : { rules });
    } finally {
      await store.close();
    }
  };

  /** Copies the clean file, changes it with `tamper`, and returns the statements/settlement violations. */
  const tamperAndVerify = async (tamper: (db: Database.Database) => void): Promise<Violation[]> => {
    const copy = join(dir.path, `tampered-${(copies += 1)}.sqlite`);
    copyFileSync(file, copy);
    const db = new Database(copy);
    try {
      tamper(db);
    } finally {
      db.close();
    }
    const report = await verify(copy);
    // The hash chain finds every edit too; what is proved here is that the rule finds it by itself.
    return report.violations.filter((v) => !v.check.startsWith('chain.') && !v.check.startsWith('checkpoint.'));
  };

  const at = (r: Row) => ({ stream: r.stream, revision: String(r.revision), position: `${r.position}/${r.position}` });
  const header = (path: string, account: string, day: string): Row =>
    rows(path, 'stream = ? AND type = ?', `statement-${account}-${day}`, 'StatementIssued')[0] as Row;
  const chunk = (path: string, account: string, day: string): Row =>
    rows(path, 'stream = ? AND type = ?', `statement-${account}-${day}`, 'StatementLinesRecorded')[0] as Row;

  beforeAll(async () => {
    ex = await startExchange({
      CX_STORE: `sqlite:${file}`,
      CX_CLOCK: 'simulated',
      CX_SIM_START: '2026-03-10T08:00:00Z',
      CX_GUIDANCE_MIN_NOTICE_MS: String(LAG_MS),
      CX_GUIDANCE_MAX_LAG_MS: String(LAG_MS),
      CX_MATCHING_LISTING_DAYS: '3',
      CX_BILLING_PERIOD_GRACE_MS: '0',
      CX_BILLING_MAKER_FEE_BPS: '10',
      CX_BILLING_TAKER_FEE_BPS: '20',
    });
    const admin = ex.adminKey as string;
    const call = (method: string, path: string, key: string, body?: unknown) =>
      httpCall(ex.url, method, path, key, body);
    const ok = async (method: string, path: string, key: string, body?: unknown) => {
      const r = await call(method, path, key, body);
      if (r.status >= 300) throw new Error(`${method} ${path}: ${r.status} ${JSON.stringify(r.body)}`);
      return r.body;
    };
    for (const [accountId, kind] of [
      ['prov-1', 'provider'],
      ['buy-1', 'buyer'],
    ]) {
      await ok('POST', '/v1/accounts', admin, { accountId, legalName: accountId, kind });
    }
    const key = async (role: string, accounts: string[]) =>
      ((await ok('POST', '/v1/keys', admin, { role, accounts })) as { key: string }).key;
    const seller = await key('trader', ['prov-1']);
    const buyer = await key('trader', ['buy-1']);
    const sellerUsage = await key('integrator', ['prov-1']);
    const buyerUsage = await key('integrator', ['buy-1']);
    await ok('POST', '/v1/ledger/deposits', admin, {
      transferId: 'dep-1',
      account: 'buy-1',
      amount: '10000.00',
      currency: 'CNY',
    });
    const order = { instrument: INSTR, timeInForce: 'GTC', quantityLots: 10, price: '25.50' };
    await ok('POST', '/v1/orders', seller, { ...order, account: 'prov-1', side: 'sell', clientOrderId: 's1' });
    await ok('POST', '/v1/orders', buyer, { ...order, account: 'buy-1', side: 'buy', clientOrderId: 'b1' });
    const allocationId = await waitFor(
      async () =>
        ((await ok('GET', '/v1/allocations?account=buy-1', buyer)) as { items: { allocationId: string }[] }).items[0]
          ?.allocationId,
      { what: 'the allocation' },
    );
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
    const readings = (n: number) =>
      waitFor(
        () =>
          rows(file, 'stream = ? AND type = ?', `billing-allocation-${allocationId}`, 'DeliveryReadingRecorded')
            .length >= n || undefined,
        { what: `${n} readings recorded` },
      );
    const setClock = (to: string) => ok('POST', '/v1/sim/clock', admin, { to });

    await setClock(`${DAY1}T12:00:00Z`);
    // 8 of 10 hours delivered (a shortfall), and the buyer reports 7.5 (a reading difference).
    await ok('POST', '/v1/usage', sellerUsage, [
      reading('14400', `${DAY1}T04:00:00Z`),
      reading('14400', `${DAY1}T08:00:00Z`),
    ]);
    await ok('POST', '/v1/usage', buyerUsage, [reading('27000', `${DAY1}T08:00:00Z`, '//buyer/agent')]);
    await readings(3);
    await setClock(new Date(Date.parse(`${DAY1}T00:00:00Z`) + DAY_MS + 1).toISOString());
    await ok('POST', `/v1/periods/${DAY1}/close`, admin);
    // A late hour for the closed day: an adjustment in the next period.
    await ok('POST', '/v1/usage', sellerUsage, [reading('3600', `${DAY1}T20:00:00Z`)]);
    await readings(4);
    await setClock(new Date(Date.parse(`${DAY2}T00:00:00Z`) + DAY_MS + 1).toISOString());
    await ok('POST', `/v1/periods/${DAY2}/close`, admin);
    await ex.stop();
  }, 120_000);

  afterAll(async () => {
    await ex?.stop('SIGKILL');
    dir.remove();
  });

  it('verifies clean with every rule, each statement rebuilt from the ledger and the settlements', async () => {
    const checker = new StatementsChecker();
    const report = await verify(file, [{ name: 'statements', create: () => checker }]);
    expect(report.violations).toEqual([]);
    // buy-1 and prov-1 on each of the two days.
    expect(checker.statementsChecked).toBe(4);
    expect(checker.settlementsChecked).toBe(2);
    const all = await verify(file, 'all');
    expect(all).toMatchObject({ clean: true, rules: ['floor', 'ledger', 'usage', 'statements'], violations: [] });
  });

  it('finds a forged line amount at its chunk, and the hash and closing balance it breaks at the header', async () => {
    const c = chunk(file, 'buy-1', DAY1);
    const h = header(file, 'buy-1', DAY1);
    expect(c.data).toContain('"amount":"-204.00"');
    const found = await tamperAndVerify((db) =>
      db
        .prepare('UPDATE events SET data = ? WHERE position = ?')
        .run(c.data.replace('"amount":"-204.00"', '"amount":"-104.00"'), c.position),
    );
    expect(found).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ check: 'statement.lines', ...at(c) }),
        expect.objectContaining({ check: 'statement.content-hash', ...at(h) }),
        expect.objectContaining({ check: 'statement.closing', ...at(h) }),
      ]),
    );
    expect(found.find((v) => v.check === 'statement.lines')?.message).toMatch(/-104\.00.*rebuilt.*-204\.00/);
  });

  it('finds a forged content hash at the header', async () => {
    const h = header(file, 'prov-1', DAY2);
    const found = await tamperAndVerify((db) =>
      db
        .prepare('UPDATE events SET data = ? WHERE position = ?')
        .run(h.data.replace(/"contentHash":"[0-9a-f]{64}"/, `"contentHash":"${'ab'.repeat(32)}"`), h.position),
    );
    expect(found).toEqual([expect.objectContaining({ check: 'statement.content-hash', ...at(h) })]);
  });

  it('finds a forged closing balance at the header', async () => {
    const h = header(file, 'buy-1', DAY1);
    expect(h.data).toContain('"closingBalance":"9795.59"');
    const found = await tamperAndVerify((db) =>
      db
        .prepare('UPDATE events SET data = ? WHERE position = ?')
        .run(h.data.replace('"closingBalance":"9795.59"', '"closingBalance":"9895.59"'), h.position),
    );
    expect(found.map((v) => v.check).sort()).toEqual([
      'statement.closing',
      'statement.content-hash',
      'statement.summary',
    ]);
    for (const v of found) expect(v).toMatchObject(at(h));
  });

  it('finds a settlement whose transfer is not in the ledger once its period is closed', async () => {
    const s = rows(file, 'type = ?', 'AllocationSettled')[0] as Row;
    const data = JSON.parse(s.data) as { transfers: Array<{ id: string }> };
    const last = data.transfers[data.transfers.length - 1] as { id: string };
    const found = await tamperAndVerify((db) =>
      db
        .prepare('UPDATE events SET data = ? WHERE position = ?')
        .run(s.data.replace(`"id":"${last.id}"`, `"id":"${last.id}0"`), s.position),
    );
    expect(found).toEqual([
      expect.objectContaining({
        check: 'settlement.transfer-missing',
        ...at(s),
        message: expect.stringContaining(`${last.id}0`),
      }),
    ]);
  });

  it('finds a settlement whose transfers do not balance against its deltas', async () => {
    const s = rows(file, 'type = ?', 'AllocationSettled')[0] as Row;
    expect(s.data).toContain('"chargeDelta":"204.00"');
    const found = await tamperAndVerify((db) =>
      db
        .prepare('UPDATE events SET data = ? WHERE position = ?')
        .run(s.data.replace('"chargeDelta":"204.00"', '"chargeDelta":"214.00"'), s.position),
    );
    expect(found).toEqual([expect.objectContaining({ check: 'settlement.unbalanced', ...at(s) })]);
  });
});
