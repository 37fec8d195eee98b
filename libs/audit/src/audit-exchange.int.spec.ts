// Proves the audit against a real embedded exchange process on a real SQLite file: a run with guidance, trades,
// ledger movements and usage verifies clean with every business rule (from the store, through `cx audit verify`
// as a process, and from GET /v1/audit/events with --url); the NDJSON stream is for market-wide readers only and
// filters; a server-side verification reports progress and its result; `cx audit replay` rebuilds the book, the
// balances and the usage; `cx keys list` shows the checkpoint public key the exchange publishes.
import Decimal from 'decimal.js';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { type ExchangeProcess, httpCall, startExchange, tempDir, waitFor } from '@cx/testing';

const ROOT = resolve(__dirname, '../../..');
const RC = 'nvidia-h100-sxm-80g';

const cx = async (...args: string[]): Promise<{ code: number | null; out: string; err: string }> => {
  const child = spawn(process.execPath, [join(ROOT, 'bin', 'cx.js'), ...args], {
    cwd: ROOT,
    env: { ...process.env, CX_CLI_FROM_SOURCE: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const [code] = (await once(child, 'exit')) as [number | null];
  return { code, out, err };
};

describe('audit against a running embedded exchange', () => {
  const dir = tempDir('cx-audit-exchange-');
  const file = join(dir.path, 'cx.sqlite');
  const store = `sqlite:${file}`;
  let ex: ExchangeProcess;
  const keys = {} as Record<'provider' | 'buyer' | 'regulator' | 'integrator' | 'auditor' | 'auditKeyId', string>;
  const call = (method: string, path: string, key: string | null, body?: unknown) =>
    httpCall(ex.url, method, path, key, body);
  const ok = async (method: string, path: string, key: string, body?: unknown) => {
    const r = await call(method, path, key, body);
    if (r.status >= 300) throw new Error(`${method} ${path}: ${r.status} ${JSON.stringify(r.body)}`);
    return r.body;
  };
  let instrument: string;
  let pem: string;
  /** The live book (depth) and the buyer's ledger view, each recorded just after a step, with the instant. */
  const recorded: Array<{ step: string; at: string; asks: unknown[]; bids: unknown[]; buyer: unknown }> = [];
  const record = async (step: string) => {
    const depth = (await ok('GET', `/v1/market/${instrument}/depth`, keys.buyer)) as {
      asks: unknown[];
      bids: unknown[];
    };
    const buyer = await ok('GET', '/v1/ledger/accounts/lab-buyer', ex.adminKey as string);
    recorded.push({ step, at: new Date().toISOString(), asks: depth.asks, bids: depth.bids, buyer });
    // The next step's events are written strictly after this instant.
    await new Promise((r) => setTimeout(r, 20));
  };

  beforeAll(async () => {
    ex = await startExchange({
      CX_STORE: store,
      CX_AUDIT_CHECKPOINT_MS: '200',
      CX_GUIDANCE_MIN_NOTICE_MS: '1000',
      CX_GUIDANCE_MAX_LAG_MS: '1000',
    });
    const admin = ex.adminKey as string;
    await ok('POST', '/v1/accounts', admin, { accountId: 'acme-gpu', legalName: 'Acme GPU', kind: 'provider' });
    await ok('POST', '/v1/accounts', admin, {
      accountId: 'lab-buyer',
      legalName: 'Lab',
      kind: 'buyer',
      creditLine: '250000.00',
    });
    const key = async (body: object) => ((await ok('POST', '/v1/keys', admin, body)) as { key: string }).key;
    keys.provider = await key({ role: 'trader', accounts: ['acme-gpu'] });
    keys.buyer = await key({ role: 'trader', accounts: ['lab-buyer'] });
    keys.regulator = await key({ role: 'regulator' });
    keys.integrator = await key({ role: 'integrator', accounts: ['acme-gpu'] });
    keys.auditor = await key({ role: 'auditor' });

    const effectiveFrom = new Date(Math.ceil((Date.now() + 2000) / 1000) * 1000).toISOString().replace('.000Z', 'Z');
    await ok('POST', '/v1/guidance', keys.regulator, {
      resourceClass: RC,
      floorPerAcceleratorHour: '18.00',
      ceilingPerAcceleratorHour: '60.00',
      effectiveFrom,
      reason: 'audit test',
      documentRef: 'NDRC-TEST',
    });
    await waitFor(() => (Date.now() > Date.parse(effectiveFrom) + 200 ? true : undefined), {
      what: 'the band to take effect',
    });
    // The day after tomorrow: tomorrow's instrument stops trading an hour before midnight UTC.
    const day = new Date(Date.now() + 48 * 3600_000).toISOString().slice(0, 10);
    instrument = `${RC}.cn-east-1.${day}`;
    const order = (
      account: string,
      side: string,
      price: string,
      quantityLots: number,
      timeInForce: string,
      id: string,
    ) => ({
      account,
      side,
      instrument,
      price,
      quantityLots,
      timeInForce,
      clientOrderId: id,
    });
    // Guidance heartbeats keep matching fresh; an order placed while it is not yet is retried.
    await waitFor(
      async () => {
        const r = await call(
          'POST',
          '/v1/orders',
          keys.provider,
          order('acme-gpu', 'sell', '21.50', 100, 'GTC', 'ask-1'),
        );
        return r.status < 300 && (r.body as { status?: string }).status !== 'rejected' ? true : undefined;
      },
      { what: 'the ask to be accepted' },
    );
    await record('the ask rests');
    await ok('POST', '/v1/orders', keys.buyer, order('lab-buyer', 'buy', '22.00', 40, 'IOC', 'bid-1'));
    // Below the floor: refused, and the refusal is recorded with the version it used.
    const low = await call(
      'POST',
      '/v1/orders',
      keys.provider,
      order('acme-gpu', 'sell', '17.00', 5, 'GTC', 'ask-low'),
    );
    expect(low.body).toMatchObject({ code: 'MATCHING.BELOW_FLOOR' });
    await ok('POST', '/v1/ledger/deposits', admin, {
      transferId: 'dep-1',
      account: 'lab-buyer',
      amount: '5000.00',
      currency: 'CNY',
    });
    // The trade's hold is placed by billing when it hears the trade: recorded once it is there.
    await waitFor(
      async () => {
        const v = (await ok('GET', '/v1/ledger/accounts/lab-buyer', admin)) as { available: string };
        return v.available !== '255000.00' ? true : undefined;
      },
      { what: 'the hold of the trade and the deposit' },
    );
    await record('traded, held and deposited');
    const allocations = await waitFor(
      async () => {
        const r = (await ok('GET', '/v1/allocations?account=lab-buyer', keys.buyer)) as {
          items: { allocationId: string }[];
        };
        return r.items.length > 0 ? r.items : undefined;
      },
      { what: 'the allocation' },
    );
    const usage = {
      specversion: '1.0',
      id: 'evt-1',
      source: 'acme/node-7',
      type: 'cx.usage',
      subject: allocations[0]?.allocationId,
      time: new Date().toISOString(),
      data: { meter: 'accelerator_seconds', quantity: '3600' },
    };
    await waitFor(
      async () => {
        const r = await call('POST', '/v1/usage', keys.integrator, [usage]);
        return r.status < 300 && JSON.stringify(r.body).match(/accepted|duplicate/) ? true : undefined;
      },
      { what: 'usage to be accepted' },
    );
    const pub = (await ok('GET', '/v1/audit/public-key', keys.auditor)) as { publicKeyPem: string; keyId: string };
    pem = join(dir.path, 'audit.pub.pem');
    writeFileSync(pem, pub.publicKeyPem);
    keys.auditKeyId = pub.keyId;
  }, 120_000);

  afterAll(async () => {
    await ex?.stop('SIGKILL');
    dir.remove();
  });

  it('the store verifies clean with every rule judged (cx audit verify as a process)', async () => {
    const report = await waitFor(
      async () => {
        const r = await cx('audit', 'verify', '--store', store, '--public-key', pem, '--json');
        const json = JSON.parse(r.out || '{}') as { checkpointsSignedByTrustedKey?: number };
        return (json.checkpointsSignedByTrustedKey ?? 0) > 0 ? { ...r, json } : undefined;
      },
      { what: 'a signed checkpoint' },
    );
    expect(report.err).toBe('');
    expect(report.json).toMatchObject({
      clean: true,
      rules: ['floor', 'ledger', 'usage', 'statements'],
      violations: [],
    });
    expect((report.json as { warnings: string[] }).warnings.join('\n')).not.toMatch(/not checked/);
    expect(report.code).toBe(0);
  }, 60_000);

  it('streams NDJSON to auditors only, filtered, resumable with after', async () => {
    const trader = await fetch(`${ex.url}/v1/audit/events`, { headers: { authorization: `Bearer ${keys.buyer}` } });
    expect(trader.status).toBe(403);
    const bad = await call('GET', '/v1/audit/events?after=nope', keys.auditor);
    expect(bad).toMatchObject({ status: 400, body: { code: 'AUDIT.INVALID_QUERY', details: [{ field: 'after' }] } });
    const res = await fetch(`${ex.url}/v1/audit/events?type=TradeExecuted`, {
      headers: { authorization: `Bearer ${keys.auditor}` },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/x-ndjson/);
    const text = await res.text();
    expect(text.endsWith('\n')).toBe(true);
    const lines = text
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as { type: string; stream: string; position: string; data: { price: string } });
    expect(lines.length).toBe(1);
    expect(lines[0]).toMatchObject({ type: 'TradeExecuted', stream: `book-${instrument}`, data: { price: '21.5' } });
    const after = await fetch(`${ex.url}/v1/audit/events?type=TradeExecuted&after=${lines[0]?.position}`, {
      headers: { authorization: `Bearer ${keys.auditor}` },
    });
    expect(await after.text()).toBe('');
    const books = await (
      await fetch(`${ex.url}/v1/audit/events?stream=book-*`, { headers: { authorization: `Bearer ${keys.auditor}` } })
    ).text();
    expect(
      books
        .trimEnd()
        .split('\n')
        .every((l) => (JSON.parse(l) as { stream: string }).stream.startsWith('book-')),
    ).toBe(true);
  });

  it('verifies through the HTTP stream (cx audit verify --url --key)', async () => {
    const r = await cx('audit', 'verify', '--url', ex.url, '--key', keys.auditor, '--public-key', pem, '--json');
    expect(r.err).toBe('');
    expect(JSON.parse(r.out)).toMatchObject({ clean: true, sources: [ex.url] });
    expect(r.code).toBe(0);
    const refused = await cx('audit', 'verify', '--url', ex.url, '--key', keys.buyer);
    expect(refused.code).toBe(2);
    expect(refused.err).toMatch(/answered 403: AUTH.FORBIDDEN/);
  }, 60_000);

  it('runs a verification on the server and reports its result', async () => {
    expect((await call('POST', '/v1/audit/verifications', keys.regulator)).status).toBe(403);
    const started = await call('POST', '/v1/audit/verifications', keys.auditor);
    expect(started.status).toBe(202);
    expect(started.body).toMatchObject({ status: 'running', verificationId: expect.any(String) });
    const done = await waitFor(
      async () => {
        const r = await ok('GET', `/v1/audit/verifications/${started.body.verificationId}`, keys.auditor);
        return r.status !== 'running' ? r : undefined;
      },
      { what: 'the verification to finish' },
    );
    expect(done).toMatchObject({ status: 'clean', report: { clean: true, violations: [] }, progress: { fraction: 1 } });
    expect(done.progress.eventsChecked).toBeGreaterThan(0);
    expect(
      (await call('GET', '/v1/audit/verifications/5b0f4c2e-7f7e-4f43-9c1a-3f9d1c2b4a10', keys.auditor)).status,
    ).toBe(404);
  });

  it('replays the state: the book, the balances and the usage (cx audit replay as a process)', async () => {
    const r = await cx(
      'audit',
      'replay',
      '--store',
      store,
      '--until',
      new Date(Date.now() + 60_000).toISOString(),
      '--json',
    );
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const state = JSON.parse(r.out) as {
      bands: { bandId: string; floorPerAcceleratorHour: string }[];
      books: { instrument: string; bestAsk: { price: string; quantityLots: number } | null; openOrders: unknown[] }[];
      ledgers: {
        currency: string;
        accounts: { account: string; balance: string }[];
        totals: { posted: string; pending: string };
      }[];
      usage: { meter: string; quantity: string }[];
    };
    expect(state.bands).toEqual([expect.objectContaining({ bandId: RC, floorPerAcceleratorHour: '18.00' })]);
    expect(state.books.find((b) => b.instrument === instrument)).toMatchObject({
      bestAsk: { price: '21.5', quantityLots: 60 },
    });
    const cny = state.ledgers.find((l) => l.currency === 'CNY');
    expect(cny?.totals).toEqual({ posted: '0.00', pending: '0.00' });
    expect(cny?.accounts).toEqual(
      expect.arrayContaining([expect.objectContaining({ account: 'lab-buyer:cash', balance: '5000.00' })]),
    );
    expect(state.usage).toEqual([expect.objectContaining({ meter: 'accelerator_seconds', quantity: '3600' })]);
    // Before anything happened: no books, no balances.
    const early = await cx('audit', 'replay', '--store', store, '--until', '2000-01-01T00:00:00Z', '--json');
    expect(JSON.parse(early.out)).toMatchObject({ books: [], ledgers: [], usage: [], bands: [] });
    const bad = await cx('audit', 'replay', '--store', store, '--until', 'yesterday');
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/--until: "yesterday" is neither a global position nor an ISO 8601 instant/);
  }, 60_000);

  it('replays, as of each instant recorded during the run, the book and balances the live services showed then', async () => {
    expect(recorded.map((r) => r.step)).toEqual(['the ask rests', 'traded, held and deposited']);
    for (const r of recorded) {
      const out = await cx('audit', 'replay', '--store', store, '--until', r.at, '--json');
      expect([r.step, out.code, out.err]).toEqual([r.step, 0, '']);
      const state = JSON.parse(out.out) as {
        books: { instrument: string; bestAsk: unknown; bestBid: unknown }[];
        ledgers: {
          currency: string;
          accounts: { account: string; balance: string; debitsPending: string; creditsPending: string }[];
        }[];
      };
      const book = state.books.find((b) => b.instrument === instrument);
      expect([r.step, book?.bestAsk ?? null, book?.bestBid ?? null]).toEqual([
        r.step,
        r.asks[0] ?? null,
        r.bids[0] ?? null,
      ]);
      // Live: posted and pending as credits − debits; the replay lists the four sums.
      const live = (r.buyer as { balances: { cash: { posted: string; pending: string } } }).balances.cash;
      const cash = state.ledgers
        .find((l) => l.currency === 'CNY')
        ?.accounts.find((a) => a.account === 'lab-buyer:cash');
      const replayed = {
        posted: cash?.balance ?? '0.00',
        pending: new Decimal(cash?.creditsPending ?? 0).minus(cash?.debitsPending ?? 0).toFixed(2),
      };
      expect([r.step, replayed]).toEqual([r.step, live]);
    }
  }, 60_000);

  it('cx keys list shows the checkpoint public key the exchange publishes', async () => {
    const r = await cx('keys', 'list', '--store', store, '--json');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out)).toMatchObject({ auditPublicKey: { keyId: keys.auditKeyId, algorithm: 'Ed25519' } });
    const text = await cx('keys', 'list', '--store', store);
    expect(text.out).toContain(`audit checkpoint key ${keys.auditKeyId}`);
    expect(text.out).toContain('-----BEGIN PUBLIC KEY-----');
  }, 60_000);
});
