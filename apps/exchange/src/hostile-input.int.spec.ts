// Proves that hostile input never breaks the exchange: every write route in the OpenAPI document, fed random JSON
// (wrong types, huge numbers, unicode, deep nesting), random path parameters and oversized bodies by fast-check,
// answers a 4xx with a coded body, never a 5xx, and a refused request changes nothing in the store.
import { join } from 'node:path';
import fc from 'fast-check';
import { SimulatedClock } from '@cx/shared-kernel';
import { scaled, tempDir, waitFor } from '@cx/testing';
import { type EmbeddedApp, startEmbedded } from './testing/embedded-app';

interface Route {
  method: string;
  path: string;
}

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

  beforeAll(async () => {
    // No background writers (heartbeats, checkpoints), so an unchanged store head means nothing was written.
    r = await startEmbedded(join(dir.path, 'cx.sqlite'), new SimulatedClock(new Date('2026-03-10T08:00:00Z')), {
      guidance: { heartbeatIntervalMs: 0 },
      auditCheckpointMs: 86_400_000,
    });
    const spec = (await (await fetch(`${r.url}/openapi.json`)).json()) as {
      paths: Record<string, Record<string, unknown>>;
    };
    // Start-up writes settle first (the catalog heard on the bus, books opened): then the head moves only on a write.
    let last = '';
    let still = 0;
    await waitFor(
      async () => {
        const now = JSON.stringify(await r.store.headPosition(), (_k, v) => (typeof v === 'bigint' ? String(v) : v));
        still = now === last ? still + 1 : 0;
        last = now;
        return still >= 5;
      },
      { intervalMs: 200, timeoutMs: 60_000, what: 'start-up writes to settle' },
    );
    routes = Object.entries(spec.paths).flatMap(([path, ops]) =>
      Object.keys(ops)
        .filter((m) => ['post', 'put', 'patch', 'delete'].includes(m))
        .map((m) => ({ method: m.toUpperCase(), path })),
    );
  });
  afterAll(async () => {
    await r.app.close();
    dir.remove();
  });

  it('finds the write routes', () => {
    expect(routes.length).toBeGreaterThan(15);
  });

  it('never answers 5xx, and a refusal changes nothing', async () => {
    const head = async () =>
      JSON.stringify(await r.store.headPosition(), (_k, v) => (typeof v === 'bigint' ? String(v) : v));
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: routes.length - 1 }),
        fc.array(segment, { minLength: 4, maxLength: 4 }),
        hostileJson,
        fc.constantFrom('application/json', 'text/plain', 'application/cloudevents-batch+json'),
        async (i, params, body, contentType) => {
          const route = routes[i] as Route;
          let n = 0;
          const path = route.path.replace(/\{[^}]+\}/g, () => encodeURIComponent(params[n++] ?? 'x'));
          const before = await head();
          const res = await fetch(`${r.url}${path}`, {
            method: route.method,
            headers: { authorization: `Bearer ${r.adminKey as string}`, 'content-type': contentType },
            body,
          });
          const text = await res.text();
          expect({ route: `${route.method} ${route.path}`, status: res.status < 500 }).toEqual({
            route: `${route.method} ${route.path}`,
            status: true,
          });
          if (res.status >= 400) {
            expect(JSON.parse(text)).toMatchObject({ code: expect.stringMatching(/^[A-Z]+\.[A-Z_]+$/) });
            expect({ route: `${route.method} ${route.path}`, head: await head() }).toEqual({
              route: `${route.method} ${route.path}`,
              head: before,
            });
          }
        },
      ),
      { numRuns: scaled(2000, 60), seed: 20261128 },
    );
  });

  it('refuses an oversized body with 413 on every write route', async () => {
    const huge = JSON.stringify({ blob: 'x'.repeat(2 * 1024 * 1024) });
    for (const route of routes) {
      const path = route.path.replace(/\{[^}]+\}/g, 'x');
      const res = await fetch(`${r.url}${path}`, {
        method: route.method,
        headers: { authorization: `Bearer ${r.adminKey as string}`, 'content-type': 'application/json' },
        body: huge,
      });
      expect({ route: `${route.method} ${route.path}`, status: res.status }).toEqual({
        route: `${route.method} ${route.path}`,
        status: 413,
      });
    }
  });
});
