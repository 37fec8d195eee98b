import { assert, assertNever, type Currency, DomainError, isCurrency, isSafeId, minorUnits } from '@cx/shared-kernel';
import { canonicalToMinor, formatAmount, parseAmount, parseMinor } from './ledger.amounts';
import { TransferIndex } from './ledger.transfer-index';
import {
  type CreditLineSet,
  isDay,
  type LedgerEvent,
  type PendingTransfersExpired,
  participantAccountKinds,
  type TransferPhase,
  transferPhases,
  type TransferRecord,
  type TransferResult,
  type TransferResultCode,
  type TransfersCommitted,
} from './ledger.events';

// The settlement ledger as a decider, after TigerBeetle: accounts with posted and pending debits and credits,
// transfers with idempotent ids, two-phase holds, linked chains and balance limits. A batch of transfers is decided
// as a whole and every transfer gets its own result, like TigerBeetle's create_transfers.
//
// The ledger is a hot aggregate: one instance per currency stays in memory with one writer, so `evolve` mutates the
// state it is given instead of copying it (copying a million-transfer ledger per batch would be quadratic).
// `decide` never mutates: it works on a small overlay of the accounts and transfers a batch touches.

/** Which side of an account a balance limit bounds (TigerBeetle's account flags). */
type Limit = 'debits_must_not_exceed_credits' | 'credits_must_not_exceed_debits' | null;

export interface AccountBalance {
  debitsPosted: bigint;
  creditsPosted: bigint;
  debitsPending: bigint;
  creditsPending: bigint;
}

interface Account extends AccountBalance {
  readonly limit: Limit;
  /** The participant whose credit line widens a cash account's limit; null for other accounts. */
  readonly creditLineOf: string | null;
}

type PendingStatus = 'pending' | 'posted' | 'voided' | 'expired';

interface Pending {
  record: TransferRecord;
  amount: bigint;
  status: PendingStatus;
  /** ms since the epoch; null: never expires. */
  expiresAtMs: number | null;
}

export interface LedgerState {
  readonly currency: Currency;
  /** The ledger's clock: the latest batch time seen. It never goes backwards, so expiry is monotonic. */
  atMs: number;
  readonly accounts: Map<string, Account>;
  /** Participant account id → credit line in minor units. Only participants listed here have accounts. */
  readonly creditLines: Map<string, bigint>;
  /** Every committed transfer by id: what makes ids idempotent, also after a restart (rebuilt from the stream). */
  readonly transfers: TransferIndex;
  readonly pendings: Map<string, Pending>;
  /** Min-heap of pending transfers with a timeout, by expiry; resolved ones are dropped lazily. */
  readonly expiries: Expiry[];
}

/**
 * A hold in the expiry heap: when it expires, its id, and the hold itself (the object `pendings` has under that
 * id), so that dropping resolved holds from the top reads their status without a lookup in `pendings`.
 */
type Expiry = [expiresAtMs: number, id: string, hold: Pending];

export const initialLedger = (currency: Currency): LedgerState => ({
  currency,
  atMs: 0,
  accounts: new Map(),
  creditLines: new Map(),
  transfers: new TransferIndex(),
  pendings: new Map(),
  expiries: [],
});

// ------------------------------------------------------------------------------------------------ commands

/** A transfer as a caller submits it. Amounts are decimal strings in the ledger's currency. */
export interface TransferInput {
  id: string;
  debitAccount?: string;
  creditAccount?: string;
  amount?: string;
  /** Defaults to single. */
  phase?: TransferPhase;
  pendingId?: string;
  timeoutMs?: number;
  linked?: boolean;
  code?: string;
  ref?: string;
  /** The UTC day a statement books it in (settlement names the period it settles); default: the batch's day. */
  period?: string;
}

export interface CreateTransfers {
  type: 'CreateTransfers';
  /** One array per caller request: a linked chain never spans two requests, even when they share a batch. */
  data: { requests: TransferInput[][] };
  metadata: { now: Date };
}

export interface SetCreditLine {
  type: 'SetCreditLine';
  data: { participantAccountId: string; creditLine: string };
  metadata: { now: Date };
}

export interface ExpirePendingTransfers {
  type: 'ExpirePendingTransfers';
  metadata: { now: Date };
}

export type LedgerCommand = CreateTransfers | SetCreditLine | ExpirePendingTransfers;

export interface TransfersDecision {
  events: LedgerEvent[];
  /** Parallel to the command's requests and their transfers. */
  results: TransferResult[][];
  /** What the events do to the state they were decided on, for applyDecided. */
  readonly effect: DecisionEffect;
}

/** Opaque to callers: the overlay a decision was made on. */
export interface DecisionEffect {
  readonly state: LedgerState;
}

// ------------------------------------------------------------------------------------------------ accounts

const RESERVED_PARTICIPANTS = new Set(['exchange', 'world']);
const PARTICIPANT_KINDS = new Set<string>(participantAccountKinds);
const CODE_RE = /^[a-z][a-z0-9_.-]{0,63}$/;

