import type { Position } from '@cx/event-store';
import {
  type Account,
  type AccountState,
  type AmendAccount,
  decide,
  evolve,
  noAccount,
  type OpenAccount,
} from '../domain/account/account.decider';
import { type AccountEvent, accountStream } from '../domain/account/account.events';
import { load, toNewEvents, withConcurrencyRetry } from '@cx/event-store';
import type { CommandMetadata, IdentityDeps } from './ports';

// One handler per command: load the account's stream, decide, append at the revision read.

const isAccountEvent = (type: string): boolean => type === 'AccountOpened' || type === 'AccountAmended';

export interface AccountResult {
  account: AccountState;
  /** Where the write landed in $all (null when nothing changed), so a reader can wait until it has seen it. */
  position: Position | null;
}

const run = async (
  deps: IdentityDeps,
  accountId: string,
  meta: CommandMetadata,
  command: (now: Date) => OpenAccount | AmendAccount,
) =>
  withConcurrencyRetry(async (): Promise<AccountResult> => {
    const stream = accountStream(accountId);
    const { state, revision } = await load<Account, AccountEvent>(
      deps.store,
      stream,
      evolve,
      noAccount,
      isAccountEvent,
    );
    const events = decide(command(deps.clock.now()), state);
    const after = events.reduce(evolve, state);
    if (after === null) throw new TypeError(`account ${accountId} has no state after ${events.length} events`);
    if (events.length === 0) return { account: after, position: null };
    const result = await deps.store.appendToStream(stream, toNewEvents(events, meta), { expectedRevision: revision });
    return { account: after, position: result.position };
  });

export const openAccount = (
  deps: IdentityDeps,
  data: OpenAccount['data'],
  meta: CommandMetadata,
): Promise<AccountResult> =>
  run(deps, data.accountId, meta, (now) => ({ type: 'OpenAccount', data, metadata: { now } }));

export const amendAccount = (
  deps: IdentityDeps,
  data: AmendAccount['data'],
  meta: CommandMetadata,
): Promise<AccountResult> =>
  run(deps, data.accountId, meta, (now) => ({ type: 'AmendAccount', data, metadata: { now } }));
