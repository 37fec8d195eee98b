import { dirname, join } from 'node:path';
import { IdentityService, identityRelayRouteTo } from '@cx/identity';
import { loadWebhooksConfig, webhooksConsumedTopics, WebhooksModule } from '@cx/webhooks';
import { type GatewayConfig, loadGatewayConfig } from './distributed/config';
import { runHost } from './distributed/host';
import { topicSpecsFor } from './distributed/topics';
import { registerProxy } from './proxy';
import { SERVICE_PREFIXES, type ServiceName } from './routes';

// `npm run start:gateway` (distributed mode): the one public HTTP API. Identity (accounts, keys, /v1/me), the
// audit endpoints, and webhooks and participant alerts (/v1/webhooks, /v1/alert-rules, /v1/alerts/mine: the
// webhooks module, which hears the other services on Kafka and keeps its streams in the gateway's store) are
// served here over the gateway's own store, whose relay publishes identity on the identity topic; every other /v1
// route is forwarded to the service that owns it (GATEWAY_PREFIXES in routes.ts say which stay here).
let gateway: GatewayConfig;

runHost({
  name: 'gateway',
  plan: ({ config, distributed }) => {
    gateway = loadGatewayConfig();
    return {
      imports: [
        WebhooksModule.forRoot({
          ...loadWebhooksConfig(process.env, dirname(config.auditKeyPath)),
          // Consumers resume from committed offsets here: the alert rules' inputs are kept for the next start.
          recordAlertInputs: true,
        }),
      ],
      topics: topicSpecsFor(webhooksConsumedTopics),
      relayRoutes: [identityRelayRouteTo(distributed.identityTopic)],
      identity: 'store',
      // The web console, built by `npm run build` into dist/web (this file runs from dist/apps/gateway/src).
      console: { root: join(__dirname, '../../../web') },
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