/** Whether `participantAccountId` may own ledger accounts: a safe id, no `:`, not a reserved prefix. */
export const isParticipantId = (id: unknown): id is string =>
  isSafeId(id) && !id.includes(':') && !RESERVED_PARTICIPANTS.has(id);

type AccountKey =
  | { ok: true; limit: Limit; participant: string | null }
  | { ok: false; reason: 'invalid' | 'currency_mismatch' | 'not_found' };

/** What an account key names, and whether this ledger has it. */
const resolveKey = (state: LedgerState, key: unknown): AccountKey => {
  if (typeof key !== 'string') return { ok: false, reason: 'invalid' };
  const colon = key.indexOf(':');
  if (colon <= 0) return { ok: false, reason: 'invalid' };
  const owner = key.slice(0, colon);
  const kind = key.slice(colon + 1);
  if (owner === 'exchange') {
    return kind === 'fees' || kind === 'clearing'
      ? { ok: true, limit: null, participant: null }
      : { ok: false, reason: 'invalid' };
  }
  if (owner === 'world') {
    if (!isCurrency(kind)) return { ok: false, reason: 'invalid' };
    // Money can leave the exchange only after it came in: the world account's credits (withdrawals) never exceed
    // its debits (deposits), which catches a withdrawal the cash account's own limit somehow let through.
    return kind === state.currency
      ? { ok: true, limit: 'credits_must_not_exceed_debits', participant: null }
      : { ok: false, reason: 'currency_mismatch' };
  }
  if (!isParticipantId(owner) || !PARTICIPANT_KINDS.has(kind)) return { ok: false, reason: 'invalid' };
  if (!state.creditLines.has(owner)) return { ok: false, reason: 'not_found' };
  // Cash may go negative only as far as the credit line; held money is real money set aside, never negative.
  if (kind === 'cash') return { ok: true, limit: 'debits_must_not_exceed_credits', participant: owner };
  if (kind === 'held') return { ok: true, limit: 'debits_must_not_exceed_credits', participant: null };
  return { ok: true, limit: null, participant: null };
};

const newAccount = (limit: Limit, creditLineOf: string | null): Account => ({
  debitsPosted: 0n,
  creditsPosted: 0n,
  debitsPending: 0n,
  creditsPending: 0n,
  limit,
  creditLineOf,
});

/** The state's account for a key this ledger has already accepted, created at zero on first use. */
const stateAccount = (state: LedgerState, key: string): Account => {
  const existing = state.accounts.get(key);
  if (existing !== undefined) return existing;
  const r = resolveKey(state, key);
  if (!r.ok)
    assert(false, `ledger ${state.currency}: a recorded transfer names account ${key}, which the ledger does not have`);
  const account = newAccount(r.limit, r.participant);
  state.accounts.set(key, account);
  return account;
};

// ------------------------------------------------------------------------------------------------ evolve

/** Moves balances for one transfer; shared by evolve (on the state) and decide (on its overlay). */
const move = (debit: AccountBalance, credit: AccountBalance, phase: TransferPhase, amount: bigint, held: bigint) => {
  switch (phase) {
    case 'single':
      debit.debitsPosted += amount;
      credit.creditsPosted += amount;
      return;
    case 'pending':
      debit.debitsPending += amount;
      credit.creditsPending += amount;
      return;
    case 'post':
      // The whole hold is released and the posted part booked, so a partial post frees the rest at once.
      debit.debitsPending -= held;
      credit.creditsPending -= held;
      debit.debitsPosted += amount;
      credit.creditsPosted += amount;
      return;
    case 'void':
      debit.debitsPending -= held;
      credit.creditsPending -= held;
      return;
    default:
      assertNever(phase);
  }
};

const heapPush = (heap: Expiry[], item: Expiry): void => {
  heap.push(item);
  let i = heap.length - 1;
  while (i > 0) {
    const parent = (i - 1) >> 1;
    if ((heap[parent] as Expiry)[0] <= item[0]) break;
    heap[i] = heap[parent] as Expiry;
    i = parent;
  }
  heap[i] = item;
};

const heapPop = (heap: Expiry[]): void => {
  const last = heap.pop();
  if (last === undefined || heap.length === 0) return;
  let i = 0;
  for (;;) {
    const l = 2 * i + 1;
    if (l >= heap.length) break;
    const r = l + 1;
    const c = r < heap.length && (heap[r] as Expiry)[0] < (heap[l] as Expiry)[0] ? r : l;
    if ((heap[c] as Expiry)[0] >= last[0]) break;
    heap[i] = heap[c] as Expiry;
    i = c;
  }
  heap[i] = last;
};

/** Drops resolved pending transfers from the top of the expiry heap, so its top is always one still pending. */
const pruneExpiries = (state: LedgerState): void => {
  const heap = state.expiries;
  while (heap.length > 0 && (heap[0] as Expiry)[2].status !== 'pending') heapPop(heap);
};

