import type { TopicEnd } from '@cx/identity';
import { type BusLogger, KafkaBus } from '@cx/messaging';
import { Kafka, logLevel } from 'kafkajs';
import type { Logger } from 'pino';

// The Kafka side of a distributed-mode process: the bus (libs/messaging) with the process's logger, and where
// a topic ends, which the bus port does not tell (a service's identity feed waits for it before serving).

export const busLogger = (logger: Logger): BusLogger => ({
  warn: (message, fields) => logger.warn(fields ?? {}, message),
  error: (message, fields) => logger.error(fields ?? {}, message),
});

export const createKafkaBus = (
  brokers: string[],
  clientId: string,
  logger: Logger,
  consumer: { sessionTimeoutMs?: number } = {},
): KafkaBus => new KafkaBus({ brokers, clientId, logger: busLogger(logger), consumer });

const ATTEMPTS = 15;

/**
 * The high watermark of every partition of `topic`, read with a short-lived admin client. A topic created a
 * moment ago (several processes starting together) may have no leader yet, and kafkajs's fetchTopicOffsets gives
 * up at once on "not the leader": a retriable error is retried here, with fresh metadata, a bounded number of times.
 */
export const kafkaTopicEnd =
  (brokers: string[], clientId: string, topic: string): TopicEnd =>
  async () => {
    for (let attempt = 1; ; attempt++) {
      const admin = new Kafka({ clientId, brokers, logLevel: logLevel.NOTHING }).admin();
      try {
        await admin.connect();
        const offsets = await admin.fetchTopicOffsets(topic);
        return new Map(offsets.map((o) => [o.partition, BigInt(o.high)]));
      } catch (e) {
        const retriable = (e as { retriable?: unknown }).retriable === true;
        if (!retriable || attempt >= ATTEMPTS) throw e;
        await new Promise((r) => setTimeout(r, Math.min(2_000, 100 * 2 ** attempt)));
      } finally {
        await admin.disconnect().catch(() => undefined);
      }
    }
  };
