// Proves verify finds every way a malicious operator might corrupt a real store (changed byte, deleted, reordered
// or forged events, a rewritten chain, a forged checkpoint), each at its position, and that the untouched store
// verifies clean.
import Database from 'better-sqlite3';
import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '@cx/testing';
import { SqliteEventStore } from '../../event-store/src/sqlite/sqlite-event-store.adapter';
import { AUDIT_CHECKPOINT, signedText } from './checkpoint';
import { HASH, PREV_HASH, eventHash } from './hash-chain';
import { generateSigningKey, parsePublicKey, signText } from './signing-key';
import { storeSource } from './verify/sources';
import { type VerifyReport, verifySources } from './verify/verify';
import { buildRealisticStore, type RealisticStore } from './testing/realistic-store.fixture';
import { readFileSync } from 'node:fs';

interface Row {
  position: number;
  stream: string;
  revision: number;
  event_id: string;
  type: string;
  data: string;
  metadata: string;
}

let dir: { path: string; remove: () => void };
let original: string;
let built: RealisticStore;
let copies = 0;

beforeAll(async () => {
  dir = tempDir('cx-audit-tamper-');
  original = join(dir.path, 'original.sqlite');
  built = await buildRealisticStore(original, join(dir.path, 'audit.pub.pem'));
}, 60_000);
afterAll(() => dir.remove());

/** A copy of the original store, tampered with by `tamper` through raw SQL, then verified. */
const tamperAndVerify = async (tamper: (db: Database.Database) => void, parallel: boolean): Promise<VerifyReport> => {
  const file = join(dir.path, `copy-${++copies}.sqlite`);
  copyFileSync(original, file);
  const db = new Database(file);
  try {
    tamper(db);
  } finally {
    db.close();
  }
  const store = SqliteEventStore.open(file);
  try {
    return await verifySources([storeSource(file, store)], {
      trustedKeys: [parsePublicKey(readFileSync(built.publicKeyPath, 'utf8'))],
      parallel,
    });
  } finally {
    await store.close();
  }
};

const rows = (db: Database.Database, where = '1 = 1', ...params: unknown[]): Row[] =>
  db.prepare(`SELECT * FROM events WHERE ${where} ORDER BY position`).all(...params) as Row[];

const rehash = (r: Row, metadata: Record<string, unknown>, data: unknown): string =>
  eventHash({ stream: r.stream, revision: BigInt(r.revision), id: r.event_id, type: r.type, data, metadata });

const lastCheckpoint = (db: Database.Database): Row => rows(db, 'type = ?', AUDIT_CHECKPOINT).at(-1) as Row;

/** An ordinary event in the middle of a stream, before the last checkpoint. */
const middleEvent = (db: Database.Database, stream = 'ledger-2'): Row => {
  const all = rows(db, 'stream = ?', stream);
  return all[Math.floor(all.length / 3)] as Row;
};

const found = (report: VerifyReport, check: string, position: number) =>
  report.violations.filter((v) => v.check === check && v.position === `${position}/${position}`);

