// What a bus can say about itself for /metrics and /health, beside the port (which says nothing about lag or
// health on purpose: a handler must not depend on it). Both adapters carry a `MessagingTelemetry`; a relay that
// publishes to a bus registers itself on it, so a host that knows its bus finds its relays too.

/** Messages a group has not yet handled on one topic: the end of each partition minus the group's committed offset. */
export interface ConsumerLag {
  group: string;
  topic: string;
  /** Summed over the topic's partitions. */
  messages: number;
}

/** The answer of a broker (or of nothing, for the in-process bus). */
export type BusHealth = { status: 'ok'; details?: Record<string, unknown> } | { status: 'down'; error: string };

export interface RelayProbe {
  readonly name: string;
  /**
   * Events the relay has yet to publish: those recorded after its last acknowledged batch that its filter selects,
   * counted up to `cap` (a relay that far behind reads as `cap`).
   */
  lag(cap: number): Promise<number>;
}

export interface BusProbes {
  consumerLag(): Promise<ConsumerLag[]>;
  health(timeoutMs: number): Promise<BusHealth>;
}

export class MessagingTelemetry {
  /** Dead letters published, by the group that gave up and the topic the message came from. */
  private readonly deadLetters = new Map<string, { group: string; topic: string; count: number }>();
  private readonly relaySet = new Set<RelayProbe>();

  constructor(readonly probes: BusProbes) {}

  deadLettered(group: string, topic: string): void {
    const k = `${group}\u0000${topic}`;
    const entry = this.deadLetters.get(k);
    if (entry) entry.count++;
    else this.deadLetters.set(k, { group, topic, count: 1 });
  }

  /** Every dead letter published since the bus was created. */
  deadLetterCounts(): ReadonlyArray<{ group: string; topic: string; count: number }> {
    return [...this.deadLetters.values()];
  }

  addRelay(relay: RelayProbe): () => void {
    this.relaySet.add(relay);
    return () => this.relaySet.delete(relay);
  }

  relays(): readonly RelayProbe[] {
    return [...this.relaySet];
  }
}

/** The telemetry of a bus that has one (both adapters do; a test double may not). */
export const telemetryOf = (bus: unknown): MessagingTelemetry | undefined => {
  const t = (bus as { telemetry?: unknown } | null)?.telemetry;
  return t instanceof MessagingTelemetry ? t : undefined;
};

/** Rejects after `ms` unless `p` settles first; the timer never holds the process open. */
export const withTimeout = <T>(p: Promise<T>, ms: number, what: string): Promise<T> =>
  new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
    timer.unref();
    p.then(
      (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      (e: unknown) => {
        clearTimeout(timer);
        reject(e instanceof Error ? e : new Error(String(e)));
      },
    );
  });
