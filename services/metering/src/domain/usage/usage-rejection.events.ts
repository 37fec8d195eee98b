import { createHash } from 'node:crypto';

// A usage event submitted over Kafka that metering refused. The integrator who produced it has no answer to read
// (unlike an HTTP caller), so the refusal is a business outcome recorded as an event and published on
// `cx.metering.usage.v1`, from where the webhooks service tells the account it concerns (`usage.rejected`).
//
// Each rejection is the only event of its own stream, named after what makes it "the same rejection": the
// record's `(source, id)` and the reason (code and field). It is appended at `no_stream`, so a redelivered record
// (a crash, a rebalance, a restart before the offset commit) meets WrongExpectedVersion and is not recorded twice.
// A record without both `source` and `id` cannot be told apart from another by content, so its position on the
// submissions topic is its identity instead (a redelivery is the same record at the same position).

export interface UsageRejectedData {
  /** The CloudEvent's `source` and `id`, null when the record did not carry them as strings. */
  source: string | null;
  id: string | null;
  /** The account the record reported for (`cxaccount`), null when it named none. */
  account: string | null;
  /** The event's `subject`, when it carried one as a string. */
  subject: string | null;
  code: string;
  field: string;
  message: string;
  /** `<topic>/<partition>/<offset>` of the record that was rejected. */
  position: string;
  rejectedAt: string;
}

export type UsageRejected = { type: 'UsageRejected'; data: UsageRejectedData };

export const USAGE_REJECTION_STREAM_PREFIX = 'usagerejection-';

/**
 * `usagerejection-<sha256 of the identity and reason>`. The parts are hashed as a JSON array, because a rejected
 * record's strings are unvalidated and may hold any character (NUL included); the first part says which identity
 * was used, so a `(source, id)` can never collide with a position.
 */
export const usageRejectionStream = (
  d: Pick<UsageRejectedData, 'source' | 'id' | 'code' | 'field' | 'position'>,
): string => {
  const identity = d.source !== null && d.id !== null ? ['ce', d.source, d.id] : ['at', d.position];
  return `${USAGE_REJECTION_STREAM_PREFIX}${createHash('sha256')
    .update(JSON.stringify([...identity, d.code, d.field]), 'utf8')
    .digest('hex')}`;
};
