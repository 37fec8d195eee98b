// Proves the business-rule checkers (floor, ledger, usage) on real SQLite files: a scripted market day written
// with the services' own pure deciders verifies clean; each violation, written straight through the raw store
// (bypassing the service that would have refused it, with a valid hash chain), is found at its position; unknown
// event types are tolerated; and in distributed mode (guidance and matching in separate stores, in either order)
// trades are judged by the other store's guidance history, while a missing guidance store is a warning.
import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import type { EventStore, NewEvent, Position } from '@cx/event-store';
import { tempDir } from '@cx/testing';
import { SqliteEventStore } from '../../../../event-store/src/sqlite/sqlite-event-store.adapter';
import {
  type BookCommand,
  decide as decideBook,
  evolve as evolveBook,
  initialBook,
} from '../../../../../services/matching/src/domain/order-book/order-book.decider';
import type { BookEvent } from '../../../../../services/matching/src/domain/order-book/order-book.events';
import {
  decideCreditLine,
  decideTransfers,
  evolve as evolveLedger,
  initialLedger,
  type TransferInput,
} from '../../../../../services/billing/src/domain/ledger/ledger.decider';
import { usageStream } from '../../../../../services/metering/src/domain/usage/usage.events';
import { ChainedEventStore } from '../../chained-event-store';
import { storeSource } from '../sources';
import { type VerifyReport, verifySources } from '../verify';

const T0 = Date.parse('2026-03-10T00:00:00.000Z');
const at = (minutes: number): number => T0 + minutes * 60_000;
const iso = (minutes: number): string => new Date(at(minutes)).toISOString();
const RC = 'nvidia-h100-sxm-80g';
const INSTRUMENT = `${RC}.cn-east-1.2026-03-11`;
const BOOK = `book-${INSTRUMENT}`;
const GUIDANCE = `guidance-${RC}`;
const USAGE_SOURCE = 'acme/node-7';

const band = (version: number, floor: string, effectiveFromMin: number, issuedAtMin: number) => ({
  bandId: RC,
  versionId: `${RC}.v${version}`,
  version,
  resourceClass: RC,
  region: null,
  currency: 'CNY',
  floorPerAcceleratorHour: floor,
  floorPerThousandTokens: null,
  ceilingPerAcceleratorHour: '60',
  referencePrice: null,
  effectiveFrom: iso(effectiveFromMin),
  effectiveTo: null,
  reason: 'test',
  documentRef: 'NDRC-TEST',
  issuedBy: { keyId: 'reg', role: 'regulator' },
  issuedAt: iso(issuedAtMin),
  previousVersionId: version === 1 ? null : `${RC}.v${version - 1}`,
});

const meta = { correlationId: 'c-test', causationId: 'c-test', actor: { service: 'test' } };
const asNew = (events: readonly { type: string; data: unknown }[]): NewEvent[] =>
  events.map((e) => ({ type: e.type, data: e.data, metadata: meta }));

