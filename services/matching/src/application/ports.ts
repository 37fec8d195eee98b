import type { EventStore } from '@cx/event-store';
import type { Clock } from '@cx/shared-kernel';
import type { MatchingConfig } from '../config';
import type { AccountLimits } from '../domain/order-book/order-book.decider';
export type { CommandMetadata } from '@cx/event-store';

// What the matching engine needs from outside. HTTP, the guidance consumer and the benchmark all drive the same
// engine, so an order placed by the benchmark is decided and recorded exactly as one placed over HTTP.

export interface MatchingDeps {
  store: EventStore;
  clock: Clock;
  config: MatchingConfig;
  /** The account's order limits (identity's read model); null: none configured or unknown account. */
  limitsOf?: (account: string) => AccountLimits | null;
  /** Where failures nobody awaits are reported (the scheduler, the catalog follower). */
  onError?: (message: string, error: unknown) => void;
}
