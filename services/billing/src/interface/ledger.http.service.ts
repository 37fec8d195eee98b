import { Inject, Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { canRead, type Principal } from '@cx/auth';
import { type CommandMetadata, EVENT_STORE, type EventStore } from '@cx/event-store';
import { IdentityProjection } from '@cx/identity';
import {
  assert,
  CLOCK,
  type Clock,
  type Currency,
  Dec,
  DomainError,
  type ErrorKind,
  formatMoney,
} from '@cx/shared-kernel';
import { LedgerMovements } from '../application/ledger-movements';
import { LedgerService } from '../application/ledger.service';
import { BILLING_CONFIG, type BillingConfig } from '../config';
import { formatAmount } from '../domain/ledger/ledger.amounts';
import {
  participantAccount,
  type ParticipantAccountKind,
  participantAccountKinds,
  type TransferResult,
  type TransferResultCode,
} from '../domain/ledger/ledger.events';

export interface KindBalance {
  /** credits − debits posted. */
  posted: string;
  /** credits − debits pending: negative on cash while a hold is open, positive on held. */
  pending: string;
}

export interface AccountLedgerView {
  account: string;
  currency: Currency;
  creditLine: string;
  /** Cash posted, less open holds, plus the credit line: what a withdrawal or a new hold may take. */
  available: string;
  balances: Record<ParticipantAccountKind, KindBalance>;
}

export interface TransferRequest {
  transferId: string;
  account: string;
  amount: string;
  currency: string;
}

export interface TransferAnswer {
  transferId: string;
  account: string;
  amount: string;
  currency: Currency;
  result: 'ok' | 'exists';
}

/** A trade's hold, as the trades consumer hands it over. */
export interface TradeHold {
  tradeId: string;
  buyerAccountId: string;
  price: string;
  quantity: string;
  currency: string;
}

export type TradeHoldOutcome = TransferResultCode | 'buyer_unknown' | 'currency_mismatch' | 'invalid';

// Results that say the request itself is malformed answer 400; every other refusal is a rule of the ledger (422).
const INVALID_RESULTS: ReadonlySet<TransferResultCode> = new Set([
  'id_invalid',
  'amount_invalid',
  'amount_has_too_many_decimals',
  'amount_must_not_be_zero',
]);

const FIELD_OF: Partial<Record<TransferResultCode, string>> = {
  id_invalid: 'transferId',
  amount_invalid: 'amount',
  amount_has_too_many_decimals: 'amount',
  amount_must_not_be_zero: 'amount',
  exists_with_different_fields: 'transferId',
};

export const resultError = (r: TransferResultCode): DomainError => {
  // A client's id reused with other fields names the transfer in its code: BILLING.TRANSFER_EXISTS_WITH_….
  const code =
    r === 'exists_with_different_fields'
      ? 'BILLING.TRANSFER_EXISTS_WITH_DIFFERENT_FIELDS'
      : `BILLING.${r.toUpperCase()}`;
  const kind: ErrorKind =
    r === 'exists_with_different_fields' ? 'conflict' : INVALID_RESULTS.has(r) ? 'invalid' : 'unprocessable';
  const field = FIELD_OF[r];
  return new DomainError(code, `the ledger refused the transfer: ${r}`, kind, field ? [{ field, code }] : []);
};

const accountNotFound = (account: string): DomainError =>
  DomainError.notFound('BILLING.ACCOUNT_NOT_FOUND', `account ${account} not found`);

const HOLD_ACTOR = { service: 'billing' };

/**
 * The settlement ledger for HTTP hosts and consumers: one LedgerService per currency, opened on first use, and the
 * credit lines it needs read from the identity projection (embedded mode) and set before the account is used.
 */
@Injectable()
export class BillingLedgerService implements OnModuleInit {
  private readonly logger = new Logger('billing.ledger');
  private readonly ledgers = new Map<Currency, Promise<LedgerService>>();
  private readonly movementIndex = new Map<Currency, LedgerMovements>();

  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(BILLING_CONFIG) readonly config: BillingConfig,
    private readonly identity: IdentityProjection,
  ) {}

  async onModuleInit(): Promise<void> {
    await this.identity.ready();
  }

  /** The currency's ledger, rebuilt from its stream on first use; one instance (one writer) per currency. */
  ledger(currency: Currency): Promise<LedgerService> {
    let ledger = this.ledgers.get(currency);
    if (ledger === undefined) {
      const movements = new LedgerMovements(currency);
      ledger = LedgerService.open({ store: this.store, clock: this.clock }, currency, {
        maxBatchTransfers: this.config.maxBatchTransfers,
        listeners: [movements.apply],
      });
      this.movementIndex.set(currency, movements);
      // A failed open is not cached: the next call tries again.
      ledger.catch(() => {
        this.ledgers.delete(currency);
        this.movementIndex.delete(currency);
      });
      this.ledgers.set(currency, ledger);
    }
    return ledger;
  }

  /**
   * The account's ledger with its credit line as identity has it now. Setting the line it already has records
   * nothing, so this is cheap on every use and keeps an amended line current.
   */
  private async ledgerFor(accountId: string, meta?: CommandMetadata) {
    const account = this.identity.model.account(accountId);
    if (account === undefined) return null;
    const ledger = await this.ledger(account.currency);
    await ledger.setCreditLine(accountId, account.creditLine, meta);
    return { ledger, currency: account.currency };
  }

  /** The account's currency as identity has it, or null for an unknown account. */
  accountCurrency(accountId: string): Currency | null {
    return this.identity.model.account(accountId)?.currency ?? null;
  }

  /** Makes the participant's ledger accounts exist (with its credit line), as settlement needs before moving money. */
  async ensureAccount(accountId: string, meta?: CommandMetadata): Promise<boolean> {
    return (await this.ledgerFor(accountId, meta)) !== null;
  }

  async deposit(body: TransferRequest, meta: CommandMetadata): Promise<TransferAnswer> {
    return this.move('deposit', body, meta);
  }

  async withdraw(body: TransferRequest, meta: CommandMetadata): Promise<TransferAnswer> {
    return this.move('withdraw', body, meta);
  }

  private async move(
    kind: 'deposit' | 'withdraw',
    body: TransferRequest,
    meta: CommandMetadata,
  ): Promise<TransferAnswer> {
    const found = await this.ledgerFor(body.account, meta);
    if (found === null) throw accountNotFound(body.account);
    if (body.currency !== found.currency) {
      throw new DomainError(
        'BILLING.CURRENCY_MISMATCH',
        `account ${body.account} holds ${found.currency}, not ${body.currency}`,
        'unprocessable',
        [{ field: 'currency', code: 'BILLING.CURRENCY_MISMATCH' }],
      );
    }
    const input = { id: body.transferId, participantAccountId: body.account, amount: body.amount };
    const r: TransferResult =
      kind === 'deposit' ? await found.ledger.deposit(input, meta) : await found.ledger.withdraw(input, meta);
    if (r.result !== 'ok' && r.result !== 'exists') throw resultError(r.result);
    const recorded = found.ledger.transfer(body.transferId);
    return {
      transferId: body.transferId,
      account: body.account,
      amount: recorded?.amount ?? body.amount,
      currency: found.currency,
      result: r.result,
    };
  }

  /** The account's balances per kind. Another tenant's account answers exactly as a missing one. */
  async accountView(accountId: string, principal: Principal): Promise<AccountLedgerView> {
    if (!canRead(principal, accountId)) throw accountNotFound(accountId);
    const account = this.identity.model.account(accountId);
    if (account === undefined) throw accountNotFound(accountId);
    const ledger = await this.ledger(account.currency);
    const f = (v: bigint) => formatAmount(v, account.currency);
    const balances = {} as Record<ParticipantAccountKind, KindBalance>;
    for (const kind of participantAccountKinds) {
      const b = ledger.balanceMinor(participantAccount(accountId, kind));
      balances[kind] = { posted: f(b.creditsPosted - b.debitsPosted), pending: f(b.creditsPending - b.debitsPending) };
    }
    // The line identity has now; the ledger takes it on the account's next movement.
    const line = new Dec(account.creditLine);
    const cash = ledger.balanceMinor(participantAccount(accountId, 'cash'));
    const available = new Dec(f(cash.creditsPosted - cash.debitsPosted - cash.debitsPending)).plus(line);
    return {
      account: accountId,
      currency: account.currency,
      creditLine: formatMoney(line, account.currency),
      available: formatMoney(available, account.currency),
      balances,
    };
  }

  /**
   * Holds the buyer's notional (price × quantity, rounded half-even to the minor unit) from its cash in its held
   * account, as a pending transfer whose id derives from the trade id: a redelivered trade answers `exists`.
   */
  async holdForTrade(t: TradeHold, cause: { correlationId: string; causationId: string }): Promise<TradeHoldOutcome> {
    const meta: CommandMetadata = { ...cause, actor: HOLD_ACTOR };
    const found = await this.ledgerFor(t.buyerAccountId, meta);
    if (found === null) {
      this.logger.warn(`trade ${t.tradeId}: buyer ${t.buyerAccountId} is not a known account; no hold placed`);
      return 'buyer_unknown';
    }
    if (t.currency !== found.currency) {
      this.logger.warn(`trade ${t.tradeId}: priced in ${t.currency}, buyer holds ${found.currency}; no hold placed`);
      return 'currency_mismatch';
    }
    let notional: string;
    try {
      notional = formatMoney(new Dec(t.price).times(new Dec(t.quantity)), found.currency);
    } catch {
      this.logger.warn(`trade ${t.tradeId}: price or quantity is not a decimal; no hold placed`);
      return 'invalid';
    }
    const [r] = await found.ledger.submit(
      [
        {
          id: holdTransferId(t.tradeId),
          debitAccount: participantAccount(t.buyerAccountId, 'cash'),
          creditAccount: participantAccount(t.buyerAccountId, 'held'),
          amount: notional,
          phase: 'pending',
          code: 'hold',
          ref: t.tradeId,
        },
      ],
      meta,
    );
    const result = r?.result ?? 'id_invalid';
    if (result !== 'ok' && result !== 'exists') {
      // Matching's pre-trade checks should have refused the order; the ledger records nothing.
      this.logger.warn(`trade ${t.tradeId}: hold of ${notional} ${found.currency} refused (${result})`);
    }
    return result;
  }

  /** The currency's ledger with its movements per participant account (opened on first use). */
  async movements(currency: Currency): Promise<{ ledger: LedgerService; movements: LedgerMovements }> {
    const ledger = await this.ledger(currency);
    const movements = this.movementIndex.get(currency);
    assert(movements !== undefined, `the ${currency} ledger is open without its movements`);
    return { ledger, movements };
  }

  /** The transfer recorded under this id in the currency's ledger, if any (tests, audit). */
  async transfer(currency: Currency, id: string) {
    return (await this.ledger(currency)).transfer(id);
  }
}

/** The hold's transfer id: deterministic in the trade id, so redelivery is idempotent. */
export const holdTransferId = (tradeId: string): string => `hold:${tradeId}`;
