import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { v7 as uuidv7 } from 'uuid';

// Key strings are `cx_<keyId>_<secret>`: the key id finds the record, the secret proves possession. Only the
// sha256 of the secret is stored. The secret is 32 random bytes, so a fast hash is enough: there is nothing
// to brute-force that a slow hash would protect, unlike a human-chosen password.

const SECRET_BYTES = 32;
// Key ids are UUIDs (hyphens, never underscores), so the first underscore after the key id ends it even though
// base64url secrets may themselves contain underscores.
const KEY_RE = /^cx_([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})_([A-Za-z0-9_-]{43})$/;

export const newKeyId = (): string => uuidv7();

export const newSecret = (): string => randomBytes(SECRET_BYTES).toString('base64url');

export const hashSecret = (secret: string): string => createHash('sha256').update(secret, 'utf8').digest('hex');

export const formatKey = (keyId: string, secret: string): string => `cx_${keyId}_${secret}`;

export const parseKey = (token: string): { keyId: string; secret: string } | null => {
  const m = KEY_RE.exec(token);
  return m ? { keyId: m[1] as string, secret: m[2] as string } : null;
};

/** Compares digests in constant time, so response timing says nothing about how much of a secret was right. */
export const secretMatches = (secret: string, storedHash: string): boolean => {
  const given = Buffer.from(hashSecret(secret), 'hex');
  const stored = Buffer.from(storedHash, 'hex');
  return given.length === stored.length && timingSafeEqual(given, stored);
};
