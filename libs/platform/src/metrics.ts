import { Controller, Get, Inject, Res } from '@nestjs/common';
import { ApiOkResponse, ApiTags } from '@nestjs/swagger';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { Public } from '@cx/auth';
import type {
  AppendOutcome,
  AppendResult,
  EventStore,
  ExpectedRevision,
  NewEvent,
  ReadAllOptions,
  ReadStreamOptions,
  StreamAppend,
  SubscribeToAllOptions,
  SubscribeToStreamOptions,
} from '@cx/event-store';
import { currentCorrelation, type MessagingTelemetry } from '@cx/messaging';

// Prometheus metrics (DESIGN.md: `GET /metrics`), one registry per process: the runtime's own (event loop lag,
// heap, GC), HTTP requests by route and status with their latencies, and events appended by type. The event
// counter is the business view too: OrderAccepted/OrderRejected/TradeExecuted, UsageRecorded, TransfersCommitted,
// and orders rejected by code (MATCHING.BELOW_FLOOR is how often the floor stopped a trade). The messaging series
// (consumer lag per group, relay lag, dead letters) are read from the buses the host attaches with `observeBus`,
// at scrape time, so a scrape sees the lag as it is now and nothing polls between scrapes.

/** Relay lag is counted from the store up to this many events; a relay further behind reads as this. */
export const RELAY_LAG_CAP = 10_000;

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

  readonly ordersAccepted = new Counter({
    name: 'cx_orders_accepted_total',
    help: 'Orders accepted by matching (OrderAccepted events)',
    registers: [this.registry],
  });
  readonly trades = new Counter({
    name: 'cx_trades_total',
    help: 'Trades executed (TradeExecuted events)',
    registers: [this.registry],
  });
  readonly rejectedByFloor = new Counter({
    name: 'cx_rejected_by_floor_total',
    help:
      'Decisions the floor in force refused, by what: order (a new order below the floor), modification (a reprice ' +
      'below it), resting_order (a resting order cancelled because the floor rose above it)',
    labelNames: ['what'] as const,
    registers: [this.registry],
  });
  private readonly buses = new Set<MessagingTelemetry>();
  readonly consumerLag = new Gauge({
    name: 'cx_consumer_lag_messages',
    help: 'Messages published and not yet committed by a consumer group, by group and topic',
    labelNames: ['group', 'topic'] as const,
    registers: [this.registry],
    collect: async () => {
      this.consumerLag.reset();
      for (const bus of this.buses) {
        // A broker that does not answer leaves the series out of this scrape rather than failing /metrics.
        const lags = await bus.probes.consumerLag().catch(() => []);
        for (const l of lags) this.consumerLag.set({ group: l.group, topic: l.topic }, l.messages);
      }
    },
  });
  readonly relayLag = new Gauge({
    name: 'cx_relay_lag_events',
    help: `Events recorded and not yet published by a relay, by relay (counted up to ${RELAY_LAG_CAP})`,
    labelNames: ['relay'] as const,
    registers: [this.registry],
    collect: async () => {
      this.relayLag.reset();
      for (const bus of this.buses) {
        for (const relay of bus.relays()) {
          const lag = await relay.lag(RELAY_LAG_CAP).catch(() => null);
          if (lag !== null) this.relayLag.set({ relay: relay.name }, lag);
        }
      }
    },
  });
  readonly deadLetters = new Counter({
    name: 'cx_messages_dead_lettered_total',
    help: 'Messages a consumer group gave up on and sent to the dead-letter topic, by group and source topic',
    labelNames: ['group', 'topic'] as const,
    registers: [this.registry],
    collect: () => {
      // The buses count; the counter catches up with them on every scrape.
      const now = new Map<string, { group: string; topic: string; count: number }>();
      for (const bus of this.buses) {
        for (const d of bus.deadLetterCounts()) {
          const k = `${d.group}\u0000${d.topic}`;
          const prev = now.get(k);
          now.set(k, { ...d, count: (prev?.count ?? 0) + d.count });
        }
      }
      for (const [k, d] of now) {
        const delta = d.count - (this.deadLettersSeen.get(k) ?? 0);
        if (delta > 0) this.deadLetters.inc({ group: d.group, topic: d.topic }, delta);
        this.deadLettersSeen.set(k, d.count);
      }
    },
  });
  private readonly deadLettersSeen = new Map<string, number>();

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'cx_process_' });
  }

  /** Adds a bus's consumer lag, relays and dead letters to the scrape; attaching one twice is harmless. */
  observeBus(telemetry: MessagingTelemetry): void {
    this.buses.add(telemetry);
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
      const data = e.data as { code?: unknown; reason?: unknown } | null;
      switch (e.type) {
        case 'OrderAccepted':
          this.ordersAccepted.inc();
          break;
        case 'TradeExecuted':
          this.trades.inc();
          break;
        case 'OrderRejected':
          this.ordersRejected.inc({ code: typeof data?.code === 'string' ? data.code : 'unknown' });
          if (data?.code === 'MATCHING.BELOW_FLOOR') this.rejectedByFloor.inc({ what: 'order' });
          break;
        case 'ModificationRejected':
          if (data?.code === 'MATCHING.BELOW_FLOOR') this.rejectedByFloor.inc({ what: 'modification' });
          break;
        case 'OrderCancelled':
          if (data?.reason === 'FLOOR_RAISED') this.rejectedByFloor.inc({ what: 'resting_order' });
          break;
      }
    }
  }
}

/**
 * Stamps events appended inside a request or a delivered message with its correlation (libs/messaging's context)
 * where the caller named none: the caller's own ids always win, so a handler that derives them from its command
 * keeps doing so, and one that forgot still gets them.
 */
export const withCorrelationMetadata = (events: NewEvent[]): NewEvent[] => {
  const c = currentCorrelation();
  if (c === undefined) return events;
  return events.map((e) => {
    const m = e.metadata;
    if (typeof m?.correlationId === 'string' && typeof m.causationId === 'string') return e;
    return {
      ...e,
      metadata: {
        ...m,
        correlationId: typeof m?.correlationId === 'string' ? m.correlationId : c.correlationId,
        causationId: typeof m?.causationId === 'string' ? m.causationId : c.causationId,
      },
    };
  });
};

/**
 * The store every module is given: it stamps the correlation of the work in hand on what is appended, and counts
 * appends; everything else passes straight through.
 */
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
    const list = withCorrelationMetadata(Array.isArray(events) ? events : [events]);
    const r = await this.inner.appendToStream(stream, list, opts);
    this.metrics.appended(list);
    return r;
  }

  async appendToStreams(appends: readonly StreamAppend[]): Promise<AppendOutcome[]> {
    const stamped = appends.map((a) => {
      try {
        return { ...a, events: withCorrelationMetadata(Array.isArray(a.events) ? a.events : [a.events]) };
      } catch {
        // Not events at all: passed on as given, for the store to refuse in this append's own outcome.
        return a;
      }
    });
    const outcomes = await this.inner.appendToStreams(stamped);
    outcomes.forEach((o, i) => {
      const events = (stamped[i] as StreamAppend).events;
      if (o.ok) this.metrics.appended(Array.isArray(events) ? events : [events]);
    });
    return outcomes;
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
