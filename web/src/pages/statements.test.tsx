// Proves the statement view of a version reissued by corrections: its notes as an adjustments table and the totals
// and closing balance that count them, money formatted from the API's decimal strings. The statement is shaped as
// GET /v1/statements/{account}/{period} answers it (see services/billing/src/interface/statement-versions.int.spec.ts);
// fetch stands in for that one request.
import { cleanup, render, screen, within } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { I18nProvider } from '../i18n';
import type { Statement } from '../types';
import { StatementView } from './statements';

afterEach(() => {
  cleanup();
  sessionStorage.clear();
  vi.unstubAllGlobals();
});

const DAY = '2026-03-10';

const v3: Statement = {
  statementId: `stmt-buy-1-${DAY}-v3`,
  version: 3,
  lineChunks: { fromRevision: '3', toRevision: '3' },
  builtFrom: { ledgerRevision: '4', position: { commit: '41', prepare: '41' } },
  supersedes: `stmt-buy-1-${DAY}-v2`,
  reason: 'correction',
  issuedAt: '2026-03-11T09:31:00.000Z',
  contentHash: 'c0ffee'.padEnd(64, '0'),
  account: 'buy-1',
  period: DAY,
  currency: 'CNY',
  openingBalance: '0.00',
  closingBalance: '379.75',
  totals: {
    charges: '0.00',
    fees: '0.00',
    deposits: '500.00',
    withdrawals: '-120.25',
    notes: '0.00',
    net: '379.75',
    acceleratorHours: '0',
    costPerAcceleratorHour: null,
    thousandTokens: '0',
    costPerThousandTokens: null,
  },
  lineCount: 2,
  shortfalls: [],
  readingDifferences: [],
  guidanceVersions: [],
  adjustments: [
    {
      noteId: 'cn-1',
      kind: 'credit_note',
      amount: '10.00',
      reason: 'goodwill',
      disputeId: null,
      transferId: 'note:cn-1',
      issuedAt: '2026-03-11T09:30:00.000Z',
      bookedOn: '2026-03-11',
    },
    {
      noteId: 'dn-1',
      kind: 'debit_note',
      amount: '-2.50',
      reason: 'late fee',
      disputeId: null,
      transferId: 'note:dn-1',
      issuedAt: '2026-03-11T09:31:00.000Z',
      bookedOn: '2026-03-11',
    },
  ],
  adjustedTotals: { adjustments: '7.50', net: '387.25', closingBalance: '387.25' },
  lines: [
    {
      day: DAY,
      kind: 'deposit',
      ref: 'dep-1',
      role: null,
      instrument: null,
      quantity: null,
      unit: null,
      unitPrice: null,
      amount: '500.00',
      fee: '0.00',
      guidanceVersion: null,
      ratedAtFloor: false,
    },
    {
      day: DAY,
      kind: 'withdrawal',
      ref: 'wd-1',
      role: null,
      instrument: null,
      quantity: null,
      unit: null,
      unitPrice: null,
      amount: '-120.25',
      fee: '0.00',
      guidanceVersion: null,
      ratedAtFloor: false,
    },
  ],
};

const serve = (body: unknown) => {
  const fetch = vi.fn(async (url: string) => {
    if (url === `/v1/statements/buy-1/${DAY}`) return new Response(JSON.stringify(body));
    return new Response('{"code":"HTTP.404","message":"not here"}', { status: 404 });
  });
  vi.stubGlobal('fetch', fetch);
};

const view = () =>
  render(
    <I18nProvider>
      <StatementView account="buy-1" period={DAY} />
    </I18nProvider>,
  );

describe('a reissued statement', () => {
  it('lists its notes as adjustments and shows the totals and closing balance with them', async () => {
    serve(v3);
    view();
    const table = await screen.findByTestId('statement-adjustments');
    const rows = within(table)
      .getAllByRole('row')
      .slice(1)
      .map((r) => [...r.querySelectorAll('td')].map((td) => td.textContent));
    expect(rows).toEqual([
      ['cn-1', 'Credit note', 'goodwill', '2026-03-11', 'CN¥10.00'],
      ['dn-1', 'Debit note', 'late fee', '2026-03-11', '-CN¥2.50'],
    ]);
    // The stated period's own figures stay as the ledger booked them; the notes are counted beside them.
    expect(screen.getByTestId('total-closing').textContent).toBe('CN¥379.75');
    expect(screen.getByTestId('total-net').textContent).toBe('CN¥379.75');
    expect(screen.getByTestId('total-adjustments').textContent).toBe('CN¥7.50');
    expect(screen.getByTestId('total-adjusted-net').textContent).toBe('CN¥387.25');
    expect(screen.getByTestId('total-adjusted-closing').textContent).toBe('CN¥387.25');
    // Lines without a role, instrument or quantity show their reference and nothing made up.
    const lines = within(screen.getByTestId('statement-lines')).getAllByRole('row').slice(1);
    expect([...(lines[0]?.querySelectorAll('td') ?? [])].map((td) => td.textContent)).toEqual([
      'deposit',
      'dep-1',
      '',
      '',
      'CN¥500.00',
      'CN¥0.00',
    ]);
    expect(screen.getByText(/Version 3 \(supersedes stmt-buy-1-2026-03-10-v2\)/)).toBeTruthy();
  });

  it('shows no adjustments on a version issued at the close', async () => {
    const { adjustments: _a, adjustedTotals: _t, ...v1 } = v3;
    serve({ ...v1, version: 1, supersedes: null, reason: 'period_close' });
    view();
    expect((await screen.findByTestId('total-closing')).textContent).toBe('CN¥379.75');
    expect(screen.queryByTestId('statement-adjustments')).toBeNull();
    expect(screen.queryByTestId('total-adjusted-closing')).toBeNull();
  });
});