/** The scripted day, through the services' deciders; `guidanceStore` may be another store (distributed mode). */
const writeDay = async (matching: EventStore, guidanceStore: EventStore): Promise<void> => {
  await guidanceStore.appendToStream(GUIDANCE, asNew([{ type: 'PriceBandIssued', data: band(1, '18', 0, -10) }]));
  let book = initialBook();
  const run = async (cmd: BookCommand): Promise<BookEvent[]> => {
    const events = decideBook(cmd, book);
    for (const e of events) book = evolveBook(book, e);
    if (events.length > 0) await matching.appendToStream(BOOK, asNew(events));
    return events;
  };
  const m = (min: number) => ({ now: at(min), guidanceSeenAt: at(min) });
  const place = (
    min: number,
    id: string,
    account: string,
    side: 'buy' | 'sell',
    price: string,
    lots: number,
    tif: 'GTC' | 'IOC',
  ) =>
    run({
      type: 'PlaceOrder',
      data: {
        orderId: id,
        clientOrderId: id,
        account,
        instrument: INSTRUMENT,
        side,
        price,
        quantityLots: lots,
        timeInForce: tif,
      },
      metadata: m(min),
    });
  await run({
    type: 'OpenBook',
    data: { instrument: INSTRUMENT, tickSize: '0.01', lotSize: '1', tradingEndsAt: null, maxGuidanceLagMs: 60_000 },
    metadata: m(-1),
  });
  const apply = (v: ReturnType<typeof band>, min: number) =>
    run({
      type: 'ApplyBand',
      data: {
        guidanceVersion: v.versionId,
        floor: v.floorPerAcceleratorHour,
        ceiling: v.ceilingPerAcceleratorHour,
        effectiveFrom: v.effectiveFrom,
        effectiveTo: null,
      },
      metadata: m(min),
    });
  await apply(band(1, '18', 0, -10), -1);
  expect((await place(1, 'ask-1', 'acme-gpu', 'sell', '21.5', 100, 'GTC')).map((e) => e.type)).toContain('OrderRested');
  expect((await place(2, 'bid-1', 'lab-buyer', 'buy', '22', 40, 'IOC')).map((e) => e.type)).toContain('TradeExecuted');
  await place(3, 'ask-2', 'acme-gpu', 'sell', '19', 10, 'GTC');
  await guidanceStore.appendToStream(GUIDANCE, asNew([{ type: 'PriceBandAmended', data: band(2, '20', 10, 5) }]));
  await apply(band(2, '20', 10, 5), 6);
  const tick = await run({ type: 'Tick', data: {}, metadata: m(11) });
  expect(tick.find((e) => e.type === 'OrderCancelled')?.data).toMatchObject({
    orderId: 'ask-2',
    reason: 'FLOOR_RAISED',
  });
  expect((await place(12, 'bid-2', 'lab-buyer', 'buy', '21.5', 10, 'IOC')).map((e) => e.type)).toContain(
    'TradeExecuted',
  );

  let ledger = initialLedger('CNY');
  const ledgerRun = async (events: { type: string; data: unknown }[]) => {
    for (const e of events) ledger = evolveLedger(ledger, e as Parameters<typeof evolveLedger>[1]);
    await matching.appendToStream('ledger-CNY', asNew(events));
  };
  await ledgerRun(
    decideCreditLine(
      {
        type: 'SetCreditLine',
        data: { participantAccountId: 'lab-buyer', creditLine: '1000.00' },
        metadata: { now: new Date(at(0)) },
      },
      ledger,
    ),
  );
  await ledgerRun(
    decideCreditLine(
      {
        type: 'SetCreditLine',
        data: { participantAccountId: 'acme-gpu', creditLine: '0.00' },
        metadata: { now: new Date(at(0)) },
      },
      ledger,
    ),
  );
  const transfers = async (min: number, requests: TransferInput[][]) => {
    const d = decideTransfers(
      { type: 'CreateTransfers', data: { requests }, metadata: { now: new Date(at(min)) } },
      ledger,
    );
    expect(d.results.flat().map((r) => r.result)).toEqual(requests.flat().map(() => 'ok'));
    await ledgerRun(d.events);
  };
  await transfers(1, [
    [{ id: 'dep-1', debitAccount: 'world:CNY', creditAccount: 'lab-buyer:cash', amount: '5000.00', code: 'deposit' }],
  ]);
  await transfers(2, [
    [
      {
        id: 'hold-1',
        debitAccount: 'lab-buyer:cash',
        creditAccount: 'lab-buyer:held',
        amount: '860.00',
        phase: 'pending',
        timeoutMs: 3_600_000,
        code: 'hold',
      },
    ],
  ]);
  await transfers(3, [[{ id: 'post-1', pendingId: 'hold-1', amount: '860.00', phase: 'post' }]]);
  await transfers(4, [
    [
      {
        id: 'settle-1',
        debitAccount: 'lab-buyer:held',
        creditAccount: 'acme-gpu:cash',
        amount: '860.00',
        code: 'settlement',
      },
    ],
  ]);

  await matching.appendToStream(
    'meter-accelerator_seconds',
    asNew([
      {
        type: 'MeterDefined',
        data: {
          key: 'accelerator_seconds',
          unit: 'second',
          aggregation: 'SUM',
          valueField: null,
          billable: true,
          description: 'x',
          definedAt: iso(0),
        },
      },
    ]),
  );
  await matching.appendToStream(
    usageStream(USAGE_SOURCE, 'evt-1'),
    asNew([{ type: 'UsageRecorded', data: usageData('evt-1') }]),
    { expectedRevision: 'no_stream' },
  );
};

