import { equals, ScalarType, toBinary, type DescMessage } from '@bufbuild/protobuf';
import { BinaryWriter } from '@bufbuild/protobuf/wire';
import {
  AccountKind,
  AlertRule,
  IndexWindow,
  CancelReason,
  ContractViolation,
  createEvent,
  decodeEvent,
  encodeEvent,
  EVENT_TYPE_HEADER,
  eventTypeFor,
  eventTypesOf,
  GuidanceChangeKind,
  PeriodKind,
  ReporterRole,
  Side,
  TimeInForce,
  timestampFromDate,
  timestampDate,
  toKafkaRecord,
  topicNames,
  topics,
  validateEvent,
  type Topic,
  type TopicEvent,
  type TopicEventInit,
} from './index';

// Decimals a float would not survive: more than 17 significant digits, trailing zeros, tiny and negative values.
const BIG = '123456789012345678901234567.123456789';
const CNY = (amount: string) => ({ amount, currency: 'CNY' });
const at = (iso: string) => timestampFromDate(new Date(iso));

const envelope = (aggregateId: string) => ({
  eventId: '0195b0c2-7f3a-7c3e-9a51-3f1d2b8e4c11',
  aggregateId,
  occurredAt: at('2026-03-09T08:15:30.123Z'),
  recordedAt: at('2026-03-09T08:15:30.125Z'),
  correlationId: 'corr-1',
  causationId: 'cmd-1',
  actor: { keyId: 'key_01', role: 'trader' },
  source: {
    streamId: `stream-${aggregateId}`,
    streamRevision: 42n,
    position: { commit: 18446744073709551615n, prepare: 18446744073709551615n },
  },
});

const INSTRUMENT = 'nvidia-h100-sxm-80g.cn-east-1.2026-03-10';

type Fixture = { [T in Topic]: { topic: T; init: TopicEventInit<T> } }[Topic];

