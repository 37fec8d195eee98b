// Marks a provider method as the handler of a topic for a consumer group. TopicHandlerExplorer subscribes it at
// application bootstrap on whichever bus MESSAGE_BUS is (Kafka or in-process), so the handler code is the same in
// distributed and embedded mode.
import 'reflect-metadata';
import type { BackoffOptions } from '../bus.port';

export interface TopicHandlerOptions {
  group: string;
  maxAttempts?: number;
  backoff?: BackoffOptions;
}

export interface TopicHandlerMeta extends TopicHandlerOptions {
  topic: string;
}

export const TOPIC_HANDLER_METADATA = 'cx:messaging:topic-handler';

/** `@TopicHandler('cx.matching.trades.v1', { group: 'billing' })` on an `async (m: DeliveredMessage) => void` method. */
export const TopicHandler =
  (topic: string, options: TopicHandlerOptions): MethodDecorator =>
  (_target, _property, descriptor) => {
    const method = descriptor.value as object;
    // A method may handle several topics: the metadata is a list.
    const existing = (Reflect.getMetadata(TOPIC_HANDLER_METADATA, method) as TopicHandlerMeta[] | undefined) ?? [];
    Reflect.defineMetadata(TOPIC_HANDLER_METADATA, [...existing, { topic, ...options }], method);
    return descriptor;
  };
