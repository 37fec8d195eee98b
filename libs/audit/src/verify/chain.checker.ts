import {
  type EventJsonText,
  type Position,
  type RecordedEvent,
  comparePositions,
  positionToString,
  storedTextOf,
} from '@cx/event-store';
import { HASH, PREV_HASH, eventHash, eventHashFromText } from '../hash-chain';
import type { StreamHead } from '../checkpoint';
import type { Checker, Report } from './checker';

// Per stream: revisions contiguous from 0, `cx.prevHash` equal to the previous event's `cx.hash` (null first), and
// `cx.hash` equal to its recomputation. Memory is O(streams) (one head each) plus a fixed ring of recent events
// that lets the checkpoint checker see the heads as they were at a checkpoint's position.
//
// After a violation the chain continues from the event's stored hash, so one changed event is reported once
// rather than poisoning the rest of its stream.
//
// Not checked here: that event ids are unique per stream. The store's unique index enforces it and the hash
// covers the id, so a duplicate needs a rewritten chain, which checkpoints catch; an exact check would need
// O(events) memory.

const RING = 1 << 16;

export class ChainChecker implements Checker {
  readonly name = 'chain';
  readonly heads = new Map<string, StreamHead>();
  private readonly ringPosition: Array<Position | undefined> = new Array(RING);
  private readonly ringStream: string[] = new Array(RING);
  private readonly ringRevision: bigint[] = new Array(RING);
  private readonly ringPrev: Array<string | null> = new Array(RING);
  private ringNext = 0;
  private ringSize = 0;
  eventsChecked = 0;
  private readonly contentHashes: boolean;

  /**
   * `contentHashes: false` leaves out the check of each event's content against its cx.hash (chain.hash), for a
   * verify that runs it elsewhere (checkContentHash, in the hash pass's worker thread); links, revisions and
   * heads are checked as ever.
   */
  constructor(opts: { contentHashes?: boolean } = {}) {
    this.contentHashes = opts.contentHashes ?? true;
  }

  onEvent(e: RecordedEvent, report: Report): void {
    this.check(e, storedTextOf(e), report);
  }

  /** The checks for one event, given the exact text it was read from (undefined: the values alone). */
  check(e: RecordedEvent, text: EventJsonText | undefined, report: Report): void {
    this.eventsChecked++;
    const head = this.heads.get(e.streamId);
    const expectedRevision = head === undefined ? 0n : head.revision + 1n;
    const expectedPrev = head === undefined ? null : head.hash;
    if (e.revision !== expectedRevision) {
      report({
        check: 'chain.revision',
        ...atOf(e),
        message:
          e.revision > expectedRevision
            ? `revision ${e.revision} follows ${expectedRevision - 1n}: ${e.revision - expectedRevision} event(s) missing or moved`
            : `revision ${e.revision} repeats or goes back (expected ${expectedRevision})`,
      });
    }
    const prev = e.metadata[PREV_HASH];
    if (prev !== expectedPrev) {
      report({
        check: 'chain.prev-hash',
        ...atOf(e),
        message: `cx.prevHash ${describe(prev)} does not match the previous event's hash ${describe(expectedPrev)}`,
      });
    }
    const hash = this.contentHashes ? checkContentHash(e, text, report) : chainedHash(e);
    const i = this.ringNext;
    this.ringPosition[i] = e.position;
    this.ringStream[i] = e.streamId;
    this.ringRevision[i] = e.revision;
    this.ringPrev[i] = typeof prev === 'string' ? prev : null;
    this.ringNext = (i + 1) & (RING - 1);
    if (this.ringSize < RING) this.ringSize++;
    this.heads.set(e.streamId, { revision: e.revision, hash });
  }

  /**
   * The heads as they were right after `position`: every stream head, rolled back past the events seen since.
   * `complete` is false when more events than the ring holds came after `position`.
   */
  headsAsOf(position: Position | null): { heads: Map<string, StreamHead>; complete: boolean } {
    const overrides = new Map<string, StreamHead | null>();
    let complete = true;
    let k = 0;
    for (; k < this.ringSize; k++) {
      const i = (this.ringNext - 1 - k + RING) & (RING - 1);
      const p = this.ringPosition[i] as Position;
      if (position !== null && comparePositions(p, position) <= 0) break;
      const revision = this.ringRevision[i] as bigint;
      const prev = this.ringPrev[i] as string | null;
      // Walking backwards, the last write wins: the earliest event after `position` decides the old head.
      overrides.set(
        this.ringStream[i] as string,
        revision === 0n && prev === null ? null : { revision: revision - 1n, hash: prev },
      );
    }
    if (k === this.ringSize && this.ringSize === RING) complete = false;
    if (overrides.size === 0) return { heads: this.heads, complete };
    const heads = new Map(this.heads);
    for (const [stream, head] of overrides) {
      if (head === null) heads.delete(stream);
      else heads.set(stream, head);
    }
    return { heads, complete };
  }
}

/** Where an event is, for a violation. */
const atOf = (e: RecordedEvent) => ({
  stream: e.streamId,
  revision: e.revision.toString(),
  position: positionToString(e.position),
});

/**
 * Checks an event's content against its cx.hash (chain.hash violations) and returns the hash the next event of its
 * stream must link to: the stored one, or the recomputed one for an event that carries none (null if it cannot be
 * hashed). Hashes the stored text where the store kept it and it matches; otherwise the values, which decide, so
 * `e.data` is read only then (a reader of stored rows may parse it lazily).
 */
export const checkContentHash = (e: RecordedEvent, text: EventJsonText | undefined, report: Report): string | null => {
  const stored = e.metadata[HASH];
  let computed: string | null = null;
  try {
    const where = { stream: e.streamId, revision: e.revision, id: e.id, type: e.type };
    const fromText = text === undefined || typeof stored !== 'string' ? undefined : eventHashFromText(where, text);
    computed =
      fromText !== undefined && fromText === stored
        ? fromText
        : eventHash({ ...where, data: e.data, metadata: e.metadata });
  } catch (err) {
    report({ check: 'chain.hash', ...atOf(e), message: `cannot hash the event: ${(err as Error).message}` });
  }
  if (typeof stored !== 'string') {
    report({
      check: 'chain.hash',
      ...atOf(e),
      message: 'the event carries no cx.hash (written without the audit chain)',
    });
    return computed;
  }
  if (computed !== null && computed !== stored) {
    report({
      check: 'chain.hash',
      ...atOf(e),
      message: `content does not match cx.hash: stored ${stored.slice(0, 16)}…, recomputed ${computed.slice(0, 16)}…`,
    });
  }
  return stored;
};

/** The hash the next event of the stream links to, without checking the content (see checkContentHash). */
const chainedHash = (e: RecordedEvent): string | null => {
  const stored = e.metadata[HASH];
  if (typeof stored === 'string') return stored;
  try {
    return eventHash({
      stream: e.streamId,
      revision: e.revision,
      id: e.id,
      type: e.type,
      data: e.data,
      metadata: e.metadata,
    });
  } catch {
    return null;
  }
};

const describe = (v: unknown): string =>
  v === undefined ? 'missing' : v === null ? 'null' : typeof v === 'string' ? `${v.slice(0, 16)}…` : 'malformed';
