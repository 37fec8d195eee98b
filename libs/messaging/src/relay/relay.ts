import { comparePositions } from '@cx/event-store';
import type { EventFilter, EventStore, Position, RecordedEvent, Subscription } from '@cx/event-store';
import type { MessageBus, OutgoingMessage } from '../bus.port';
import { RelayCheckpoint, checkpointStream } from './relay-checkpoint';
import { relayHeaders } from './relay-headers';
import { type RelayProbe, telemetryOf } from '../telemetry';

// The relay follows the store and publishes integration events to the bus (DESIGN.md, "How an event travels").
// Nothing publishes from a command handler: a handler appends, and the relay, following `$all` with a catch-up
// subscription, publishes what was appended, in store order, keyed by aggregate id. It checkpoints the last
// published position only after the bus acknowledged the batch, so a crash anywhere re-publishes at most the
// batch in flight: duplicates are possible, loss is not.

/** One integration message built from one recorded event. */
export interface RelayMessage {
  topic: string;
  message: OutgoingMessage;
}

/** Says which recorded events a service publishes, and how. */
export interface RelayRoute {
  /** Streams this route reads, by name prefix (the subscription's server-side filter). */
  streamPrefixes: string[];
  /**
   * The integration message(s) for an event: null (or none) for an internal event that crosses no boundary,
   * several when one recorded fact is announced per key (e.g. a heartbeat per resource class).
   */
  toMessage(event: RecordedEvent): RelayMessage | readonly RelayMessage[] | null;
}

export interface RelayOptions {
  /** Names the checkpoint stream; one running relay per name. */
  name: string;
  store: EventStore;
  bus: MessageBus;
  routes: RelayRoute[];
  /** Most events per publish. */
  maxBatch?: number;
  /** How long a partly filled batch waits for more events before it is published anyway. */
  maxDelayMs?: number;
  /**
   * The checkpoint is written after an acknowledged batch once this long has passed since the last one (and
   * always on stop). A crash re-publishes at most what was acknowledged since: more duplicates, never a loss.
   */
  checkpointIntervalMs?: number;
  /**
   * false: start from the beginning of the store on every start and keep no checkpoint. For the embedded mode's
   * in-process bus, which forgets everything with the process: its consumers rebuild by hearing it all again
   * (they are idempotent). true (default): resume after the durable checkpoint.
   */
  durable?: boolean;
  /** Called after every acknowledged batch (metrics, tests). */
  onPublished?: (info: { events: number; messages: number; position: Position }) => void;
}

const TIMEOUT = Symbol('timeout');

export class Relay implements RelayProbe {
  private readonly checkpoint: RelayCheckpoint;
  private readonly filter: EventFilter;
  /** The last event the bus acknowledged (or the checkpoint it resumed from); null before the first. */
  private acknowledged: Position | null = null;
  private unregister: (() => void) | undefined;
  private readonly maxBatch: number;
  private readonly maxDelayMs: number;
  private readonly checkpointIntervalMs: number;
  private lastCheckpointAt = 0;
  private unsaved: Position | null = null;
  private subscription: Subscription | null = null;
  private loop: Promise<void> | null = null;
  private stopping = false;

  constructor(private readonly opts: RelayOptions) {
    if (opts.routes.length === 0) throw new TypeError('a relay needs at least one route');
    this.checkpoint = new RelayCheckpoint(opts.store, checkpointStream(opts.name));
    this.maxBatch = opts.maxBatch ?? 500;
    this.maxDelayMs = opts.maxDelayMs ?? 5;
    this.checkpointIntervalMs = opts.checkpointIntervalMs ?? 1_000;
    if (!Number.isInteger(this.maxBatch) || this.maxBatch < 1)
      throw new TypeError('maxBatch must be a positive integer');
    this.filter = { streamNamePrefixes: opts.routes.flatMap((r) => r.streamPrefixes) };
  }

  get name(): string {
    return this.opts.name;
  }

  /**
   * Events recorded after the last acknowledged batch that this relay's filter selects, up to `cap`. Counted from
   * the store rather than as head minus position, because positions also count events the relay never publishes
   * (its own checkpoints, other services' streams) and are byte offsets on EventStoreDB.
   */
  async lag(cap: number): Promise<number> {
    const after = this.acknowledged;
    let n = 0;
    for await (const e of this.opts.store.readAll({
      fromPosition: after ?? 'start',
      filter: this.filter,
      maxCount: cap + 1,
    })) {
      if (after !== null && comparePositions(e.position, after) <= 0) continue;
      if (++n >= cap) break;
    }
    return n;
  }

  /** Resumes after the checkpoint and runs until `stop()`. Resolves once the subscription is open. */
  async start(): Promise<void> {
    if (this.loop) throw new TypeError('relay already started');
    const from = this.opts.durable === false ? null : await this.checkpoint.load();
    this.acknowledged = from;
    this.subscription = this.opts.store.subscribeToAll({ fromPosition: from ?? 'start', filter: this.filter });
    this.loop = this.run(this.subscription);
    this.unregister = telemetryOf(this.opts.bus)?.addRelay(this);
  }

