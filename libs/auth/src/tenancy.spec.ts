// Proves the tenancy table: who may read and who may act for an account, and that refusals look like a missing object.
import { DomainError } from '@cx/shared-kernel';
import type { Principal, Role } from './principal';
import { assertActsFor, assertCanRead, canActFor, canRead } from './tenancy';

const p = (role: Role, accounts: string[] = []): Principal => ({ keyId: `k-${role}`, role, accounts });

describe('tenancy', () => {
  it.each([
    // role, accounts on the key, may read acme-01, may act for acme-01
    ['admin', [], true, true],
    ['regulator', [], true, false],
    ['auditor', [], true, false],
    ['trader', ['acme-01'], true, true],
    ['trader', ['other'], false, false],
    ['integrator', ['acme-01'], true, true],
    ['integrator', ['other'], false, false],
    ['finance', ['acme-01'], true, true],
    ['finance', ['other'], false, false],
  ] as const)('%s with %j: read %s, act %s', (role, accounts, read, act) => {
    expect(canRead(p(role, [...accounts]), 'acme-01')).toBe(read);
    expect(canActFor(p(role, [...accounts]), 'acme-01')).toBe(act);
  });

  it('refuses with the caller’s own not-found error, as if the account did not exist', () => {
    const as = { code: 'MATCHING.ORDER_NOT_FOUND', message: 'order o-1 not found' };
    const expectNotFound = (f: () => void) => {
      try {
        f();
      } catch (e) {
        expect(e).toBeInstanceOf(DomainError);
        expect(e).toMatchObject({ code: as.code, kind: 'not_found', message: as.message, details: [] });
        return;
      }
      throw new Error('expected a refusal');
    };
    expectNotFound(() => assertCanRead(p('trader', ['other']), 'acme-01', as));
    expectNotFound(() => assertActsFor(p('auditor'), 'acme-01', as));
    expect(() => assertActsFor(p('trader', ['acme-01']), 'acme-01', as)).not.toThrow();
  });
});
