import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

// Signing secrets must be recoverable (the worker signs with them), so they are kept in the endpoint's events. Every
// event is readable through the audit stream (auditors read everything), so with CX_WEBHOOKS_SECRET_KEY set a
// secret is sealed (AES-256-GCM) before it is appended, and opened only to sign. Without the key it is kept as is
// (development and tests); a secret sealed under one key cannot be opened under another.

import type { StoredSecret } from '../domain/endpoint/webhook.events';

export type { StoredSecret };

export class SecretUnavailable extends Error {
  override readonly name = 'SecretUnavailable';
}

export const parseSecretKey = (hex: string | null): Buffer | null => (hex === null ? null : Buffer.from(hex, 'hex'));

export const sealSecret = (secret: string, key: Buffer | null): StoredSecret => {
  if (key === null) return secret;
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  const data = Buffer.concat([cipher.update(secret, 'utf8'), cipher.final()]);
  return {
    sealed: 'aes-256-gcm',
    iv: iv.toString('base64url'),
    tag: cipher.getAuthTag().toString('base64url'),
    data: data.toString('base64url'),
  };
};

export const openSecret = (stored: StoredSecret, key: Buffer | null): string => {
  if (typeof stored === 'string') return stored;
  if (key === null) throw new SecretUnavailable('the signing secret is sealed and CX_WEBHOOKS_SECRET_KEY is not set');
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(stored.iv, 'base64url'));
    decipher.setAuthTag(Buffer.from(stored.tag, 'base64url'));
    return Buffer.concat([decipher.update(Buffer.from(stored.data, 'base64url')), decipher.final()]).toString('utf8');
  } catch (e) {
    throw new SecretUnavailable('the signing secret cannot be opened with CX_WEBHOOKS_SECRET_KEY (was it changed?)', {
      cause: e,
    });
  }
};
