import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { Dec, SimulatedClock } from '@cx/shared-kernel';
import { type HttpReply, waitFor } from '@cx/testing';
import { type EmbeddedApp, startEmbedded } from '../../../exchange/src/testing/embedded-app';
import { auditEvents, callPatiently, rawCall } from './client';

// The full story of the exchange as one deterministic script over the public HTTP API, run unchanged against the
// distributed cluster and the embedded exchange: catalog, guidance issued for the future, orders rest, the floor
// takes effect and cancels some, trades, allocations, usage over HTTP and over Kafka (with duplicates), the day
// closed, statements in JSON and CSV. Every id the statements mention is the client's or derived from the order
// of events on one book, so the two modes must issue statements with the same content hashes.

const ROOT = join(__dirname, '..', '..', '..', '..');

export const STORY_T0 = '2026-03-10T08:00:00.000Z';
export const STORY_DAY = '2026-03-13';
export const RESOURCE_CLASS = 'nvidia-h100-sxm-80g';
export const instrumentOf = (day: string): string => `${RESOURCE_CLASS}.cn-east-1.${day}`;
const INSTR = instrumentOf(STORY_DAY);
/** Another delivery day: probe orders rest there and never trade. */
const PROBE_INSTR = instrumentOf('2026-03-16');
const FLOOR_FROM = '2026-03-12T12:00:00.000Z';
export const ACCOUNTS = ['prov-a', 'prov-b', 'buy-a'] as const;

/**
 * The guidance bounds both modes run with: two days of notice and lag (the clock jumps whole days), and a
 * heartbeat every second so that matching hears "complete up to now" soon after each jump.
 */
export const STORY_GUIDANCE = { minNoticeMs: 2 * 86_400_000, maxLagMs: 2 * 86_400_000, heartbeatMs: 1_000 };

/**
 * The embedded exchange configured as the distributed story runs it (the same guidance notice, lag and listing),
 * on a simulated clock from `t0`: what the distributed runs compare their statements against.
 */
export const startStoryEmbedded = (file: string, t0: string | number): Promise<EmbeddedApp> =>
  startEmbedded(file, new SimulatedClock(new Date(t0)), {
    guidance: {
      minNoticeMs: STORY_GUIDANCE.minNoticeMs,
      maxPropagationLagMs: STORY_GUIDANCE.maxLagMs,
      heartbeatIntervalMs: STORY_GUIDANCE.heartbeatMs,
    },
    matching: { maxGuidanceLagMs: STORY_GUIDANCE.maxLagMs, listingDays: 7 },
  });

/** The environment of every distributed process for the story and the faults test. */
export const distributedStoryEnv = (): Record<string, string> => ({
  CX_GUIDANCE_MIN_NOTICE_MS: String(STORY_GUIDANCE.minNoticeMs),
  CX_GUIDANCE_MAX_LAG_MS: String(STORY_GUIDANCE.maxLagMs),
  CX_GUIDANCE_HEARTBEAT_MS: String(STORY_GUIDANCE.heartbeatMs),
  CX_BILLING_PERIOD_GRACE_MS: '0',
  CX_MATCHING_LISTING_DAYS: '7',
  CX_RATE_LIMIT_PER_S: '0',
  // A process killed and restarted rejoins its consumer groups once the broker has dropped its dead predecessor,
  // after the session timeout (30 s by default). Read once distributed mode passes it to kafkajs; ignored before.
  CX_KAFKA_SESSION_TIMEOUT_MS: '6000',
});

/** Integrators' usage as produced to Kafka (CloudEvents binary mode); `account` is the `cxaccount` extension. */
export interface UsageEvent {
  specversion: '1.0';
  id: string;
  source: string;
  type: string;
  subject: string;
  time: string;
  data: { meter: string; quantity: string; offerId?: string };
}

export interface StoryTarget {
  mode: 'distributed' | 'embedded';
  /** The public API (the gateway, or the embedded exchange). */
  url: string;
  /** Where a service's own store answers `/v1/audit/events` (embedded: the one store, at `url`). */
  storeUrl: (service: 'matching' | 'metering' | 'billing') => string;
  admin: string;
  setClock: (iso: string) => Promise<void> | void;
  /** Produces usage to cx.metering.usage-submitted.v1; absent in embedded mode, where it goes over HTTP instead. */
  produceUsage?: (events: UsageEvent[], account: string) => Promise<void>;
  /** The SQLite stores `cx audit verify` reads. */
  stores: string[];
}

