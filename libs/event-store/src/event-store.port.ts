// The event store port. It mirrors EventStoreDB's semantics exactly, so the embedded SQLite store and
// EventStoreDB are interchangeable behind it (libs/event-store/src/event-store.contract.ts proves it).

/** Expected revision of a stream before an append, as in EventStoreDB. Revisions start at 0. */
export type ExpectedRevision = 'any' | 'no_stream' | 'stream_exists' | bigint;
export const ANY = 'any' as const;
export const NO_STREAM = 'no_stream' as const;
export const STREAM_EXISTS = 'stream_exists' as const;

/** A global position in `$all`. SQLite uses one counter for both parts; EventStoreDB has commit and prepare. */
export interface Position {
  readonly commit: bigint;
  readonly prepare: bigint;
}

/** What every event carries beside its data (DESIGN.md, "How an event travels"). */
export interface EventMetadata {
  correlationId?: string;
  causationId?: string;
  /** Who caused it: the API key id and role, or a service name for automatic effects. */
  actor?: { keyId?: string; role?: string; service?: string };
  /** Any further fields (hash-chain fields are added by the audit decorator). */
  [key: string]: unknown;
}

export interface NewEvent<Type extends string = string, Data = unknown> {
  /** UUID. Re-appending the same ids with an exact expected revision is idempotent. Generated when absent. */
  id?: string;
  type: Type;
  /** JSON-serialisable: plain objects, arrays, strings, finite numbers, booleans, null. */
  data: Data;
  metadata?: EventMetadata;
}

export interface RecordedEvent<Type extends string = string, Data = unknown> {
  id: string;
  streamId: string;
  /** Zero-based revision of the event within its stream. */
  revision: bigint;
  type: Type;
  data: Data;
  metadata: EventMetadata;
  /** When the store recorded it (the store's clock, not the business clock). */
  created: Date;
  position: Position;
}

export interface AppendResult {
  /** The revision of the last event written, which is the expected revision for the next append. */
  nextExpectedRevision: bigint;
  position: Position;
}

export type Direction = 'forwards' | 'backwards';

export interface ReadStreamOptions {
  direction?: Direction;
  /** Inclusive. Defaults to 'start' forwards and 'end' backwards. */
  fromRevision?: bigint | 'start' | 'end';
  maxCount?: number | bigint;
}

export interface ReadAllOptions {
  direction?: Direction;
  /** Inclusive. Defaults to 'start' forwards and 'end' backwards. */
  fromPosition?: Position | 'start' | 'end';
  maxCount?: number | bigint;
  filter?: EventFilter;
}

/** Matches when the stream name (or event type) starts with any of the prefixes. */
export type EventFilter = { streamNamePrefixes: string[] } | { eventTypePrefixes: string[] };

export interface SubscribeToAllOptions {
  /** Delivery starts strictly after this position; 'start' delivers everything. */
  fromPosition: Position | 'start' | 'end';
  filter?: EventFilter;
}

export interface SubscribeToStreamOptions {
  /** Delivery starts strictly after this revision; 'start' delivers everything. */
  fromRevision: bigint | 'start' | 'end';
}

/**
 * A catch-up subscription: it reads history first, then delivers live events, in order, at least once.
 * Iterate it with `for await`; `unsubscribe()` ends the iteration.
 */
export interface Subscription extends AsyncIterable<RecordedEvent> {
  unsubscribe(): Promise<void>;
}

/** One append of a call to appendToStreams. */
export interface StreamAppend {
  stream: string;
  events: NewEvent | NewEvent[];
  expectedRevision?: ExpectedRevision;
}

/** How one append of appendToStreams ended: what appendToStream would have resolved with, or rejected with. */
export type AppendOutcome = { ok: true; result: AppendResult } | { ok: false; error: unknown };

export interface EventStore {
  appendToStream(
    stream: string,
    events: NewEvent | NewEvent[],
    opts?: { expectedRevision?: ExpectedRevision },
  ): Promise<AppendResult>;
  /**
   * Several appends in one call, each exactly as appendToStream would make it were they all issued at once: each
   * is validated, checked and written or refused alone (not a transaction across streams, and in no promised order
   * between them), and its outcome, at its index, says which. For writers of many small streams at once (an
   * identity claim per event): one call and one promise instead of one per stream. Never rejects: every failure, a
   * closed store's too, is its own append's outcome.
   */
  appendToStreams(appends: readonly StreamAppend[]): Promise<AppendOutcome[]>;
  readStream(stream: string, opts?: ReadStreamOptions): AsyncIterable<RecordedEvent>;
  readAll(opts?: ReadAllOptions): AsyncIterable<RecordedEvent>;
  subscribeToAll(opts: SubscribeToAllOptions): Subscription;
  subscribeToStream(stream: string, opts: SubscribeToStreamOptions): Subscription;
  /** Soft delete: the stream reads as not found; its events stay in `$all`. Appending again recreates it. */
  deleteStream(stream: string, opts?: { expectedRevision?: ExpectedRevision }): Promise<{ position: Position | null }>;
  /** The stream's last revision, or 'no_stream' when it does not exist (or was deleted). */
  streamRevision(stream: string): Promise<bigint | 'no_stream'>;
  /** The position of the last event in `$all`, or null for an empty store. */
  headPosition(): Promise<Position | null>;
  close(): Promise<void>;
}

export const comparePositions = (a: Position, b: Position): number =>
  a.commit < b.commit ? -1 : a.commit > b.commit ? 1 : a.prepare < b.prepare ? -1 : a.prepare > b.prepare ? 1 : 0;

export const positionToString = (p: Position): string => `${p.commit}/${p.prepare}`;

export const parsePosition = (s: string): Position => {
  const m = /^(\d{1,20})(?:\/(\d{1,20}))?$/.exec(s);
  if (!m) throw new TypeError(`not a position: ${s}`);
  const commit = BigInt(m[1] as string);
  return { commit, prepare: m[2] === undefined ? commit : BigInt(m[2]) };
};

/**
 * appendToStreams made of appendToStream calls, all issued at once: for a store (or a decorator) with nothing to
 * share between the appends of one call.
 */
export const appendEach = (store: EventStore, appends: readonly StreamAppend[]): Promise<AppendOutcome[]> =>
  Promise.all(
    appends.map((a) =>
      store.appendToStream(a.stream, a.events, { expectedRevision: a.expectedRevision }).then(
        (result): AppendOutcome => ({ ok: true, result }),
        (error: unknown): AppendOutcome => ({ ok: false, error }),
      ),
    ),
  );
