// Proves that "the band in force at T" is a pure function of the event history: for random issues, amendments and withdrawals and random instants, the live write-side state, the live read model and a replay of the log give the same answer.
import fc from 'fast-check';
import { isDomainError } from '@cx/shared-kernel';
import type { ResourceClassState } from '../domain/catalog/resource-class.decider';
import { bandAt } from '../domain/price-band/band-at';
import { type Band, type BandCommand, decide, evolve, noBand } from '../domain/price-band/price-band.decider';
import { bandIdOf, priceBandStream } from '../domain/price-band/price-band.events';
import { GuidanceReadModel } from './guidance.read-model';

interface LogEntry {
  streamId: string;
  type: string;
  data: unknown;
  position: { commit: bigint; prepare: bigint };
  created: Date;
}

const RC = 'nvidia-h100-sxm-80g';
const REGIONS = [null, 'cn-east-1', 'cn-west-1'] as const;
const START = Date.parse('2026-03-01T00:00:00Z');
const HOUR = 3_600_000;
const NOTICE = 2 * HOUR;
const rc: ResourceClassState = {
  resourceClassId: RC,
  vendor: 'NVIDIA',
  model: 'H100 SXM',
  memoryGiB: 80,
  interconnect: 'NVLink 4 (900 GB/s)',
  units: ['accelerator-hour', 'thousand-tokens'],
  createdAt: '2026-01-01T00:00:00.000Z',
  updatedAt: '2026-01-01T00:00:00.000Z',
};

// Mostly valid prices, so histories grow long; now and then one the decider refuses, which must change nothing.
const priceArb = fc.oneof(
  { weight: 9, arbitrary: fc.constantFrom('8', '10', '12.5', '15', '19.99') },
  { weight: 1, arbitrary: fc.constantFrom('0', '-1', 'x') },
);
const offsetArb = fc.integer({ min: -1, max: 72 }).map((h) => h * HOUR);
const lengthArb = fc.option(
  fc.integer({ min: 1, max: 96 }).map((h) => h * HOUR),
  { nil: null },
);

const commandArb = fc.record({
  kind: fc.constantFrom('issue', 'issue', 'amend', 'amend', 'amend', 'withdraw'),
  region: fc.constantFrom(...REGIONS),
  // How far the clock moves before the command, so later commands see later "nows".
  advanceMs: fc.integer({ min: 0, max: 12 }).map((h) => h * HOUR),
  floor: priceArb,
  ceiling: fc.option(fc.constantFrom('11', '20', '30', null), { nil: undefined }),
  fromOffsetMs: offsetArb,
  lengthMs: lengthArb,
});
type Cmd = typeof commandArb extends fc.Arbitrary<infer T> ? T : never;

/** Runs commands through the decider as the handlers would, recording every accepted event in one log. */
const run = (commands: Cmd[], live: GuidanceReadModel): { log: LogEntry[]; bands: Map<string, Band> } => {
  const bands = new Map<string, Band>();
  const log: LogEntry[] = [];
  let now = START;
  for (const c of commands) {
    now += c.advanceMs;
    const bandId = bandIdOf(RC, c.region);
    const from = now + NOTICE + c.fromOffsetMs;
    const metadata = { now: new Date(now), minNoticeMs: NOTICE, issuedBy: { keyId: 'reg-1', role: 'regulator' } };
    const terms = {
      floorPerAcceleratorHour: c.floor,
      ceilingPerAcceleratorHour: c.ceiling,
      effectiveFrom: new Date(from).toISOString(),
      effectiveTo: c.lengthMs === null ? null : new Date(from + c.lengthMs).toISOString(),
      reason: 'review',
      documentRef: 'DOC-1',
    };
    const cmd: BandCommand =
      c.kind === 'issue'
        ? {
            type: 'IssueBand',
            data: { resourceClass: RC, region: c.region, ...terms, catalog: { resourceClass: rc, regionExists: true } },
            metadata,
          }
        : c.kind === 'amend'
          ? { type: 'AmendBand', data: { bandId, ...terms }, metadata }
          : {
              type: 'WithdrawBand',
              data: { bandId, effectiveAt: terms.effectiveFrom, reason: 'done', documentRef: 'DOC-2' },
              metadata,
            };
    const state = bands.get(bandId) ?? noBand;
    try {
      const events = decide(cmd, state);
      bands.set(bandId, events.reduce(evolve, state));
      for (const e of events) {
        const p = BigInt(log.length + 1);
        const entry = {
          streamId: priceBandStream(bandId),
          ...e,
          position: { commit: p, prepare: p },
          created: new Date(now),
        };
        log.push(entry);
        live.apply(entry);
      }
    } catch (e) {
      // Refused commands append nothing, exactly as in the handlers.
      if (!isDomainError(e)) throw e;
    }
  }
  return { log, bands };
};

