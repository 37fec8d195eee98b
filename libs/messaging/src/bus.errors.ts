// Errors of the bus port. `retriable` says whether trying again may succeed: only retriable errors are retried
// (bounded, with backoff). Any error with `retriable === true` counts, so a handler may let the event store's
// `WrongExpectedVersion` or `StoreUnavailable` through and get the same treatment as our own `RetriableError`.

export abstract class MessagingError extends Error {
  abstract readonly retriable: boolean;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** A failure a handler (or an adapter) expects to pass: throw it, with the cause, to have the message retried. */
export class RetriableError extends MessagingError {
  readonly retriable = true;
}

/** The broker could not be reached or answered with a transient error (kafkajs `retriable`). */
export class BusUnavailable extends MessagingError {
  readonly retriable = true;
}

/** A topic that was never declared: publishing to it or subscribing to it is a bug, not something to wait out. */
export class UnknownTopic extends MessagingError {
  readonly retriable = false;
  constructor(
    readonly topic: string,
    options?: { cause?: unknown },
  ) {
    super(`topic "${topic}" is not declared`, options);
  }
}

/** A message arrived on a topic no handler of the subscription knows: dead-lettered, never silently acked. */
export class NoHandlerForTopic extends MessagingError {
  readonly retriable = false;
  constructor(
    readonly topic: string,
    readonly group: string,
  ) {
    super(`no handler for topic "${topic}" in group "${group}"`);
  }
}

/** A call that can never succeed as made (no key, no topics, a closed bus, a bad partition count). */
export class InvalidBusCall extends MessagingError {
  readonly retriable = false;
}

export const isRetriable = (e: unknown): boolean =>
  typeof e === 'object' && e !== null && (e as { retriable?: unknown }).retriable === true;
