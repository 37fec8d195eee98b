import { type AppendResult, NO_STREAM, WrongExpectedVersion } from '@cx/event-store';
import { type PeriodClosedHeardData, periodStream } from './metering.events';
import type { MeteringDeps } from './ports';

/**
 * Records a period heard closed, once: the append at `no_stream` makes a redelivered close (or the month's close
 * heard again) a no-op (null), so the consumer is idempotent without the store's best-effort id cache.
 */
export const recordPeriodClosed = async (
  deps: Pick<MeteringDeps, 'store'>,
  p: PeriodClosedHeardData,
  cause: { eventId: string; correlationId: string },
): Promise<AppendResult | null> => {
  try {
    return await deps.store.appendToStream(
      periodStream(p.period),
      [
        {
          type: 'PeriodClosedHeard',
          data: p,
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
