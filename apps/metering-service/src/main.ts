import { loadMeteringConfig, MeteringModule, meteringRelayRoutes } from '@cx/metering';
import { runHost } from '../../gateway/src/distributed/host';
import { SERVICE_PREFIXES } from '../../gateway/src/routes';
import { serviceTopicSpecs } from '../../gateway/src/distributed/topics';

// `npm run start:metering` (distributed mode): meters and usage on a store of their own, published on
// cx.metering.usage.v1 by the durable relay; allocations, period closes and integrators' submissions heard from
// Kafka.
runHost({
  name: 'metering',
  plan: () => ({
    imports: [MeteringModule.forRoot(loadMeteringConfig(process.env))],
    relayRoutes: meteringRelayRoutes,
    topics: serviceTopicSpecs(),
    identity: 'feed',
    ownedPrefixes: [...SERVICE_PREFIXES.metering],
  }),
});
