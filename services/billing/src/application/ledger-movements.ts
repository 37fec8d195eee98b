import type { Currency } from '@cx/shared-kernel';
import { canonicalToMinor } from '../domain/ledger/ledger.amounts';
import type { CashMovement } from '../domain/statement/statement';
import {
  bookingDay,
  type LedgerEvent,
  type ParticipantAccountKind,
  participantAccountKinds,
  type TransferRecord,
} from '../domain/ledger/ledger.events';

// A read model of the ledger per participant account: every movement of its accounts, in ledger order, with the
// day a statement books it in. Statements and `GET /v1/ledger/transfers` read it; it is folded from the ledger's
// events (replayed at open, then live), so it is exactly the ledger's, never a second bookkeeping.

export interface Movement {
  readonly transferId: string;
  /** Which of the participant's ledger accounts moved. */
  readonly kind: ParticipantAccountKind;
  /** Signed, in minor units: credits add to a participant's balance, debits take from it. */
  readonly amountMinor: bigint;
  /** Pending (a hold), posted, or the release of a hold (void or expiry): only posted moves the balance. */
  readonly status: 'pending' | 'posted' | 'released';
  readonly phase: 'single' | 'pending' | 'post' | 'void' | 'expire';
  readonly counterparty: string;
  readonly code: string | null;
  readonly ref: string | null;
  readonly pendingId: string | null;
  readonly at: string;
  readonly day: string;
}

const KINDS = new Set<string>(participantAccountKinds);

/** The posted cash movements among an account's movements, as a statement reads them. */
export function* postedCash(movements: Iterable<Movement>): Generator<CashMovement> {
  for (const m of movements) {
    if (m.kind !== 'cash' || m.status !== 'posted') continue;
    yield { transferId: m.transferId, amountMinor: m.amountMinor, code: m.code, ref: m.ref, day: m.day };
  }
}

/** `acct:kind` of a participant account, or null for the exchange's and the world's accounts. */
const participantOf = (key: string): { account: string; kind: ParticipantAccountKind } | null => {
  const colon = key.lastIndexOf(':');
  const owner = key.slice(0, colon);
  const kind = key.slice(colon + 1);
  if (owner === 'exchange' || owner === 'world' || !KINDS.has(kind)) return null;
  return { account: owner, kind: kind as ParticipantAccountKind };
};

/**
 * One side of a transfer as a movement, its fields derived from the transfer record when read. A ledger keeps
 * millions of them for its life, so each holds five references instead of eleven fields: fewer bytes retained and
 * less for the collector to copy, and no amount parsed or day cut until a statement asks.
 */
class SideMovement implements Movement {
  constructor(
    private readonly t: TransferRecord,
    /** The record whose accounts moved: the transfer's own, or for an expiry the expired hold's. */
    private readonly accounts: TransferRecord,
    readonly kind: ParticipantAccountKind,
    private readonly credit: boolean,
    readonly status: Movement['status'],
    readonly phase: Movement['phase'],
    readonly at: string,
    private readonly currency: Currency,
  ) {}

  get transferId(): string {
    return this.t.id;
  }
  get amountMinor(): bigint {
    const minor = canonicalToMinor(this.t.amount, this.currency);
    return this.credit ? minor : -minor;
  }
  get counterparty(): string {
    return this.credit ? this.accounts.debitAccount : this.accounts.creditAccount;
  }
  get code(): string | null {
    return this.t.code ?? null;
  }
  get ref(): string | null {
    return this.t.ref ?? null;
  }
  get pendingId(): string | null {
    return this.t.pendingId ?? null;
  }
  get day(): string {
    return bookingDay(this.t, this.at);
  }
}

export class LedgerMovements {
  private readonly byAccount = new Map<string, Movement[]>();
  private readonly pendingRecords = new Map<string, TransferRecord>();
  /** participantOf per ledger account key: a ledger has few accounts and moves them millions of times. */
  private readonly owners = new Map<string, { account: string; kind: ParticipantAccountKind } | null>();

  constructor(readonly currency: Currency) {}

  /** The ledger listener: folds one event. */
  readonly apply = (e: LedgerEvent): void => {
    if (e.type === 'TransfersCommitted') {
      for (const t of e.data.transfers) this.record(t, e.data.at);
    } else if (e.type === 'PendingTransfersExpired') {
      for (const id of e.data.ids) {
        const p = this.pendingRecords.get(id);
        if (p === undefined) continue;
        this.pendingRecords.delete(id);
        this.push(p, { ...p, id: `${id}:expired` }, e.data.at, 'released', 'expire');
      }
    }
  };

  private record(t: TransferRecord, at: string): void {
    const phase = t.phase ?? 'single';
    if (phase === 'pending') {
      this.pendingRecords.set(t.id, t);
      this.push(t, t, at, 'pending', 'pending');
      return;
    }
    if (phase === 'post' || phase === 'void') this.pendingRecords.delete(t.pendingId ?? '');
    // A post books the posted amount; its hold's release is implied (the hold stops counting once resolved).
    this.push(t, t, at, phase === 'void' ? 'released' : 'posted', phase);
  }

  private push(
    accounts: TransferRecord,
    t: TransferRecord,
    at: string,
    status: Movement['status'],
    phase: Movement['phase'],
  ): void {
    this.side(accounts.debitAccount, accounts, t, false, at, status, phase);
    this.side(accounts.creditAccount, accounts, t, true, at, status, phase);
  }

  private side(
    key: string,
    accounts: TransferRecord,
    t: TransferRecord,
    credit: boolean,
    at: string,
    status: Movement['status'],
    phase: Movement['phase'],
  ): void {
    let p = this.owners.get(key);
    if (p === undefined) this.owners.set(key, (p = participantOf(key)));
    if (p === null) return;
    let list = this.byAccount.get(p.account);
    if (list === undefined) this.byAccount.set(p.account, (list = []));
    list.push(new SideMovement(t, accounts, p.kind, credit, status, phase, at, this.currency));
  }

  /** Every movement of the participant account's ledger accounts, in ledger order (a live view: do not mutate). */
  of(account: string): readonly Movement[] {
    return this.byAccount.get(account) ?? [];
  }

  /** Participant accounts with any movement. */
  accounts(): string[] {
    return [...this.byAccount.keys()];
  }
}
