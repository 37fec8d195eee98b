import { timestampFromDate } from '@cx/contracts';
import type { RecordedEvent } from '@cx/event-store';

// The envelope every integration event carries (proto/cx/common/v1/envelope.proto), built the same way for every
// topic from the recorded event it is published from.

export const envelopeFor = (e: RecordedEvent, aggregateId: string, occurredAt?: Date) => {
  const meta = e.metadata;
  const actor = meta.actor ?? {};
  return {
    eventId: e.id,
    aggregateId,
    occurredAt: timestampFromDate(occurredAt ?? e.created),
    // An event recorded without a request (a start-up task) is its own correlation and cause.
    correlationId: typeof meta.correlationId === 'string' && meta.correlationId ? meta.correlationId : e.id,
    causationId: typeof meta.causationId === 'string' && meta.causationId ? meta.causationId : e.id,
    source: {
      streamId: e.streamId,
      streamRevision: e.revision,
      position: { commit: e.position.commit, prepare: e.position.prepare },
    },
    actor: { keyId: actor.keyId ?? '', role: actor.role ?? '', service: actor.service ?? '' },
    recordedAt: timestampFromDate(e.created),
  };
};