const fixtures: Fixture[] = [
  {
    topic: 'cx.identity.v1',
    init: {
      envelope: envelope('acc_1'),
      event: {
        case: 'accountOpened',
        value: {
          accountId: 'acc_1',
          legalName: 'Example Compute Ltd',
          kind: AccountKind.BOTH,
          currency: 'CNY',
          timezone: 'Asia/Shanghai',
          creditLine: '1000000.00',
          orderLimits: { maxOpenQuantityLots: '5000', maxOpenNotional: BIG },
          feeTier: 'standard',
        },
      },
    },
  },
  {
    topic: 'cx.identity.v1',
    init: {
      envelope: envelope('acc_1'),
      event: {
        case: 'accountAmended',
        value: { accountId: 'acc_1', creditLine: '0.10', maxOpenNotional: {}, maxOpenQuantityLots: { value: '7' } },
      },
    },
  },
  {
    topic: 'cx.identity.v1',
    init: {
      envelope: envelope('key_9'),
      event: {
        case: 'apiKeyIssued',
        value: {
          keyId: 'key_9',
          role: 'trader',
          accountIds: ['acc_1', 'acc_2'],
          expiresAt: at('2027-01-01T00:00:00Z'),
          label: 'desk',
          secretHash: 'a'.repeat(64),
        },
      },
    },
  },
  {
    topic: 'cx.identity.v1',
    init: {
      envelope: envelope('key_9'),
      event: { case: 'apiKeyRevoked', value: { keyId: 'key_9', reason: 'rotated', secretHash: 'a'.repeat(64) } },
    },
  },
  {
    topic: 'cx.pricing.guidance.v1',
    init: {
      envelope: envelope('nvidia-h100-sxm-80g'),
      event: {
        case: 'guidanceChanged',
        value: {
          kind: GuidanceChangeKind.AMENDED,
          previousVersionId: 'gv_1',
          band: {
            bandId: 'band_1',
            versionId: 'gv_2',
            version: 2n,
            resourceClass: 'nvidia-h100-sxm-80g',
            region: 'cn-east-1',
            floorPerAcceleratorHour: CNY('18.5000'),
            floorPerThousandTokens: CNY('0.000125'),
            ceilingPerAcceleratorHour: CNY(BIG),
            referencePrice: CNY('21.00'),
            effectiveFrom: at('2026-03-10T00:00:00Z'),
            issuedBy: 'key_reg',
            reason: 'quarterly review',
            documentRef: 'NDRC-2026-041',
            issuerRole: 'regulator',
            issuedAt: at('2026-03-09T08:00:00Z'),
          },
        },
      },
    },
  },
  {
    topic: 'cx.pricing.guidance.v1',
    init: {
      envelope: envelope('nvidia-h100-sxm-80g'),
      event: {
        case: 'guidanceHeartbeat',
        value: { resourceClass: 'nvidia-h100-sxm-80g', completeUpTo: at('2026-03-09T08:15:00Z') },
      },
    },
  },
  {
    topic: 'cx.pricing.guidance.v1',
    init: {
      envelope: envelope('nvidia-h100-sxm-80g'),
      event: {
        case: 'resourceClassListed',
        value: {
          resourceClassId: 'nvidia-h100-sxm-80g',
          vendor: 'NVIDIA',
          model: 'H100 SXM',
          memoryGib: 80,
          interconnect: 'NVLink 4 (900 GB/s)',
          units: ['accelerator-hour', 'thousand-tokens'],
        },
      },
    },
  },
  {
    topic: 'cx.pricing.guidance.v1',
    init: {
      envelope: envelope('cn-east-1'),
      event: { case: 'regionListed', value: { regionId: 'cn-east-1', name: 'East China (Shanghai)' } },
    },
  },
  {
    topic: 'cx.pricing.market-status.v1',
    init: {
      envelope: envelope('halt_1'),
      event: {
        case: 'marketHalted',
        value: { haltId: 'halt_1', scope: { region: 'cn-east-1' }, reason: 'surveillance', haltedBy: 'key_reg' },
      },
    },
  },
  {
    topic: 'cx.pricing.market-status.v1',
    init: {
      envelope: envelope('halt_1'),
      event: { case: 'marketResumed', value: { haltId: 'halt_1', scope: {}, reason: 'cleared', resumedBy: 'key_reg' } },
    },
  },
  {
    topic: 'cx.matching.orders.v1',
    init: {
      envelope: envelope(INSTRUMENT),
      event: {
        case: 'orderAccepted',
        value: {
          orderId: 'ord_1',
          clientOrderId: 'c-1',
          accountId: 'acc_1',
          instrumentId: INSTRUMENT,
          side: Side.BID,
          limitPrice: CNY('20.10'),
          quantity: '8.000',
          timeInForce: TimeInForce.GTD,
          expiresAt: at('2026-03-09T23:00:00Z'),
          guidanceVersionId: 'gv_2',
          floor: CNY('18.5000'),
        },
      },
    },
  },
  {
    topic: 'cx.matching.orders.v1',
    init: {
      envelope: envelope(INSTRUMENT),
      event: {
        case: 'orderRejected',
        value: {
          clientOrderId: 'c-2',
          accountId: 'acc_1',
          instrumentId: INSTRUMENT,
          side: Side.ASK,
          limitPrice: CNY('18.49'),
          quantity: '1',
          timeInForce: TimeInForce.IOC,
          reasonCode: 'MATCHING.BELOW_FLOOR',
          message: 'below the floor in force',
          guidanceVersionId: 'gv_2',
          floor: CNY('18.5000'),
        },
      },
    },
  },
  {
    topic: 'cx.matching.orders.v1',
    init: {
      envelope: envelope(INSTRUMENT),
      event: {
        case: 'orderCancelled',
        value: {
          orderId: 'ord_1',
          clientOrderId: 'c-1',
          accountId: 'acc_1',
          instrumentId: INSTRUMENT,
          side: Side.BID,
          reason: CancelReason.EXPIRED,
          cancelledQuantity: '3.000',
          filledQuantity: '5.000',
        },
      },
    },
  },
  {
    topic: 'cx.matching.trades.v1',
    init: {
      envelope: envelope(INSTRUMENT),
      event: {
        case: 'tradeExecuted',
        value: {
          tradeId: 'trd_1',
          instrumentId: INSTRUMENT,
          resourceClass: 'nvidia-h100-sxm-80g',
          region: 'cn-east-1',
          deliveryDay: '2026-03-10',
          price: CNY('20.10'),
          quantity: BIG,
          buyOrderId: 'ord_1',
          sellOrderId: 'ord_2',
          buyerAccountId: 'acc_1',
          sellerAccountId: 'acc_2',
          aggressorSide: Side.ASK,
          sequence: 9007199254740993n,
          // no band in force: guidanceVersionId absent
        },
      },
    },
  },
  {
    topic: 'cx.matching.allocations.v1',
    init: {
      envelope: envelope('alloc_1'),
      event: {
        case: 'allocationCreated',
        value: {
          allocationId: 'alloc_1',
          tradeId: 'trd_1',
          instrumentId: INSTRUMENT,
          resourceClass: 'nvidia-h100-sxm-80g',
          region: 'cn-east-1',
          providerAccountId: 'acc_2',
          buyerAccountId: 'acc_1',
          quantity: '5.000',
          price: CNY('20.10'),
          deliveryStart: at('2026-03-10T00:00:00Z'),
          deliveryEnd: at('2026-03-11T00:00:00Z'),
          guidanceVersionId: 'gv_2',
        },
      },
    },
  },
  {
    topic: 'cx.metering.usage.v1',
    init: {
      envelope: envelope('alloc_1'),
      event: {
        case: 'usageRecorded',
        value: {
          ref: { source: 'urn:provider:acc_2', id: 'u-1' },
          subject: { case: 'allocationId', value: 'alloc_1' },
          meter: 'accelerator_seconds',
          quantity: '3600.000000001',
          usageTime: at('2026-03-10T01:00:00Z'),
          reporterRole: ReporterRole.PROVIDER,
          reporterAccountId: 'acc_2',
        },
      },
    },
  },
  {
    topic: 'cx.metering.usage.v1',
    init: {
      envelope: envelope('alloc_1'),
      event: {
        case: 'usageAmended',
        value: {
          ref: { source: 'urn:provider:acc_2', id: 'u-1' },
          quantity: '3500',
          previousQuantity: '3600.000000001',
          reason: 'meter fault',
        },
      },
    },
  },
  {
    topic: 'cx.metering.usage.v1',
    init: {
      envelope: envelope('acc_1'),
      event: {
        case: 'usageVoided',
        value: { ref: { source: 'urn:buyer:acc_1', id: 'u-2' }, reason: 'duplicate', previousQuantity: '3600' },
      },
    },
  },
  {
    topic: 'cx.metering.usage.v1',
    init: {
      envelope: envelope('acc_1'),
      event: {
        case: 'usageRejected',
        value: {
          ref: { source: 'urn:integrator:acc_1', id: 'u-3' },
          accountId: 'acc_1',
          code: 'METERING.NEGATIVE_QUANTITY',
          field: 'data.quantity',
          message: 'data.quantity must not be negative',
          subject: 'alloc_1',
          rejectedAt: at('2026-03-10T02:00:00Z'),
          recordPosition: 'cx.metering.usage-submitted.v1/3/42',
        },
      },
    },
  },
  {
    topic: 'cx.pricing.index.v1',
    init: {
      envelope: envelope('nvidia-h100-sxm-80g'),
      event: {
        case: 'referenceIndexPublished',
        value: {
          indexId: 'nvidia-h100-sxm-80g.cn-east-1.CNY.daily:2026-03-10',
          resourceClass: 'nvidia-h100-sxm-80g',
          region: 'cn-east-1',
          window: IndexWindow.DAILY,
          windowStart: at('2026-03-10T00:00:00Z'),
          windowEnd: at('2026-03-11T00:00:00Z'),
          version: 4n,
          vwap: CNY('21.13'),
          notional: CNY('422.50125'),
          volume: '20',
          tradeCount: 4n,
          revision: true,
          tradeId: 'trd_1',
        },
      },
    },
  },
  {
    topic: 'cx.pricing.alerts.v1',
    init: {
      envelope: envelope('nvidia-h100-sxm-80g'),
      event: {
        case: 'alertRaised',
        value: {
          alertId: 'circuit-breaker.cb-trd_1',
          rule: AlertRule.CIRCUIT_BREAKER,
          resourceClass: 'nvidia-h100-sxm-80g',
          region: 'cn-east-1',
          instrumentId: INSTRUMENT,
          day: '2026-03-10',
          observedPercent: '12.5',
          thresholdPercent: '10',
          price: CNY('22.50'),
          floor: CNY('18.50'),
          message: 'moved 12.5% within 300000 ms',
          raisedAt: at('2026-03-10T10:04:00Z'),
          tradeId: 'trd_1',
          haltId: 'cb-trd_1',
        },
      },
    },
  },
  {
    topic: 'cx.billing.periods.v1',
    init: {
      envelope: envelope('2026-03-10'),
      event: {
        case: 'periodClosed',
        value: {
          period: '2026-03-10',
          kind: PeriodKind.DAY,
          start: at('2026-03-10T00:00:00Z'),
          end: at('2026-03-11T00:00:00Z'),
          closedAtPosition: { commit: 1000n, prepare: 1000n },
        },
      },
    },
  },
  {
    topic: 'cx.billing.settlements.v1',
    init: {
      envelope: envelope('stl_1'),
      event: {
        case: 'settlementPosted',
        value: {
          settlementId: 'stl_1',
          period: '2026-03-10',
          subject: { case: 'allocationId', value: 'alloc_1' },
          buyerAccountId: 'acc_1',
          providerAccountId: 'acc_2',
          quantity: '4.999722222222222222',
          unit: 'accelerator-hour',
          amount: CNY('100.49'),
          buyerFee: CNY('0.10'),
          providerFee: CNY('0.00'),
          shortfall: CNY('-0.01'),
          transferIds: ['tr_1', 'tr_2'],
          guidanceVersionId: 'gv_2',
        },
      },
    },
  },
  {
    topic: 'cx.billing.statements.v1',
    init: {
      envelope: envelope('acc_1'),
      event: {
        case: 'statementIssued',
        value: {
          statementId: 'st_1',
          accountId: 'acc_1',
          period: '2026-03',
          openingBalance: CNY('0.00'),
          charges: CNY('-100.49'),
          fees: CNY('-0.10'),
          shortfalls: CNY('0.00'),
          adjustments: CNY('0'),
          closingBalance: CNY(`-${BIG}`),
          lineCount: 3,
          contentHash: 'sha256:' + 'b'.repeat(64),
          builtFromPosition: { commit: 2000n, prepare: 2000n },
        },
      },
    },
  },
];

