export * from './billing.module';
export * from './config';
export * from './application/ledger.service';
export * from './domain/ledger/ledger.events';
export {
  type TransferInput,
  type BalanceView,
  assertLedgerBalanced,
  evolve as evolveLedger,
} from './domain/ledger/ledger.decider';
export { parseAmount, formatAmount } from './domain/ledger/ledger.amounts';
export { BillingLedgerService, holdTransferId, type AccountLedgerView } from './interface/ledger.http.service';
export * from './infrastructure/billing-integration';
export { BillingFactsService } from './application/billing-facts.service';
export { PeriodCloseService, type CloseResult } from './application/period-close.service';
export { StatementsService } from './application/statements.service';
export * from './domain/statement/statement';
export * from './domain/statement/statement.events';
export * from './domain/settlement/allocation-billing.events';
export * from './domain/settlement/period.events';
export { GuidanceView } from './application/guidance-view';
export { rateOfferUsage } from './domain/offer/offer-rating';
