import { assert, assertNever, type Currency, DomainError, isCurrency, isSafeId, minorUnits } from '@cx/shared-kernel';
import { canonicalToMinor, formatAmount, parseAmount } from './ledger.amounts';
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
  readonly transfers: Map<string, TransferRecord>;
  readonly pendings: Map<string, Pending>;
  /** Min-heap of [expiresAtMs, id] for pending transfers with a timeout; resolved ones are dropped lazily. */
  readonly expiries: Array<[number, string]>;
}

export const initialLedger = (currency: Currency): LedgerState => ({
  currency,
  atMs: 0,
  accounts: new Map(),
  creditLines: new Map(),
  transfers: new Map(),
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

const heapPush = (heap: Array<[number, string]>, item: [number, string]): void => {
  heap.push(item);
  let i = heap.length - 1;
  while (i > 0) {
    const parent = (i - 1) >> 1;
    if ((heap[parent] as [number, string])[0] <= item[0]) break;
    heap[i] = heap[parent] as [number, string];
    i = parent;
  }
  heap[i] = item;
};

const heapPop = (heap: Array<[number, string]>): void => {
  const last = heap.pop();
  if (last === undefined || heap.length === 0) return;
  let i = 0;
  for (;;) {
    const l = 2 * i + 1;
    if (l >= heap.length) break;
    const r = l + 1;
    const c = r < heap.length && (heap[r] as [number, string])[0] < (heap[l] as [number, string])[0] ? r : l;
    if ((heap[c] as [number, string])[0] >= last[0]) break;
    heap[i] = heap[c] as [number, string];
    i = c;
  }
  heap[i] = last;
};

/** Drops resolved pending transfers from the top of the expiry heap, so its top is always one still pending. */
const pruneExpiries = (state: LedgerState): void => {
  const heap = state.expiries;
  while (heap.length > 0 && state.pendings.get((heap[0] as [number, string])[1])?.status !== 'pending') heapPop(heap);
};

const evolveTransfers = (state: LedgerState, data: TransfersCommitted['data']): void => {
  const at = Date.parse(data.at);
  if (at > state.atMs) state.atMs = at;
  const transfers = state.transfers;
  for (const record of data.transfers) {
    // One lookup instead of has() then set(): a set that does not grow the map found the id already recorded.
    // The message is built only when the assertion fails; building it per transfer was measurable at 1M.
    const size = transfers.size;
    transfers.set(record.id, record);
    if (transfers.size === size) assert(false, `ledger ${state.currency}: transfer ${record.id} recorded twice`);
    const amount = canonicalToMinor(record.amount, state.currency);
    const phase = record.phase ?? 'single';
    const debit = stateAccount(state, record.debitAccount);
    const credit = stateAccount(state, record.creditAccount);
    if (phase === 'single' || phase === 'pending') {
      move(debit, credit, phase, amount, 0n);
      if (phase === 'pending') {
        const expiresAtMs = record.timeoutMs === undefined ? null : at + record.timeoutMs;
        state.pendings.set(record.id, { record, amount, status: 'pending', expiresAtMs });
        if (expiresAtMs !== null) heapPush(state.expiries, [expiresAtMs, record.id]);
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
    .filter(([expiresAtMs, id]) => expiresAtMs <= atMs && state.pendings.get(id)?.status === 'pending')
    .sort((a, b) => a[0] - b[0] || (a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0))
    .map(([, id]) => id);
};

/**
 * What a batch has done so far, over the state it must not change: copies of the accounts it touched, the
 * transfers it created, the pending transfers it resolved. A linked chain records how to undo its steps.
 */
class Overlay implements DecisionEffect {
  readonly accounts = new Map<string, Account>();
  readonly transfers = new Map<string, TransferRecord>();
  readonly pendings = new Map<string, Pending>();
  undo: Array<() => void> | null = null;

  constructor(
    readonly state: LedgerState,
    readonly atMs: number,
  ) {}

  transfer(id: string): TransferRecord | undefined {
    return this.transfers.get(id) ?? this.state.transfers.get(id);
  }

  pending(id: string): Pending | undefined {
    return this.pendings.get(id) ?? this.state.pendings.get(id);
  }

  /** A pending transfer this batch may change: copied on first touch, so the state's stays as it was. */
  pendingForUpdate(id: string): Pending {
    let p = this.pendings.get(id);
    if (p === undefined) {
      const original = this.state.pendings.get(id);
      assert(original !== undefined, `pending transfer ${id} vanished`);
      p = { ...original };
      this.pendings.set(id, p);
    }
    return p;
  }

  account(key: string, resolved: { limit: Limit; participant: string | null }): Account {
    let a = this.accounts.get(key);
    if (a === undefined) {
      const original = this.state.accounts.get(key);
      a = original === undefined ? newAccount(resolved.limit, resolved.participant) : { ...original };
      this.accounts.set(key, a);
    }
    return a;
  }

  /** Remembers an account's balances before a chain step changes them. */
  saveForUndo(a: Account): void {
    if (this.undo === null) return;
    const { debitsPosted, creditsPosted, debitsPending, creditsPending } = a;
    this.undo.push(() => Object.assign(a, { debitsPosted, creditsPosted, debitsPending, creditsPending }));
  }
}

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
  const parsed = parseAmount(t.amount, currency);
  return parsed.ok && parsed.minor === canonicalToMinor(r.amount, currency);
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
  const r = { amount } as TransferRecord;
  if (t.code !== undefined) r.code = t.code;
  r.creditAccount = creditAccount;
  r.debitAccount = debitAccount;
  r.id = t.id;
  if (t.linked === true) r.linked = true;
  if (pendingId !== undefined) r.pendingId = pendingId;
  if (t.period !== undefined) r.period = t.period;
  if (phase !== 'single') r.phase = phase;
  if (t.ref !== undefined) r.ref = t.ref;
  if (phase === 'pending' && t.timeoutMs !== undefined) r.timeoutMs = t.timeoutMs;
  return r;
};

type Checked = { ok: true; record: TransferRecord } | { ok: false; code: TransferResultCode };
const fail = (code: TransferResultCode): Checked => ({ ok: false, code });

/**
 * The canonical string of a checked amount: the caller's own string when it already is one (the usual case, which
 * saves formatting a string per transfer), else the formatted minor units.
 */
const canonicalAmount = (given: string, minor: bigint, currency: Currency): string => {
  const digits = minorUnits[currency];
  const dot = given.indexOf('.');
  const canonical = digits === 0 ? dot < 0 : dot >= 0 && given.length - dot - 1 === digits;
  return canonical ? given : formatAmount(minor, currency);
};

const amountCheck = (
  amount: unknown,
  currency: Currency,
): { ok: true; minor: bigint } | { ok: false; code: TransferResultCode } => {
  const parsed = parseAmount(amount, currency);
  if (!parsed.ok)
    return { ok: false, code: parsed.reason === 'invalid' ? 'amount_invalid' : 'amount_has_too_many_decimals' };
  if (parsed.minor === 0n) return { ok: false, code: 'amount_must_not_be_zero' };
  return parsed;
};

const accountCheck = (state: LedgerState, key: unknown, side: 'debit' | 'credit'): AccountKey | TransferResultCode => {
  // An account the ledger already has was resolved when first used and cannot become invalid: skip the parsing.
  const known = typeof key === 'string' ? state.accounts.get(key) : undefined;
  if (known !== undefined) return { ok: true, limit: known.limit, participant: known.creditLineOf };
  const r = resolveKey(state, key);
  if (r.ok) return r;
  if (r.reason === 'currency_mismatch') return 'currency_mismatch';
  if (r.reason === 'not_found') return side === 'debit' ? 'debit_account_not_found' : 'credit_account_not_found';
  return side === 'debit' ? 'debit_account_invalid' : 'credit_account_invalid';
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

const checkNew = (o: Overlay, t: TransferInput, phase: 'single' | 'pending'): Checked => {
  const currency = o.state.currency;
  const debit = accountCheck(o.state, t.debitAccount, 'debit');
  if (typeof debit === 'string') return fail(debit);
  const credit = accountCheck(o.state, t.creditAccount, 'credit');
  if (typeof credit === 'string') return fail(credit);
  const amount = amountCheck(t.amount, currency);
  if (!amount.ok) return fail(amount.code);
  const d = o.account(t.debitAccount as string, debit as { limit: Limit; participant: string | null });
  const c = o.account(t.creditAccount as string, credit as { limit: Limit; participant: string | null });
  const a = amount.minor;
  // Pending amounts count against the limit: a hold is money promised, so a buyer cannot hold more than its cash
  // plus its credit line.
  if (d.limit === 'debits_must_not_exceed_credits') {
    const allowance = d.creditLineOf === null ? 0n : (o.state.creditLines.get(d.creditLineOf) ?? 0n);
    if (d.debitsPosted + d.debitsPending + a > d.creditsPosted + allowance) return fail('exceeds_credits');
  }
  if (c.limit === 'credits_must_not_exceed_debits' && c.creditsPosted + c.creditsPending + a > c.debitsPosted) {
    return fail('exceeds_debits');
  }
  o.saveForUndo(d);
  o.saveForUndo(c);
  move(d, c, phase, a, 0n);
  const record = canonicalRecord(
    t,
    t.debitAccount as string,
    t.creditAccount as string,
    canonicalAmount(t.amount as string, a, currency),
    phase,
    undefined,
  );
  if (phase === 'pending') {
    const expiresAtMs = t.timeoutMs === undefined ? null : o.atMs + t.timeoutMs;
    o.pendings.set(t.id, { record, amount: a, status: 'pending', expiresAtMs });
    if (o.undo !== null) o.undo.push(() => o.pendings.delete(t.id));
  }
  return { ok: true, record };
};

const resolvedCodes: Record<Exclude<PendingStatus, 'pending'>, TransferResultCode> = {
  posted: 'pending_transfer_already_posted',
  voided: 'pending_transfer_already_voided',
  expired: 'pending_transfer_expired',
};

const checkResolve = (o: Overlay, t: TransferInput, phase: 'post' | 'void'): Checked => {
  const currency = o.state.currency;
  if (t.debitAccount !== undefined) {
    const r = accountCheck(o.state, t.debitAccount, 'debit');
    if (typeof r === 'string') return fail(r);
  }
  if (t.creditAccount !== undefined) {
    const r = accountCheck(o.state, t.creditAccount, 'credit');
    if (typeof r === 'string') return fail(r);
  }
  let amount: bigint | null = null;
  if (phase === 'post' || t.amount !== undefined) {
    const checked = amountCheck(t.amount, currency);
    if (!checked.ok) return fail(checked.code);
    amount = checked.minor;
  }
  const pendingId = t.pendingId as string;
  const pending = o.pending(pendingId);
  if (pending === undefined) {
    return fail(o.transfer(pendingId) === undefined ? 'pending_transfer_not_found' : 'pending_transfer_not_pending');
  }
  if (pending.status !== 'pending') return fail(resolvedCodes[pending.status]);
  const p = pending.record;
  if (t.debitAccount !== undefined && t.debitAccount !== p.debitAccount) {
    return fail('pending_transfer_has_different_debit_account');
  }
  if (t.creditAccount !== undefined && t.creditAccount !== p.creditAccount) {
    return fail('pending_transfer_has_different_credit_account');
  }
  if (phase === 'post' && (amount as bigint) > pending.amount) return fail('exceeds_pending_transfer_amount');
  if (phase === 'void' && amount !== null && amount !== pending.amount) {
    return fail('pending_transfer_has_different_amount');
  }
  const posted = phase === 'post' ? (amount as bigint) : pending.amount;
  const d = o.account(p.debitAccount, { limit: null, participant: null });
  const c = o.account(p.creditAccount, { limit: null, participant: null });
  o.saveForUndo(d);
  o.saveForUndo(c);
  move(d, c, phase, posted, pending.amount);
  const updated = o.pendingForUpdate(pendingId);
  const before = updated.status;
  updated.status = phase === 'post' ? 'posted' : 'voided';
  if (o.undo !== null) o.undo.push(() => (updated.status = before));
  return {
    ok: true,
    record: canonicalRecord(t, p.debitAccount, p.creditAccount, formatAmount(posted, currency), phase, pendingId),
  };
};

/** One transfer against the overlay: its result, and what to record when it is ok. */
const checkTransfer = (o: Overlay, t: TransferInput): Checked => {
  if (typeof t !== 'object' || t === null || typeof t.id !== 'string' || !ID_RE.test(t.id)) return fail('id_invalid');
  const existing = o.transfer(t.id);
  if (existing !== undefined) {
    return fail(sameFields(t, existing, o.state.currency) ? 'exists' : 'exists_with_different_fields');
  }
  const phase = t.phase ?? 'single';
  if (!(transferPhases as readonly string[]).includes(phase)) return fail('phase_invalid');
  const refused = staticCheck(t, phase);
  if (refused !== null) return fail(refused);
  const checked = phase === 'single' || phase === 'pending' ? checkNew(o, t, phase) : checkResolve(o, t, phase);
  if (!checked.ok) return checked;
  o.transfers.set(t.id, checked.record);
  if (o.undo !== null) o.undo.push(() => o.transfers.delete(t.id));
  return checked;
};

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
      const p = o.pendingForUpdate(id);
      const d = o.account(p.record.debitAccount, { limit: null, participant: null });
      const c = o.account(p.record.creditAccount, { limit: null, participant: null });
      move(d, c, 'void', 0n, p.amount);
      p.status = 'expired';
    }
    events.push({ type: 'PendingTransfersExpired', data: { at, currency: state.currency, ids: expired } });
  }

  const committed: TransferRecord[] = [];
  const results: TransferResult[][] = [];
  for (const request of cmd.data.requests) {
    const out = new Array<TransferResult>(request.length);
    let start = 0;
    while (start < request.length) {
      let end = start;
      while (end < request.length - 1 && (request[end] as TransferInput).linked === true) end++;
      const idOf = (i: number): string => String((request[i] as TransferInput | null)?.id ?? '');
      if (end === request.length - 1 && (request[end] as TransferInput).linked === true) {
        // TigerBeetle's rule: the open end gets linked_event_chain_open and the rest of its chain fails with it.
        for (let i = start; i < end; i++) out[i] = { id: idOf(i), result: 'linked_event_failed' };
        out[end] = { id: idOf(end), result: 'linked_event_chain_open' };
        break;
      }
      if (start === end) {
        const checked = checkTransfer(o, request[start] as TransferInput);
        out[start] = { id: idOf(start), result: checked.ok ? 'ok' : checked.code };
        if (checked.ok) committed.push(checked.record);
      } else {
        decideChain(o, request, start, end, out, committed, idOf);
      }
      start = end + 1;
    }
    results.push(out);
  }
  if (committed.length > 0) {
    // Members in canonical order, like the records (see canonicalRecord).
    events.push({ type: 'TransfersCommitted', data: { at, currency: state.currency, transfers: committed } });
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
  // looked at. New accounts are rare, so the recorded transfers are scanned only when there are any.
  let fresh: Set<string> | null = null;
  for (const [key, account] of o.accounts) {
    if (state.accounts.has(key)) state.accounts.set(key, account);
    else (fresh ??= new Set()).add(key);
  }
  if (fresh !== null) {
    for (const e of decision.events) {
      if (e.type !== 'TransfersCommitted') continue;
      for (const r of e.data.transfers) {
        for (const key of [r.debitAccount, r.creditAccount]) {
          if (fresh.delete(key)) state.accounts.set(key, o.accounts.get(key) as Account);
        }
      }
    }
  }
  for (const [id, record] of o.transfers) state.transfers.set(id, record);
  for (const [id, pending] of o.pendings) {
    const known = state.pendings.has(id);
    state.pendings.set(id, pending);
    // A hold resolved in the same batch never needs expiring (evolve pushes it and drops it lazily).
    if (!known && pending.expiresAtMs !== null && pending.status === 'pending') {
      heapPush(state.expiries, [pending.expiresAtMs, id]);
    }
  }
  if (o.atMs > state.atMs) state.atMs = o.atMs;
  pruneExpiries(state);
};

const decideChain = (
  o: Overlay,
  request: TransferInput[],
  start: number,
  end: number,
  out: TransferResult[],
  committed: TransferRecord[],
  idOf: (i: number) => string,
): void => {
  o.undo = [];
  const records: TransferRecord[] = [];
  let failedAt = -1;
  let failCode: TransferResultCode = 'ok';
  let exists = 0;
  for (let i = start; i <= end; i++) {
    const checked = checkTransfer(o, request[i] as TransferInput);
    if (checked.ok) {
      records.push(checked.record);
      continue;
    }
    // A whole chain sent again answers `exists` for every transfer, so a redelivered chain reads as a success.
    if (checked.code === 'exists') {
      exists++;
      if (records.length === 0) continue;
    }
    failedAt = i;
    failCode = checked.code;
    break;
  }
  if (failedAt < 0 && exists > 0 && records.length > 0) {
    // Part of this chain is already recorded and part is new: it is not the chain that was committed.
    failedAt = start;
    failCode = 'exists';
  }
  if (failedAt < 0 && exists === end - start + 1) {
    for (let i = start; i <= end; i++) out[i] = { id: idOf(i), result: 'exists' };
  } else if (failedAt < 0) {
    for (let i = start; i <= end; i++) out[i] = { id: idOf(i), result: 'ok' };
    for (const r of records) committed.push(r);
  } else {
    const undo = o.undo;
    for (let i = undo.length - 1; i >= 0; i--) (undo[i] as () => void)();
    for (let i = start; i <= end; i++)
      out[i] = { id: idOf(i), result: i === failedAt ? failCode : 'linked_event_failed' };
  }
  o.undo = null;
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
