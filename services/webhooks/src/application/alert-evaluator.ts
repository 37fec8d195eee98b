import { createHash } from 'node:crypto';
import {
  type BeforeApplicationShutdown,
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnModuleInit,
} from '@nestjs/common';
import { v5 as uuidv5 } from 'uuid';
import { EVENT_STORE, type EventStore, NO_STREAM, WrongExpectedVersion } from '@cx/event-store';
import { assertNever, CLOCK, type Clock, Dec } from '@cx/shared-kernel';
import {
  type AlertFired,
  type AlertRearmed,
  bandLine,
  driftPercent,
  type InputRef,
  type Line,
  transition,
} from '../domain/alerts/alert-rule';
import { alertRuleStream } from '../domain/endpoint/webhook.events';
import { WEBHOOKS_CONFIG, type WebhooksConfig } from '../config';
import { WebhooksProjection } from './webhooks.projection';
import { judgedAlready, type RuleState } from './webhooks.read-model';

// Judges participants' alert rules against what the consumers hear: prices (last trade, reference index), the
// bands in force, allocations and their provider readings, and settlements (spend). A rule's state (armed, last
// judged) is its stream: each firing and re-arming is appended at the revision the read model knows, one rule at
// a time, so a value hovering at a line fires once until it has moved back past the margin.
//
// The market state rules are judged against (bands, allocations, readings, spend; prices are judged as they come
// and need no state) is in memory, and it must survive a restart in distributed mode too, where the consumers
// resume from their group's committed offsets and never see the earlier messages again. Each input that changes
// it is therefore recorded, before it is applied, as the only event of its own stream (`alertinput-<hash of the
// integration event id>`, appended at `no_stream`, so a redelivered message records nothing twice), and the state
// is rebuilt from those streams at start, before any consumer subscribes. Chosen over re-reading the topics from
// the beginning with a per-start consumer group: the bus port cannot say when such a replay has caught up, and
// until it has, the utilization sweep would judge allocations against half their readings and fire false
// "below pace" alerts; topic retention could also drop inputs an open period still needs. The record is the
// input itself, not a snapshot of the state, so it is written in the same handler call that commits the offset,
// with no window in which an input is committed but not kept. Only where the host says so (recordAlertInputs:
// the gateway): embedded mode hears everything again at each start, so it records nothing.

type D = InstanceType<typeof Dec>;

interface Band {
  versionId: string;
  version: bigint;
  floor: D | null;
  ceiling: D | null;
  effectiveFrom: number;
  effectiveTo: number | null;
  withdrawn: boolean;
}

interface Allocation {
  allocationId: string;
  accounts: string[];
  quantityHours: D;
  start: number;
  end: number;
}

/** What the evaluator keeps from one integration event, as recorded in its `alertinput-` stream. */
type AlertInput =
  | {
      kind: 'band';
      resourceClass: string;
      region: string | null;
      versionId: string;
      /** The band version, a decimal string (JSON has no 64-bit integers). */
      version: string;
      floor: string | null;
      ceiling: string | null;
      effectiveFrom: string;
      effectiveTo: string | null;
      withdrawn: boolean;
    }
  | {
      kind: 'allocation';
      allocationId: string;
      providerAccountId: string;
      buyerAccountId: string;
      quantityHours: string;
      start: string;
      end: string;
    }
  | { kind: 'reading'; ref: string; allocationId: string | null; seconds: string }
  | {
      kind: 'settlement';
      settlementId: string;
      period: string;
      buyerAccountId: string;
      spend: string;
      currency: string;
    };

export const ALERT_INPUT_STREAM_PREFIX = 'alertinput-';
const alertInputStream = (eventId: string): string =>
  `${ALERT_INPUT_STREAM_PREFIX}${createHash('sha256').update(eventId, 'utf8').digest('hex')}`;

