export * from './event-store.port';
export * from './event-store.errors';
export * from './tokens';
export * from './aggregate';
export * from './open-event-store';
// The embedded adapter. The contract suite (event-store.contract.ts) is test code and is not exported here.
export {
  type EventRow as StoredEventRow,
  readStoredRowPages,
  SqliteEventStore,
  type SqliteEventStoreOptions,
} from './sqlite/sqlite-event-store.adapter';
export * from './validate-append';
export { attachJsonText, jsonTextOf, storedTextOf, type EventJsonText } from './json-text';
export * from './catch-up-projection';
