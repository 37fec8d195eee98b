import { AssertionFailed } from '@cx/shared-kernel';
import {
  comparePositions,
  type EventStore,
  type Position,
  type RecordedEvent,
  type Subscription,
} from './event-store.port';

/** An in-memory read model a projection keeps current: it applies events and knows the last position applied. */
export interface ProjectionModel {
  readonly position: Position | null;
  /** Applies an event (ignoring redeliveries and kinds it does not know). */
  apply(e: RecordedEvent): unknown;
}

type Waiter = { position: Position; resolve: () => void; reject: (e: unknown) => void };

/**
 * Keeps a read model current with a catch-up subscription on some streams. `ready()` resolves once it has applied
 * everything that existed when it started; `caughtUpTo(p)` lets a writer answer only after its own write is
 * visible (read your writes). Another process sharing the store is seen within the store's polling interval.
 * A projection that stopped following the store would answer from stale state (a revoked key would still work),
 * so once it fails every waiter hears it and `failed` says why.
 */
export class CatchUpProjection<M extends ProjectionModel> {
  private subscription: Subscription | null = null;
  private started: Promise<void> | null = null;
  private waiters: Waiter[] = [];
  private failure: unknown = null;
  private stopped = false;

  constructor(
    private readonly store: EventStore,
    readonly model: M,
    private readonly opts: { name: string; streamNamePrefixes: string[] },
  ) {}

  /** Starts the subscription once; every call returns the same promise, resolved when caught up. */
  ready(): Promise<void> {
    this.started ??= this.start();
    return this.started;
  }

  private async start(): Promise<void> {
    const filter = { streamNamePrefixes: this.opts.streamNamePrefixes };
    // The last event of these streams, not the store's head: the head may be another module's event, which this
    // filtered subscription never sees.
    let target: Position | null = null;
    for await (const e of this.store.readAll({ direction: 'backwards', fromPosition: 'end', maxCount: 1, filter })) {
      target = e.position;
    }
    this.subscription = this.store.subscribeToAll({ fromPosition: 'start', filter });
    const caughtUp = target === null ? Promise.resolve() : this.caughtUpTo(target);
    void this.follow(this.subscription);
    await caughtUp;
  }

  private async follow(subscription: Subscription): Promise<void> {
    try {
      for await (const e of subscription) {
        this.model.apply(e);
        this.release();
      }
    } catch (e) {
      if (!this.stopped) this.fail(e);
      // A broken invariant (an event evolve cannot apply) stops the process: rethrown from this detached loop
      // it becomes an unhandled rejection, which Node treats as fatal.
      if (e instanceof AssertionFailed) throw e;
      return;
    }
    if (!this.stopped) this.fail(new Error(`the ${this.opts.name} subscription ended`));
  }

  /** Resolves once the model has applied the event at `position` (or a later one). */
  caughtUpTo(position: Position): Promise<void> {
    if (this.failure !== null) return Promise.reject(this.failure);
    const at = this.model.position;
    if (at !== null && comparePositions(at, position) >= 0) return Promise.resolve();
    return new Promise((resolve, reject) => this.waiters.push({ position, resolve, reject }));
  }

  private release(): void {
    const at = this.model.position;
    if (at === null || this.waiters.length === 0) return;
    this.waiters = this.waiters.filter((w) => {
      if (comparePositions(at, w.position) < 0) return true;
      w.resolve();
      return false;
    });
  }

  private fail(e: unknown): void {
    this.failure = e;
    for (const w of this.waiters) w.reject(e);
    this.waiters = [];
  }

  get failed(): unknown {
    return this.failure;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    const sub = this.subscription;
    this.subscription = null;
    if (sub) await sub.unsubscribe();
    this.fail(new Error(`the ${this.opts.name} projection was stopped`));
  }
}
