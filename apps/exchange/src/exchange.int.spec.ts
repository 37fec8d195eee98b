// Proves `npm start`'s process end to end: it boots on a fresh store, prints the first admin key once, serves
// /health, /docs and /openapi.json, maps bad requests to coded 4xx bodies, registers the simulated clock only
// when asked, refuses bad configuration, and shuts down cleanly on SIGTERM keeping what it stored.
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { startExchange, tempDir, waitFor, type ExchangeProcess } from '@cx/testing';

const ROOT = join(__dirname, '..', '..', '..');

describe('embedded exchange process', () => {
  const dir = tempDir();
  const store = `sqlite:${join(dir.path, 'cx.sqlite')}`;
  let cx: ExchangeProcess;

  beforeAll(async () => {
    cx = await startExchange({ CX_STORE: store, CX_BODY_LIMIT_BYTES: '2048', CX_AUDIT_CHECKPOINT_MS: '100' });
  });
  afterAll(async () => {
    await cx?.stop('SIGKILL');
    dir.remove();
  });

  const get = (path: string, key?: string | null) =>
    fetch(`${cx.url}${path}`, { headers: key ? { authorization: `Bearer ${key}` } : {} });

  it('prints the first admin key, which works', async () => {
    expect(cx.adminKey).toMatch(/^cx_/);
    const me = await get('/v1/me', cx.adminKey);
    expect(me.status).toBe(200);
    expect(await me.json()).toMatchObject({ role: 'admin', accounts: [] });
  });

  it('answers /health with the store checked', async () => {
    const res = await get('/health');
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ status: 'ok', checks: { store: { status: 'ok' } } });
  });

  it('serves Swagger UI and the OpenAPI document with the routes that exist', async () => {
    const docs = await get('/docs');
    expect(docs.status).toBe(200);
    expect(await docs.text()).toContain('swagger');
    const spec = (await (await get('/openapi.json')).json()) as { openapi: string; paths: Record<string, unknown> };
    expect(spec.openapi).toMatch(/^3\./);
    expect(Object.keys(spec.paths)).toEqual(expect.arrayContaining(['/health', '/v1/me', '/v1/accounts', '/v1/keys']));
    // No route is registered before it works: the simulated clock is absent with the system clock.
    expect(Object.keys(spec.paths)).not.toContain('/v1/sim/clock');
  });

  it.each([
    ['malformed JSON', '{bad', 'application/json', 400, 'HTTP.MALFORMED_BODY'],
    ['an empty JSON body', '', 'application/json', 400, 'HTTP.MALFORMED_BODY'],
    [
      'a body over the limit',
      JSON.stringify({ legalName: 'x'.repeat(4096), kind: 'buyer' }),
      'application/json',
      413,
      'HTTP.BODY_TOO_LARGE',
    ],
    [
      'a number where a decimal string belongs',
      JSON.stringify({ legalName: 'A', kind: 'buyer', creditLine: 1000 }),
      'application/json',
      400,
      'VALIDATION.INVALID',
    ],
    [
      'an unknown field',
      JSON.stringify({ legalName: 'A', kind: 'buyer', isAdmin: true }),
      'application/json',
      400,
      'VALIDATION.INVALID',
    ],
  ])('refuses %s with a coded error and stores nothing', async (_what, body, contentType, status, code) => {
    // The accounts, not the store head: heartbeats and audit checkpoints append in the background.
    const accounts = async () => (await get('/v1/accounts?limit=500', cx.adminKey)).json();
    const before = await accounts();
    const res = await fetch(`${cx.url}/v1/accounts`, {
      method: 'POST',
      body,
      headers: { 'content-type': contentType, authorization: `Bearer ${cx.adminKey}` },
    });
    expect(res.status).toBe(status);
    expect(await res.json()).toMatchObject({ code, message: expect.any(String), details: expect.any(Array) });
    expect(await accounts()).toEqual(before);
  });

  it('answers an unknown route with HTTP.NOT_FOUND', async () => {
    const res = await get('/v1/no-such-route', cx.adminKey);
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({ code: 'HTTP.NOT_FOUND' });
  });

  it('sends security headers', async () => {
    const res = await get('/health');
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
  });

  // HSTS is not sent: the process speaks plain HTTP, and TLS (with its HSTS) is the terminating proxy's.
  it.each([
    ['an API answer', '/v1/me', 200],
    ['an API refusal', '/v1/accounts/no-such-account', 404],
    ['an unknown API route', '/v1/no-such-route', 404],
  ])('sends every security header on %s, and forbids caching it', async (_what, path, status) => {
    const res = await get(path, cx.adminKey);
    expect(res.status).toBe(status);
    expect({
      nosniff: res.headers.get('x-content-type-options'),
      frame: res.headers.get('x-frame-options'),
      referrer: res.headers.get('referrer-policy'),
      cache: res.headers.get('cache-control'),
      csp: res.headers.get('content-security-policy'),
      hsts: res.headers.get('strict-transport-security'),
    }).toEqual({
      nosniff: 'nosniff',
      frame: 'DENY',
      referrer: 'no-referrer',
      cache: 'no-store',
      csp: "default-src 'none'; frame-ancestors 'none'",
      hsts: null,
    });
  });

  it('keeps no-store and the API policy to /v1: the docs and the console page keep their own', async () => {
    const docs = await get('/docs');
    expect(docs.headers.get('x-content-type-options')).toBe('nosniff');
    expect(docs.headers.get('cache-control')).not.toBe('no-store');
    expect(docs.headers.get('content-security-policy')).not.toBe("default-src 'none'; frame-ancestors 'none'");
    // The console's index.html (web/, or dist/web once built): revalidated, not barred from caches, with its CSP.
    const page = await get('/');
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    expect(page.headers.get('cache-control')).toBe('no-cache');
    expect(page.headers.get('content-security-policy')).toMatch(/^default-src 'self'; script-src 'self'/);
    expect(page.headers.get('x-frame-options')).toBe('DENY');
  });

  it('publishes the audit public key, and its store verifies clean against it (hash chains, signed checkpoints)', async () => {
    const res = await get('/v1/audit/public-key');
    expect(res.status).toBe(200);
    const key = (await res.json()) as { keyId: string; publicKeyPem: string; algorithm: string };
    expect(key).toMatchObject({ algorithm: 'Ed25519', keyId: expect.stringMatching(/^[0-9a-f]{16}$/) });
    const pem = join(dir.path, 'audit-public.pem');
    writeFileSync(pem, key.publicKeyPem);
    // Writes of several modules (identity, catalog, heartbeats), then a checkpoint covering them.
    await fetch(`${cx.url}/v1/accounts`, {
      method: 'POST',
      body: JSON.stringify({ accountId: 'audit-acct', legalName: 'Audit Test', kind: 'buyer' }),
      headers: { 'content-type': 'application/json', authorization: `Bearer ${cx.adminKey}` },
    });
    const verify = async () => {
      try {
        const { stdout } = await promisify(execFile)(
          process.execPath,
          [join(ROOT, 'bin/cx.js'), 'audit', 'verify', '--store', store, '--public-key', pem, '--json'],
          { cwd: ROOT, env: { ...process.env, CX_CLI_FROM_SOURCE: '1' } },
        );
        return JSON.parse(stdout) as { clean: boolean; eventsChecked: number; checkpointsSignedByTrustedKey: number };
      } catch (e) {
        throw new Error(`cx audit verify failed: ${(e as { stdout?: string }).stdout ?? String(e)}`);
      }
    };
    const report = await waitFor(async () => {
      const r = await verify();
      return r.checkpointsSignedByTrustedKey > 0 ? r : undefined;
    });
    expect(report.clean).toBe(true);
  });

  it('stops on SIGTERM with exit code 0, and a restart on the same store prints no new key', async () => {
    expect(await cx.stop('SIGTERM')).toBe(0);
    const again = await startExchange({ CX_STORE: store });
    try {
      expect(again.adminKey).toBeNull();
      expect(again.output()).not.toContain('Admin API key');
      expect((await fetch(`${again.url}/v1/me`, { headers: { authorization: `Bearer ${cx.adminKey}` } })).status).toBe(
        200,
      );
    } finally {
      expect(await again.stop('SIGTERM')).toBe(0);
    }
  });
});