const usageData = (id: string) => ({
  source: USAGE_SOURCE,
  id,
  type: 'cx.usage',
  subject: 'alloc-1',
  subjectKind: 'allocation',
  offerId: null,
  meter: 'accelerator_seconds',
  quantity: '3600',
  time: iso(20),
  dimensions: {},
  reporterRole: 'provider',
  reporterAccount: 'acme-gpu',
  recordedAt: iso(21),
});

const trade = (tradeId: string, price: string, version: string, min: number) => ({
  tradeId,
  sequence: 99,
  instrument: INSTRUMENT,
  price,
  priceTicks: Math.round(Number(price) * 100),
  quantityLots: 1,
  makerOrderId: 'ask-1',
  takerOrderId: `taker-${tradeId}`,
  buyOrderId: `taker-${tradeId}`,
  sellOrderId: 'ask-1',
  buyerAccount: 'lab-buyer',
  sellerAccount: 'acme-gpu',
  makerSide: 'sell',
  executedAt: iso(min),
  floor: version.endsWith('v2') ? '20' : '18',
  ceiling: '60',
  guidanceVersion: version,
});

let dir: ReturnType<typeof tempDir>;
let original: string;
let copies = 0;

beforeAll(async () => {
  dir = tempDir('cx-audit-rules-');
  original = join(dir.path, 'day.sqlite');
  const store = new ChainedEventStore(SqliteEventStore.open(original));
  try {
    await writeDay(store, store);
  } finally {
    await store.close();
  }
}, 60_000);
afterAll(() => dir.remove());

/** Copies the day, appends `forge` through the raw store (no service), and verifies the copy. */
const forgeAndVerify = async (
  forge: (store: EventStore) => Promise<Position[]>,
): Promise<{ report: VerifyReport; positions: string[] }> => {
  const file = join(dir.path, `copy-${++copies}.sqlite`);
  copyFileSync(original, file);
  const writer = new ChainedEventStore(SqliteEventStore.open(file));
  let positions: Position[];
  try {
    positions = await forge(writer);
  } finally {
    await writer.close();
  }
  const reader = SqliteEventStore.open(file);
  try {
    return {
      report: await verifySources([storeSource(file, reader)]),
      positions: positions.map((p) => `${p.commit}/${p.prepare}`),
    };
  } finally {
    await reader.close();
  }
};

const append = async (store: EventStore, stream: string, type: string, data: unknown): Promise<Position> =>
  (await store.appendToStream(stream, [{ type, data, metadata: meta }])).position;

const checks = (r: VerifyReport) => r.violations.map((v) => [v.check, v.position]);