  /** The loop's outcome: rejects if publishing failed for good (the process should restart the relay). */
  get done(): Promise<void> {
    return this.loop ?? Promise.resolve();
  }

  /** Publishes what it holds, checkpoints, and ends. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.unregister?.();
    await this.subscription?.unsubscribe();
    await this.loop?.catch(() => undefined);
  }

  private async run(subscription: Subscription): Promise<void> {
    const it = subscription[Symbol.asyncIterator]();
    let batch = new PendingBatch();
    let pending = it.next();
    let deadline: Promise<typeof TIMEOUT> | null = null;
    // One batch may be in flight while the next one is read and encoded; batches are still published one after
    // another, so store order per key holds.
    let inFlight: Promise<void> = Promise.resolve();
    const ship = async (): Promise<void> => {
      deadline = null;
      const full = batch;
      batch = new PendingBatch();
      const previous = inFlight;
      inFlight = previous.then(() => this.publish(full));
      // A failed publish ends the subscription, so the loop stops waiting for events and reports the failure
      // (it is rethrown below, where `inFlight` is awaited).
      inFlight.catch(() => void subscription.unsubscribe());
      // Only one batch ahead: wait for the previous one before reading further.
      await previous;
    };
    try {
      for (;;) {
        // Wait for the next event; with a partly filled batch, wait at most until its deadline.
        const next = deadline === null ? await pending : await Promise.race([pending, deadline]);
        if (next === TIMEOUT) {
          await ship();
          continue;
        }
        if (next.done) break;
        pending = it.next();
        // Turned into messages as it arrives rather than when its batch is published: the recorded event (its
        // parsed data) then dies young, instead of living through a broker round trip into the old generation,
        // which made garbage collection a large share of the relay's time.
        this.collect(batch, next.value);
        if (batch.events >= this.maxBatch) await ship();
        else if (deadline === null)
          deadline = new Promise((resolve) => setTimeout(() => resolve(TIMEOUT), this.maxDelayMs));
      }
    } catch (e) {
      // A route threw, or the batch before failed to publish: nothing after the last acknowledged batch is
      // checkpointed, so a restart publishes it again.
      await subscription.unsubscribe();
      await inFlight.catch(() => undefined);
      throw e;
    }
    // The subscription ended (stop, or the store closed): what was read is still published, and checkpointed.
    if (this.stopping) {
      if (batch.events > 0) await ship();
      await inFlight;
      await this.saveCheckpoint();
    } else {
      await inFlight;
    }
  }

  /** Adds the messages of one recorded event (none for an internal one) to the batch. */
  private collect(batch: PendingBatch, e: RecordedEvent): void {
    batch.events++;
    batch.last = e.position;
    for (const route of this.opts.routes) {
      if (!startsWithAny(e.streamId, route.streamPrefixes)) continue;
      const out = route.toMessage(e);
      if (out === null) continue;
      if (Array.isArray(out)) {
        for (const m of out as readonly RelayMessage[]) batch.add(e, m);
      } else {
        batch.add(e, out as RelayMessage);
      }
    }
  }

  private async publish(batch: PendingBatch): Promise<void> {
    if (batch.last === null) return;
    // Topics are independent (order is promised per key, and a key lives in one topic), so they go in parallel.
    const sends: Promise<void>[] = [];
    for (const [topic, list] of batch.byTopic) sends.push(this.opts.bus.publish(topic, list));
    await Promise.all(sends);
    this.unsaved = batch.last;
    this.acknowledged = batch.last;
    if (Date.now() - this.lastCheckpointAt >= this.checkpointIntervalMs) await this.saveCheckpoint();
    this.opts.onPublished?.({ events: batch.events, messages: batch.messages, position: batch.last });
  }

  private async saveCheckpoint(): Promise<void> {
    if (this.unsaved === null || this.opts.durable === false) return;
    const position = this.unsaved;
    await this.checkpoint.save(position);
    this.lastCheckpointAt = Date.now();
    if (this.unsaved === position) this.unsaved = null;
  }
}

/** The messages of the events read since the last publish, by topic. */
class PendingBatch {
  readonly byTopic = new Map<string, OutgoingMessage[]>();
  /** Events read, including internal ones that publish nothing (the checkpoint moves past them all the same). */
  events = 0;
  messages = 0;
  /** The position of the last event read. */
  last: Position | null = null;

  /** One message with the standard headers (the route's own win), built as one object rather than three. */
  add(e: RecordedEvent, m: RelayMessage): void {
    let list = this.byTopic.get(m.topic);
    if (list === undefined) {
      list = [];
      this.byTopic.set(m.topic, list);
    }
    const headers = relayHeaders(e);
    const own = m.message.headers;
    if (own !== undefined) Object.assign(headers, own);
    list.push({ key: m.message.key, value: m.message.value, headers });
    this.messages++;
  }
}

const startsWithAny = (s: string, prefixes: readonly string[]): boolean => {
  for (const p of prefixes) if (s.startsWith(p)) return true;
  return false;
};
