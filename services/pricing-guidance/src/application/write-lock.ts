// Band changes and heartbeats of one process run one at a time. A heartbeat says "every change issued at or
// before T is recorded"; were a change decided at T - 1 still being appended while the heartbeat for T went
// ahead of it, a market could trust a view that misses that change. Band changes are rare, so serialising them
// costs nothing. (One pricing-guidance writer is assumed, as for every hot path in cx.)
export class WriteLock {
  private tail: Promise<unknown> = Promise.resolve();

  run<T>(work: () => Promise<T>): Promise<T> {
    const next = this.tail.then(work, work);
    this.tail = next.catch(() => undefined);
    return next;
  }
}
