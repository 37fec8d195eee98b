import type { EventStore } from '@cx/event-store';
export type { CommandMetadata } from '@cx/event-store';
import type { Clock } from '@cx/shared-kernel';
import type { PricingGuidanceConfig } from '../config';

// What every pricing-guidance command handler needs. The handlers read the clock and the configuration and put
// both on the command, so the deciders stay pure.

export interface GuidanceDeps {
  store: EventStore;
  clock: Clock;
  config: PricingGuidanceConfig;
}
