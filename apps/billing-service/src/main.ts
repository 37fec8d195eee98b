import { BillingModule, billingRelayRoutes, loadBillingConfig } from '@cx/billing';
import { runHost } from '../../gateway/src/distributed/host';
import { SERVICE_PREFIXES } from '../../gateway/src/routes';
import { serviceTopicSpecs } from '../../gateway/src/distributed/topics';

// `npm run start:billing` (distributed mode): offers, the ledger, periods, statements and disputes on a store of
// their own, published on cx.billing.* by the durable relay; trades, allocations, usage and guidance heard from
// Kafka, accounts and credit lines read from the Kafka-fed identity projection.
runHost({
  name: 'billing',
  plan: () => ({
    imports: [BillingModule.forRoot(loadBillingConfig(process.env))],
    relayRoutes: billingRelayRoutes,
    topics: serviceTopicSpecs(),
    identity: 'feed',
    ownedPrefixes: [...SERVICE_PREFIXES.billing],
  }),
});
