import type { HttpReply } from '@cx/testing';

// How a real integrator talks to cx while parts of it restart: every write carries an Idempotency-Key (and the
// client's own ids: clientOrderId, CloudEvent (source, id)), and a write whose answer never came, or came as a
// 5xx, a 429 or a 409 IDEMPOTENCY.IN_PROGRESS, is sent again, byte for byte, until a definite answer arrives. A
// definite 4xx is returned to the caller, who decides.

export interface CallOptions {
  idempotencyKey?: string;
  accept?: string;
  contentType?: string;
}

export interface RawReply {
  status: number;
  text: string;
  headers: Headers;
}

/** One HTTP call; the body is read as text (NDJSON and CSV too). Throws on a transport failure. */
export const rawCall = async (
  baseUrl: string,
  method: string,
  path: string,
  key: string | null,
  body?: unknown,
  opts: CallOptions = {},
): Promise<RawReply> => {
  const headers: Record<string, string> = {};
  if (key !== null) headers.authorization = `Bearer ${key}`;
  if (body !== undefined) headers['content-type'] = opts.contentType ?? 'application/json';
  if (opts.idempotencyKey !== undefined) headers['idempotency-key'] = opts.idempotencyKey;
  if (opts.accept !== undefined) headers.accept = opts.accept;
  const res = await fetch(`${baseUrl}${path}`, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(60_000),
  });
  return { status: res.status, text: await res.text(), headers: res.headers };
};

const parse = (r: RawReply): HttpReply => {
  let body: unknown = null;
  if (r.text !== '') {
    try {
      body = JSON.parse(r.text);
    } catch {
      body = r.text;
    }
  }
  return { status: r.status, body, headers: r.headers };
};

/**
 * A call that is worth repeating as is: no answer, a 5xx, 429 (rate limited), or 409 IDEMPOTENCY.IN_PROGRESS (the
 * first attempt is still running). Any other 409 is a definite answer (e.g. BILLING.PERIOD_ALREADY_CLOSED when the
 * first attempt finished but its answer was lost).
 */
const retriable = (r: RawReply): boolean =>
  r.status >= 500 || r.status === 429 || (r.status === 409 && r.text.includes('"IDEMPOTENCY.IN_PROGRESS"'));

export interface RetryStats {
  /** Attempts that failed in transport or answered something retriable. */
  retries: number;
}

/**
 * Sends until a definite answer (2xx or a non-retriable 4xx), for up to `timeoutMs`. `baseUrl` is a function so
 * that a caller whose target moved (not the case through the gateway) can follow it.
 */
export const callPatiently = async (
  baseUrl: string | (() => string),
  method: string,
  path: string,
  key: string | null,
  body?: unknown,
  opts: CallOptions & { timeoutMs?: number; stats?: RetryStats; retryOn?: (r: HttpReply) => boolean } = {},
): Promise<HttpReply> => {
  const deadline = Date.now() + (opts.timeoutMs ?? 180_000);
  let delayMs = 50;
  let last = '';
  for (;;) {
    try {
      const url = typeof baseUrl === 'string' ? baseUrl : baseUrl();
      const r = await rawCall(url, method, path, key, body, opts);
      const reply = parse(r);
      if (!retriable(r) && !(opts.retryOn?.(reply) ?? false)) return reply;
      last = `${r.status} ${r.text.slice(0, 300)}`;
    } catch (e) {
      last = e instanceof Error ? `${e.message} ${String((e as { cause?: unknown }).cause ?? '')}` : String(e);
    }
    if (opts.stats) opts.stats.retries += 1;
    if (Date.now() > deadline) throw new Error(`${method} ${path}: no definite answer in time; last: ${last}`);
    await new Promise((r) => setTimeout(r, delayMs));
    delayMs = Math.min(1_000, delayMs * 2);
  }
};

/** The events of one store, by type, from its `/v1/audit/events` (NDJSON); each line parsed. */
export const auditEvents = async (
  baseUrl: string,
  key: string,
  type: string,
): Promise<Array<{ stream: string; type: string; data: Record<string, unknown> }>> => {
  const r = await rawCall(baseUrl, 'GET', `/v1/audit/events?type=${encodeURIComponent(type)}`, key);
  if (r.status !== 200) throw new Error(`audit events ${type}: ${r.status} ${r.text.slice(0, 300)}`);
  return r.text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as { stream: string; type: string; data: Record<string, unknown> });
};
