// Proves identity travels over a real Kafka broker: the relay publishes account and key events on
// cx.identity.v1, a service's own Kafka-fed read model rebuilds them field for field, and a key revoked in the
// store stops verifying at that service within the propagation lag.
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { SqliteEventStore } from '@cx/event-store';
import { KafkaBus, Relay } from '@cx/messaging';
import { systemClock } from '@cx/shared-kernel';
import { kafkaBrokers, tempDir, waitFor } from '@cx/testing';
import { openAccount, amendAccount } from '../application/account.handlers';
import { issueApiKey, revokeApiKey } from '../application/api-key.handlers';
import { ApiKeyVerifier } from '../application/api-key.verifier';
import { IdentityProjection } from '../application/identity.projection';
import { IdentityFeed, identityRelayRouteTo, identityTopicSpec } from './identity-integration';

const meta = () => {
  const id = randomUUID();
  return { correlationId: id, causationId: id, actor: { keyId: 'k-admin', role: 'admin' } };
};

describe('identity over Kafka', () => {
  const dir = tempDir();
  afterAll(() => dir.remove());

  it('rebuilds accounts and keys at a service and stops a revoked key there', async () => {
    const brokers = await kafkaBrokers();
    const store = SqliteEventStore.open(join(dir.path, 'gateway.sqlite'));
    const deps = { store, clock: systemClock };
    const gatewayBus = new KafkaBus({ brokers, clientId: 'gateway' });
    const serviceBus = new KafkaBus({ brokers, clientId: 'matching' });
    // A topic of its own (as cx.identity.v1 is laid out): one store feeds it, as in production, so positions
    // only grow; a shared topic would mix in other runs' stores.
    const topic = { ...identityTopicSpec, name: `cx.test.identity-${randomUUID().slice(0, 8)}.v1` };
    await gatewayBus.declareTopics([topic]);
    const relay = new Relay({
      name: `identity-${randomUUID()}`,
      store,
      bus: gatewayBus,
      routes: [identityRelayRouteTo(topic.name)],
    });
    const feed = new IdentityFeed(serviceBus, `matching-identity-${randomUUID()}`, topic);
    const remote = new ApiKeyVerifier(feed, systemClock);
    try {
      const accountId = `acct-${randomUUID().slice(0, 8)}`;
      await openAccount(
        deps,
        {
          accountId,
          legalName: '算力 Provider Ltd',
          kind: 'provider',
          creditLine: '1000.50',
          orderLimits: { maxOpenQuantityLots: '500' },
        },
        meta(),
      );
      await amendAccount(
        deps,
        { accountId, timezone: 'Asia/Shanghai', orderLimits: { maxOpenNotional: '99999.99' } },
        meta(),
      );
      const issued = await issueApiKey(
        deps,
        { role: 'trader', accounts: [accountId], expiresAt: null, label: 'desk' },
        meta(),
      );
      await relay.start();
      await feed.start();

      await waitFor(() => remote.verify(issued.key).ok, {
        timeoutMs: 30_000,
        what: 'the key to verify at the service',
      });
      // The service's model equals the store-fed one, field for field.
      const local = new IdentityProjection(store);
      await local.ready();
      expect(feed.model.account(accountId)).toEqual(local.model.account(accountId));
      expect(feed.model.key(issued.apiKey.keyId)).toEqual(local.model.key(issued.apiKey.keyId));
      await local.stop();
      expect(JSON.stringify(feed.model.key(issued.apiKey.keyId))).not.toContain(issued.key);

      const revokedAt = Date.now();
      await revokeApiKey(deps, { keyId: issued.apiKey.keyId, reason: 'rotated' }, meta());
      await waitFor(
        () => {
          const v = remote.verify(issued.key);
          return !v.ok && v.reason === 'revoked';
        },
        { timeoutMs: 30_000, what: 'the revocation to reach the service' },
      );
      process.stderr.write(
        `identity over Kafka: revocation effective at the service after ${Date.now() - revokedAt} ms\n`,
      );
    } finally {
      await feed.stop();
      await relay.stop();
      await serviceBus.close();
      await gatewayBus.close();
      await store.close();
    }
  });
});
