// Verify's hash pass in a worker thread, at its edges: a store written while it is verified is judged as of the
// instant verify started, by both passes alike; a worker that cannot read the store fails verify as a source
// error (exit code 2 in the CLI), never as a clean or dirty verdict.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '@cx/testing';
import { SqliteEventStore } from '../../../event-store/src/sqlite/sqlite-event-store.adapter';
import { ChainedEventStore } from '../chained-event-store';
import { buildRealisticStore } from '../testing/realistic-store.fixture';
import { SourceError, storeSource, type VerifySource } from './sources';
import { verifySources } from './verify';

describe('verify with the hash pass in a worker thread', () => {
  const dir = tempDir('cx-audit-hash-pass-');
  afterAll(() => dir.remove());

  it('judges a store being appended to as of the instant it started, and the appends on the next run', async () => {
    const file = join(dir.path, 'live.sqlite');
    const built = await buildRealisticStore(file, join(dir.path, 'live.pub.pem'), { rounds: 60 });
    const store = SqliteEventStore.open(file);
    const writer = new ChainedEventStore(store);
    try {
      const before = Number((await store.headPosition())?.commit);
      expect(before).toBeGreaterThan(built.events);
      // Events appended right after verify took the head, before either pass has read a row.
      const appended = 25;
      const base = storeSource(file, store);
      const source: VerifySource = {
        ...base,
        storedRows: async () => {
          const rows = await (base.storedRows as NonNullable<VerifySource['storedRows']>)();
          for (let i = 0; i < appended; i++) {
            await writer.appendToStream(`orderbook-live.${i % 5}`, { type: 'OrderPlaced', data: { seq: i } });
          }
          return rows;
        },
      };
      const report = await verifySources([source], { parallel: true });
      expect(report.violations).toEqual([]);
      expect(report.eventsChecked).toBe(before);

      // Through the audit decorator (how the exchange verifies its own store) the rows are found all the same.
      expect(await storeSource('chained', writer).storedRows?.()).toEqual({
        file: store.file,
        upTo: BigInt(before + appended),
      });
      const again = await verifySources([storeSource(file, writer)], { parallel: true });
      expect(again.violations).toEqual([]);
      expect(again.eventsChecked).toBe(before + appended);
    } finally {
      await writer.close();
    }
  });

  it('fails as a source error when the worker cannot read the store', async () => {
    const file = join(dir.path, 'good.sqlite');
    await buildRealisticStore(file, join(dir.path, 'good.pub.pem'), { rounds: 10 });
    const notAStore = join(dir.path, 'not-a-store.sqlite');
    writeFileSync(notAStore, 'this is not a SQLite file, though it is long enough to have a header. '.repeat(20));
    const store = SqliteEventStore.open(file);
    try {
      // The store's events, but rows said to be in a file that is no SQLite store.
      const source: VerifySource = {
        ...storeSource(file, store),
        storedRows: async () => ({ file: notAStore, upTo: 1_000n }),
      };
      const verdict = verifySources([source], { parallel: true });
      await expect(verdict).rejects.toThrow(SourceError);
      await expect(verdict).rejects.toThrow(/not a database/);
    } finally {
      await store.close();
    }
  });
});
