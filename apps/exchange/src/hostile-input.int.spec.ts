// Proves that hostile input never breaks the exchange: every write route in the OpenAPI document, fed random JSON
// (wrong types, huge numbers, unicode, deep nesting), random path parameters and oversized bodies by fast-check,
// answers a 4xx with a coded body, never a 5xx, and a refused request changes nothing in the store. Each route is
// called with keys of the roles its @Roles lets in, so the bodies get past the guard and reach validation; every
// route gets its own runs.
import 'reflect-metadata';
import { join } from 'node:path';
import fc from 'fast-check';
import { type Role, roles } from '@cx/auth';
import { SimulatedClock } from '@cx/shared-kernel';
import { httpCall, scaled, tempDir } from '@cx/testing';
import { type EmbeddedApp, startEmbedded, startUpSettled, storeHead } from './testing/embedded-app';
import { routesOf } from './testing/routes';

interface Route {
  method: string;
  /** OpenAPI style: `/v1/orders/{id}`. */
  path: string;
  /** The roles the guard lets in (the handler's @Roles, else the controller's; every role when neither). */
  roles: readonly Role[];
}

const name = (route: Pick<Route, 'method' | 'path'>): string => `${route.method} ${route.path}`;

/** `METHOD /openapi/{path}` → the roles of its handler, read from the controllers' Nest and @Roles metadata. */
const rolesByRoute = (r: EmbeddedApp): Map<string, readonly Role[]> =>
  new Map(routesOf(r).map((x) => [name(x), x.roles ?? roles]));

// Deep nesting and unicode beside the usual JSON values.
const hostileJson = fc.oneof(
  fc.json({ depthSize: 'medium' }).map((s) => s),
  fc.anything({ maxDepth: 6 }).map((v) => {
    try {
      return JSON.stringify(v) ?? 'null';
    } catch {
      return 'null';
    }
  }),
  fc.constantFrom(
    '{"price": 1e400}',
    '{"quantityLots": 99999999999999999999999}',
    '{"amount": "1e3"}',
    '{"__proto__": {"admin": true}}',
    `{"a":${'['.repeat(500)}${']'.repeat(500)}}`,
    '"\\ud800"',
    '{"legalName": "\\u0000\\uffff🙂"}',
    '[]',
    'null',
  ),
);
const segment = fc.oneof(fc.string({ maxLength: 40 }), fc.constantFrom('..', '%00', 'x'.repeat(300), '2026-13-45'));

