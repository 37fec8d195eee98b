import { randomUUID } from 'node:crypto';
import {
  BACKWARDS,
  END,
  EventStoreDBClient,
  eventTypeFilter,
  excludeSystemEvents,
  FORWARDS,
  jsonEvent,
  START,
  streamNameFilter,
  type AllStreamResolvedEvent,
  type Filter,
  type JSONType,
  type ReadableSubscription,
  type RecordedEvent as EsdbRecordedEvent,
  type ResolvedEvent,
  type StreamingRead,
} from '@eventstore/db-client';
import { StreamNotFound, WrongExpectedVersion } from '../event-store.errors';
import {
  appendEach,
  comparePositions,
  type AppendOutcome,
  type AppendResult,
  type EventFilter,
  type EventMetadata,
  type EventStore,
  type ExpectedRevision,
  type NewEvent,
  type Position,
  type ReadAllOptions,
  type ReadStreamOptions,
  type RecordedEvent,
  type StreamAppend,
  type SubscribeToAllOptions,
  type SubscribeToStreamOptions,
  type Subscription,
} from '../event-store.port';
import { validateAppend, validateExpectedRevision, validateStreamName } from '../validate-append';
import { translateEsdbError, type EsdbErrorContext } from './esdb-errors';

// The EventStore port on EventStoreDB, through @eventstore/db-client v6 (gRPC). The port mirrors EventStoreDB, so
// most calls map one to one; where EventStoreDB differs from the port, the port wins and the choice is explained
// where it is made:
// - $all holds system events and system streams ('$' prefix). readAll and subscribeToAll drop them, so $all here
//   looks like the SQLite store's: only the events written through the port.
// - readAll filters on the client: the v6 client sends no filter on reads of $all (only on subscriptions).
// - deleteStream returns { position: null } for a stream that does not exist (EventStoreDB answers a wrong
//   expected version), and checks 'stream_exists' and 'no_stream' itself (EventStoreDB refuses both on delete).
// - Appending with 'stream_exists' to a soft-deleted stream is a WrongExpectedVersion (EventStoreDB: StreamDeleted).
// Every call asks for the leader and passes resolveLinkTos explicitly: the port promises read-your-writes, which
// only the leader gives, and links are projections' business, not ours.

/** Server-side limit of a read when the caller gives none (the client's own default). */
const UNBOUNDED = BigInt(Number.MAX_SAFE_INTEGER);

export class EsdbEventStore implements EventStore {
  private readonly subscriptions = new Set<Subscription>();
  private closing: Promise<void> | undefined;

  constructor(private readonly client: EventStoreDBClient) {}

  /** e.g. `esdb://localhost:2113?tls=false`; client settings (deadlines, keep-alive, TLS) travel in the string. */
  static fromConnectionString(cs: string): EsdbEventStore {
    return new EsdbEventStore(EventStoreDBClient.connectionString(cs));
  }

  /** The client has no call for several streams at once; the appends are pipelined over its one connection. */
  appendToStreams(appends: readonly StreamAppend[]): Promise<AppendOutcome[]> {
    return appendEach(this, appends);
  }

  async appendToStream(
    stream: string,
    events: NewEvent | NewEvent[],
    opts: { expectedRevision?: ExpectedRevision } = {},
  ): Promise<AppendResult> {
    // Validate everything before the server sees anything, so a malformed batch writes nothing.
    validateAppend(stream, events, opts.expectedRevision);
    const expectedRevision = opts.expectedRevision ?? 'any';
    const batch = (Array.isArray(events) ? events : [events]).map((e) =>
      jsonEvent({
        // Lower case, because EventStoreDB hands ids back in lower case and idempotency compares them as GUIDs.
        id: (e.id ?? randomUUID()).toLowerCase(),
        type: e.type,
        // The client JSON.stringifies data; its JSONType omits numbers, booleans and null, which are valid JSON too.
        data: e.data as JSONType,
        metadata: e.metadata,
      }),
    );
    const context: EsdbErrorContext = { operation: 'append', stream, expectedRevision };

    let result;
    try {
      // The port's ExpectedRevision is the client's AppendExpectedRevision: the same constants and bigint.
      result = await this.client.appendToStream(stream, batch, { expectedRevision, requiresLeader: true });
    } catch (e) {
      throw translateEsdbError(e, context);
    }
    if (!result.success) {
      // Only when the connection string sets throwOnAppendFailure=false. The client's nextExpectedRevision is
      // wrong on that path (batchAppend reports BigInt(true)), so ask the stream for its actual revision.
      throw new WrongExpectedVersion(stream, expectedRevision, await this.streamRevision(stream));
    }
    const position = result.position ?? (await this.positionOfRevision(stream, result.nextExpectedRevision));
    return { nextExpectedRevision: result.nextExpectedRevision, position };
  }

