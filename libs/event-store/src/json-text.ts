import type { NewEvent, RecordedEvent } from './event-store.port';

// The JSON text of an event, kept beside it in a WeakMap (so the event a caller sees is unchanged), both ways:
// - on the way in, attached by a decorator that has already validated the event and serialised it (the audit
//   ChainedEventStore hashes exactly this text), so that an adapter which stores text does not walk and serialise
//   the payload a second time: for a ledger batch of thousands of transfers, each walk is measurable. Whoever
//   attaches it vouches that `data` is `JSON.stringify` of a value validateAppend accepted for the event's data,
//   and `metadata` the same for its metadata (or null for none). An adapter that keeps objects (EventStoreDB)
//   ignores it.
// - on the way out, attached by the SQLite store to each event it reads: the exact text of its row, from which
//   the audit verifies hashes without serialising every event again.

export interface EventJsonText {
  data: string;
  metadata: string | null;
}

const texts = new WeakMap<NewEvent, EventJsonText>();
// Separate from `texts`: an event read and then appended again (perhaps changed by the caller after reading)
// must be serialised from its objects, never from the text it was read with.
const stored = new WeakMap<RecordedEvent, EventJsonText>();

/** Attaches `text` to an event about to be appended (see above for what the caller vouches); returns the event. */
export const attachJsonText = <E extends NewEvent>(event: E, text: EventJsonText): E => {
  texts.set(event, text);
  return event;
};

/** The text attached to `event`, if any. */
export const jsonTextOf = (event: NewEvent): EventJsonText | undefined => texts.get(event);

/** Attaches to an event a store read the text of its row; returns the event. */
export const attachStoredText = (event: RecordedEvent, text: EventJsonText): RecordedEvent => {
  stored.set(event, text);
  return event;
};

/** The exact text a store read `event` from, if it keeps text (SQLite) and read it itself. */
export const storedTextOf = (event: RecordedEvent): EventJsonText | undefined => stored.get(event);
