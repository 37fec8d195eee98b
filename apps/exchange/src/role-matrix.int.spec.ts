// Proves that every route of the embedded exchange enforces its role and its tenant. The routes are read from the
// app itself (each controller's Nest route metadata and @Roles/@Public, checked against /openapi.json), so a new
// route is covered without editing this file. For every route: no key answers 401; every role its @Roles leaves
// out answers 403 AUTH.FORBIDDEN and nothing is written; every role it lets in is not refused by role. Beside what
// the decorators say, the role table of DESIGN.md is checked on its own (no write route is open to every role, the
// auditor writes nothing but verifications), and keys of one tenant get 404 (or 403) on another tenant's account
// and objects, writing nothing.
import 'reflect-metadata';
import { join } from 'node:path';
import { type Role, roles } from '@cx/auth';
import { MatchingEngine } from '@cx/matching';
import { PricingGuidanceService } from '@cx/pricing-guidance';
import { SimulatedClock } from '@cx/shared-kernel';
import { httpCall, tempDir, waitFor } from '@cx/testing';
import { type EmbeddedApp, startEmbedded, startUpSettled, storeHead } from './testing/embedded-app';
import { type Route, routesOf } from './testing/routes';

const T0 = new Date('2026-03-10T10:00:00Z');
const INSTR = 'nvidia-h100-sxm-80g.cn-east-1.2026-03-11';

const isWrite = (route: Route): boolean => route.method !== 'GET';
const name = (route: Route): string => `${route.method} ${route.path}`;

/** Values for required query parameters other than the account, so a request gets past validation. */
const QUERY_DEFAULTS: Record<string, string> = {
  meter: 'accelerator_seconds',
  from: '2026-03-10T00:00:00Z',
  to: '2026-03-11T00:00:00Z',
};

/** Writes the auditor may make (DESIGN.md: "run verifications; write nothing" else). */
const AUDITOR_WRITES = new Set(['POST /v1/audit/verifications']);

/** One request; an event stream's body is never read (it does not end). */
const ask = async (
  url: string,
  method: string,
  path: string,
  key: string | null,
  body?: unknown,
): Promise<{ status: number; code: string | undefined; text: string }> => {
  const headers: Record<string, string> = {};
  if (key !== null) headers.authorization = `Bearer ${key}`;
  const sendsBody = body !== undefined || ['POST', 'PUT', 'PATCH'].includes(method);
  if (sendsBody) headers['content-type'] = 'application/json';
  const res = await fetch(`${url}${path}`, {
    method,
    headers,
    body: sendsBody ? JSON.stringify(body ?? {}) : undefined,
  });
  if ((res.headers.get('content-type') ?? '').startsWith('text/event-stream')) {
    await res.body?.cancel();
    return { status: res.status, code: undefined, text: '' };
  }
  const text = await res.text();
  let code: string | undefined;
  try {
    code = (JSON.parse(text) as { code?: string } | null)?.code;
  } catch {
    code = undefined;
  }
  return { status: res.status, code, text };
};

