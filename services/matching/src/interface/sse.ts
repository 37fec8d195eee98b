import type { FastifyReply, FastifyRequest } from 'fastify';

// Server-Sent Events over Fastify: the reply is hijacked (Nest and Fastify send nothing more) and events are
// written to the raw response. Every open stream is tracked so the module can end them at shutdown; otherwise an
// open stream would keep the HTTP server from closing.

export interface SseStream {
  send(event: string, data: unknown): void;
  onClose(fn: () => void): void;
}

export class SseHub {
  private readonly open = new Set<() => void>();

  start(req: FastifyRequest, reply: FastifyReply): SseStream {
    reply.hijack();
    const raw = reply.raw;
    raw.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      connection: 'keep-alive',
      'x-content-type-options': 'nosniff',
      // Proxies such as nginx buffer responses unless told not to, which would hold events back.
      'x-accel-buffering': 'no',
    });
    raw.write(': connected\n\n');
    const closers: (() => void)[] = [];
    // Comments keep idle connections (and the proxies in between) from timing out.
    const ping = setInterval(() => raw.write(': ping\n\n'), 15_000);
    ping.unref();
    const end = (): void => {
      if (!this.open.delete(end)) return;
      clearInterval(ping);
      for (const c of closers) c();
      raw.end();
    };
    this.open.add(end);
    req.raw.on('close', end);
    return {
      send: (event, data) => {
        if (this.open.has(end)) raw.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
      },
      onClose: (fn) => closers.push(fn),
    };
  }

  closeAll(): void {
    for (const end of [...this.open]) end();
  }
}
