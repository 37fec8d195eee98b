import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import { principalOf } from './decorators';
import { isSafeId, newId } from '@cx/shared-kernel';
import type { CommandMetadata } from '@cx/event-store';

/**
 * The metadata a command's events carry: the caller's correlation id when it sent a usable one (so a client can
 * trace its own request through the audit log), and the key that acted. A request starts a causal chain, so
 * its causation id is its correlation id.
 */
export const CommandMeta = createParamDecorator((_data: unknown, ctx: ExecutionContext): CommandMetadata => {
  const request = ctx.switchToHttp().getRequest<{ headers: Record<string, string | string[] | undefined> }>();
  const given = request.headers['x-correlation-id'];
  const correlationId = isSafeId(given) ? given : newId();
  const principal = principalOf(request);
  return {
    correlationId,
    causationId: correlationId,
    actor: principal ? { keyId: principal.keyId, role: principal.role } : { service: 'anonymous' },
  };
});
