import { randomUUID } from 'node:crypto';
import {
  type AppendOutcome,
  type AppendResult,
  type EventStore,
  type ExpectedRevision,
  type NewEvent,
  type Position,
  type ReadAllOptions,
  type ReadStreamOptions,
  type RecordedEvent,
  type StreamAppend,
  StreamNotFound,
  type SubscribeToAllOptions,
  type SubscribeToStreamOptions,
  type Subscription,
  WrongExpectedVersion,
  attachJsonText,
  comparePositions,
} from '@cx/event-store';
// validateAppend is the adapters' shared validation; until @cx/event-store exports it, it is imported by path.
import { validateAppend, validateExpectedRevision, validateStreamName } from '@cx/event-store';
import { HASH, type ChainedEvent, chainBatch, type MetadataMemo, type UnchainedEvent } from './hash-chain';

// A decorator that puts every event any service appends on its stream's hash chain (hash-chain.ts), so no writer
// can forget. Reads pass through untouched.
//
// Appends always reach the store at an exact expected revision, read together with the hash of the event at that
// revision, so two writers can never both extend the same head: the store accepts one and refuses the other.
// - exact revision R (the caller's): the previous hash is the hash of the event at R; a conflict is the caller's
//   to handle and is passed on as it is. A re-sent batch with the same ids at the same R is still acknowledged by
//   the store, which compares ids only: when the re-sent content differs (a fresh timestamp), the stored events
//   carry the original content's hashes, not the ones computed for the re-sent batch (see write()).
// - 'any' / 'stream_exists': translated into the revision just read; on WrongExpectedVersion (another process
//   wrote first) read again and retry, a bounded number of times. Within one process such appends to one stream
//   are queued behind each other, so retries only happen across processes.
// - 'no_stream': translated into the exact last revision of a soft-deleted stream (recreation continues its chain)
//   or passed as 'no_stream' for a stream never written.
// One consequence: the store's best-effort id cache under 'any' (a batch whose first id is already in the stream
// is acknowledged) does not apply through this decorator; DESIGN.md forbids relying on it anyway.
//
// Soft delete: a deleted stream reads as not found, so the hash of its last event can no longer be read through
// the port. Before deleting, the decorator names the stream in `audit-deletions` and records that head in
// `audit-deleted-<stream>` (both chained); a later recreation continues the chain from it. The delete then runs at
// the exact revision recorded. `audit-deletions` lets a batch of claims (appendToStreams) learn which of its streams
// were ever deleted with one lookup per call instead of one per stream. A store whose streams were deleted through a
// version without it (none: nothing in cx deletes streams) would need its markers named there to keep that
// shortcut exact; appendToStream's own path looks each marker up and is unaffected.

export const DELETED_HEAD_STREAM_PREFIX = 'audit-deleted-';
export const STREAM_HEAD_RECORDED = 'AuditStreamHeadRecorded';
export const deletedHeadStream = (stream: string): string => `${DELETED_HEAD_STREAM_PREFIX}${stream}`;
/** Names every stream deleted through this decorator, in the order the deletes began. */
export const DELETIONS_STREAM = 'audit-deletions';
export const STREAM_DELETION_BEGUN = 'AuditStreamDeletionBegun';

export interface ChainedEventStoreOptions {
  /** Attempts of an 'any' / 'stream_exists' append against other processes' concurrent writes. */
  maxAttempts?: number;
  /** Stream heads remembered (revision and hash), so a hot stream's appends need no extra read. */
  headCacheSize?: number;
}

interface Batch {
  events: UnchainedEvent[];
  /** Every id came from the caller, so the store may acknowledge the batch as a re-send without writing it. */
  resendable: boolean;
}

interface Head {
  revision: bigint;
  hash: string | null;
}

/** The chained events as the inner store takes them: with the texts that were hashed, so it stores them as they are. */
const toNewEvents = (events: ChainedEvent[]): NewEvent[] =>
  events.map((e) => attachJsonText({ id: e.id, type: e.type, data: e.data, metadata: e.metadata }, e.text));