describe('hostile input on every write route', () => {
  const dir = tempDir('cx-hostile-');
  let r: EmbeddedApp;
  let routes: Route[];
  const keys = {} as Record<Role, string>;
  /** Every answer of the fuzzing, by route: how many were refused by the guard (403) out of all. */
  const answers = new Map<string, { all: number; forbidden: number }>();
  const head = (): Promise<string> => storeHead(r);

  beforeAll(async () => {
    // No background writers (heartbeats, checkpoints), so an unchanged store head means nothing was written.
    r = await startEmbedded(join(dir.path, 'cx.sqlite'), new SimulatedClock(new Date('2026-03-10T08:00:00Z')), {
      guidance: { heartbeatIntervalMs: 0 },
      auditCheckpointMs: 86_400_000,
    });
    const admin = r.adminKey as string;
    keys.admin = admin;
    // One account, and a key of every role (the account-scoped ones on it), so a body reaches validation.
    expect(
      (await httpCall(r.url, 'POST', '/v1/accounts', admin, { accountId: 'acct-h', legalName: 'H', kind: 'buyer' }))
        .status,
    ).toBe(201);
    for (const role of roles.filter((x) => x !== 'admin')) {
      const accounts = ['trader', 'integrator', 'finance'].includes(role) ? ['acct-h'] : [];
      const res = await httpCall(r.url, 'POST', '/v1/keys', admin, { role, accounts });
      expect(res.status).toBe(201);
      keys[role] = res.body.key as string;
    }
    const spec = (await (await fetch(`${r.url}/openapi.json`)).json()) as {
      paths: Record<string, Record<string, unknown>>;
    };
    const allowed = rolesByRoute(r);
    routes = Object.entries(spec.paths).flatMap(([path, ops]) =>
      Object.keys(ops)
        .filter((m) => ['post', 'put', 'patch', 'delete'].includes(m))
        .map((m) => {
          const route = { method: m.toUpperCase(), path };
          return { ...route, roles: allowed.get(name(route)) ?? [] };
        }),
    );
    // Start-up writes settle first (the catalog heard on the bus, books opened): then the head moves only on a write.
    await startUpSettled(r, { intervalMs: 200, timeoutMs: 60_000 });
  });
  afterAll(async () => {
    await r.app.close();
    dir.remove();
  });

  it('finds the write routes, each with the roles that may call it', () => {
    expect(routes.length).toBeGreaterThan(15);
    expect(routes.filter((x) => x.roles.length === 0).map(name)).toEqual([]);
    // Most write routes are closed to the admin: fuzzing with the admin's key alone would only ever meet the guard.
    expect(routes.filter((x) => !x.roles.includes('admin')).length).toBeGreaterThan(10);
  });

  it('never answers 5xx, and a refusal changes nothing, on every write route', async () => {
    // Every route gets its own runs, so CI's small scale still reaches each of them.
    const numRuns = scaled(60, 2);
    for (const route of routes) {
      const seen = { all: 0, forbidden: 0 };
      answers.set(name(route), seen);
      await fc.assert(
        fc.asyncProperty(
          fc.constantFrom(...route.roles),
          fc.array(segment, { minLength: 4, maxLength: 4 }),
          hostileJson,
          fc.constantFrom('application/json', 'text/plain', 'application/cloudevents-batch+json'),
          async (role, params, body, contentType) => {
            let n = 0;
            const path = route.path.replace(/\{[^}]+\}/g, () => encodeURIComponent(params[n++] ?? 'x'));
            const before = await head();
            const res = await fetch(`${r.url}${path}`, {
              method: route.method,
              headers: { authorization: `Bearer ${keys[role]}`, 'content-type': contentType },
              body,
            });
            const text = await res.text();
            seen.all++;
            if (res.status === 403) seen.forbidden++;
            const at = `${name(route)} as ${role}`;
            expect({ at, status: res.status < 500 }).toEqual({ at, status: true });
            if (res.status >= 400) {
              expect(JSON.parse(text)).toMatchObject({ code: expect.stringMatching(/^[A-Z]+\.[A-Z_]+$/) });
              expect({ at, head: await head() }).toEqual({ at, head: before });
            }
          },
        ),
        { numRuns, seed: 20261128 },
      );
    }
    // The bodies reached validation: the guard let the keys in, so a refusal was about the request itself.
    const all = [...answers.values()].reduce((a, x) => a + x.all, 0);
    const forbidden = [...answers.values()].reduce((a, x) => a + x.forbidden, 0);
    expect(all).toBe(routes.length * numRuns);
    expect(forbidden / all).toBeLessThan(0.2);
    const onlyForbidden = [...answers.entries()].filter(([, x]) => x.forbidden === x.all).map(([k]) => k);
    expect(onlyForbidden).toEqual([]);
  });

  it('refuses an oversized body with 413 on every write route', async () => {
    const huge = JSON.stringify({ blob: 'x'.repeat(2 * 1024 * 1024) });
    for (const route of routes) {
      const path = route.path.replace(/\{[^}]+\}/g, 'x');
      const res = await fetch(`${r.url}${path}`, {
        method: route.method,
        headers: { authorization: `Bearer ${keys[route.roles[0] as Role]}`, 'content-type': 'application/json' },
        body: huge,
      });
      expect({ route: name(route), status: res.status }).toEqual({ route: name(route), status: 413 });
    }
  });
});
