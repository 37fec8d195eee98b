import { createParamDecorator, type ExecutionContext, SetMetadata } from '@nestjs/common';
import { AssertionFailed } from '@cx/shared-kernel';
import type { Principal, Role } from './principal';

export const IS_PUBLIC = 'cx.auth.public';
export const ROLES = 'cx.auth.roles';

/** The route needs no key at all (health, docs). */
export const Public = (): MethodDecorator & ClassDecorator => SetMetadata(IS_PUBLIC, true);

/** Only keys with one of these roles may call the route; a method's list replaces its controller's. */
export const Roles = (...allowed: Role[]): MethodDecorator & ClassDecorator => SetMetadata(ROLES, allowed);

/** The request property the guard stores the verified principal under. */
export const PRINCIPAL_KEY = 'cxPrincipal';

export const principalOf = (request: unknown): Principal | undefined =>
  (request as Record<string, Principal | undefined> | null)?.[PRINCIPAL_KEY];

/** The verified caller. Using it on a @Public route is a programming error, so it stops loudly. */
export const CurrentPrincipal = createParamDecorator((_data: unknown, ctx: ExecutionContext): Principal => {
  const principal = principalOf(ctx.switchToHttp().getRequest());
  if (!principal) throw new AssertionFailed('@CurrentPrincipal() used on a route the AuthGuard did not authenticate');
  return principal;
});
