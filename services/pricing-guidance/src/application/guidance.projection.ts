import { comparePositions, type EventStore, type Position, type Subscription } from '@cx/event-store';
import { AssertionFailed } from '@cx/shared-kernel';
import { GUIDANCE_STREAM_PREFIXES, GuidanceReadModel } from './guidance.read-model';

type Waiter = { position: Position; resolve: () => void; reject: (e: unknown) => void };

/**
 * Keeps a GuidanceReadModel current with a catch-up subscription on the catalog and band streams. `ready()`
 * resolves once it has applied everything that existed when it started; `caughtUpTo(p)` lets a writer answer
 * only after its own write is visible (read your writes).
 */
export class GuidanceProjection {
  readonly model = new GuidanceReadModel();
  private subscription: Subscription | null = null;
  private started: Promise<void> | null = null;
  private waiters: Waiter[] = [];
  private failure: unknown = null;
  private stopped = false;

  constructor(private readonly store: EventStore) {}

  ready(): Promise<void> {
    this.started ??= this.start();
    return this.started;
  }

  private async start(): Promise<void> {
    // The last guidance event, not the store's head: the head may be another service's event, which this
    // filtered subscription never sees.
    let target: Position | null = null;
    for await (const e of this.store.readAll({
      direction: 'backwards',
      fromPosition: 'end',
      maxCount: 1,
      filter: { streamNamePrefixes: GUIDANCE_STREAM_PREFIXES },
    })) {
      target = e.position;
    }
    this.subscription = this.store.subscribeToAll({
      fromPosition: 'start',
      filter: { streamNamePrefixes: GUIDANCE_STREAM_PREFIXES },
    });
    const caughtUp = target === null ? Promise.resolve() : this.caughtUpTo(target);
    void this.follow(this.subscription);
    await caughtUp;
  }

  private async follow(subscription: Subscription): Promise<void> {
    try {
      for await (const e of subscription) {
        if (this.model.apply(e)) this.release();
      }
    } catch (e) {
      if (!this.stopped) this.fail(e);
      // A broken invariant (an event evolve cannot apply) stops the process: rethrown from this detached loop
      // it becomes an unhandled rejection, which Node treats as fatal.
      if (e instanceof AssertionFailed) throw e;
      return;
    }
    if (!this.stopped) this.fail(new Error('the guidance subscription ended'));
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

  // A projection that stopped following the store would keep answering with stale bands, so every waiter hears
  // about it and no later wait succeeds.
  private fail(e: unknown): void {
    this.failure = e;
    for (const w of this.waiters) w.reject(e);
    this.waiters = [];
  }

  async stop(): Promise<void> {
    this.stopped = true;
    const sub = this.subscription;
    this.subscription = null;
    if (sub) await sub.unsubscribe();
    this.fail(new Error('the guidance projection was stopped'));
  }
}
