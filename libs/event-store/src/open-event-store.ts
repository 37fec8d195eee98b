import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { EventStore } from './event-store.port';

/**
 * Opens the store a URL names: `sqlite:<path>` (the embedded default) or `esdb://…` / `esdb+discover://…`
 * (EventStoreDB). Each adapter is loaded only when asked for, so an embedded process never loads the gRPC client.
 */
export const openEventStore = async (url: string): Promise<EventStore> => {
  if (url.startsWith('sqlite:')) {
    const path = resolve(url.slice('sqlite:'.length));
    if (path.length === 0) throw new TypeError('CX_STORE "sqlite:" needs a file path');
    mkdirSync(dirname(path), { recursive: true });
    const { SqliteEventStore } = await import('./sqlite/sqlite-event-store.adapter');
    return SqliteEventStore.open(path);
  }
  if (/^esdb(\+discover)?:\/\//.test(url)) {
    const { EsdbEventStore } = await import('./esdb/esdb-event-store.adapter');
    return EsdbEventStore.fromConnectionString(url);
  }
  throw new TypeError(`unknown event store URL "${url}": use sqlite:<path> or esdb://…`);
};