  async *readStream(stream: string, opts: ReadStreamOptions = {}): AsyncGenerator<RecordedEvent> {
    const direction = opts.direction ?? 'forwards';
    const maxCount = checkedMaxCount(opts.maxCount);
    if (maxCount === 0n) return;
    const read = this.client.readStream(stream, {
      direction: direction === 'forwards' ? FORWARDS : BACKWARDS,
      // The client defaults to START whatever the direction; the port reads backwards from the end by default.
      fromRevision: opts.fromRevision ?? (direction === 'forwards' ? START : END),
      maxCount: maxCount ?? UNBOUNDED,
      resolveLinkTos: false,
      requiresLeader: true,
    });
    // A missing or soft-deleted stream ends the read with StreamNotFoundError, which becomes StreamNotFound.
    for await (const raw of drain(read, { operation: 'read', stream })) {
      if (raw.event) yield toRecorded(raw.event);
    }
  }

  async *readAll(opts: ReadAllOptions = {}): AsyncGenerator<RecordedEvent> {
    const direction = opts.direction ?? 'forwards';
    const from = opts.fromPosition ?? (direction === 'forwards' ? 'start' : 'end');
    const limit = checkedMaxCount(opts.maxCount);
    if (limit === 0n) return;
    const keep = matcher(opts.filter);
    let count = 0n;

    if (direction === 'backwards' && typeof from === 'object') {
      // The port's fromPosition is inclusive both ways. Reading $all forwards from a position starts at the event
      // there (the TCP client's catch-up read from a position and skipped that event itself), but a backward read
      // from a position starts before it, so fetch the event at the position first.
      for await (const raw of this.rawAll(FORWARDS, from, 1n)) {
        if (comparePositions(raw.position, from) === 0 && keep(raw)) {
          yield toRecorded(raw);
          count++;
        }
      }
      if (limit !== undefined && count >= limit) return;
    }

    for await (const raw of this.rawAll(direction === 'forwards' ? FORWARDS : BACKWARDS, from, UNBOUNDED)) {
      if (typeof from === 'object') {
        // Whatever the server's edge semantics, never yield an event on the wrong side of the start or twice.
        const c = comparePositions(raw.position, from);
        if (direction === 'forwards' ? c < 0 : c >= 0) continue;
      }
      if (!keep(raw)) continue;
      yield toRecorded(raw);
      count++;
      // Counting here, not on the server, because the server counts the system events this adapter drops.
      if (limit !== undefined && count >= limit) return;
    }
  }

  subscribeToAll(opts: SubscribeToAllOptions): Subscription {
    const keep = matcher(opts.filter);
    const inner = this.client.subscribeToAll({
      // EventStoreDB catch-up subscriptions start strictly after a given position, as the port says.
      fromPosition: opts.fromPosition,
      filter: serverFilter(opts.filter),
      resolveLinkTos: false,
      requiresLeader: true,
    });
    return this.track(
      new EsdbSubscription<AllStreamResolvedEvent>(
        inner,
        (r) => (r.event && keep(r.event) ? toRecorded(r.event) : undefined),
        { operation: 'subscribe' },
        (s) => this.subscriptions.delete(s),
      ),
    );
  }

  subscribeToStream(stream: string, opts: SubscribeToStreamOptions): Subscription {
    const inner = this.client.subscribeToStream(stream, {
      // Strictly after a given revision, as the port says.
      fromRevision: opts.fromRevision,
      resolveLinkTos: false,
      requiresLeader: true,
    });
    return this.track(
      new EsdbSubscription<ResolvedEvent>(
        inner,
        (r) => (r.event ? toRecorded(r.event) : undefined),
        { operation: 'subscribe', stream },
        (s) => this.subscriptions.delete(s),
      ),
    );
  }

