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

/** What every movement of one ledger event shares. */
interface Batch {
  readonly at: string;
  readonly currency: Currency;
}

/** Where the movements of one participant ledger account go: its participant's list, and the kind it is. */
interface Target {
  readonly movements: Movement[];
  /** The account's index in participantAccountKinds, doubled (the low bit of a movement says credit or debit). */
  readonly kindBits: number;
}

/**
 * One side of a transfer as a movement, every field derived from the transfer record when read. A ledger keeps
 * millions of them for its life, so each holds three references: the record, the kind and side packed in one small
 * integer, and what its batch shares. Fewer bytes retained and less for the collector to copy, and no amount parsed
 * or day cut until a statement asks.
 */
class SideMovement implements Movement {
  constructor(
    /** The transfer; for an expiry, the hold that expired (whose accounts moved). */
    protected readonly t: TransferRecord,
    private readonly bits: number,
    private readonly batch: Batch,
  ) {}

  get transferId(): string {
    return this.t.id;
  }
  get kind(): ParticipantAccountKind {
    return participantAccountKinds[this.bits >> 1] as ParticipantAccountKind;
  }
  private get credit(): boolean {
    return (this.bits & 1) === 1;
  }
  get amountMinor(): bigint {
    const minor = canonicalToMinor(this.t.amount, this.batch.currency);
    return this.credit ? minor : -minor;
  }
  get status(): Movement['status'] {
    // A post books the posted amount; its hold's release is implied (the hold stops counting once resolved).
    const phase = this.t.phase;
    return phase === 'pending' ? 'pending' : phase === 'void' ? 'released' : 'posted';
  }
  get phase(): Movement['phase'] {
    return this.t.phase ?? 'single';
  }
  get counterparty(): string {
    return this.credit ? this.t.debitAccount : this.t.creditAccount;
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
  get at(): string {
    return this.batch.at;
  }
  get day(): string {
    return bookingDay(this.t, this.batch.at);
  }
}

/** A hold's expiry: the hold's accounts and amount released, under the id `<hold>:expired`. */
class ExpiryMovement extends SideMovement {
  override get transferId(): string {
    return `${this.t.id}:expired`;
  }
  override get status(): Movement['status'] {
    return 'released';
  }
  override get phase(): Movement['phase'] {
    return 'expire';
  }
}

export class LedgerMovements {
  private readonly byAccount = new Map<string, Movement[]>();
  private readonly pendingRecords = new Map<string, TransferRecord>();
  /** Where each ledger account key's movements go (null: not a participant's): a ledger has few accounts. */
  private readonly targets = new Map<string, Target | null>();

  constructor(readonly currency: Currency) {}

  /** The ledger listener: folds one event. */
  readonly apply = (e: LedgerEvent): void => {
    if (e.type === 'TransfersCommitted') {
      const batch: Batch = { at: e.data.at, currency: this.currency };
      for (const t of e.data.transfers) {
        if (t.phase === 'pending') this.pendingRecords.set(t.id, t);
        else if (t.phase !== undefined) this.pendingRecords.delete(t.pendingId ?? '');
        this.side(t.debitAccount, t, 0, batch, false);
        this.side(t.creditAccount, t, 1, batch, false);
      }
    } else if (e.type === 'PendingTransfersExpired') {
      const batch: Batch = { at: e.data.at, currency: this.currency };
      for (const id of e.data.ids) {
        const p = this.pendingRecords.get(id);
        if (p === undefined) continue;
        this.pendingRecords.delete(id);
        this.side(p.debitAccount, p, 0, batch, true);
        this.side(p.creditAccount, p, 1, batch, true);
      }
    }
  };

  private side(key: string, t: TransferRecord, credit: 0 | 1, batch: Batch, expiry: boolean): void {
    let target = this.targets.get(key);
    if (target === undefined) this.targets.set(key, (target = this.targetOf(key)));
    if (target === null) return;
    const bits = target.kindBits | credit;
    target.movements.push(expiry ? new ExpiryMovement(t, bits, batch) : new SideMovement(t, bits, batch));
  }

  private targetOf(key: string): Target | null {
    const p = participantOf(key);
    if (p === null) return null;
    let movements = this.byAccount.get(p.account);
    if (movements === undefined) this.byAccount.set(p.account, (movements = []));
    return { movements, kindBits: participantAccountKinds.indexOf(p.kind) << 1 };
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
