// Proves the EventStoreDB adapter keeps the EventStore contract, against a real EventStoreDB server when one is
// reachable; where none is, it says so in the output and registers one skipped test carrying the reason.
import { spawnSync } from 'node:child_process';
import { runEventStoreContract } from '../event-store.contract';
import { EsdbEventStore } from './esdb-event-store.adapter';

/** A Docker engine answers when `docker info` exits 0; a missing binary or a stopped daemon does not. */
const dockerAnswers = (): boolean => {
  const r = spawnSync('docker', ['info'], { stdio: 'ignore', timeout: 15_000 });
  return r.error === undefined && r.status === 0;
};

const skipReason = (connectionString: string | undefined): string | undefined => {
  if (connectionString) return undefined;
  // testcontainers is not a dependency, so even with Docker this suite does not start a server itself.
  return dockerAnswers()
    ? 'EventStoreDB contract SKIPPED: ESDB_CONNECTION_STRING not set; a Docker engine answers, but this suite does not start EventStoreDB itself (testcontainers is not installed). Start EventStoreDB 22.6 or later (e.g. in insecure mode on port 2113) and set ESDB_CONNECTION_STRING=esdb://localhost:2113?tls=false'
    : 'EventStoreDB contract SKIPPED: ESDB_CONNECTION_STRING not set and no Docker engine on this machine';
};

const connectionString = process.env.ESDB_CONNECTION_STRING;
const reason = skipReason(connectionString);

if (reason !== undefined) {
  // Straight to stderr: jest swallows console output of a file whose tests are all skipped.
  process.stderr.write(`\n${reason}\n\n`);
  describe('EventStore contract: EventStoreDB', () => {
    it.skip(reason, () => undefined);
  });
} else {
  runEventStoreContract(
    'EventStoreDB',
    async () => {
      const store = EsdbEventStore.fromConnectionString(connectionString as string);
      return { store, cleanup: () => store.close() };
    },
    // A remote server delivers subscriptions more slowly than the embedded store; every test uses fresh streams,
    // so a shared server needs no cleaning between runs.
    { timeoutMs: 30_000 },
  );
}
