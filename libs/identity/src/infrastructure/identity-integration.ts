import {
  AccountKind as WireKind,
  type IdentityEvent,
  decodeEvent,
  createEvent,
  timestampDate,
  timestampFromDate,
  toKafkaRecord,
} from '@cx/contracts';
import type { Position, RecordedEvent } from '@cx/event-store';
import {
  type Consumer,
  type DeliveredMessage,
  type MessageBus,
  type RelayRoute,
  type TopicSpec,
  envelopeFor,
} from '@cx/messaging';
import type { AccountEvent, AccountKind } from '../domain/account/account.events';
import type { ApiKeyEvent, KeyRole } from '../domain/api-key/api-key.events';
import { IDENTITY_STREAM_PREFIXES, IdentityReadModel } from '../application/identity.read-model';

// Identity over Kafka (distributed mode): the relay publishes account and key events on `cx.identity.v1`, and
// every service folds them into its own IdentityReadModel, so a key revoked at the gateway stops working
// everywhere within the propagation lag.
//
// The topic has ONE partition and is kept forever: identity changes are rare, every service needs all of them
// from the beginning, and one partition keeps the store's global order, which the read model relies on to drop
// redeliveries (it ignores any event at or before the last position it applied). Compaction would be wrong: an
// amendment carries only the fields it changed.

export const IDENTITY_TOPIC = 'cx.identity.v1';
export const identityTopicSpec: TopicSpec = {
  name: IDENTITY_TOPIC,
  partitions: 1,
  configs: { 'retention.ms': '-1', 'cleanup.policy': 'delete' },
};

const KIND_TO_WIRE: Readonly<Record<AccountKind, WireKind>> = {
  provider: WireKind.PROVIDER,
  buyer: WireKind.BUYER,
  both: WireKind.BOTH,
};
const kindFromWire = (k: WireKind): AccountKind => {
  const found = (Object.entries(KIND_TO_WIRE) as [AccountKind, WireKind][]).find(([, w]) => w === k);
  if (!found) throw new TypeError(`unknown account kind on the wire: ${k}`);
  return found[0];
};

/** The integration event for a recorded identity event (null for events that stay inside identity). */
export const toIdentityEvent = (e: RecordedEvent): IdentityEvent | null => {
  switch (e.type) {
    case 'AccountOpened': {
      const d = (e as unknown as AccountEvent & { type: 'AccountOpened' }).data;
      return createEvent(IDENTITY_TOPIC, {
        envelope: envelopeFor(e, d.accountId, new Date(d.openedAt)),
        event: {
          case: 'accountOpened',
          value: {
            accountId: d.accountId,
            legalName: d.legalName,
            kind: KIND_TO_WIRE[d.kind],
            currency: d.currency,
            timezone: d.timezone,
            creditLine: d.creditLine,
            orderLimits: {
              ...(d.orderLimits.maxOpenQuantityLots !== null
                ? { maxOpenQuantityLots: d.orderLimits.maxOpenQuantityLots }
                : {}),
              ...(d.orderLimits.maxOpenNotional !== null ? { maxOpenNotional: d.orderLimits.maxOpenNotional } : {}),
            },
            feeTier: d.feeTier,
          },
        },
      });
    }
    case 'AccountAmended': {
      const d = (e as unknown as AccountEvent & { type: 'AccountAmended' }).data;
      const c = d.changes;
      const limit = (v: string | null | undefined) => (v === undefined ? undefined : v === null ? {} : { value: v });
      return createEvent(IDENTITY_TOPIC, {
        envelope: envelopeFor(e, d.accountId, new Date(d.amendedAt)),
        event: {
          case: 'accountAmended',
          value: {
            accountId: d.accountId,
            ...(c.legalName !== undefined ? { legalName: c.legalName } : {}),
            ...(c.kind !== undefined ? { kind: KIND_TO_WIRE[c.kind] } : {}),
            ...(c.timezone !== undefined ? { timezone: c.timezone } : {}),
            ...(c.creditLine !== undefined ? { creditLine: c.creditLine } : {}),
            ...(c.feeTier !== undefined ? { feeTier: c.feeTier } : {}),
            maxOpenQuantityLots: limit(c.orderLimits?.maxOpenQuantityLots),
            maxOpenNotional: limit(c.orderLimits?.maxOpenNotional),
          },
        },
      });
    }
    case 'ApiKeyIssued': {
      const d = (e as unknown as ApiKeyEvent & { type: 'ApiKeyIssued' }).data;
      return createEvent(IDENTITY_TOPIC, {
        envelope: envelopeFor(e, d.keyId, new Date(d.issuedAt)),
        event: {
          case: 'apiKeyIssued',
          value: {
            keyId: d.keyId,
            role: d.role,
            accountIds: d.accounts,
            ...(d.expiresAt !== null ? { expiresAt: timestampFromDate(new Date(d.expiresAt)) } : {}),
            label: d.label,
            secretHash: d.secretHash,
          },
        },
      });
    }
    case 'ApiKeyRevoked': {
      const d = (e as unknown as ApiKeyEvent & { type: 'ApiKeyRevoked' }).data;
      return createEvent(IDENTITY_TOPIC, {
        envelope: envelopeFor(e, d.keyId, new Date(d.revokedAt)),
        event: { case: 'apiKeyRevoked', value: { keyId: d.keyId, reason: d.reason } },
      });
    }
    default:
      return null;
  }
};

