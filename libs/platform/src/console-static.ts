import { createReadStream, existsSync, readFileSync, statSync } from 'node:fs';
import { extname, join, normalize, resolve, sep } from 'node:path';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

// Serves the built web console (web/, built into dist/web by `npm run build`) from the process that hosts the
// public API: the embedded exchange, or the gateway in distributed mode. The console is public static content; all
// it can do it does through /v1 with the key the user signs in with, so no route here needs a key.

export interface ConsoleOptions {
  /** The folder vite built: index.html and assets/. */
  root: string;
}

/** Paths the API owns: never answered with the console, so a typo under /v1 stays a coded 404. */
const API_PREFIXES = ['/v1', '/docs', '/openapi.', '/metrics', '/health'];

/**
 * The console's own policy: scripts and styles only from this origin (vite emits no inline script), data only
 * from the same-origin API, no framing. Inline style attributes are allowed because React and ECharts set them.
 */
export const CONSOLE_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data: blob:",
  "font-src 'self' data:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

const TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.html': 'text/html; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json; charset=utf-8',
  '.woff2': 'font/woff2',
  '.map': 'application/json; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
};

const isApiPath = (path: string): boolean =>
  API_PREFIXES.some((p) => path === p || path.startsWith(p.endsWith('.') ? p : `${p}/`));

/**
 * Registers GET/HEAD / and a catch-all for client-side routes (served index.html, never cached, so a new build is
 * picked up at once) and the hashed files under /assets/ (cached for a year: their names change with content).
 * Paths under the API's prefixes fall through to the normal 404. Without a build (index.html) nothing is
 * registered, so running from sources without `npm run build` serves the API alone; answers whether it did.
 */
export const registerConsole = (fastify: FastifyInstance, opts: ConsoleOptions): boolean => {
  const root = resolve(opts.root);
  if (!existsSync(join(root, 'index.html'))) return false;
  const indexHtml = readFileSync(join(root, 'index.html'));

  const sendIndex = (reply: FastifyReply): FastifyReply =>
    reply
      .header('content-type', TYPES['.html'])
      .header('cache-control', 'no-cache')
      .header('content-security-policy', CONSOLE_CSP)
      .send(indexHtml);

  const notFound = (reply: FastifyReply): FastifyReply => {
    reply.callNotFound();
    return reply;
  };

  const handler = async (req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> => {
    const path = decodeURIComponent((req.url.split('?')[0] ?? '/').replace(/\/{2,}/g, '/'));
    if (isApiPath(path)) return notFound(reply);
    const file = normalize(join(root, path));
    // A path that climbs out of the root (../) is never served; it gets the app like any unknown route.
    const inside = file.startsWith(root + sep);
    const stat = inside && existsSync(file) ? statSync(file) : null;
    if (stat?.isFile()) {
      const immutable = path.startsWith('/assets/');
      return reply
        .header('content-type', TYPES[extname(file)] ?? 'application/octet-stream')
        .header('content-length', stat.size)
        .header('cache-control', immutable ? 'public, max-age=31536000, immutable' : 'no-cache')
        .header('content-security-policy', CONSOLE_CSP)
        .send(createReadStream(file));
    }
    // A missing asset is a 404, not the app: a stale tab must not parse HTML as JavaScript. Other paths are the
    // app's own routes, dots included (instrument ids such as nvidia-h100-sxm-80g.cn-east-1.2026-03-16).
    if (path.startsWith('/assets/') || Object.hasOwn(TYPES, extname(path))) return notFound(reply);
    return sendIndex(reply);
  };

  // Fastify answers HEAD for these GET routes by itself (exposeHeadRoutes).
  fastify.get('/', handler);
  fastify.get('/*', handler);
  return true;
};
