// Proves `cx store backup|restore` as real processes on real SQLite files: an online backup taken while appends
// go on is consistent and verifies clean, a restore reproduces it exactly, and a bad or unforced restore refuses
// and leaves the target as it was. Against a running embedded exchange: a backup taken while it serves, restored
// into a fresh data folder (with the signing key kept beside it), starts an exchange whose read models answer as
// the first did and whose audit, checkpoints made after the restart included, verifies clean; a restore over the
// store a running exchange holds is refused.
import { execFile } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ChainedEventStore } from '@cx/audit';
import { type EventStore, openEventStore, SqliteEventStore } from '@cx/event-store';
import { type ExchangeProcess, httpCall, startExchange, tempDir, waitFor } from '@cx/testing';

const repoRoot = join(__dirname, '..', '..', '..');

const cx = (args: string[]): Promise<{ code: number; stdout: string; stderr: string }> =>
  new Promise((resolve) => {
    execFile(
      process.execPath,
      [join(repoRoot, 'bin', 'cx.js'), ...args],
      { cwd: '/', env: { ...process.env, CX_CLI_FROM_SOURCE: '1' } },
      (error, stdout, stderr) => resolve({ code: error ? Number(error.code) : 0, stdout, stderr }),
    );
  });

const allEvents = async (store: EventStore) => {
  const out: string[] = [];
  for await (const e of store.readAll()) out.push(`${e.streamId}/${e.revision}/${e.id}/${JSON.stringify(e.data)}`);
  return out;
};

describe('cx store', () => {
  const dir = tempDir('cx-store-');
  const live = join(dir.path, 'live.sqlite');
  const backup = join(dir.path, 'backup.sqlite');
  const restored = join(dir.path, 'restored.sqlite');
  afterAll(() => dir.remove());

  it('backs up online while appends go on, and the backup verifies clean', async () => {
    const store = new ChainedEventStore(await openEventStore(`sqlite:${live}`));
    for (let i = 0; i < 50; i++) {
      await store.appendToStream(`order-${i % 5}`, [{ type: 'Placed', data: { i } }], { expectedRevision: 'any' });
    }
    let appending = true;
    const writer = (async () => {
      for (let i = 0; appending; i++) {
        await store.appendToStream(`tick-${i % 3}`, [{ type: 'Ticked', data: { i } }], { expectedRevision: 'any' });
      }
    })();
    const r = await cx(['store', 'backup', backup, '--store', `sqlite:${live}`]);
    appending = false;
    await writer;
    await store.close();
    expect(r).toMatchObject({ code: 0, stderr: '' });
    expect(r.stdout).toContain(`Backed up sqlite:${live} to ${backup}`);
    const verified = await cx(['audit', 'verify', '--store', `sqlite:${backup}`, '--json']);
    expect(verified.code).toBe(0);
    // A second backup never overwrites the first.
    expect((await cx(['store', 'backup', backup, '--store', `sqlite:${live}`])).code).toBe(2);
  });

  it('restores a backup exactly, and refuses to overwrite a store without --force', async () => {
    const r = await cx(['store', 'restore', backup, '--store', `sqlite:${restored}`, '--json']);
    expect(r.code).toBe(0);
    const events = Number(JSON.parse(r.stdout).events);
    expect(events).toBeGreaterThanOrEqual(50);
    const a = SqliteEventStore.open(backup);
    const b = SqliteEventStore.open(restored);
    expect(await allEvents(b)).toEqual(await allEvents(a));
    await a.close();
    await b.close();
    expect((await cx(['store', 'restore', backup, '--store', `sqlite:${restored}`])).code).toBe(2);
    expect((await cx(['store', 'restore', backup, '--store', `sqlite:${restored}`, '--force'])).code).toBe(0);
  });

  it('refuses a corrupt backup and leaves the target untouched', async () => {
    const bad = join(dir.path, 'bad.sqlite');
    writeFileSync(bad, Buffer.alloc(8192, 7));
    const before = readFileSync(restored);
    const r = await cx(['store', 'restore', bad, '--store', `sqlite:${restored}`, '--force']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/restore failed/);
    expect(readFileSync(restored).equals(before)).toBe(true);
  });
});

