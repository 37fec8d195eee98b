// Proves the AuthGuard's decisions: which routes need a key, which refusal each bad key gets, and role checks.
import type { ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { DomainError } from '@cx/shared-kernel';
import { AuthGuard } from './auth.guard';
import { principalOf, Public, Roles } from './decorators';
import type { KeyVerification, KeyVerifier } from './key-verifier';
import type { Principal } from './principal';

const trader: Principal = { keyId: 'k-trader', role: 'trader', accounts: ['acme-01'] };

class Routes {
  @Public()
  health(): void {}

  anyone(): void {}

  @Roles('admin')
  adminOnly(): void {}

  @Roles('trader', 'finance')
  tradersAndFinance(): void {}
}

const verifier: KeyVerifier = {
  verify: (token: string): KeyVerification => {
    switch (token) {
      case 'good-trader':
        return { ok: true, principal: trader };
      case 'revoked':
        return { ok: false, reason: 'revoked' };
      case 'expired':
        return { ok: false, reason: 'expired' };
      default:
        return { ok: false, reason: 'unknown' };
    }
  },
};

const contextFor = (handler: keyof Routes, authorization?: string) => {
  const request: Record<string, unknown> = { headers: authorization === undefined ? {} : { authorization } };
  const ctx = {
    getHandler: () => Routes.prototype[handler],
    getClass: () => Routes,
    switchToHttp: () => ({ getRequest: () => request }),
  } as unknown as ExecutionContext;
  return { ctx, request };
};

const guard = new AuthGuard(new Reflector(), verifier);

const refusal = async (handler: keyof Routes, authorization?: string) => {
  try {
    await guard.canActivate(contextFor(handler, authorization).ctx);
  } catch (e) {
    if (e instanceof DomainError) return { code: e.code, kind: e.kind };
    throw e;
  }
  throw new Error('expected a refusal');
};

describe('AuthGuard', () => {
  it('lets anyone call a @Public route', async () => {
    await expect(guard.canActivate(contextFor('health').ctx)).resolves.toBe(true);
  });

  it('admits a valid key on a route without @Roles and puts its principal on the request', async () => {
    const { ctx, request } = contextFor('anyone', 'Bearer good-trader');
    await expect(guard.canActivate(ctx)).resolves.toBe(true);
    expect(principalOf(request)).toEqual(trader);
  });

  it('admits a role the route lists', async () => {
    await expect(guard.canActivate(contextFor('tradersAndFinance', 'Bearer good-trader').ctx)).resolves.toBe(true);
  });

  it.each([
    ['no header', 'anyone', undefined, 'AUTH.UNAUTHENTICATED', 'unauthenticated'],
    ['an empty header', 'anyone', '', 'AUTH.UNAUTHENTICATED', 'unauthenticated'],
    ['another scheme', 'anyone', 'Basic Zm9vOmJhcg==', 'AUTH.UNAUTHENTICATED', 'unauthenticated'],
    ['a token with spaces', 'anyone', 'Bearer a b', 'AUTH.UNAUTHENTICATED', 'unauthenticated'],
    ['an unknown key', 'anyone', 'Bearer nope', 'AUTH.UNAUTHENTICATED', 'unauthenticated'],
    ['a revoked key', 'anyone', 'Bearer revoked', 'AUTH.KEY_REVOKED', 'unauthenticated'],
    ['an expired key', 'anyone', 'Bearer expired', 'AUTH.KEY_EXPIRED', 'unauthenticated'],
    [
      'an unknown key, before the role is considered',
      'adminOnly',
      'Bearer nope',
      'AUTH.UNAUTHENTICATED',
      'unauthenticated',
    ],
    ['a role the route does not list', 'adminOnly', 'Bearer good-trader', 'AUTH.FORBIDDEN', 'forbidden'],
  ] as const)('refuses %s', async (_what, handler, authorization, code, kind) => {
    await expect(refusal(handler, authorization)).resolves.toEqual({ code, kind });
  });
});
