import type { CommandMetadata } from '@cx/event-store';
import { EffectStream, type SourceRef } from '@cx/messaging';
import { recordBreakerHalt } from './market-halt.handlers';
import type { GuidanceDeps } from './ports';
import { WriteLock } from './write-lock';
import {
  decide,
  evolve,
  type IndexState,
  type IndexTrade,
  noIndex,
} from '../domain/surveillance/reference-index.decider';
import { type ReferenceIndexEvent, referenceIndexStream } from '../domain/surveillance/reference-index.events';
import { isResourceClassId } from '../domain/validation';

// The tape's effect on the reference index and surveillance (DESIGN.md, "How an event travels"): each trade is
// decided against its class's stream and the effect appended there with ids derived from the trade's source event
// and at the exact revision last read (EffectStream), so a redelivered trade answers `duplicate` and two consumers
// racing on one class cannot both apply it. One class's trades are applied one at a time in this process.

export type IndexTradeData = Omit<IndexTrade['data'], 'resourceClass'>;

export class TradeIndexer {
  private readonly streams = new Map<string, Promise<EffectStream<IndexState>>>();
  private readonly locks = new Map<string, WriteLock>();

  constructor(private readonly deps: GuidanceDeps) {}

  async onTrade(trade: IndexTradeData, source: SourceRef, meta: CommandMetadata): Promise<'applied' | 'duplicate'> {
    // A class id that is not one cannot name a stream; the trade is recorded as refused in a stream of its own.
    const resourceClass = isResourceClassId(trade.tradeResourceClass) ? trade.tradeResourceClass : 'invalid';
    const lock = this.locks.get(resourceClass) ?? new WriteLock();
    this.locks.set(resourceClass, lock);
    return lock.run(async () => {
      const stream = await this.streamOf(resourceClass);
      if (source.revision <= stream.watermark(source.stream)) return 'duplicate';
      const cmd: IndexTrade = {
        type: 'IndexTrade',
        data: { ...trade, resourceClass },
        metadata: { thresholds: this.deps.config.surveillance },
      };
      // The halt first, then the trade's effect: were the process to stop between the two, the redelivered trade
      // is decided against the same state, names the same halt (already there: a no-op) and then records its
      // effect. The other order could lose the halt.
      const decided = decide(cmd, stream.state);
      for (const e of decided) {
        if (e.type === 'CircuitBreakerTripped') await recordBreakerHalt(this.deps, e.data, meta);
      }
      return stream.applyOnce(source, (state) => (state === stream.state ? decided : decide(cmd, state)), meta);
    });
  }

  /** The class's effect stream as this process knows it (tests, reads of the consumer's own state). */
  async state(resourceClass: string): Promise<IndexState> {
    return (await this.streamOf(resourceClass)).state;
  }

  private streamOf(resourceClass: string): Promise<EffectStream<IndexState>> {
    let s = this.streams.get(resourceClass);
    if (s === undefined) {
      s = EffectStream.load<IndexState>({
        store: this.deps.store,
        stream: referenceIndexStream(resourceClass),
        consumer: 'pricing-guidance',
        evolve: (state, effect) => evolve(state, effect as ReferenceIndexEvent),
        initial: noIndex,
      });
      // A failed load is not cached: the next trade tries again.
      s.catch(() => this.streams.delete(resourceClass)).catch(() => undefined);
      this.streams.set(resourceClass, s);
    }
    return s;
  }
}
