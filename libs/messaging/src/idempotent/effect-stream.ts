import { v5 as uuidv5 } from 'uuid';
import {
  type CommandMetadata,
  type EventStore,
  type ExpectedRevision,
  StreamNotFound,
  WrongExpectedVersion,
} from '@cx/event-store';
import type { DeliveredMessage } from '../bus.port';
import { relaySourceOf } from '../relay/relay-headers';

// Idempotent consumption (DESIGN.md, "How an event travels"): a consumer appends the effect of a message to a
// stream of its own, once, however often the message is delivered.
//
// Delivery is at-least-once, and the store's own dedupe by event id is best-effort except at the exact revision of
// the original write, which a consumer that restarted no longer knows. So the consumer knows for itself what it
// applied: every effect event records the source event it answers (stream and revision), and because one source
// stream's events travel under one key, in order, "applied" is a watermark per source stream: the highest source
// revision applied. A redelivered message is at or below it. Effects are appended at the exact revision the
// consumer last saw, so two consumers racing on one stream cannot both apply a message: the loser reloads, sees
// the winner's watermark and answers `duplicate`.

/** The source event a message carries (the relay's headers). */
export interface SourceRef {
  stream: string;
  revision: bigint;
  eventId: string;
}

const SOURCE_STREAM = 'cx-source-stream';
const SOURCE_REVISION = 'cx-source-revision';
// A fixed namespace, so that the same (consumer, source event, index) always gives the same effect id.
const EFFECT_ID_NAMESPACE = '6f1c3f2e-8a59-4d3e-9a51-3c7f0e4b2d10';

/** The source of a relayed message, from the relay's header (`relay-headers.ts`). */
export const sourceOf = (m: DeliveredMessage): SourceRef => {
  const source = relaySourceOf(m.headers);
  if (source === undefined || !/^\d+$/.test(source.revision)) {
    throw new TypeError(`message ${m.topic}/${m.partition}/${m.offset} carries no relay source headers`);
  }
  return { stream: source.stream, revision: BigInt(source.revision), eventId: source.eventId };
};

export interface Effect {
  type: string;
  data: unknown;
}

export type ApplyOutcome = 'applied' | 'duplicate';

/** A consumer's own stream: its state, the revision it knows, and the watermark per source stream. */
export class EffectStream<S> {
  private watermarks = new Map<string, bigint>();
  private revision: ExpectedRevision = 'no_stream';

  private constructor(
    private readonly store: EventStore,
    readonly stream: string,
    private readonly consumer: string,
    private readonly evolve: (state: S, effect: Effect) => S,
    private readonly initial: S,
    private current: S,
  ) {}

  /** Loads the stream (a missing stream is the initial state). */
  static async load<S>(opts: {
    store: EventStore;
    stream: string;
    /** Names the consumer: part of every effect id. */
    consumer: string;
    evolve: (state: S, effect: Effect) => S;
    initial: S;
  }): Promise<EffectStream<S>> {
    const s = new EffectStream(opts.store, opts.stream, opts.consumer, opts.evolve, opts.initial, opts.initial);
    await s.reload();
    return s;
  }

  get state(): S {
    return this.current;
  }

  /** The highest revision of `sourceStream` whose effect is applied, or -1. */
  watermark(sourceStream: string): bigint {
    return this.watermarks.get(sourceStream) ?? -1n;
  }

  /**
   * Applies the effects `decide` returns for this source event, unless it was applied before. `decide` sees the
   * current state and may return no effect (the message is then recorded as applied all the same, so that the
   * watermark moves: an empty answer is an answer).
   */
  async applyOnce(
    source: SourceRef,
    decide: (state: S) => Effect[],
    meta?: Partial<CommandMetadata>,
  ): Promise<ApplyOutcome> {
    for (let attempt = 1; ; attempt++) {
      if (source.revision <= this.watermark(source.stream)) return 'duplicate';
      const effects = decide(this.current);
      // With no effect, a marker records the watermark; otherwise each effect carries the source itself.
      const toWrite = effects.length > 0 ? effects : [{ type: 'SourceAcknowledged', data: {} }];
      const events = toWrite.map((e, i) => ({
        id: uuidv5(`${this.consumer}\u0000${source.eventId}\u0000${i}`, EFFECT_ID_NAMESPACE),
        type: e.type,
        data: e.data,
        metadata: {
          ...(meta?.correlationId !== undefined ? { correlationId: meta.correlationId } : {}),
          causationId: meta?.causationId ?? source.eventId,
          actor: meta?.actor ?? { service: this.consumer },
          [SOURCE_STREAM]: source.stream,
          [SOURCE_REVISION]: source.revision.toString(),
        },
      }));
      try {
        const result = await this.store.appendToStream(this.stream, events, { expectedRevision: this.revision });
        this.revision = result.nextExpectedRevision;
        for (const e of toWrite) this.current = this.apply(this.current, e);
        this.watermarks.set(source.stream, source.revision);
        return 'applied';
      } catch (e) {
        // Another writer moved the stream: reload and judge again (it may have applied this very message).
        if (!(e instanceof WrongExpectedVersion) || attempt >= 5) throw e;
        await this.reload();
      }
    }
  }

  private apply(state: S, effect: Effect): S {
    return effect.type === 'SourceAcknowledged' ? state : this.evolve(state, effect);
  }

  private async reload(): Promise<void> {
    let state = this.initial;
    const watermarks = new Map<string, bigint>();
    let revision: ExpectedRevision = 'no_stream';
    try {
      for await (const e of this.store.readStream(this.stream)) {
        revision = e.revision;
        state = this.apply(state, { type: e.type, data: e.data });
        const from = e.metadata[SOURCE_STREAM];
        const rev = e.metadata[SOURCE_REVISION];
        if (typeof from === 'string' && typeof rev === 'string') {
          const r = BigInt(rev);
          if (r > (watermarks.get(from) ?? -1n)) watermarks.set(from, r);
        }
      }
    } catch (e) {
      if (!(e instanceof StreamNotFound)) throw e;
    }
    this.current = state;
    this.watermarks = watermarks;
    this.revision = revision;
  }
}