/** Every decimal-looking string in a message, by path (Money amounts, quantities, limits). */
const decimals = (value: unknown, path = ''): Record<string, string> => {
  if (typeof value === 'string') return /^-?\d+(\.\d+)?$/.test(value) ? { [path]: value } : {};
  if (typeof value !== 'object' || value === null) return {};
  return Object.entries(value).reduce<Record<string, string>>(
    (acc, [k, v]) => ({ ...acc, ...decimals(v, `${path}.${k}`) }),
    {},
  );
};

describe('contracts', () => {
  it('has a fixture for every event of every topic', () => {
    const covered = new Set(
      fixtures.map((f) => `${f.topic} ${eventTypeFor(f.topic as never, f.init.event!.case as never)}`),
    );
    const all = topicNames.flatMap((t) => eventTypesOf(t).map((e) => `${t} ${e}`));
    expect([...covered].sort()).toEqual(all.sort());
  });

  it.each(fixtures.map((f) => [`${f.topic} ${f.init.event!.case}`, f] as const))(
    'round-trips %s exactly',
    (_name, f) => {
      const topic = f.topic;
      const event = createEvent(topic, f.init as never) as TopicEvent<Topic>;
      expect(event.envelope!.eventType).toBe(eventTypeFor(topic, event.event.case as never));
      expect(validateEvent(topic, event as never)).toEqual([]);

      const bytes = encodeEvent(topic, event as never);
      const decoded = decodeEvent(topic, bytes);
      expect(equals(topics[topic] as DescMessage, decoded as never, event as never)).toBe(true);
      // Decimal strings survive byte for byte (no float anywhere on the way).
      const before = decimals(event);
      expect(decimals(decoded)).toEqual(before);
      // 64-bit positions survive exactly.
      expect(decoded.envelope!.source!.position!.commit).toBe(18446744073709551615n);
      expect(timestampDate(decoded.envelope!.occurredAt!).toISOString()).toBe('2026-03-09T08:15:30.123Z');
    },
  );

  it('keeps the "no band in force" distinction (absent, not empty)', () => {
    const trade = fixtures.find((f) => f.init.event?.case === 'tradeExecuted')!;
    const decoded = decodeEvent(
      'cx.matching.trades.v1',
      encodeEvent('cx.matching.trades.v1', createEvent('cx.matching.trades.v1', trade.init as never)),
    );
    expect(decoded.event.case === 'tradeExecuted' && decoded.event.value.guidanceVersionId).toBeUndefined();
    const accepted = fixtures.find((f) => f.init.event?.case === 'orderAccepted')!;
    const d2 = decodeEvent(
      'cx.matching.orders.v1',
      encodeEvent('cx.matching.orders.v1', createEvent('cx.matching.orders.v1', accepted.init as never)),
    );
    expect(d2.event.case === 'orderAccepted' && d2.event.value.guidanceVersionId).toBe('gv_2');
  });

  it.each(['1e3', 'NaN', '', ' 1', '+1', '1.', '.5', '0x10', 'Infinity'])(
    'refuses to encode a non-decimal quantity %j',
    (bad) => {
      const trade = fixtures.find((f) => f.init.event?.case === 'tradeExecuted')!;
      const event = createEvent('cx.matching.trades.v1', trade.init as never);
      if (event.event.case !== 'tradeExecuted') throw new Error('fixture');
      event.event.value.quantity = bad;
      expect(() => encodeEvent('cx.matching.trades.v1', event)).toThrow(ContractViolation);
      expect(validateEvent('cx.matching.trades.v1', event)).toEqual([
        `tradeExecuted.quantity is not a decimal string: ${JSON.stringify(bad)}`,
      ]);
    },
  );

  it('refuses bad money, a missing envelope field and a type that disagrees with the payload', () => {
    const stl = fixtures.find((f) => f.init.event?.case === 'settlementPosted')!;
    const event = createEvent('cx.billing.settlements.v1', stl.init as never);
    if (event.event.case !== 'settlementPosted') throw new Error('fixture');
    event.event.value.amount = { ...event.event.value.amount!, amount: '1.5e2', currency: 'cny' };
    event.envelope!.eventType = 'cx.billing.v1.StatementIssued';
    event.envelope!.correlationId = '';
    expect(validateEvent('cx.billing.settlements.v1', event)).toEqual([
      'envelope.correlationId is empty',
      'envelope.eventType cx.billing.v1.StatementIssued does not match the payload cx.billing.v1.SettlementPosted',
      'settlementPosted.amount.amount is not a decimal string: "1.5e2"',
      'settlementPosted.amount.currency is not ISO 4217: "cny"',
    ]);
  });

  it('builds the Kafka record: keyed by aggregate id, typed by header', () => {
    const trade = fixtures.find((f) => f.init.event?.case === 'tradeExecuted')!;
    const record = toKafkaRecord('cx.matching.trades.v1', createEvent('cx.matching.trades.v1', trade.init as never));
    expect(record.key).toBe(INSTRUMENT);
    expect(record.headers[EVENT_TYPE_HEADER]).toBe('cx.matching.v1.TradeExecuted');
    expect(decodeEvent('cx.matching.trades.v1', record.value).event.case).toBe('tradeExecuted');
  });

  it('decodes a payload added after this build as an unknown case, keeping its bytes', () => {
    const env = createEvent('cx.matching.trades.v1', { envelope: envelope(INSTRUMENT) });
    const bytes = new BinaryWriter()
      .raw(toBinary(topics['cx.matching.trades.v1'], env))
      .tag(99, 2)
      .bytes(new Uint8Array([1, 2, 3]))
      .finish();
    const decoded = decodeEvent('cx.matching.trades.v1', bytes);
    expect(decoded.event.case).toBeUndefined();
    expect(decoded.envelope!.aggregateId).toBe(INSTRUMENT);
    expect(decoded.$unknown?.map((u) => u.no)).toEqual([99]);
  });

  it('uses no float or double anywhere, and key events carry only the hash', () => {
    const seen = new Set<string>();
    const floats: string[] = [];
    const walk = (m: DescMessage) => {
      if (seen.has(m.typeName)) return;
      seen.add(m.typeName);
      for (const f of m.fields) {
        if (
          (f.fieldKind === 'scalar' || f.fieldKind === 'list') &&
          (f.scalar === ScalarType.FLOAT || f.scalar === ScalarType.DOUBLE)
        )
          floats.push(`${m.typeName}.${f.name}`);
        if (f.message) walk(f.message);
      }
    };
    for (const t of topicNames) walk(topics[t]);
    expect(floats).toEqual([]);
    const keyFields = [...seen].filter((n) => n.startsWith('cx.identity.v1.ApiKey')).length;
    expect(keyFields).toBe(2);
    for (const t of ['apiKeyIssued', 'apiKeyRevoked'] as const) {
      const field = topics['cx.identity.v1'].field[t]!;
      const names = field.message!.fields.map((f) => f.name);
      expect(names).toContain('secret_hash');
      expect(names.filter((n) => /secret|key/.test(n))).toEqual(['key_id', 'secret_hash']);
    }
  });

  it('puts the envelope at field 1 of every topic message', () => {
    for (const t of topicNames) {
      const f = topics[t].fields.find((x) => x.number === 1);
      expect(f?.message?.typeName).toBe('cx.common.v1.Envelope');
    }
  });
});
