import { ValidationPipe } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyServerOptions } from 'fastify';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { EVENT_STORE, type EventStore } from '@cx/event-store';
import { type ConsoleOptions, registerConsole } from './console-static';
import { ErrorFilter, validationError } from './http-errors';
import { IdempotencyInterceptor } from './idempotency.interceptor';
import { type RateLimit, RateLimitInterceptor } from './rate-limit.interceptor';

const storeOf = (app: NestFastifyApplication): EventStore | null => {
  try {
    return app.get<EventStore>(EVENT_STORE, { strict: false });
  } catch {
    return null;
  }
};

/** The policy of API answers (OWASP's for a JSON API): nothing may load, nothing may frame it. */
const API_CSP = "default-src 'none'; frame-ancestors 'none'";

/** The versioned API: `/v1` and below, whatever the query. */
const isApiPath = (url: string): boolean => {
  const path = url.split('?')[0] ?? '';
  return path === '/v1' || path.startsWith('/v1/');
};

/**
 * Everything every cx HTTP app shares: strict validation of bodies and queries, the error filter,
 * OpenAPI at /openapi.json and Swagger UI at /docs, and security headers (on /v1 also no caching and a CSP). With `console`, the process that serves
 * the public API (embedded, or the gateway) also serves the built web console at / (see console-static.ts).
 */
export const configureHttpApp = async (
  app: NestFastifyApplication,
  opts: { title?: string; rateLimit?: RateLimit; console?: ConsoleOptions } = {},
): Promise<void> => {
  app.useGlobalPipes(
    new ValidationPipe({
      whitelist: true,
      forbidNonWhitelisted: true,
      transform: true,
      // Values are never coerced: "12" is not a number and 12 is not a decimal string.
      transformOptions: { enableImplicitConversion: false },
      validationError: { target: false, value: false },
      exceptionFactory: validationError,
    }),
  );
  app.useGlobalFilters(new ErrorFilter());
  // Limits first: a request over its key's rate never reaches the idempotency store or a handler.
  if (opts.rateLimit !== undefined && opts.rateLimit.perSecond > 0) {
    app.useGlobalInterceptors(new RateLimitInterceptor(opts.rateLimit));
  }
  // Every write accepts Idempotency-Key, wherever the host has a store to keep the responses in.
  const store = storeOf(app);
  if (store !== null) app.useGlobalInterceptors(new IdempotencyInterceptor(store));

  const fastify = app.getHttpAdapter().getInstance();
  fastify.addHook('onSend', async (req, reply, payload) => {
    reply.header('x-content-type-options', 'nosniff');
    reply.header('x-frame-options', 'DENY');
    reply.header('referrer-policy', 'no-referrer');
    if (isApiPath(req.url)) {
      // API answers carry balances, orders and keys: no browser or proxy may keep them, and a JSON body is never
      // a document to run scripts in or frame (the console's static files set their own policy and caching).
      reply.header('cache-control', 'no-store');
      reply.header('content-security-policy', API_CSP);
    }
    return payload;
  });

  if (opts.console !== undefined) registerConsole(fastify, opts.console);

  const config = new DocumentBuilder()
    .setTitle(opts.title ?? 'cx: compute exchange')
    .setDescription('Pricing guidance, matching, metering and settlement for AI compute capacity.')
    .setVersion('1')
    .addBearerAuth()
    .build();
  const document = SwaggerModule.createDocument(app, config);
  SwaggerModule.setup('docs', app, document, { jsonDocumentUrl: 'openapi.json', yamlDocumentUrl: 'openapi.yaml' });
};

/**
 * Options for the Fastify adapter of every cx host. Errors Fastify raises before a route runs (a path segment
 * over the length limit, a malformed URL) get our coded body like every other refusal, not Fastify's own.
 */
export const fastifyOptions = (opts: { bodyLimit?: number } = {}): FastifyServerOptions => ({
  ...(opts.bodyLimit === undefined ? {} : { bodyLimit: opts.bodyLimit }),
  trustProxy: false,
  routerOptions: { maxParamLength: 256 },
  frameworkErrors: (error, _req, reply) => {
    const [status, code] =
      error.code === 'FST_ERR_MAX_PARAM_LENGTH' ? [414, 'HTTP.URI_TOO_LONG'] : [400, 'HTTP.BAD_URL'];
    // The reply's generic route types know no status codes here; it is a plain reply at this point.
    const plain = reply as unknown as { code(status: number): { send(body: unknown): unknown } };
    plain.code(status).send({ code, message: error.message, details: [] });
  },
});
