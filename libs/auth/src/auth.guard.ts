import { type CanActivate, type ExecutionContext, Inject, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { DomainError } from '@cx/shared-kernel';
import { IS_PUBLIC, PRINCIPAL_KEY, ROLES } from './decorators';
import { KEY_VERIFIER, type KeyVerifier } from './key-verifier';
import type { Role } from './principal';

const unauthenticated = (code: string, message: string): DomainError =>
  new DomainError(code, message, 'unauthenticated');

// A bearer token is one line of printable ASCII; anything else is refused before it reaches the verifier.
const BEARER_RE = /^Bearer ([\x21-\x7e]{1,512})$/;

/**
 * The global guard (the host registers it as APP_GUARD). Every route needs a valid key unless it is @Public;
 * @Roles narrows which roles may call it. Refusals are DomainErrors, mapped to 401/403 by the platform filter.
 */
@Injectable()
export class AuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    @Inject(KEY_VERIFIER) private readonly verifier: KeyVerifier,
  ) {}

  async canActivate(ctx: ExecutionContext): Promise<boolean> {
    const targets = [ctx.getHandler(), ctx.getClass()];
    if (this.reflector.getAllAndOverride<boolean | undefined>(IS_PUBLIC, targets)) return true;

    const request = ctx.switchToHttp().getRequest<{ headers: Record<string, string | string[] | undefined> }>();
    const header = request.headers.authorization;
    if (typeof header !== 'string' || header === '') {
      throw unauthenticated('AUTH.UNAUTHENTICATED', 'an API key is required: Authorization: Bearer <key>');
    }
    const match = BEARER_RE.exec(header);
    if (!match) throw unauthenticated('AUTH.UNAUTHENTICATED', 'the Authorization header must be "Bearer <key>"');

    const result = await this.verifier.verify(match[1] as string);
    if (!result.ok) {
      switch (result.reason) {
        case 'expired':
          throw unauthenticated('AUTH.KEY_EXPIRED', 'the API key has expired');
        case 'revoked':
          throw unauthenticated('AUTH.KEY_REVOKED', 'the API key has been revoked');
        default:
          throw unauthenticated('AUTH.UNAUTHENTICATED', 'the API key is not valid');
      }
    }

    const allowed = this.reflector.getAllAndOverride<Role[] | undefined>(ROLES, targets);
    if (allowed && !allowed.includes(result.principal.role)) {
      throw new DomainError('AUTH.FORBIDDEN', `the ${result.principal.role} role may not do this`, 'forbidden');
    }
    (request as unknown as Record<string, unknown>)[PRINCIPAL_KEY] = result.principal;
    return true;
  }
}