  async deleteStream(
    stream: string,
    opts: { expectedRevision?: ExpectedRevision } = {},
  ): Promise<{ position: Position | null }> {
    validateStreamName(stream);
    validateExpectedRevision(opts.expectedRevision);
    const expectedRevision = opts.expectedRevision ?? 'any';
    const context: EsdbErrorContext = { operation: 'delete', stream, expectedRevision };

    // EventStoreDB refuses to soft-delete a stream that does not exist even with ANY, refuses NO_STREAM always,
    // and refused STREAM_EXISTS on existing streams (kurrent-io/KurrentDB#4637, #3151, client PR #211). The port
    // says what these mean, so look at the stream first and hand the server an exact revision wherever there is
    // one: the server still checks it, so a concurrent append between the look and the delete is still caught.
    const current = await this.streamRevision(stream);
    let esdbExpected: 'any' | bigint;
    if (expectedRevision === 'any') {
      if (current === 'no_stream') return { position: null };
      esdbExpected = 'any';
    } else if (expectedRevision === 'no_stream') {
      if (current === 'no_stream') return { position: null };
      throw new WrongExpectedVersion(stream, expectedRevision, current);
    } else if (current === 'no_stream') {
      throw new WrongExpectedVersion(stream, expectedRevision, current);
    } else if (expectedRevision === 'stream_exists') {
      esdbExpected = current;
    } else if (expectedRevision !== current) {
      throw new WrongExpectedVersion(stream, expectedRevision, current);
    } else {
      esdbExpected = expectedRevision;
    }

    try {
      const result = await this.client.deleteStream(stream, { expectedRevision: esdbExpected, requiresLeader: true });
      return { position: result.position ?? null };
    } catch (e) {
      const err = translateEsdbError(e, context);
      // With ANY, a stream deleted by someone else between the look and the delete is simply already deleted.
      if (expectedRevision === 'any' && err instanceof WrongExpectedVersion && err.actual === 'no_stream') {
        return { position: null };
      }
      throw err;
    }
  }

  async streamRevision(stream: string): Promise<bigint | 'no_stream'> {
    const read = this.client.readStream(stream, {
      direction: BACKWARDS,
      fromRevision: END,
      maxCount: 1n,
      resolveLinkTos: false,
      requiresLeader: true,
    });
    try {
      for await (const raw of drain(read, { operation: 'revision', stream })) {
        // The link's own revision if it is one, so that an unresolved link still counts.
        const revision = raw.link?.revision ?? raw.event?.revision;
        if (revision !== undefined) return revision;
      }
      return 'no_stream';
    } catch (e) {
      // Soft-deleted and tombstoned streams both read as not found, which the port calls 'no_stream'.
      if (e instanceof StreamNotFound) return 'no_stream';
      throw e;
    }
  }

  async headPosition(): Promise<Position | null> {
    // The last event written through the port; system events at the head of $all are not ours to report.
    for await (const raw of this.rawAll(BACKWARDS, 'end', UNBOUNDED)) {
      if (!isSystem(raw)) return raw.position;
    }
    return null;
  }

  async close(): Promise<void> {
    // Idempotent, because a test's cleanup may close a store the test already closed.
    this.closing ??= (async () => {
      await Promise.all([...this.subscriptions].map((s) => s.unsubscribe()));
      await this.client.dispose();
    })();
    return this.closing;
  }

  /** Events of $all, unfiltered, with the link-less shape every $all event has. */
  private async *rawAll(
    direction: typeof FORWARDS | typeof BACKWARDS,
    fromPosition: Position | 'start' | 'end',
    maxCount: bigint,
  ): AsyncGenerator<EsdbRecordedEvent & { position: Position }> {
    const read = this.client.readAll({
      direction,
      fromPosition,
      maxCount,
      resolveLinkTos: false,
      requiresLeader: true,
    });
    for await (const raw of drain(read, { operation: 'readAll' })) {
      if (raw.event) yield raw.event;
    }
  }

  /** Where an append landed when the server did not say (an idempotent re-append on some server versions). */
  private async positionOfRevision(stream: string, revision: bigint): Promise<Position> {
    for await (const e of this.readStream(stream, { direction: 'forwards', fromRevision: revision, maxCount: 1n })) {
      if (e.revision === revision) return e.position;
    }
    throw new Error(
      `EventStoreDB acknowledged the append to "${stream}" at revision ${revision} but reported no position for it`,
    );
  }

  private track(s: Subscription): Subscription {
    this.subscriptions.add(s);
    return s;
  }
}

/**
 * A catch-up subscription of the client, seen through the port. The client's subscription is a Node stream that
 * emits 'error' whether or not anyone iterates yet; the listener added here keeps such an error for the iterator
 * (an unheard 'error' event would crash the process) and ends the stream so that the iterator does not wait forever.
 */
class EsdbSubscription<R> implements Subscription {
  private closed = false;
  private failure: unknown;

