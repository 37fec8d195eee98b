import {
  type KeyObject,
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  sign,
  verify,
} from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

// The Ed25519 key that signs audit checkpoints (node:crypto). The private key lives in a PEM file (PKCS#8) named
// by configuration; a process that finds none generates one, mode 0600, so a fresh install signs from its first
// checkpoint. The public key is published (GET /v1/audit/public-key, `cx keys`) as SPKI PEM; its id is the first
// 16 hex digits of sha256 over the SPKI DER, which checkpoints carry so a verifier can pick the key.

export interface SigningKey {
  privateKey: KeyObject;
  publicKey: KeyObject;
  keyId: string;
  /** SPKI PEM, what is published. */
  publicKeyPem: string;
}

export const keyIdOf = (publicKey: KeyObject): string =>
  createHash('sha256')
    .update(publicKey.export({ type: 'spki', format: 'der' }))
    .digest('hex')
    .slice(0, 16);

export const toSigningKey = (privateKey: KeyObject): SigningKey => {
  if (privateKey.asymmetricKeyType !== 'ed25519') {
    throw new TypeError(`the audit signing key must be Ed25519, not ${String(privateKey.asymmetricKeyType)}`);
  }
  const publicKey = createPublicKey(privateKey);
  return {
    privateKey,
    publicKey,
    keyId: keyIdOf(publicKey),
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  };
};

export const generateSigningKey = (): SigningKey => toSigningKey(generateKeyPairSync('ed25519').privateKey);

/** Reads the PEM at `path`, or creates it (mode 0600, never overwriting a file another process just wrote). */
export const loadOrCreateSigningKey = (path: string): SigningKey => {
  if (!existsSync(path)) {
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    const key = generateSigningKey();
    const pem = key.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    try {
      writeFileSync(path, pem, { mode: 0o600, flag: 'wx' });
      return key;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
  }
  return toSigningKey(createPrivateKey(readFileSync(path)));
};

/** Parses a published public key: SPKI PEM, or the base64 of its DER. Throws a TypeError naming the problem. */
export const parsePublicKey = (text: string): KeyObject => {
  const trimmed = text.trim();
  let key: KeyObject;
  try {
    key = trimmed.startsWith('-----BEGIN')
      ? createPublicKey(trimmed)
      : createPublicKey({ key: Buffer.from(trimmed, 'base64'), format: 'der', type: 'spki' });
  } catch (cause) {
    throw new TypeError('not a public key (expected SPKI PEM or base64 DER)', { cause });
  }
  if (key.asymmetricKeyType !== 'ed25519') {
    throw new TypeError(`not an Ed25519 public key (${String(key.asymmetricKeyType)})`);
  }
  return key;
};

export const publicKeyBase64 = (publicKey: KeyObject): string =>
  publicKey.export({ type: 'spki', format: 'der' }).toString('base64');

export const signText = (key: SigningKey, text: string): string =>
  sign(null, Buffer.from(text, 'utf8'), key.privateKey).toString('base64');

export const verifyText = (publicKey: KeyObject, text: string, signatureBase64: string): boolean => {
  try {
    return verify(null, Buffer.from(text, 'utf8'), publicKey, Buffer.from(signatureBase64, 'base64'));
  } catch {
    return false;
  }
};
