import { randomUUID } from 'node:crypto';
import type { EventFilter, NewEvent } from '../event-store.port';
import { jsonTextOf } from '../json-text';

// Serialisation of an append and validation of read options, done once, before anything reaches the
// database. Pure: no I/O.

/** An event ready to be written: id normalised, data and metadata serialised exactly once. */
export interface SerialisedEvent {
  id: string;
  type: string;
  data: string;
  /** null when the event carries no metadata: it reads back as `{}`. */
  metadata: string | null;
}

/**
 * Serialises an append that `validateAppend` (../validate-append.ts, shared with the EventStoreDB adapter) has
 * already accepted: ids generated where absent and lower-cased, data and metadata stringified exactly once (or
 * taken as attached by a decorator that already did, json-text.ts).
 */
export const serialiseEvents = (events: NewEvent | NewEvent[]): SerialisedEvent[] => {
  const list = Array.isArray(events) ? events : [events];
  const out = new Array<SerialisedEvent>(list.length);
  for (let i = 0; i < list.length; i++) {
    const e = list[i] as NewEvent;
    const text = jsonTextOf(e);
    out[i] = {
      // EventStoreDB hands ids back in lower case; idempotency compares them in one spelling.
      id: e.id === undefined ? randomUUID() : e.id.toLowerCase(),
      type: e.type,
      data: text?.data ?? JSON.stringify(e.data),
      metadata: text !== undefined ? text.metadata : e.metadata === undefined ? null : JSON.stringify(e.metadata),
    };
  }
  return out;
};

/** A read option that must be a non-negative integer; Infinity means no limit. */
export const validateMaxCount = (value: number | bigint | undefined): number => {
  if (value === undefined) return Number.POSITIVE_INFINITY;
  if (typeof value === 'bigint' && value >= 0n)
    return value > BigInt(Number.MAX_SAFE_INTEGER) ? Number.POSITIVE_INFINITY : Number(value);
  if (typeof value === 'number' && value >= 0 && (Number.isInteger(value) || value === Number.POSITIVE_INFINITY))
    return value;
  throw new TypeError(`maxCount must be a non-negative integer, got ${String(value)}`);
};

export const validateFilter = (
  filter: EventFilter | undefined,
): { column: 'stream' | 'type'; prefixes: string[] } | null => {
  if (filter === undefined) return null;
  const byStream = 'streamNamePrefixes' in filter;
  const prefixes: unknown = byStream
    ? filter.streamNamePrefixes
    : (filter as { eventTypePrefixes: unknown }).eventTypePrefixes;
  if (!Array.isArray(prefixes) || prefixes.length === 0 || !prefixes.every((p) => typeof p === 'string')) {
    throw new TypeError('a filter needs a non-empty array of string prefixes');
  }
  return { column: byStream ? 'stream' : 'type', prefixes: prefixes as string[] };
};
