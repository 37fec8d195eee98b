// Proves rate limits per API key over real HTTP: a key past its burst gets 429 RATE.LIMITED with Retry-After and
// its request changes nothing, another key is not affected, and the bucket refills with time (a clock the test
// moves, so nothing here depends on how fast the machine is).
import 'reflect-metadata';
import { join } from 'node:path';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { type EventStore, openEventStore } from '@cx/event-store';
import { IdentityModule, IdentityService } from '@cx/identity';
import { SimulatedClock } from '@cx/shared-kernel';
import { httpCall, tempDir, testHost } from '@cx/testing';
import { configureHttpApp } from './http-app';
import { RateLimitInterceptor } from './rate-limit.interceptor';

describe('rate limits per API key', () => {
  const dir = tempDir('cx-rate-');
  let app: NestFastifyApplication;
  let store: EventStore;
  let url: string;
  let admin: string;
  let nowMs = 1_000_000;

  beforeAll(async () => {
    store = await openEventStore(`sqlite:${join(dir.path, 'cx.sqlite')}`);
    const clock = new SimulatedClock(new Date('2026-03-10T08:00:00Z'));
    app = await NestFactory.create<NestFastifyApplication>(
      testHost(store, clock, [IdentityModule]),
      new FastifyAdapter(),
      {
        logger: false,
      },
    );
    await configureHttpApp(app);
    // The limiter on a clock this test moves: 2 requests per second, bursts of 3.
    app.useGlobalInterceptors(new RateLimitInterceptor({ perSecond: 2, burst: 3 }, () => nowMs));
    admin = (await app.get(IdentityService).ensureAdminKey()) as string;
    await app.listen(0, '127.0.0.1');
    url = await app.getUrl();
  });
  afterAll(async () => {
    await app.close();
    await store.close();
    dir.remove();
  });

  it('answers 429 with Retry-After past the burst, changes nothing, and refills with time', async () => {
    for (let i = 0; i < 3; i++) expect((await httpCall(url, 'GET', '/v1/me', admin)).status).toBe(200);
    const head = await store.headPosition();
    const refused = await httpCall(url, 'POST', '/v1/accounts', admin, {
      accountId: 'rl-1',
      legalName: 'R',
      kind: 'buyer',
    });
    expect(refused.status).toBe(429);
    expect(refused.body).toMatchObject({ code: 'RATE.LIMITED' });
    expect(refused.headers.get('retry-after')).toBe('1');
    expect(await store.headPosition()).toEqual(head);

    // Issuing another key is the admin's request too: refused until a token is back; the new key has its own bucket.
    const other = await httpCall(url, 'POST', '/v1/keys', admin, { role: 'auditor' });
    expect(other.status).toBe(429);
    nowMs += 500; // one token back
    const key = await httpCall(url, 'POST', '/v1/keys', admin, { role: 'auditor' });
    expect(key.status).toBe(201);
    expect((await httpCall(url, 'GET', '/v1/me', key.body.key as string)).status).toBe(200);
    expect((await httpCall(url, 'GET', '/v1/me', admin)).status).toBe(429);
    nowMs += 10_000; // refilled to the burst, never beyond
    for (let i = 0; i < 3; i++) expect((await httpCall(url, 'GET', '/v1/me', admin)).status).toBe(200);
    expect((await httpCall(url, 'GET', '/v1/me', admin)).status).toBe(429);
  });
});
