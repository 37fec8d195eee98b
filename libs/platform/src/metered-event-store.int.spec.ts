// Proves the store every module is given (MeteredEventStore: correlation stamped on appends, appends counted) keeps
// the EventStore contract over a real SQLite file, and that inside a request's context one malformed append of an
// appendToStreams call fails alone.
import { join } from 'node:path';
import { withCorrelation } from '@cx/messaging';
import { tempDir } from '@cx/testing';
import { InvalidAppend } from '../../event-store/src/event-store.errors';
import { inTempDir, runEventStoreContract } from '../../event-store/src/event-store.contract';
import { SqliteEventStore } from '../../event-store/src/sqlite/sqlite-event-store.adapter';
import { MeteredEventStore, Metrics } from './metrics';

runEventStoreContract(
  'MeteredEventStore(SQLite)',
  inTempDir('cx-metered-contract-', (file) => new MeteredEventStore(SqliteEventStore.open(file), new Metrics())),
);

describe('MeteredEventStore.appendToStreams in a request context', () => {
  it('stamps the correlation on each append, counts what was written, and fails a malformed one alone', async () => {
    const dir = tempDir('cx-metered-');
    const metrics = new Metrics();
    const store = new MeteredEventStore(SqliteEventStore.open(join(dir.path, 'events.db')), metrics);
    try {
      const outcomes = await withCorrelation({ correlationId: 'corr-9', causationId: 'cause-9' }, () =>
        store.appendToStreams([
          { stream: 'm-1', events: { type: 'UsageRecorded', data: { n: 1 } }, expectedRevision: 'no_stream' },
          { stream: 'm-2', events: [null as never], expectedRevision: 'no_stream' },
          { stream: 'm-3', events: [{ type: 'UsageRecorded', data: { n: 3 } }], expectedRevision: 'no_stream' },
        ]),
      );
      expect(outcomes.map((o) => o.ok)).toEqual([true, false, true]);
      const refused = outcomes[1];
      expect(refused?.ok === false && refused.error).toBeInstanceOf(InvalidAppend);
      for (const stream of ['m-1', 'm-3']) {
        for await (const e of store.readStream(stream)) {
          expect(e.metadata).toMatchObject({ correlationId: 'corr-9', causationId: 'cause-9' });
        }
      }
      const text = await metrics.registry.metrics();
      expect(text).toMatch(/cx_events_appended_total\{type="UsageRecorded"\} 2\n/);
    } finally {
      await store.close();
      dir.remove();
    }
  });
});
