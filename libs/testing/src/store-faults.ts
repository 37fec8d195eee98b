import type { EventStore } from '@cx/event-store';

/**
 * A real store with some of its operations replaced, for fault injection (a write that hangs, fails or lands but
 * answers an error): every operation not given in `faults` goes to `inner` as it is.
 */
export const withStoreFaults = (inner: EventStore, faults: Partial<EventStore>): EventStore => ({
  appendToStream: (s, e, o) => inner.appendToStream(s, e, o),
  appendToStreams: (a) => inner.appendToStreams(a),
  readStream: (s, o) => inner.readStream(s, o),
  readAll: (o) => inner.readAll(o),
  subscribeToAll: (o) => inner.subscribeToAll(o),
  subscribeToStream: (s, o) => inner.subscribeToStream(s, o),
  deleteStream: (s, o) => inner.deleteStream(s, o),
  streamRevision: (s) => inner.streamRevision(s),
  headPosition: () => inner.headPosition(),
  close: () => inner.close(),
  ...faults,
});
