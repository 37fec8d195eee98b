import { createHmac, timingSafeEqual } from 'node:crypto';

// The signature every delivery carries: `cx-signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, t + "." + body)>`.
// The timestamp is signed with the body so a receiver can refuse a captured request replayed later (we suggest a
// 5-minute window); during a secret rotation the receiver may try both secrets.

export const SIGNATURE_HEADER = 'cx-signature';
export const DEFAULT_TOLERANCE_S = 300;

export const signatureOf = (secret: string, unixSeconds: number, rawBody: string): string =>
  createHmac('sha256', secret).update(`${unixSeconds}.${rawBody}`, 'utf8').digest('hex');

export const signatureHeader = (secret: string, unixSeconds: number, rawBody: string): string =>
  `t=${unixSeconds},v1=${signatureOf(secret, unixSeconds, rawBody)}`;

export type Verification = { ok: true; timestamp: number } | { ok: false; reason: 'MALFORMED' | 'STALE' | 'MISMATCH' };

/** What a receiver does; also the reference our tests use. */
export const verifySignature = (
  header: string,
  secret: string,
  rawBody: string,
  nowUnixSeconds: number,
  toleranceS = DEFAULT_TOLERANCE_S,
): Verification => {
  const parts = new Map<string, string[]>();
  for (const item of header.split(',')) {
    const eq = item.indexOf('=');
    if (eq <= 0) return { ok: false, reason: 'MALFORMED' };
    const k = item.slice(0, eq).trim();
    parts.set(k, [...(parts.get(k) ?? []), item.slice(eq + 1).trim()]);
  }
  const t = parts.get('t')?.[0];
  const sigs = parts.get('v1') ?? [];
  if (t === undefined || !/^\d{1,12}$/.test(t) || sigs.length === 0) return { ok: false, reason: 'MALFORMED' };
  const ts = Number(t);
  if (Math.abs(nowUnixSeconds - ts) > toleranceS) return { ok: false, reason: 'STALE' };
  const expected = Buffer.from(signatureOf(secret, ts, rawBody), 'hex');
  const match = sigs.some((s) => {
    if (!/^[0-9a-f]{64}$/.test(s)) return false;
    return timingSafeEqual(Buffer.from(s, 'hex'), expected);
  });
  return match ? { ok: true, timestamp: ts } : { ok: false, reason: 'MISMATCH' };
};
