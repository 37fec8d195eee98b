import 'reflect-metadata';
import {
  type BeforeApplicationShutdown,
  type DynamicModule,
  Inject,
  Injectable,
  Module,
  type OnApplicationBootstrap,
  type Type,
} from '@nestjs/common';
import { APP_GUARD, NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import type { Logger } from 'pino';
import { AuditCheckpointer, AuditModule, ChainedEventStore, loadOrCreateSigningKey } from '@cx/audit';
import { AuthGuard } from '@cx/auth';
import { EVENT_STORE, type EventStore, openEventStore } from '@cx/event-store';
import { IdentityFeed, IdentityFeedModule, IdentityModule, identityTopicSpec } from '@cx/identity';
import { MESSAGE_BUS, type MessageBus, MessagingModule, Relay, type RelayRoute, type TopicSpec } from '@cx/messaging';
import {
  ConfigError,
  CoreModule,
  type CxConfig,
  configureHttpApp,
  createLogger,
  exitOnSignals,
  fastifyOptions,
  loadConfig,
  PinoNestLogger,
} from '@cx/platform';
import { systemClock } from '@cx/shared-kernel';
import { type DistributedConfig, loadDistributedConfig, refuseSimulatedClock } from './config';
import { createKafkaBus, kafkaTopicEnd } from './kafka';

// One process of distributed mode (the gateway, or one service alone): its own store with the hash chain and
// signed checkpoints, the Kafka bus with every integration topic declared, a durable relay publishing its own
// streams' integration events, and the identity it checks keys against (the store's for the gateway, which
// owns identity; a Kafka-fed projection of the identity topic for a service).

type ModuleImport = Type | DynamicModule;

export interface HostContext {
  config: CxConfig;
  distributed: DistributedConfig;
  logger: Logger;
}

export interface HostPlan {
  /** What the process hosts beside core, messaging, audit and identity. */
  imports: ModuleImport[];
  /** Topics declared at start beside the identity topic: those it publishes and those it consumes. */
  topics: TopicSpec[];
  /** The integration events of this process's own streams; published by its durable relay. */
  relayRoutes: RelayRoute[];
  /** `store`: identity is written and projected here (the gateway); `feed`: read from the identity topic. */
  identity: 'store' | 'feed';
  /**
   * A service answers only under its own prefixes (and /v1/me and /v1/audit, which read its own projection and
   * store). Identity's write routes come with the IdentityModule a service imports; they must not be reachable
   * there, since identity is written at the gateway only.
   */
  ownedPrefixes?: string[];
  /** The built web console to serve at / (the gateway only: the one public HTTP API). */
  console?: { root: string };
}

export interface HostSpec {
  /** Names the process: default CX_NODE, the relay and its checkpoint, the Kafka client and groups. */
  name: string;
  /** Reads and validates the process's own configuration (throws ConfigError). */
  plan(ctx: HostContext): HostPlan;
  /** Runs before the app listens (the gateway registers its proxy here). */
  beforeListen?(app: NestFastifyApplication, ctx: HostContext): Promise<void> | void;
  /** Runs once the modules are up, before listening (the gateway prints the first admin key). */
  afterInit?(app: NestFastifyApplication, ctx: HostContext): Promise<void> | void;
}

const RELAY_PLAN = 'cx.DistributedRelayPlan';

interface RelayPlan {
  name: string;
  routes: RelayRoute[];
  /** The relay stopped for good (the broker refused a batch too long): the process must restart. */
  onFailure: (e: unknown) => void;
}

/** The durable relay of this process: resumes after its checkpoint, fenced so that one instance publishes. */
@Injectable()
export class DistributedRelay implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly relay: Relay | null;
  private stopping = false;

  constructor(
    @Inject(EVENT_STORE) store: EventStore,
    @Inject(MESSAGE_BUS) bus: MessageBus,
    @Inject(RELAY_PLAN) private readonly plan: RelayPlan,
  ) {
    this.relay = plan.routes.length === 0 ? null : new Relay({ name: plan.name, store, bus, routes: plan.routes });
  }

  async onApplicationBootstrap(): Promise<void> {
    if (this.relay === null) return;
    await this.relay.start();
    this.relay.done.catch((e: unknown) => {
      if (!this.stopping) this.plan.onFailure(e);
    });
  }

  // Before CoreModule closes the store, and before the host closes the bus.
  async beforeApplicationShutdown(): Promise<void> {
    this.stopping = true;
    await this.relay?.stop();
  }
}

@Module({})
class DistributedHostModule {
  static forRoot(deps: {
    config: CxConfig;
    store: EventStore;
    bus: MessageBus;
    audit: { key: ReturnType<typeof loadOrCreateSigningKey>; checkpointer: AuditCheckpointer };
    identity: ModuleImport;
    imports: ModuleImport[];
    relay: RelayPlan;
  }): DynamicModule {
    return {
      module: DistributedHostModule,
      imports: [
        CoreModule.forRoot({ config: deps.config, store: deps.store, clock: systemClock }),
        MessagingModule.forBus(deps.bus),
        AuditModule.forRoot(deps.audit),
        deps.identity,
        ...deps.imports,
      ],
      providers: [
        { provide: APP_GUARD, useClass: AuthGuard },
        { provide: RELAY_PLAN, useValue: deps.relay },
        DistributedRelay,
      ],
    };
  }
}

