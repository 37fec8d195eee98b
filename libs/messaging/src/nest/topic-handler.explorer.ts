// Finds every @TopicHandler method among the application's providers at bootstrap and subscribes them: one
// subscription per consumer group, routing each message to the method for its topic.
import { Inject, Injectable } from '@nestjs/common';
import type { OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { DiscoveryService, MetadataScanner } from '@nestjs/core';
import type { BackoffOptions, Consumer, MessageBus, MessageHandler } from '../bus.port';
import { InvalidBusCall, NoHandlerForTopic } from '../bus.errors';
import { MESSAGE_BUS } from './messaging.tokens';
import type { TopicHandlerMeta } from './topic-handler.decorator';
import { TOPIC_HANDLER_METADATA } from './topic-handler.decorator';

interface GroupPlan {
  handlers: Map<string, MessageHandler>;
  maxAttempts?: number;
  backoff?: BackoffOptions;
}

/**
 * One handler for a group's topics. A message on a topic none of them knows is an error (non-retriable, so it is
 * dead-lettered), never a silent ack.
 */
export const topicRouter =
  (group: string, handlers: ReadonlyMap<string, MessageHandler>): MessageHandler =>
  async (message) => {
    const handle = handlers.get(message.topic);
    if (!handle) throw new NoHandlerForTopic(message.topic, group);
    await handle(message);
  };

@Injectable()
export class TopicHandlerExplorer implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly consumers: Consumer[] = [];

  constructor(
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
    @Inject(MESSAGE_BUS) private readonly bus: MessageBus,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    for (const [group, plan] of this.plan()) {
      this.consumers.push(
        await this.bus.subscribe({
          group,
          topics: [...plan.handlers.keys()],
          handler: topicRouter(group, plan.handlers),
          ...(plan.maxAttempts !== undefined ? { maxAttempts: plan.maxAttempts } : {}),
          ...(plan.backoff ? { backoff: plan.backoff } : {}),
        }),
      );
    }
  }

  /** Leaves the groups, committing what was handled. The bus itself belongs to whoever provided MESSAGE_BUS. */
  async onApplicationShutdown(): Promise<void> {
    await Promise.all(this.consumers.splice(0).map((c) => c.close()));
  }

  private plan(): Map<string, GroupPlan> {
    const groups = new Map<string, GroupPlan>();
    for (const wrapper of this.discovery.getProviders()) {
      const instance = wrapper.instance as Record<string, unknown> | undefined;
      if (!instance || typeof instance !== 'object' || !wrapper.isDependencyTreeStatic()) continue;
      const prototype = Object.getPrototypeOf(instance) as object;
      for (const name of this.scanner.getAllMethodNames(prototype)) {
        const method = instance[name];
        if (typeof method !== 'function') continue;
        const metas = Reflect.getMetadata(TOPIC_HANDLER_METADATA, method) as TopicHandlerMeta[] | undefined;
        for (const meta of metas ?? []) {
          const where = `${wrapper.name}.${name}`;
          const plan = groups.get(meta.group) ?? { handlers: new Map<string, MessageHandler>() };
          if (plan.handlers.has(meta.topic)) {
            throw new InvalidBusCall(`${where}: topic "${meta.topic}" already has a handler in group "${meta.group}"`);
          }
          // One subscription per group, so its retry settings must agree across the group's handlers.
          if (meta.maxAttempts !== undefined) {
            if (plan.maxAttempts !== undefined && plan.maxAttempts !== meta.maxAttempts) {
              throw new InvalidBusCall(`${where}: group "${meta.group}" has conflicting maxAttempts`);
            }
            plan.maxAttempts = meta.maxAttempts;
          }
          if (meta.backoff) plan.backoff = meta.backoff;
          plan.handlers.set(meta.topic, (m) => (method as MessageHandler).call(instance, m));
          groups.set(meta.group, plan);
        }
      }
    }
    return groups;
  }
}