const evolveTransfers = (state: LedgerState, data: TransfersCommitted['data']): void => {
  const at = Date.parse(data.at);
  if (at > state.atMs) state.atMs = at;
  const transfers = state.transfers;
  for (const record of data.transfers) {
    // The message is built only when the assertion fails; building it per transfer was measurable at 1M.
    if (!transfers.add(record)) assert(false, `ledger ${state.currency}: transfer ${record.id} recorded twice`);
    const amount = canonicalToMinor(record.amount, state.currency);
    const phase = record.phase ?? 'single';
    const debit = stateAccount(state, record.debitAccount);
    const credit = stateAccount(state, record.creditAccount);
    if (phase === 'single' || phase === 'pending') {
      move(debit, credit, phase, amount, 0n);
      if (phase === 'pending') {
        const expiresAtMs = record.timeoutMs === undefined ? null : at + record.timeoutMs;
        const hold: Pending = { record, amount, status: 'pending', expiresAtMs };
        state.pendings.set(record.id, hold);
        if (expiresAtMs !== null) heapPush(state.expiries, [expiresAtMs, record.id, hold]);
      }
    } else {
      const pending = state.pendings.get(record.pendingId as string);
      if (pending === undefined || pending.status !== 'pending') {
        assert(false, `ledger ${state.currency}: ${record.id} resolves ${record.pendingId}, which is not pending`);
      }
      move(debit, credit, phase, amount, pending.amount);
      pending.status = phase === 'post' ? 'posted' : 'voided';
    }
  }
  pruneExpiries(state);
};

const evolveExpired = (state: LedgerState, data: PendingTransfersExpired['data']): void => {
  const at = Date.parse(data.at);
  if (at > state.atMs) state.atMs = at;
  for (const id of data.ids) {
    const pending = state.pendings.get(id);
    if (pending === undefined || pending.status !== 'pending') {
      assert(false, `ledger ${state.currency}: ${id} is not pending`);
    }
    const debit = stateAccount(state, pending.record.debitAccount);
    const credit = stateAccount(state, pending.record.creditAccount);
    move(debit, credit, 'void', 0n, pending.amount);
    pending.status = 'expired';
  }
  pruneExpiries(state);
};

/** Applies one event to the ledger in place and returns it (a hot aggregate; see the note at the top). */
export const evolve = (state: LedgerState, event: LedgerEvent): LedgerState => {
  if (event.data.currency !== state.currency) {
    assert(false, `ledger ${state.currency} given a ${event.data.currency} event`);
  }
  switch (event.type) {
    case 'TransfersCommitted':
      evolveTransfers(state, event.data);
      return state;
    case 'PendingTransfersExpired':
      evolveExpired(state, event.data);
      return state;
    case 'CreditLineSet':
      state.creditLines.set(event.data.participantAccountId, canonicalToMinor(event.data.creditLine, state.currency));
      return state;
    default:
      return assertNever(event);
  }
};

// ------------------------------------------------------------------------------------------------ decide

/** The ledger's time for a command: its clock never goes backwards, whatever the caller's clock says. */
const ledgerTime = (state: LedgerState, now: Date): number => {
  const ms = now.getTime();
  assert(Number.isFinite(ms), 'a ledger command needs a valid `now`');
  return Math.max(ms, state.atMs);
};

/** Pending transfers whose timeout has passed at `atMs`, in expiry order (ties by id), so replays agree. */
const dueExpiries = (state: LedgerState, atMs: number): string[] => {
  const top = state.expiries[0];
  if (top === undefined || top[0] > atMs) return [];
  return state.expiries
    .filter(([expiresAtMs, , hold]) => expiresAtMs <= atMs && hold.status === 'pending')
    .sort((a, b) => a[0] - b[0] || (a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0))
    .map(([, id]) => id);
};

/**
 * What a batch has done so far, over the state it must not change: copies of the accounts it touched, the
 * transfers it recorded, the holds it created, and the new status of the state's holds it resolved (kept beside
 * them, so the state's own objects stay as they were until applyDecided).
 */
class Overlay implements DecisionEffect {
  readonly accounts = new Map<string, Account>();
  readonly transfers = new Map<string, TransferRecord>();
  /** Holds created in this batch: the overlay's own objects, changed in place. */
  readonly pendings = new Map<string, Pending>();
  /** The state's holds this batch resolved (or expired), keyed by the state's object, with their new status. */
  readonly resolved = new Map<Pending, PendingStatus>();
  /** The records of the batch's TransfersCommitted, in order; a failed chain truncates its own. */
  readonly committed: TransferRecord[] = [];
  /**
   * Within a linked chain, each account a step moves and its four balances before the step, five entries per
   * account: plain values in one array reused by every chain of the batch, up to `savedTop`, so a chain that
   * commits (the usual case) allocates nothing to undo. Not truncated between chains: setting an array's length to
   * zero drops its storage, which the next chain would allocate again.
   */
  readonly saved: Array<Account | bigint> = [];
  savedTop = 0;
  inChain = false;
  /** The currency's minor digits, read once per batch instead of once per amount. */
  readonly digits: number;

