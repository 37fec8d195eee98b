import {
  CancelledError,
  convertToCommandError,
  DeadlineExceededError,
  NoStreamError,
  NotLeaderError,
  StreamDeletedError,
  StreamNotFoundError,
  TimeoutError,
  UnavailableError,
  WrongExpectedVersionError,
} from '@eventstore/db-client';
import { EventStoreError, StoreUnavailable, StreamNotFound, WrongExpectedVersion } from '../event-store.errors';
import type { ExpectedRevision } from '../event-store.port';

// Translation of @eventstore/db-client (v6) errors into the port's errors. Every translated error keeps the
// client's error as `cause`; anything not listed here is returned unchanged, so a bug (a TypeError, an access
// denied by ACLs, an UnknownError from the server) is never mistaken for something worth retrying.

export interface EsdbErrorContext {
  operation: 'append' | 'read' | 'readAll' | 'subscribe' | 'delete' | 'revision' | 'head';
  stream?: string;
  /** What the caller asked for. Preferred over the client's copy, which it rebuilds lossily from the server's reply. */
  expectedRevision?: ExpectedRevision;
}

/** Thrown by the client's discovery loop when no node answered; it is a plain Error, recognised by its message. */
const DISCOVERY_FAILED = /^Failed to discover after \d+ attempts/;

/** Returns the port's error for `e`, or `e` itself when it has no translation. Callers throw what it returns. */
export const translateEsdbError = (e: unknown, context: EsdbErrorContext): unknown => {
  if (e instanceof EventStoreError) return e;
  // Raw gRPC ServiceErrors can escape the client on some paths; the client's own converter classifies them.
  const err = e instanceof Error ? classify(e) : e;
  const stream = streamOf(err) || context.stream || '';

  if (err instanceof WrongExpectedVersionError) {
    const expected = context.expectedRevision ?? expectedFromClient(err.expectedVersion);
    return new WrongExpectedVersion(stream, expected, actualFromClient(err.actualVersion), { cause: e });
  }
  if (err instanceof StreamNotFoundError || err instanceof NoStreamError) {
    return new StreamNotFound(stream, { cause: e });
  }
  if (err instanceof StreamDeletedError) {
    // EventStoreDB answers StreamDeleted in two cases. Appending with 'stream_exists' to a SOFT-deleted stream:
    // the port says a deleted stream does not exist, so that is a wrong expected version (actual 'no_stream'),
    // like on SQLite. Anything on a TOMBSTONED (hard-deleted) stream: it can never be written or read again,
    // so it is StreamNotFound, which is not retriable. The port has no hard delete, so a tombstone can only come
    // from outside this adapter; a distinct StreamTombstoned error would need a change to event-store.errors.ts.
    if (context.operation === 'append' && context.expectedRevision === 'stream_exists') {
      return new WrongExpectedVersion(stream, 'stream_exists', 'no_stream', { cause: e });
    }
    return new StreamNotFound(stream, { cause: e });
  }
  if (
    err instanceof UnavailableError ||
    err instanceof NotLeaderError ||
    err instanceof DeadlineExceededError ||
    err instanceof TimeoutError ||
    err instanceof CancelledError
  ) {
    // NotLeader: the client rediscovers the leader on this error, so the same call succeeds on retry.
    // Timeout (gRPC ABORTED) is the server's own commit/prepare timeout: the write may or may not have happened,
    // which a retry with the same event ids and expected revision resolves idempotently.
    // Cancelled here is a cancellation by the server (a node shutting down); our own cancellations are swallowed
    // by the client and never surface.
    return new StoreUnavailable(
      `EventStoreDB ${context.operation}${where(stream)} failed: ${describeClientError(err)}`,
      {
        cause: e,
      },
    );
  }
  if (err instanceof Error && DISCOVERY_FAILED.test(err.message)) {
    return new StoreUnavailable(`EventStoreDB ${context.operation}${where(stream)} failed: ${err.message}`, {
      cause: e,
    });
  }
  return e;
};

const classify = (e: Error): unknown => {
  try {
    return convertToCommandError(e);
  } catch {
    // The converter assumes a full ServiceError (it reads `details`); an error that only looks like one is left as is.
    return e;
  }
};

/**
 * The client reports the expected version either as the constant it was given or, on the ServiceError path, as
 * the server's raw number: -1 no stream, -2 any, -4 stream exists (EventStore.Core ExpectedVersion).
 */
const expectedFromClient = (v: unknown): ExpectedRevision => {
  if (typeof v === 'bigint') {
    if (v >= 0n) return v;
    if (v === -1n) return 'no_stream';
    if (v === -4n) return 'stream_exists';
    return 'any';
  }
  if (v === 'no_stream' || v === 'stream_exists' || v === 'any') return v;
  return 'any';
};

/** The client's actual version is a bigint revision or 'no_stream'; a negative number also means no stream. */
const actualFromClient = (v: unknown): bigint | 'no_stream' => (typeof v === 'bigint' && v >= 0n ? v : 'no_stream');

const streamOf = (err: unknown): string =>
  typeof err === 'object' && err !== null && typeof (err as { streamName?: unknown }).streamName === 'string'
    ? (err as { streamName: string }).streamName
    : '';

const where = (stream: string): string => (stream ? ` on stream "${stream}"` : '');

const describeClientError = (err: Error): string => {
  const type = (err as { type?: unknown }).type;
  return `${typeof type === 'string' ? type : err.name}${err.message ? `: ${err.message}` : ''}`;
};
