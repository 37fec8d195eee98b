// Proves with random inputs (fast-check) that the ledger always balances to zero, that ids are idempotent, and that
// redelivering inputs in any order leaves the same final balances as delivering each once.
import fc from 'fast-check';
import {
  applyDecided,
  assertLedgerBalanced,
  decideCreditLine,
  decideExpiry,
  decideTransfers,
  evolve,
  initialLedger,
  type LedgerState,
  type TransferInput,
} from './ledger.decider';

const PARTICIPANTS = ['a', 'b', 'c'];
const ACCOUNTS = [
  ...PARTICIPANTS.flatMap((p) => [`${p}:cash`, `${p}:held`, `${p}:payable`, `${p}:receivable`]),
  'exchange:fees',
  'exchange:clearing',
  'world:CNY',
];
const t0 = Date.parse('2026-03-10T00:00:00Z');

const fresh = (): LedgerState => {
  const s = initialLedger('CNY');
  PARTICIPANTS.forEach((p, i) =>
    decideCreditLine(
      {
        type: 'SetCreditLine',
        data: { participantAccountId: p, creditLine: `${i * 50}` },
        metadata: { now: new Date(t0) },
      },
      s,
    ).forEach((e) => evolve(s, e)),
  );
  return s;
};

const id = fc.integer({ min: 0, max: 40 }).map((n) => `t${n}`);
const account = fc.constantFrom(...ACCOUNTS);
const amount = fc.integer({ min: 0, max: 20_000 }).map((n) => (n / 100).toFixed(n % 3 === 0 ? 0 : 2));
const transfer: fc.Arbitrary<TransferInput> = fc.oneof(
  fc.record({ id, debitAccount: account, creditAccount: account, amount, linked: fc.boolean() }),
  fc.record({
    id,
    debitAccount: account,
    creditAccount: account,
    amount,
    phase: fc.constant('pending' as const),
    timeoutMs: fc.option(fc.integer({ min: 1, max: 5_000 }), { nil: undefined }),
    linked: fc.boolean(),
  }),
  fc.record({ id, phase: fc.constant('post' as const), pendingId: id, amount, linked: fc.boolean() }),
  fc.record({ id, phase: fc.constant('void' as const), pendingId: id, linked: fc.boolean() }),
);
/** A batch: one to three requests, each a few transfers, decided at some time after the start. */
const batch = fc.record({
  atMs: fc.integer({ min: 0, max: 10_000 }),
  requests: fc.array(fc.array(transfer, { minLength: 1, maxLength: 6 }), { minLength: 1, maxLength: 3 }),
  expire: fc.boolean(),
});
type Batch = { atMs: number; requests: TransferInput[][]; expire: boolean };

const run = (s: LedgerState, b: Batch) => {
  const now = new Date(t0 + b.atMs);
  if (b.expire) decideExpiry({ type: 'ExpirePendingTransfers', metadata: { now } }, s).forEach((e) => evolve(s, e));
  const d = decideTransfers({ type: 'CreateTransfers', data: { requests: b.requests }, metadata: { now } }, s);
  d.events.forEach((e) => evolve(s, e));
  return d.results;
};

const balances = (s: LedgerState) =>
  [...s.accounts]
    .map(([k, a]) => `${k}=${a.debitsPosted}/${a.creditsPosted}/${a.debitsPending}/${a.creditsPending}`)
    .filter((x) => !x.endsWith('=0/0/0/0'))
    .sort();

