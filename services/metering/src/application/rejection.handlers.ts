import { NO_STREAM, WrongExpectedVersion } from '@cx/event-store';
import { type UsageRejectedData, usageRejectionStream } from '../domain/usage/usage-rejection.events';
import type { CommandMetadata, MeteringDeps } from './ports';

/** A refused record as the submissions consumer saw it; the handler adds the time. */
export type RejectionFacts = Omit<UsageRejectedData, 'rejectedAt'>;

/**
 * Records each rejection as the first event of its own stream, appended at `no_stream`: one that was recorded
 * before (the same record redelivered) meets WrongExpectedVersion and counts as recorded. A fresh event id on
 * purpose, as in ingestion: the stream's existence, not the store's id cache, is what makes it exactly-once. The
 * appends are issued in one turn of the event loop so the store's group commit writes them together. Resolves
 * once every rejection is durably recorded (the caller commits the offsets only then); a store failure rejects.
 */
export const recordRejections = async (
  deps: MeteringDeps,
  rejections: readonly RejectionFacts[],
  meta: CommandMetadata,
): Promise<{ recorded: number; repeated: number }> => {
  const rejectedAt = deps.clock.now().toISOString();
  const metadata = { correlationId: meta.correlationId, causationId: meta.causationId, actor: meta.actor };
  // One batch may reject the same record twice only if the broker delivered it twice; one append per stream.
  const byStream = new Map<string, UsageRejectedData>();
  for (const r of rejections) {
    const stream = usageRejectionStream(r);
    if (!byStream.has(stream)) byStream.set(stream, { ...r, rejectedAt });
  }
  const outcomes = await Promise.all(
    [...byStream].map(([stream, data]) =>
      deps.store
        .appendToStream(stream, [{ type: 'UsageRejected', data, metadata }], { expectedRevision: NO_STREAM })
        .then(
          () => 'recorded' as const,
          (e: unknown) => {
            if (e instanceof WrongExpectedVersion) return 'repeated' as const;
            throw e;
          },
        ),
    ),
  );
  const recorded = outcomes.filter((o) => o === 'recorded').length;
  return { recorded, repeated: outcomes.length - recorded };
};
