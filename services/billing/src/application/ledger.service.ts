import {
  type CommandMetadata,
  type EventStore,
  type ExpectedRevision,
  type NewEvent,
  StreamNotFound,
  WrongExpectedVersion,
} from '@cx/event-store';
import { assert, AssertionFailed, type Clock, type Currency, DomainError } from '@cx/shared-kernel';
import {
  applyDecided,
  assertLedgerBalanced,
  balanceOf,
  type AccountBalance,
  balanceView,
  type BalanceView,
  decideCreditLine,
  decideExpiry,
  decideTransfers,
  evolve,
  initialLedger,
  type LedgerState,
  ledgerTotals,
  type TransferInput,
} from '../domain/ledger/ledger.decider';
import {
  isLedgerEvent,
  type LedgerEvent,
  ledgerStream,
  participantAccount,
  type TransferRecord,
  type TransferResult,
  worldAccount,
} from '../domain/ledger/ledger.events';

// The ledger's application layer: one in-memory ledger per currency, one writer, group commit at the ledger level.
//
// Callers' submissions queue up while a batch is being written; the next batch takes every queued request (up to
// `maxBatchTransfers` transfers), decides them together and appends ONE event at the revision the ledger knows.
// That is how TigerBeetle reaches its throughput: the fsync is paid per batch, not per transfer. Results resolve
// only after the append is durable (the SQLite store commits with synchronous=FULL before it answers).
//
// Memory grows with the number of transfers: every id stays in memory (what makes idempotency survive a restart),
// about 250 bytes per transfer, 250 MB per million (the benchmark's transfers; read models such as the movements
// add their own). Rebuild replays the whole stream at start; see the benchmark
// for its speed. Snapshots, and retiring ids older than a retention window, are the way out when that is too much.

export interface LedgerServiceOptions {
  /** Most transfers one batch (one append) carries: TigerBeetle's 8,190 per request by default. */
  maxBatchTransfers?: number;
  /**
   * Read models told every event the ledger applies, replayed at open and new, in stream order (statements and
   * the transfer list fold them).
   */
  listeners?: Array<(e: LedgerEvent) => void>;
}

export interface LedgerDeps {
  store: EventStore;
  clock: Clock;
}

const DEFAULT_MAX_BATCH = 8_190;
/** A lost race with another writer is caught up and decided again, a bounded number of times. */
const MAX_ATTEMPTS = 3;
const SERVICE_ACTOR = { service: 'billing-ledger' };

type Op =
  | {
      kind: 'transfers';
      transfers: TransferInput[];
      meta: CommandMetadata | undefined;
      resolve: (r: TransferResult[]) => void;
      reject: (e: unknown) => void;
    }
  | {
      kind: 'command';
      decide: (state: LedgerState, now: Date) => LedgerEvent[];
      meta: CommandMetadata | undefined;
      resolve: (events: LedgerEvent[]) => void;
      reject: (e: unknown) => void;
    };

export class LedgerService {
  private state: LedgerState;
  private revision: ExpectedRevision = 'no_stream';
  private queue: Op[] = [];
  private running = false;
  private readonly maxBatch: number;
  private readonly stream: string;
  /** Batches written and the transfers they carried, for the benchmark and /metrics. */
  readonly stats = { batches: 0, transfers: 0, requests: 0 };
  /** Told every event the ledger applies, replayed or new, in stream order (read models such as statements). */
  private readonly listeners: Array<(e: LedgerEvent) => void> = [];

  private constructor(
    private readonly deps: LedgerDeps,
    readonly currency: Currency,
    opts: LedgerServiceOptions,
  ) {
    this.state = initialLedger(currency);
    this.stream = ledgerStream(currency);
    this.maxBatch = opts.maxBatchTransfers ?? DEFAULT_MAX_BATCH;
    this.listeners.push(...(opts.listeners ?? []));
    if (!Number.isSafeInteger(this.maxBatch) || this.maxBatch < 1) {
      throw new TypeError('maxBatchTransfers must be a positive integer');
    }
  }

  /** Rebuilds the currency's ledger from its stream; ids recorded before a restart stay idempotent. */
  static async open(deps: LedgerDeps, currency: Currency, opts: LedgerServiceOptions = {}): Promise<LedgerService> {
    const ledger = new LedgerService(deps, currency, opts);
    await ledger.catchUp();
    assertLedgerBalanced(ledger.state);
    return ledger;
  }

  private apply(e: LedgerEvent): void {
    evolve(this.state, e);
    for (const listener of this.listeners) listener(e);
  }

  /** Resolves once every request queued before it is durable and applied: a point to read a consistent ledger. */
  barrier(): Promise<void> {
    return this.command(() => []).then(() => undefined);
  }