/** An event as chainBatch takes it, with its id fixed before hashing (the hash covers it; stores hand ids back in lower case). */
const unchained = (e: NewEvent, id: string): UnchainedEvent => ({
  id: id.toLowerCase(),
  type: e.type,
  data: e.data,
  metadata: e.metadata ?? {},
});

export class ChainedEventStore implements EventStore {
  private readonly maxAttempts: number;
  /** stream → the hash of the event at `revision`. Events never change, so an entry never goes stale. */
  private readonly heads: HeadCache;
  /** Per-stream queue of translated appends and deletes in this process. */
  private readonly queues = new Map<string, Promise<unknown>>();
  /** The latest position an append through this instance landed at (or was acknowledged at). */
  private highWater: Position | null = null;
  /** Streams whose last append failed in a way that may still have written it (not a wrong expected version). */
  private readonly uncertain = new Set<string>();
  /** The streams DELETIONS_STREAM names, as far as this instance has read it (only ever grows). */
  private readonly deletions: { revision: bigint | 'no_stream'; streams: Set<string> } = {
    revision: 'no_stream',
    streams: new Set(),
  };

  constructor(
    readonly inner: EventStore,
    options: ChainedEventStoreOptions = {},
  ) {
    this.maxAttempts = options.maxAttempts ?? 10;
    this.heads = new HeadCache(options.headCacheSize ?? 10_000);
    if (!Number.isInteger(this.maxAttempts) || this.maxAttempts < 1) throw new TypeError('maxAttempts must be >= 1');
  }

  // ---------------------------------------------------------------- writes

  async appendToStream(
    stream: string,
    events: NewEvent | NewEvent[],
    opts?: { expectedRevision?: ExpectedRevision },
  ): Promise<AppendResult> {
    // Validated here, before anything is read, so a malformed call fails exactly as it would on the store.
    validateAppend(stream, events, opts?.expectedRevision);
    const expected = opts?.expectedRevision ?? 'any';
    const list = Array.isArray(events) ? events : [events];
    // Only a batch whose ids all come from the caller can be a re-send the store acknowledges without writing.
    const resendable = list.every((e) => e.id !== undefined);
    const batch: UnchainedEvent[] = list.map((e) => unchained(e, e.id === undefined ? randomUUID() : e.id));
    const write: Batch = { events: batch, resendable };
    if (typeof expected === 'bigint') return this.appendExact(stream, write, expected);
    // A claim of a new stream with ids generated here (an identity claim) needs no place in the stream's queue:
    // the store writes it or refuses it, and an overlapping append to the same stream meets a wrong expected
    // version and is judged again, as one from another process would be. The queue only saves such retries.
    if (expected === 'no_stream' && !resendable && !this.queues.has(stream)) return this.appendNoStream(stream, write);
    return this.serialised(stream, () =>
      expected === 'no_stream' ? this.appendNoStream(stream, write) : this.appendLatest(stream, write, expected),
    );
  }

  /**
   * Each append as appendToStream would make it. Claims of new streams with ids generated here (appendToStream's
   * unqueued no_stream path) are chained together, sharing the work on metadata objects they have in common, and
   * reach the store in one appendToStreams call; every other append takes appendToStream's own path.
   */
  async appendToStreams(appends: readonly StreamAppend[]): Promise<AppendOutcome[]> {
    const settle = (p: Promise<AppendResult>): Promise<AppendOutcome> =>
      p.then(
        (result): AppendOutcome => ({ ok: true, result }),
        (error: unknown): AppendOutcome => ({ ok: false, error }),
      );
    const outcomes = new Array<AppendOutcome | Promise<AppendOutcome>>(appends.length);
    const claims: { index: number; stream: string; events: UnchainedEvent[] }[] = [];
    for (let index = 0; index < appends.length; index++) {
      const { stream, events, expectedRevision } = appends[index] as StreamAppend;
      try {
        validateAppend(stream, events, expectedRevision);
      } catch (error) {
        outcomes[index] = { ok: false, error };
        continue;
      }
      const list = Array.isArray(events) ? events : [events];
      const claim =
        expectedRevision === 'no_stream' && !this.queues.has(stream) && list.every((e) => e.id === undefined);
      if (!claim) {
        outcomes[index] = settle(this.appendToStream(stream, events, { expectedRevision }));
        continue;
      }
      claims.push({ index, stream, events: list.map((e) => unchained(e, randomUUID())) });
    }
    if (claims.length > 0) await this.claimNew(claims, outcomes, settle);
    return Promise.all(outcomes);
  }

