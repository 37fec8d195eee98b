import type { RecordedEvent } from '@cx/event-store';

// What verify is made of: a source of events in $all order and checkers fed every event, in order, that report
// violations. The hash-chain and checkpoint checkers run per source; business-rule checkers (floors, ledger,
// usage; statements next) are registered in verify/rules/index.ts and see the events of every source.

export interface Violation {
  /** Which check failed, e.g. `chain.hash`, `checkpoint.signature`. */
  check: string;
  stream: string;
  /** Decimal string (revisions are 64-bit). */
  revision: string;
  /** The event's global position, "commit/prepare". */
  position: string;
  message: string;
  /** The source the event came from, when verify reads several. */
  source?: string;
}

export type Report = (v: Omit<Violation, 'source'>) => void;

export interface Checker {
  readonly name: string;
  /** Called for every event in $all order. Must not throw: a problem is a violation reported through `report`. */
  onEvent(event: RecordedEvent, report: Report): void;
  /** Called once after the last event. */
  finish?(report: Report): void;
  /** What the checker could not judge and why (e.g. a service's streams absent from the sources). */
  readonly warnings?: readonly string[];
}
