// Proves the key string format round-trips and that only the right secret matches its stored hash.
import fc from 'fast-check';
import { formatKey, hashSecret, newKeyId, newSecret, parseKey, secretMatches } from './api-key-secret';

describe('API key strings', () => {
  it('parses what it formats, even when the secret contains underscores', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), (bytes) => {
        const keyId = newKeyId();
        const secret = Buffer.from(bytes).toString('base64url');
        expect(parseKey(formatKey(keyId, secret))).toEqual({ keyId, secret });
      }),
    );
    const keyId = newKeyId();
    const secret = `${'_'.repeat(20)}${'a'.repeat(23)}`;
    expect(parseKey(formatKey(keyId, secret))).toEqual({ keyId, secret });
  });

  it.each([
    ['empty', ''],
    ['no prefix', `${newKeyId()}_${'a'.repeat(43)}`],
    ['a short secret', `cx_${newKeyId()}_${'a'.repeat(42)}`],
    ['a long secret', `cx_${newKeyId()}_${'a'.repeat(44)}`],
    ['a secret outside base64url', `cx_${newKeyId()}_${'a'.repeat(42)}=`],
    ['a key id that is not a UUID', `cx_admin_${'a'.repeat(43)}`],
  ])('refuses %s', (_what, token) => {
    expect(parseKey(token)).toBeNull();
  });

  it('matches only the secret whose hash is stored', () => {
    const secret = newSecret();
    expect(secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(hashSecret(secret)).toMatch(/^[0-9a-f]{64}$/);
    expect(secretMatches(secret, hashSecret(secret))).toBe(true);
    expect(secretMatches(newSecret(), hashSecret(secret))).toBe(false);
    expect(secretMatches(secret, 'not hex')).toBe(false);
  });
});