  /**
   * appendToStreams' claims: the streams ever deleted read from DELETIONS_STREAM, the claims of the others chained at
   * revision 0 and written in one call, those of deleted streams handed to appendNoStream. Every failure ends up in
   * its own claim's outcome. Only what a claim proves is recorded: its head, and the high-water mark; a failure
   * other than a wrong expected version leaves the stream uncertain, as write() does.
   */
  private async claimNew(
    claims: readonly { index: number; stream: string; events: UnchainedEvent[] }[],
    outcomes: Array<AppendOutcome | Promise<AppendOutcome>>,
    settle: (p: Promise<AppendResult>) => Promise<AppendOutcome>,
  ): Promise<void> {
    // A stream once deleted through this store continues its old chain: appendNoStream handles it.
    let deleted: ReadonlySet<string>;
    try {
      deleted = await this.deletedStreams();
    } catch (error) {
      for (const c of claims) outcomes[c.index] = { ok: false, error };
      return;
    }
    const memo: MetadataMemo = new Map();
    const fresh: { index: number; stream: string; count: number; lastHash: string | null }[] = [];
    const writes: StreamAppend[] = [];
    claims.forEach((c) => {
      if (deleted.has(c.stream)) {
        outcomes[c.index] = settle(this.appendNoStream(c.stream, { events: c.events, resendable: false }));
      } else {
        const { events, lastHash } = chainBatch(c.stream, 0n, null, c.events, memo);
        fresh.push({ index: c.index, stream: c.stream, count: events.length, lastHash });
        writes.push({ stream: c.stream, events: toNewEvents(events), expectedRevision: 'no_stream' });
      }
    });
    if (writes.length === 0) return;
    let written: AppendOutcome[];
    try {
      written = await this.inner.appendToStreams(writes);
    } catch (error) {
      // Not what the port promises, but a decorated store may: the outcome of every write is then unknown.
      written = writes.map(() => ({ ok: false, error }));
    }
    written.forEach((o, k) => {
      const { index, stream, count, lastHash } = fresh[k] as (typeof fresh)[number];
      if (!o.ok) {
        if (o.error instanceof WrongExpectedVersion) {
          outcomes[index] = {
            ok: false,
            error: new WrongExpectedVersion(stream, 'no_stream', o.error.actual, { cause: o.error }),
          };
        } else {
          this.uncertain.add(stream);
          outcomes[index] = o;
        }
        return;
      }
      outcomes[index] = o;
      if (this.highWater === null || comparePositions(o.result.position, this.highWater) > 0) {
        this.highWater = o.result.position;
      }
      // Its ids were generated here, so it wrote: the hash it was given is the stored head.
      if (o.result.nextExpectedRevision === BigInt(count - 1)) {
        this.heads.set(stream, { revision: o.result.nextExpectedRevision, hash: lastHash });
      }
    });
  }

  private async appendExact(stream: string, batch: Batch, revision: bigint): Promise<AppendResult> {
    const prev = await this.hashAt(stream, revision);
    // Nothing at that revision: the store would refuse too; refusing here keeps a bogus hash from ever racing in.
    if (prev === undefined) throw new WrongExpectedVersion(stream, revision, await this.inner.streamRevision(stream));
    return this.write(stream, batch, revision, prev, revision);
  }

