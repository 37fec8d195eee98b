import { lookup as dnsLookup } from 'node:dns';
import { request as httpRequest, type RequestOptions } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { LookupFunction } from 'node:net';
import { classifyAddress, isAllowedDestination } from '../domain/delivery/address';
import { hostOf } from '../domain/endpoint/webhook.decider';

// One outbound POST. The destination is checked on the address actually dialled (the lookup hook sees what DNS
// answered at connect time, so a name re-pointed at 127.0.0.1 after registration is still refused); redirects are
// not followed (a 3xx is a failed attempt); the whole attempt has a timeout; the answer's body is read and dropped.

export interface SendResult {
  statusCode: number | null;
  error: string | null;
  latencyMs: number;
}

export interface SendRequest {
  url: string;
  body: string;
  headers: Record<string, string>;
  timeoutMs: number;
  allowPrivate: boolean;
}

const MAX_RESPONSE_BYTES = 64 * 1024;

class RefusedDestination extends Error {
  override readonly name = 'RefusedDestination';
}

const guardedLookup =
  (allowPrivate: boolean): LookupFunction =>
  (hostname, options, callback) => {
    dnsLookup(hostname, { ...options, all: true }, (err, addresses) => {
      if (err) {
        callback(err, '', 0);
        return;
      }
      const list = addresses as unknown as { address: string; family: number }[];
      const refused = list.find((a) => !isAllowedDestination(classifyAddress(a.address), allowPrivate));
      if (refused !== undefined || list.length === 0) {
        callback(new RefusedDestination(`${hostname} resolves to a non-public address`), '', 0);
        return;
      }
      if ((options as { all?: boolean }).all) {
        (callback as unknown as (e: null, a: typeof list) => void)(null, list);
        return;
      }
      const first = list[0] as { address: string; family: number };
      callback(null, first.address, first.family);
    });
  };

export const postWebhook = (req: SendRequest): Promise<SendResult> => {
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  return new Promise((resolve) => {
    let settled = false;
    const done = (r: Omit<SendResult, 'latencyMs'>) => {
      if (settled) return;
      settled = true;
      resolve({ ...r, latencyMs: elapsed() });
    };
    let url: URL;
    try {
      url = new URL(req.url);
    } catch {
      done({ statusCode: null, error: 'invalid url' });
      return;
    }
    const host = hostOf(url);
    const literal = classifyAddress(host);
    if (
      (literal !== 'not-an-ip' && !isAllowedDestination(literal, req.allowPrivate)) ||
      (!req.allowPrivate && (host === 'localhost' || host.endsWith('.localhost')))
    ) {
      done({ statusCode: null, error: 'destination address refused' });
      return;
    }
    const options: RequestOptions = {
      method: 'POST',
      headers: { ...req.headers, 'content-length': String(Buffer.byteLength(req.body)) },
      lookup: guardedLookup(req.allowPrivate),
      // One connection per attempt: an agent's pooled socket would skip the address check.
      agent: false,
    };
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    const r = send(url, options, (res) => {
      let read = 0;
      res.on('data', (chunk: Buffer) => {
        read += chunk.length;
        if (read > MAX_RESPONSE_BYTES) res.destroy();
      });
      const finish = () => done({ statusCode: res.statusCode ?? null, error: null });
      res.on('end', finish);
      res.on('close', finish);
      res.on('error', finish);
    });
    const timer = setTimeout(() => {
      r.destroy(new Error(`timed out after ${req.timeoutMs} ms`));
    }, req.timeoutMs);
    r.on('close', () => clearTimeout(timer));
    r.on('error', (e) => {
      clearTimeout(timer);
      done({ statusCode: null, error: e instanceof RefusedDestination ? 'destination address refused' : e.message });
    });
    r.end(req.body);
  });
};

/** What a hostname resolves to now (for the check at registration); empty when it does not resolve. */
export const resolveHost = (hostname: string): Promise<string[]> =>
  new Promise((resolve) => {
    if (classifyAddress(hostname) !== 'not-an-ip') {
      resolve([hostname]);
      return;
    }
    dnsLookup(hostname, { all: true }, (err, addresses) => {
      resolve(err ? [] : addresses.map((a) => a.address));
    });
  });