describe('ledger properties', () => {
  it('every balance sums to zero after random transfers, holds, posts, voids, expiries and linked chains', () => {
    fc.assert(
      fc.property(fc.array(batch, { maxLength: 12 }), (batches) => {
        const s = fresh();
        for (const b of batches) {
          const results = run(s, b);
          // Every transfer gets exactly one result.
          expect(results.map((r) => r.length)).toEqual(b.requests.map((r) => r.length));
          assertLedgerBalanced(s);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('applying a decision whole leaves exactly the state that evolving its events leaves', () => {
    // The live ledger applies its decisions (applyDecided); a restart replays their events (evolve). Both must
    // arrive at the same accounts, transfers, holds, expiry queue and clock, batch after batch.
    const snapshot = (s: LedgerState) => ({
      atMs: s.atMs,
      accounts: [...s.accounts].sort(([a], [b]) => (a < b ? -1 : 1)),
      transfers: [...s.transfers].sort(([a], [b]) => (a < b ? -1 : 1)),
      pendings: [...s.pendings].sort(([a], [b]) => (a < b ? -1 : 1)),
      // A heap's layout depends on push order, and resolved holds leave it lazily (only from the top): what counts
      // is which holds still pending it will expire, and what is on top.
      expiries: [...s.expiries]
        .filter(([, id]) => s.pendings.get(id)?.status === 'pending')
        .sort((a, b) => a[0] - b[0] || (a[1] < b[1] ? -1 : 1)),
      top: s.expiries[0]?.[0],
    });
    fc.assert(
      fc.property(fc.array(batch, { maxLength: 12 }), (batches) => {
        const evolved = fresh();
        const applied = fresh();
        for (const b of batches) {
          const now = new Date(t0 + b.atMs);
          for (const s of [evolved, applied]) {
            if (b.expire) {
              decideExpiry({ type: 'ExpirePendingTransfers', metadata: { now } }, s).forEach((e) => evolve(s, e));
            }
          }
          const cmd = { type: 'CreateTransfers' as const, data: { requests: b.requests }, metadata: { now } };
          const d1 = decideTransfers(cmd, evolved);
          d1.events.forEach((e) => evolve(evolved, e));
          // Deciding leaves the state as it was (the overlay copies what it changes): a deep copy taken before
          // deciding still equals the state after.
          const before = structuredClone(snapshot(applied));
          const d2 = decideTransfers(cmd, applied);
          expect(snapshot(applied)).toEqual(before);
          expect(d2.results).toEqual(d1.results);
          applyDecided(applied, d2);
          expect(snapshot(applied)).toEqual(snapshot(evolved));
          for (const s of [evolved, applied]) {
            // Every recorded transfer is found by its id (the index also lists what it cannot find).
            expect([...s.transfers].filter(([tid, r]) => s.transfers.get(tid) !== r)).toEqual([]);
            // The expiry queue carries the very holds `pendings` has, so their status is read without a lookup.
            expect(s.expiries.filter(([, hid, hold]) => s.pendings.get(hid) !== hold)).toEqual([]);
          }
        }
      }),
      { numRuns: 300 },
    );
  });

  it('answers exists for the same id and body, exists_with_different_fields for another body', () => {
    fc.assert(
      fc.property(fc.array(batch, { maxLength: 8 }), amount, (batches, other) => {
        const s = fresh();
        batches.forEach((b) => run(s, b));
        for (const [tid, record] of s.transfers) {
          const again: TransferInput = { ...record, linked: undefined };
          if (record.linked) continue;
          const [[same]] = run(s, { atMs: 0, expire: false, requests: [[again]] }) as unknown as [[{ result: string }]];
          expect(same.result).toBe('exists');
          const changed = { ...again, amount: other, ref: record.ref === 'x' ? 'y' : 'x' };
          const [[diff]] = run(s, { atMs: 0, expire: false, requests: [[changed]] }) as unknown as [
            [{ result: string }],
          ];
          expect([tid, diff.result]).toEqual([tid, 'exists_with_different_fields']);
        }
      }),
      { numRuns: 150 },
    );
  });

  it('redelivering earlier batches in any order and at any point leaves the same final balances', () => {
    fc.assert(
      fc.property(
        fc.array(batch, { minLength: 1, maxLength: 8 }),
        fc.array(fc.tuple(fc.nat(), fc.nat()), { maxLength: 10 }),
        (unordered, redeliveries) => {
          // Time moves forwards, so an earlier batch redelivered later cannot advance the clock (and expire holds).
          const batches = [...unordered].sort((a, b) => a.atMs - b.atMs);
          const once = fresh();
          batches.forEach((b) => run(once, b));
          // Redeliver batch j again right after batch i (j ≤ i: only what was already delivered can come again).
          // Failed transfers are not recorded (as in TigerBeetle), so a refused one may succeed later; what must be
          // idempotent is redelivery of what the ledger accepted. Keep the requests that were accepted whole.
          const twice = fresh();
          const accepted: Batch[] = [];
          batches.forEach((b, i) => {
            const results = run(twice, b);
            const requests = b.requests.filter((_, r) => (results[r] ?? []).every((x) => x.result === 'ok'));
            accepted.push({ ...b, expire: false, requests });
            for (const [x, y] of redeliveries) {
              if (x % batches.length !== i) continue;
              // Redeliver batch j again right after batch i (j ≤ i: only what was delivered can come again).
              const again = accepted[y % (i + 1)] as Batch;
              const answers = run(twice, again).flat();
              expect(answers.every((a) => a.result === 'exists')).toBe(true);
            }
          });
          expect(balances(twice)).toEqual(balances(once));
          assertLedgerBalanced(twice);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('transfers that cannot fail commute: any delivery order gives the same balances', () => {
    const unlimited = ACCOUNTS.filter((a) => !a.endsWith(':cash') && !a.endsWith(':held') && !a.startsWith('world'));
    const simple = fc.record({
      id,
      debitAccount: fc.constantFrom(...unlimited),
      creditAccount: fc.constantFrom(...unlimited),
      amount,
    });
    fc.assert(
      fc.property(
        fc.uniqueArray(simple, { selector: (t) => t.id, maxLength: 20 }),
        fc.infiniteStream(fc.nat()),
        (ts, seeds) => {
          const inOrder = fresh();
          ts.forEach((t) => run(inOrder, { atMs: 0, expire: false, requests: [[t]] }));
          const shuffled: TransferInput[] = [...ts, ...ts];
          const it = seeds[Symbol.iterator]();
          for (let i = shuffled.length - 1; i > 0; i--) {
            const j = (it.next().value as number) % (i + 1);
            [shuffled[i], shuffled[j]] = [shuffled[j] as TransferInput, shuffled[i] as TransferInput];
          }
          const other = fresh();
          shuffled.forEach((t) => run(other, { atMs: 0, expire: false, requests: [[t]] }));
          expect(balances(other)).toEqual(balances(inOrder));
        },
      ),
      { numRuns: 200 },
    );
  });
});
