import {
  type AppendResult,
  load,
  NO_STREAM,
  type Position,
  type RecordedEvent,
  toNewEvents,
  WrongExpectedVersion,
  withConcurrencyRetry,
} from '@cx/event-store';
import type { MeterDefinition } from '../domain/meter/meter.events';
import { inIntervals, type Interval } from '../domain/period/closed-periods';
import { type Corrector, decide, evolve, noUsage, type UsageState } from '../domain/usage/usage-correction.decider';
import {
  isUsageEvent,
  type ReporterRole,
  type UsageEvent,
  type UsageRecordedData,
  usageFingerprint,
  usageStream,
} from '../domain/usage/usage.events';
import {
  type Rejection,
  type ValidationContext,
  type ValidUsage,
  validateUsage,
} from '../domain/usage/usage.validation';
import type { AllocationHeardData } from './metering.events';
import type { CommandMetadata, MeteringDeps } from './ports';

// Ingestion is exactly-once by identity: an accepted event is stored as the first event of the stream named
// after its `(source, id)`, appended at `no_stream`. The claim and the event are one write, so a failed write
// claims nothing, and a second post of the same identity meets WrongExpectedVersion and is compared with what
// is stored. The claims of a batch go to the store in one appendToStreams call, which writes them in one
// transaction, in which each claim still stands or falls alone.

export interface Publisher {
  role: 'admin' | 'integrator';
  accounts: readonly string[];
}

export interface UsageViews {
  meters: ReadonlyMap<string, MeterDefinition>;
  allocations: ReadonlyMap<string, AllocationHeardData>;
  /** The billing periods heard closed: usage in one is accepted as late. */
  closedPeriods: readonly Interval[];
}

export type UsageResult =
  | { index: number; source: string | null; id: string | null; status: 'accepted' | 'duplicate'; late: boolean }
  | ({ index: number; source: string | null; id: string | null; status: 'rejected' } & Rejection);

/** Who publishes each event: one principal for an HTTP request; per message on Kafka, where it may be missing. */
export type PublisherOf = Publisher | ((index: number) => Publisher | Rejection);

export interface IngestOutcome {
  results: UsageResult[];
  /** The last position written, for read-your-writes; null when nothing was written. */
  lastPosition: Position | null;
}

// Another tenant's allocation answers exactly as one that does not exist.
const subjectNotFound = (subject: string): Rejection => ({
  code: 'METERING.SUBJECT_NOT_FOUND',
  field: 'subject',
  message: `no allocation or account ${subject.slice(0, 64)} you may publish usage for`,
});

/** Who may publish usage for the subject, and as whose reading it counts. */
export const authorise = (
  u: ValidUsage,
  publisher: Publisher,
  views: UsageViews,
): { subjectKind: 'allocation' | 'account'; role: ReporterRole; account: string | null } | Rejection => {
  const allocation = views.allocations.get(u.subject);
  if (allocation) {
    if (publisher.role === 'admin') return { subjectKind: 'allocation', role: 'provider', account: null };
    // The provider's reading counts for delivery; a key acting for both sides reports as the provider.
    if (publisher.accounts.includes(allocation.providerAccount)) {
      return { subjectKind: 'allocation', role: 'provider', account: allocation.providerAccount };
    }
    if (publisher.accounts.includes(allocation.buyerAccount)) {
      return { subjectKind: 'allocation', role: 'buyer', account: allocation.buyerAccount };
    }
    return subjectNotFound(u.subject);
  }
  // Not an allocation: usage of an offer by an account, which names the offer.
  if (u.offerId === null) return subjectNotFound(u.subject);
  if (publisher.role === 'admin' || publisher.accounts.includes(u.subject)) {
    return { subjectKind: 'account', role: 'account', account: u.subject };
  }
  return subjectNotFound(u.subject);
};

const identityOf = (raw: unknown): { source: string | null; id: string | null } => {
  const o = typeof raw === 'object' && raw !== null ? (raw as Record<string, unknown>) : {};
  return {
    source: typeof o.source === 'string' ? o.source : null,
    id: typeof o.id === 'string' ? o.id : null,
  };
};

const readFirst = async (deps: MeteringDeps, stream: string): Promise<RecordedEvent> => {
  for await (const e of deps.store.readStream(stream, { maxCount: 1 })) return e;
  // WrongExpectedVersion at no_stream means the stream exists; it cannot be empty.
  throw new Error(`usage stream ${stream} exists but has no event`);
};

/** An event judged acceptable, waiting for its claim: the stream it claims and what it records. */
interface Claim {
  index: number;
  stream: string;
  data: UsageRecordedData;
}

/**
 * Judges one event (shape, meter, time, then who may publish it) and builds what it would record, or says why it
 * is rejected. Pure apart from hashing its identity into the stream name.
 */
