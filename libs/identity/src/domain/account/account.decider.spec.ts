// Proves the account decider: what opening and amending record, and which refusal wins when a request is wrong in several ways.
import { DomainError } from '@cx/shared-kernel';
import { type Account, type AccountCommand, decide, evolve, noAccount, type OpenAccount } from './account.decider';
import type { AccountEvent } from './account.events';

const now = new Date('2026-03-10T08:00:00Z');
const given = (events: AccountEvent[]): Account => events.reduce(evolve, noAccount);

const open = (data: Partial<OpenAccount['data']> = {}): OpenAccount => ({
  type: 'OpenAccount',
  data: { accountId: 'acme-01', legalName: 'Acme Compute Co., Ltd.', kind: 'provider', ...data },
  metadata: { now },
});

const opened: AccountEvent = {
  type: 'AccountOpened',
  data: {
    accountId: 'acme-01',
    legalName: 'Acme Compute Co., Ltd.',
    kind: 'provider',
    currency: 'CNY',
    timezone: 'UTC',
    creditLine: '0.00',
    orderLimits: { maxOpenQuantityLots: null, maxOpenNotional: null },
    feeTier: 'standard',
    openedAt: now.toISOString(),
  },
};

const refusal = (cmd: AccountCommand, state: Account): { code: string; kind: string; fields: string[] } => {
  try {
    decide(cmd, state);
  } catch (e) {
    if (e instanceof DomainError) return { code: e.code, kind: e.kind, fields: e.details.map((d) => d.field) };
    throw e;
  }
  throw new Error('expected a refusal');
};

describe('OpenAccount', () => {
  it('opens with defaults: CNY, UTC, no credit, no limits, standard fees', () => {
    expect(decide(open(), given([]))).toEqual([opened]);
  });

  it('records canonical values: the timezone as Intl names it, money with the currency’s minor digits', () => {
    const [event] = decide(
      open({
        currency: 'USD',
        timezone: 'asia/shanghai',
        creditLine: '1500.5',
        orderLimits: { maxOpenQuantityLots: '1000', maxOpenNotional: '2500000.00' },
        feeTier: 'maker-1',
      }),
      given([]),
    );
    expect(event).toEqual({
      type: 'AccountOpened',
      data: expect.objectContaining({
        currency: 'USD',
        timezone: 'Asia/Shanghai',
        creditLine: '1500.50',
        orderLimits: { maxOpenQuantityLots: '1000', maxOpenNotional: '2500000.00' },
        feeTier: 'maker-1',
      }),
    });
  });

  it('trims the legal name', () => {
    const [event] = decide(open({ legalName: '  Acme  ' }), given([]));
    expect(event?.data).toMatchObject({ legalName: 'Acme' });
  });

  // Ordered by which error wins: each row is also wrong in every later field, so the row's own field must be
  // the one reported.
  const allWrong = {
    accountId: 'bad id!',
    legalName: '',
    kind: 'seller',
    currency: 'XYZ',
    timezone: 'Mars/Olympus',
    creditLine: '1e3',
    orderLimits: { maxOpenQuantityLots: '1.5', maxOpenNotional: '-1' },
    feeTier: 'Gold Tier',
  };
  const fixes: Array<[string, Partial<OpenAccount['data']>]> = [
    ['accountId', { accountId: 'acme-01' }],
    ['legalName', { legalName: 'Acme' }],
    ['kind', { kind: 'buyer' }],
    ['currency', { currency: 'CNY' }],
    ['timezone', { timezone: 'Europe/Berlin' }],
    ['creditLine', { creditLine: '1000' }],
    ['orderLimits.maxOpenQuantityLots', { orderLimits: { maxOpenQuantityLots: '10', maxOpenNotional: '-1' } }],
    ['orderLimits.maxOpenNotional', { orderLimits: { maxOpenQuantityLots: '10', maxOpenNotional: '10' } }],
    ['feeTier', { feeTier: 'standard' }],
  ];
  const expected: Record<string, string> = {
    accountId: 'IDENTITY.INVALID_ACCOUNT_ID',
    legalName: 'IDENTITY.INVALID_LEGAL_NAME',
    kind: 'IDENTITY.INVALID_KIND',
    currency: 'IDENTITY.INVALID_CURRENCY',
    timezone: 'IDENTITY.INVALID_TIMEZONE',
    creditLine: 'IDENTITY.INVALID_CREDIT_LINE',
    'orderLimits.maxOpenQuantityLots': 'IDENTITY.INVALID_ORDER_LIMIT',
    'orderLimits.maxOpenNotional': 'IDENTITY.INVALID_ORDER_LIMIT',
    feeTier: 'IDENTITY.INVALID_FEE_TIER',
  };
  it.each(fixes.map(([field], i) => [field, i] as const))(
    'reports %s first when it and every later field are wrong',
    (field, i) => {
      const data = fixes
        .slice(0, i)
        .reduce<Partial<OpenAccount['data']>>(
          (acc, [, fix]) => ({ ...acc, ...fix }),
          allWrong as Partial<OpenAccount['data']>,
        );
      expect(refusal(open(data), given([]))).toEqual({ code: expected[field], kind: 'invalid', fields: [field] });
    },
  );

  it('judges the request before the state: an invalid request for an existing account is invalid, not a conflict', () => {
    expect(refusal(open({ timezone: 'Nowhere/Else' }), given([opened])).code).toBe('IDENTITY.INVALID_TIMEZONE');
  });

  it('refuses to open an account twice', () => {
    expect(refusal(open(), given([opened]))).toEqual({
      code: 'IDENTITY.ACCOUNT_EXISTS',
      kind: 'conflict',
      fields: ['accountId'],
    });
  });

  it.each([
    ['exponent', '1e3'],
    ['leading plus', '+5'],
    ['negative', '-1'],
    ['finer than the minor unit', '0.001'],
    ['not a string', 12 as unknown as string],
    ['empty', ''],
  ])('refuses a credit line that is %s', (_what, creditLine) => {
    expect(refusal(open({ creditLine }), given([])).code).toBe('IDENTITY.INVALID_CREDIT_LINE');
  });

  it('allows no minor digits for JPY', () => {
    expect(refusal(open({ currency: 'JPY', creditLine: '10.5' }), given([])).code).toBe('IDENTITY.INVALID_CREDIT_LINE');
    expect(decide(open({ currency: 'JPY', creditLine: '10' }), given([]))).toHaveLength(1);
  });
});

