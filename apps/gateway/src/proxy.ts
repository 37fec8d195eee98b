import {
  Agent,
  type IncomingHttpHeaders,
  type IncomingMessage,
  request as httpRequest,
  type ServerResponse,
} from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

// The gateway's reverse proxy. No proxy library is installed (neither @fastify/http-proxy nor
// @fastify/reply-from), so this is a small streaming one on node:http: bodies are piped both ways, never
// buffered or parsed, so uploads, CSV statements and SSE streams pass through as they are produced, and each
// service still applies its own body limit, validation and authentication (the Authorization header is passed on
// untouched; the gateway does not vouch for anyone).

export interface Upstream {
  /** The owning service, for logs and errors. */
  name: string;
  /** Base URL of the service, e.g. http://matching:3000. */
  url: URL;
  /** Path prefixes it owns, e.g. `/v1/orders`: the prefix itself and everything below it. */
  prefixes: string[];
}

export interface ProxyOptions {
  /** How long to wait for the service's response headers (not for the body: an SSE stream may run for hours). */
  responseTimeoutMs: number;
  onError?: (upstream: string, e: unknown) => void;
}

const METHODS = ['DELETE', 'GET', 'HEAD', 'PATCH', 'POST', 'PUT', 'OPTIONS'] as const;

// Hop-by-hop headers (RFC 9110 §7.6.1) belong to one connection and are never forwarded.
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'proxy-connection',
  'te',
  'trailer',
  'upgrade',
]);

const forwardable = (headers: IncomingHttpHeaders): IncomingHttpHeaders => {
  const named = new Set(
    String(headers.connection ?? '')
      .split(',')
      .map((h) => h.trim().toLowerCase()),
  );
  const out: IncomingHttpHeaders = {};
  for (const [k, v] of Object.entries(headers)) if (!HOP_BY_HOP.has(k) && !named.has(k)) out[k] = v;
  return out;
};

const errorBody = (code: string, message: string): string => JSON.stringify({ code, message, details: [] });

const answerError = (res: ServerResponse, status: number, code: string, message: string): void => {
  if (res.headersSent) {
    // Part of the answer is already on its way: the only honest signal left is a broken response.
    res.destroy();
    return;
  }
  const body = errorBody(code, message);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(body),
  });
  res.end(body);
};

/** Forwards one request to the upstream and streams the answer back. */
export const forward = (
  upstream: Upstream,
  req: IncomingMessage,
  res: ServerResponse,
  opts: ProxyOptions,
  agents: { http: Agent; https: HttpsAgent },
): void => {
  const secure = upstream.url.protocol === 'https:';
  const headers = forwardable(req.headers);
  const peer = req.socket.remoteAddress ?? '';
  headers['x-forwarded-for'] = headers['x-forwarded-for'] ? `${String(headers['x-forwarded-for'])}, ${peer}` : peer;
  headers['x-forwarded-host'] = req.headers.host ?? '';
  headers['x-forwarded-proto'] = 'encrypted' in req.socket ? 'https' : 'http';
  headers.host = upstream.url.host;

  const out = (secure ? httpsRequest : httpRequest)({
    protocol: upstream.url.protocol,
    hostname: upstream.url.hostname,
    port: upstream.url.port,
    method: req.method,
    path: req.url,
    headers,
    agent: secure ? agents.https : agents.http,
  });
  let settled = false;
  const timer = setTimeout(() => {
    if (settled) return;
    settled = true;
    out.destroy();
    answerError(res, 504, 'GATEWAY.UPSTREAM_TIMEOUT', `${upstream.name} did not answer in time`);
  }, opts.responseTimeoutMs);

  out.on('response', (answer) => {
    clearTimeout(timer);
    if (settled) {
      answer.resume();
      return;
    }
    settled = true;
    res.writeHead(answer.statusCode ?? 502, answer.statusMessage, forwardable(answer.headers));
    // Server-sent events must reach the client as each one is written.
    res.flushHeaders();
    answer.pipe(res);
    answer.on('error', () => res.destroy());
  });
  out.on('error', (e) => {
    clearTimeout(timer);
    opts.onError?.(upstream.name, e);
    if (settled) {
      res.destroy();
      return;
    }
    settled = true;
    answerError(res, 502, 'GATEWAY.UPSTREAM_UNAVAILABLE', `${upstream.name} is not reachable`);
  });
  // The client went away (a closed SSE tab, a cancelled upload): so does the upstream request.
  res.on('close', () => {
    clearTimeout(timer);
    if (!res.writableFinished) out.destroy();
  });
  req.pipe(out);
};

/**
 * Routes every method on each upstream's prefixes (`/v1/orders` and `/v1/orders/*`) to it. The request is taken
 * over in `onRequest`, before Fastify reads the body, so nothing is parsed or limited here.
 */
export const registerProxy = (fastify: FastifyInstance, upstreams: Upstream[], opts: ProxyOptions): void => {
  const agents = {
    http: new Agent({ keepAlive: true, maxSockets: 256 }),
    https: new HttpsAgent({ keepAlive: true, maxSockets: 256 }),
  };
  fastify.addHook('onClose', () => {
    agents.http.destroy();
    agents.https.destroy();
  });
  for (const upstream of upstreams) {
    const take = (req: FastifyRequest, reply: FastifyReply, done: () => void): void => {
      reply.hijack();
      forward(upstream, req.raw, reply.raw, opts, agents);
      done();
    };
    for (const prefix of upstream.prefixes) {
      for (const url of [prefix, `${prefix}/*`]) {
        fastify.route({
          method: [...METHODS],
          url,
          onRequest: take,
          // Never reached: the request was taken over in onRequest.
          handler: async () => undefined,
        });
      }
    }
  }
};
