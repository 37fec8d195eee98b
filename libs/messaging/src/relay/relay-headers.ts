import { type RecordedEvent, positionToString } from '@cx/event-store';

// The header the relay puts on every message, so that a consumer can deduplicate and trace without decoding the
// value: `cx-source`, the JSON of `RelaySource` (event id, stream, revision, position, type, correlation and
// causation ids). A route may add headers of its own (the contracts add `cx-event-type`, the payload's full name,
// and `content-type`).
//
// One header rather than one per field: kafkajs 2.2.4 encodes every header with an encoder of its own (a zeroed
// 512-byte buffer, then copies), so that seven small headers cost the relay more than encoding its 1 KiB value
// did, and two headers about a tenth more CPU than one (bench/messaging). Messages relayed before this layout
// carry one header per field (`cx-event-id`, `cx-stream`, `cx-revision`, `cx-event-type`, `cx-position`,
// `cx-correlation-id`, `cx-causation-id`); `relaySourceOf` reads both layouts, because such messages may still be
// on a topic when a consumer replays it.

export const RELAY_SOURCE_HEADER = 'cx-source';

/** Where a relayed message's event was recorded. Revision and position stay decimal strings (64-bit). */
export interface RelaySource {
  /** The store event's id (a UUID): what consumers deduplicate on. */
  eventId: string;
  /** The stream the event was recorded in. */
  stream: string;
  /** Its revision in that stream. */
  revision: string;
  /** Its position in `$all`, `<commit>/<prepare>`. */
  position: string;
  /** The store event type (not the contract's message name, which a contract route adds as `cx-event-type`). */
  type: string;
  correlationId?: string;
  causationId?: string;
}

/** The relay's headers for one recorded event. */
export const relayHeaders = (e: RecordedEvent): Record<string, string> => {
  const source: RelaySource = {
    eventId: e.id,
    stream: e.streamId,
    revision: e.revision.toString(),
    position: positionToString(e.position),
    type: e.type,
  };
  if (typeof e.metadata.correlationId === 'string') source.correlationId = e.metadata.correlationId;
  if (typeof e.metadata.causationId === 'string') source.causationId = e.metadata.causationId;
  return { [RELAY_SOURCE_HEADER]: JSON.stringify(source) };
};

/** The source of a relayed message, from its headers (either layout); undefined if it carries none. */
export const relaySourceOf = (headers: Readonly<Record<string, string>>): RelaySource | undefined => {
  const compact = headers[RELAY_SOURCE_HEADER];
  if (compact !== undefined) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(compact);
    } catch {
      return undefined;
    }
    return isRelaySource(parsed) ? parsed : undefined;
  }
  const eventId = headers['cx-event-id'];
  const stream = headers['cx-stream'];
  const revision = headers['cx-revision'];
  if (!eventId || !stream || !revision) return undefined;
  const source: RelaySource = {
    eventId,
    stream,
    revision,
    position: headers['cx-position'] ?? '',
    type: headers['cx-event-type'] ?? '',
  };
  const correlationId = headers['cx-correlation-id'];
  const causationId = headers['cx-causation-id'];
  if (correlationId !== undefined) source.correlationId = correlationId;
  if (causationId !== undefined) source.causationId = causationId;
  return source;
};

const isRelaySource = (v: unknown): v is RelaySource => {
  if (typeof v !== 'object' || v === null) return false;
  const o = v as Record<string, unknown>;
  return (
    typeof o.eventId === 'string' &&
    o.eventId.length > 0 &&
    typeof o.stream === 'string' &&
    typeof o.revision === 'string' &&
    typeof o.position === 'string' &&
    typeof o.type === 'string' &&
    (o.correlationId === undefined || typeof o.correlationId === 'string') &&
    (o.causationId === undefined || typeof o.causationId === 'string')
  );
};
