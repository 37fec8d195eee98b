import { Inject, Injectable } from '@nestjs/common';
import { canActFor, canRead, type Principal } from '@cx/auth';
import {
  type CommandMetadata,
  EVENT_STORE,
  type EventStore,
  load,
  toNewEvents,
  withConcurrencyRetry,
} from '@cx/event-store';
import { CLOCK, type Clock, type Currency, Dec, DomainError, formatMoney, isCurrency } from '@cx/shared-kernel';
import {
  decideNote,
  decideOpenDispute,
  decideResolveDispute,
  type DisputeEvent,
  type DisputeOpened,
  type DisputeState,
  disputeStream,
  evolveDispute,
  isDisputeEvent,
  noDispute,
  type NoteEvent,
  type NoteIssued,
  type NoteKind,
  noteStream,
  type NoteTerms,
} from '../domain/correction/correction.decider';
import { resultError, BillingLedgerService } from '../interface/ledger.http.service';
import { BillingFactsService } from './billing-facts.service';
import { PeriodCloseService } from './period-close.service';
import { StatementsService } from './statements.service';
import { parsePeriod } from '../domain/settlement/periods';
import { adjustedNoteIds } from '../domain/statement/statement';
import { type StatementIssued, statementStream } from '../domain/statement/statement.events';

export interface NoteRequest {
  noteId: string;
  kind: NoteKind;
  amount: string;
  currency: string;
  reason: string;
  counterparty?: string;
}

export interface DisputeRequest {
  disputeId: string;
  allocationId: string;
  account: string;
  claimedHours: string;
  reason: string;
}

const statementNotFound = (account: string, period: string) =>
  DomainError.notFound('BILLING.STATEMENT_NOT_FOUND', `no statement for ${account} in ${period}`);
const disputeNotFound = (id: string) => DomainError.notFound('BILLING.DISPUTE_NOT_FOUND', `dispute ${id} not found`);

/**
 * Credit and debit notes against issued statements, and disputes of delivered quantities. The note's ledger
 * transfer (id `note:<noteId>`, booked in the open period) goes first, then the note's event: a retry re-submits
 * the same transfer (`exists`) and appends the event it missed, and a second body under the same id is refused by
 * the ledger as well as by the note's stream.
 */
