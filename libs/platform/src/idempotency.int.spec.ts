// Proves Idempotency-Key on writes over real HTTP and a real SQLite file: the same key and body answers the stored
// response (once recorded, also after a restart), another body is refused with 422, a concurrent retry either
// waits its turn (409) or replays, and nothing is ever created twice.
import 'reflect-metadata';
import { join } from 'node:path';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { type EventStore, openEventStore } from '@cx/event-store';
import { IdentityModule, IdentityService } from '@cx/identity';
import { SimulatedClock } from '@cx/shared-kernel';
import { tempDir, testHost } from '@cx/testing';
import { configureHttpApp } from './http-app';

interface Running {
  app: NestFastifyApplication;
  store: EventStore;
  url: string;
  admin: string;
}

const start = async (file: string, admin?: string): Promise<Running> => {
  const store = await openEventStore(`sqlite:${file}`);
  const clock = new SimulatedClock(new Date('2026-03-10T08:00:00Z'));
  const app = await NestFactory.create<NestFastifyApplication>(
    testHost(store, clock, [IdentityModule]),
    new FastifyAdapter(),
    { logger: false },
  );
  await configureHttpApp(app);
  const key = admin ?? ((await app.get(IdentityService).ensureAdminKey()) as string);
  await app.listen(0, '127.0.0.1');
  return { app, store, url: await app.getUrl(), admin: key };
};

describe('Idempotency-Key', () => {
  const dir = tempDir('cx-idem-');
  const file = join(dir.path, 'cx.sqlite');
  let r: Running;

  const post = (body: unknown, key?: string) =>
    fetch(`${r.url}/v1/accounts`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${r.admin}`,
        'content-type': 'application/json',
        ...(key === undefined ? {} : { 'idempotency-key': key }),
      },
      body: JSON.stringify(body),
    });
  const accounts = async () =>
    (
      (await (
        await fetch(`${r.url}/v1/accounts?limit=500`, { headers: { authorization: `Bearer ${r.admin}` } })
      ).json()) as {
        items: unknown[];
      }
    ).items.length;

  beforeAll(async () => {
    r = await start(file);
  });
  afterAll(async () => {
    await r.app.close();
    await r.store.close();
    dir.remove();
  });

  it('answers the stored response to the same key and body, also after a restart', async () => {
    const body = { accountId: 'idem-1', legalName: 'Idem One', kind: 'buyer' };
    const first = await post(body, 'k-1');
    expect(first.status).toBe(201);
    const firstBody = await first.json();
    const again = await post(body, 'k-1');
    expect(again.status).toBe(201);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(await again.json()).toEqual(firstBody);

    await r.app.close();
    await r.store.close();
    r = await start(file, r.admin);
    const afterRestart = await post(body, 'k-1');
    expect([afterRestart.status, afterRestart.headers.get('idempotent-replayed')]).toEqual([201, 'true']);
  });

  it('refuses another body under the same key with 422 and changes nothing', async () => {
    const before = await accounts();
    const res = await post({ accountId: 'idem-2', legalName: 'Other', kind: 'buyer' }, 'k-1');
    expect(res.status).toBe(422);
    expect(await res.json()).toMatchObject({
      code: 'IDEMPOTENCY.KEY_REUSED',
      details: [{ field: 'Idempotency-Key', code: 'IDEMPOTENCY.KEY_REUSED' }],
    });
    expect(await accounts()).toBe(before);
  });

  it('refuses a malformed key', async () => {
    const res = await post({ accountId: 'idem-3', legalName: 'Three', kind: 'buyer' }, 'x'.repeat(300));
    expect(res.status).toBe(400);
    expect(((await res.json()) as { code: string }).code).toBe('IDEMPOTENCY.KEY_INVALID');
  });

  it('creates once under concurrent retries: each answer is the creation, its replay, or 409 still running', async () => {
    const before = await accounts();
    const body = { accountId: 'idem-4', legalName: 'Four', kind: 'buyer' };
    const answers = await Promise.all([1, 2, 3, 4, 5].map(() => post(body, 'k-4')));
    const statuses = answers.map((a) => a.status);
    expect(statuses.every((s) => s === 201 || s === 409)).toBe(true);
    expect(answers.filter((a) => a.status === 201 && a.headers.get('idempotent-replayed') === null)).toHaveLength(1);
    expect(await accounts()).toBe(before + 1);
    for (const a of answers.filter((x) => x.status === 409)) {
      expect(((await a.json()) as { code: string }).code).toBe('IDEMPOTENCY.IN_PROGRESS');
    }
  });
});
