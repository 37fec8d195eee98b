// The exchange's public HTTP API as `cx simulate` uses it: JSON in, JSON (or text) out, bearer keys, and a
// failure that names the step, the route and the coded error the exchange answered.

export interface Reply<T = unknown> {
  status: number;
  body: T;
  text: string;
  headers: Headers;
}

export class StepFailed extends Error {
  constructor(
    readonly step: string,
    readonly reply: { status: number; code?: string; message?: string } | null,
    message: string,
  ) {
    super(message);
  }
}

export interface RequestOptions {
  accept?: string;
  /** Statuses that are not failures (default: any 2xx). */
  ok?: readonly number[];
}

export class ExchangeClient {
  requests = 0;

  constructor(readonly baseUrl: string) {}

  async call<T = unknown>(
    method: string,
    path: string,
    key: string | null,
    body?: unknown,
    opts: RequestOptions = {},
  ): Promise<Reply<T>> {
    const headers: Record<string, string> = { accept: opts.accept ?? 'application/json' };
    if (key !== null) headers.authorization = `Bearer ${key}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    this.requests += 1;
    let res: Response;
    try {
      res = await fetch(`${this.baseUrl}${path}`, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (e) {
      throw new StepFailed(`${method} ${path}`, null, `${method} ${path}: ${(e as Error).message}`);
    }
    const text = await res.text();
    let parsed: unknown = text;
    if ((res.headers.get('content-type') ?? '').includes('json') && text !== '') {
      try {
        parsed = JSON.parse(text);
      } catch {
        parsed = text;
      }
    }
    const reply = { status: res.status, body: parsed as T, text, headers: res.headers };
    const fine = opts.ok ? opts.ok.includes(res.status) : res.status >= 200 && res.status < 300;
    if (!fine) {
      const err = (parsed ?? {}) as { code?: string; message?: string };
      throw new StepFailed(
        `${method} ${path}`,
        { status: res.status, code: err.code, message: err.message },
        `${method} ${path} answered ${res.status}${err.code ? ` ${err.code}` : ''}${err.message ? `: ${err.message}` : ''}`,
      );
    }
    return reply;
  }

  /** Every item of a cursor-paginated list. */
  async all<T>(path: string, key: string): Promise<T[]> {
    const out: T[] = [];
    let cursor: string | null = null;
    const sep = path.includes('?') ? '&' : '?';
    do {
      const page: Reply<{ items: T[]; nextCursor: string | null }> = await this.call(
        'GET',
        `${path}${sep}limit=500${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
        key,
      );
      out.push(...page.body.items);
      cursor = page.body.nextCursor;
    } while (cursor !== null);
    return out;
  }

  /** GET /v1/audit/events as parsed NDJSON lines. */
  async auditEvents(key: string, query: Record<string, string>): Promise<AuditLine[]> {
    const qs = new URLSearchParams(query).toString();
    const r = await this.call<string>('GET', `/v1/audit/events?${qs}`, key, undefined, {
      accept: 'application/x-ndjson',
    });
    return r.text
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map((l) => JSON.parse(l) as AuditLine);
  }
}

export interface AuditLine {
  position: string;
  stream: string;
  type: string;
  data: Record<string, unknown>;
  created: string;
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Polls `probe` until it returns a value other than undefined, or fails after `timeoutMs` saying what it waited for. */
export const until = async <T>(
  what: string,
  probe: () => Promise<T | undefined>,
  timeoutMs = 30_000,
  intervalMs = 50,
): Promise<T> => {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new StepFailed(what, null, `timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(intervalMs);
  }
};