@Injectable()
export class CorrectionsService {
  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(CLOCK) private readonly clock: Clock,
    private readonly facts: BillingFactsService,
    private readonly ledgers: BillingLedgerService,
    private readonly closes: PeriodCloseService,
    private readonly statements: StatementsService,
  ) {}

  async issueNote(
    account: string,
    period: string,
    req: NoteRequest,
    principal: Principal,
    meta: CommandMetadata,
  ): Promise<{ note: NoteIssued['data']; result: 'ok' | 'exists' }> {
    if (!canActFor(principal, account)) throw statementNotFound(account, period);
    const versions = this.facts.facts.statements.get(`${account}|${period}`) ?? [];
    const statement = versions[versions.length - 1];
    if (statement === undefined) throw statementNotFound(account, period);
    const currency = statement.summary.currency;
    if (req.currency !== currency) {
      throw new DomainError('BILLING.CURRENCY_MISMATCH', `the statement is in ${currency}`, 'unprocessable', [
        { field: 'currency', code: 'BILLING.CURRENCY_MISMATCH' },
      ]);
    }
    const counterparty = req.counterparty ?? null;
    if (counterparty !== null && this.ledgers.accountCurrency(counterparty) !== currency) {
      throw new DomainError('BILLING.COUNTERPARTY_INVALID', `no ${currency} account ${counterparty}`, 'unprocessable', [
        { field: 'counterparty', code: 'BILLING.COUNTERPARTY_INVALID' },
      ]);
    }
    return this.note(
      {
        noteId: req.noteId,
        kind: req.kind,
        account,
        statementId: statement.statementId,
        period,
        amount: req.amount,
        currency,
        reason: req.reason,
        counterparty,
        disputeId: null,
        issuedAt: this.clock.now().toISOString(),
      },
      meta,
    );
  }

  private note(
    terms: NoteTerms,
    meta: CommandMetadata,
  ): Promise<{ note: NoteIssued['data']; result: 'ok' | 'exists' }> {
    return withConcurrencyRetry(async () => {
      const stream = noteStream(terms.noteId);
      const { state, revision } = await load<NoteIssued['data'] | null, NoteEvent>(
        this.store,
        stream,
        (_s, e) => e.data,
        null,
        (t) => t === 'NoteIssued',
      );
      // The original issue time stands on a retry: it is part of the note, not of the request.
      const events = decideNote(state, state === null ? terms : { ...terms, issuedAt: state.issuedAt });
      const note = events[0]?.data ?? (state as NoteIssued['data']);
      await this.ledgers.ensureAccount(note.account, meta);
      if (note.counterparty !== null) await this.ledgers.ensureAccount(note.counterparty, meta);
      const { ledger } = await this.ledgers.movements(note.currency as Currency);
      const [r] = await ledger.submit(
        [
          {
            id: note.transferId,
            debitAccount: note.debitAccount,
            creditAccount: note.creditAccount,
            amount: formatMoney(new Dec(note.amount), note.currency),
            code: `${note.kind}_note`,
            ref: note.statementId,
          },
        ],
        meta,
      );
      const result = r?.result ?? 'id_invalid';
      if (result !== 'ok' && result !== 'exists') throw resultError(result);
      if (events.length > 0) {
        await this.store.appendToStream(stream, toNewEvents(events, meta), { expectedRevision: revision });
        await this.facts.catchUpWith(stream);
      }
      // Also on a retry: a crash between the note's event and the reissue is finished by sending the note again.
      await this.reissue(note.account, note.period, meta);
      return { note, result: events.length > 0 ? ('ok' as const) : ('exists' as const) };
    });
  }

  /**
   * Reissues the statement as a new version when a note against it is not in its latest version yet: the same
   * ledger lines and totals as the period booked them, every note as an adjustment, a version number one higher and
   * a reference to the version it supersedes. Earlier versions are never touched. Runs under the billing lock, so a
   * close and a reissue never write one statement stream at once; a reissue that finds every note in the latest
   * version (a retry, or a concurrent note's reissue) writes nothing.
   */
  private reissue(account: string, periodId: string, meta: CommandMetadata): Promise<StatementIssued['data'] | null> {
    return this.closes.exclusive(async () => {
      const period = parsePeriod(periodId);
      if (period === null) return null;
      await this.facts.catchUpWith(statementStream(account, periodId)).catch(() => undefined);
      const versions = this.statements.versions(account, periodId);
      const latest = versions[versions.length - 1];
      if (latest === undefined) return null;
      const notes = this.facts.facts.notes.get(`${account}|${periodId}`) ?? [];
      const included = adjustedNoteIds(latest.summary);
      if (notes.every((n) => included.has(n.noteId))) return null;
      const currency = latest.summary.currency;
      const { ledger, movements } = await this.ledgers.movements(currency);
      // Everything booked before the reissue is folded before it reads the ledger.
      await ledger.barrier();
      return this.statements.issue(
        {
          account,
          currency,
          period,
          movements,
          ledgerRevision: String(ledger.streamRevision),
          reason: 'correction',
          supersedes: latest.statementId,
          notes,
        },
        meta,
      );
    });
  }

  /** Notes issued against the statement (another tenant's: 404). */
  notes(account: string, period: string, principal: Principal): NoteIssued['data'][] {
    if (!canRead(principal, account)) throw statementNotFound(account, period);
    return this.facts.facts.notes.get(`${account}|${period}`) ?? [];
  }

  // -------------------------------------------------------------------------------------------- disputes

  async openDispute(
    req: DisputeRequest,
    principal: Principal,
    meta: CommandMetadata,
  ): Promise<{ dispute: DisputeOpened['data']; result: 'ok' | 'exists' }> {
    const notFound = DomainError.notFound('BILLING.ALLOCATION_NOT_FOUND', `allocation ${req.allocationId} not found`);
    if (!canActFor(principal, req.account)) throw notFound;
    const terms = this.facts.facts.allocations.get(req.allocationId)?.state.terms;
    if (terms == null || (terms.buyerAccount !== req.account && terms.providerAccount !== req.account)) throw notFound;
    const settled = this.facts.facts.lastSettlement.get(req.allocationId);
    if (settled === undefined) {
      throw new DomainError('BILLING.NOT_SETTLED', 'only a settled allocation can be disputed', 'unprocessable', [
        { field: 'allocationId', code: 'BILLING.NOT_SETTLED' },
      ]);
    }
    if (!isCurrency(terms.currency)) throw notFound;
    const opened: DisputeOpened['data'] = {
      disputeId: req.disputeId,
      allocationId: req.allocationId,
      account: req.account,
      buyerAccount: terms.buyerAccount,
      providerAccount: terms.providerAccount,
      claimedHours: req.claimedHours,
      billedHours: settled.deliveredHours,
      price: terms.price,
      currency: terms.currency,
      reason: req.reason,
      openedAt: this.clock.now().toISOString(),
    };
    return withConcurrencyRetry(async () => {
      const { state, revision } = await this.loadDispute(req.disputeId);
      const events = decideOpenDispute(state, opened);
      if (events.length > 0) {
        await this.store.appendToStream(disputeStream(req.disputeId), toNewEvents(events, meta), {
          expectedRevision: revision,
        });
      }
      return {
        dispute: events[0]?.type === 'DisputeOpened' ? events[0].data : (state.opened as DisputeOpened['data']),
        result: events.length > 0 ? ('ok' as const) : ('exists' as const),
      };
    });
  }

  async dispute(disputeId: string, principal: Principal): Promise<DisputeState> {
    const { state } = await this.loadDispute(disputeId);
    const o = state.opened;
    if (o === null || !(canRead(principal, o.buyerAccount) || canRead(principal, o.providerAccount))) {
      throw disputeNotFound(disputeId);
    }
    return state;
  }

  /**
   * Resolves a dispute (admin). In the buyer's favour: a credit note from the provider to the buyer for the hours
   * not delivered as claimed, at the traded price, against the buyer's statement of the settlement's period.
   */
  async resolveDispute(
    disputeId: string,
    req: { inFavourOf: 'buyer' | 'provider'; reason: string },
    meta: CommandMetadata,
  ): Promise<DisputeState> {
    return withConcurrencyRetry(async () => {
      const { state, revision } = await this.loadDispute(disputeId);
      const events = decideResolveDispute(state, { ...req, resolvedAt: this.clock.now().toISOString() });
      const resolved = events[0]?.type === 'DisputeResolved' ? events[0].data : null;
      const o = state.opened as DisputeOpened['data'];
      if (resolved?.creditNoteId != null) {
        const amount = formatMoney(new Dec(resolved.creditedHours).times(o.price), o.currency);
        const period = this.facts.facts.lastSettlement.get(o.allocationId)?.period ?? '';
        const versions = this.facts.facts.statements.get(`${o.buyerAccount}|${period}`) ?? [];
        const statement = versions[versions.length - 1];
        if (statement === undefined) {
          throw new DomainError(
            'BILLING.STATEMENT_NOT_ISSUED',
            `the buyer's statement for ${period} is not issued yet; close the period first`,
            'unprocessable',
            [{ field: 'disputeId', code: 'BILLING.STATEMENT_NOT_ISSUED' }],
          );
        }
        if (!new Dec(amount).isZero()) {
          await this.note(
            {
              noteId: resolved.creditNoteId,
              kind: 'credit',
              account: o.buyerAccount,
              statementId: statement.statementId,
              period,
              amount,
              currency: o.currency,
              reason: `dispute ${disputeId}: ${req.reason}`,
              counterparty: o.providerAccount,
              disputeId,
              issuedAt: resolved.resolvedAt,
            },
            meta,
          );
        }
      }
      if (events.length > 0) {
        await this.store.appendToStream(disputeStream(disputeId), toNewEvents(events, meta), {
          expectedRevision: revision,
        });
      }
      return events.reduce(evolveDispute, state);
    });
  }

  private loadDispute(disputeId: string) {
    return load<DisputeState, DisputeEvent>(
      this.store,
      disputeStream(disputeId),
      evolveDispute,
      noDispute,
      isDisputeEvent,
    );
  }
}