  constructor(
    private readonly inner: ReadableSubscription<R>,
    private readonly map: (r: R) => RecordedEvent | undefined,
    private readonly context: EsdbErrorContext,
    private readonly onClose: (s: Subscription) => void,
  ) {
    inner.on('error', (err: Error) => {
      if (this.failure !== undefined || this.closed) return;
      this.failure = err;
      inner.destroy(err);
    });
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<RecordedEvent> {
    try {
      for await (const raw of this.inner) {
        if (this.closed) return;
        const event = this.map(raw as R);
        if (event) yield event;
      }
      if (this.failure !== undefined && !this.closed) throw this.failure;
    } catch (e) {
      // After unsubscribe() the stream is destroyed on purpose; that ends the iteration, it is not a failure.
      if (this.closed) return;
      throw translateEsdbError(this.failure ?? e, this.context);
    } finally {
      // A consumer that stops iterating (break, return, throw) is done with the subscription.
      if (!this.closed) await this.unsubscribe();
    }
  }

  async unsubscribe(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.onClose(this);
    await this.inner.unsubscribe();
    // The client cancels the gRPC call but does not end its stream, so a waiting `for await` would never return.
    this.inner.destroy();
  }
}

/** Iterates a client read, translating its errors and cancelling the gRPC call if the consumer stops early. */
async function* drain<R>(read: StreamingRead<R>, context: EsdbErrorContext): AsyncGenerator<R> {
  let finished = false;
  try {
    for await (const raw of read) yield raw;
    finished = true;
  } catch (e) {
    finished = true;
    throw translateEsdbError(e, context);
  } finally {
    if (!finished) await read.cancel();
  }
}

const checkedMaxCount = (maxCount: number | bigint | undefined): bigint | undefined => {
  if (maxCount === undefined) return undefined;
  if (typeof maxCount === 'number' && !Number.isSafeInteger(maxCount)) {
    throw new RangeError(`maxCount must be a whole number, not ${maxCount}`);
  }
  const n = BigInt(maxCount);
  if (n < 0n) throw new RangeError(`maxCount must not be negative, not ${maxCount}`);
  return n;
};

/** System streams and system events (links '$>', '$metadata', '$streamDeleted', statistics...) start with '$'. */
const isSystem = (e: { streamId: string; type: string }): boolean =>
  e.streamId.startsWith('$') || e.type.startsWith('$');

const matcher =
  (filter: EventFilter | undefined) =>
  (e: { streamId: string; type: string }): boolean => {
    if (isSystem(e)) return false;
    if (!filter) return true;
    return 'streamNamePrefixes' in filter
      ? filter.streamNamePrefixes.some((p) => e.streamId.startsWith(p))
      : filter.eventTypePrefixes.some((p) => e.type.startsWith(p));
  };

/**
 * The server-side filter of a subscription, so that the server does not send what we drop. A subscription takes
 * one filter, so a prefix filter stands alone and `matcher` still drops system events on our side. An empty prefix
 * list matches nothing in the port; the server is only told to skip system events and `matcher` drops the rest.
 */
const serverFilter = (filter: EventFilter | undefined): Filter => {
  if (filter && 'streamNamePrefixes' in filter && filter.streamNamePrefixes.length > 0) {
    return streamNameFilter({ prefixes: filter.streamNamePrefixes });
  }
  if (filter && 'eventTypePrefixes' in filter && filter.eventTypePrefixes.length > 0) {
    return eventTypeFilter({ prefixes: filter.eventTypePrefixes });
  }
  return excludeSystemEvents();
};

const toRecorded = (e: EsdbRecordedEvent): RecordedEvent => {
  if (!e.position) {
    // Servers before 22.6 do not send positions on stream reads; the port promises one on every event.
    throw new Error(
      `EventStoreDB sent event ${e.id} of "${e.streamId}" without a position; this adapter needs EventStoreDB 22.6 or later`,
    );
  }
  return {
    id: e.id,
    streamId: e.streamId,
    revision: e.revision,
    type: e.type,
    // JSON events arrive parsed; an event written as binary by someone else arrives as its bytes.
    data: e.data,
    metadata: toMetadata(e.metadata),
    created: e.created,
    position: { commit: e.position.commit, prepare: e.position.prepare },
  };
};

/**
 * This adapter always writes metadata as a JSON object, or none. None reads as {}; metadata that someone else
 * wrote as something other than a JSON object cannot be an EventMetadata, so it is kept under `$raw` rather than lost.
 */
const toMetadata = (m: unknown): EventMetadata => {
  if (m === undefined || m === null) return {};
  if (typeof m === 'object' && !Array.isArray(m) && !(m instanceof Uint8Array)) return m as EventMetadata;
  return { $raw: m };
};
