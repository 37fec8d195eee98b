import {
  loadPricingGuidanceConfig,
  PricingGuidanceModule,
  catalogRelayRoute,
  guidanceRelayRoute,
  surveillanceRelayRoutes,
} from '@cx/pricing-guidance';
import { runHost } from '../../gateway/src/distributed/host';
import { SERVICE_PREFIXES } from '../../gateway/src/routes';
import { serviceTopicSpecs } from '../../gateway/src/distributed/topics';

// `npm run start:pricing-guidance` (distributed mode): the catalog, price bands, reference index, alerts and
// halts on a store of their own, published on cx.pricing.* by the durable relay; trades heard from Kafka.
runHost({
  name: 'pricing-guidance',
  plan: () => ({
    imports: [PricingGuidanceModule.forRoot(loadPricingGuidanceConfig(process.env))],
    relayRoutes: [catalogRelayRoute, guidanceRelayRoute, ...surveillanceRelayRoutes],
    topics: serviceTopicSpecs(),
    identity: 'feed',
    ownedPrefixes: [...SERVICE_PREFIXES['pricing-guidance']],
  }),
});