  constructor(
    readonly state: LedgerState,
    readonly atMs: number,
  ) {
    this.digits = minorUnits[state.currency];
  }

  transfer(id: string): TransferRecord | undefined {
    return this.transfers.get(id) ?? this.state.transfers.get(id);
  }

  /** Remembers an account's balances before a chain step changes them. */
  save(a: Account): void {
    if (!this.inChain) return;
    const saved = this.saved;
    const top = this.savedTop;
    saved[top] = a;
    saved[top + 1] = a.debitsPosted;
    saved[top + 2] = a.creditsPosted;
    saved[top + 3] = a.debitsPending;
    saved[top + 4] = a.creditsPending;
    this.savedTop = top + 5;
  }
}

const copyAccount = (a: Account): Account => ({
  debitsPosted: a.debitsPosted,
  creditsPosted: a.creditsPosted,
  debitsPending: a.debitsPending,
  creditsPending: a.creditsPending,
  limit: a.limit,
  creditLineOf: a.creditLineOf,
});

/**
 * The overlay's account for a key a transfer names: copied from the state on first touch, or opened at zero for a
 * valid key the ledger has not used yet; else why the key is refused. Copying before the transfer's other checks
 * pass is harmless: an untouched copy equals the state's, and applyDecided opens an account only for a transfer
 * it records.
 */
const accountFor = (o: Overlay, key: unknown, side: 'debit' | 'credit'): Account | TransferResultCode => {
  if (typeof key === 'string') {
    const touched = o.accounts.get(key);
    if (touched !== undefined) return touched;
    // An account the ledger already has was resolved when first used and cannot become invalid: skip the parsing.
    const known = o.state.accounts.get(key);
    if (known !== undefined) {
      const copy = copyAccount(known);
      o.accounts.set(key, copy);
      return copy;
    }
  }
  const r = resolveKey(o.state, key);
  if (!r.ok) {
    if (r.reason === 'currency_mismatch') return 'currency_mismatch';
    if (r.reason === 'not_found') return side === 'debit' ? 'debit_account_not_found' : 'credit_account_not_found';
    return side === 'debit' ? 'debit_account_invalid' : 'credit_account_invalid';
  }
  const opened = newAccount(r.limit, r.participant);
  o.accounts.set(key as string, opened);
  return opened;
};

/** The overlay's account for one a recorded hold names, which the state or the overlay has. */
const heldAccount = (o: Overlay, key: string): Account => {
  const a = accountFor(o, key, 'debit');
  if (typeof a === 'string')
    assert(false, `ledger ${o.state.currency}: a hold names account ${key}, which is not open`);
  return a;
};

const ID_RE = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$/;

const isPosInt = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v > 0;

/** Whether a re-submitted transfer says exactly what the recorded one says. */
const sameFields = (t: TransferInput, r: TransferRecord, currency: Currency): boolean => {
  const phase = t.phase ?? 'single';
  if (phase !== (r.phase ?? 'single')) return false;
  if (t.pendingId !== r.pendingId || t.timeoutMs !== r.timeoutMs) return false;
  if ((t.linked === true) !== (r.linked === true) || t.code !== r.code || t.ref !== r.ref) return false;
  if (t.period !== r.period) return false;
  // A post or void may leave the accounts out (they are the pending transfer's, which never change), and a void its
  // amount (the whole pending amount): leaving them out says the same as spelling them.
  const resolving = phase === 'post' || phase === 'void';
  if (t.debitAccount === undefined ? !resolving : t.debitAccount !== r.debitAccount) return false;
  if (t.creditAccount === undefined ? !resolving : t.creditAccount !== r.creditAccount) return false;
  if (t.amount === undefined) return phase === 'void';
  const minor = parseMinor(t.amount, minorUnits[currency]);
  return typeof minor === 'bigint' && minor === canonicalToMinor(r.amount, currency);
};

/**
 * The record of an accepted transfer, its members set in RFC 8785 order (amount, code, creditAccount, debitAccount,
 * id, linked, pendingId, period, phase, ref, timeoutMs) and none undefined, so that the audit chain, which stores
 * data in that order, stores a ledger batch as it is instead of copying every record to sort it.
 */
const canonicalRecord = (
  t: TransferInput,
  debitAccount: string,
  creditAccount: string,
  amount: string,
  phase: TransferPhase,
  pendingId: string | undefined,
): TransferRecord => {
  // The members every record has are set by a literal, which keeps them inside the object; members added later
  // go to a separate store that grows as they come, one more allocation (and copy) per few members.
  const r: TransferRecord =
    t.code === undefined
      ? { amount, creditAccount, debitAccount, id: t.id }
      : { amount, code: t.code, creditAccount, debitAccount, id: t.id };
  if (t.linked === true) r.linked = true;
  if (pendingId !== undefined) r.pendingId = pendingId;
  if (t.period !== undefined) r.period = t.period;
  if (phase !== 'single') r.phase = phase;
  if (t.ref !== undefined) r.ref = t.ref;
  if (phase === 'pending' && t.timeoutMs !== undefined) r.timeoutMs = t.timeoutMs;
  return r;
};