  /** A pending transfer's amount and status (pending, posted, voided, expired), if the ledger has it. */
  pendingStatus(id: string): { amount: string; status: string } | undefined {
    const p = this.state.pendings.get(id);
    return p === undefined ? undefined : { amount: p.record.amount, status: p.status };
  }

  /** Reads whatever the stream holds past the revision this ledger knows (all of it on open). */
  private async catchUp(): Promise<void> {
    const fromRevision = this.revision === 'no_stream' ? 'start' : (this.revision as bigint) + 1n;
    try {
      for await (const recorded of this.deps.store.readStream(this.stream, { fromRevision })) {
        this.revision = recorded.revision;
        // Types this version does not know (added later) are skipped, so old code reads new streams.
        if (isLedgerEvent(recorded.type)) this.apply({ type: recorded.type, data: recorded.data } as LedgerEvent);
      }
    } catch (e) {
      if (!(e instanceof StreamNotFound)) throw e;
    }
  }

  // ---------------------------------------------------------------------------------------------- writes

  /**
   * Submits one request of transfers (decimal-string amounts in this ledger's currency) and answers one result
   * per transfer once the batch that carried them is durable. Linked chains stay within the request.
   */
  submit(transfers: TransferInput[], meta?: CommandMetadata): Promise<TransferResult[]> {
    if (!Array.isArray(transfers)) return Promise.reject(new TypeError('submit takes an array of transfers'));
    if (transfers.length === 0) return Promise.resolve([]);
    if (transfers.length > this.maxBatch) {
      return Promise.reject(
        DomainError.invalid(
          'BILLING.LEDGER_BATCH_TOO_LARGE',
          `at most ${this.maxBatch} transfers per request`,
          'transfers',
        ),
      );
    }
    return new Promise((resolve, reject) => this.enqueue({ kind: 'transfers', transfers, meta, resolve, reject }));
  }

  /** Admin's deposit: money enters from the world into the participant's cash account. */
  deposit(
    d: { id: string; participantAccountId: string; amount: string; ref?: string },
    meta?: CommandMetadata,
  ): Promise<TransferResult> {
    return this.one(
      {
        id: d.id,
        debitAccount: worldAccount(this.currency),
        creditAccount: participantAccount(d.participantAccountId, 'cash'),
        amount: d.amount,
        code: 'deposit',
        ...(d.ref === undefined ? {} : { ref: d.ref }),
      },
      meta,
    );
  }

  /** Admin's withdrawal: money leaves the participant's cash account to the world, within its balance and line. */
  withdraw(
    w: { id: string; participantAccountId: string; amount: string; ref?: string },
    meta?: CommandMetadata,
  ): Promise<TransferResult> {
    return this.one(
      {
        id: w.id,
        debitAccount: participantAccount(w.participantAccountId, 'cash'),
        creditAccount: worldAccount(this.currency),
        amount: w.amount,
        code: 'withdrawal',
        ...(w.ref === undefined ? {} : { ref: w.ref }),
      },
      meta,
    );
  }

  private async one(t: TransferInput, meta?: CommandMetadata): Promise<TransferResult> {
    const [r] = await this.submit([t], meta);
    assert(r !== undefined, 'one transfer submitted, no result');
    return r;
  }

  /** Records the participant's credit line (from identity); the participant's ledger accounts exist from then on. */
  setCreditLine(participantAccountId: string, creditLine: string, meta?: CommandMetadata): Promise<LedgerEvent[]> {
    return this.command(
      (state, now) =>
        decideCreditLine(
          { type: 'SetCreditLine', data: { participantAccountId, creditLine }, metadata: { now } },
          state,
        ),
      meta,
    );
  }

  /** Many credit lines in one append (a start-up sync from identity); one line per participant in the list. */
  setCreditLines(lines: Array<{ participantAccountId: string; creditLine: string }>, meta?: CommandMetadata) {
    const ids = new Set(lines.map((l) => l.participantAccountId));
    assert(ids.size === lines.length, 'setCreditLines takes each participant once');
    return this.command(
      (state, now) =>
        lines.flatMap((data) => decideCreditLine({ type: 'SetCreditLine', data, metadata: { now } }, state)),
      meta,
    );
  }

  /** Expires every hold whose timeout has passed (a timer calls this; batches also expire what is due first). */
  expirePending(meta?: CommandMetadata): Promise<LedgerEvent[]> {
    return this.command(
      (state, now) => decideExpiry({ type: 'ExpirePendingTransfers', metadata: { now } }, state),
      meta,
    );
  }

  private command(
    decide: (state: LedgerState, now: Date) => LedgerEvent[],
    meta?: CommandMetadata,
  ): Promise<LedgerEvent[]> {
    return new Promise((resolve, reject) => this.enqueue({ kind: 'command', decide, meta, resolve, reject }));
  }

