import { comparePositions, type Position, type RecordedEvent } from '@cx/event-store';
import { type AccountState, evolve as evolveAccount } from '../domain/account/account.decider';
import type { AccountEvent } from '../domain/account/account.events';
import { type ApiKeyState, evolve as evolveApiKey } from '../domain/api-key/api-key.decider';
import type { ApiKeyEvent } from '../domain/api-key/api-key.events';

// The identity read model: every account and key, in memory. It folds events with the aggregates' own
// `evolve`, so the projection and the write side can never disagree about what an event means. Delivery is
// at least once, so an event at or before the last applied position is ignored.

const ACCOUNT_EVENTS = new Set(['AccountOpened', 'AccountAmended']);
const API_KEY_EVENTS = new Set(['ApiKeyIssued', 'ApiKeyRevoked']);

export const IDENTITY_STREAM_PREFIXES = ['account-', 'apikey-'];

export class IdentityReadModel {
  private readonly accountsById = new Map<string, AccountState>();
  private readonly keysById = new Map<string, ApiKeyState>();
  private sortedAccounts: AccountState[] | null = null;
  private sortedKeys: ApiKeyState[] | null = null;
  private last: Position | null = null;

  /** The position of the last event applied, or null before any. */
  get position(): Position | null {
    return this.last;
  }

  /** Returns whether the event changed the model (false for a redelivery or an event of another kind). */
  apply(e: Pick<RecordedEvent, 'type' | 'data' | 'position'>): boolean {
    if (this.last !== null && comparePositions(e.position, this.last) <= 0) return false;
    this.last = e.position;
    if (ACCOUNT_EVENTS.has(e.type)) {
      const event = { type: e.type, data: e.data } as AccountEvent;
      const id = event.data.accountId;
      const next = evolveAccount(this.accountsById.get(id) ?? null, event);
      if (next !== null) this.accountsById.set(id, next);
      this.sortedAccounts = null;
      return true;
    }
    if (API_KEY_EVENTS.has(e.type)) {
      const event = { type: e.type, data: e.data } as ApiKeyEvent;
      const id = event.data.keyId;
      const next = evolveApiKey(this.keysById.get(id) ?? null, event);
      if (next !== null) this.keysById.set(id, next);
      this.sortedKeys = null;
      return true;
    }
    return false;
  }

  account(accountId: string): AccountState | undefined {
    return this.accountsById.get(accountId);
  }

  key(keyId: string): ApiKeyState | undefined {
    return this.keysById.get(keyId);
  }

  get keyCount(): number {
    return this.keysById.size;
  }

  /** All accounts by id, for cursor pagination. Sorted lazily: lists are read far more often than written. */
  accounts(): readonly AccountState[] {
    this.sortedAccounts ??= [...this.accountsById.values()].sort((a, b) =>
      a.accountId < b.accountId ? -1 : a.accountId > b.accountId ? 1 : 0,
    );
    return this.sortedAccounts;
  }

  keys(): readonly ApiKeyState[] {
    this.sortedKeys ??= [...this.keysById.values()].sort((a, b) =>
      a.keyId < b.keyId ? -1 : a.keyId > b.keyId ? 1 : 0,
    );
    return this.sortedKeys;
  }
}