const ALERT_ID_NAMESPACE = '3b8e4f21-9c6d-4e7a-b5f0-6d2c1a9e8b73';
const HOUR_MS = 3_600_000;
const key = (resourceClass: string, region: string | null) => `${resourceClass}\u0000${region ?? ''}`;

@Injectable()
export class AlertEvaluator implements OnModuleInit, OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly log = new Logger('AlertEvaluator');
  private timer: NodeJS.Timeout | null = null;
  private sweeping: Promise<void> | null = null;
  private readonly bands = new Map<string, Band[]>();
  private readonly allocations = new Map<string, Allocation>();
  /** Provider accelerator-seconds per allocation, per reading (source/id), so amendments replace. */
  private readonly readings = new Map<string, Map<string, D>>();
  /** Which allocation a reading belongs to, for amendments and voids that name only the reading. */
  private readonly readingAllocation = new Map<string, string>();
  /** Spend per account, period and currency, per settlement id (a redelivered settlement counts once). */
  private readonly spend = new Map<string, Map<string, D>>();
  /** One rule judged at a time: its appends go at the revision the model knows. */
  private readonly chains = new Map<string, Promise<void>>();

  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(WebhooksProjection) private readonly projection: WebhooksProjection,
    @Inject(WEBHOOKS_CONFIG) private readonly config: WebhooksConfig,
  ) {}

  // Before any consumer subscribes (they do at bootstrap): the state every input recorded so far leaves.
  async onModuleInit(): Promise<void> {
    let n = 0;
    for await (const e of this.store.readAll({
      fromPosition: 'start',
      filter: { streamNamePrefixes: [ALERT_INPUT_STREAM_PREFIX] },
    })) {
      if (e.type !== 'AlertInputHeard') continue;
      this.apply(e.data as AlertInput);
      n++;
    }
    if (n > 0) this.log.log(`alert state rebuilt from ${n} recorded inputs`);
  }

  /**
   * Keeps an input for the next start, then applies it. Recorded first: if the store fails, the handler fails and
   * the message is redelivered, so no committed offset stands for an input the state lost.
   */
  private async hear(eventId: string, input: AlertInput): Promise<void> {
    // Embedded mode hears every input again at each start (its relay replays the store): nothing to keep.
    if (!this.config.recordAlertInputs) {
      this.apply(input);
      return;
    }
    try {
      await this.store.appendToStream(
        alertInputStream(eventId),
        [{ type: 'AlertInputHeard', data: input, metadata: { actor: { service: 'webhooks' } } }],
        { expectedRevision: NO_STREAM },
      );
    } catch (e) {
      // Heard before (a redelivery, or embedded mode's replay at start): recorded already.
      if (!(e instanceof WrongExpectedVersion)) throw e;
    }
    this.apply(input);
  }

  /** Applies an input to the in-memory state; idempotent, so hearing one again changes nothing. */
  private apply(i: AlertInput): void {
    switch (i.kind) {
      case 'band': {
        const list = this.bands.get(key(i.resourceClass, i.region)) ?? [];
        if (list.some((x) => x.versionId === i.versionId)) return;
        list.push({
          versionId: i.versionId,
          version: BigInt(i.version),
          floor: i.floor !== null ? new Dec(i.floor) : null,
          ceiling: i.ceiling !== null ? new Dec(i.ceiling) : null,
          effectiveFrom: Date.parse(i.effectiveFrom),
          effectiveTo: i.effectiveTo !== null ? Date.parse(i.effectiveTo) : null,
          withdrawn: i.withdrawn,
        });
        this.bands.set(key(i.resourceClass, i.region), list);
        return;
      }
      case 'allocation':
        this.allocations.set(i.allocationId, {
          allocationId: i.allocationId,
          accounts: [i.providerAccountId, i.buyerAccountId],
          quantityHours: new Dec(i.quantityHours),
          start: Date.parse(i.start),
          end: Date.parse(i.end),
        });
        return;
      case 'reading': {
        const allocationId = i.allocationId ?? this.readingAllocation.get(i.ref);
        if (allocationId === undefined) return;
        this.readingAllocation.set(i.ref, allocationId);
        const readings = this.readings.get(allocationId) ?? new Map<string, D>();
        readings.set(i.ref, new Dec(i.seconds));
        this.readings.set(allocationId, readings);
        return;
      }
      case 'settlement':
        for (const periodKey of new Set([i.period, i.period.slice(0, 7)])) {
          const k = `${i.buyerAccountId}\u0000${periodKey}\u0000${i.currency}`;
          const m = this.spend.get(k) ?? new Map<string, D>();
          m.set(i.settlementId, new Dec(i.spend));
          this.spend.set(k, m);
        }
        return;
      default:
        return assertNever(i);
    }
  }

  // Utilization below pace shows without any new reading: the allocations in delivery are judged on a timer too.
  onApplicationBootstrap(): void {
    this.timer = setInterval(() => {
      if (this.sweeping !== null) return;
      this.sweeping = this.judgeAllUtilization()
        .catch((e: unknown) => this.log.warn(`utilization sweep failed: ${String(e)}`))
        .finally(() => {
          this.sweeping = null;
        });
    }, this.config.pollMs);
  }

  async beforeApplicationShutdown(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.sweeping;
  }

  async onBand(
    eventId: string,
    b: {
      resourceClass: string;
      region: string | null;
      versionId: string;
      version: bigint;
      floor: string | null;
      ceiling: string | null;
      effectiveFrom: Date;
      effectiveTo: Date | null;
      withdrawn: boolean;
    },
  ): Promise<void> {
    if (this.bands.get(key(b.resourceClass, b.region))?.some((x) => x.versionId === b.versionId)) return;
    await this.hear(eventId, {
      kind: 'band',
      resourceClass: b.resourceClass,
      region: b.region,
      versionId: b.versionId,
      version: b.version.toString(),
      floor: b.floor,
      ceiling: b.ceiling,
      effectiveFrom: b.effectiveFrom.toISOString(),
      effectiveTo: b.effectiveTo?.toISOString() ?? null,
      withdrawn: b.withdrawn,
    });
  }

  /** The band in force for a resource class in a region at an instant: the regional one, else the national one. */
  private bandAt(resourceClass: string, region: string | null, at: number): Band | null {
    const pick = (list: Band[] | undefined): Band | null => {
      // The newest version already in effect at that instant; a withdrawal or an end date means no band.
      const latest = [...(list ?? [])]
        .filter((b) => b.effectiveFrom <= at)
        .sort((a, b) => (a.version < b.version ? 1 : -1))[0];
      if (latest === undefined || latest.withdrawn) return null;
      if (latest.effectiveTo !== null && latest.effectiveTo <= at) return null;
      return latest;
    };
    return (
      (region !== null ? pick(this.bands.get(key(resourceClass, region))) : null) ??
      pick(this.bands.get(key(resourceClass, null)))
    );
  }

  async onPrice(p: {
    source: 'index' | 'last-trade';
    resourceClass: string;
    region: string | null;
    price: string;
    currency: string;
    at: Date;
    input: InputRef;
  }): Promise<void> {
    await this.projection.ready();
    const price = new Dec(p.price);
    for (const rule of this.projection.model.rules.values()) {
      const c = rule.condition;
      if (c.kind !== 'price-level' && c.kind !== 'price-near-band') continue;
      if (c.source !== p.source || c.resourceClass !== p.resourceClass) continue;
      // A national rule hears every region's trades but only the national index; a regional rule its region's.
      if (c.region !== null ? c.region !== p.region : p.source === 'index' && p.region !== null) continue;
      let line: Line;
      if (c.kind === 'price-level') {
        line = { level: new Dec(c.level), fireWhen: c.direction === 'above' ? 'at-or-above' : 'at-or-below' };
      } else {
        const band = this.bandAt(c.resourceClass, p.region ?? c.region, p.at.getTime());
        const bound = c.boundary === 'floor' ? band?.floor : band?.ceiling;
        if (!bound) continue;
        line = bandLine(c.boundary, bound, new Dec(c.withinPercent));
      }
      const what = p.source === 'index' ? 'reference index' : 'last trade';
      await this.judge(
        rule,
        null,
        price,
        line,
        p.at,
        p.input,
        (fired) =>
          `${what} of ${p.resourceClass}${p.region ? ` in ${p.region}` : ''} at ${price.toFixed()} ${p.currency} ${fired ? 'reached' : 'moved back from'} ${line.level.toFixed()}`,
      );
    }
  }

  async onAllocation(
    eventId: string,
    a: {
      allocationId: string;
      providerAccountId: string;
      buyerAccountId: string;
      quantityHours: string;
      start: Date;
      end: Date;
    },
  ): Promise<void> {
    await this.hear(eventId, {
      kind: 'allocation',
      allocationId: a.allocationId,
      providerAccountId: a.providerAccountId,
      buyerAccountId: a.buyerAccountId,
      quantityHours: a.quantityHours,
      start: a.start.toISOString(),
      end: a.end.toISOString(),
    });
  }

  /** A provider reading (new, amended or voided: quantity '0') of accelerator-seconds. */
  async onReading(r: {
    ref: string;
    allocationId: string | null;
    seconds: string;
    at: Date;
    input: InputRef;
  }): Promise<void> {
    const allocationId = r.allocationId ?? this.readingAllocation.get(r.ref);
    // A correction of a reading never heard (not a provider's accelerator-seconds) changes nothing.
    if (allocationId === undefined) return;
    await this.hear(r.input.id, { kind: 'reading', ref: r.ref, allocationId, seconds: r.seconds });
    await this.judgeUtilization(allocationId, r.at, r.input);
  }

  /** Judges every allocation in its delivery window against the clock (called by the worker's timer). */
  async judgeAllUtilization(): Promise<void> {
    const now = this.clock.now();
    const input = { id: `tick-${now.toISOString()}`, recordedAt: new Date().toISOString() };
    for (const a of this.allocations.values()) {
      if (now.getTime() >= a.start && now.getTime() <= a.end + HOUR_MS) {
        await this.judgeUtilization(a.allocationId, now, input);
      }
    }
  }

  private async judgeUtilization(allocationId: string, at: Date, input: InputRef): Promise<void> {
    const a = this.allocations.get(allocationId);
    if (a === undefined || a.end <= a.start) return;
    await this.projection.ready();
    const elapsed = Math.min(Math.max(at.getTime() - a.start, 0), a.end - a.start);
    // The first hour (or the whole window, if shorter) is not judged: readings arrive after the fact.
    if (elapsed < Math.min(HOUR_MS, a.end - a.start)) return;
    const expected = a.quantityHours.mul(elapsed).div(a.end - a.start);
    let seconds = new Dec(0);
    for (const s of this.readings.get(allocationId)?.values() ?? []) seconds = seconds.plus(s);
    const delivered = seconds.div(3600);
    const drift = driftPercent(delivered, expected);
    if (drift === null) return;
    for (const rule of this.projection.model.rules.values()) {
      const c = rule.condition;
      if (c.kind !== 'utilization-drift' || !a.accounts.includes(rule.accountId)) continue;
      if (c.allocationId !== null && c.allocationId !== allocationId) continue;
      const line: Line = { level: new Dec(c.driftPercent), fireWhen: 'at-or-above' };
      await this.judge(
        rule,
        allocationId,
        drift.toDecimalPlaces(4),
        line,
        at,
        input,
        (fired) =>
          `allocation ${allocationId} delivered ${delivered.toDecimalPlaces(4).toFixed()} of ${expected.toDecimalPlaces(4).toFixed()} accelerator-hours expected by now (drift ${drift.toDecimalPlaces(2).toFixed()}%) ${fired ? 'reached' : 'is back within'} ${c.driftPercent}%`,
      );
    }
  }

  async onSettlement(s: {
    settlementId: string;
    period: string;
    buyerAccountId: string;
    amount: string;
    fee: string;
    currency: string;
    at: Date;
    input: InputRef;
  }): Promise<void> {
    await this.projection.ready();
    await this.hear(s.input.id, {
      kind: 'settlement',
      settlementId: s.settlementId,
      period: s.period,
      buyerAccountId: s.buyerAccountId,
      spend: new Dec(s.amount).plus(s.fee).toFixed(),
      currency: s.currency,
    });
    for (const rule of this.projection.model.rules.values()) {
      const c = rule.condition;
      if (c.kind !== 'spend' || rule.accountId !== s.buyerAccountId || c.currency !== s.currency) continue;
      const periodKey = c.period === 'month' ? s.period.slice(0, 7) : s.period;
      if (c.period === 'day' && !/^\d{4}-\d{2}-\d{2}$/.test(s.period)) continue;
      let total = new Dec(0);
      for (const v of this.spend.get(`${s.buyerAccountId}\u0000${periodKey}\u0000${s.currency}`)?.values() ?? []) {
        total = total.plus(v);
      }
      const line: Line = { level: new Dec(c.threshold), fireWhen: 'at-or-above' };
      await this.judge(
        rule,
        periodKey,
        total,
        line,
        s.at,
        s.input,
        (fired) =>
          `spend of ${rule.accountId} in ${periodKey} is ${total.toFixed()} ${c.currency}, ${fired ? 'at or over' : 'back under'} ${c.threshold}`,
      );
    }
  }

  private judge(
    rule: RuleState,
    scope: string | null,
    value: D,
    line: Line,
    at: Date,
    input: InputRef,
    message: (fired: boolean) => string,
  ): Promise<void> {
    const previous = this.chains.get(rule.ruleId) ?? Promise.resolve();
    const next = previous.then(() => this.judgeNow(rule.ruleId, scope, value, line, at, input, message));
    this.chains.set(
      rule.ruleId,
      next.catch(() => undefined),
    );
    return next;
  }

  private async judgeNow(
    ruleId: string,
    scope: string | null,
    value: D,
    line: Line,
    at: Date,
    input: InputRef,
    message: (fired: boolean) => string,
  ): Promise<void> {
    const rule = this.projection.model.rules.get(ruleId);
    if (rule === undefined) return;
    // Inputs recorded before the rule, or before the input that last moved it in this scope (a replay after a
    // restart), are not judged again; nor is an input that moved it already.
    if (judgedAlready(rule, scope, input)) return;
    const armed = !rule.disarmed.has(scope ?? '');
    const t = transition(armed, value, line, new Dec(rule.rearmMarginPercent));
    if (t === null) return;
    const event: AlertFired | AlertRearmed =
      t === 'fire'
        ? {
            type: 'AlertFired',
            data: {
              alertId: uuidv5(`${ruleId}\u0000${rule.firings}`, ALERT_ID_NAMESPACE),
              ruleId,
              accountId: rule.accountId,
              value: value.toFixed(),
              line: line.level.toFixed(),
              scope,
              message: message(true),
              at: at.toISOString(),
              input,
            },
          }
        : { type: 'AlertRearmed', data: { value: value.toFixed(), scope, at: at.toISOString(), input } };
    try {
      const r = await this.store.appendToStream(
        alertRuleStream(ruleId),
        [{ ...event, metadata: { actor: { service: 'webhooks' } } }],
        { expectedRevision: rule.revision },
      );
      await this.projection.caughtUpTo(r.position);
    } catch (e) {
      // Another instance judged the rule first; its outcome stands.
      if (!(e instanceof WrongExpectedVersion)) throw e;
      this.log.debug(`rule ${ruleId} moved meanwhile`);
    }
  }
}
