// Proves the sealing of signing secrets: sealed and opened with one key; the stored form does not contain the
// secret; another key, a tampered box or a missing key cannot open it; without a key the secret is kept as is.
import { randomBytes } from 'node:crypto';
import { openSecret, sealSecret, SecretUnavailable } from './secret-box';

describe('secret box', () => {
  const key = randomBytes(32);
  const secret = 'whsec_abcdefghijklmnopqrstuvwxyz0123456789';

  it('seals and opens with the same key, and the sealed form does not show the secret', () => {
    const stored = sealSecret(secret, key);
    expect(JSON.stringify(stored)).not.toContain(secret);
    expect(JSON.stringify(stored)).not.toContain('whsec_');
    expect(openSecret(stored, key)).toBe(secret);
    // A fresh IV every time.
    expect(JSON.stringify(sealSecret(secret, key))).not.toBe(JSON.stringify(stored));
  });

  it('refuses another key, a tampered box, or no key', () => {
    const stored = sealSecret(secret, key);
    expect(() => openSecret(stored, randomBytes(32))).toThrow(SecretUnavailable);
    expect(() => openSecret({ ...(stored as object), data: 'AAAA' } as never, key)).toThrow(SecretUnavailable);
    expect(() => openSecret(stored, null)).toThrow(SecretUnavailable);
  });

  it('keeps the secret as is without a key, and opens a plain one under any key', () => {
    expect(sealSecret(secret, null)).toBe(secret);
    expect(openSecret(secret, key)).toBe(secret);
  });
});
