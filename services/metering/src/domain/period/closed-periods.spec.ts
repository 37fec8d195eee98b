// Proves the closed-period set: labels map to their UTC bounds (and nothing else does), intervals merge, and an
// instant is late exactly when it lies in [start, end) of a closed period.
import { addInterval, closedPeriodOf, inIntervals, type Interval, periodBounds } from './closed-periods';

const ms = (iso: string): number => Date.parse(iso);

describe('closed periods', () => {
  it('reads UTC days and months and refuses anything else', () => {
    const table: [string, Interval | null][] = [
      ['2026-11-27', [ms('2026-11-27T00:00:00Z'), ms('2026-11-28T00:00:00Z')]],
      ['2026-12-31', [ms('2026-12-31T00:00:00Z'), ms('2027-01-01T00:00:00Z')]],
      ['2026-02', [ms('2026-02-01T00:00:00Z'), ms('2026-03-01T00:00:00Z')]],
      ['2026-12', [ms('2026-12-01T00:00:00Z'), ms('2027-01-01T00:00:00Z')]],
      ['2026-02-30', null],
      ['2026-13', null],
      ['2026-1-5', null],
      ['', null],
    ];
    for (const [label, bounds] of table) expect({ label, bounds: periodBounds(label) }).toEqual({ label, bounds });
  });

  it('takes a close only when start and end agree with its label', () => {
    expect(closedPeriodOf('2026-11-27', ms('2026-11-27T00:00:00Z'), ms('2026-11-28T00:00:00Z'))).toEqual({
      ok: { period: '2026-11-27', startMs: ms('2026-11-27T00:00:00Z'), endMs: ms('2026-11-28T00:00:00Z') },
    });
    expect(closedPeriodOf('2026-11-27', null, null)).toHaveProperty('ok');
    expect(closedPeriodOf('2026-11-27', ms('2026-11-26T00:00:00Z'), ms('2026-11-28T00:00:00Z'))).toHaveProperty(
      'error',
    );
    expect(closedPeriodOf('yesterday', null, null)).toHaveProperty('error');
  });

  it('merges intervals and finds instants in them, end exclusive', () => {
    let set: Interval[] = [];
    set = addInterval(set, [20, 30]);
    set = addInterval(set, [0, 10]);
    set = addInterval(set, [40, 50]);
    expect(set).toEqual([
      [0, 10],
      [20, 30],
      [40, 50],
    ]);
    set = addInterval(set, [10, 20]);
    expect(set).toEqual([
      [0, 30],
      [40, 50],
    ]);
    set = addInterval(set, [35, 60]);
    expect(set).toEqual([
      [0, 30],
      [35, 60],
    ]);
    const table: [number, boolean][] = [
      [-1, false],
      [0, true],
      [29, true],
      [30, false],
      [34, false],
      [35, true],
      [59, true],
      [60, false],
    ];
    for (const [t, late] of table) expect({ t, late: inIntervals(set, t) }).toEqual({ t, late });
    expect(inIntervals([], 5)).toBe(false);
  });
});