describe('cx store with a running exchange', () => {
  const dir = tempDir('cx-store-resume-');
  const first = join(dir.path, 'first');
  const second = join(dir.path, 'second');
  const backup = join(dir.path, 'online.sqlite');
  const RC = 'nvidia-h100-sxm-80g';
  // Fast checkpoints, so the backup holds signed ones and the restarted exchange adds more.
  const env = (data: string) => ({
    CX_STORE: `sqlite:${join(data, 'cx.sqlite')}`,
    CX_AUDIT_CHECKPOINT_MS: '200',
    CX_GUIDANCE_MIN_NOTICE_MS: '1000',
    CX_GUIDANCE_MAX_LAG_MS: '1000',
  });
  let ex: ExchangeProcess | undefined;
  let admin: string;
  const keys = {} as Record<'provider' | 'buyer', string>;
  let instrument: string;
  afterAll(async () => {
    await ex?.stop('SIGKILL');
    dir.remove();
  });

  const ok = async (method: string, path: string, key: string, body?: unknown) => {
    const r = await httpCall((ex as ExchangeProcess).url, method, path, key, body);
    if (r.status >= 300) throw new Error(`${method} ${path}: ${r.status} ${JSON.stringify(r.body)}`);
    return r.body;
  };
  /** What the read models answer: accounts, each trader's orders, the book, the ledger balances. */
  const readModels = async () => ({
    accounts: await ok('GET', '/v1/accounts?limit=500', admin),
    providerOrders: await ok('GET', '/v1/orders', keys.provider),
    buyerOrders: await ok('GET', '/v1/orders', keys.buyer),
    depth: await ok('GET', `/v1/market/${instrument}/depth`, keys.buyer),
    provider: await ok('GET', '/v1/ledger/accounts/acme-gpu', admin),
    buyer: await ok('GET', '/v1/ledger/accounts/lab-buyer', admin),
  });
  const verify = async (data: string) => {
    const r = await cx(['audit', 'verify', '--store', `sqlite:${join(data, 'cx.sqlite')}`, '--json']);
    return { code: r.code, report: JSON.parse(r.stdout) as { clean: boolean; checkpointsChecked: number } };
  };

  it('backs up while the exchange serves, restores into a fresh folder, and the exchange resumes from it', async () => {
    mkdirSync(first);
    ex = await startExchange(env(first));
    admin = ex.adminKey as string;
    await ok('POST', '/v1/accounts', admin, { accountId: 'acme-gpu', legalName: 'Acme GPU', kind: 'provider' });
    await ok('POST', '/v1/accounts', admin, { accountId: 'lab-buyer', legalName: 'Lab', kind: 'buyer' });
    const key = async (body: object) => ((await ok('POST', '/v1/keys', admin, body)) as { key: string }).key;
    keys.provider = await key({ role: 'trader', accounts: ['acme-gpu'] });
    keys.buyer = await key({ role: 'trader', accounts: ['lab-buyer'] });
    const regulator = await key({ role: 'regulator' });
    await ok('POST', '/v1/ledger/deposits', admin, {
      transferId: 'dep-1',
      account: 'lab-buyer',
      amount: '5000.00',
      currency: 'CNY',
    });
    const effectiveFrom = new Date(Math.ceil((Date.now() + 2000) / 1000) * 1000).toISOString().replace('.000Z', 'Z');
    await ok('POST', '/v1/guidance', regulator, {
      resourceClass: RC,
      floorPerAcceleratorHour: '18.00',
      ceilingPerAcceleratorHour: '60.00',
      effectiveFrom,
      reason: 'restore test',
      documentRef: 'NDRC-TEST',
    });
    // The day after tomorrow: tomorrow's instrument stops trading an hour before midnight UTC.
    instrument = `${RC}.cn-east-1.${new Date(Date.now() + 48 * 3600_000).toISOString().slice(0, 10)}`;
    const order = (account: string, side: string, price: string, quantityLots: number, id: string) => ({
      account,
      side,
      instrument,
      price,
      quantityLots,
      timeInForce: 'GTC',
      clientOrderId: id,
    });
    // Matching accepts orders once it has heard the band is in force; an order placed before is retried.
    await waitFor(
      async () => {
        const r = await httpCall(ex?.url as string, 'POST', '/v1/orders', keys.provider, {
          ...order('acme-gpu', 'sell', '21.50', 100, 'ask-1'),
        });
        return r.status < 300 && (r.body as { status?: string }).status !== 'rejected' ? true : undefined;
      },
      { what: 'the ask to rest' },
    );
    await ok('POST', '/v1/orders', keys.buyer, order('lab-buyer', 'buy', '22.00', 40, 'bid-1'));
    await ok('POST', '/v1/orders', keys.buyer, order('lab-buyer', 'buy', '19.00', 10, 'bid-2'));
    // Billing holds the trade's cash when it hears the trade; the views are read once it has.
    await waitFor(
      async () => {
        const v = (await ok('GET', '/v1/ledger/accounts/lab-buyer', admin)) as { available: string };
        return v.available !== '5000.00' ? true : undefined;
      },
      { what: 'the hold of the trade' },
    );
    const before = await readModels();
    expect(JSON.stringify(before.buyerOrders)).toContain('bid-2');

    const taken = await cx(['store', 'backup', backup, '--store', env(first).CX_STORE]);
    expect(taken).toMatchObject({ code: 0, stderr: '' });
    // The signing key lives outside the store: the backup says so and names the file to keep with it.
    const keyFile = join(first, 'audit-signing-key.pem');
    expect(taken.stdout).toContain(`keep a copy of ${keyFile}`);

    // A restore over the store the exchange holds open is refused, and the exchange serves on untouched.
    const over = await cx(['store', 'restore', backup, '--store', env(first).CX_STORE, '--force']);
    expect(over.code).toBe(2);
    expect(over.stderr).toMatch(/is open in another process/);
    expect(await readModels()).toEqual(before);

    expect(await ex.stop()).toBe(0);
    ex = undefined;
    mkdirSync(second);
    const restored = await cx(['store', 'restore', backup, '--store', env(second).CX_STORE]);
    expect(restored).toMatchObject({ code: 0, stderr: '' });
    copyFileSync(keyFile, join(second, 'audit-signing-key.pem'));
    const atRestore = await verify(second);
    expect(atRestore.code).toBe(0);
    expect(atRestore.report.checkpointsChecked).toBeGreaterThan(0);

    ex = await startExchange(env(second));
    // A store with an admin already prints no new admin key: the first one works on the restored exchange.
    expect(ex.adminKey).toBeNull();
    expect(await readModels()).toEqual(before);
    // It resumes writing: an order trades against the restored book, and signed checkpoints follow the restore.
    await ok('POST', '/v1/orders', keys.buyer, order('lab-buyer', 'buy', '21.50', 10, 'bid-3'));
    await waitFor(
      async () => {
        const depth = (await ok('GET', `/v1/market/${instrument}/depth`, keys.buyer)) as {
          asks: Array<{ quantityLots: number }>;
        };
        return JSON.stringify(depth) !== JSON.stringify(before.depth) ? true : undefined;
      },
      { what: 'the new order to trade against the restored book' },
    );
    await waitFor(
      async () =>
        (await verify(second)).report.checkpointsChecked > atRestore.report.checkpointsChecked + 1 ? true : undefined,
      { what: 'checkpoints after the restart' },
    );
    expect(await ex.stop()).toBe(0);
    ex = undefined;
    const after = await verify(second);
    expect(after).toMatchObject({ code: 0, report: { clean: true } });
  }, 180_000);
});
