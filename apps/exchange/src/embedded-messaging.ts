import { type BeforeApplicationShutdown, Inject, Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import { EVENT_STORE, type EventStore } from '@cx/event-store';
import { identityRelayRoute, identityTopicSpec } from '@cx/identity';
import { InProcessBus, MESSAGE_BUS, type MessageBus, Relay, type RelayRoute, type TopicSpec } from '@cx/messaging';
import { type MatchingConfig, matchingRelayRoutes, matchingTopicSpecs } from '@cx/matching';
import { billingRelayRoutes, billingTopicSpecs } from '@cx/billing';
import { meteringRelayRoutes, meteringTopicSpecs } from '@cx/metering';
import {
  catalogRelayRoute,
  guidanceRelayRoute,
  guidanceTopicSpec,
  marketStatusTopicSpec,
  surveillanceRelayRoutes,
  surveillanceTopicSpecs,
} from '@cx/pricing-guidance';

// Embedded mode's messaging: an in-process bus with the same semantics as Kafka, fed by a relay that follows the
// one store, exactly as in distributed mode; only the transport differs.

/** Every integration topic, and the routes that feed them. */
export const integrationTopics: TopicSpec[] = [
  identityTopicSpec,
  guidanceTopicSpec,
  marketStatusTopicSpec,
  ...surveillanceTopicSpecs,
  ...matchingTopicSpecs,
  ...meteringTopicSpecs,
  ...billingTopicSpecs,
];
export const integrationRoutes = (matching: MatchingConfig): RelayRoute[] => [
  identityRelayRoute,
  catalogRelayRoute,
  guidanceRelayRoute,
  ...surveillanceRelayRoutes,
  ...matchingRelayRoutes(matching),
  ...meteringRelayRoutes,
  ...billingRelayRoutes,
];
export const EMBEDDED_ROUTES = 'cx.EmbeddedRelayRoutes';

export const createEmbeddedBus = async (): Promise<InProcessBus> => {
  const bus = new InProcessBus();
  await bus.declareTopics(integrationTopics);
  return bus;
};

@Injectable()
export class EmbeddedRelay implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly relay: Relay;

  constructor(
    @Inject(EVENT_STORE) store: EventStore,
    @Inject(MESSAGE_BUS) private readonly bus: MessageBus,
    @Inject(EMBEDDED_ROUTES) routes: RelayRoute[],
  ) {
    // Not durable: the in-process bus forgets everything with the process, so every start replays the store to
    // the (idempotent) consumers instead of resuming after a checkpoint they never heard.
    this.relay = new Relay({ name: 'embedded', store, bus, routes, durable: false });
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.relay.start();
  }

  // Before CoreModule closes the store on shutdown.
  async beforeApplicationShutdown(): Promise<void> {
    await this.relay.stop();
    await this.bus.close();
  }
}
