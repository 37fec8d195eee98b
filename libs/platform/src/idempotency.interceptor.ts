import { createHash } from 'node:crypto';
import { type CallHandler, type ExecutionContext, Injectable, type NestInterceptor } from '@nestjs/common';
import canonicalize from 'canonicalize';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { from, mergeMap, type Observable, of, finalize } from 'rxjs';
import { principalOf } from '@cx/auth';
import { type EventStore, StreamNotFound, WrongExpectedVersion } from '@cx/event-store';
import { DomainError } from '@cx/shared-kernel';

// `Idempotency-Key` on every write (DESIGN.md, "Public API"): the same key and body again answers the stored
// response, another body under the key is refused (422), and a retry while the first is still running is told so
// (409). Keys are scoped to the API key, method and path, so two clients can never collide.
//
// The stored response is an event in the stream `idempotency-<sha256(scope)>`, appended at `no_stream` once the
// handler has answered successfully, so it survives a restart and is part of the audited history. A refusal (4xx)
// is not stored: it changed nothing, and the same request is refused the same way again. If the process dies
// after the handler's effect but before the response is stored, the retry runs the handler again, where the
// domain's own ids (client order id, transfer id, `(source, id)`) make it answer `exists`.

export const IDEMPOTENCY_STREAM_PREFIX = 'idempotency-';
const WRITES = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
const KEY_RE = /^[\x21-\x7e]{1,255}$/;

interface ResponseRecorded {
  fingerprint: string;
  method: string;
  path: string;
  status: number;
  body: unknown;
}

const sha256 = (s: string): string => createHash('sha256').update(s, 'utf8').digest('hex');

@Injectable()
export class IdempotencyInterceptor implements NestInterceptor {
  private readonly running = new Set<string>();

  constructor(private readonly store: EventStore) {}

  async intercept(ctx: ExecutionContext, next: CallHandler): Promise<Observable<unknown>> {
    if (ctx.getType() !== 'http') return next.handle();
    const http = ctx.switchToHttp();
    const req = http.getRequest<FastifyRequest>();
    const reply = http.getResponse<FastifyReply>();
    const header = req.headers['idempotency-key'];
    if (!WRITES.has(req.method) || header === undefined) return next.handle();
    const key = Array.isArray(header) ? header[0] : header;
    if (key === undefined || !KEY_RE.test(key)) {
      throw DomainError.invalid(
        'IDEMPOTENCY.KEY_INVALID',
        'Idempotency-Key must be 1 to 255 printable ASCII characters',
        'Idempotency-Key',
      );
    }
    const principal = principalOf(req);
    const path = req.url;
    const stream = `${IDEMPOTENCY_STREAM_PREFIX}${sha256(`${principal?.keyId ?? '-'}\n${req.method}\n${path}\n${key}`)}`;
    const fingerprint = sha256(canonicalize(req.body ?? null) ?? 'null');

    const stored = await this.recorded(stream);
    if (stored !== null) {
      if (stored.fingerprint !== fingerprint) {
        throw new DomainError(
          'IDEMPOTENCY.KEY_REUSED',
          'this Idempotency-Key was used with another request body',
          'unprocessable',
          [{ field: 'Idempotency-Key', code: 'IDEMPOTENCY.KEY_REUSED' }],
        );
      }
      reply.status(stored.status);
      reply.header('idempotent-replayed', 'true');
      return of(stored.body);
    }
    if (this.running.has(stream)) {
      throw DomainError.conflict(
        'IDEMPOTENCY.IN_PROGRESS',
        'a request with this Idempotency-Key is still running; retry later',
        'Idempotency-Key',
      );
    }
    this.running.add(stream);
    return next.handle().pipe(
      mergeMap((body) =>
        from(this.record(stream, { fingerprint, method: req.method, path, status: reply.statusCode, body })),
      ),
      finalize(() => this.running.delete(stream)),
    );
  }

  private async record(stream: string, r: ResponseRecorded): Promise<unknown> {
    // Only a success is stored, and only one that has a body to give back (a streamed reply is not replayable).
    if (r.status >= 300 || r.body === undefined) return r.body;
    // Stored as the client received it: the JSON the reply serialises, not the handler's objects.
    const data: ResponseRecorded = { ...r, body: JSON.parse(JSON.stringify(r.body)) as unknown };
    try {
      await this.store.appendToStream(stream, [{ type: 'IdempotentResponseRecorded', data }], {
        expectedRevision: 'no_stream',
      });
    } catch (e) {
      // Another process recorded the same key first: its response stands, and this one said the same.
      if (!(e instanceof WrongExpectedVersion)) throw e;
    }
    return r.body;
  }

  private async recorded(stream: string): Promise<ResponseRecorded | null> {
    try {
      for await (const e of this.store.readStream(stream, { maxCount: 1 })) {
        if (e.type === 'IdempotentResponseRecorded') return e.data as ResponseRecorded;
      }
    } catch (e) {
      if (!(e instanceof StreamNotFound)) throw e;
    }
    return null;
  }
}
