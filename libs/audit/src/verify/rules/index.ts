import { floorRule } from './floor.checker';
import { ledgerRule } from './ledger.checker';
import { statementsRule } from './statements.checker';
import { usageRule } from './usage.checker';
import type { AuditRule } from './rule';

export * from './rule';
export * from './guidance-history';
export * from './floor.checker';
export * from './ledger.checker';
export * from './usage.checker';
export * from './statements.checker';

/**
 * The business rules `cx audit verify` checks, in report order. A new rule is one AuditRule and one line here.
 */
export const auditRules: readonly AuditRule[] = [floorRule, ledgerRule, usageRule, statementsRule];

export const ruleNames = (): string[] => auditRules.map((r) => r.name);
