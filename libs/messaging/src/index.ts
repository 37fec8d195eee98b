export * from './bus.port';
export * from './bus.errors';
export * from './bus.logger';
export { partitionForKey } from './partition-for-key';
export { InProcessBus, type InProcessBusOptions } from './in-process/in-process-bus.adapter';
export { KafkaBus, KafkaBusError, type KafkaBusOptions } from './kafka/kafka-bus.adapter';
export { MESSAGE_BUS } from './nest/messaging.tokens';
export { TopicHandler, type TopicHandlerOptions } from './nest/topic-handler.decorator';
export { TopicHandlerExplorer, topicRouter } from './nest/topic-handler.explorer';
export { MessagingModule } from './nest/messaging.module';
export * from './relay/relay';
export * from './relay/relay-headers';
export * from './relay/relay-checkpoint';
export * from './relay/envelope';
export * from './idempotent/effect-stream';
export * from './correlation';
export * from './telemetry';
// The contract suite (bus.contract.ts) is test code and is not exported here.