/**
 * The canonical string of a checked amount: the caller's own string when it already is one (the usual case, which
 * saves formatting a string per transfer), else the formatted minor units.
 */
const canonicalAmount = (given: string, minor: bigint, o: Overlay): string => {
  const dot = given.indexOf('.');
  const canonical = o.digits === 0 ? dot < 0 : dot >= 0 && given.length - dot - 1 === o.digits;
  return canonical ? given : formatAmount(minor, o.state.currency);
};

/** A transfer's amount in minor units, or the code that refuses it. */
const amountCheck = (amount: unknown, digits: number): bigint | TransferResultCode => {
  const minor = parseMinor(amount, digits);
  if (typeof minor !== 'bigint') return minor === 'invalid' ? 'amount_invalid' : 'amount_has_too_many_decimals';
  return minor === 0n ? 'amount_must_not_be_zero' : minor;
};

/** Static checks every transfer passes before the ledger's state is consulted; order decides which code wins. */
const staticCheck = (t: TransferInput, phase: TransferPhase): TransferResultCode | null => {
  if (t.code !== undefined && !(typeof t.code === 'string' && CODE_RE.test(t.code))) return 'code_invalid';
  if (t.ref !== undefined && !isSafeId(t.ref)) return 'ref_invalid';
  if (t.period !== undefined && !isDay(t.period)) return 'period_invalid';
  if (t.linked !== undefined && typeof t.linked !== 'boolean') return 'phase_invalid';
  if (phase === 'single' || phase === 'pending') {
    if (t.pendingId !== undefined) return 'pending_id_must_be_absent';
    if (t.debitAccount !== undefined && t.creditAccount !== undefined && t.debitAccount === t.creditAccount) {
      return 'accounts_must_be_different';
    }
  } else {
    if (t.pendingId === undefined) return 'pending_id_required';
    if (!ID_RE.test(String(t.pendingId))) return 'pending_id_required';
    if (t.pendingId === t.id) return 'pending_id_must_be_different';
  }
  if (t.timeoutMs !== undefined) {
    if (phase !== 'pending') return 'timeout_reserved_for_pending_transfer';
    if (!isPosInt(t.timeoutMs)) return 'timeout_invalid';
  }
  return null;
};

// The checks below answer the record to commit, or the code that refuses the transfer: a string, so that the
// common outcome allocates nothing but the record itself.

const checkNew = (o: Overlay, t: TransferInput, phase: 'single' | 'pending'): TransferRecord | TransferResultCode => {
  const d = accountFor(o, t.debitAccount, 'debit');
  if (typeof d === 'string') return d;
  const c = accountFor(o, t.creditAccount, 'credit');
  if (typeof c === 'string') return c;
  const a = amountCheck(t.amount, o.digits);
  if (typeof a === 'string') return a;
  // Pending amounts count against the limit: a hold is money promised, so a buyer cannot hold more than its cash
  // plus its credit line.
  if (d.limit === 'debits_must_not_exceed_credits') {
    const allowance = d.creditLineOf === null ? 0n : (o.state.creditLines.get(d.creditLineOf) ?? 0n);
    if (d.debitsPosted + d.debitsPending + a > d.creditsPosted + allowance) return 'exceeds_credits';
  }
  if (c.limit === 'credits_must_not_exceed_debits' && c.creditsPosted + c.creditsPending + a > c.debitsPosted) {
    return 'exceeds_debits';
  }
  o.save(d);
  o.save(c);
  move(d, c, phase, a, 0n);
  const record = canonicalRecord(
    t,
    t.debitAccount as string,
    t.creditAccount as string,
    canonicalAmount(t.amount as string, a, o),
    phase,
    undefined,
  );
  if (phase === 'pending') {
    const expiresAtMs = t.timeoutMs === undefined ? null : o.atMs + t.timeoutMs;
    o.pendings.set(t.id, { record, amount: a, status: 'pending', expiresAtMs });
  }
  return record;
};

const resolvedCodes: Record<Exclude<PendingStatus, 'pending'>, TransferResultCode> = {
  posted: 'pending_transfer_already_posted',
  voided: 'pending_transfer_already_voided',
  expired: 'pending_transfer_expired',
};