// Both ways verify reads a SQLite store: chains and checkpoints in a worker thread beside the rules, and every
// checker on one thread.
describe.each([
  ['chains checked in a worker thread', true],
  ['every check on one thread', false],
])('audit verify against a tampered store, %s', (_how, parallel) => {
  const verifyTampered = (tamper: (db: Database.Database) => void): Promise<VerifyReport> =>
    tamperAndVerify(tamper, parallel);

  it('the untouched store verifies clean, checkpoints included', async () => {
    const report = await verifyTampered(() => undefined);
    expect(report.violations).toEqual([]);
    expect(report.clean).toBe(true);
    expect(report.checkpointsChecked).toBe(2);
    expect(report.checkpointsSignedByTrustedKey).toBe(2);
    expect(report.eventsChecked).toBeGreaterThan(built.events);
  });

  it('finds one changed byte in an event’s data', async () => {
    let target!: Row;
    const report = await verifyTampered((db) => {
      target = middleEvent(db);
      const data = target.data.replace('.25', '.35');
      db.prepare('UPDATE events SET data = ? WHERE position = ?').run(data, target.position);
    });
    expect(found(report, 'chain.hash', target.position)).toHaveLength(1);
    expect(report.violations[0]).toMatchObject({ stream: 'ledger-2', revision: String(target.revision) });
    expect(report.violationCount).toBe(1);
  });

  it('finds a changed byte in metadata', async () => {
    let target!: Row;
    const report = await verifyTampered((db) => {
      target = middleEvent(db, 'account-0');
      db.prepare('UPDATE events SET metadata = replace(metadata, ?, ?) WHERE position = ?').run(
        'trader',
        'admin!',
        target.position,
      );
    });
    expect(found(report, 'chain.hash', target.position)).toHaveLength(1);
  });

  it('finds a deleted event at the position of the event after it', async () => {
    let next!: Row;
    const report = await verifyTampered((db) => {
      const target = middleEvent(db);
      next = rows(db, 'stream = ? AND revision = ?', target.stream, target.revision + 1)[0] as Row;
      db.prepare('DELETE FROM events WHERE position = ?').run(target.position);
    });
    expect(found(report, 'chain.revision', next.position)).toHaveLength(1);
    expect(found(report, 'chain.prev-hash', next.position)).toHaveLength(1);
  });

  it('finds two events of a stream swapped', async () => {
    let a!: Row;
    const report = await verifyTampered((db) => {
      a = middleEvent(db);
      const b = rows(db, 'stream = ? AND revision = ?', a.stream, a.revision + 1)[0] as Row;
      // Swap their places in $all (the unique index forbids duplicates, so via a free position).
      const free = (db.prepare('SELECT max(position) + 1 AS p FROM events').get() as { p: number }).p;
      db.prepare('UPDATE events SET position = ? WHERE position = ?').run(free, a.position);
      db.prepare('UPDATE events SET position = ? WHERE position = ?').run(a.position, b.position);
      db.prepare('UPDATE events SET position = ? WHERE position = ?').run(b.position, free);
    });
    expect(found(report, 'chain.revision', a.position)).toHaveLength(1);
    expect(report.clean).toBe(false);
  });

  it('finds a forged event with a valid-looking hash but a made-up previous hash', async () => {
    let position = 0;
    const report = await verifyTampered((db) => {
      const head = rows(db, 'stream = ?', 'ledger-5').at(-1) as Row;
      const metadata = { correlationId: 'forged', [PREV_HASH]: 'ab'.repeat(32) } as Record<string, unknown>;
      const data = { seq: 0, price: '0.01', note: 'forged' };
      const forged = { ...head, revision: head.revision + 1, event_id: '00000000-0000-4000-8000-000000000001' };
      metadata[HASH] = rehash(forged, metadata, data);
      position = Number(
        db
          .prepare(
            'INSERT INTO events (stream, revision, event_id, type, data, metadata, created) VALUES (?, ?, ?, ?, ?, ?, 0)',
          )
          .run(
            forged.stream,
            forged.revision,
            forged.event_id,
            forged.type,
            JSON.stringify(data),
            JSON.stringify(metadata),
          ).lastInsertRowid,
      );
    });
    expect(found(report, 'chain.prev-hash', position)).toHaveLength(1);
    expect(found(report, 'chain.hash', position)).toHaveLength(0);
  });

  it('finds a rewritten stream whose chain is consistent again, through the checkpoint that pinned its head', async () => {
    let checkpoint!: Row;
    const report = await verifyTampered((db) => {
      const target = middleEvent(db);
      checkpoint = lastCheckpoint(db);
      let prev: string | null = null;
      for (const r of rows(db, 'stream = ? AND revision >= ?', target.stream, target.revision)) {
        const data = JSON.parse(r.data) as Record<string, unknown>;
        if (r.position === target.position) data.price = '0.01';
        const metadata = JSON.parse(r.metadata) as Record<string, unknown>;
        if (prev !== null) metadata[PREV_HASH] = prev;
        metadata[HASH] = rehash(r, metadata, data);
        prev = metadata[HASH] as string;
        db.prepare('UPDATE events SET data = ?, metadata = ? WHERE position = ?').run(
          JSON.stringify(data),
          JSON.stringify(metadata),
          r.position,
        );
      }
    });
    expect(report.violations.filter((v) => v.check.startsWith('chain.'))).toEqual([]);
    expect(found(report, 'checkpoint.head', checkpoint.position).length).toBeGreaterThan(0);
    expect(found(report, 'checkpoint.global-hash', checkpoint.position)).toHaveLength(1);
  });

  it('finds a checkpoint whose heads were forged to match, by its signature', async () => {
    let checkpoint!: Row;
    const report = await verifyTampered((db) => {
      checkpoint = lastCheckpoint(db);
      const data = JSON.parse(checkpoint.data) as { streamCount: number };
      data.streamCount += 1;
      const metadata = JSON.parse(checkpoint.metadata) as Record<string, unknown>;
      metadata[HASH] = rehash(checkpoint, metadata, data);
      db.prepare('UPDATE events SET data = ?, metadata = ? WHERE position = ?').run(
        JSON.stringify(data),
        JSON.stringify(metadata),
        checkpoint.position,
      );
    });
    expect(found(report, 'checkpoint.signature', checkpoint.position)).toHaveLength(1);
    expect(report.violations.filter((v) => v.check.startsWith('chain.'))).toEqual([]);
  });

  it('finds a checkpoint re-signed with another key', async () => {
    let checkpoint!: Row;
    const report = await verifyTampered((db) => {
      checkpoint = lastCheckpoint(db);
      const attacker = generateSigningKey();
      const data = JSON.parse(checkpoint.data) as Record<string, unknown>;
      data.keyId = attacker.keyId;
      data.publicKey = attacker.publicKey.export({ type: 'spki', format: 'der' }).toString('base64');
      data.signature = signText(attacker, signedText(data as never));
      const metadata = JSON.parse(checkpoint.metadata) as Record<string, unknown>;
      metadata[HASH] = rehash(checkpoint, metadata, data);
      db.prepare('UPDATE events SET data = ?, metadata = ? WHERE position = ?').run(
        JSON.stringify(data),
        JSON.stringify(metadata),
        checkpoint.position,
      );
    });
    expect(found(report, 'checkpoint.key', checkpoint.position)).toHaveLength(1);
  });
});
