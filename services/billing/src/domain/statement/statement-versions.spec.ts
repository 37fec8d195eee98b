// Proves the summary of a statement reissued by notes: notes become signed adjustments in issue order whatever
// order they arrive in, the adjusted totals count them exactly, and a summary without notes is left as issued (so a
// version issued at the close keeps its content hash).
import { contentHashOf, type NoteForStatement, type StatementSummary, withNoteAdjustments } from './statement';

const summary: StatementSummary = {
  account: 'buy-1',
  period: '2026-03-10',
  currency: 'CNY',
  openingBalance: '100.00',
  closingBalance: '79.50',
  totals: {
    charges: '-20.00',
    fees: '-0.50',
    deposits: '0.00',
    withdrawals: '0.00',
    notes: '0.00',
    net: '-20.50',
    acceleratorHours: '1.000000',
    costPerAcceleratorHour: '20.50',
    thousandTokens: '0.000000',
    costPerThousandTokens: null,
  },
  lineCount: 1,
  shortfalls: [],
  readingDifferences: [],
  guidanceVersions: [],
};

const note = (noteId: string, kind: 'credit' | 'debit', amount: string, issuedAt: string): NoteForStatement => ({
  noteId,
  kind,
  amount,
  reason: 'r',
  disputeId: null,
  transferId: `note:${noteId}`,
  issuedAt,
});

describe('withNoteAdjustments', () => {
  it('leaves a summary without notes exactly as it was', () => {
    expect(withNoteAdjustments(summary, [])).toBe(summary);
  });

  // [case, notes, signed adjustments in order, Σ, adjusted net, adjusted closing]
  it.each<[string, NoteForStatement[], string[], string, string, string]>([
    ['one credit note', [note('cn-1', 'credit', '10', '2026-03-11T09:00:00Z')], ['10.00'], '10.00', '-10.50', '89.50'],
    ['one debit note', [note('dn-1', 'debit', '0.01', '2026-03-11T09:00:00Z')], ['-0.01'], '-0.01', '-20.51', '79.49'],
    [
      'a credit and a debit, given newest first',
      [note('dn-1', 'debit', '100.5', '2026-03-12T00:00:00Z'), note('cn-1', 'credit', '20.5', '2026-03-11T00:00:00Z')],
      ['20.50', '-100.50'],
      '-80.00',
      '-100.50',
      '-0.50',
    ],
    [
      'two at the same instant: by id',
      [note('cn-b', 'credit', '1', '2026-03-11T00:00:00Z'), note('cn-a', 'credit', '2', '2026-03-11T00:00:00Z')],
      ['2.00', '1.00'],
      '3.00',
      '-17.50',
      '82.50',
    ],
  ])('%s', (_what, notes, amounts, total, net, closing) => {
    const s = withNoteAdjustments(summary, notes);
    expect(s.adjustments?.map((a) => a.amount)).toEqual(amounts);
    expect(s.adjustedTotals).toEqual({ adjustments: total, net, closingBalance: closing });
    // The period's own figures are the ledger's and do not move.
    expect({ ...s, adjustments: undefined, adjustedTotals: undefined }).toEqual({
      ...summary,
      adjustments: undefined,
      adjustedTotals: undefined,
    });
  });

  it('hashes the same in any order of notes, and differently from the version without them', () => {
    const a = note('cn-1', 'credit', '10', '2026-03-11T09:00:00Z');
    const b = note('dn-1', 'debit', '3', '2026-03-11T10:00:00Z');
    const h1 = contentHashOf(withNoteAdjustments(summary, [a, b]), []);
    expect(contentHashOf(withNoteAdjustments(summary, [b, a]), [])).toBe(h1);
    expect(contentHashOf(summary, [])).not.toBe(h1);
    expect(contentHashOf(withNoteAdjustments(summary, [a]), [])).not.toBe(h1);
  });
});