const checkResolve = (o: Overlay, t: TransferInput, phase: 'post' | 'void'): TransferRecord | TransferResultCode => {
  if (t.debitAccount !== undefined) {
    const r = accountFor(o, t.debitAccount, 'debit');
    if (typeof r === 'string') return r;
  }
  if (t.creditAccount !== undefined) {
    const r = accountFor(o, t.creditAccount, 'credit');
    if (typeof r === 'string') return r;
  }
  let amount: bigint | null = null;
  if (phase === 'post' || t.amount !== undefined) {
    const checked = amountCheck(t.amount, o.digits);
    if (typeof checked === 'string') return checked;
    amount = checked;
  }
  const pendingId = t.pendingId as string;
  // A hold this batch created is the overlay's own; one of the state's is looked up once, its status read through
  // what this batch did to it.
  const own = o.pendings.get(pendingId);
  const pending = own ?? o.state.pendings.get(pendingId);
  if (pending === undefined) {
    return o.transfer(pendingId) === undefined ? 'pending_transfer_not_found' : 'pending_transfer_not_pending';
  }
  const status = own === undefined ? (o.resolved.get(pending) ?? pending.status) : own.status;
  if (status !== 'pending') return resolvedCodes[status];
  const p = pending.record;
  if (t.debitAccount !== undefined && t.debitAccount !== p.debitAccount) {
    return 'pending_transfer_has_different_debit_account';
  }
  if (t.creditAccount !== undefined && t.creditAccount !== p.creditAccount) {
    return 'pending_transfer_has_different_credit_account';
  }
  if (phase === 'post' && (amount as bigint) > pending.amount) return 'exceeds_pending_transfer_amount';
  if (phase === 'void' && amount !== null && amount !== pending.amount) {
    return 'pending_transfer_has_different_amount';
  }
  const posted = phase === 'post' ? (amount as bigint) : pending.amount;
  const d = heldAccount(o, p.debitAccount);
  const c = heldAccount(o, p.creditAccount);
  o.save(d);
  o.save(c);
  move(d, c, phase, posted, pending.amount);
  const resolvedAs = phase === 'post' ? 'posted' : 'voided';
  if (own !== undefined) own.status = resolvedAs;
  else o.resolved.set(pending, resolvedAs);
  const amountText =
    phase === 'post' ? canonicalAmount(t.amount as string, posted, o) : formatAmount(posted, o.state.currency);
  return canonicalRecord(t, p.debitAccount, p.creditAccount, amountText, phase, pendingId);
};

/** One transfer against the overlay: the record it commits (also recorded in the overlay), or why not. */
const checkTransfer = (o: Overlay, t: TransferInput): TransferRecord | TransferResultCode => {
  if (typeof t !== 'object' || t === null || typeof t.id !== 'string' || !ID_RE.test(t.id)) return 'id_invalid';
  const existing = o.transfer(t.id);
  if (existing !== undefined) {
    return sameFields(t, existing, o.state.currency) ? 'exists' : 'exists_with_different_fields';
  }
  const phase = t.phase ?? 'single';
  if (!(transferPhases as readonly string[]).includes(phase)) return 'phase_invalid';
  const refused = staticCheck(t, phase);
  if (refused !== null) return refused;
  const checked = phase === 'single' || phase === 'pending' ? checkNew(o, t, phase) : checkResolve(o, t, phase);
  if (typeof checked === 'string') return checked;
  o.transfers.set(t.id, checked);
  o.committed.push(checked);
  return checked;
};

const idOf = (request: TransferInput[], i: number): string => String((request[i] as TransferInput | null)?.id ?? '');

/**
 * Decides a batch of requests. Each request is split into chains (a transfer with `linked` joins the next one);
 * a chain commits whole or not at all. A request that ends inside a chain commits none of that chain.
 */
export const decideTransfers = (cmd: CreateTransfers, state: LedgerState): TransfersDecision => {
  const atMs = ledgerTime(state, cmd.metadata.now);
  const at = new Date(atMs).toISOString();
  const o = new Overlay(state, atMs);
  const events: LedgerEvent[] = [];

  // Holds whose time has passed expire before anything in this batch can post them.
  const expired = dueExpiries(state, atMs);
  if (expired.length > 0) {
    for (const id of expired) {
      const p = state.pendings.get(id) as Pending;
      move(heldAccount(o, p.record.debitAccount), heldAccount(o, p.record.creditAccount), 'void', 0n, p.amount);
      o.resolved.set(p, 'expired');
    }
    events.push({ type: 'PendingTransfersExpired', data: { at, currency: state.currency, ids: expired } });
  }

  const results: TransferResult[][] = [];
  for (const request of cmd.data.requests) {
    const out = new Array<TransferResult>(request.length);
    let start = 0;
    while (start < request.length) {
      let end = start;
      while (end < request.length - 1 && (request[end] as TransferInput).linked === true) end++;
      if (end === request.length - 1 && (request[end] as TransferInput).linked === true) {
        // TigerBeetle's rule: the open end gets linked_event_chain_open and the rest of its chain fails with it.
        for (let i = start; i < end; i++) out[i] = { id: idOf(request, i), result: 'linked_event_failed' };
        out[end] = { id: idOf(request, end), result: 'linked_event_chain_open' };
        break;
      }
      if (start === end) {
        const checked = checkTransfer(o, request[start] as TransferInput);
        out[start] = { id: idOf(request, start), result: typeof checked === 'string' ? checked : 'ok' };
      } else {
        decideChain(o, request, start, end, out);
      }
      start = end + 1;
    }
    results.push(out);
  }
  if (o.committed.length > 0) {
    // Members in canonical order, like the records (see canonicalRecord).
    events.push({ type: 'TransfersCommitted', data: { at, currency: state.currency, transfers: o.committed } });
  }
  return { events, results, effect: o };
};

