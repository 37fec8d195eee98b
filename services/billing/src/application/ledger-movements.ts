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
  transferId: string;
  /** Which of the participant's ledger accounts moved. */
  kind: ParticipantAccountKind;
  /** Signed, in minor units: credits add to a participant's balance, debits take from it. */
  amountMinor: bigint;
  /** Pending (a hold), posted, or the release of a hold (void or expiry): only posted moves the balance. */
  status: 'pending' | 'posted' | 'released';
  phase: 'single' | 'pending' | 'post' | 'void' | 'expire';
  counterparty: string;
  code: string | null;
  ref: string | null;
  pendingId: string | null;
  at: string;
  day: string;
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

export class LedgerMovements {
  private readonly byAccount = new Map<string, Movement[]>();
  private readonly pendingRecords = new Map<string, TransferRecord>();

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
    const minor = canonicalToMinor(t.amount, this.currency);
    const sides: Array<[string, string, bigint]> = [
      [accounts.debitAccount, accounts.creditAccount, -minor],
      [accounts.creditAccount, accounts.debitAccount, minor],
    ];
    for (const [key, counterparty, amountMinor] of sides) {
      const p = participantOf(key);
      if (p === null) continue;
      let list = this.byAccount.get(p.account);
      if (list === undefined) this.byAccount.set(p.account, (list = []));
      list.push({
        transferId: t.id,
        kind: p.kind,
        amountMinor,
        status,
        phase,
        counterparty,
        code: t.code ?? null,
        ref: t.ref ?? null,
        pendingId: t.pendingId ?? null,
        at,
        day: bookingDay(t, at),
      });
    }
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
