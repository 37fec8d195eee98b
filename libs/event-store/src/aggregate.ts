import { StreamNotFound, WrongExpectedVersion } from './event-store.errors';
import type { EventMetadata, EventStore, ExpectedRevision, NewEvent } from './event-store.port';

// Helpers every command handler uses (STYLE.md, "Ports and adapters"): load a cold aggregate, decide, append at
// the revision read; retry a lost race a bounded number of times.

/** Who asked and in answer to what (DESIGN.md, "How an event travels"). */
export interface CommandMetadata {
  correlationId: string;
  causationId: string;
  actor: NonNullable<EventMetadata['actor']>;
}

export interface Loaded<S> {
  state: S;
  /** The revision to append at: exactly what was read, so a concurrent writer makes our append fail. */
  revision: ExpectedRevision;
}

/** A cold aggregate: fold its stream. A stream that does not exist is the aggregate's initial state. */
export const load = async <S, E>(
  store: EventStore,
  stream: string,
  evolve: (state: S, event: E) => S,
  initial: S,
  isEvent: (type: string) => boolean,
): Promise<Loaded<S>> => {
  let state = initial;
  let revision: ExpectedRevision = 'no_stream';
  try {
    for await (const recorded of store.readStream(stream)) {
      revision = recorded.revision;
      // Types this version does not know (added later) are skipped, not fatal, so old code reads new streams.
      if (isEvent(recorded.type)) state = evolve(state, { type: recorded.type, data: recorded.data } as E);
    }
  } catch (e) {
    if (!(e instanceof StreamNotFound)) throw e;
  }
  return { state, revision };
};

export const toNewEvents = (events: readonly { type: string; data: unknown }[], meta: CommandMetadata): NewEvent[] =>
  events.map((e) => ({
    type: e.type,
    data: e.data,
    metadata: { correlationId: meta.correlationId, causationId: meta.causationId, actor: meta.actor },
  }));

// A race with another writer is retried from a fresh load: the second decision sees the first writer's events
// and either succeeds or refuses for a business reason. Bounded, because a stream that keeps moving under us
// means something is wrong and the caller should hear about it.
const MAX_ATTEMPTS = 3;

export const withConcurrencyRetry = async <T>(attempt: () => Promise<T>): Promise<T> => {
  for (let i = 1; ; i += 1) {
    try {
      return await attempt();
    } catch (e) {
      if (!(e instanceof WrongExpectedVersion) || i >= MAX_ATTEMPTS) throw e;
    }
  }
};