/**
 * Applies a decision to the state it was decided on, leaving exactly the state that evolving its events would
 * (ledger.property.spec.ts proves it on random batches), without checking and parsing every transfer again: the
 * decision already holds every account, transfer and hold it changed. The ledger's hot path once the decision's
 * events are durable; replay uses evolve. The state must not have changed since the decision was made.
 */
export const applyDecided = (state: LedgerState, decision: TransfersDecision): void => {
  const o = decision.effect as Overlay;
  assert(o.state === state, 'a decision applies only to the state it was decided on');
  if (decision.events.length === 0) return;
  // Evolve creates an account only for a transfer it records; the overlay may also hold one a refused transfer
  // looked at. New accounts are rare, so the recorded transfers are scanned only when there are any. (The overlay's
  // maps are walked with forEach: a for-of over a map's entries allocates a pair per entry.)
  const opened: string[] = [];
  o.accounts.forEach((account, key) => {
    if (state.accounts.has(key)) state.accounts.set(key, account);
    else opened.push(key);
  });
  if (opened.length > 0) {
    const fresh = new Set(opened);
    for (const r of o.committed) {
      if (fresh.delete(r.debitAccount)) state.accounts.set(r.debitAccount, o.accounts.get(r.debitAccount) as Account);
      if (fresh.delete(r.creditAccount)) {
        state.accounts.set(r.creditAccount, o.accounts.get(r.creditAccount) as Account);
      }
    }
  }
  // The overlay's transfers are exactly the committed records.
  const transfers = state.transfers;
  const committed = o.committed;
  for (let i = 0; i < committed.length; i++) {
    const r = committed[i] as TransferRecord;
    if (!transfers.add(r)) assert(false, `ledger ${state.currency}: transfer ${r.id} decided twice`);
  }
  // Every hold the overlay created is new to the state: its id passed the existence check against the state's
  // transfers, which hold every hold's record.
  o.pendings.forEach((pending, id) => {
    state.pendings.set(id, pending);
    // A hold resolved in the same batch never needs expiring (evolve pushes it and drops it lazily).
    if (pending.expiresAtMs !== null && pending.status === 'pending') {
      heapPush(state.expiries, [pending.expiresAtMs, id, pending]);
    }
  });
  o.resolved.forEach((status, pending) => {
    pending.status = status;
  });
  if (o.atMs > state.atMs) state.atMs = o.atMs;
  pruneExpiries(state);
};

/** Takes back what a failed chain did to the overlay: balances from the saved values, records from the end. */
const undoChain = (o: Overlay, mark: number): void => {
  const saved = o.saved;
  for (let i = o.savedTop - 5; i >= 0; i -= 5) {
    const a = saved[i] as Account;
    a.debitsPosted = saved[i + 1] as bigint;
    a.creditsPosted = saved[i + 2] as bigint;
    a.debitsPending = saved[i + 3] as bigint;
    a.creditsPending = saved[i + 4] as bigint;
  }
  const committed = o.committed;
  for (let i = committed.length - 1; i >= mark; i--) {
    const r = committed[i] as TransferRecord;
    o.transfers.delete(r.id);
    if (r.phase === 'pending') {
      o.pendings.delete(r.id);
    } else if (r.phase === 'post' || r.phase === 'void') {
      // The hold was pending before this chain resolved it (nothing resolves a hold twice).
      const pendingId = r.pendingId as string;
      const own = o.pendings.get(pendingId);
      if (own !== undefined) own.status = 'pending';
      else o.resolved.delete(o.state.pendings.get(pendingId) as Pending);
    }
  }
  committed.length = mark;
};

const decideChain = (o: Overlay, request: TransferInput[], start: number, end: number, out: TransferResult[]): void => {
  const mark = o.committed.length;
  o.inChain = true;
  let failedAt = -1;
  let failCode: TransferResultCode = 'ok';
  let exists = 0;
  for (let i = start; i <= end; i++) {
    const checked = checkTransfer(o, request[i] as TransferInput);
    if (typeof checked !== 'string') continue;
    // A whole chain sent again answers `exists` for every transfer, so a redelivered chain reads as a success.
    if (checked === 'exists') {
      exists++;
      if (o.committed.length === mark) continue;
    }
    failedAt = i;
    failCode = checked;
    break;
  }
  if (failedAt < 0 && exists > 0 && o.committed.length > mark) {
    // Part of this chain is already recorded and part is new: it is not the chain that was committed.
    failedAt = start;
    failCode = 'exists';
  }
  if (failedAt < 0 && exists === end - start + 1) {
    for (let i = start; i <= end; i++) out[i] = { id: idOf(request, i), result: 'exists' };
  } else if (failedAt < 0) {
    for (let i = start; i <= end; i++) out[i] = { id: idOf(request, i), result: 'ok' };
  } else {
    undoChain(o, mark);
    for (let i = start; i <= end; i++) {
      out[i] = { id: idOf(request, i), result: i === failedAt ? failCode : 'linked_event_failed' };
    }
  }
  o.inChain = false;
  o.savedTop = 0;
};

