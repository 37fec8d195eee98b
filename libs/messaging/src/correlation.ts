import { AsyncLocalStorage } from 'node:async_hooks';
import type { DeliveredMessage } from './bus.port';
import { relaySourceOf } from './relay/relay-headers';

// The causal context of the work in hand (DESIGN.md: every event's metadata carries `correlationId` and
// `causationId`). An HTTP request opens one with its `x-correlation-id`; a consumer handling a relayed message
// opens one with the message's correlation id and, as the cause, the id of the event it was relayed from. The
// store decorator (libs/platform) stamps events appended inside it that name neither, and the logger adds it to
// every line. It lives here, below platform, because the bus adapters are where a consumer's context begins.

export interface Correlation {
  correlationId: string;
  /** The event (or request) that caused the work: a request is its own cause. */
  causationId: string;
}

const storage = new AsyncLocalStorage<Correlation>();

/** The context of the current request or delivered message, if any. */
export const currentCorrelation = (): Correlation | undefined => storage.getStore();

/** Runs `fn` inside `correlation`: everything it starts (promises, timers) sees it. */
export const withCorrelation = <T>(correlation: Correlation, fn: () => T): T => storage.run(correlation, fn);

/**
 * Runs a handler for `messages` in the context of the message it handles: one message (or a batch whose messages
 * share one cause) opens that message's context; a mixed batch, or a message from outside the relay, runs in no
 * context at all, never in one it inherited from whatever started the consumer.
 */
export const inContextOf = <T>(messages: ReadonlyArray<Pick<DeliveredMessage, 'headers'>>, fn: () => T): T => {
  const first = messages[0] === undefined ? undefined : correlationOfMessage(messages[0]);
  const shared =
    first !== undefined &&
    messages.every((m, i) => {
      if (i === 0) return true;
      const c = correlationOfMessage(m);
      return c?.causationId === first.causationId;
    });
  return shared ? storage.run(first, fn) : storage.exit(fn);
};

/**
 * The context a relayed message opens for its handler: the correlation id it was recorded with (the event's own
 * id when it was recorded without a request), caused by that event. Undefined for a message without the relay's
 * header (one published by hand, e.g. an integrator's usage submission).
 */
export const correlationOfMessage = (message: Pick<DeliveredMessage, 'headers'>): Correlation | undefined => {
  const source = relaySourceOf(message.headers);
  if (source === undefined) return undefined;
  return { correlationId: source.correlationId ?? source.eventId, causationId: source.eventId };
};
