import { Controller, Get, Inject, Res } from '@nestjs/common';
import { ApiOkResponse, ApiTags } from '@nestjs/swagger';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { collectDefaultMetrics, Counter, Histogram, Registry } from 'prom-client';
import { Public } from '@cx/auth';
import type {
  AppendResult,
  EventStore,
  ExpectedRevision,
  NewEvent,
  ReadAllOptions,
  ReadStreamOptions,
  SubscribeToAllOptions,
  SubscribeToStreamOptions,
} from '@cx/event-store';

// Prometheus metrics (DESIGN.md: `GET /metrics`), one registry per process: the runtime's own (event loop lag,
// heap, GC), HTTP requests by route and status with their latencies, and events appended by type. The event
// counter is the business view too: OrderAccepted/OrderRejected/TradeExecuted, UsageRecorded, TransfersCommitted,
// and orders rejected by code (MATCHING.BELOW_FLOOR is how often the floor stopped a trade).

export const METRICS = 'cx.Metrics';

export class Metrics {
  readonly registry = new Registry();
  readonly httpRequests = new Counter({
    name: 'cx_http_requests_total',
    help: 'HTTP requests answered, by method, route and status',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [this.registry],
  });
  readonly httpSeconds = new Histogram({
    name: 'cx_http_request_duration_seconds',
    help: 'HTTP request latency, by method and route',
    labelNames: ['method', 'route'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [this.registry],
  });
  readonly eventsAppended = new Counter({
    name: 'cx_events_appended_total',
    help: 'Events appended to the event store, by type',
    labelNames: ['type'] as const,
    registers: [this.registry],
  });
  readonly ordersRejected = new Counter({
    name: 'cx_orders_rejected_total',
    help: 'Orders rejected by matching, by code (MATCHING.BELOW_FLOOR: stopped by the floor in force)',
    labelNames: ['code'] as const,
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'cx_process_' });
  }

  /** Times every request on the app's Fastify instance, labelled by its route pattern (never the raw URL). */
  instrument(fastify: FastifyInstance): void {
    fastify.addHook('onResponse', async (req, reply) => {
      const route = req.routeOptions.url ?? 'unmatched';
      this.httpRequests.inc({ method: req.method, route, status: String(reply.statusCode) });
      this.httpSeconds.observe({ method: req.method, route }, reply.elapsedTime / 1000);
    });
  }

  /** Counts what an append wrote, once it is durable. */
  appended(events: readonly NewEvent[]): void {
    for (const e of events) {
      this.eventsAppended.inc({ type: e.type });
      if (e.type === 'OrderRejected') {
        const code = (e.data as { code?: unknown } | null)?.code;
        this.ordersRejected.inc({ code: typeof code === 'string' ? code : 'unknown' });
      }
    }
  }
}

/** The store every module is given, counting appends; everything else passes straight through. */
export class MeteredEventStore implements EventStore {
  constructor(
    private readonly inner: EventStore,
    private readonly metrics: Metrics,
  ) {}

  async appendToStream(
    stream: string,
    events: NewEvent | NewEvent[],
    opts?: { expectedRevision?: ExpectedRevision },
  ): Promise<AppendResult> {
    const r = await this.inner.appendToStream(stream, events, opts);
    this.metrics.appended(Array.isArray(events) ? events : [events]);
    return r;
  }

  readStream(stream: string, opts?: ReadStreamOptions) {
    return this.inner.readStream(stream, opts);
  }
  readAll(opts?: ReadAllOptions) {
    return this.inner.readAll(opts);
  }
  subscribeToAll(opts: SubscribeToAllOptions) {
    return this.inner.subscribeToAll(opts);
  }
  subscribeToStream(stream: string, opts: SubscribeToStreamOptions) {
    return this.inner.subscribeToStream(stream, opts);
  }
  deleteStream(stream: string, opts?: { expectedRevision?: ExpectedRevision }) {
    return this.inner.deleteStream(stream, opts);
  }
  streamRevision(stream: string) {
    return this.inner.streamRevision(stream);
  }
  headPosition() {
    return this.inner.headPosition();
  }
  close() {
    return this.inner.close();
  }
}

@ApiTags('operations')
@Controller()
export class MetricsController {
  constructor(@Inject(METRICS) private readonly metrics: Metrics) {}

  /** Prometheus text exposition. Public like /health: it says how the process runs, nothing about anyone. */
  @Public()
  @Get('metrics')
  @ApiOkResponse({ description: 'Prometheus metrics (text exposition format).' })
  async scrape(@Res() reply: FastifyReply): Promise<void> {
    await reply.header('content-type', this.metrics.registry.contentType).send(await this.metrics.registry.metrics());
  }
}
