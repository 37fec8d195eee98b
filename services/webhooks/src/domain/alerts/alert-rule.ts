import { Dec, DomainError, type ErrorDetail, isDecimalString } from '@cx/shared-kernel';

// A participant's own alert rules, and the hysteresis that keeps a value hovering at a line from firing again and
// again: a rule fires when the value reaches its line, then is disarmed; it re-arms only once the value has moved
// back past the line by the rule's margin. Values and lines are decimal strings; nothing here reads a clock.

export const alertRuleKinds = ['price-level', 'price-near-band', 'utilization-drift', 'spend'] as const;
export type AlertRuleKind = (typeof alertRuleKinds)[number];
export const priceSources = ['index', 'last-trade'] as const;
export type PriceSource = (typeof priceSources)[number];

export type AlertCondition =
  | {
      kind: 'price-level';
      resourceClass: string;
      region: string | null;
      source: PriceSource;
      direction: 'above' | 'below';
      level: string;
    }
  | {
      kind: 'price-near-band';
      resourceClass: string;
      region: string | null;
      source: PriceSource;
      boundary: 'floor' | 'ceiling';
      withinPercent: string;
    }
  | { kind: 'utilization-drift'; allocationId: string | null; driftPercent: string }
  | { kind: 'spend'; period: 'day' | 'month'; threshold: string; currency: string };

export interface AlertRuleCreated {
  type: 'AlertRuleCreated';
  data: {
    ruleId: string;
    accountId: string;
    condition: AlertCondition;
    /** How far (percent of the line) the value must move back before the rule fires again. */
    rearmMarginPercent: string;
    createdAt: string;
  };
}
export interface AlertFired {
  type: 'AlertFired';
  data: {
    alertId: string;
    ruleId: string;
    accountId: string;
    /** What was measured (a price, percent drift or spend), and the line it reached. */
    value: string;
    line: string;
    /** The instance the value belongs to: an allocation id, a period, or null for a market price. */
    scope: string | null;
    message: string;
    /** The business time of the input that made it fire. */
    at: string;
    input: InputRef;
  };
}
export interface AlertRearmed {
  type: 'AlertRearmed';
  data: { value: string; scope: string | null; at: string; input: InputRef };
}
/**
 * The input judged: its integration event id and when its producer recorded it. Inputs recorded before the last
 * transition (a replay after a restart) are not judged again.
 */
export interface InputRef {
  id: string;
  recordedAt: string;
}
/** The owner deleted the rule: it is judged no more and no longer listed; alerts it raised stay. */
export interface AlertRuleDeleted {
  type: 'AlertRuleDeleted';
  data: { ruleId: string; deletedAt: string };
}
export type AlertRuleEvent = AlertRuleCreated | AlertFired | AlertRearmed | AlertRuleDeleted;

/** The line a value is compared with, and on which side it fires. */
export interface Line {
  level: InstanceType<typeof Dec>;
  fireWhen: 'at-or-above' | 'at-or-below';
}

export type Transition = 'fire' | 'rearm' | null;

/**
 * Hysteresis. Armed: fires when the value reaches the line. Disarmed: re-arms when the value is back past the line
 * by `marginPercent` of the line (below it for an at-or-above line, above it for an at-or-below one).
 */
export const transition = (
  armed: boolean,
  value: InstanceType<typeof Dec>,
  line: Line,
  marginPercent: InstanceType<typeof Dec>,
): Transition => {
  const margin = line.level.abs().mul(marginPercent).div(100);
  if (line.fireWhen === 'at-or-above') {
    if (armed) return value.gte(line.level) ? 'fire' : null;
    return value.lt(line.level.minus(margin)) ? 'rearm' : null;
  }
  if (armed) return value.lte(line.level) ? 'fire' : null;
  return value.gt(line.level.plus(margin)) ? 'rearm' : null;
};

/** The line of a price-near-band rule: within X% above the floor, or within X% below the ceiling. */
export const bandLine = (
  boundary: 'floor' | 'ceiling',
  bound: InstanceType<typeof Dec>,
  withinPercent: InstanceType<typeof Dec>,
): Line =>
  boundary === 'floor'
    ? { level: bound.mul(new Dec(100).plus(withinPercent)).div(100), fireWhen: 'at-or-below' }
    : { level: bound.mul(new Dec(100).minus(withinPercent)).div(100), fireWhen: 'at-or-above' };

/** Percent drift of delivered from expected: |delivered − expected| / expected × 100; null when nothing is due yet. */
export const driftPercent = (
  delivered: InstanceType<typeof Dec>,
  expected: InstanceType<typeof Dec>,
): InstanceType<typeof Dec> | null => (expected.lte(0) ? null : delivered.minus(expected).abs().div(expected).mul(100));