describe('business-rule checkers', () => {
  it('the scripted day, written by the deciders, verifies clean with every rule run', async () => {
    const { report } = await forgeAndVerify(async () => []);
    expect(report.violations).toEqual([]);
    expect(report.rules).toEqual(['floor', 'ledger', 'usage', 'statements']);
    expect(report.warnings.filter((w) => !w.includes('no checkpoints'))).toEqual([]);
  });

  it('tolerates event types it does not know (forward compatibility)', async () => {
    const { report } = await forgeAndVerify(async (s) => [
      await append(s, BOOK, 'OrderTeleported', { orderId: 'x', price: '1' }),
      await append(s, 'ledger-CNY', 'LedgerFrobnicated', { currency: 'CNY' }),
      await append(s, usageStream(USAGE_SOURCE, 'evt-1'), 'UsageAnnotated', { note: 'later service' }),
    ]);
    expect(report.violations).toEqual([]);
  });

  it('finds a trade forged below the floor in force, at its position', async () => {
    const { report, positions } = await forgeAndVerify(async (s) => [
      await append(s, BOOK, 'TradeExecuted', trade('forged-1', '10', `${RC}.v2`, 13)),
    ]);
    expect(checks(report)).toEqual([['floor.trade-below-floor', positions[0]]]);
    expect(report.violations[0]).toMatchObject({
      stream: BOOK,
      message: expect.stringContaining('below the floor 20'),
    });
  });

  it('finds a trade above the ceiling and one recording a version that was not in force', async () => {
    const { report, positions } = await forgeAndVerify(async (s) => [
      await append(s, BOOK, 'TradeExecuted', trade('forged-2', '61', `${RC}.v2`, 13)),
      // Within the old band's floor, but v1 was no longer in force at minute 13: the claim is what is false.
      await append(s, BOOK, 'TradeExecuted', trade('forged-3', '21', `${RC}.v1`, 13)),
    ]);
    expect(checks(report)).toEqual([
      ['floor.trade-above-ceiling', positions[0]],
      ['floor.trade-version', positions[1]],
    ]);
  });

  it('finds an order accepted and rested below the floor in force', async () => {
    const accepted = {
      orderId: 'low-1',
      clientOrderId: 'low-1',
      account: 'acme-gpu',
      instrument: INSTRUMENT,
      side: 'sell',
      price: '19.5',
      priceTicks: 1950,
      quantityLots: 1,
      timeInForce: 'GTC',
      expiresAt: null,
      postOnly: false,
      acceptedAt: iso(13),
      floor: '20',
      ceiling: '60',
      guidanceVersion: `${RC}.v2`,
    };
    const rested = {
      orderId: 'low-1',
      clientOrderId: 'low-1',
      account: 'acme-gpu',
      side: 'sell',
      price: '19.5',
      priceTicks: 1950,
      quantityLots: 1,
      filledLots: 0,
      remainingLots: 1,
      timeInForce: 'GTC',
      expiresAt: null,
      postOnly: false,
      restedAt: iso(13),
    };
    const { report, positions } = await forgeAndVerify(async (s) => [
      await append(s, BOOK, 'OrderAccepted', accepted),
      await append(s, BOOK, 'OrderRested', rested),
    ]);
    expect(checks(report)).toEqual([
      ['floor.order-below-floor', positions[0]],
      ['floor.rested-below-floor', positions[1]],
    ]);
  });

  it('finds a resting order the floor rise should have cancelled but did not', async () => {
    const rested = {
      orderId: 'old-1',
      clientOrderId: 'old-1',
      account: 'acme-gpu',
      side: 'sell',
      price: '19',
      priceTicks: 1900,
      quantityLots: 5,
      filledLots: 0,
      remainingLots: 5,
      timeInForce: 'GTC',
      expiresAt: null,
      postOnly: false,
      restedAt: iso(9),
    };
    const next = {
      orderId: 'next-1',
      clientOrderId: 'next-1',
      account: 'lab-buyer',
      instrument: INSTRUMENT,
      side: 'buy',
      price: '20.5',
      quantityLots: 1,
      timeInForce: 'IOC',
      code: 'MATCHING.MARKET_HALTED',
      field: null,
      rejectedAt: iso(13),
      floor: '20',
      ceiling: '60',
      guidanceVersion: `${RC}.v2`,
    };
    const { report, positions } = await forgeAndVerify(async (s) => [
      await append(s, BOOK, 'OrderRested', rested),
      await append(s, BOOK, 'OrderRejected', next),
    ]);
    expect(checks(report)).toEqual([['floor.not-cancelled', positions[1]]]);
    expect(report.violations[0]?.message).toMatch(/old-1 still rests at 19, below the floor 20 .*FLOOR_RAISED/);
  });

  it('finds a duplicate transfer id, an unknown account and an invalid amount in the ledger', async () => {
    const batch = (min: number, t: object) => ({ currency: 'CNY', at: iso(min), transfers: [t] });
    const { report, positions } = await forgeAndVerify(async (s) => [
      await append(
        s,
        'ledger-CNY',
        'TransfersCommitted',
        batch(30, { id: 'dep-1', debitAccount: 'world:CNY', creditAccount: 'lab-buyer:cash', amount: '5000.00' }),
      ),
      await append(
        s,
        'ledger-CNY',
        'TransfersCommitted',
        batch(31, { id: 'x-2', debitAccount: 'world:CNY', creditAccount: 'mallory:cash', amount: '1.00' }),
      ),
      await append(
        s,
        'ledger-CNY',
        'TransfersCommitted',
        batch(32, { id: 'x-3', debitAccount: 'world:CNY', creditAccount: 'lab-buyer:cash', amount: '-5.00' }),
      ),
    ]);
    expect(checks(report)).toEqual([
      ['ledger.duplicate-transfer-id', positions[0]],
      ['ledger.unknown-account', positions[1]],
      ['ledger.amount-invalid', positions[2]],
    ]);
  });

  it('finds a hold left pending past its timeout, and a post of a hold already posted', async () => {
    const batch = (min: number, t: object) => ({ currency: 'CNY', at: iso(min), transfers: [t] });
    const { report, positions } = await forgeAndVerify(async (s) => [
      await append(
        s,
        'ledger-CNY',
        'TransfersCommitted',
        batch(40, {
          id: 'hold-9',
          debitAccount: 'lab-buyer:cash',
          creditAccount: 'lab-buyer:held',
          amount: '10.00',
          phase: 'pending',
          timeoutMs: 60_000,
        }),
      ),
      await append(
        s,
        'ledger-CNY',
        'TransfersCommitted',
        batch(45, { id: 'x-5', debitAccount: 'world:CNY', creditAccount: 'lab-buyer:cash', amount: '1.00' }),
      ),
      await append(
        s,
        'ledger-CNY',
        'TransfersCommitted',
        batch(46, {
          id: 'x-6',
          pendingId: 'hold-1',
          debitAccount: 'lab-buyer:cash',
          creditAccount: 'lab-buyer:held',
          amount: '860.00',
          phase: 'post',
        }),
      ),
    ]);
    expect(checks(report)).toEqual([
      ['ledger.hold-not-expired', positions[1]],
      ['ledger.not-pending', positions[2]],
    ]);
  });

  it('finds usage counted twice: again in its identity stream, or under another stream', async () => {
    const { report, positions } = await forgeAndVerify(async (s) => [
      await append(s, usageStream(USAGE_SOURCE, 'evt-1'), 'UsageRecorded', usageData('evt-1')),
      await append(s, 'usage-forged', 'UsageRecorded', usageData('evt-1')),
      await append(s, usageStream(USAGE_SOURCE, 'evt-2'), 'UsageRecorded', { ...usageData('evt-2'), quantity: 'lots' }),
    ]);
    expect(checks(report)).toEqual([
      ['usage.counted-twice', positions[0]],
      ['usage.stream-mismatch', positions[1]],
      ['usage.malformed', positions[2]],
    ]);
  });
});

