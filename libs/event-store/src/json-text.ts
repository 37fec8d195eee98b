import type { NewEvent } from './event-store.port';

// The JSON text of an event, attached by a decorator that has already validated the event and serialised it (the
// audit ChainedEventStore hashes exactly this text), so that an adapter which stores text does not walk and
// serialise the payload a second time: for a ledger batch of thousands of transfers, each walk is measurable.
//
// Kept beside the event in a WeakMap rather than on it, so the event a caller sees is unchanged, and so only code
// that imports this module can attach one. Whoever attaches text vouches that `data` is `JSON.stringify` of a value
// validateAppend accepted for the event's data, and `metadata` the same for its metadata (or null for none). An
// adapter that keeps objects (EventStoreDB) ignores it.

export interface EventJsonText {
  data: string;
  metadata: string | null;
}

const texts = new WeakMap<NewEvent, EventJsonText>();

/** Attaches `text` to `event` (see above for what the caller vouches) and returns the event. */
export const attachJsonText = <E extends NewEvent>(event: E, text: EventJsonText): E => {
  texts.set(event, text);
  return event;
};

/** The text attached to `event`, if any. */
export const jsonTextOf = (event: NewEvent): EventJsonText | undefined => texts.get(event);
