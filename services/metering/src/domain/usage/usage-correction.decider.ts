import { Dec, DomainError } from '@cx/shared-kernel';
import { inIntervals, type Interval } from '../period/closed-periods';
import type { UsageAmended, UsageEvent, UsageRecordedData, UsageVoided } from './usage.events';
import { parseQuantity } from './usage.validation';

// Corrections of recorded usage (DESIGN.md: history is never edited). The original UsageRecorded stays; an
// amendment replaces the quantity that counts, a void makes the usage count for nothing. Pure: the closed periods,
// the time and who asks arrive on the command.

export type UsageState =
  | { recorded: false }
  | {
      recorded: true;
      usage: UsageRecordedData;
      /** The quantity that counts now. */
      quantity: string;
      voided: boolean;
      last: { type: 'UsageAmended'; quantity: string; reason: string } | { type: 'UsageVoided'; reason: string } | null;
    };

export const noUsage: UsageState = { recorded: false };

export const evolve = (state: UsageState, e: UsageEvent): UsageState => {
  switch (e.type) {
    case 'UsageRecorded':
      return { recorded: true, usage: e.data, quantity: e.data.quantity, voided: false, last: null };
    case 'UsageAmended':
      if (!state.recorded) return state;
      return {
        ...state,
        quantity: e.data.quantity,
        last: { type: 'UsageAmended', quantity: e.data.quantity, reason: e.data.reason },
      };
    case 'UsageVoided':
      if (!state.recorded) return state;
      return { ...state, voided: true, last: { type: 'UsageVoided', reason: e.data.reason } };
    default:
      return state;
  }
};

/** Who asks for a correction: admin may correct any usage, an integrator only readings of its own accounts. */
export interface Corrector {
  role: 'admin' | 'integrator';
  accounts: readonly string[];
}

interface CorrectionCommon {
  reason: unknown;
  by: Corrector;
  /** The periods metering has heard closed, to say whether the correction is late. */
  closed: readonly Interval[];
  now: Date;
}

export type AmendUsage = { type: 'AmendUsage'; data: CorrectionCommon & { quantity: unknown } };
export type VoidUsage = { type: 'VoidUsage'; data: CorrectionCommon };
export type CorrectUsage = AmendUsage | VoidUsage;

const MAX_REASON = 500;

const usageNotFound = (): DomainError =>
  DomainError.notFound('METERING.USAGE_NOT_FOUND', 'no usage with this source and id that you may correct');

const reasonOf = (raw: unknown): string => {
  if (raw === undefined || raw === null || raw === '') {
    throw DomainError.invalid('METERING.MISSING_FIELD', 'reason is required', 'reason');
  }
  if (typeof raw !== 'string' || raw.length > MAX_REASON || raw.trim() === '') {
    throw DomainError.invalid(
      'METERING.INVALID_FIELD',
      `reason must be text of at most ${MAX_REASON} characters`,
      'reason',
    );
  }
  return raw;
};

const quantityOf = (raw: unknown): string => {
  if (raw === undefined || raw === null || raw === '') {
    throw DomainError.invalid('METERING.MISSING_FIELD', 'quantity is required', 'quantity');
  }
  try {
    parseQuantity(raw);
  } catch (e) {
    // The same decimal rules as a reading, reported against this request's field.
    if (e instanceof DomainError)
      throw DomainError.invalid(e.code, e.message.replace('data.quantity', 'quantity'), 'quantity');
    throw e;
  }
  return raw as string;
};

/**
 * Judges a correction. Checks in order: the usage exists and the caller is a party of it (else 404, as if it did
 * not exist), the input, then the usage's state. Repeating the last correction exactly returns no event, so a
 * client's retry is harmless.
 */
export const decide = (cmd: CorrectUsage, state: UsageState): (UsageAmended | UsageVoided)[] => {
  if (!state.recorded) throw usageNotFound();
  const { usage } = state;
  const { by } = cmd.data;
  // A reading is its reporter's: the other party of an allocation disputes it, it does not rewrite it.
  if (by.role !== 'admin' && (usage.reporterAccount === null || !by.accounts.includes(usage.reporterAccount))) {
    throw usageNotFound();
  }
  const reason = reasonOf(cmd.data.reason);
  const base = {
    source: usage.source,
    id: usage.id,
    subject: usage.subject,
    subjectKind: usage.subjectKind,
    previousQuantity: state.quantity,
    reason,
    late: inIntervals(cmd.data.closed, Date.parse(usage.time)),
    correctedAt: cmd.data.now.toISOString(),
  };
  if (cmd.type === 'VoidUsage') {
    if (state.voided) {
      if (state.last?.type === 'UsageVoided' && state.last.reason === reason) return [];
      throw DomainError.conflict('METERING.USAGE_VOIDED', 'the usage is already void', 'reason');
    }
    return [{ type: 'UsageVoided', data: base }];
  }
  const quantity = quantityOf(cmd.data.quantity);
  if (state.voided) throw DomainError.conflict('METERING.USAGE_VOIDED', 'a void usage cannot be amended', 'quantity');
  if (new Dec(quantity).eq(state.quantity)) {
    if (state.last?.type === 'UsageAmended' && state.last.quantity === quantity && state.last.reason === reason) {
      return [];
    }
    throw new DomainError('METERING.NO_CHANGE', 'the quantity is already this', 'unprocessable', [
      { field: 'quantity', code: 'METERING.NO_CHANGE' },
    ]);
  }
  return [{ type: 'UsageAmended', data: { ...base, quantity } }];
};
