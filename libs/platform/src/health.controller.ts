import { Controller, Get, Inject, Optional, Res } from '@nestjs/common';
import { ApiOkResponse, ApiServiceUnavailableResponse, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { Public } from '@cx/auth';
import { EVENT_STORE, type EventStore, positionToString } from '@cx/event-store';
import { MESSAGE_BUS, type MessageBus, telemetryOf } from '@cx/messaging';

/** How long /health waits for the broker: within a Kubernetes probe's default timeout (1 s), with room to spare. */
export const BROKER_HEALTH_TIMEOUT_MS = 800;

type Check = { status: 'ok'; [detail: string]: unknown } | { status: 'down'; error: string };

@ApiTags('operations')
@Controller()
export class HealthController {
  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Optional() @Inject(MESSAGE_BUS) private readonly bus?: MessageBus,
  ) {}

  /**
   * Liveness and readiness in one: the process answers, its event store can be read and, where it talks to a
   * Kafka broker, the broker answers. 503 with each check's detail when any is down. The in-process bus of the
   * embedded mode lives and dies with the process, so it is reported but can only be down once closed.
   */
  @Public()
  @Get('health')
  @ApiOkResponse({ description: 'The process, its event store and its broker (if any) are up.' })
  @ApiServiceUnavailableResponse({ description: 'The store or the broker is down; `checks` says which and why.' })
  async health(
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<{ status: 'ok' | 'degraded'; checks: Record<string, Check> }> {
    const [store, bus] = await Promise.all([this.storeCheck(), this.busCheck()]);
    const checks: Record<string, Check> = { store };
    if (bus !== null) checks.broker = bus;
    const ok = Object.values(checks).every((c) => c.status === 'ok');
    if (!ok) void reply.status(503);
    return { status: ok ? 'ok' : 'degraded', checks };
  }

  /**
   * Liveness only: the process answers. A broker or store that is away makes /health (readiness) fail, which
   * takes the process out of service until they are back; restarting it would not bring them back, so a liveness
   * probe must not depend on them.
   */
  @Public()
  @Get('health/live')
  @ApiOkResponse({ description: 'The process answers.' })
  live(): { status: 'ok' } {
    return { status: 'ok' };
  }

  private async storeCheck(): Promise<Check> {
    try {
      const head = await this.store.headPosition();
      return { status: 'ok', head: head ? positionToString(head) : null };
    } catch (e) {
      return { status: 'down', error: e instanceof Error ? e.message : String(e) };
    }
  }

  private async busCheck(): Promise<Check | null> {
    const telemetry = telemetryOf(this.bus);
    if (telemetry === undefined) return null;
    const h = await telemetry.probes.health(BROKER_HEALTH_TIMEOUT_MS);
    return h.status === 'ok' ? { status: 'ok', ...h.details } : h;
  }
}
