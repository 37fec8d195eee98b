import { Controller, Get, Inject, Res } from '@nestjs/common';
import { ApiOkResponse, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { Public } from '@cx/auth';
import { EVENT_STORE, type EventStore, positionToString } from '@cx/event-store';

@ApiTags('operations')
@Controller()
export class HealthController {
  constructor(@Inject(EVENT_STORE) private readonly store: EventStore) {}

  /** Liveness and readiness in one: the process answers and its event store can be read. */
  @Public()
  @Get('health')
  @ApiOkResponse({ description: 'The process and its event store are up.' })
  async health(
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<{ status: 'ok' | 'degraded'; checks: Record<string, unknown> }> {
    try {
      const head = await this.store.headPosition();
      return { status: 'ok', checks: { store: { status: 'ok', head: head ? positionToString(head) : null } } };
    } catch (e) {
      void reply.status(503);
      return {
        status: 'degraded',
        checks: { store: { status: 'down', error: e instanceof Error ? e.message : String(e) } },
      };
    }
  }
}