describe('role × endpoint matrix of the embedded exchange', () => {
  const dir = tempDir('cx-roles-');
  let r: EmbeddedApp;
  let routes: Route[];
  const keys = {} as Record<Role, string>;
  /** Keys of tenant A (account acct-a) for the account-scoped roles. */
  const keysA = {} as Record<'trader' | 'integrator' | 'finance', string>;
  let traderB: string;
  let orderB: string;
  const head = (): Promise<string> => storeHead(r);

  beforeAll(async () => {
    // No background writers (heartbeats, checkpoints), so an unchanged store head means nothing was written.
    r = await startEmbedded(join(dir.path, 'cx.sqlite'), new SimulatedClock(T0), {
      guidance: { heartbeatIntervalMs: 0 },
      auditCheckpointMs: 86_400_000,
    });
    const admin = r.adminKey as string;
    for (const [accountId, kind] of [
      ['acct-a', 'buyer'],
      ['acct-b', 'provider'],
    ]) {
      expect(
        (await httpCall(r.url, 'POST', '/v1/accounts', admin, { accountId, legalName: accountId, kind })).status,
      ).toBe(201);
    }
    const key = async (role: Role, accounts: string[]): Promise<string> => {
      const res = await httpCall(r.url, 'POST', '/v1/keys', admin, { role, accounts });
      expect(res.status).toBe(201);
      return res.body.key as string;
    };
    keys.admin = admin;
    keys.regulator = await key('regulator', []);
    keys.auditor = await key('auditor', []);
    for (const role of ['trader', 'integrator', 'finance'] as const) {
      keysA[role] = await key(role, ['acct-a']);
      keys[role] = keysA[role];
    }
    traderB = await key('trader', ['acct-b']);
    // An object of tenant B: a resting ask, once matching has heard guidance is complete. The timer is off, so
    // each try records a heartbeat by hand: one recorded before guidance has heard the catalog names no class.
    // (An order placed while guidance is stale is rejected, and its clientOrderId would answer that rejection.)
    await waitFor(
      async () => {
        await r.app.get(PricingGuidanceService).heartbeat();
        return r.app.get(MatchingEngine).isGuidanceFresh(INSTR.split('.')[0] as string);
      },
      { intervalMs: 100, timeoutMs: 60_000, what: 'matching to hear guidance is complete' },
    );
    const placed = await waitFor(
      async () => {
        const res = await httpCall(r.url, 'POST', '/v1/orders', traderB, {
          account: 'acct-b',
          side: 'sell',
          instrument: INSTR,
          price: '30.00',
          quantityLots: 1,
          timeInForce: 'GTC',
          clientOrderId: 'b-1',
        });
        if (res.status !== 201) throw new Error(`order answered ${res.status} ${JSON.stringify(res.body)}`);
        return res;
      },
      { intervalMs: 100, timeoutMs: 60_000, what: 'tenant B’s order to rest' },
    );
    orderB = placed.body.orderId as string;
    expect(orderB).toEqual(expect.any(String));

    routes = routesOf(r);
    await startUpSettled(r, { intervalMs: 200, timeoutMs: 60_000 });
  });
  afterAll(async () => {
    await r.app.close();
    dir.remove();
  });

  it('reads every route from the app, and they are the routes of the OpenAPI document', async () => {
    const spec = (await (await fetch(`${r.url}/openapi.json`)).json()) as {
      paths: Record<string, Record<string, unknown>>;
    };
    const documented = Object.entries(spec.paths).flatMap(([path, ops]) =>
      Object.keys(ops)
        .filter((m) => ['get', 'post', 'put', 'patch', 'delete'].includes(m))
        .map((m) => `${m.toUpperCase()} ${path}`),
    );
    const found = routes.map(name);
    expect(new Set(found).size).toBe(found.length);
    expect([...documented].sort()).toEqual(
      expect.arrayContaining(found.filter((f) => !f.startsWith('GET /docs')).sort()),
    );
    expect(found.sort()).toEqual(expect.arrayContaining(documented.sort()));
    expect(routes.filter((x) => x.path.startsWith('/v1/')).length).toBeGreaterThan(40);
  });

  it('answers 401 without a key on every route that is not public, and writes nothing', async () => {
    const before = await head();
    const wrong: string[] = [];
    for (const route of routes.filter((x) => !x.isPublic)) {
      const path = route.path.replace(/\{[^}]+\}/g, 'x');
      for (const key of [null, 'cx_not-a-key']) {
        const res = await ask(r.url, route.method, path, key);
        if (res.status !== 401 || res.code !== 'AUTH.UNAUTHENTICATED') {
          wrong.push(`${name(route)} ${key === null ? 'no key' : 'bad key'}: ${res.status} ${res.code}`);
        }
      }
    }
    expect(wrong).toEqual([]);
    expect(await head()).toBe(before);
  });

  it('answers 403 AUTH.FORBIDDEN to every role a route leaves out, and writes nothing', async () => {
    const before = await head();
    const wrong: string[] = [];
    let checked = 0;
    for (const route of routes.filter((x) => !x.isPublic && x.roles !== null)) {
      const path = route.path.replace(/\{[^}]+\}/g, 'x');
      for (const role of roles.filter((x) => !route.roles?.includes(x))) {
        const res = await ask(r.url, route.method, path, keys[role]);
        checked++;
        if (res.status !== 403 || res.code !== 'AUTH.FORBIDDEN')
          wrong.push(`${name(route)} as ${role}: ${res.status} ${res.code}`);
      }
    }
    expect(wrong).toEqual([]);
    expect(checked).toBeGreaterThan(100);
    expect(await head()).toBe(before);
  });

  it('never refuses by role a role the route lets in', async () => {
    const wrong: string[] = [];
    for (const route of routes.filter((x) => !x.isPublic)) {
      // Placeholders nothing matches: the answer may be 400/404/422, never 401 or a role refusal.
      const path = route.path.replace(/\{[^}]+\}/g, 'zz-none');
      for (const role of route.roles ?? roles) {
        const res = await ask(r.url, route.method, path, keys[role]);
        if (res.status === 401 || res.code === 'AUTH.FORBIDDEN' || res.status >= 500) {
          wrong.push(`${name(route)} as ${role}: ${res.status} ${res.code}`);
        }
      }
    }
    expect(wrong).toEqual([]);
  });

  it('keeps to the role table: no write is open to every role, and the auditor writes nothing but verifications', () => {
    const open = routes.filter((x) => isWrite(x) && !x.isPublic && x.roles === null).map(name);
    expect(open).toEqual([]);
    const auditorWrites = routes
      .filter((x) => isWrite(x) && !x.isPublic && (x.roles === null || x.roles.includes('auditor')))
      .map(name)
      .filter((n) => !AUDITOR_WRITES.has(n));
    expect(auditorWrites).toEqual([]);
    // Public routes are operations only.
    expect(
      routes.filter((x) => x.isPublic && x.path.startsWith('/v1/') && x.path !== '/v1/audit/public-key').map(name),
    ).toEqual([]);
  });

  // A list filtered by an account may answer as it would for an account that does not exist (an empty page) rather
  // than 404: either way the caller learns nothing, which is what "as if it did not exist" asks.
  it('answers a tenant’s key reading another tenant’s account exactly as for an account that does not exist', async () => {
    const before = await head();
    const spec = (await (await fetch(`${r.url}/openapi.json`)).json()) as {
      paths: Record<string, Record<string, { parameters?: Array<{ name: string; in: string; required?: boolean }> }>>;
    };
    const wrong: string[] = [];
    let checked = 0;
    for (const route of routes.filter((x) => x.method === 'GET' && !x.isPublic)) {
      const params = spec.paths[route.path]?.get?.parameters ?? [];
      const accountInPath = route.path.includes('{account}') || route.path === '/v1/accounts/{id}';
      const accountInQuery = params.find((p) => p.in === 'query' && ['account', 'subject'].includes(p.name));
      if (!accountInPath && accountInQuery === undefined) continue;
      const pathFor = (account: string): string => {
        const path = route.path
          .replace(/\{(account|id)\}/, account)
          .replace('{period}', '2026-03')
          .replace(/\{[^}]+\}/g, 'x');
        // The account where the query names it, and plausible values for the other required query parameters.
        const query = new URLSearchParams();
        for (const p of params.filter((x) => x.in === 'query')) {
          if (p === accountInQuery) query.set(p.name, account);
          else if (p.required === true) query.set(p.name, QUERY_DEFAULTS[p.name] ?? 'x');
        }
        return query.size === 0 ? path : `${path}?${query.toString()}`;
      };
      for (const role of ['trader', 'integrator', 'finance'] as const) {
        if (route.roles !== null && !route.roles.includes(role)) continue;
        const foreign = await ask(r.url, 'GET', pathFor('acct-b'), keysA[role]);
        const missing = await ask(r.url, 'GET', pathFor('acct-zz-none'), keysA[role]);
        checked++;
        const refused = foreign.status === 404 || foreign.status === 403;
        const emptyAsIfMissing =
          foreign.status === 200 &&
          missing.status === 200 &&
          foreign.text.replaceAll('acct-b', 'acct-zz-none') === missing.text;
        if (!(refused || emptyAsIfMissing) || foreign.text.includes(orderB)) {
          wrong.push(`GET ${pathFor('acct-b')} as ${role} of acct-a: ${foreign.status} ${foreign.text.slice(0, 200)}`);
        }
      }
    }
    expect(wrong).toEqual([]);
    expect(checked).toBeGreaterThan(5);
    // The control: B's own key reads its account where A's key is refused.
    expect((await ask(r.url, 'GET', '/v1/ledger/accounts/acct-b', traderB)).status).toBe(200);
    expect(await head()).toBe(before);
  });

  it('never shows a tenant’s key another tenant’s account or order in any list or market view', async () => {
    const wrong: string[] = [];
    let checked = 0;
    for (const route of routes.filter((x) => x.method === 'GET' && !x.isPublic)) {
      // Lists and market views: no path parameter but the instrument or resource class everyone may read.
      const rest = route.path.replace('{instrument}', INSTR).replace('{resourceClass}', 'nvidia-h100-sxm-80g');
      if (rest.includes('{')) continue;
      for (const role of ['trader', 'integrator', 'finance'] as const) {
        if (route.roles !== null && !route.roles.includes(role)) continue;
        const res = await ask(r.url, 'GET', rest, keysA[role]);
        checked++;
        if (res.text.includes('acct-b') || res.text.includes(orderB)) {
          wrong.push(`GET ${rest} as ${role} of acct-a: ${res.status} ${res.text.slice(0, 200)}`);
        }
      }
    }
    expect(wrong).toEqual([]);
    expect(checked).toBeGreaterThan(20);
    // The control: B's own key does see them, so the absence above is the filter at work.
    expect((await ask(r.url, 'GET', '/v1/orders', traderB)).text).toContain(orderB);
  });

  it('answers 404 (or 403) to a tenant’s key acting on another tenant’s account and objects, and writes nothing', async () => {
    const before = await head();
    const trader = keysA.trader;
    const cases: Array<[string, string, string, unknown]> = [
      [
        'POST',
        '/v1/orders',
        trader,
        {
          account: 'acct-b',
          side: 'buy',
          instrument: INSTR,
          price: '30.00',
          quantityLots: 1,
          timeInForce: 'GTC',
          clientOrderId: 'a-as-b',
        },
      ],
      ['GET', `/v1/orders/${orderB}`, trader, undefined],
      ['PATCH', `/v1/orders/${orderB}`, trader, { quantityLots: 1 }],
      ['DELETE', `/v1/orders/${orderB}`, trader, undefined],
      ['DELETE', '/v1/orders?account=acct-b', trader, undefined],
      [
        'POST',
        '/v1/statements/acct-b/2026-03/notes',
        keysA.finance,
        { noteId: 'n-a-as-b', kind: 'credit', amount: '1.00', currency: 'CNY', reason: 'not mine' },
      ],
    ];
    const wrong: string[] = [];
    for (const [method, path, key, body] of cases) {
      const res = await ask(r.url, method, path, key, body);
      if (res.status !== 404 && res.status !== 403) wrong.push(`${method} ${path}: ${res.status} ${res.code}`);
    }
    expect(wrong).toEqual([]);
    expect(await head()).toBe(before);
    // B's order is still there, untouched.
    const mine = await httpCall(r.url, 'GET', `/v1/orders/${orderB}`, traderB);
    expect(mine.status).toBe(200);
    expect(mine.body).toMatchObject({ status: 'open', remainingLots: 1 });
  });
});
