// Proves identity end to end over real HTTP and a real SQLite file: first-start admin key, accounts, keys, tenancy, 401/403/404 refusals, revocation and expiry, and that refused input changes nothing.
import 'reflect-metadata';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { type DynamicModule } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { type EventStore, openEventStore } from '@cx/event-store';
import { configureHttpApp } from '@cx/platform';
import { type Clock, SimulatedClock } from '@cx/shared-kernel';
import { tempDir, waitFor, testHost, httpCall, type HttpReply, type HttpCallArgs } from '@cx/testing';
import { IdentityModule } from '../identity.module';
import { IdentityService } from './identity.service';

const repoRoot = join(__dirname, '..', '..', '..', '..');

interface Running {
  app: NestFastifyApplication;
  store: EventStore;
  url: string;
  adminKey: string | null;
}

// The host's part, as apps/exchange does it: the ports, globally, and the guard.
const hostModule = (store: EventStore, clock: Clock): DynamicModule => testHost(store, clock, [IdentityModule]);

const start = async (file: string, clock: Clock): Promise<Running> => {
  const store = await openEventStore(`sqlite:${file}`);
  const app = await NestFactory.create<NestFastifyApplication>(hostModule(store, clock), new FastifyAdapter(), {
    logger: false,
  });
  await configureHttpApp(app);
  const identity = app.get(IdentityService);
  await identity.ready();
  const adminKey = await identity.ensureAdminKey();
  await app.listen(0, '127.0.0.1');
  return { app, store, url: await app.getUrl(), adminKey };
};

const stop = async (r: Running): Promise<void> => {
  await r.app.close();
  await r.store.close();
};

type Reply = HttpReply;

const call = (r: Running, ...args: HttpCallArgs): Promise<Reply> => httpCall(r.url, ...args);

