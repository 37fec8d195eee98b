import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { verifySignature } from '../domain/delivery/signature';

// A real HTTP receiver on loopback for tests: verifies each request's signature against the secrets its path was
// given, answers with the status scripted for the path (200 by default), and records everything. It can be taken
// down (connections refused) and brought back on the same port, and it can hold requests open without answering
// (a receiver that hangs, so a sender can be killed mid-delivery or time out).

export interface Received {
  path: string;
  deliveryId: string;
  eventId: string;
  type: string;
  body: { id: string; type: string; time: string; data: Record<string, unknown> };
  signature: 'ok' | 'MALFORMED' | 'STALE' | 'MISMATCH' | 'NO_SECRET';
  /** What the receiver answered; 0 for a request held open and never answered. */
  status: number;
}

export class WebhookReceiver {
  readonly received: Received[] = [];
  private readonly secrets = new Map<string, string[]>();
  private readonly scripts = new Map<string, number[]>();
  private readonly holds = new Map<string, number>();
  private server: Server | null = null;
  private readonly sockets = new Set<Socket>();
  private port = 0;

  async start(): Promise<void> {
    const server = createServer((req, res) => this.handle(req, res));
    server.on('connection', (s) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    await new Promise<void>((resolve) => server.listen(this.port, '127.0.0.1', resolve));
    this.port = (server.address() as { port: number }).port;
    this.server = server;
  }

  /** Refuses connections from now on (until `start` again, on the same port). */
  async stop(): Promise<void> {
    const server = this.server;
    this.server = null;
    if (!server) return;
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  url(path: string): string {
    return `http://127.0.0.1:${this.port}${path}`;
  }

  /** The secrets a path's signatures are checked with (several during a rotation). */
  trust(path: string, ...secrets: string[]): void {
    this.secrets.set(path, secrets);
  }

  /** The statuses the next requests to a path get, in order; then 200 again. */
  script(path: string, ...statuses: number[]): void {
    this.scripts.set(path, [...(this.scripts.get(path) ?? []), ...statuses]);
  }

  /** The next `count` requests to a path are recorded (status 0) and never answered; `stop` drops them. */
  hold(path: string, count = 1): void {
    this.holds.set(path, (this.holds.get(path) ?? 0) + count);
  }

  /** Requests held open and never answered. */
  heldOpen(path?: string): Received[] {
    return this.received.filter((r) => r.status === 0 && (path === undefined || r.path === path));
  }

  /** Requests answered 2xx, i.e. deliveries the receiver acknowledged. */
  acknowledged(path?: string): Received[] {
    return this.received.filter((r) => r.status >= 200 && r.status < 300 && (path === undefined || r.path === path));
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      const path = (req.url ?? '').split('?')[0] ?? '';
      const header = String(req.headers['cx-signature'] ?? '');
      const secrets = this.secrets.get(path) ?? [];
      let signature: Received['signature'] = 'NO_SECRET';
      for (const s of secrets) {
        const v = verifySignature(header, s, raw, Math.floor(Date.now() / 1000));
        signature = v.ok ? 'ok' : v.reason;
        if (v.ok) break;
      }
      const holds = this.holds.get(path) ?? 0;
      if (holds > 0) this.holds.set(path, holds - 1);
      const queue = this.scripts.get(path) ?? [];
      const status = holds > 0 ? 0 : (queue.shift() ?? 200);
      this.received.push({
        path,
        deliveryId: String(req.headers['cx-delivery-id'] ?? ''),
        eventId: String(req.headers['cx-event-id'] ?? ''),
        type: String(req.headers['cx-event-type'] ?? ''),
        body: JSON.parse(raw) as Received['body'],
        signature,
        status,
      });
      if (status === 0) return;
      res.writeHead(status, { 'content-type': 'text/plain' });
      res.end(status < 300 ? 'ok' : 'no');
    });
  }
}
