import { type Position, WrongExpectedVersion } from '@cx/event-store';
import { isSafeId } from '@cx/shared-kernel';
import {
  type ApiKey,
  type ApiKeyState,
  decide,
  evolve,
  type IssueApiKey,
  noApiKey,
} from '../domain/api-key/api-key.decider';
import {
  type AdminKeyBootstrapped,
  type ApiKeyEvent,
  apiKeyStream,
  BOOTSTRAP_ADMIN_STREAM,
} from '../domain/api-key/api-key.events';
import { accountStream } from '../domain/account/account.events';
import { formatKey, hashSecret, newKeyId, newSecret } from './api-key-secret';
import { load, toNewEvents, withConcurrencyRetry } from '@cx/event-store';
import type { CommandMetadata, IdentityDeps } from './ports';

const isApiKeyEvent = (type: string): boolean => type === 'ApiKeyIssued' || type === 'ApiKeyRevoked';

export interface IssuedKey {
  /** The key string. Returned here once and never stored: only the hash of its secret is. */
  key: string;
  apiKey: ApiKeyState;
  position: Position;
}

export interface IssueApiKeyInput {
  role: string;
  accounts?: readonly string[];
  expiresAt?: string | null;
  label?: string;
}

/**
 * Which of the named accounts exist, read from their streams rather than from a projection: the CLI has no
 * projection, and the store is never behind.
 */
const existingAccounts = async (deps: IdentityDeps, accounts: readonly unknown[]): Promise<string[]> => {
  const ids = accounts.filter(isSafeId).slice(0, 100);
  const found = await Promise.all(
    ids.map(async (id) => ((await deps.store.streamRevision(accountStream(id))) === 'no_stream' ? null : id)),
  );
  return found.filter((id): id is string => id !== null);
};

export const issueApiKey = async (
  deps: IdentityDeps,
  input: IssueApiKeyInput,
  meta: CommandMetadata,
): Promise<IssuedKey> => {
  // A fresh id per request: a retry after a race must not reuse the id another writer may have taken.
  const keyId = newKeyId();
  const secret = newSecret();
  const accounts = input.accounts ?? [];
  const cmd: IssueApiKey = {
    type: 'IssueApiKey',
    data: {
      keyId,
      role: input.role,
      accounts,
      expiresAt: input.expiresAt ?? null,
      label: input.label ?? '',
      secretHash: hashSecret(secret),
      existingAccounts: Array.isArray(accounts) ? await existingAccounts(deps, accounts) : [],
    },
    metadata: { now: deps.clock.now() },
  };
  const stream = apiKeyStream(keyId);
  const events = decide(cmd, noApiKey);
  const result = await deps.store.appendToStream(stream, toNewEvents(events, meta), { expectedRevision: 'no_stream' });
  const apiKey = events.reduce<ApiKey>(evolve, noApiKey) as ApiKeyState;
  return { key: formatKey(keyId, secret), apiKey, position: result.position };
};

export interface RevokedKey {
  apiKey: ApiKeyState;
  position: Position;
}

export const revokeApiKey = (
  deps: IdentityDeps,
  input: { keyId: string; reason?: string },
  meta: CommandMetadata,
): Promise<RevokedKey> =>
  withConcurrencyRetry(async () => {
    const stream = apiKeyStream(input.keyId);
    const { state, revision } = isSafeId(input.keyId)
      ? await load<ApiKey, ApiKeyEvent>(deps.store, stream, evolve, noApiKey, isApiKeyEvent)
      : { state: noApiKey, revision: 'no_stream' as const };
    const events = decide(
      {
        type: 'RevokeApiKey',
        data: { keyId: input.keyId, reason: input.reason ?? '' },
        metadata: { now: deps.clock.now() },
      },
      state,
    );
    const result = await deps.store.appendToStream(stream, toNewEvents(events, meta), { expectedRevision: revision });
    return { apiKey: events.reduce(evolve, state) as ApiKeyState, position: result.position };
  });

/**
 * Issues the first admin key of an empty exchange, or nothing. Whoever creates the bootstrap stream (expected
 * revision `no_stream`) issues the key; every other process, now or later, issues none. If a process dies
 * between the two appends, no admin key exists and none is issued again: `cx keys create --role admin`
 * on the store is the recovery, because an operator should look at why the first start failed.
 */
export const bootstrapAdminKey = async (deps: IdentityDeps, meta: CommandMetadata): Promise<IssuedKey | null> => {
  const keyId = newKeyId();
  const marker: AdminKeyBootstrapped = {
    type: 'AdminKeyBootstrapped',
    data: { keyId, at: deps.clock.now().toISOString() },
  };
  try {
    await deps.store.appendToStream(BOOTSTRAP_ADMIN_STREAM, toNewEvents([marker], meta), {
      expectedRevision: 'no_stream',
    });
  } catch (e) {
    if (e instanceof WrongExpectedVersion) return null;
    throw e;
  }
  const secret = newSecret();
  const events = decide(
    {
      type: 'IssueApiKey',
      data: {
        keyId,
        role: 'admin',
        accounts: [],
        expiresAt: null,
        label: 'bootstrap admin',
        secretHash: hashSecret(secret),
        existingAccounts: [],
      },
      metadata: { now: deps.clock.now() },
    },
    noApiKey,
  );
  const result = await deps.store.appendToStream(apiKeyStream(keyId), toNewEvents(events, meta), {
    expectedRevision: 'no_stream',
  });
  return {
    key: formatKey(keyId, secret),
    apiKey: events.reduce<ApiKey>(evolve, noApiKey) as ApiKeyState,
    position: result.position,
  };
};
