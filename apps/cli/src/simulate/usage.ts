import { HOUR, MINUTE } from './plan';
import type { Prng } from './prng';
import type { AllocationView, CloudEvent } from './views';

// Delivery on the delivery day, as the providers' and buyers' agents report it: CloudEvents on the
// `accelerator_seconds` meter, subject = the allocation.
//
// - Each provider agent reports every allocation it delivers four times (06:00, 12:00, 18:00, 23:00 UTC), each
//   reading the seconds delivered since the last. Most allocations are delivered in full; about a quarter fall
//   short (85–98%), which the statements show as shortfalls.
// - Agents retry: about 15% of readings are sent again with the next round, same (source, id) and content, and
//   must count once (`duplicate`).
// - For about 40% of allocations the buyer's agent also reports its own total at 23:00 (evidence: 97–100% of the
//   provider's), which statements show as reading differences.
// - A few short allocations get a last provider reading for 23:30 that only arrives after the day was closed
//   (late): billing books it as an adjustment in the next period.

export const PROVIDER_ROUNDS = [6, 12, 18, 23];
export const BUYER_ROUND = 23;
/** When late readings are sent (the hour after the delivery day's close), and the time they carry. */
export const LATE_SENT_AT = 25 * HOUR;
export const LATE_USAGE_TIME = 23 * HOUR + 30 * MINUTE;

export interface Reading {
  /** The account whose integrator key sends it. */
  account: string;
  role: 'provider' | 'buyer';
  event: CloudEvent;
}

export interface UsageRound {
  /** Offset from the delivery day's midnight at which the round is sent. */
  sentAt: number;
  readings: Reading[];
  /** Readings of an earlier round sent again. */
  retries: Reading[];
  late: boolean;
}

export interface UsagePlan {
  rounds: UsageRound[];
  /** Distinct readings sent before the delivery day is closed, and after it (late). */
  onTime: number;
  late: number;
  retries: number;
}

const iso = (ms: number) => new Date(ms).toISOString();

export const planUsage = (allocations: readonly AllocationView[], deliveryDayMs: number, rng: Prng): UsagePlan => {
  const sorted = [...allocations].sort((a, b) => (a.allocationId < b.allocationId ? -1 : 1));
  const rounds: UsageRound[] = PROVIDER_ROUNDS.map((h) => ({
    sentAt: h * HOUR,
    readings: [],
    retries: [],
    late: false,
  }));
  const late: UsageRound = { sentAt: LATE_SENT_AT, readings: [], retries: [], late: true };
  const event = (a: AllocationView, source: string, id: string, timeMs: number, seconds: number): CloudEvent => {
    return {
      specversion: '1.0',
      id,
      source,
      type: 'com.cx.usage.v1',
      subject: a.allocationId,
      time: iso(timeMs),
      data: { meter: 'accelerator_seconds', quantity: String(seconds) },
    };
  };
  for (const a of sorted) {
    const allocatedSeconds = Math.round(Number(a.quantity) * 3600);
    const short = rng.chance(0.25);
    const fraction = short ? rng.uniform(0.85, 0.98) : 1;
    const delivered = Math.floor(allocatedSeconds * fraction);
    const weights = PROVIDER_ROUNDS.map(() => rng.uniform(0.5, 1.5));
    const total = weights.reduce((s, w) => s + w, 0);
    let left = delivered;
    const source = `//sim/${a.providerAccount}/gpu-agent`;
    PROVIDER_ROUNDS.forEach((h, i) => {
      const seconds =
        i === PROVIDER_ROUNDS.length - 1 ? left : Math.floor((delivered * (weights[i] as number)) / total);
      left -= seconds;
      const reading: Reading = {
        account: a.providerAccount,
        role: 'provider',
        event: event(a, source, `${a.allocationId}.r${i + 1}`, deliveryDayMs + h * HOUR, seconds),
      };
      (rounds[i] as UsageRound).readings.push(reading);
      // A retry goes out with the next round (the last round's own retries right after it), in a request of its own.
      if (rng.chance(0.15)) (rounds[Math.min(i + 1, rounds.length - 1)] as UsageRound).retries.push(reading);
    });
    if (rng.chance(0.4)) {
      const seen = Math.floor(delivered * rng.uniform(0.97, 1));
      (rounds[rounds.length - 1] as UsageRound).readings.push({
        account: a.buyerAccount,
        role: 'buyer',
        event: event(
          a,
          `//sim/${a.buyerAccount}/job-monitor`,
          `${a.allocationId}.total`,
          deliveryDayMs + BUYER_ROUND * HOUR,
          seen,
        ),
      });
    }
    if (short && rng.chance(0.5)) {
      // Half the missing time turns up late: still within the allocation, so it is charged at the trade's price.
      const seconds = Math.floor((allocatedSeconds - delivered) / 2);
      if (seconds > 0) {
        const reading: Reading = {
          account: a.providerAccount,
          role: 'provider',
          event: event(a, source, `${a.allocationId}.late`, deliveryDayMs + LATE_USAGE_TIME, seconds),
        };
        late.readings.push(reading);
        if (rng.chance(0.5)) late.retries.push(reading);
      }
    }
  }
  const all = [...rounds, late];
  return {
    rounds: all,
    onTime: rounds.reduce((s, r) => s + r.readings.length, 0),
    late: late.readings.length,
    retries: all.reduce((s, r) => s + r.retries.length, 0),
  };
};
