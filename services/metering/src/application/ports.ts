import type { EventStore } from '@cx/event-store';
export type { CommandMetadata } from '@cx/event-store';
import type { Clock } from '@cx/shared-kernel';
import type { MeteringConfig } from '../config';

// What every metering command handler needs. Handlers read the clock and put the time on the command, so the
// domain stays pure.
export interface MeteringDeps {
  store: EventStore;
  clock: Clock;
  config: MeteringConfig;
}
