// Proves that the identity read model is a pure function of the event log: replaying it, redelivering parts of it, or folding each stream alone all give the same state.
import fc from 'fast-check';
import { isDomainError } from '@cx/shared-kernel';
import {
  type Account,
  type AccountCommand,
  decide as decideAccount,
  evolve as evolveAccount,
  noAccount,
} from '../domain/account/account.decider';
import { type AccountEvent, accountStream } from '../domain/account/account.events';
import {
  type ApiKey,
  type ApiKeyCommand,
  decide as decideKey,
  evolve as evolveKey,
  noApiKey,
} from '../domain/api-key/api-key.decider';
import { type ApiKeyEvent, apiKeyStream } from '../domain/api-key/api-key.events';
import { IdentityReadModel } from './identity.read-model';

interface LogEntry {
  streamId: string;
  type: string;
  data: unknown;
  position: { commit: bigint; prepare: bigint };
}

const accountIds = ['a1', 'a2', 'a3'];
const keyIds = [
  '00000000-0000-7000-8000-000000000001',
  '00000000-0000-7000-8000-000000000002',
  '00000000-0000-7000-8000-000000000003',
];

const commandArb = fc.oneof(
  fc.record({
    kind: fc.constant('open' as const),
    accountId: fc.constantFrom(...accountIds),
    accountKind: fc.constantFrom('provider', 'buyer', 'both', 'seller'),
    creditLine: fc.constantFrom('0', '10.5', '1e3', '100'),
    timezone: fc.constantFrom('UTC', 'Asia/Shanghai', 'Nowhere/Else'),
  }),
  fc.record({
    kind: fc.constant('amend' as const),
    accountId: fc.constantFrom(...accountIds),
    creditLine: fc.option(fc.constantFrom('0', '5', '99.99'), { nil: undefined }),
    feeTier: fc.option(fc.constantFrom('standard', 'maker-1'), { nil: undefined }),
    maxLots: fc.option(fc.constantFrom<string | null>(null, '10', '20'), { nil: undefined }),
  }),
  fc.record({
    kind: fc.constant('issue' as const),
    keyId: fc.constantFrom(...keyIds),
    role: fc.constantFrom('admin', 'trader', 'auditor', 'finance'),
    accounts: fc.subarray(accountIds),
    expiresAt: fc.constantFrom<string | null>(null, '2030-01-01T00:00:00Z'),
  }),
  fc.record({
    kind: fc.constant('revoke' as const),
    keyId: fc.constantFrom(...keyIds),
    reason: fc.constantFrom('', 'lost'),
  }),
);
type Cmd = typeof commandArb extends fc.Arbitrary<infer T> ? T : never;

/** Runs commands through the deciders as the handlers would, recording every accepted event in one log. */
const run = (commands: Cmd[], live: IdentityReadModel): LogEntry[] => {
  const accounts = new Map<string, Account>();
  const keys = new Map<string, ApiKey>();
  const log: LogEntry[] = [];
  const now = new Date('2026-03-10T08:00:00Z');
  const record = (streamId: string, events: { type: string; data: unknown }[]) => {
    for (const e of events) {
      const p = BigInt(log.length + 1);
      const entry = { streamId, ...e, position: { commit: p, prepare: p } };
      log.push(entry);
      live.apply(entry);
    }
  };
  for (const c of commands) {
    try {
      if (c.kind === 'open' || c.kind === 'amend') {
        const cmd: AccountCommand =
          c.kind === 'open'
            ? {
                type: 'OpenAccount',
                data: {
                  accountId: c.accountId,
                  legalName: `Legal ${c.accountId}`,
                  kind: c.accountKind,
                  creditLine: c.creditLine,
                  timezone: c.timezone,
                },
                metadata: { now },
              }
            : {
                type: 'AmendAccount',
                data: {
                  accountId: c.accountId,
                  creditLine: c.creditLine,
                  feeTier: c.feeTier,
                  ...(c.maxLots !== undefined ? { orderLimits: { maxOpenQuantityLots: c.maxLots } } : {}),
                },
                metadata: { now },
              };
        const state = accounts.get(c.accountId) ?? noAccount;
        const events = decideAccount(cmd, state);
        accounts.set(c.accountId, events.reduce(evolveAccount, state));
        record(accountStream(c.accountId), events);
      } else {
        const cmd: ApiKeyCommand =
          c.kind === 'issue'
            ? {
                type: 'IssueApiKey',
                data: {
                  keyId: c.keyId,
                  role: c.role,
                  accounts: c.accounts,
                  expiresAt: c.expiresAt,
                  label: '',
                  secretHash: 'b'.repeat(64),
                  existingAccounts: [...accounts.entries()].filter(([, a]) => a !== null).map(([id]) => id),
                },
                metadata: { now },
              }
            : { type: 'RevokeApiKey', data: { keyId: c.keyId, reason: c.reason }, metadata: { now } };
        const state = keys.get(c.keyId) ?? noApiKey;
        const events = decideKey(cmd, state);
        keys.set(c.keyId, events.reduce(evolveKey, state));
        record(apiKeyStream(c.keyId), events);
      }
    } catch (e) {
      // Refused commands append nothing, exactly as in the handlers.
      if (!isDomainError(e)) throw e;
    }
  }
  return log;
};

