// One HTTP call of an integration test against a real listening app: a bearer key, a JSON body (or a raw one
// with its own content type), and the answer's status, parsed body and headers.

export interface HttpReply {
  status: number;
  // Bodies are read loosely on purpose: each assertion states the shape it expects.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  body: any;
  headers: Headers;
}

export const httpCall = async (
  baseUrl: string,
  method: string,
  path: string,
  key: string | null,
  body?: unknown,
  opts: { contentType?: string; raw?: string } = {},
): Promise<HttpReply> => {
  const headers: Record<string, string> = {};
  if (key !== null) headers.authorization = `Bearer ${key}`;
  if (body !== undefined || opts.raw !== undefined) headers['content-type'] = opts.contentType ?? 'application/json';
  const res = await fetch(`${baseUrl}${path}`, {
    method,
    headers,
    body: opts.raw ?? (body === undefined ? undefined : JSON.stringify(body)),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null, headers: res.headers };
};

/** `httpCall`'s arguments after the base URL, for a test's own `call(running, ...)` shorthand. */
export type HttpCallArgs = Parameters<typeof httpCall> extends [string, ...infer Rest] ? Rest : never;
