// Proves the ledger on a real SQLite file: concurrent submits share batches, a restart rebuilds the same balances,
// ids stay idempotent after the restart, and every balance sums to zero.
import { join } from 'node:path';
import { SqliteEventStore } from '@cx/event-store';
import { systemClock } from '@cx/shared-kernel';
import { tempDir } from '@cx/testing';
import { LedgerService } from './ledger.service';

describe('LedgerService on SQLite', () => {
  const dir = tempDir('cx-ledger-');
  afterAll(() => dir.remove());

  it('survives a restart with the same balances and idempotent ids', async () => {
    const path = join(dir.path, 'ledger.db');
    let store = SqliteEventStore.open(path);
    const ledger = await LedgerService.open({ store, clock: systemClock }, 'CNY');
    await ledger.setCreditLines([
      { participantAccountId: 'buyer', creditLine: '50' },
      { participantAccountId: 'prov', creditLine: '0' },
    ]);
    expect(await ledger.deposit({ id: 'dep-1', participantAccountId: 'buyer', amount: '1000.00' })).toEqual({
      id: 'dep-1',
      result: 'ok',
    });
    // Twenty callers at once: their requests are decided together and answered after one durable append.
    const holds = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        ledger.submit([
          {
            id: `h${i}`,
            debitAccount: 'buyer:cash',
            creditAccount: 'exchange:clearing',
            amount: '50',
            phase: 'pending',
          },
        ]),
      ),
    );
    expect(holds.flat().map((r) => r.result)).toEqual([...Array(20).fill('ok')]);
    expect(
      await ledger.submit([
        {
          id: 'h20',
          debitAccount: 'buyer:cash',
          creditAccount: 'exchange:clearing',
          amount: '50.01',
          phase: 'pending',
        },
      ]),
    ).toEqual([{ id: 'h20', result: 'exceeds_credits' }]);
    const settle = await ledger.submit([
      { id: 's0', phase: 'post', pendingId: 'h0', amount: '40', linked: true },
      { id: 'pay0', debitAccount: 'exchange:clearing', creditAccount: 'prov:cash', amount: '40', linked: true },
      { id: 'fee0', debitAccount: 'prov:cash', creditAccount: 'exchange:fees', amount: '0.40' },
    ]);
    expect(settle.map((r) => r.result)).toEqual(['ok', 'ok', 'ok']);
    expect((await ledger.withdraw({ id: 'w1', participantAccountId: 'prov', amount: '39.60' })).result).toBe('ok');
    const before = ledger.accounts().map((a) => ledger.balance(a));
    expect(ledger.totals()).toEqual({ posted: 0n, pending: 0n });
    await store.close();

    store = SqliteEventStore.open(path);
    const reopened = await LedgerService.open({ store, clock: systemClock }, 'CNY');
    expect(reopened.accounts().map((a) => reopened.balance(a))).toEqual(before);
    expect(reopened.balance('buyer:cash')).toMatchObject({
      balance: '960.00',
      debitsPending: '950.00',
      available: '60.00',
    });
    expect(await reopened.deposit({ id: 'dep-1', participantAccountId: 'buyer', amount: '1000' })).toEqual({
      id: 'dep-1',
      result: 'exists',
    });
    expect((await reopened.deposit({ id: 'dep-1', participantAccountId: 'buyer', amount: '999' })).result).toBe(
      'exists_with_different_fields',
    );
    expect((await reopened.submit([{ id: 'p0', phase: 'post', pendingId: 'h0', amount: '1' }]))[0]?.result).toBe(
      'pending_transfer_already_posted',
    );
    expect(reopened.totals()).toEqual({ posted: 0n, pending: 0n });
    await store.close();
  });
});
