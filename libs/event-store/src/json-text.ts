import type { EventMetadata, NewEvent, Position, RecordedEvent } from './event-store.port';

// The JSON text of an event, kept beside it in a WeakMap (so the event a caller sees is unchanged), both ways:
// - on the way in, attached by a decorator that has already validated the event and serialised it (the audit
//   ChainedEventStore hashes exactly this text), so that an adapter which stores text does not walk and serialise
//   the payload a second time: for a ledger batch of thousands of transfers, each walk is measurable. Whoever
//   attaches it vouches that `data` is a JSON text of the event's data, which validateAppend accepted (its
//   JSON.stringify, or the same members in another order: the chain stores the canonical text it hashed), and
//   `metadata` the same for its metadata (or null for none). An adapter that keeps objects (EventStoreDB)
//   ignores it.
// - on the way out, carried by each event the SQLite store reads (StoredEvent): the exact text of its row, from
//   which the audit verifies hashes without serialising every event again.

export interface EventJsonText {
  data: string;
  metadata: string | null;
}

const texts = new WeakMap<NewEvent, EventJsonText>();

/** Attaches `text` to an event about to be appended (see above for what the caller vouches); returns the event. */
export const attachJsonText = <E extends NewEvent>(event: E, text: EventJsonText): E => {
  texts.set(event, text);
  return event;
};

/** The text attached to `event`, if any. */
export const jsonTextOf = (event: NewEvent): EventJsonText | undefined => texts.get(event);

/**
 * An event a store read, with the exact text of its row in a private field: not an own property, so equality,
 * spreading and JSON see the plain event, and a copy (or an event appended again) never carries stale text.
 * A class rather than a WeakMap beside the event: verify reads millions, and a WeakMap entry each cost about as
 * much as hashing the event.
 */
export class StoredEvent implements RecordedEvent {
  readonly #text: EventJsonText;

  constructor(
    public id: string,
    public streamId: string,
    public revision: bigint,
    public type: string,
    public data: unknown,
    public metadata: EventMetadata,
    public created: Date,
    public position: Position,
    text: EventJsonText,
  ) {
    this.#text = text;
  }

  static textOf(event: RecordedEvent): EventJsonText | undefined {
    return #text in event ? (event as StoredEvent).#text : undefined;
  }
}

/** The exact text a store read `event` from, if it keeps text (SQLite) and read it itself. */
export const storedTextOf = (event: RecordedEvent): EventJsonText | undefined => StoredEvent.textOf(event);
