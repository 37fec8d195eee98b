import { loadMatchingConfig, MatchingModule, matchingRelayRoutes } from '@cx/matching';
import { runHost } from '../../gateway/src/distributed/host';
import { SERVICE_PREFIXES } from '../../gateway/src/routes';
import { serviceTopicSpecs } from '../../gateway/src/distributed/topics';

// `npm run start:matching` (distributed mode): instruments, order books, trades and allocations on a store of
// their own, published on cx.matching.* by the durable relay; guidance and market status heard from Kafka,
// account limits read from the Kafka-fed identity projection.
runHost({
  name: 'matching',
  plan: () => {
    const config = loadMatchingConfig(process.env);
    return {
      imports: [MatchingModule.forRoot(config)],
      relayRoutes: matchingRelayRoutes(config),
      topics: serviceTopicSpecs(),
      identity: 'feed',
      ownedPrefixes: [...SERVICE_PREFIXES.matching],
    };
  },
});