const judge = (
  raw: unknown,
  index: number,
  publisher: PublisherOf,
  views: UsageViews,
  ctx: ValidationContext,
  recordedAt: string,
): Claim | UsageResult => {
  const v = validateUsage(raw, ctx);
  if ('rejected' in v) return { index, ...identityOf(raw), status: 'rejected', ...v.rejected };
  const u = v.ok;
  const by = typeof publisher === 'function' ? publisher(index) : publisher;
  if ('code' in by) return { index, source: u.source, id: u.id, status: 'rejected', ...by };
  const who = authorise(u, by, views);
  if ('code' in who) return { index, source: u.source, id: u.id, status: 'rejected', ...who };
  // Keys in canonical (sorted) order, as the dimensions are: the audit chain hashes such an event as it is.
  const data: UsageRecordedData = {
    dimensions: u.dimensions,
    id: u.id,
    // Still accepted: a closed period's statement is never edited; billing books late usage in the next one.
    late: inIntervals(views.closedPeriods, Date.parse(u.time)),
    meter: u.meter.key,
    offerId: u.offerId,
    quantity: u.quantity,
    recordedAt,
    reporterAccount: who.account,
    reporterRole: who.role,
    source: u.source,
    subject: u.subject,
    subjectKind: who.subjectKind,
    time: u.time,
    type: u.type,
  };
  return { index, stream: usageStream(u.source, u.id), data };
};

/** What a claim that met an existing stream means: the same event again (duplicate), or another one (conflict). */
const repeatOf = async (deps: MeteringDeps, claim: Claim): Promise<UsageResult> => {
  const { index, data } = claim;
  const stored = (await readFirst(deps, claim.stream)).data as UsageRecordedData;
  if (usageFingerprint(stored) === usageFingerprint(data)) {
    return { index, source: data.source, id: data.id, status: 'duplicate', late: stored.late === true };
  }
  return {
    index,
    source: data.source,
    id: data.id,
    status: 'rejected',
    code: 'METERING.CONFLICT',
    field: 'id',
    message: 'another event with this source and id, and different content, was already accepted',
  };
};

export const ingestUsage = async (
  deps: MeteringDeps,
  raws: readonly unknown[],
  publisher: PublisherOf,
  views: UsageViews,
  meta: CommandMetadata,
): Promise<IngestOutcome> => {
  const now = deps.clock.now();
  const recordedAt = now.toISOString();
  const ctx: ValidationContext = {
    now,
    meters: views.meters,
    futureToleranceMs: deps.config.futureToleranceMs,
    dedupeWindowMs: deps.config.dedupeWindowMs,
  };
  // Every event of a batch has the same cause, so they share one metadata object (the store serialises it per
  // event; nothing mutates it).
  const metadata = { correlationId: meta.correlationId, causationId: meta.causationId, actor: meta.actor };
  let lastPosition: Position | null = null;
  const results = new Array<UsageResult | Promise<UsageResult>>(raws.length);
  const claims: Claim[] = [];
  for (let index = 0; index < raws.length; index++) {
    const judged = judge(raws[index], index, publisher, views, ctx, recordedAt);
    if ('stream' in judged) claims.push(judged);
    else results[index] = judged;
  }
  // Every claim in one call (the SQLite store writes them in one transaction), each standing or falling alone.
  const outcomes =
    claims.length === 0
      ? []
      : await deps.store.appendToStreams(
          claims.map((claim) => ({
            stream: claim.stream,
            // A fresh event id on purpose: a repeat must meet WrongExpectedVersion and be compared with what is
            // stored, not be waved through by the store's id cache as if it were the first.
            events: [{ type: 'UsageRecorded', data: claim.data, metadata }],
            expectedRevision: NO_STREAM,
          })),
        );
  // Any failure but a claim already taken fails the ingestion (nothing is answered accepted that may not be).
  for (const o of outcomes) if (!o.ok && !(o.error instanceof WrongExpectedVersion)) throw o.error;
  outcomes.forEach((o, k) => {
    const claim = claims[k] as Claim;
    const { index, data } = claim;
    if (!o.ok) {
      results[index] = repeatOf(deps, claim);
      return;
    }
    if (lastPosition === null || o.result.position.commit > lastPosition.commit) lastPosition = o.result.position;
    results[index] = { index, source: data.source, id: data.id, status: 'accepted', late: data.late === true };
  });
  return { results: await Promise.all(results), lastPosition };
};

/**
 * Amends or voids the usage recorded under `(source, id)`: load its stream, decide, append at the revision read (a
 * concurrent correction makes the append fail and the decision is taken again on the new state). Returns the
 * state after the correction and the append's result, null when the correction repeated the last one.
 */
export const correctUsage = (
  deps: MeteringDeps,
  ref: { source: string; id: string },
  request: { type: 'AmendUsage'; quantity: unknown; reason: unknown } | { type: 'VoidUsage'; reason: unknown },
  by: Corrector,
  closed: readonly Interval[],
  meta: CommandMetadata,
): Promise<{ events: UsageEvent[]; result: AppendResult | null; state: UsageState }> =>
  withConcurrencyRetry(async () => {
    const stream = usageStream(ref.source, ref.id);
    const { state, revision } = await load(deps.store, stream, evolve, noUsage, isUsageEvent);
    const common = { reason: request.reason, by, closed, now: deps.clock.now() };
    const events = decide(
      request.type === 'AmendUsage'
        ? { type: 'AmendUsage', data: { ...common, quantity: request.quantity } }
        : { type: 'VoidUsage', data: common },
      state,
    );
    const after = events.reduce(evolve, state);
    if (events.length === 0) return { events, result: null, state: after };
    const result = await deps.store.appendToStream(stream, toNewEvents(events, meta), { expectedRevision: revision });
    return { events, result, state: after };
  });
