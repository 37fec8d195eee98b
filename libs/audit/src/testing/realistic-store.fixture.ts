import { writeFileSync } from 'node:fs';
import { SqliteEventStore } from '../../../event-store/src/sqlite/sqlite-event-store.adapter';
import { ChainedEventStore } from '../chained-event-store';
import { AuditCheckpointer } from '../checkpoint';
import { generateSigningKey, type SigningKey } from '../signing-key';

// A store as a scripted, realistic run leaves it: accounts, order books and ledger accounts written concurrently
// through ChainedEventStore over SQLite, a soft-deleted and recreated stream, and signed checkpoints (one in the
// middle, one at the end). Tests copy the file and tamper with the copy.

export interface RealisticStore {
  key: SigningKey;
  /** Where the checkpoint signer's public key (SPKI PEM) was written. */
  publicKeyPath: string;
  events: number;
}

export const buildRealisticStore = async (
  path: string,
  publicKeyPath: string,
  opts: { streams?: number; rounds?: number } = {},
): Promise<RealisticStore> => {
  const streams = opts.streams ?? 12;
  const rounds = opts.rounds ?? 150;
  const key = generateSigningKey();
  writeFileSync(publicKeyPath, key.publicKeyPem);
  const store = new ChainedEventStore(SqliteEventStore.open(path));
  const checkpointer = new AuditCheckpointer({ store, node: 'exchange-1', key, intervalMs: 0 });
  const meta = (i: number) => ({ correlationId: `c-${i}`, actor: { keyId: 'key_ops', role: 'trader' } });
  const names = Array.from({ length: streams }, (_, s) =>
    s % 3 === 0 ? `account-${s}` : s % 3 === 1 ? `orderbook-gpu.cn-east-1.${s}` : `ledger-${s}`,
  );
  let n = 0;
  for (let round = 0; round < rounds; round++) {
    await Promise.all(
      names.map((stream, s) => {
        const count = 1 + ((round + s) % 2);
        const batch = Array.from({ length: count }, () => {
          n++;
          return {
            type: s % 3 === 1 ? 'OrderPlaced' : s % 3 === 2 ? 'TransferPosted' : 'AccountAmended',
            data: { seq: n, price: `${100 + (n % 37)}.25`, note: `运行 ${round}/${s} 🚀`, lots: n % 11 },
            metadata: meta(n),
          };
        });
        return store.appendToStream(stream, batch);
      }),
    );
    if (round === Math.floor(rounds / 2)) {
      await store.deleteStream(names[1] as string);
      await checkpointer.checkpoint();
    }
  }
  n++;
  await store.appendToStream(names[1] as string, { type: 'OrderPlaced', data: { seq: n, recreated: true } });
  await checkpointer.checkpoint();
  await store.close();
  return { key, publicKeyPath, events: n };
};