describe('simulated clock', () => {
  const dir = tempDir();
  let cx: ExchangeProcess;

  beforeAll(async () => {
    cx = await startExchange({
      CX_STORE: `sqlite:${join(dir.path, 'cx.sqlite')}`,
      CX_CLOCK: 'simulated',
      CX_SIM_START: '2026-03-10T00:00:00Z',
    });
  });
  afterAll(async () => {
    await cx?.stop('SIGKILL');
    dir.remove();
  });

  const post = (body: unknown, key: string | null | undefined = cx.adminKey) =>
    fetch(`${cx.url}/v1/sim/clock`, {
      method: 'POST',
      body: JSON.stringify(body),
      headers: { 'content-type': 'application/json', ...(key ? { authorization: `Bearer ${key}` } : {}) },
    });

  it('moves only through POST /v1/sim/clock, forwards only, for admins only', async () => {
    expect((await post({ advanceMs: 1000 }, null)).status).toBe(401);
    const moved = await post({ advanceMs: 90_000 });
    expect(moved.status).toBe(200);
    expect(await moved.json()).toEqual({ now: '2026-03-10T00:01:30.000Z' });
    const set = await post({ to: '2026-03-11T08:00:00Z' });
    expect(await set.json()).toEqual({ now: '2026-03-11T08:00:00.000Z' });
    const back = await post({ to: '2026-03-01T00:00:00Z' });
    expect(back.status).toBe(400);
    expect(await back.json()).toMatchObject({ code: 'SIM.CLOCK_BACKWARDS', details: [{ field: 'to' }] });
    const both = await post({ to: '2026-03-12T00:00:00Z', advanceMs: 1 });
    expect(both.status).toBe(400);
    expect(await both.json()).toMatchObject({ code: 'SIM.ONE_OF_TO_OR_ADVANCE' });
  });
});

describe('configuration', () => {
  it.each([
    [{ CX_CLOCK: 'fast' }, 'CX_CLOCK'],
    [{ PORT: 'http' }, 'PORT'],
    [{ CX_STORE: 'postgres://x' }, 'CX_STORE'],
    [{ CX_SIM_START: '2026-01-01T00:00:00Z' }, 'CX_SIM_START'],
    [{ CX_GUIDANCE_MIN_NOTICE_MS: '1000', CX_GUIDANCE_MAX_LAG_MS: '5000' }, 'propagation lag'],
  ])('refuses %j at boot with exit code 2', async (env, name) => {
    await expect(startExchange(env, { timeoutMs: 30_000 })).rejects.toThrow(
      new RegExp(`exited with 2[\\s\\S]*${name}`),
    );
  });
});