export interface AlertRuleInput {
  accountId: string;
  kind: unknown;
  resourceClass?: unknown;
  region?: unknown;
  source?: unknown;
  direction?: unknown;
  level?: unknown;
  boundary?: unknown;
  withinPercent?: unknown;
  allocationId?: unknown;
  driftPercent?: unknown;
  period?: unknown;
  threshold?: unknown;
  currency?: unknown;
  rearmMarginPercent?: unknown;
}

export const DEFAULT_REARM_MARGIN_PERCENT = '1';

/** Checks a rule as posted; every field at fault is named. */
export const parseAlertRule = (input: AlertRuleInput): { condition: AlertCondition; rearmMarginPercent: string } => {
  const details: ErrorDetail[] = [];
  const bad = (field: string, code: string) => details.push({ field, code });
  const str = (field: keyof AlertRuleInput, required: boolean): string | null => {
    const v = input[field];
    if (v === undefined || v === null) {
      if (required) bad(field, 'WEBHOOKS.FIELD_REQUIRED');
      return null;
    }
    if (typeof v !== 'string' || v.length === 0 || v.length > 128) {
      bad(field, 'WEBHOOKS.INVALID_FIELD');
      return null;
    }
    return v;
  };
  const oneOf = <T extends string>(field: keyof AlertRuleInput, values: readonly T[]): T | null => {
    const v = str(field, true);
    if (v === null) return null;
    if (!(values as readonly string[]).includes(v)) {
      bad(field, 'WEBHOOKS.INVALID_FIELD');
      return null;
    }
    return v as T;
  };
  const positive = (field: keyof AlertRuleInput, max?: number): string | null => {
    const v = str(field, true);
    if (v === null) return null;
    if (!isDecimalString(v) || new Dec(v).lte(0) || (max !== undefined && new Dec(v).gt(max))) {
      bad(field, 'WEBHOOKS.INVALID_DECIMAL');
      return null;
    }
    return new Dec(v).toFixed();
  };

  const kind = input.kind;
  if (typeof kind !== 'string' || !(alertRuleKinds as readonly string[]).includes(kind)) {
    throw new DomainError('WEBHOOKS.UNKNOWN_RULE_KIND', `kind must be one of ${alertRuleKinds.join(', ')}`, 'invalid', [
      { field: 'kind', code: 'WEBHOOKS.UNKNOWN_RULE_KIND' },
    ]);
  }
  let margin = DEFAULT_REARM_MARGIN_PERCENT;
  if (input.rearmMarginPercent !== undefined) {
    const m = input.rearmMarginPercent;
    if (typeof m !== 'string' || !isDecimalString(m) || new Dec(m).lt(0) || new Dec(m).gt(100)) {
      bad('rearmMarginPercent', 'WEBHOOKS.INVALID_DECIMAL');
    } else margin = new Dec(m).toFixed();
  }

  let condition: AlertCondition | null = null;
  switch (kind as AlertRuleKind) {
    case 'price-level': {
      const resourceClass = str('resourceClass', true);
      const region = str('region', false);
      const source = oneOf('source', priceSources);
      const direction = oneOf('direction', ['above', 'below'] as const);
      const level = positive('level');
      if (resourceClass && source && direction && level) {
        condition = { kind: 'price-level', resourceClass, region, source, direction, level };
      }
      break;
    }
    case 'price-near-band': {
      const resourceClass = str('resourceClass', true);
      const region = str('region', false);
      const source = oneOf('source', priceSources);
      const boundary = oneOf('boundary', ['floor', 'ceiling'] as const);
      const withinPercent = positive('withinPercent', 100);
      if (resourceClass && source && boundary && withinPercent) {
        condition = { kind: 'price-near-band', resourceClass, region, source, boundary, withinPercent };
      }
      break;
    }
    case 'utilization-drift': {
      const allocationId = str('allocationId', false);
      const drift = positive('driftPercent');
      if (drift) condition = { kind: 'utilization-drift', allocationId, driftPercent: drift };
      break;
    }
    case 'spend': {
      const period = oneOf('period', ['day', 'month'] as const);
      const threshold = positive('threshold');
      const currency = str('currency', true);
      if (currency !== null && !/^[A-Z]{3}$/.test(currency)) bad('currency', 'WEBHOOKS.INVALID_FIELD');
      if (period && threshold && currency && /^[A-Z]{3}$/.test(currency)) {
        condition = { kind: 'spend', period, threshold, currency };
      }
      break;
    }
  }
  if (details.length > 0 || condition === null) {
    throw new DomainError('WEBHOOKS.INVALID_ALERT_RULE', 'the alert rule is not valid', 'invalid', details);
  }
  return { condition, rearmMarginPercent: margin };
};