const ALWAYS_SERVED = ['/v1/me', '/v1/audit'];

const underAny = (path: string, prefixes: string[]): boolean =>
  prefixes.some((p) => path === p || path.startsWith(`${p}/`));

/** Boots one distributed-mode process; exits 2 on a configuration error, 1 on any other start-up failure. */
export const runHost = (spec: HostSpec): void => {
  main(spec).catch((e: unknown) => {
    if (e instanceof ConfigError) {
      process.stderr.write(`configuration error: ${e.message}\n`);
      process.exit(2);
    }
    process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exit(1);
  });
};

const main = async (spec: HostSpec): Promise<void> => {
  // Configuration first, all of it, before anything is opened: a bad value exits 2 with nothing half-started.
  const config = loadConfig({ ...process.env, CX_NODE: process.env.CX_NODE ?? spec.name });
  refuseSimulatedClock(config);
  const distributed = loadDistributedConfig();
  const logger = createLogger(config.logLevel, `cx-${spec.name}`);
  const ctx: HostContext = { config, distributed, logger };
  const plan = spec.plan(ctx);

  const store = new ChainedEventStore(await openEventStore(config.store));
  const auditKey = loadOrCreateSigningKey(config.auditKeyPath);
  const checkpointer = new AuditCheckpointer({
    store,
    node: config.node,
    key: auditKey,
    intervalMs: config.auditCheckpointMs,
    onError: (e) => logger.warn({ err: e }, 'audit checkpoint failed; the next one retries'),
  });
  const bus = createKafkaBus(distributed.brokers, `cx-${spec.name}`, logger, {
    sessionTimeoutMs: distributed.sessionTimeoutMs,
  });
  const identityTopic: TopicSpec = { ...identityTopicSpec, name: distributed.identityTopic };
  await bus.declareTopics([identityTopic, ...plan.topics]);

  let feed: IdentityFeed | null = null;
  if (plan.identity === 'feed') {
    // A group of its own per start: the model lives in memory, so every start reads the topic from the beginning.
    feed = new IdentityFeed(
      bus,
      `${spec.name}-identity-${config.node}-${process.pid}-${Date.now()}`,
      identityTopic,
      kafkaTopicEnd(distributed.brokers, `cx-${spec.name}-identity-probe`, distributed.identityTopic),
    );
    await feed.ready();
    logger.info({ keys: feed.model.keyCount, topic: distributed.identityTopic }, 'identity caught up from Kafka');
  }

  const app = await NestFactory.create<NestFastifyApplication>(
    DistributedHostModule.forRoot({
      config,
      store,
      bus,
      audit: { key: auditKey, checkpointer },
      identity: feed === null ? IdentityModule : IdentityFeedModule.forFeed(feed),
      imports: plan.imports,
      relay: {
        name: spec.name,
        routes: plan.relayRoutes,
        onFailure: (e) => {
          // A relay that stopped publishes nothing more; a restart resumes after its checkpoint.
          logger.fatal({ err: e }, 'the relay stopped; exiting so that the process is restarted');
          logger.flush();
          process.exit(1);
        },
      },
    }),
    new FastifyAdapter(fastifyOptions({ bodyLimit: config.bodyLimitBytes })),
    { logger: new PinoNestLogger(logger), bufferLogs: true },
  );
  await configureHttpApp(app, {
    title: `cx ${spec.name}`,
    rateLimit: { perSecond: config.rateLimitPerS, burst: config.rateLimitBurst },
    ...(plan.console === undefined ? {} : { console: plan.console }),
  });
  const owned = plan.ownedPrefixes;
  if (owned !== undefined) {
    const served = [...owned, ...ALWAYS_SERVED];
    app
      .getHttpAdapter()
      .getInstance()
      .addHook('onRequest', async (req, reply) => {
        const path = req.url.split('?')[0] ?? '';
        if (path.startsWith('/v1/') && !underAny(path, served)) {
          await reply.status(404).send({
            code: 'HTTP.NOT_FOUND',
            message: `${req.method} ${path} is not served by ${spec.name}`,
            details: [],
          });
        }
      });
  }
  await spec.beforeListen?.(app, ctx);
  await app.init();
  await spec.afterInit?.(app, ctx);

  // Graceful shutdown: stop taking requests, stop the relay and consumers (committing what they handled), close
  // the store (CoreModule), then the feed and the bus; exit 0.
  exitOnSignals(app, logger, async () => {
    await feed?.stop();
    await bus.close();
  });

  await app.listen(config.port, config.host);
  logger.info(
    { url: await app.getUrl(), store: config.store.replace(/\/\/[^@]*@/, '//***@'), brokers: distributed.brokers },
    `cx ${spec.name} listening`,
  );
};
