export { EsdbEventStore } from './esdb-event-store.adapter';
export { translateEsdbError, type EsdbErrorContext } from './esdb-errors';