describe('AmendAccount', () => {
  const amend = (data: Record<string, unknown>) =>
    ({
      type: 'AmendAccount',
      data: { accountId: 'acme-01', ...data },
      metadata: { now: new Date('2026-03-11T00:00:00Z') },
    }) as AccountCommand;

  it('records only the fields that changed', () => {
    expect(
      decide(
        amend({ legalName: 'Acme Compute Co., Ltd.', creditLine: '500', orderLimits: { maxOpenNotional: '100' } }),
        given([opened]),
      ),
    ).toEqual([
      {
        type: 'AccountAmended',
        data: {
          accountId: 'acme-01',
          changes: { creditLine: '500.00', orderLimits: { maxOpenNotional: '100.00' } },
          amendedAt: '2026-03-11T00:00:00.000Z',
        },
      },
    ]);
  });

  it('appends nothing when every field already has the value asked for', () => {
    expect(decide(amend({ kind: 'provider', timezone: 'Etc/UTC', creditLine: '0' }), given([opened]))).toEqual([]);
  });

  it('removes a limit with null', () => {
    const limited = given([
      opened,
      {
        type: 'AccountAmended',
        data: {
          accountId: 'acme-01',
          changes: { orderLimits: { maxOpenQuantityLots: '5' } },
          amendedAt: now.toISOString(),
        },
      },
    ]);
    expect(limited?.orderLimits).toEqual({ maxOpenQuantityLots: '5', maxOpenNotional: null });
    const [event] = decide(amend({ orderLimits: { maxOpenQuantityLots: null } }), limited);
    expect(event?.data).toMatchObject({ changes: { orderLimits: { maxOpenQuantityLots: null } } });
  });

  it('evolves to the amended state', () => {
    const state = given([opened, ...decide(amend({ kind: 'both', feeTier: 'maker-1' }), given([opened]))]);
    expect(state).toMatchObject({
      kind: 'both',
      feeTier: 'maker-1',
      legalName: 'Acme Compute Co., Ltd.',
      updatedAt: '2026-03-11T00:00:00.000Z',
      openedAt: now.toISOString(),
    });
  });

  it.each([
    ['an unknown account, before anything else', {}, [] as AccountEvent[], 'IDENTITY.ACCOUNT_NOT_FOUND', 'not_found'],
    ['no field at all', {}, [opened], 'IDENTITY.EMPTY_AMENDMENT', 'invalid'],
    ['a null legal name', { legalName: null, timezone: 'x' }, [opened], 'IDENTITY.INVALID_LEGAL_NAME', 'invalid'],
    ['a bad kind before a bad timezone', { kind: 'x', timezone: 'x' }, [opened], 'IDENTITY.INVALID_KIND', 'invalid'],
    [
      'a bad timezone before a bad credit line',
      { timezone: 'x', creditLine: 'x' },
      [opened],
      'IDENTITY.INVALID_TIMEZONE',
      'invalid',
    ],
    [
      'a bad credit line before a bad limit',
      { creditLine: '1.234', orderLimits: { maxOpenQuantityLots: '0' } },
      [opened],
      'IDENTITY.INVALID_CREDIT_LINE',
      'invalid',
    ],
    [
      'a zero lot limit before a bad fee tier',
      { orderLimits: { maxOpenQuantityLots: '0' }, feeTier: '' },
      [opened],
      'IDENTITY.INVALID_ORDER_LIMIT',
      'invalid',
    ],
    ['a bad fee tier', { feeTier: '' }, [opened], 'IDENTITY.INVALID_FEE_TIER', 'invalid'],
  ])('refuses %s', (_what, data, history, code, kind) => {
    expect(refusal(amend(data), given(history))).toMatchObject({ code, kind });
  });
});
