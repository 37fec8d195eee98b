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
