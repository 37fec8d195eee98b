// Proves the delivery signature: HMAC-SHA256 over `t.body` in hex, verified by the reference receiver, refused
// when the body, secret or timestamp was changed, when older than the replay window, or when malformed.
import { createHmac } from 'node:crypto';
import { signatureHeader, verifySignature } from './signature';

const SECRET = 'whsec_test';
const BODY = '{"id":"e1","type":"trade.executed","time":"2026-03-10T08:00:00.000Z","data":{}}';
const T = 1_773_129_600;

describe('delivery signature', () => {
  it('is t=<unix>,v1=<hex hmac_sha256(secret, t + "." + body)>', () => {
    const expected = createHmac('sha256', SECRET).update(`${T}.${BODY}`).digest('hex');
    expect(signatureHeader(SECRET, T, BODY)).toBe(`t=${T},v1=${expected}`);
  });

  it('verifies within the window and refuses tampering, other secrets, replays and garbage', () => {
    const h = signatureHeader(SECRET, T, BODY);
    expect(verifySignature(h, SECRET, BODY, T + 299)).toEqual({ ok: true, timestamp: T });
    expect(verifySignature(h, SECRET, `${BODY} `, T)).toEqual({ ok: false, reason: 'MISMATCH' });
    expect(verifySignature(h, 'whsec_other', BODY, T)).toEqual({ ok: false, reason: 'MISMATCH' });
    expect(verifySignature(h.replace(`t=${T}`, `t=${T + 1}`), SECRET, BODY, T)).toEqual({
      ok: false,
      reason: 'MISMATCH',
    });
    expect(verifySignature(h, SECRET, BODY, T + 301)).toEqual({ ok: false, reason: 'STALE' });
    for (const bad of ['', 'v1=abc', `t=${T}`, 't=x,v1=00', 'nonsense']) {
      expect({ bad, r: verifySignature(bad, SECRET, BODY, T) }).toEqual({ bad, r: { ok: false, reason: 'MALFORMED' } });
    }
  });

  it('accepts either of two signatures (a receiver mid-rotation may be sent both)', () => {
    const mine = signatureHeader(SECRET, T, BODY);
    const other = signatureHeader('whsec_old', T, BODY).split(',')[1] as string;
    expect(verifySignature(`${mine},${other}`, SECRET, BODY, T).ok).toBe(true);
  });
});
