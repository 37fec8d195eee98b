// Proves the API key decider: who may get a key for what, which refusal wins, and that a key is revoked once.
import { DomainError } from '@cx/shared-kernel';
import {
  type ApiKey,
  type ApiKeyCommand,
  decide,
  evolve,
  type IssueApiKey,
  keyStatus,
  noApiKey,
} from './api-key.decider';
import type { ApiKeyEvent } from './api-key.events';

const now = new Date('2026-03-10T08:00:00Z');
const keyId = '0195f3d2-6c1e-7a4b-9d2f-3b8e1c0a4f21';
const secretHash = 'a'.repeat(64);
const given = (events: ApiKeyEvent[]): ApiKey => events.reduce(evolve, noApiKey);

const issue = (data: Partial<IssueApiKey['data']> = {}): IssueApiKey => ({
  type: 'IssueApiKey',
  data: {
    keyId,
    role: 'trader',
    accounts: ['acme-01'],
    expiresAt: null,
    label: 'router',
    secretHash,
    existingAccounts: ['acme-01', 'acme-02'],
    ...data,
  },
  metadata: { now },
});

const issued: ApiKeyEvent = {
  type: 'ApiKeyIssued',
  data: {
    keyId,
    role: 'trader',
    accounts: ['acme-01'],
    expiresAt: null,
    label: 'router',
    secretHash,
    issuedAt: now.toISOString(),
  },
};

const refusal = (cmd: ApiKeyCommand, state: ApiKey) => {
  try {
    decide(cmd, state);
  } catch (e) {
    if (e instanceof DomainError) return { code: e.code, kind: e.kind, fields: e.details.map((d) => d.field) };
    throw e;
  }
  throw new Error('expected a refusal');
};

describe('IssueApiKey', () => {
  it('issues a trader key for existing accounts', () => {
    expect(decide(issue(), given([]))).toEqual([issued]);
  });

  it.each(['admin', 'regulator', 'auditor'])('issues an exchange-wide %s key with no accounts', (role) => {
    expect(decide(issue({ role, accounts: [] }), given([]))[0]?.data).toMatchObject({ role, accounts: [] });
  });

  it('normalises the expiry to UTC', () => {
    expect(decide(issue({ expiresAt: '2026-03-10T17:00:00+08:00' }), given([]))[0]?.data).toMatchObject({
      expiresAt: '2026-03-10T09:00:00.000Z',
    });
  });

  // Ordered by which error wins.
  it.each([
    ['unknown role', { role: 'superuser', accounts: ['bad id!'] }, 'IDENTITY.INVALID_ROLE', 'invalid'],
    ['malformed account id', { accounts: ['bad id!', 'acme-01', 'acme-01'] }, 'IDENTITY.INVALID_ACCOUNT_ID', 'invalid'],
    [
      'an account named twice',
      { accounts: ['acme-01', 'acme-01'], expiresAt: 'soon' },
      'IDENTITY.DUPLICATE_ACCOUNT',
      'invalid',
    ],
    ['a trader key without accounts', { accounts: [], expiresAt: 'soon' }, 'IDENTITY.ACCOUNTS_REQUIRED', 'invalid'],
    [
      'an integrator key without accounts',
      { role: 'integrator', accounts: [] },
      'IDENTITY.ACCOUNTS_REQUIRED',
      'invalid',
    ],
    ['a finance key without accounts', { role: 'finance', accounts: [] }, 'IDENTITY.ACCOUNTS_REQUIRED', 'invalid'],
    [
      'an admin key with accounts',
      { role: 'admin', accounts: ['acme-01'], expiresAt: 'soon' },
      'IDENTITY.ACCOUNTS_NOT_ALLOWED',
      'invalid',
    ],
    [
      'an expiry that is not an instant',
      { expiresAt: '2026-03-11', label: '\u0007' },
      'IDENTITY.INVALID_EXPIRY',
      'invalid',
    ],
    ['an expiry now', { expiresAt: now.toISOString(), label: '\u0007' }, 'IDENTITY.EXPIRY_NOT_IN_FUTURE', 'invalid'],
    ['a label with control characters', { label: 'a\nb', accounts: ['ghost'] }, 'IDENTITY.INVALID_LABEL', 'invalid'],
    ['an account that does not exist', { accounts: ['acme-01', 'ghost'] }, 'IDENTITY.UNKNOWN_ACCOUNT', 'unprocessable'],
  ])('refuses %s', (_what, data, code, kind) => {
    expect(refusal(issue(data as Partial<IssueApiKey['data']>), given([]))).toMatchObject({ code, kind });
  });

  it('refuses to issue over an existing key', () => {
    expect(refusal(issue(), given([issued]))).toMatchObject({ code: 'IDENTITY.KEY_EXISTS', kind: 'conflict' });
  });
});

describe('RevokeApiKey', () => {
  const revoke = (reason = 'laptop lost'): ApiKeyCommand => ({
    type: 'RevokeApiKey',
    data: { keyId, reason },
    metadata: { now },
  });

  it('revokes an active key', () => {
    expect(decide(revoke(), given([issued]))).toEqual([
      { type: 'ApiKeyRevoked', data: { keyId, reason: 'laptop lost', revokedAt: now.toISOString() } },
    ]);
  });

  it.each([
    [
      'a reason with control characters, before the key is looked up',
      'x\u0000',
      [] as ApiKeyEvent[],
      'IDENTITY.INVALID_REASON',
      'invalid',
    ],
    ['an unknown key', 'gone', [], 'IDENTITY.KEY_NOT_FOUND', 'not_found'],
    [
      'a key revoked before',
      'again',
      [issued, { type: 'ApiKeyRevoked', data: { keyId, reason: 'first', revokedAt: now.toISOString() } }],
      'IDENTITY.KEY_ALREADY_REVOKED',
      'conflict',
    ],
  ])('refuses %s', (_what, reason, history, code, kind) => {
    expect(refusal(revoke(reason), given(history as ApiKeyEvent[]))).toMatchObject({ code, kind });
  });
});

describe('keyStatus', () => {
  const expiring = given([
    { ...issued, data: { ...issued.data, expiresAt: '2026-03-10T09:00:00.000Z' } } as ApiKeyEvent,
  ]);

  it('is active until the expiry instant and expired from it on', () => {
    expect(expiring && keyStatus(expiring, new Date('2026-03-10T08:59:59.999Z'))).toBe('active');
    expect(expiring && keyStatus(expiring, new Date('2026-03-10T09:00:00.000Z'))).toBe('expired');
  });

  it('says revoked for a revoked key even after its expiry', () => {
    const revoked = evolve(expiring, {
      type: 'ApiKeyRevoked',
      data: { keyId, reason: '', revokedAt: now.toISOString() },
    });
    expect(revoked && keyStatus(revoked, new Date('2030-01-01T00:00:00Z'))).toBe('revoked');
  });
});