export interface StoryResult {
  hashes: Record<string, string>;
  statements: Record<string, Record<string, unknown>>;
}

export interface VerifyResult {
  code: number | null;
  report: { clean?: boolean; violationCount?: number; eventsChecked?: number } & Record<string, unknown>;
  output: string;
}

/** `cx audit verify --json` over the given stores (repeatable --store), from source. */
export const auditVerify = (stores: string[]): Promise<VerifyResult> =>
  new Promise((resolve, reject) => {
    const args = [join(ROOT, 'bin', 'cx.js'), '--json', ...stores.flatMap((s) => ['--store', `sqlite:${s}`])];
    const child = spawn(process.execPath, [...args, 'audit', 'verify'], {
      cwd: ROOT,
      env: { ...process.env, CX_CLI_FROM_SOURCE: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString('utf8')));
    child.stderr.on('data', (d: Buffer) => (err += d.toString('utf8')));
    child.once('error', reject);
    child.once('exit', (code) => {
      const line = out
        .trim()
        .split('\n')
        .reverse()
        .find((l) => l.startsWith('{'));
      let report: VerifyResult['report'] = {};
      try {
        report = line === undefined ? {} : (JSON.parse(line) as VerifyResult['report']);
      } catch {
        report = {};
      }
      resolve({ code, report, output: `${out}\n${err}` });
    });
  });

/** Counts a service store's events of one type (optionally those whose stream contains `streamPart`). */
export const countEvents = async (target: StoryTarget, service: 'matching' | 'metering' | 'billing', type: string) =>
  (await auditEvents(target.storeUrl(service), target.admin, type)).length;

export const waitForEvents = async (
  target: StoryTarget,
  service: 'matching' | 'metering' | 'billing',
  type: string,
  count: number,
  timeoutMs = 60_000,
): Promise<void> => {
  let seen = -1;
  await waitFor(
    async () => {
      seen = await countEvents(target, service, type);
      return seen >= count;
    },
    { timeoutMs, intervalMs: 250, what: `${count} ${type} at ${service}` },
  ).catch((e: unknown) => {
    throw new Error(`${String(e)} (saw ${seen})`);
  });
};

export const createAccountsAndKeys = async (
  t: StoryTarget,
  accounts: Array<{ accountId: string; kind: string; creditLine?: string }>,
  keys: Array<{ name: string; role: string; accounts: string[] }>,
): Promise<Record<string, string>> => {
  for (const a of accounts) {
    const res = await callPatiently(
      t.url,
      'POST',
      '/v1/accounts',
      t.admin,
      { legalName: a.accountId, ...a },
      {
        idempotencyKey: `account-${a.accountId}`,
      },
    );
    expect({ account: a.accountId, status: res.status }).toEqual({ account: a.accountId, status: 201 });
  }
  const out: Record<string, string> = {};
  for (const k of keys) {
    const res = await callPatiently(
      t.url,
      'POST',
      '/v1/keys',
      t.admin,
      { role: k.role, accounts: k.accounts },
      {
        idempotencyKey: `key-${k.name}`,
      },
    );
    expect(res.status).toBe(201);
    out[k.name] = (res.body as { key: string }).key;
  }
  // Each service checks keys against its own Kafka-fed copy of identity: wait until every key works everywhere.
  // "Works" is anything but 401 (an integrator may not read the meters, for example).
  const probes = [
    '/v1/regions',
    '/v1/instruments?limit=1',
    '/v1/meters',
    `/v1/ledger/accounts/${accounts[0]!.accountId}`,
  ];
  for (const key of Object.values(out)) {
    for (const path of probes) {
      await waitFor(async () => (await rawCall(t.url, 'GET', path, key)).status !== 401, {
        timeoutMs: 60_000,
        intervalMs: 100,
        what: `a new key to work at ${path}`,
      });
    }
  }
  return out;
};

/**
 * Waits until matching accepts a resting order: it lists the instrument and its view of guidance is fresh (a
 * heartbeat heard after the clock last moved). The probe orders rest on a day nothing else trades, then go.
 */
export const waitForFreshMatching = async (t: StoryTarget, key: string, account: string, tag: string) => {
  let n = 0;
  let last: unknown = null;
  await waitFor(
    async () => {
      n += 1;
      const res = await callPatiently(t.url, 'POST', '/v1/orders', key, {
        instrument: PROBE_INSTR,
        account,
        side: 'buy',
        price: '18.00',
        quantityLots: 1,
        timeInForce: 'GTC',
        clientOrderId: `probe-${tag}-${n}`,
      });
      last = res.body;
      const body = res.body as { status?: string; orderId?: string };
      if (res.status !== 201 || body.status !== 'open') return false;
      const cancelled = await callPatiently(t.url, 'DELETE', `/v1/orders/${body.orderId}`, key);
      expect(cancelled.status).toBe(200);
      return true;
    },
    { timeoutMs: 60_000, intervalMs: 200, what: 'matching to accept a resting order' },
  ).catch((e: unknown) => {
    throw new Error(`${String(e)}; last answer ${JSON.stringify(last)}`);
  });
};

/** Statements of one period for the accounts, JSON and CSV; the CSV's x-content-hash must be the JSON's hash. */
export const readStatements = async (
  t: StoryTarget,
  reader: string,
  accounts: readonly string[],
  period: string,
): Promise<StoryResult> => {
  const result: StoryResult = { hashes: {}, statements: {} };
  for (const account of accounts) {
    const json = await callPatiently(t.url, 'GET', `/v1/statements/${account}/${period}`, reader);
    expect({ account, status: json.status }).toEqual({ account, status: 200 });
    const s = json.body as { contentHash: string; lines: unknown[]; closingBalance: string };
    expect(s.contentHash).toMatch(/^[0-9a-f]{64}$/);
    const csv = await rawCall(t.url, 'GET', `/v1/statements/${account}/${period}`, reader, undefined, {
      accept: 'text/csv',
    });
    expect(csv.status).toBe(200);
    expect(csv.headers.get('content-type')).toMatch(/^text\/csv/);
    expect(csv.headers.get('x-content-hash')).toBe(s.contentHash);
    const rows = parse(csv.text, { columns: true }) as Array<Record<string, string>>;
    // The CSV says what the JSON says: an opening row, one row per line, a closing row with the same balance.
    expect(rows[0]?.kind).toBe('opening_balance');
    expect(rows.at(-1)).toMatchObject({ kind: 'closing_balance', amount: s.closingBalance });
    expect(rows.filter((r) => r.kind !== 'opening_balance' && r.kind !== 'closing_balance')).toHaveLength(
      s.lines.length,
    );
    result.hashes[account] = s.contentHash;
    result.statements[account] = json.body as Record<string, unknown>;
  }
  return result;
};

const reading = (source: string, id: string, subject: string, time: string, seconds: string): UsageEvent => ({
  specversion: '1.0',
  id,
  source,
  type: 'com.cx.usage.v1',
  subject,
  time,
  data: { meter: 'accelerator_seconds', quantity: seconds },
});

/** The story (see the top of the file); returns the statements of STORY_DAY for the three accounts. */
export const runStory = async (t: StoryTarget): Promise<StoryResult> => {
  const call = (method: string, path: string, key: string, body?: unknown, idem?: string): Promise<HttpReply> =>
    callPatiently(t.url, method, path, key, body, idem === undefined ? {} : { idempotencyKey: idem });
  await t.setClock(STORY_T0);

  // Catalog: the starter set, and the instruments matching listed from it (heard over Kafka when distributed).
  const keys = await createAccountsAndKeys(
    t,
    [
      { accountId: 'prov-a', kind: 'provider' },
      { accountId: 'prov-b', kind: 'provider' },
      { accountId: 'buy-a', kind: 'buyer', creditLine: '1000.00' },
    ],
    [
      { name: 'provA', role: 'trader', accounts: ['prov-a'] },
      { name: 'provB', role: 'trader', accounts: ['prov-b'] },
      { name: 'buyer', role: 'trader', accounts: ['buy-a'] },
      { name: 'regulator', role: 'regulator', accounts: [] },
      { name: 'usageA', role: 'integrator', accounts: ['prov-a'] },
      { name: 'usageB', role: 'integrator', accounts: ['prov-b'] },
      { name: 'usageBuyer', role: 'integrator', accounts: ['buy-a'] },
      { name: 'auditor', role: 'auditor', accounts: [] },
    ],
  );
  const k = (name: string): string => keys[name] as string;
  const classes = await call('GET', '/v1/resource-classes?limit=100', k('buyer'));
  expect((classes.body as { items: Array<{ id?: string; resourceClassId?: string }> }).items.length).toBeGreaterThan(0);
  await waitFor(
    async () =>
      (
        (await call('GET', '/v1/instruments?limit=500', k('buyer'))).body as { items: Array<{ instrumentId: string }> }
      ).items.some((i) => i.instrumentId === INSTR),
    { timeoutMs: 60_000, intervalMs: 200, what: `matching to list ${INSTR}` },
  );
  const deposit = { transferId: 'dep-buy-a', account: 'buy-a', amount: '10000.00', currency: 'CNY' };
  expect((await call('POST', '/v1/ledger/deposits', t.admin, deposit, 'dep-buy-a')).status).toBe(201);

  // Guidance for the future: a floor of 18.00 from FLOOR_FROM, two days ahead (the minimum notice).
  const band = await call(
    'POST',
    '/v1/guidance',
    k('regulator'),
    {
      resourceClass: RESOURCE_CLASS,
      floorPerAcceleratorHour: '18.00',
      effectiveFrom: FLOOR_FROM,
      reason: 'stop a low-price spiral',
      documentRef: 'NDRC-2026-041',
    },
    'band-1',
  );
  expect(band.status).toBe(201);

  // Orders rest: two asks below the coming floor, two above it.
  await waitForFreshMatching(t, k('buyer'), 'buy-a', 't0');
  const order = async (key: string, account: string, side: string, price: string, lots: number, id: string) => {
    const res = await call(
      'POST',
      '/v1/orders',
      key,
      { instrument: INSTR, account, side, price, quantityLots: lots, timeInForce: 'GTC', clientOrderId: id },
      `order-${id}`,
    );
    expect({ id, status: res.status }).toEqual({ id, status: 201 });
    return res.body as { orderId: string; status: string };
  };
  const aLow = await order(k('provA'), 'prov-a', 'sell', '15.00', 2, 'a-low');
  const bLow = await order(k('provB'), 'prov-b', 'sell', '16.50', 1, 'b-low');
  const a20 = await order(k('provA'), 'prov-a', 'sell', '20.00', 3, 'a-20');
  const b21 = await order(k('provB'), 'prov-b', 'sell', '21.00', 2, 'b-21');
  expect([aLow, bLow, a20, b21].map((o) => o.status)).toEqual(['open', 'open', 'open', 'open']);
  // Matching has scheduled the band on this book before the clock reaches it.
  await waitForEvents(t, 'matching', 'BandScheduled', 1);

  // The floor takes effect and cancels the asks below it.
  await t.setClock('2026-03-12T12:00:01.000Z');
  for (const [o, key] of [
    [aLow, k('provA')],
    [bLow, k('provB')],
  ] as const) {
    const cancelled = await waitFor(
      async () => {
        const got = (await call('GET', `/v1/orders/${o.orderId}`, key)).body as Record<string, unknown>;
        return got.status === 'cancelled' ? got : null;
      },
      { timeoutMs: 60_000, intervalMs: 200, what: 'an ask below the new floor to be cancelled' },
    );
    expect(cancelled).toMatchObject({ reason: 'FLOOR_RAISED' });
  }
  await waitForFreshMatching(t, k('buyer'), 'buy-a', 'floor');
  const below = await call('POST', '/v1/orders', k('provA'), {
    instrument: INSTR,
    account: 'prov-a',
    side: 'sell',
    price: '17.00',
    quantityLots: 1,
    timeInForce: 'GTC',
    clientOrderId: 'a-below',
  });
  expect([below.status, (below.body as { code: string }).code]).toEqual([422, 'MATCHING.BELOW_FLOOR']);

  // Trades: the bid lifts 3 lots at 20.00 from prov-a and 1 at 21.00 from prov-b (the makers' prices).
  const bid = await order(k('buyer'), 'buy-a', 'buy', '21.00', 4, 'bid-1');
  expect(bid.status).toBe('filled');
  const allocations = await waitFor(
    async () => {
      const items = (await call('GET', '/v1/allocations?account=buy-a', k('buyer'))).body.items as Array<{
        allocationId: string;
        providerAccount?: string;
      }>;
      return items.length === 2 ? items : null;
    },
    { timeoutMs: 60_000, intervalMs: 200, what: 'two allocations' },
  );
  const ids = allocations.map((a) => a.allocationId).sort();
  expect(ids).toEqual([`alloc-${INSTR}-1`, `alloc-${INSTR}-2`]);
  const [allocA, allocB] = ids as [string, string];
  // Metering knows the allocations (tenancy for usage); billing holds the notional 3 × 20 + 1 × 21.
  await waitForEvents(t, 'metering', 'AllocationHeard', 2);
  await waitForEvents(t, 'billing', 'AllocationRegistered', 2);
  await waitFor(
    async () => (await call('GET', '/v1/ledger/accounts/buy-a', k('buyer'))).body.balances?.held?.pending === '81.00',
    { timeoutMs: 60_000, intervalMs: 200, what: 'the buyer’s hold of 81.00' },
  );

  // Delivery day: usage over HTTP (prov-a and the buyer's evidence) and over Kafka (prov-b), each with duplicates.
  await t.setClock(`${STORY_DAY}T20:00:00.000Z`);
  const httpA = [
    reading('//prov-a/agent', 'a-1', allocA, `${STORY_DAY}T01:00:00Z`, '3600'),
    reading('//prov-a/agent', 'a-2', allocA, `${STORY_DAY}T02:00:00Z`, '3600'),
    reading('//prov-a/agent', 'a-3', allocA, `${STORY_DAY}T03:00:00Z`, '1800'),
  ];
  const first = await call('POST', '/v1/usage', k('usageA'), httpA, 'usage-a-batch');
  expect(first.status).toBeLessThan(300);
  expect(first.body).toMatchObject({ accepted: 3 });
  // The integrator lost the answer and sent the first two again under a new key: counted once.
  const again = await call('POST', '/v1/usage', k('usageA'), httpA.slice(0, 2), 'usage-a-retry');
  expect(again.body).toMatchObject({ accepted: 0, duplicates: 2 });
  const evidence = [reading('//buy-a/agent', 'e-1', allocA, `${STORY_DAY}T04:00:00Z`, '7200')];
  expect((await call('POST', '/v1/usage', k('usageBuyer'), evidence, 'usage-evidence')).body).toMatchObject({
    accepted: 1,
  });
  const viaKafka = [
    reading('//prov-b/agent', 'b-1', allocB, `${STORY_DAY}T05:00:00Z`, '1800'),
    reading('//prov-b/agent', 'b-2', allocB, `${STORY_DAY}T06:00:00Z`, '1800'),
  ];
  if (t.produceUsage) {
    await t.produceUsage([...viaKafka, viaKafka[0]!, ...viaKafka], 'prov-b');
  } else {
    await call('POST', '/v1/usage', k('usageB'), viaKafka, 'usage-b');
    expect((await call('POST', '/v1/usage', k('usageB'), viaKafka, 'usage-b-dup')).body).toMatchObject({
      duplicates: 2,
    });
  }
  // Six distinct readings; metering recorded each once and billing heard each once.
  await waitForEvents(t, 'metering', 'UsageRecorded', 6);
  await waitForEvents(t, 'billing', 'DeliveryReadingRecorded', 6);
  expect(await countEvents(t, 'metering', 'UsageRecorded')).toBe(6);
  expect(await countEvents(t, 'billing', 'DeliveryReadingRecorded')).toBe(6);
  const total = async (subject: string, reporter: string) => {
    const q = `subject=${subject}&meter=accelerator_seconds&from=${STORY_DAY}T00:00:00Z&to=2026-03-14T00:00:00Z&window=day&reporter=${reporter}`;
    const res = await call('GET', `/v1/usage/aggregate?${q}`, k('auditor'));
    expect(res.status).toBe(200);
    return (res.body.windows as Array<{ value: string }>).reduce((s, w) => s.plus(w.value), new Dec(0)).toFixed();
  };
  expect([await total(allocA, 'provider'), await total(allocB, 'provider')]).toEqual(['9000', '3600']);

  // The day closes; every account gets its statement.
  await t.setClock('2026-03-14T00:00:01.000Z');
  const closed = await call('POST', `/v1/periods/${STORY_DAY}/close`, t.admin, undefined, `close-${STORY_DAY}`);
  expect(closed.status).toBe(201);
  expect(closed.body).toMatchObject({ period: STORY_DAY, settlements: 2 });
  const result = await readStatements(t, k('auditor'), ACCOUNTS, STORY_DAY);
  const buyer = result.statements['buy-a'] as { lines: Array<Record<string, string>>; closingBalance: string };
  // 2.5 of 3 hours at 20.00 and 1 of 1 at 21.00, the buyer's reading of 2.5 hours kept as evidence.
  expect(buyer.lines.map((l) => [l.kind, l.quantity, l.unitPrice, l.amount])).toEqual([
    ['settlement', '2.5', '20.00', '-50.00'],
    ['settlement', '1', '21.00', '-21.00'],
  ]);
  const cash = async (account: string) =>
    (await call('GET', `/v1/ledger/accounts/${account}`, k('auditor'))).body.balances.cash.posted as string;
  for (const account of ACCOUNTS) {
    const s = result.statements[account] as { closingBalance: string };
    expect({ account, cash: await cash(account) }).toEqual({ account, cash: s.closingBalance });
  }
  return result;
};
