// Who is calling: the key's id, its one role, and the accounts it may act for. Framework-free so that domain
// code and other services can name it without pulling Nest in.

export const roles = ['admin', 'regulator', 'trader', 'integrator', 'finance', 'auditor'] as const;
export type Role = (typeof roles)[number];
export const isRole = (value: unknown): value is Role =>
  typeof value === 'string' && (roles as readonly string[]).includes(value);

/** Roles whose keys act for named accounts; the other roles are exchange-wide and name none. */
export const accountScopedRoles: readonly Role[] = ['trader', 'integrator', 'finance'];
export const isAccountScoped = (role: Role): boolean => accountScopedRoles.includes(role);

/** Roles that may read every tenant's objects (DESIGN.md, "Roles and tenancy"). */
export const marketWideReaders: readonly Role[] = ['admin', 'regulator', 'auditor'];

export interface Principal {
  readonly keyId: string;
  readonly role: Role;
  readonly accounts: readonly string[];
}