  private async appendNoStream(stream: string, batch: Batch): Promise<AppendResult> {
    // Ids generated here cannot be stored yet, so the store either writes the batch or refuses it: a stream never
    // deleted through this store starts its chain at revision 0 whether or not it exists, and needs no lookup.
    // (A batch with the caller's ids may be a re-send the store acknowledges, which write() must not mistake for a
    // fresh write: it takes the path below.)
    const deleted = batch.resendable ? undefined : await this.deletedHead(stream);
    if (deleted !== null) {
      const actual = await this.inner.streamRevision(stream);
      if (actual !== 'no_stream') {
        // The stream exists: the store acknowledges a re-sent first batch or refuses. It writes nothing either way.
        return this.inner.appendToStream(stream, toNewEvents(chainBatch(stream, 0n, null, batch.events).events), {
          expectedRevision: 'no_stream',
        });
      }
    }
    const head = deleted === undefined ? await this.deletedHead(stream) : deleted;
    try {
      return head === null
        ? await this.write(stream, batch, 'no_stream', null, -1n)
        : await this.write(stream, batch, head.revision, head.hash, head.revision);
    } catch (e) {
      if (e instanceof WrongExpectedVersion)
        throw new WrongExpectedVersion(stream, 'no_stream', e.actual, { cause: e });
      throw e;
    }
  }

  private async appendLatest(stream: string, batch: Batch, expected: 'any' | 'stream_exists'): Promise<AppendResult> {
    for (let attempt = 1; ; attempt++) {
      const actual = await this.inner.streamRevision(stream);
      if (actual === 'no_stream' && expected === 'stream_exists') {
        throw new WrongExpectedVersion(stream, expected, actual);
      }
      try {
        if (actual === 'no_stream') {
          const deleted = await this.deletedHead(stream);
          if (deleted === null) return await this.write(stream, batch, 'no_stream', null, -1n);
          return await this.write(stream, batch, deleted.revision, deleted.hash, deleted.revision);
        }
        const prev = await this.hashAt(stream, actual);
        if (prev !== undefined) return await this.write(stream, batch, actual, prev, actual);
      } catch (e) {
        if (!(e instanceof WrongExpectedVersion)) throw e;
        if (attempt >= this.maxAttempts) throw new WrongExpectedVersion(stream, expected, e.actual, { cause: e });
      }
    }
  }

  /**
   * Chains the batch after `prevHash` (the event at `prevRevision`) and appends it at `expected`.
   *
   * The store acknowledges a re-sent batch (same ids at the same revision) without writing it, and returns the
   * original write's result, so the result alone cannot tell a fresh write from an acknowledgement; and after an
   * acknowledgement the stored events carry the original content's hashes, not `lastHash`. `lastHash` is trusted
   * (no extra read) only when the append provably wrote: some id was generated here (the store cannot hold it
   * yet), or the result lies beyond every position this instance had seen before the append and no earlier append
   * to the stream failed with an unknown outcome. What that cannot rule out is a write of the same ids committed
   * concurrently by another process (or by an overlapping append of this one): a race between writers that re-send
   * one batch with different content. Otherwise the head's hash is read back from the store.
   */
  private async write(
    stream: string,
    batch: Batch,
    expected: bigint | 'no_stream',
    prevHash: string | null,
    prevRevision: bigint,
  ): Promise<AppendResult> {
    const { events, lastHash } = chainBatch(stream, prevRevision + 1n, prevHash, batch.events);
    // Positions grow with every commit: a write committed after this point lands beyond `before`.
    const before = this.highWater;
    let result: AppendResult;
    try {
      result = await this.inner.appendToStream(stream, toNewEvents(events), { expectedRevision: expected });
    } catch (e) {
      if (!(e instanceof WrongExpectedVersion)) this.uncertain.add(stream);
      throw e;
    }
    if (this.highWater === null || comparePositions(result.position, this.highWater) > 0) {
      this.highWater = result.position;
    }
    if (result.nextExpectedRevision !== prevRevision + BigInt(batch.events.length)) return result;
    const wrote =
      !batch.resendable ||
      (before !== null && comparePositions(result.position, before) > 0 && !this.uncertain.has(stream));
    if (wrote) {
      this.heads.set(stream, { revision: result.nextExpectedRevision, hash: lastHash });
    } else {
      await this.readHead(stream, result.nextExpectedRevision);
    }
    this.uncertain.delete(stream);
    return result;
  }