describe('identity over HTTP', () => {
  const dir = tempDir('cx-identity-');
  const file = join(dir.path, 'cx.sqlite');
  const clock = new SimulatedClock(new Date('2026-03-10T08:00:00Z'));
  let r: Running;
  let admin: string;
  let trader: { key: string; keyId: string };

  beforeAll(async () => {
    r = await start(file, clock);
  });

  afterAll(async () => {
    if (r) await stop(r);
    dir.remove();
  });

  it('issues an admin key on the first start only', async () => {
    expect(r.adminKey).toMatch(/^cx_[0-9a-f-]{36}_[A-Za-z0-9_-]{43}$/);
    admin = r.adminKey as string;
    await stop(r);
    r = await start(file, clock);
    expect(r.adminKey).toBeNull();
    // The projection was rebuilt from the file, and the first key still works.
    const me = await call(r, 'GET', '/v1/me', admin);
    expect(me).toMatchObject({ status: 200, body: { role: 'admin', accounts: [], expiresAt: null } });
  });

  it('opens accounts and amends only what is sent', async () => {
    const acme = await call(r, 'POST', '/v1/accounts', admin, {
      accountId: 'acme-01',
      legalName: 'Acme Compute Co., Ltd.',
      kind: 'provider',
      timezone: 'Asia/Shanghai',
      creditLine: '100000',
    });
    expect(acme.status).toBe(201);
    expect(acme.body).toEqual({
      accountId: 'acme-01',
      legalName: 'Acme Compute Co., Ltd.',
      kind: 'provider',
      currency: 'CNY',
      timezone: 'Asia/Shanghai',
      creditLine: '100000.00',
      orderLimits: { maxOpenQuantityLots: null, maxOpenNotional: null },
      feeTier: 'standard',
      openedAt: '2026-03-10T08:00:00.000Z',
      updatedAt: '2026-03-10T08:00:00.000Z',
    });
    expect(
      (
        await call(r, 'POST', '/v1/accounts', admin, {
          accountId: 'beta-01',
          legalName: 'Beta AI',
          kind: 'buyer',
          currency: 'USD',
        })
      ).status,
    ).toBe(201);

    clock.advance(60_000);
    const amended = await call(r, 'PATCH', '/v1/accounts/acme-01', admin, {
      creditLine: '250000.5',
      orderLimits: { maxOpenQuantityLots: '500' },
    });
    expect(amended).toMatchObject({
      status: 200,
      body: {
        creditLine: '250000.50',
        orderLimits: { maxOpenQuantityLots: '500', maxOpenNotional: null },
        legalName: 'Acme Compute Co., Ltd.',
        updatedAt: '2026-03-10T08:01:00.000Z',
      },
    });
    // Read your writes: the projection has the amendment before the PATCH answered.
    expect((await call(r, 'GET', '/v1/accounts/acme-01', admin)).body).toEqual(amended.body);
  });

  it('issues a trader key once and never shows it again', async () => {
    const issued = await call(r, 'POST', '/v1/keys', admin, {
      role: 'trader',
      accounts: ['acme-01'],
      label: 'order router',
    });
    expect(issued.status).toBe(201);
    expect(issued.headers.get('cache-control')).toBe('no-store');
    expect(issued.body).toMatchObject({
      role: 'trader',
      accounts: ['acme-01'],
      label: 'order router',
      expiresAt: null,
      status: 'active',
    });
    trader = { key: issued.body.key, keyId: issued.body.keyId };
    expect(trader.key.startsWith(`cx_${trader.keyId}_`)).toBe(true);

    const listed = await call(r, 'GET', '/v1/keys', admin);
    expect(listed.status).toBe(200);
    const row = listed.body.items.find((k: { keyId: string }) => k.keyId === trader.keyId);
    expect(row).toMatchObject({ role: 'trader', status: 'active' });
    expect(JSON.stringify(listed.body)).not.toContain(trader.key.slice(-43));
    expect(row).not.toHaveProperty('key');
    expect(row).not.toHaveProperty('secretHash');
  });

  it('tells a key who it is', async () => {
    expect(await call(r, 'GET', '/v1/me', trader.key)).toMatchObject({
      status: 200,
      body: { keyId: trader.keyId, role: 'trader', accounts: ['acme-01'], expiresAt: null },
    });
  });

  it('shows a trader its own account and hides everyone else’s as if it did not exist', async () => {
    expect(await call(r, 'GET', '/v1/accounts/acme-01', trader.key)).toMatchObject({
      status: 200,
      body: { accountId: 'acme-01' },
    });
    const other = await call(r, 'GET', '/v1/accounts/beta-01', trader.key);
    const missing = await call(r, 'GET', '/v1/accounts/nope-99', trader.key);
    expect(other.status).toBe(404);
    expect(other.body.code).toBe('IDENTITY.ACCOUNT_NOT_FOUND');
    expect(missing.body.code).toBe(other.body.code);
    const list = await call(r, 'GET', '/v1/accounts', trader.key);
    expect(list.body).toEqual({ items: [expect.objectContaining({ accountId: 'acme-01' })], nextCursor: null });
  });

  it('pages lists with a cursor', async () => {
    const first = await call(r, 'GET', '/v1/accounts?limit=1', admin);
    expect(first.body.items.map((a: { accountId: string }) => a.accountId)).toEqual(['acme-01']);
    expect(first.body.nextCursor).toEqual(expect.any(String));
    const second = await call(r, 'GET', `/v1/accounts?limit=1&cursor=${first.body.nextCursor}`, admin);
    expect(second.body).toEqual({ items: [expect.objectContaining({ accountId: 'beta-01' })], nextCursor: null });
  });

  it.each([
    ['POST', '/v1/accounts', { accountId: 'x-1', legalName: 'X', kind: 'buyer' }],
    ['PATCH', '/v1/accounts/acme-01', { creditLine: '1' }],
    ['GET', '/v1/keys', undefined],
    ['POST', '/v1/keys', { role: 'trader', accounts: ['acme-01'] }],
    ['POST', '/v1/keys/00000000-0000-7000-8000-000000000000/revoke', {}],
  ])('refuses a trader %s %s with 403', async (method, path, body) => {
    const res = await call(r, method, path, trader.key, body);
    expect(res).toMatchObject({ status: 403, body: { code: 'AUTH.FORBIDDEN' } });
  });

  it.each([
    ['no key', null],
    ['a malformed key', 'hello'],
    ['an unknown key id', `cx_00000000-0000-7000-8000-000000000000_${'a'.repeat(43)}`],
  ])('refuses %s with 401', async (_what, key) => {
    expect(await call(r, 'GET', '/v1/me', key)).toMatchObject({ status: 401, body: { code: 'AUTH.UNAUTHENTICATED' } });
  });

  it('refuses a real key id with a wrong secret exactly like an unknown key', async () => {
    const forged = `cx_${trader.keyId}_${'A'.repeat(43)}`;
    expect(await call(r, 'GET', '/v1/me', forged)).toMatchObject({
      status: 401,
      body: { code: 'AUTH.UNAUTHENTICATED' },
    });
  });

  it('refuses bad input with a code and the field, and records nothing', async () => {
    const head = await r.store.headPosition();
    const cases: Array<[string, string, unknown, number, string, string]> = [
      ['POST', '/v1/accounts', { kind: 'buyer' }, 400, 'VALIDATION.INVALID', 'legalName'],
      ['POST', '/v1/accounts', { legalName: 'X', kind: 'seller' }, 400, 'VALIDATION.INVALID', 'kind'],
      [
        'POST',
        '/v1/accounts',
        { legalName: 'X', kind: 'buyer', currency: 'XYZ' },
        400,
        'VALIDATION.INVALID',
        'currency',
      ],
      [
        'POST',
        '/v1/accounts',
        { legalName: 'X', kind: 'buyer', timezone: 'Mars/Olympus' },
        400,
        'IDENTITY.INVALID_TIMEZONE',
        'timezone',
      ],
      [
        'POST',
        '/v1/accounts',
        { legalName: 'X', kind: 'buyer', creditLine: '1e3' },
        400,
        'IDENTITY.INVALID_CREDIT_LINE',
        'creditLine',
      ],
      [
        'POST',
        '/v1/accounts',
        { legalName: 'X', kind: 'buyer', creditLine: 12 },
        400,
        'VALIDATION.INVALID',
        'creditLine',
      ],
      [
        'POST',
        '/v1/accounts',
        { legalName: 'X', kind: 'buyer', creditLine: '0.001' },
        400,
        'IDENTITY.INVALID_CREDIT_LINE',
        'creditLine',
      ],
      [
        'POST',
        '/v1/accounts',
        { legalName: 'X', kind: 'buyer', orderLimits: { maxOpenQuantityLots: '1.5' } },
        400,
        'IDENTITY.INVALID_ORDER_LIMIT',
        'orderLimits.maxOpenQuantityLots',
      ],
      ['POST', '/v1/accounts', { legalName: 'X', kind: 'buyer', owner: 'me' }, 400, 'VALIDATION.INVALID', 'owner'],
      [
        'POST',
        '/v1/accounts',
        { accountId: 'bad id', legalName: 'X', kind: 'buyer' },
        400,
        'IDENTITY.INVALID_ACCOUNT_ID',
        'accountId',
      ],
      [
        'POST',
        '/v1/accounts',
        { accountId: 'acme-01', legalName: 'X', kind: 'buyer' },
        409,
        'IDENTITY.ACCOUNT_EXISTS',
        'accountId',
      ],
      ['PATCH', '/v1/accounts/acme-01', {}, 400, 'IDENTITY.EMPTY_AMENDMENT', 'body'],
      ['PATCH', '/v1/accounts/acme-01', { currency: 'USD' }, 400, 'VALIDATION.INVALID', 'currency'],
      ['PATCH', '/v1/accounts/acme-01', { timezone: 'Nowhere' }, 400, 'IDENTITY.INVALID_TIMEZONE', 'timezone'],
      ['POST', '/v1/keys', { role: 'superuser' }, 400, 'VALIDATION.INVALID', 'role'],
      ['POST', '/v1/keys', { role: 'trader' }, 400, 'IDENTITY.ACCOUNTS_REQUIRED', 'accounts'],
      ['POST', '/v1/keys', { role: 'trader', accounts: [] }, 400, 'IDENTITY.ACCOUNTS_REQUIRED', 'accounts'],
      ['POST', '/v1/keys', { role: 'trader', accounts: 'acme-01' }, 400, 'VALIDATION.INVALID', 'accounts'],
      [
        'POST',
        '/v1/keys',
        { role: 'auditor', accounts: ['acme-01'] },
        400,
        'IDENTITY.ACCOUNTS_NOT_ALLOWED',
        'accounts',
      ],
      ['POST', '/v1/keys', { role: 'trader', accounts: ['ghost-01'] }, 422, 'IDENTITY.UNKNOWN_ACCOUNT', 'accounts'],
      [
        'POST',
        '/v1/keys',
        { role: 'admin', expiresAt: '2020-01-01T00:00:00Z' },
        400,
        'IDENTITY.EXPIRY_NOT_IN_FUTURE',
        'expiresAt',
      ],
      ['POST', '/v1/keys', { role: 'admin', expiresAt: 'tomorrow' }, 400, 'IDENTITY.INVALID_EXPIRY', 'expiresAt'],
      ['GET', '/v1/accounts?limit=0', undefined, 400, 'PAGINATION.INVALID_LIMIT', 'limit'],
      ['GET', '/v1/accounts?sort=name', undefined, 400, 'VALIDATION.INVALID', 'sort'],
    ];
    for (const [method, path, body, status, code, field] of cases) {
      const res = await call(r, method, path, admin, body);
      const what = `${method} ${path} ${JSON.stringify(body)}`;
      expect({ what, status: res.status, code: res.body.code }).toEqual({ what, status, code });
      expect({ what, fields: res.body.details.map((d: { field: string }) => d.field) }).toEqual({
        what,
        fields: expect.arrayContaining([field]),
      });
    }
    expect(await call(r, 'PATCH', '/v1/accounts/nope-99', admin, { legalName: 'Y' })).toMatchObject({
      status: 404,
      body: { code: 'IDENTITY.ACCOUNT_NOT_FOUND' },
    });
    expect(await call(r, 'POST', '/v1/keys/00000000-0000-7000-8000-000000000000/revoke', admin, {})).toMatchObject({
      status: 404,
      body: { code: 'IDENTITY.KEY_NOT_FOUND' },
    });
    expect(await r.store.headPosition()).toEqual(head);
  });

  it('refuses a revoked key as soon as the revocation answers', async () => {
    expect((await call(r, 'GET', '/v1/me', trader.key)).status).toBe(200);
    const revoked = await call(r, 'POST', `/v1/keys/${trader.keyId}/revoke`, admin, {
      reason: 'router decommissioned',
    });
    expect(revoked).toMatchObject({
      status: 200,
      body: { keyId: trader.keyId, status: 'revoked', revokeReason: 'router decommissioned' },
    });
    expect(await call(r, 'GET', '/v1/me', trader.key)).toMatchObject({
      status: 401,
      body: { code: 'AUTH.KEY_REVOKED' },
    });
    // The body is optional: a revocation without a reason is still a revocation.
    expect(await call(r, 'POST', `/v1/keys/${trader.keyId}/revoke`, admin)).toMatchObject({
      status: 409,
      body: { code: 'IDENTITY.KEY_ALREADY_REVOKED' },
    });
  });

  it('refuses a key revoked by another process sharing the store', async () => {
    const issued = await call(r, 'POST', '/v1/keys', admin, { role: 'finance', accounts: ['beta-01'] });
    expect((await call(r, 'GET', '/v1/me', issued.body.key)).status).toBe(200);
    await promisify(execFile)(
      process.execPath,
      [
        join(repoRoot, 'bin', 'cx.js'),
        'keys',
        'revoke',
        issued.body.keyId,
        '--reason',
        'offboarded',
        '--store',
        `sqlite:${file}`,
      ],
      {
        cwd: repoRoot,
        env: { ...process.env, CX_CLI_FROM_SOURCE: '1' },
      },
    );
    await waitFor(async () => (await call(r, 'GET', '/v1/me', issued.body.key)).status === 401, {
      what: 'the revocation to reach this process',
    });
    expect(await call(r, 'GET', '/v1/me', issued.body.key)).toMatchObject({
      status: 401,
      body: { code: 'AUTH.KEY_REVOKED' },
    });
  });

  it('refuses an expired key from its expiry instant on', async () => {
    const expiresAt = new Date(clock.now().getTime() + 3_600_000).toISOString();
    const issued = await call(r, 'POST', '/v1/keys', admin, { role: 'auditor', expiresAt });
    expect(issued).toMatchObject({ status: 201, body: { expiresAt } });
    expect(await call(r, 'GET', '/v1/me', issued.body.key)).toMatchObject({
      status: 200,
      body: { role: 'auditor', expiresAt },
    });
    clock.advance(3_600_000 - 1);
    expect((await call(r, 'GET', '/v1/me', issued.body.key)).status).toBe(200);
    clock.advance(1);
    expect(await call(r, 'GET', '/v1/me', issued.body.key)).toMatchObject({
      status: 401,
      body: { code: 'AUTH.KEY_EXPIRED' },
    });
  });

  it('lets an auditor read every account but change none', async () => {
    const auditor = (await call(r, 'POST', '/v1/keys', admin, { role: 'auditor' })).body.key as string;
    expect((await call(r, 'GET', '/v1/accounts/beta-01', auditor)).status).toBe(200);
    expect((await call(r, 'GET', '/v1/keys', auditor)).status).toBe(200);
    expect(await call(r, 'PATCH', '/v1/accounts/beta-01', auditor, { feeTier: 'vip' })).toMatchObject({
      status: 403,
      body: { code: 'AUTH.FORBIDDEN' },
    });
  });

  it('documents the routes in OpenAPI', async () => {
    const doc = (await call(r, 'GET', '/openapi.json', null)).body;
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining(['/v1/me', '/v1/accounts', '/v1/accounts/{id}', '/v1/keys', '/v1/keys/{id}/revoke']),
    );
    expect(doc.components.schemas.OpenAccountDto.required).toEqual(expect.arrayContaining(['legalName', 'kind']));
    expect(doc.components.schemas.IssueKeyDto.properties.role.enum).toEqual([
      'admin',
      'regulator',
      'trader',
      'integrator',
      'finance',
      'auditor',
    ]);
  });
});

describe('first start of two apps on one store at once', () => {
  const dir = tempDir('cx-identity-race-');

  afterAll(() => dir.remove());

  it('issues exactly one admin key', async () => {
    const file = join(dir.path, 'cx.sqlite');
    const clock = new SimulatedClock(new Date('2026-03-10T08:00:00Z'));
    const both = await Promise.all([start(file, clock), start(file, clock)]);
    try {
      const keys = both.map((b) => b.adminKey).filter((k) => k !== null);
      expect(keys).toHaveLength(1);
      // Both processes accept it once their projections have seen it.
      for (const b of both)
        await waitFor(async () => (await call(b, 'GET', '/v1/me', keys[0] as string)).status === 200, {
          what: 'the admin key',
        });
    } finally {
      for (const b of both) await stop(b);
    }
  });
});
