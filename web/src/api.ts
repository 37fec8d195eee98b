// The console's only way to the exchange: the public /v1 API on the same origin, with the signed-in key as a
// bearer token. Refusals keep the API's coded body ({ code, message, details[{ field, code }] }) so a form can
// put each code on the field at fault.

export interface FieldError {
  field: string;
  code: string;
  message?: string;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: FieldError[] = [],
  ) {
    super(message);
  }

  /** The code for one field: a detail naming it, else the error's own code when that detail carries none. */
  fieldCode(field: string): string | null {
    const d = this.details.find((x) => x.field === field);
    if (d === undefined) return null;
    return /^[A-Z]+\.[A-Z_]+$/.test(d.code) ? d.code : `${this.code} (${d.message ?? d.code})`;
  }
}

/** Any failure as an ApiError: API errors as they are, anything else (a network failure) as CONSOLE.ERROR. */
export const asApiError = (e: unknown): ApiError =>
  e instanceof ApiError ? e : new ApiError(0, 'CONSOLE.ERROR', e instanceof Error ? e.message : String(e));

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

const KEY_STORAGE = 'cx.apiKey';

/** The key lives in session storage only: it is gone when the tab closes, and never sent anywhere but /v1. */
export const session = {
  get: (): string | null => sessionStorage.getItem(KEY_STORAGE),
  set: (key: string): void => sessionStorage.setItem(KEY_STORAGE, key),
  clear: (): void => sessionStorage.removeItem(KEY_STORAGE),
};

const errorOf = async (res: Response): Promise<ApiError> => {
  const text = await res.text();
  try {
    const body = JSON.parse(text) as { code?: string; message?: string; details?: FieldError[] };
    return new ApiError(
      res.status,
      body.code ?? `HTTP.${res.status}`,
      body.message ?? res.statusText,
      body.details ?? [],
    );
  } catch {
    return new ApiError(res.status, `HTTP.${res.status}`, text || res.statusText);
  }
};

export const request = async (
  method: string,
  path: string,
  opts: { body?: unknown; accept?: string; key?: string | null } = {},
): Promise<Response> => {
  const key = opts.key === undefined ? session.get() : opts.key;
  const headers: Record<string, string> = { accept: opts.accept ?? 'application/json' };
  if (key !== null) headers.authorization = `Bearer ${key}`;
  if (opts.body !== undefined) headers['content-type'] = 'application/json';
  let res: Response;
  try {
    res = await fetch(path, {
      method,
      headers,
      body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
    });
  } catch (e) {
    throw new ApiError(0, 'HTTP.NETWORK', e instanceof Error ? e.message : String(e));
  }
  if (!res.ok) throw await errorOf(res);
  return res;
};

export const getJson = async <T>(path: string, key?: string | null): Promise<T> =>
  (await request('GET', path, { key })).json() as Promise<T>;

export const send = async <T>(method: string, path: string, body?: unknown): Promise<T> => {
  const res = await request(method, path, { body });
  const text = await res.text();
  return (text ? JSON.parse(text) : null) as T;
};

/** Every item of a cursor-paginated list (bounded: the console shows lists, it does not export them). */
export const getAll = async <T>(path: string, maxPages = 20): Promise<T[]> => {
  const out: T[] = [];
  let cursor: string | null = null;
  for (let i = 0; i < maxPages; i += 1) {
    const sep = path.includes('?') ? '&' : '?';
    const url: string = `${path}${sep}limit=500${cursor === null ? '' : `&cursor=${encodeURIComponent(cursor)}`}`;
    const page: Page<T> = await getJson<Page<T>>(url);
    out.push(...page.items);
    cursor = page.nextCursor;
    if (cursor === null) break;
  }
  return out;
};

/** NDJSON lines (the audit event stream), up to `max` of them. */
export const getNdjson = async <T>(path: string, max: number): Promise<T[]> => {
  const res = await request('GET', path, { accept: 'application/x-ndjson' });
  const out: T[] = [];
  const reader = res.body?.getReader();
  if (reader === undefined) return out;
  const decoder = new TextDecoder();
  let buffer = '';
  for (;;) {
    const { done, value } = await reader.read();
    if (value !== undefined) buffer += decoder.decode(value, { stream: true });
    let nl = buffer.indexOf('\n');
    while (nl >= 0 && out.length < max) {
      const line = buffer.slice(0, nl).trim();
      buffer = buffer.slice(nl + 1);
      if (line !== '') out.push(JSON.parse(line) as T);
      nl = buffer.indexOf('\n');
    }
    if (out.length >= max) {
      await reader.cancel();
      break;
    }
    if (done) {
      if (buffer.trim() !== '' && out.length < max) out.push(JSON.parse(buffer) as T);
      break;
    }
  }
  return out;
};

export type Role = 'admin' | 'regulator' | 'trader' | 'integrator' | 'finance' | 'auditor';

export interface Me {
  keyId: string;
  role: Role;
  accounts: string[];
  expiresAt: string | null;
}