describe('distributed mode (one store per service)', () => {
  const split = async (forge?: (matching: EventStore) => Promise<void>) => {
    const n = ++copies;
    const matchingFile = join(dir.path, `matching-${n}.sqlite`);
    const guidanceFile = join(dir.path, `guidance-${n}.sqlite`);
    const matching = new ChainedEventStore(SqliteEventStore.open(matchingFile));
    const guidance = new ChainedEventStore(SqliteEventStore.open(guidanceFile));
    try {
      await writeDay(matching, guidance);
      if (forge) await forge(matching);
    } finally {
      await matching.close();
      await guidance.close();
    }
    return { matchingFile, guidanceFile };
  };
  const verify = async (files: string[]): Promise<VerifyReport> => {
    const stores = files.map((f) => SqliteEventStore.open(f));
    try {
      return await verifySources(stores.map((s, i) => storeSource(files[i] as string, s)));
    } finally {
      for (const s of stores) await s.close();
    }
  };

  it('judges trades in the matching store by the guidance store, whatever the order of the sources', async () => {
    const { matchingFile, guidanceFile } = await split(async (m) => {
      await append(m, BOOK, 'TradeExecuted', trade('forged-d', '10', `${RC}.v2`, 13));
    });
    for (const files of [
      [matchingFile, guidanceFile],
      [guidanceFile, matchingFile],
    ]) {
      const report = await verify(files);
      expect(report.violations.map((v) => [v.check, v.source])).toEqual([['floor.trade-below-floor', matchingFile]]);
    }
  });

  it('without the guidance store, floors are not judged and the report says so', async () => {
    const { matchingFile } = await split();
    const report = await verify([matchingFile]);
    expect(report.violations).toEqual([]);
    expect(report.warnings.join('\n')).toMatch(
      /floor: \d+ order and trade decisions were not checked .* no guidance history/,
    );
  });
});
