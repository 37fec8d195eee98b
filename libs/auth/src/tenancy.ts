import { DomainError } from '@cx/shared-kernel';
import { isAccountScoped, marketWideReaders, type Principal } from './principal';

// Tenancy (DESIGN.md, "Roles and tenancy"). Another tenant's object answers 404, exactly as a missing one
// would, so that a key cannot probe which account ids exist.

/** May the principal read this account's objects? Admin, regulator and auditor read every account. */
export const canRead = (principal: Principal, accountId: string): boolean =>
  marketWideReaders.includes(principal.role) || principal.accounts.includes(accountId);

/**
 * May the principal act (write) for this account? Admin administers every account; trader, integrator and
 * finance act only for the accounts on their key; regulator and auditor act for none. Which writes a role may
 * make at all is the route's @Roles.
 */
export const canActFor = (principal: Principal, accountId: string): boolean =>
  principal.role === 'admin' || (isAccountScoped(principal.role) && principal.accounts.includes(accountId));

export interface NotFoundAs {
  /** The caller's own not-found code, e.g. `MATCHING.ORDER_NOT_FOUND`, identical to a genuine miss. */
  code: string;
  message: string;
}

const notFound = (as: NotFoundAs): DomainError => DomainError.notFound(as.code, as.message);

export const assertCanRead = (principal: Principal, accountId: string, as: NotFoundAs): void => {
  if (!canRead(principal, accountId)) throw notFound(as);
};

export const assertActsFor = (principal: Principal, accountId: string, as: NotFoundAs): void => {
  if (!canActFor(principal, accountId)) throw notFound(as);
};