// Events travel through the store as JSON, so the replayed copy goes through JSON too.
const replay = (log: LogEntry[]): GuidanceReadModel => {
  const model = new GuidanceReadModel();
  for (const e of log) model.apply({ ...e, data: JSON.parse(JSON.stringify(e.data)) as unknown });
  return model;
};

const instantArb = fc.integer({ min: -2, max: 24 * 14 }).map((h) => new Date(START + h * HOUR));

describe('bandAt over random histories', () => {
  it('answers the same from live state, from the live read model and from a replay', () => {
    fc.assert(
      fc.property(
        fc.array(commandArb, { maxLength: 40, size: 'max' }),
        fc.array(fc.tuple(instantArb, fc.constantFrom(...REGIONS)), { minLength: 1, maxLength: 20 }),
        (commands, probes) => {
          const live = new GuidanceReadModel();
          const { log, bands } = run(commands, live);
          const replayed = replay(log);
          const writeSide = [...bands.values()].flatMap((b) => b?.versions ?? []);
          // Random instants, and every edge of every version: where an off-by-one would show.
          const edges = writeSide.flatMap((v) =>
            [v.effectiveFrom, v.effectiveTo]
              .filter((x): x is string => x !== null)
              .flatMap((x) => [Date.parse(x) - 1, Date.parse(x)])
              .flatMap((ms) => REGIONS.map((region) => [new Date(ms), region] as const)),
          );
          for (const [t, region] of [...probes, ...edges]) {
            const fromState = bandAt(writeSide, RC, region, t);
            const fromLive = live.bandAt(RC, region, t);
            const fromReplay = replayed.bandAt(RC, region, t);
            expect(fromLive).toEqual(fromReplay);
            expect(fromLive?.versionId ?? null).toEqual(fromState?.versionId ?? null);
            // Whatever is found is in force: started, not ended, never a withdrawal, with a positive floor.
            if (fromLive !== null) {
              expect(Date.parse(fromLive.effectiveFrom)).toBeLessThanOrEqual(t.getTime());
              if (fromLive.effectiveTo !== null) expect(t.getTime()).toBeLessThan(Date.parse(fromLive.effectiveTo));
              expect(fromLive.kind).not.toBe('withdrawn');
              expect(Number(fromLive.floorPerAcceleratorHour)).toBeGreaterThan(0);
            }
          }
          expect(replayed.history(RC)).toEqual(live.history(RC));
        },
      ),
      { numRuns: 100 },
    );
  });

  it('never changes the answer for an instant already passed: a change always comes with notice', () => {
    fc.assert(
      fc.property(fc.array(commandArb, { maxLength: 40, size: 'max' }), (commands) => {
        // After each accepted command, the answer for any instant before now + notice is what it was before.
        const model = new GuidanceReadModel();
        const { log } = run(commands, new GuidanceReadModel());
        for (const e of log) {
          const before = [0, 1, 2, 3].map((i) => new Date(e.created.getTime() + (i * NOTICE) / 4 - 1));
          const answers = before.flatMap((t) => REGIONS.map((r) => model.bandAt(RC, r, t)?.versionId ?? null));
          model.apply(e);
          expect(before.flatMap((t) => REGIONS.map((r) => model.bandAt(RC, r, t)?.versionId ?? null))).toEqual(answers);
        }
      }),
      { numRuns: 80 },
    );
  });

  it('ignores redelivered events and other services’ events', () => {
    const model = new GuidanceReadModel();
    const { log } = run(
      [{ kind: 'issue', region: null, advanceMs: 0, floor: '10', ceiling: undefined, fromOffsetMs: 0, lengthMs: null }],
      new GuidanceReadModel(),
    );
    for (const e of log) expect(model.apply(e)).toBe(true);
    for (const e of log) expect(model.apply(e)).toBe(false);
    expect(model.apply({ type: 'OrderRested', data: {}, position: { commit: 99n, prepare: 99n } })).toBe(false);
    expect(model.history(RC)).toHaveLength(1);
  });
});
