// Proves the transfer index answers as a Map of id to record would, added to only: every id found through growth,
// ids never added not found, a repeated id refused, listing in the order added. Also when the hashes of many ids
// collide (forced here), so that probe windows fill up and ids overflow.
import fc from 'fast-check';
import type { TransferRecord } from './ledger.events';
import { hashId, TransferIndex } from './ledger.transfer-index';

const record = (id: string): TransferRecord => ({
  amount: '1.00',
  creditAccount: 'a:cash',
  debitAccount: 'b:cash',
  id,
});

/** The real hash, and hashes that put many ids on the same few slots. */
const hashes: Array<[string, (id: string) => number]> = [
  ['fnv', hashId],
  ['eight values', (id) => hashId(id) & 7],
  ['one value', () => 42],
  ['negative and spread', (id) => -1 - (hashId(id) & 0xff)],
];

describe('transfer index', () => {
  it.each(hashes)('answers as a map does, with the %s hash, through growth from any size', (_, hash) => {
    fc.assert(
      fc.property(
        // Long enough for a full probe window (32 slots) of one hash, and for the table to grow several times.
        fc.array(fc.string({ unit: fc.constantFrom('a', 'b', 'c', '1', '2', '.', ':'), maxLength: 6 }), {
          maxLength: 400,
          size: 'max',
        }),
        fc.array(fc.string({ maxLength: 6 }), { maxLength: 50 }),
        fc.constantFrom(1, 2, 8, 1024),
        (adds, lookups, initialSlots) => {
          const index = new TransferIndex(hash, initialSlots);
          const reference = new Map<string, TransferRecord>();
          // Mismatches are collected and asserted once: an expect per operation would dominate the run.
          const wrong: unknown[] = [];
          for (const id of adds) {
            const r = record(id);
            if (index.add(r) !== !reference.has(id)) wrong.push(['add', id]);
            if (!reference.has(id)) reference.set(id, r);
          }
          for (const [id, r] of reference) if (index.get(id) !== r) wrong.push(['get', id]);
          for (const id of lookups) {
            if (index.get(id) !== reference.get(id) || index.has(id) !== reference.has(id)) wrong.push(['look', id]);
          }
          expect(wrong).toEqual([]);
          expect(index.size).toBe(reference.size);
          expect([...index]).toEqual([...reference]);
          expect([...index.keys()]).toEqual([...reference.keys()]);
          expect([...index.values()]).toEqual([...reference.values()]);
        },
      ),
      { numRuns: 100 },
    );
  });

  it('finds every id of a large ledger and none it was not given', () => {
    const index = new TransferIndex();
    const n = 100_000;
    for (let k = 0; k < n; k++) index.add(record(`big-h${k}`));
    let lost = 0;
    let found = 0;
    for (let k = 0; k < n; k++) {
      if (index.get(`big-h${k}`)?.id !== `big-h${k}`) lost++;
      if (index.has(`big-s${k}`)) found++;
    }
    expect([lost, found, index.size]).toEqual([0, 0, n]);
  });
});