/** The relay route that publishes identity on `cx.identity.v1` (tests name a topic of their own). */
export const identityRelayRouteTo = (topic: string): RelayRoute => ({
  streamPrefixes: IDENTITY_STREAM_PREFIXES,
  toMessage: (e: RecordedEvent) => {
    const event = toIdentityEvent(e);
    return event === null ? null : { topic, message: toKafkaRecord(IDENTITY_TOPIC, event) };
  },
});
export const identityRelayRoute: RelayRoute = identityRelayRouteTo(IDENTITY_TOPIC);

/** A message of `cx.identity.v1` as the event the read model folds (null for a payload this build does not know). */
export const fromIdentityMessage = (
  m: Pick<DeliveredMessage, 'value'>,
): { type: string; data: unknown; position: Position } | null => {
  const event = decodeEvent(IDENTITY_TOPIC, m.value);
  const env = event.envelope;
  const p = env?.source?.position;
  if (!env || !p || !env.occurredAt) throw new TypeError('identity message without envelope or source position');
  const position = { commit: p.commit, prepare: p.prepare };
  const at = timestampDate(env.occurredAt).toISOString();
  const ev = event.event;
  switch (ev.case) {
    case 'accountOpened': {
      const v = ev.value;
      return {
        type: 'AccountOpened',
        position,
        data: {
          accountId: v.accountId,
          legalName: v.legalName,
          kind: kindFromWire(v.kind),
          currency: v.currency,
          timezone: v.timezone,
          creditLine: v.creditLine,
          orderLimits: {
            maxOpenQuantityLots: v.orderLimits?.maxOpenQuantityLots ?? null,
            maxOpenNotional: v.orderLimits?.maxOpenNotional ?? null,
          },
          feeTier: v.feeTier,
          openedAt: at,
        },
      };
    }
    case 'accountAmended': {
      const v = ev.value;
      const limits: Record<string, string | null> = {};
      if (v.maxOpenQuantityLots) limits.maxOpenQuantityLots = v.maxOpenQuantityLots.value ?? null;
      if (v.maxOpenNotional) limits.maxOpenNotional = v.maxOpenNotional.value ?? null;
      return {
        type: 'AccountAmended',
        position,
        data: {
          accountId: v.accountId,
          changes: {
            ...(v.legalName !== undefined ? { legalName: v.legalName } : {}),
            ...(v.kind !== undefined ? { kind: kindFromWire(v.kind) } : {}),
            ...(v.timezone !== undefined ? { timezone: v.timezone } : {}),
            ...(v.creditLine !== undefined ? { creditLine: v.creditLine } : {}),
            ...(v.feeTier !== undefined ? { feeTier: v.feeTier } : {}),
            ...(Object.keys(limits).length > 0 ? { orderLimits: limits } : {}),
          },
          amendedAt: at,
        },
      };
    }
    case 'apiKeyIssued': {
      const v = ev.value;
      return {
        type: 'ApiKeyIssued',
        position,
        data: {
          keyId: v.keyId,
          role: v.role as KeyRole,
          accounts: v.accountIds,
          expiresAt: v.expiresAt ? timestampDate(v.expiresAt).toISOString() : null,
          label: v.label,
          secretHash: v.secretHash,
          issuedAt: at,
        },
      };
    }
    case 'apiKeyRevoked':
      return {
        type: 'ApiKeyRevoked',
        position,
        data: { keyId: ev.value.keyId, reason: ev.value.reason, revokedAt: at },
      };
    default:
      return null;
  }
};

