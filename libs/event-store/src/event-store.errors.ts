import type { ExpectedRevision } from './event-store.port';

// Errors of the event store port. Adapters translate their SDK's errors into these and keep the cause.
// `retriable` says whether trying the same call again may succeed; only retriable errors are retried.

export abstract class EventStoreError extends Error {
  abstract readonly retriable: boolean;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/**
 * The stream was not at the expected revision. Retriable: reload, decide again, append again.
 * Also what a batch whose event ids were only partly written before gets, as in EventStoreDB
 * (its "corrupted idempotency" outcome surfaces as a wrong expected version).
 */
export class WrongExpectedVersion extends EventStoreError {
  readonly retriable = true;
  constructor(
    readonly stream: string,
    readonly expected: ExpectedRevision,
    readonly actual: bigint | 'no_stream',
    options?: { cause?: unknown },
  ) {
    super(`stream "${stream}": expected revision ${String(expected)}, actual ${String(actual)}`, options);
  }
}

export class StreamNotFound extends EventStoreError {
  readonly retriable = false;
  constructor(
    readonly stream: string,
    options?: { cause?: unknown },
  ) {
    super(`stream "${stream}" not found`, options);
  }
}

/** The call itself was malformed (empty stream name, data that is not JSON, a revision of the wrong type). */
export class InvalidAppend extends EventStoreError {
  readonly retriable = false;
  constructor(
    message: string,
    readonly field: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** The store could not be reached or failed transiently (a busy database, a dropped connection). */
export class StoreUnavailable extends EventStoreError {
  readonly retriable = true;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

export const isRetriable = (e: unknown): boolean => e instanceof EventStoreError && e.retriable;
