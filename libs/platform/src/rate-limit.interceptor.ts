import { type CallHandler, type ExecutionContext, Injectable, type NestInterceptor } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Observable } from 'rxjs';
import { principalOf } from '@cx/auth';
import { DomainError } from '@cx/shared-kernel';

// Rate limits per API key (issue 9, "Hostile input"): a token bucket per key (per client address for requests
// without one), refilled continuously. A request over the limit gets 429 `RATE.LIMITED` with `Retry-After` (whole
// seconds until a token is back) and never reaches a handler, so it changes nothing. The buckets live in this
// process: in distributed mode each process limits what reaches it.

export interface RateLimit {
  /** Tokens added per second (CX_RATE_LIMIT_PER_S); 0 turns limiting off. */
  perSecond: number;
  /** Most tokens a bucket holds: the burst a quiet key may send at once (CX_RATE_LIMIT_BURST). */
  burst: number;
}

interface Bucket {
  tokens: number;
  atMs: number;
}

/** Buckets idle this long are forgotten (they would be full again anyway). */
const IDLE_MS = 10 * 60_000;

@Injectable()
export class RateLimitInterceptor implements NestInterceptor {
  private readonly buckets = new Map<string, Bucket>();
  private sweptAtMs = 0;

  constructor(
    private readonly limit: RateLimit,
    private readonly now: () => number = Date.now,
  ) {}

  intercept(ctx: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (ctx.getType() !== 'http' || this.limit.perSecond <= 0) return next.handle();
    const req = ctx.switchToHttp().getRequest<FastifyRequest>();
    const who = principalOf(req)?.keyId ?? `ip:${req.ip}`;
    const t = this.now();
    this.sweep(t);
    const b = this.buckets.get(who) ?? { tokens: this.limit.burst, atMs: t };
    b.tokens = Math.min(this.limit.burst, b.tokens + ((t - b.atMs) / 1000) * this.limit.perSecond);
    b.atMs = t;
    this.buckets.set(who, b);
    if (b.tokens < 1) {
      const retryAfterS = Math.max(1, Math.ceil((1 - b.tokens) / this.limit.perSecond));
      void ctx.switchToHttp().getResponse<FastifyReply>().header('retry-after', String(retryAfterS));
      throw new DomainError(
        'RATE.LIMITED',
        `too many requests for this key; retry in ${retryAfterS} s`,
        'rate_limited',
      );
    }
    b.tokens -= 1;
    return next.handle();
  }

  private sweep(t: number): void {
    if (t - this.sweptAtMs < IDLE_MS) return;
    this.sweptAtMs = t;
    for (const [k, b] of this.buckets) if (t - b.atMs > IDLE_MS) this.buckets.delete(k);
  }
}
