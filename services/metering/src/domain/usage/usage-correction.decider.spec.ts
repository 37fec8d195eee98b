// Proves corrections as a decider: given the usage stream, when amend/void, then the events (or the refusal with
// its stable code and field, in the order the checks win), and that exact repeats are no-ops.
import { DomainError } from '@cx/shared-kernel';
import type { Interval } from '../period/closed-periods';
import {
  type Corrector,
  type CorrectUsage,
  decide,
  evolve,
  noUsage,
  type UsageState,
} from './usage-correction.decider';
import type { UsageEvent, UsageRecordedData } from './usage.events';

const recorded: UsageRecordedData = {
  source: '//prov/agent',
  id: 'e-1',
  type: 'com.cx.usage.v1',
  subject: 'alloc-1',
  subjectKind: 'allocation',
  offerId: null,
  meter: 'accelerator_seconds',
  quantity: '60',
  time: '2026-03-10T08:30:00.000Z',
  dimensions: {},
  reporterRole: 'provider',
  reporterAccount: 'prov-01',
  recordedAt: '2026-03-10T08:31:00.000Z',
  late: false,
};
const now = new Date('2026-03-12T00:00:00Z');
const march10: Interval = [Date.parse('2026-03-10T00:00:00Z'), Date.parse('2026-03-11T00:00:00Z')];
const provider: Corrector = { role: 'integrator', accounts: ['prov-01'] };

const given = (...events: UsageEvent[]): UsageState => events.reduce(evolve, noUsage);
const amend = (quantity: unknown, reason: unknown = 'fix', by = provider, closed: Interval[] = []): CorrectUsage => ({
  type: 'AmendUsage',
  data: { quantity, reason, by, closed, now },
});
const voidIt = (reason: unknown = 'test traffic', by = provider): CorrectUsage => ({
  type: 'VoidUsage',
  data: { reason, by, closed: [], now },
});
const refusal = (f: () => unknown): { code: string; kind: string; fields: string[] } => {
  try {
    f();
  } catch (e) {
    if (e instanceof DomainError) return { code: e.code, kind: e.kind, fields: e.details.map((d) => d.field) };
    throw e;
  }
  throw new Error('expected a refusal');
};

describe('usage corrections', () => {
  const base = { type: 'UsageRecorded' as const, data: recorded };

  it('amends: the correction points at the usage and carries the quantity it replaces', () => {
    const events = decide(amend('30'), given(base));
    expect(events).toEqual([
      {
        type: 'UsageAmended',
        data: {
          source: '//prov/agent',
          id: 'e-1',
          subject: 'alloc-1',
          subjectKind: 'allocation',
          previousQuantity: '60',
          quantity: '30',
          reason: 'fix',
          late: false,
          correctedAt: now.toISOString(),
        },
      },
    ]);
    const after = events.reduce(evolve, given(base));
    expect(after.recorded && after.quantity).toBe('30');
    const again = decide(amend('45'), after)[0];
    expect(again?.data.previousQuantity).toBe('30');
  });

  it('voids, and marks a correction late when the usage lies in a closed period', () => {
    expect(decide(voidIt(), given(base))).toMatchObject([{ type: 'UsageVoided', data: { previousQuantity: '60' } }]);
    expect(decide(amend('1', 'fix', provider, [march10]), given(base))[0]?.data.late).toBe(true);
  });

  it('refuses, in order: not found or not a party (404), then input, then state', () => {
    const voided = given(base, { type: 'UsageVoided', data: { ...decide(voidIt(), given(base))[0]!.data } });
    const table: [string, () => unknown, string, string, string[]][] = [
      ['no such usage', () => decide(amend('1'), noUsage), 'METERING.USAGE_NOT_FOUND', 'not_found', []],
      [
        'the buyer (not the reporter), even with bad input',
        () => decide(amend('-1', '', { role: 'integrator', accounts: ['buyer-01'] }), given(base)),
        'METERING.USAGE_NOT_FOUND',
        'not_found',
        [],
      ],
      ['no reason', () => decide(amend('1', ''), given(base)), 'METERING.MISSING_FIELD', 'invalid', ['reason']],
      ['reason not text', () => decide(amend('1', 7), given(base)), 'METERING.INVALID_FIELD', 'invalid', ['reason']],
      [
        'reason too long',
        () => decide(amend('1', 'x'.repeat(501)), given(base)),
        'METERING.INVALID_FIELD',
        'invalid',
        ['reason'],
      ],
      ['no quantity', () => decide(amend(undefined), given(base)), 'METERING.MISSING_FIELD', 'invalid', ['quantity']],
      [
        'quantity a number',
        () => decide(amend(5), given(base)),
        'METERING.NOT_A_DECIMAL_STRING',
        'invalid',
        ['quantity'],
      ],
      ['quantity 1e3', () => decide(amend('1e3'), given(base)), 'METERING.MALFORMED_DECIMAL', 'invalid', ['quantity']],
      [
        'negative quantity',
        () => decide(amend('-1'), given(base)),
        'METERING.NEGATIVE_QUANTITY',
        'invalid',
        ['quantity'],
      ],
      ['amend a void usage', () => decide(amend('1'), voided), 'METERING.USAGE_VOIDED', 'conflict', ['quantity']],
      [
        'void again, other reason',
        () => decide(voidIt('other'), voided),
        'METERING.USAGE_VOIDED',
        'conflict',
        ['reason'],
      ],
      [
        'amend to the same quantity',
        () => decide(amend('60.0'), given(base)),
        'METERING.NO_CHANGE',
        'unprocessable',
        ['quantity'],
      ],
    ];
    for (const [what, run, code, kind, fields] of table) {
      expect({ what, ...refusal(run) }).toEqual({ what, code, kind, fields });
    }
  });

  it('lets admin correct any usage and treats an exact repeat as done', () => {
    const admin = { role: 'admin' as const, accounts: [] };
    const amended = decide(amend('30', 'fix', admin), given(base));
    expect(amended).toHaveLength(1);
    const state = amended.reduce(evolve, given(base));
    expect(decide(amend('30', 'fix'), state)).toEqual([]);
    const voidedEvents = decide(voidIt('dup'), state);
    expect(decide(voidIt('dup'), voidedEvents.reduce(evolve, state))).toEqual([]);
  });
});
