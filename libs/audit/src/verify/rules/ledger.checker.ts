import { type RecordedEvent, positionToString } from '@cx/event-store';
import { type Currency, isCurrency } from '@cx/shared-kernel';
import {
  type LedgerEvent,
  type LedgerState,
  type TransferRecord,
  canonicalToMinor,
  evolveLedger,
  formatAmount,
  initialLedger,
  isLedgerEvent,
  isParticipantId,
  ledgerTotals,
  participantAccountKinds,
} from '../../service-domains';
import type { Checker, Report } from '../checker';
import type { AuditRule } from './rule';

// The ledger (issue 8): replaying billing's ledger streams (`ledger-<currency>`) with billing's own pure evolve,
// every transfer is balanced and valid when it is recorded, no transfer id is recorded twice, holds are posted,
// voided or expired on time, and in the end all balances sum to zero.
//
// A transfer debits one account and credits another by one amount, so "balanced" means: one canonical, positive
// amount in the ledger's currency, two different accounts that exist in the ledger. Each transfer is checked
// against the state before it, then applied alone (evolve asserts what billing never writes; a transfer that
// fails a check is reported and left out of the replay, so one forged transfer is reported once and the rest of
// the ledger is still judged).
//
// Checks: ledger.duplicate-transfer-id, ledger.amount-invalid, ledger.same-account, ledger.unknown-account,
// ledger.not-pending (a post or void of no pending hold), ledger.pending-mismatch (other accounts than the hold),
// ledger.exceeds-pending, ledger.hold-not-expired (a hold past its timeout not expired before the next batch),
// ledger.expired-early, ledger.currency-mismatch, ledger.sum-nonzero, ledger.negative-pending, ledger.malformed.
//
// Memory: billing's own ledger state per currency (every transfer id, as billing keeps it).

const LEDGER_PREFIX = 'ledger-';
const KINDS = new Set<string>(participantAccountKinds);

interface At {
  stream: string;
  revision: string;
  position: string;
}

interface Ledger {
  state: LedgerState;
  reportedExpiries: Set<string>;
  last: At;
}

type Pending = LedgerState['pendings'] extends Map<string, infer P> ? P : never;

export class LedgerChecker implements Checker {
  readonly name = 'ledger';
  private readonly ledgers = new Map<string, Ledger>();
  transfersChecked = 0;

  onEvent(e: RecordedEvent, report: Report): void {
    if (!e.streamId.startsWith(LEDGER_PREFIX) || !isLedgerEvent(e.type)) return;
    const currency = e.streamId.slice(LEDGER_PREFIX.length);
    if (!isCurrency(currency)) return;
    const at: At = { stream: e.streamId, revision: e.revision.toString(), position: positionToString(e.position) };
    let ledger = this.ledgers.get(e.streamId);
    if (ledger === undefined) {
      ledger = { state: initialLedger(currency), reportedExpiries: new Set(), last: at };
      this.ledgers.set(e.streamId, ledger);
    }
    ledger.last = at;
    const fail = (check: string, message: string): void => report({ check, ...at, message });
    const d = e.data as Partial<LedgerEvent['data']> | null;
    if (typeof d !== 'object' || d === null) return fail('ledger.malformed', `${e.type} has no data`);
    if (d.currency !== currency) {
      return fail('ledger.currency-mismatch', `a ${String(d.currency)} event in the ${currency} ledger`);
    }
    const atMs = Date.parse(String((d as { at?: unknown }).at));
    if (Number.isNaN(atMs)) return fail('ledger.malformed', `${e.type} has no readable "at"`);
    const apply = (event: LedgerEvent): void => {
      try {
        evolveLedger(ledger.state, event);
      } catch (err) {
        fail('ledger.malformed', `cannot be replayed: ${(err as Error).message}`);
      }
    };
    switch (e.type) {
      case 'TransfersCommitted': {
        const transfers = (d as { transfers?: unknown }).transfers;
        if (!Array.isArray(transfers)) return fail('ledger.malformed', 'TransfersCommitted has no transfers');
        this.holdsDue(ledger, atMs, fail);
        for (const t of transfers as TransferRecord[]) {
          this.transfersChecked++;
          const problem = this.check(ledger.state, currency, t, atMs);
          if (problem !== null) {
            fail(problem[0], `transfer ${describeId(t)}: ${problem[1]}`);
            continue;
          }
          apply({ type: 'TransfersCommitted', data: { currency, at: new Date(atMs).toISOString(), transfers: [t] } });
        }
        break;
      }
      case 'PendingTransfersExpired': {
        const ids = (d as { ids?: unknown }).ids;
        if (!Array.isArray(ids)) return fail('ledger.malformed', 'PendingTransfersExpired has no ids');
        const ok: string[] = [];
        for (const id of ids) {
          const p = typeof id === 'string' ? ledger.state.pendings.get(id) : undefined;
          if (p === undefined || p.status !== 'pending') {
            fail('ledger.not-pending', `expires ${String(id)}, which is not a pending transfer`);
          } else if (p.expiresAtMs === null || p.expiresAtMs > atMs) {
            fail(
              'ledger.expired-early',
              `expires ${id} at ${new Date(atMs).toISOString()}, before its timeout${p.expiresAtMs === null ? ' (it has none)' : ` at ${new Date(p.expiresAtMs).toISOString()}`}`,
            );
          } else {
            ok.push(id);
          }
        }
        if (ok.length > 0) {
          apply({ type: 'PendingTransfersExpired', data: { currency, at: new Date(atMs).toISOString(), ids: ok } });
        }
        break;
      }
      case 'CreditLineSet': {
        const c = d as { participantAccountId?: unknown; creditLine?: unknown };
        if (!isParticipantId(c.participantAccountId) || !isCanonical(c.creditLine, currency, true)) {
          return fail('ledger.malformed', 'CreditLineSet names no valid participant or credit line');
        }
        apply(e as unknown as LedgerEvent);
        break;
      }
    }
  }