  /** Caches the stored hash of the event at `revision`, read from the store; forgets the stream's head if gone. */
  private async readHead(stream: string, revision: bigint): Promise<void> {
    this.heads.delete(stream);
    try {
      for await (const e of this.inner.readStream(stream, { fromRevision: revision, maxCount: 1 })) {
        if (e.revision !== revision) break;
        this.heads.set(stream, {
          revision,
          hash: typeof e.metadata[HASH] === 'string' ? (e.metadata[HASH] as string) : null,
        });
      }
    } catch (e) {
      if (!(e instanceof StreamNotFound)) throw e;
    }
  }

  async deleteStream(
    stream: string,
    opts?: { expectedRevision?: ExpectedRevision },
  ): Promise<{ position: Position | null }> {
    validateStreamName(stream);
    validateExpectedRevision(opts?.expectedRevision);
    const expected = opts?.expectedRevision ?? 'any';
    return this.serialised(stream, async () => {
      for (let attempt = 1; ; attempt++) {
        const actual = await this.inner.streamRevision(stream);
        const refused =
          (expected === 'no_stream' && actual !== 'no_stream') ||
          (expected === 'stream_exists' && actual === 'no_stream') ||
          (typeof expected === 'bigint' && expected !== actual);
        if (refused) throw new WrongExpectedVersion(stream, expected, actual);
        if (actual === 'no_stream') return this.inner.deleteStream(stream, { expectedRevision: expected });
        const hash = await this.hashAt(stream, actual);
        if (hash === undefined) continue;
        // Named and its head recorded before the delete: either outliving a failed delete is harmless (a claim of
        // the stream takes the path that reads the marker; only the last head is read, and a later delete records
        // a newer one).
        await this.appendToStream(
          DELETIONS_STREAM,
          { type: STREAM_DELETION_BEGUN, data: { stream } },
          { expectedRevision: 'any' },
        );
        await this.appendToStream(
          deletedHeadStream(stream),
          { type: STREAM_HEAD_RECORDED, data: { stream, revision: actual.toString(), hash } },
          { expectedRevision: 'any' },
        );
        try {
          return await this.inner.deleteStream(stream, { expectedRevision: actual });
        } catch (e) {
          if (!(e instanceof WrongExpectedVersion) || typeof expected === 'bigint') throw e;
          if (attempt >= this.maxAttempts) throw new WrongExpectedVersion(stream, expected, e.actual, { cause: e });
        }
      }
    });
  }

  // ---------------------------------------------------------------- heads

  /**
   * The hash of the event at `revision` in `stream`, null for an event written without one, undefined when there
   * is no such event (also when it is hidden by a soft delete and was not the head the delete recorded).
   */
  private async hashAt(stream: string, revision: bigint): Promise<string | null | undefined> {
    const cached = this.heads.get(stream);
    if (cached !== undefined && cached.revision === revision) return cached.hash;
    try {
      for await (const e of this.inner.readStream(stream, { fromRevision: revision, maxCount: 1 })) {
        if (e.revision !== revision) break;
        const hash = typeof e.metadata[HASH] === 'string' ? (e.metadata[HASH] as string) : null;
        this.heads.set(stream, { revision, hash });
        return hash;
      }
    } catch (e) {
      if (!(e instanceof StreamNotFound)) throw e;
    }
    const deleted = await this.deletedHead(stream);
    return deleted !== null && deleted.revision === revision ? deleted.hash : undefined;
  }

