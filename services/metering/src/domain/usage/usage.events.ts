import { hash } from 'node:crypto';

// An accepted usage event is the first event of its own stream, named after its identity `(source, id)`: the
// stream's existence is the claim that makes ingestion exactly-once. Corrections (amendments, a void) follow it
// in the same stream, so the original is kept and every correction points at it by position in its stream.

export type ReporterRole = 'provider' | 'buyer' | 'account';

export interface UsageRecordedData {
  source: string;
  id: string;
  type: string;
  /** An allocation id, or an account id (then `offerId` is set). */
  subject: string;
  subjectKind: 'allocation' | 'account';
  offerId: string | null;
  meter: string;
  /** Decimal string exactly as accepted. */
  quantity: string;
  /** The CloudEvent's `time`, normalised to an ISO instant. */
  time: string;
  dimensions: Record<string, string>;
  /** Whose reading this is: for an allocation the provider's counts, the buyer's is evidence. */
  reporterRole: ReporterRole;
  reporterAccount: string | null;
  recordedAt: string;
  /**
   * The usage time lies in a billing period metering had heard closed when it accepted the event: billing books
   * it as an adjustment in the next open period. Absent on events recorded before periods were heard (false).
   */
  late?: boolean;
}

export type UsageRecorded = { type: 'UsageRecorded'; data: UsageRecordedData };

/** What every correction carries: which usage it corrects and enough to route it (the subject is the Kafka key). */
interface CorrectionBase {
  source: string;
  id: string;
  subject: string;
  subjectKind: 'allocation' | 'account';
  /** The quantity that counted before this correction. */
  previousQuantity: string;
  reason: string;
  /** The corrected usage's time lies in a period metering had heard closed (see UsageRecordedData.late). */
  late: boolean;
  correctedAt: string;
}

/** The quantity recorded under `(source, id)` is replaced by `quantity`. */
export type UsageAmended = { type: 'UsageAmended'; data: CorrectionBase & { quantity: string } };
/** The usage recorded under `(source, id)` no longer counts. */
export type UsageVoided = { type: 'UsageVoided'; data: CorrectionBase };

export type UsageEvent = UsageRecorded | UsageAmended | UsageVoided;
export const isUsageEvent = (type: string): boolean =>
  type === 'UsageRecorded' || type === 'UsageAmended' || type === 'UsageVoided';

export const USAGE_STREAM_PREFIX = 'usage-';

/** `usage-<sha256(source NUL id)>`: NUL cannot occur in either part, so no two identities share a stream. */
export const usageStream = (source: string, id: string): string =>
  // One-shot hash: no Hash object per event (ingestion names a stream for every event it is sent).
  `${USAGE_STREAM_PREFIX}${hash('sha256', `${source}\u0000${id}`, 'hex')}`;

/**
 * What "the same event" means for a repeated `(source, id)`: the business content, not its spelling. Times are
 * compared as instants and dimensions regardless of key order.
 */
export const usageFingerprint = (
  d: Pick<UsageRecordedData, 'type' | 'subject' | 'offerId' | 'meter' | 'quantity' | 'time' | 'dimensions'>,
): string =>
  JSON.stringify([
    d.type,
    d.subject,
    d.offerId,
    d.meter,
    d.quantity,
    d.time,
    Object.keys(d.dimensions)
      .sort()
      .map((k) => [k, d.dimensions[k]]),
  ]);
