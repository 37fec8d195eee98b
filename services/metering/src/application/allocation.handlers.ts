import { type AppendResult, NO_STREAM, WrongExpectedVersion } from '@cx/event-store';
import { type AllocationHeardData, allocationStream } from './metering.events';
import type { MeteringDeps } from './ports';

/**
 * Records an allocation heard from matching, once: the append at `no_stream` makes a redelivered message a no-op
 * (null), so the consumer is idempotent without relying on the store's best-effort id cache.
 */
export const recordAllocation = async (
  deps: Pick<MeteringDeps, 'store'>,
  a: AllocationHeardData,
  cause: { eventId: string; correlationId: string },
): Promise<AppendResult | null> => {
  try {
    return await deps.store.appendToStream(
      allocationStream(a.allocationId),
      [
        {
          type: 'AllocationHeard',
          data: a,
          metadata: { correlationId: cause.correlationId, causationId: cause.eventId, actor: { service: 'metering' } },
        },
      ],
      { expectedRevision: NO_STREAM },
    );
  } catch (e) {
    if (e instanceof WrongExpectedVersion) return null;
    throw e;
  }
};