export const decideCreditLine = (cmd: SetCreditLine, state: LedgerState): CreditLineSet[] => {
  const { participantAccountId, creditLine } = cmd.data;
  if (!isParticipantId(participantAccountId)) {
    throw DomainError.invalid(
      'BILLING.INVALID_LEDGER_ACCOUNT',
      'participantAccountId must be an account id without ":" and not "exchange" or "world"',
      'participantAccountId',
    );
  }
  const parsed = parseAmount(creditLine, state.currency);
  if (!parsed.ok) {
    throw DomainError.invalid(
      'BILLING.INVALID_CREDIT_LINE',
      `creditLine must be a non-negative ${state.currency} amount`,
      'creditLine',
    );
  }
  // Setting the line it already has records nothing, so identity events can be redelivered freely.
  if (state.creditLines.get(participantAccountId) === parsed.minor) return [];
  const at = new Date(ledgerTime(state, cmd.metadata.now)).toISOString();
  return [
    {
      type: 'CreditLineSet',
      data: {
        currency: state.currency,
        participantAccountId,
        creditLine: formatAmount(parsed.minor, state.currency),
        at,
      },
    },
  ];
};

export const decideExpiry = (cmd: ExpirePendingTransfers, state: LedgerState): PendingTransfersExpired[] => {
  const atMs = ledgerTime(state, cmd.metadata.now);
  const ids = dueExpiries(state, atMs);
  if (ids.length === 0) return [];
  return [
    { type: 'PendingTransfersExpired', data: { currency: state.currency, at: new Date(atMs).toISOString(), ids } },
  ];
};

/** Every ledger command; CreateTransfers also answers per transfer through `decideTransfers`. */
export const decide = (cmd: LedgerCommand, state: LedgerState): LedgerEvent[] => {
  switch (cmd.type) {
    case 'CreateTransfers':
      return decideTransfers(cmd, state).events;
    case 'SetCreditLine':
      return decideCreditLine(cmd, state);
    case 'ExpirePendingTransfers':
      return decideExpiry(cmd, state);
    default:
      return assertNever(cmd);
  }
};

// ------------------------------------------------------------------------------------------------ queries

const ZERO: AccountBalance = { debitsPosted: 0n, creditsPosted: 0n, debitsPending: 0n, creditsPending: 0n };

/** An account's balances in minor units (zero for an account never used). */
export const balanceOf = (state: LedgerState, key: string): AccountBalance => {
  const a = state.accounts.get(key);
  if (a === undefined) return { ...ZERO };
  const { debitsPosted, creditsPosted, debitsPending, creditsPending } = a;
  return { debitsPosted, creditsPosted, debitsPending, creditsPending };
};

export interface BalanceView {
  account: string;
  currency: Currency;
  debitsPosted: string;
  creditsPosted: string;
  debitsPending: string;
  creditsPending: string;
  /** credits − debits posted: what a cash account holds (negative: drawn on credit). */
  balance: string;
  /** For a cash account: posted balance, less holds, plus the credit line. */
  available: string | null;
}

/** An account's balances as the wire shows them: decimal strings with the currency beside them. */
export const balanceView = (state: LedgerState, key: string): BalanceView => {
  const b = balanceOf(state, key);
  const a = state.accounts.get(key);
  const line = a?.creditLineOf == null ? null : (state.creditLines.get(a.creditLineOf) ?? 0n);
  const f = (v: bigint) => formatAmount(v, state.currency);
  return {
    account: key,
    currency: state.currency,
    debitsPosted: f(b.debitsPosted),
    creditsPosted: f(b.creditsPosted),
    debitsPending: f(b.debitsPending),
    creditsPending: f(b.creditsPending),
    balance: f(b.creditsPosted - b.debitsPosted),
    available: line === null ? null : f(b.creditsPosted - b.debitsPosted - b.debitsPending + line),
  };
};

/** Sums over every account: each must be exactly zero, because every transfer debits and credits the same amount. */
export const ledgerTotals = (state: LedgerState): { posted: bigint; pending: bigint } => {
  let posted = 0n;
  let pending = 0n;
  for (const a of state.accounts.values()) {
    posted += a.creditsPosted - a.debitsPosted;
    pending += a.creditsPending - a.debitsPending;
  }
  return { posted, pending };
};

/** The audit's invariant: all balances sum to zero and no hold is negative. A broken ledger stops the process. */
export const assertLedgerBalanced = (state: LedgerState): void => {
  const { posted, pending } = ledgerTotals(state);
  assert(
    posted === 0n && pending === 0n,
    `ledger ${state.currency} does not balance: ${posted} posted, ${pending} pending`,
  );
  for (const [key, a] of state.accounts) {
    assert(a.debitsPending >= 0n && a.creditsPending >= 0n, `ledger ${state.currency}: ${key} has negative pending`);
  }
};
