import {
  type BeforeApplicationShutdown,
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { v5 as uuidv5 } from 'uuid';
import { EVENT_STORE, type EventStore, WrongExpectedVersion } from '@cx/event-store';
import { CLOCK, type Clock, Dec } from '@cx/shared-kernel';
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
import type { RuleState } from './webhooks.read-model';

// Judges participants' alert rules against what the consumers hear: prices (last trade, reference index), the
// bands in force, allocations and their provider readings, and settlements (spend). Market state is in memory,
// rebuilt from the integration topics (embedded mode replays them at every start). A rule's state (armed, last
// judged) is its stream: each firing and re-arming is appended at the revision the read model knows, one rule at
// a time, so a value hovering at a line fires once until it has moved back past the margin.

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

const ALERT_ID_NAMESPACE = '3b8e4f21-9c6d-4e7a-b5f0-6d2c1a9e8b73';
const HOUR_MS = 3_600_000;
const key = (resourceClass: string, region: string | null) => `${resourceClass}\u0000${region ?? ''}`;

@Injectable()
export class AlertEvaluator implements OnApplicationBootstrap, BeforeApplicationShutdown {
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

  onBand(b: {
    resourceClass: string;
    region: string | null;
    versionId: string;
    version: bigint;
    floor: string | null;
    ceiling: string | null;
    effectiveFrom: Date;
    effectiveTo: Date | null;
    withdrawn: boolean;
  }): void {
    const list = this.bands.get(key(b.resourceClass, b.region)) ?? [];
    if (list.some((x) => x.versionId === b.versionId)) return;
    list.push({
      versionId: b.versionId,
      version: b.version,
      floor: b.floor ? new Dec(b.floor) : null,
      ceiling: b.ceiling ? new Dec(b.ceiling) : null,
      effectiveFrom: b.effectiveFrom.getTime(),
      effectiveTo: b.effectiveTo?.getTime() ?? null,
      withdrawn: b.withdrawn,
    });
    this.bands.set(key(b.resourceClass, b.region), list);
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

  onAllocation(a: {
    allocationId: string;
    providerAccountId: string;
    buyerAccountId: string;
    quantityHours: string;
    start: Date;
    end: Date;
  }): void {
    this.allocations.set(a.allocationId, {
      allocationId: a.allocationId,
      accounts: [a.providerAccountId, a.buyerAccountId],
      quantityHours: new Dec(a.quantityHours),
      start: a.start.getTime(),
      end: a.end.getTime(),
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
    if (allocationId === undefined) return;
    this.readingAllocation.set(r.ref, allocationId);
    const readings = this.readings.get(allocationId) ?? new Map<string, D>();
    readings.set(r.ref, new Dec(r.seconds));
    this.readings.set(allocationId, readings);
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
    for (const periodKey of new Set([s.period, s.period.slice(0, 7)])) {
      const k = `${s.buyerAccountId}\u0000${periodKey}\u0000${s.currency}`;
      const m = this.spend.get(k) ?? new Map<string, D>();
      m.set(s.settlementId, new Dec(s.amount).plus(s.fee));
      this.spend.set(k, m);
    }
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
    // Inputs recorded before the rule, or before the input that last moved it (a replay after a restart), are not
    // judged again; nor is an input that moved it already.
    const recorded = Date.parse(input.recordedAt);
    if (recorded < rule.createdRecordedAt || recorded < rule.lastInputAt) return;
    if (recorded === rule.lastInputAt && rule.inputsAtLast.has(input.id)) return;
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