const snapshot = (m: IdentityReadModel) => ({ accounts: m.accounts(), keys: m.keys(), position: m.position });

/** Each stream folded on its own with the aggregate's evolve: what the write side would load. */
const perStream = (log: LogEntry[]) => {
  const byStream = new Map<string, LogEntry[]>();
  for (const e of log) byStream.set(e.streamId, [...(byStream.get(e.streamId) ?? []), e]);
  const accounts = [...byStream.entries()]
    .filter(([s]) => s.startsWith('account-'))
    .map(([, es]) => es.map((e) => ({ type: e.type, data: e.data }) as AccountEvent).reduce(evolveAccount, noAccount))
    .sort((a, b) => (a!.accountId < b!.accountId ? -1 : 1));
  const keys = [...byStream.entries()]
    .filter(([s]) => s.startsWith('apikey-'))
    .map(([, es]) => es.map((e) => ({ type: e.type, data: e.data }) as ApiKeyEvent).reduce(evolveKey, noApiKey))
    .sort((a, b) => (a!.keyId < b!.keyId ? -1 : 1));
  return { accounts, keys };
};

// Events travel through the store as JSON, so the replayed copy goes through JSON too.
const viaJson = (log: LogEntry[]): LogEntry[] =>
  log.map((e) => ({ ...e, data: JSON.parse(JSON.stringify(e.data)) as unknown }));

describe('IdentityReadModel', () => {
  it('rebuilds the same state from a replay of the log as it held live', () => {
    fc.assert(
      fc.property(fc.array(commandArb, { maxLength: 40 }), (commands) => {
        const live = new IdentityReadModel();
        const log = run(commands, live);
        const replayed = new IdentityReadModel();
        for (const e of viaJson(log)) replayed.apply(e);
        expect(snapshot(replayed)).toEqual(snapshot(live));
        expect({ accounts: replayed.accounts(), keys: replayed.keys() }).toEqual(perStream(log));
      }),
      { numRuns: 200 },
    );
  });

  it('ignores redelivered events (delivery is at least once)', () => {
    fc.assert(
      fc.property(
        fc.array(commandArb, { maxLength: 30 }),
        fc.array(fc.nat(), { maxLength: 20 }),
        (commands, redeliveries) => {
          const live = new IdentityReadModel();
          const log = run(commands, live);
          const model = new IdentityReadModel();
          // After each event, redeliver some earlier one, as a reconnecting subscription would.
          log.forEach((e, i) => {
            model.apply(e);
            const r = redeliveries[i % Math.max(1, redeliveries.length)];
            if (r !== undefined) expect(model.apply(log[r % (i + 1)] as LogEntry)).toBe(false);
          });
          expect(snapshot(model)).toEqual(snapshot(live));
        },
      ),
      { numRuns: 200 },
    );
  });

  it('ignores events of streams it does not own', () => {
    const model = new IdentityReadModel();
    expect(model.apply({ type: 'OrderRested', data: {}, position: { commit: 1n, prepare: 1n } })).toBe(false);
    expect(snapshot(model)).toEqual({ accounts: [], keys: [], position: { commit: 1n, prepare: 1n } });
  });
});
