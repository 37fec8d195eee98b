// Proves ChainedEventStore keeps the EventStore contract on a real SQLite file while chaining every event.
import { join } from 'node:path';
import { tempDir } from '@cx/testing';
import { runEventStoreContract } from '../../event-store/src/event-store.contract';
import { SqliteEventStore } from '../../event-store/src/sqlite/sqlite-event-store.adapter';
import { ChainedEventStore } from './chained-event-store';

runEventStoreContract('ChainedEventStore(SQLite)', async () => {
  const dir = tempDir('cx-audit-contract-');
  const store = new ChainedEventStore(SqliteEventStore.open(join(dir.path, 'events.db')));
  return {
    store,
    cleanup: async () => {
      await store.close();
      dir.remove();
    },
  };
});
