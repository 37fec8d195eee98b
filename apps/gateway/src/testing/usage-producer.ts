import { Kafka, logLevel, type Producer } from 'kafkajs';
import type { UsageEvent } from './story';

// An integrator producing usage to `cx.metering.usage-submitted.v1` the way the CloudEvents Kafka binding says
// (binary content mode: attributes as `ce_*` headers, `data` as the JSON value), keyed by subject, acks from all
// in-sync replicas. A send that fails is sent again with the same CloudEvent ids: metering counts (source, id) once.

export const USAGE_SUBMITTED_TOPIC = 'cx.metering.usage-submitted.v1';

export class UsageProducer {
  private readonly producer: Producer;
  private connected = false;

  constructor(brokers: string[]) {
    this.producer = new Kafka({
      clientId: 'cx-test-integrator',
      brokers,
      logLevel: logLevel.NOTHING,
      retry: { retries: 3, initialRetryTime: 200 },
    }).producer({ allowAutoTopicCreation: false });
  }

  /** Sends the events (in this order) until the broker acknowledges them all. */
  async send(events: UsageEvent[], account: string, timeoutMs = 180_000): Promise<void> {
    const messages = events.map((e) => ({
      key: e.subject,
      value: JSON.stringify(e.data),
      headers: {
        ce_specversion: e.specversion,
        ce_id: e.id,
        ce_source: e.source,
        ce_type: e.type,
        ce_subject: e.subject,
        ce_time: e.time,
        ce_cxaccount: account,
        'content-type': 'application/json',
      },
    }));
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      try {
        if (!this.connected) {
          await this.producer.connect();
          this.connected = true;
        }
        await this.producer.send({ topic: USAGE_SUBMITTED_TOPIC, acks: -1, messages });
        return;
      } catch (e) {
        if (Date.now() > deadline) throw e;
        await new Promise((r) => setTimeout(r, 500));
      }
    }
  }

  async close(): Promise<void> {
    await this.producer.disconnect().catch(() => undefined);
  }
}