/** Where the topic ends right now, per partition (Kafka's high watermark: the offset the next message gets). */
export type TopicEnd = () => Promise<ReadonlyMap<number, bigint>>;

/**
 * A service's own identity read model, fed from `cx.identity.v1` (distributed mode). Each process reads the
 * whole topic from the beginning under a group of its own: the model lives in memory, so there is nothing to
 * resume from.
 *
 * It offers the same surface as the store-fed IdentityProjection (`model`, `failed`, `ready`, `stop`), so a
 * service host substitutes it for that projection (IdentityFeedModule) and the service code does not change.
 */
export class IdentityFeed {
  readonly model = new IdentityReadModel();
  private consumer: Consumer | null = null;
  private failure: unknown = null;
  private started: Promise<void> | null = null;
  /** Next offset to handle, per partition: what `ready()` compares with the topic's end at start. */
  private readonly next = new Map<number, bigint>();
  private readonly progress = new Set<() => void>();

  constructor(
    private readonly bus: MessageBus,
    private readonly group: string,
    private readonly topic: TopicSpec = identityTopicSpec,
    /**
     * Where the topic ends at start. With it, `ready()` waits until every key issued before this process
     * started is known, so a freshly started service does not refuse valid keys; without it, `ready()` resolves
     * once subscribed.
     */
    private readonly topicEnd?: TopicEnd,
  ) {}

  get failed(): unknown {
    return this.failure;
  }

  /** Subscribes once; every call returns the same promise, resolved when caught up with the topic at start. */
  ready(): Promise<void> {
    this.started ??= this.catchUp();
    return this.started;
  }

  /** Subscribes (for callers that do not wait for the catch-up). */
  async start(): Promise<void> {
    if (this.consumer === null) await this.subscribe();
  }

  /**
   * Identity is written at the gateway only: a service never waits for its own identity write, because it
   * makes none. Refused rather than left waiting forever.
   */
  caughtUpTo(_position: Position): Promise<void> {
    return Promise.reject(new TypeError('identity is written at the gateway; a Kafka-fed projection takes no writes'));
  }

  private async catchUp(): Promise<void> {
    // Read before subscribing: the end we wait for is then at or before anything the consumer will see.
    const end = this.topicEnd ? await this.topicEnd() : new Map<number, bigint>();
    await this.start();
    await new Promise<void>((resolve, reject) => {
      const check = (): void => {
        if (this.failure !== null) {
          this.progress.delete(check);
          reject(this.failure instanceof Error ? this.failure : new Error(String(this.failure)));
          return;
        }
        for (const [partition, offset] of end) if ((this.next.get(partition) ?? 0n) < offset) return;
        this.progress.delete(check);
        resolve();
      };
      this.progress.add(check);
      check();
    });
  }

  private async subscribe(): Promise<void> {
    await this.bus.declareTopics([this.topic]);
    this.consumer = await this.bus.subscribe({
      group: this.group,
      topics: [this.topic.name],
      handler: async (m) => {
        try {
          const event = fromIdentityMessage(m);
          if (event !== null) this.model.apply(event);
        } catch (e) {
          // A message this build cannot read means the model may be missing a revocation: fail closed.
          this.failure = e;
          for (const notify of [...this.progress]) notify();
          throw e;
        }
        this.next.set(m.partition, BigInt(m.offset) + 1n);
        for (const notify of [...this.progress]) notify();
      },
    });
  }

  async stop(): Promise<void> {
    await this.consumer?.close();
    this.consumer = null;
  }
}
