import { IdentityService, identityRelayRouteTo } from '@cx/identity';
import { type GatewayConfig, loadGatewayConfig } from './distributed/config';
import { runHost } from './distributed/host';
import { registerProxy } from './proxy';
import { SERVICE_PREFIXES, type ServiceName } from './routes';

// `npm run start:gateway` (distributed mode): the one public HTTP API. Identity (accounts, keys, /v1/me) and the
// audit endpoints are served here over the gateway's own store, whose relay publishes identity on the identity
// topic; every other /v1 route is forwarded to the service that owns it.
let gateway: GatewayConfig;

runHost({
  name: 'gateway',
  plan: ({ distributed }) => {
    gateway = loadGatewayConfig();
    return {
      imports: [],
      topics: [],
      relayRoutes: [identityRelayRouteTo(distributed.identityTopic)],
      identity: 'store',
    };
  },
  beforeListen: (app, { logger }) => {
    registerProxy(
      app.getHttpAdapter().getInstance(),
      (Object.keys(SERVICE_PREFIXES) as ServiceName[]).map((name) => ({
        name,
        url: gateway.upstreams[name],
        prefixes: [...SERVICE_PREFIXES[name]],
      })),
      {
        responseTimeoutMs: gateway.proxyTimeoutMs,
        onError: (upstream, e) => logger.warn({ err: e, upstream }, 'upstream request failed'),
      },
    );
  },
  afterInit: async (app) => {
    const identity = app.get(IdentityService);
    await identity.ready();
    const adminKey = await identity.ensureAdminKey();
    // Printed once, on the very first start: the key itself is stored only as a hash.
    if (adminKey) process.stdout.write(`\nAdmin API key: ${adminKey}\n(store it now: it is shown only once)\n\n`);
  },
});