  private enqueue(op: Op): void {
    this.queue.push(op);
    // setImmediate, not a microtask: every caller that submits in this turn of the event loop joins the batch.
    if (!this.running) {
      this.running = true;
      setImmediate(() => void this.drain());
    }
  }

  /** The single writer: takes queued work batch by batch until the queue is empty. */
  private async drain(): Promise<void> {
    try {
      while (this.queue.length > 0) {
        const head = this.queue[0] as Op;
        if (head.kind === 'command') {
          this.queue.shift();
          await this.write([head]);
          continue;
        }
        // Every queued transfer request that fits, in arrival order, up to the next command.
        let n = 0;
        let count = 0;
        while (n < this.queue.length) {
          const op = this.queue[n] as Op;
          if (op.kind !== 'transfers' || (count > 0 && count + op.transfers.length > this.maxBatch)) break;
          count += op.transfers.length;
          n++;
        }
        await this.write(this.queue.splice(0, n));
      }
    } finally {
      this.running = false;
      if (this.queue.length > 0) {
        this.running = true;
        setImmediate(() => void this.drain());
      }
    }
  }

  /** Decides, appends at the known revision, evolves, then answers: every op's promise settles here. */
  private async write(ops: Op[]): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        const now = this.deps.clock.now();
        let events: LedgerEvent[];
        let answer: () => void;
        // How the state takes the durable events: evolved one by one, or a transfers decision applied whole.
        let applyToState = (): void => {
          for (const e of events) evolve(this.state, e);
        };
        if (ops.length === 1 && (ops[0] as Op).kind === 'command') {
          const op = ops[0] as Extract<Op, { kind: 'command' }>;
          events = op.decide(this.state, now);
          answer = () => op.resolve(events);
        } else {
          const transferOps = ops as Array<Extract<Op, { kind: 'transfers' }>>;
          const decision = decideTransfers(
            { type: 'CreateTransfers', data: { requests: transferOps.map((o) => o.transfers) }, metadata: { now } },
            this.state,
          );
          events = decision.events;
          answer = () => transferOps.forEach((o, i) => o.resolve(decision.results[i] as TransferResult[]));
          applyToState = () => applyDecided(this.state, decision);
        }
        if (events.length > 0) {
          const result = await this.deps.store.appendToStream(this.stream, this.toNewEvents(events, ops), {
            expectedRevision: this.revision,
          });
          // Only now, with the batch durable, does the in-memory ledger move; a failed append leaves it as it was.
          applyToState();
          for (const e of events) for (const listener of this.listeners) listener(e);
          this.revision = result.nextExpectedRevision;
          this.stats.batches++;
          for (const e of events) if (e.type === 'TransfersCommitted') this.stats.transfers += e.data.transfers.length;
        }
        this.stats.requests += ops.length;
        answer();
        return;
      } catch (caught) {
        let e = caught;
        // A broken invariant stops the process (STYLE.md): rethrown from the writer, it is an unhandled rejection.
        if (e instanceof AssertionFailed) {
          for (const op of ops) op.reject(e);
          throw e;
        }
        if (e instanceof WrongExpectedVersion && attempt < MAX_ATTEMPTS) {
          // Another writer appended (a second process on the same store): read what it wrote and decide again,
          // so transfers it already recorded answer `exists`.
          try {
            await this.catchUp();
            continue;
          } catch (cause) {
            e = cause;
          }
        }
        for (const op of ops) op.reject(e);
        return;
      }
    }
  }

  private toNewEvents(events: LedgerEvent[], ops: Op[]): NewEvent[] {
    const callers = ops.flatMap((o) =>
      o.meta === undefined
        ? []
        : [{ correlationId: o.meta.correlationId, causationId: o.meta.causationId, actor: o.meta.actor }],
    );
    // One batch may answer many callers: the first one's ids lead, every caller is listed.
    const first = callers[0];
    const metadata = first === undefined ? { actor: SERVICE_ACTOR } : { ...first, callers };
    return events.map((e) => ({ type: e.type, data: e.data, metadata }));
  }

  // ---------------------------------------------------------------------------------------------- reads

  balance(account: string): BalanceView {
    return balanceView(this.state, account);
  }

  /** Balances in minor units, for callers that compute (statements, tests). */
  balanceMinor(account: string): AccountBalance {
    return balanceOf(this.state, account);
  }

  transfer(id: string): TransferRecord | undefined {
    return this.state.transfers.get(id);
  }

  /** Every account key the ledger has used, for the audit and for listing. */
  accounts(): string[] {
    return [...this.state.accounts.keys()];
  }

  /** Sum of all balances, posted and pending, in minor units: both zero in a sound ledger. */
  totals(): { posted: bigint; pending: bigint } {
    return ledgerTotals(this.state);
  }

  get transferCount(): number {
    return this.state.transfers.size;
  }

  /** The stream revision this ledger has applied. */
  get streamRevision(): ExpectedRevision {
    return this.revision;
  }
}
