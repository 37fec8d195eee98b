// Proves the alert rules' hysteresis (a value hovering at a line fires once until it has moved back past the
// margin), the band-proximity line, the drift measure, and the validation table of posted rules.
import { Dec, DomainError } from '@cx/shared-kernel';
import { bandLine, driftPercent, type Line, parseAlertRule, transition } from './alert-rule';

const run = (values: string[], line: Line, margin = '1'): string[] => {
  let armed = true;
  const out: string[] = [];
  for (const v of values) {
    const t = transition(armed, new Dec(v), line, new Dec(margin));
    if (t === 'fire') armed = false;
    if (t === 'rearm') armed = true;
    out.push(t ?? '-');
  }
  return out;
};

describe('hysteresis', () => {
  const above: Line = { level: new Dec('30'), fireWhen: 'at-or-above' };
  const below: Line = { level: new Dec('20'), fireWhen: 'at-or-below' };

  it('fires once while a price hovers at an upper line, and again only after falling past the margin', () => {
    // 1% of 30 is 0.30: re-arms below 29.70.
    expect(run(['29', '30', '29.9', '30.1', '29.8', '30', '29.69', '29.9', '30'], above)).toEqual([
      '-',
      'fire',
      '-',
      '-',
      '-',
      '-',
      'rearm',
      '-',
      'fire',
    ]);
  });

  it('mirrors for a lower line', () => {
    expect(run(['21', '20', '20.1', '19', '20.2', '20.21', '20'], below)).toEqual([
      '-',
      'fire',
      '-',
      '-',
      '-',
      'rearm',
      'fire',
    ]);
  });

  it('with a zero margin re-arms as soon as the value is back on the other side', () => {
    expect(run(['30', '29.99', '30'], above, '0')).toEqual(['fire', 'rearm', 'fire']);
  });

  it('puts the near-band line within X% above the floor or below the ceiling', () => {
    expect(bandLine('floor', new Dec('20'), new Dec('5'))).toEqual({ level: new Dec('21'), fireWhen: 'at-or-below' });
    expect(bandLine('ceiling', new Dec('40'), new Dec('10'))).toEqual({
      level: new Dec('36'),
      fireWhen: 'at-or-above',
    });
  });

  it('measures drift from the expected pace either way, and not before anything is due', () => {
    expect(driftPercent(new Dec('8'), new Dec('10'))?.toFixed()).toBe('20');
    expect(driftPercent(new Dec('12.5'), new Dec('10'))?.toFixed()).toBe('25');
    expect(driftPercent(new Dec('1'), new Dec('0'))).toBeNull();
  });
});

describe('alert rule validation', () => {
  const codeOf = (input: Record<string, unknown>) => {
    try {
      parseAlertRule({ accountId: 'a', ...input } as never);
      return null;
    } catch (e) {
      if (!(e instanceof DomainError)) throw e;
      return { code: e.code, fields: e.details.map((d) => d.field) };
    }
  };

  it.each([
    ['no kind', {}, 'WEBHOOKS.UNKNOWN_RULE_KIND', ['kind']],
    ['an unknown kind', { kind: 'moon-phase' }, 'WEBHOOKS.UNKNOWN_RULE_KIND', ['kind']],
    [
      'a price rule with nothing',
      { kind: 'price-level' },
      'WEBHOOKS.INVALID_ALERT_RULE',
      ['resourceClass', 'source', 'direction', 'level'],
    ],
    [
      'a bad level and source',
      { kind: 'price-level', resourceClass: 'h100', source: 'rumour', direction: 'above', level: '-1' },
      'WEBHOOKS.INVALID_ALERT_RULE',
      ['source', 'level'],
    ],
    [
      'a band rule beyond 100%',
      { kind: 'price-near-band', resourceClass: 'h100', source: 'index', boundary: 'floor', withinPercent: '101' },
      'WEBHOOKS.INVALID_ALERT_RULE',
      ['withinPercent'],
    ],
    [
      'a drift of zero',
      { kind: 'utilization-drift', driftPercent: '0' },
      'WEBHOOKS.INVALID_ALERT_RULE',
      ['driftPercent'],
    ],
    [
      'spend in a bad currency and period',
      { kind: 'spend', period: 'week', threshold: '10', currency: 'cny' },
      'WEBHOOKS.INVALID_ALERT_RULE',
      ['period', 'currency'],
    ],
    [
      'a negative margin',
      { kind: 'spend', period: 'day', threshold: '10', currency: 'CNY', rearmMarginPercent: '-1' },
      'WEBHOOKS.INVALID_ALERT_RULE',
      ['rearmMarginPercent'],
    ],
  ])('refuses %s', (_what, input, code, fields) => {
    expect(codeOf(input)).toEqual({ code, fields });
  });

  it('accepts each kind, normalising decimals and defaulting the margin', () => {
    expect(
      parseAlertRule({
        accountId: 'a',
        kind: 'price-level',
        resourceClass: 'h100',
        source: 'last-trade',
        direction: 'above',
        level: '30.50',
      }),
    ).toEqual({
      condition: {
        kind: 'price-level',
        resourceClass: 'h100',
        region: null,
        source: 'last-trade',
        direction: 'above',
        level: '30.5',
      },
      rearmMarginPercent: '1',
    });
    expect(
      parseAlertRule({
        accountId: 'a',
        kind: 'spend',
        period: 'month',
        threshold: '1000',
        currency: 'CNY',
        rearmMarginPercent: '0',
      }),
    ).toEqual({
      condition: { kind: 'spend', period: 'month', threshold: '1000', currency: 'CNY' },
      rearmMarginPercent: '0',
    });
    expect(
      parseAlertRule({ accountId: 'a', kind: 'utilization-drift', allocationId: 'al-1', driftPercent: '15' }).condition,
    ).toEqual({
      kind: 'utilization-drift',
      allocationId: 'al-1',
      driftPercent: '15',
    });
  });
});