  finish(report: Report): void {
    for (const [stream, ledger] of this.ledgers) {
      const { posted, pending } = ledgerTotals(ledger.state);
      if (posted !== 0n || pending !== 0n) {
        report({
          check: 'ledger.sum-nonzero',
          ...ledger.last,
          message: `the balances of ${stream} sum to ${formatAmount(posted, ledger.state.currency)} posted and ${formatAmount(pending, ledger.state.currency)} pending, not zero`,
        });
      }
      for (const [key, a] of ledger.state.accounts) {
        if (a.debitsPending < 0n || a.creditsPending < 0n) {
          report({
            check: 'ledger.negative-pending',
            ...ledger.last,
            message: `${stream}: ${key} has a negative hold`,
          });
        }
      }
    }
  }

  /** Holds whose timeout passed by `atMs` must have been expired before a batch at `atMs` (billing records them first). */
  private holdsDue(ledger: Ledger, atMs: number, fail: (check: string, message: string) => void): void {
    const top = ledger.state.expiries[0];
    if (top === undefined || top[0] > atMs) return;
    for (const [expiresAtMs, id] of ledger.state.expiries) {
      if (expiresAtMs > atMs || ledger.reportedExpiries.has(id)) continue;
      if (ledger.state.pendings.get(id)?.status !== 'pending') continue;
      ledger.reportedExpiries.add(id);
      fail(
        'ledger.hold-not-expired',
        `pending transfer ${id} timed out at ${new Date(expiresAtMs).toISOString()} but was not expired before this batch at ${new Date(atMs).toISOString()}`,
      );
    }
  }

  /** Why a recorded transfer is not valid against the state before it: [check, message], or null. */
  private check(state: LedgerState, currency: Currency, t: TransferRecord, atMs: number): [string, string] | null {
    if (typeof t !== 'object' || t === null || typeof t.id !== 'string' || t.id.length === 0) {
      return ['ledger.malformed', 'not a transfer record'];
    }
    if (state.transfers.has(t.id)) return ['ledger.duplicate-transfer-id', 'this id was already recorded'];
    const phase = t.phase ?? 'single';
    if (!['single', 'pending', 'post', 'void'].includes(phase)) return ['ledger.malformed', `phase ${String(phase)}`];
    if (!isCanonical(t.amount, currency, phase === 'void')) {
      return ['ledger.amount-invalid', `amount ${String(t.amount)} is not a positive canonical ${currency} amount`];
    }
    if (t.debitAccount === t.creditAccount) return ['ledger.same-account', 'debits and credits the same account'];
    for (const key of [t.debitAccount, t.creditAccount]) {
      if (!accountExists(state, currency, key))
        return ['ledger.unknown-account', `account ${String(key)} does not exist in the ledger`];
    }
    if (phase === 'post' || phase === 'void') {
      const p: Pending | undefined = typeof t.pendingId === 'string' ? state.pendings.get(t.pendingId) : undefined;
      if (p === undefined || p.status !== 'pending') {
        return [
          'ledger.not-pending',
          `${phase}s ${String(t.pendingId)}, which is not a pending transfer (${p?.status ?? 'unknown'})`,
        ];
      }
      if (p.record.debitAccount !== t.debitAccount || p.record.creditAccount !== t.creditAccount) {
        return ['ledger.pending-mismatch', `${phase}s ${t.pendingId} between other accounts than the hold`];
      }
      if (phase === 'post' && canonicalToMinor(t.amount, currency) > p.amount) {
        return [
          'ledger.exceeds-pending',
          `posts ${t.amount}, more than the hold ${t.pendingId} of ${formatAmount(p.amount, currency)}`,
        ];
      }
      if (p.expiresAtMs !== null && p.expiresAtMs <= atMs) {
        return [
          'ledger.not-pending',
          `${phase}s ${t.pendingId}, whose timeout passed at ${new Date(p.expiresAtMs).toISOString()}`,
        ];
      }
    }
    return null;
  }
}

/** A canonical amount billing writes: exactly the currency's minor digits, positive (or zero where allowed). */
const isCanonical = (amount: unknown, currency: Currency, zeroAllowed: boolean): amount is string => {
  if (typeof amount !== 'string' || !/^\d+(\.\d+)?$/.test(amount)) return false;
  try {
    const minor = canonicalToMinor(amount, currency);
    return formatAmount(minor, currency) === amount && (zeroAllowed ? minor >= 0n : minor > 0n);
  } catch {
    return false;
  }
};

/** The account keys billing's ledger accepts: exchange and world accounts, and participants with a credit line set. */
const accountExists = (state: LedgerState, currency: Currency, key: unknown): boolean => {
  if (typeof key !== 'string') return false;
  const colon = key.indexOf(':');
  if (colon <= 0) return false;
  const owner = key.slice(0, colon);
  const kind = key.slice(colon + 1);
  if (owner === 'exchange') return kind === 'fees' || kind === 'clearing';
  if (owner === 'world') return kind === currency;
  return isParticipantId(owner) && KINDS.has(kind) && state.creditLines.has(owner);
};

const describeId = (t: unknown): string =>
  typeof t === 'object' && t !== null && typeof (t as { id?: unknown }).id === 'string'
    ? (t as { id: string }).id
    : '?';

export const ledgerRule: AuditRule = { name: 'ledger', create: () => new LedgerChecker() };