  /** Every stream DELETIONS_STREAM names now: one lookup, and a read of what was added since the last call. */
  private async deletedStreams(): Promise<ReadonlySet<string>> {
    const known = this.deletions;
    const revision = await this.inner.streamRevision(DELETIONS_STREAM);
    if (revision === 'no_stream' || revision === known.revision) return known.streams;
    const from = known.revision === 'no_stream' ? 0n : known.revision + 1n;
    try {
      for await (const e of this.inner.readStream(DELETIONS_STREAM, { fromRevision: from })) {
        if (e.type === STREAM_DELETION_BEGUN) known.streams.add((e.data as { stream: string }).stream);
        // Two calls may read the same events at once: the revision only moves forwards.
        if (known.revision === 'no_stream' || e.revision > known.revision) known.revision = e.revision;
      }
    } catch (e) {
      // Deleted meanwhile (nothing here deletes it): what was read stays known.
      if (!(e instanceof StreamNotFound)) throw e;
    }
    return known.streams;
  }

  /** The head a soft delete recorded last, or null when the stream was never deleted through this decorator. */
  private async deletedHead(stream: string): Promise<Head | null> {
    const marker = deletedHeadStream(stream);
    // Almost no stream was ever deleted: one lookup says so, without a read that ends in StreamNotFound (an
    // exception and an iterator for every new stream, a measurable share of a claim of identity).
    if ((await this.inner.streamRevision(marker)) === 'no_stream') return null;
    try {
      for await (const e of this.inner.readStream(marker, { direction: 'backwards', maxCount: 1 })) {
        const d = e.data as { revision: string; hash: string | null };
        return { revision: BigInt(d.revision), hash: d.hash };
      }
    } catch (e) {
      if (!(e instanceof StreamNotFound)) throw e;
    }
    return null;
  }

  /** Runs `op` after every earlier queued op on the same stream in this process has settled. */
  private serialised<T>(stream: string, op: () => Promise<T>): Promise<T> {
    const before = this.queues.get(stream) ?? Promise.resolve();
    const run = before.then(op, op);
    const settled = run.then(
      () => undefined,
      () => undefined,
    );
    this.queues.set(stream, settled);
    void settled.then(() => {
      if (this.queues.get(stream) === settled) this.queues.delete(stream);
    });
    return run;
  }

  // ---------------------------------------------------------------- reads pass through

  readStream(stream: string, opts?: ReadStreamOptions): AsyncIterable<RecordedEvent> {
    return this.inner.readStream(stream, opts);
  }
  readAll(opts?: ReadAllOptions): AsyncIterable<RecordedEvent> {
    return this.inner.readAll(opts);
  }
  subscribeToAll(opts: SubscribeToAllOptions): Subscription {
    return this.inner.subscribeToAll(opts);
  }
  subscribeToStream(stream: string, opts: SubscribeToStreamOptions): Subscription {
    return this.inner.subscribeToStream(stream, opts);
  }
  streamRevision(stream: string): Promise<bigint | 'no_stream'> {
    return this.inner.streamRevision(stream);
  }
  headPosition(): Promise<Position | null> {
    return this.inner.headPosition();
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}

/**
 * The heads of the streams written or read most recently, in two generations: entries go into the young one, and
 * when it is full it becomes the old one (the old one is dropped); a hit in the old one moves the entry back. It keeps
 * between `size` and `2 × size` of the latest heads, at O(1) per call. (An LRU over one Map, deleting its oldest key
 * on every insert, leaves deleted slots at the front that each `keys().next()` walks again: with thousands of new
 * streams a second it cost more than hashing them.)
 */
class HeadCache {
  private young = new Map<string, Head>();
  private old = new Map<string, Head>();

  constructor(private readonly size: number) {
    if (!Number.isInteger(size) || size < 1) throw new TypeError('headCacheSize must be >= 1');
  }

  get(stream: string): Head | undefined {
    const head = this.young.get(stream);
    if (head !== undefined) return head;
    const aged = this.old.get(stream);
    if (aged !== undefined) this.set(stream, aged);
    return aged;
  }

  set(stream: string, head: Head): void {
    this.young.set(stream, head);
    if (this.young.size >= this.size) {
      this.old = this.young;
      this.young = new Map();
    }
  }

  delete(stream: string): void {
    this.young.delete(stream);
    this.old.delete(stream);
  }
}
