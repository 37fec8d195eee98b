// Proves that bad webhook and alert-rule requests are coded 4xx answers naming the field at fault, and that a
// refusal changes nothing in the store: invalid URLs, private/loopback/link-local destinations (with the default
// settings: https and public addresses only), unknown event types, accounts the key does not act for, another
// tenant's ids, and roles that have no webhooks.
import 'reflect-metadata';
import { join } from 'node:path';
import { SimulatedClock } from '@cx/shared-kernel';
import { httpCall, type HttpCallArgs, type HttpReply, tempDir } from '@cx/testing';
import { type EmbeddedApp, startEmbedded, startUpSettled, storeHead } from './testing/embedded-app';

describe('webhook and alert-rule input in the embedded exchange (default settings)', () => {
  const dir = tempDir('cx-webhooks-input-');
  let r: EmbeddedApp;
  let trader: string;
  let otherTrader: string;
  let auditor: string;
  let regulator: string;
  const call = (...args: HttpCallArgs): Promise<HttpReply> => httpCall(r.url, ...args);
  const head = (): Promise<string> => storeHead(r);

  beforeAll(async () => {
    r = await startEmbedded(join(dir.path, 'cx.sqlite'), new SimulatedClock(new Date('2026-03-10T08:00:00Z')));
    const admin = r.adminKey as string;
    for (const accountId of ['acct-a', 'acct-b']) {
      expect(
        (await call('POST', '/v1/accounts', admin, { accountId, legalName: accountId, kind: 'buyer' })).status,
      ).toBe(201);
    }
    const key = async (role: string, accounts: string[]) =>
      (await call('POST', '/v1/keys', admin, { role, accounts })).body.key as string;
    trader = await key('trader', ['acct-a']);
    otherTrader = await key('trader', ['acct-b']);
    auditor = await key('auditor', []);
    regulator = await key('regulator', []);
    await startUpSettled(r, { intervalMs: 100, timeoutMs: 30_000 });
  });

  afterAll(async () => {
    await r?.app.close();
    dir.remove();
  });

  const good = { url: 'https://93.184.216.34/cx-hook', eventTypes: ['trade.executed'] };

  it.each([
    // Ordered by which error wins: the role first, then the body's types, then the URL, then the event types.
    ['an auditor key', 'auditor', good, 403, 'AUTH.FORBIDDEN', []],
    ['a regulator key', 'regulator', good, 403, 'AUTH.FORBIDDEN', []],
    ['no url', 'trader', { eventTypes: ['trade.executed'] }, 400, 'VALIDATION.INVALID', ['url']],
    [
      'a url that is not one',
      'trader',
      { ...good, url: 'hooks', eventTypes: ['nope'] },
      400,
      'WEBHOOKS.INVALID_URL',
      ['url'],
    ],
    ['plain http', 'trader', { ...good, url: 'http://93.184.216.34/x' }, 400, 'WEBHOOKS.INVALID_URL', ['url']],
    [
      'credentials in the url',
      'trader',
      { ...good, url: 'https://u:p@93.184.216.34/x' },
      400,
      'WEBHOOKS.INVALID_URL',
      ['url'],
    ],
    [
      'a loopback address',
      'trader',
      { ...good, url: 'https://127.0.0.1:8443/x' },
      400,
      'WEBHOOKS.PRIVATE_ADDRESS',
      ['url'],
    ],
    ['IPv6 loopback', 'trader', { ...good, url: 'https://[::1]/x' }, 400, 'WEBHOOKS.PRIVATE_ADDRESS', ['url']],
    ['localhost', 'trader', { ...good, url: 'https://localhost/x' }, 400, 'WEBHOOKS.PRIVATE_ADDRESS', ['url']],
    ['a private address', 'trader', { ...good, url: 'https://10.1.2.3/x' }, 400, 'WEBHOOKS.PRIVATE_ADDRESS', ['url']],
    [
      'link-local metadata',
      'trader',
      { ...good, url: 'https://169.254.169.254/latest' },
      400,
      'WEBHOOKS.PRIVATE_ADDRESS',
      ['url'],
    ],
    [
      'an IPv4-mapped private address',
      'trader',
      { ...good, url: 'https://[::ffff:192.168.0.1]/x' },
      400,
      'WEBHOOKS.PRIVATE_ADDRESS',
      ['url'],
    ],
    [
      'an unknown event type',
      'trader',
      { ...good, eventTypes: ['trade.executed', 'trade.exploded'] },
      400,
      'WEBHOOKS.UNKNOWN_EVENT_TYPE',
      ['eventTypes[1]'],
    ],
    ['no event types', 'trader', { ...good, eventTypes: [] }, 400, 'WEBHOOKS.NO_EVENT_TYPES', ['eventTypes']],
    [
      'another tenant’s account',
      'trader',
      { ...good, accounts: ['acct-b'] },
      404,
      'WEBHOOKS.ACCOUNT_NOT_FOUND',
      ['accounts'],
    ],
  ])('refuses %s and changes nothing', async (_what, who, body, status, code, fields) => {
    const key = { trader, auditor, regulator }[who] as string;
    const before = await head();
    const res = await call('POST', '/v1/webhooks', key, body);
    expect({ status: res.status, code: res.body.code }).toEqual({ status, code });
    if (fields.length > 0) {
      expect(res.body.details.map((d: { field: string }) => d.field)).toEqual(expect.arrayContaining(fields));
    }
    expect(await head()).toBe(before);
  });

  it('accepts a public https destination, and another tenant’s key cannot see or touch it', async () => {
    const created = await call('POST', '/v1/webhooks', trader, good);
    expect(created.status).toBe(201);
    const id = created.body.webhookId as string;
    const before = await head();
    for (const [method, path] of [
      ['GET', `/v1/webhooks/${id}`],
      ['DELETE', `/v1/webhooks/${id}`],
      ['POST', `/v1/webhooks/${id}/rotate-secret`],
      ['GET', `/v1/webhooks/${id}/deliveries`],
    ] as const) {
      const res = await call(method, path, otherTrader);
      expect({ method, status: res.status, code: res.body.code }).toEqual({
        method,
        status: 404,
        code: 'WEBHOOKS.NOT_FOUND',
      });
    }
    expect((await call('DELETE', `/v1/webhooks/${id}`, auditor)).status).toBe(403);
    expect((await call('GET', '/v1/webhooks', otherTrader)).body.items).toEqual([]);
    expect(await head()).toBe(before);
  });

  it.each([
    [
      'an auditor key',
      'auditor',
      { accountId: 'acct-a', kind: 'spend', period: 'day', threshold: '1', currency: 'CNY' },
      403,
      'AUTH.FORBIDDEN',
      [],
    ],
    [
      'another tenant’s account',
      'trader',
      { accountId: 'acct-b', kind: 'spend', period: 'day', threshold: '1', currency: 'CNY' },
      404,
      'WEBHOOKS.ACCOUNT_NOT_FOUND',
      ['accountId'],
    ],
    [
      'an unknown kind',
      'trader',
      { accountId: 'acct-a', kind: 'horoscope' },
      400,
      'WEBHOOKS.UNKNOWN_RULE_KIND',
      ['kind'],
    ],
    [
      'a bad threshold',
      'trader',
      { accountId: 'acct-a', kind: 'spend', period: 'day', threshold: 'lots', currency: 'CNY' },
      400,
      'WEBHOOKS.INVALID_ALERT_RULE',
      ['threshold'],
    ],
    [
      'an unknown field',
      'trader',
      { accountId: 'acct-a', kind: 'spend', period: 'day', threshold: '1', currency: 'CNY', extra: 1 },
      400,
      'VALIDATION.INVALID',
      [],
    ],
  ])('refuses an alert rule with %s and changes nothing', async (_what, who, body, status, code, fields) => {
    const key = { trader, auditor }[who] as string;
    const before = await head();
    const res = await call('POST', '/v1/alert-rules', key, body);
    expect({ status: res.status, code: res.body.code }).toEqual({ status, code });
    if (fields.length > 0) {
      expect(res.body.details.map((d: { field: string }) => d.field)).toEqual(expect.arrayContaining(fields));
    }
    expect(await head()).toBe(before);
  });

  it('lists alerts for participants only; the regulator reads the market-wide ones elsewhere', async () => {
    expect((await call('GET', '/v1/alerts/mine', regulator)).status).toBe(403);
    expect((await call('GET', '/v1/alerts/mine', trader)).body).toEqual({ items: [], nextCursor: null });
    // The surveillance list at /v1/alerts is still pricing-guidance's.
    expect((await call('GET', '/v1/alerts', regulator)).status).toBe(200);
  });
});
