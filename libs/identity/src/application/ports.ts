import type { EventStore } from '@cx/event-store';
export type { CommandMetadata } from '@cx/event-store';
import type { Clock } from '@cx/shared-kernel';

// What every identity command handler needs. HTTP and the CLI build these the same way, so a key issued from
// the command line is recorded exactly as one issued over HTTP.

export interface IdentityDeps {
  store: EventStore;
  clock: Clock;
}
