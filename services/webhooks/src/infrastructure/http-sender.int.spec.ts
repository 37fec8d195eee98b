// Proves the outbound POST's guards over real sockets on loopback: a redirect is not followed (the 3xx is the
// attempt's outcome, which the worker counts as failed); a receiver that never answers is cut off by the timeout;
// a hostname (not an IP literal, not `localhost`) that resolves to 127.0.0.1 is refused when the lookup answers at
// connect time, unless private destinations are allowed.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { hostname } from 'node:os';
import type { Socket } from 'node:net';
import { postWebhook, resolveHost, type SendRequest } from './http-sender';

describe('postWebhook over real sockets', () => {
  const hits: string[] = [];
  const sockets = new Set<Socket>();
  let server: Server;
  let port = 0;

  beforeAll(async () => {
    server = createServer((req: IncomingMessage, res: ServerResponse) => {
      hits.push(req.url ?? '');
      req.resume();
      req.on('end', () => {
        if (req.url === '/redirect') {
          res.writeHead(302, { location: `http://127.0.0.1:${port}/elsewhere` });
          res.end();
        } else if (req.url === '/hang') {
          // Never answers: the sender's timeout must end the attempt.
        } else {
          res.writeHead(200);
          res.end('ok');
        }
      });
    });
    server.on('connection', (s: Socket) => {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as { port: number }).port;
  });

  afterAll(async () => {
    for (const s of sockets) s.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  beforeEach(() => {
    hits.length = 0;
  });

  const send = (url: string, over: Partial<SendRequest> = {}) =>
    postWebhook({
      url,
      body: '{"id":"e-1"}',
      headers: { 'content-type': 'application/json' },
      timeoutMs: 5_000,
      allowPrivate: true,
      ...over,
    });

  it('does not follow a 302: the redirect is the outcome, and its target is never asked', async () => {
    const r = await send(`http://127.0.0.1:${port}/redirect`);
    expect(r).toMatchObject({ statusCode: 302, error: null });
    // The worker's rule: only a 2xx is a success.
    expect(r.statusCode !== null && r.statusCode >= 200 && r.statusCode < 300).toBe(false);
    expect(hits).toEqual(['/redirect']);
  });

  it('times out a receiver that holds the request open', async () => {
    const r = await send(`http://127.0.0.1:${port}/hang`, { timeoutMs: 300 });
    expect(r.statusCode).toBeNull();
    expect(r.error).toBe('timed out after 300 ms');
    expect(hits).toEqual(['/hang']);
  });

  it('refuses, at connect time, a hostname that resolves to 127.0.0.1 unless private addresses are allowed', async () => {
    // This machine's own name resolves to loopback (/etc/hosts): a name, so only the lookup at connect can tell.
    const name = hostname();
    expect(await resolveHost(name)).toContain('127.0.0.1');
    const url = `http://${name}:${port}/ok`;
    const refused = await send(url, { allowPrivate: false });
    expect(refused).toMatchObject({ statusCode: null, error: 'destination address refused' });
    expect(hits).toEqual([]);
    // The same name with the setting on reaches the receiver: the refusal above was the address check.
    const allowed = await send(url, { allowPrivate: true });
    expect(allowed).toMatchObject({ statusCode: 200, error: null });
    expect(hits).toEqual(['/ok']);
  });

  it('refuses an IP literal on loopback before connecting, and a success is a 2xx with a latency', async () => {
    expect(await send(`http://127.0.0.1:${port}/ok`, { allowPrivate: false })).toMatchObject({
      statusCode: null,
      error: 'destination address refused',
    });
    expect(hits).toEqual([]);
    const ok = await send(`http://127.0.0.1:${port}/ok`);
    expect(ok).toMatchObject({ statusCode: 200, error: null });
    expect(Number.isInteger(ok.latencyMs) && ok.latencyMs >= 0).toBe(true);
  });
});
