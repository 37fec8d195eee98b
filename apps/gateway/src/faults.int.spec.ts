// Proves distributed mode survives crashes: while a deterministic load (orders over HTTP; usage over HTTP and over
// Kafka, with duplicates) runs through the gateway, each of the five processes is killed with SIGKILL and started
// again on its port and store, and the Kafka broker (this test's own) is restarted once; clients retry with the
// same Idempotency-Key and CloudEvent ids, as integrators do; billing is killed once more while it closes the day. Afterwards nothing is lost and nothing is counted
// twice (every trade held once, every usage event recorded and heard once, aggregates equal what was sent), the
// ledger agrees with the statements and buyers' payments equal providers' receipts, `cx audit verify` is clean
// over the five stores, and the statements have the content hashes of the same input run undisturbed (embedded).
// Sizes: 20,000 orders and 100,000 usage events × CX_TEST_SCALE (CI: 400 and 2,000).
import 'reflect-metadata';
import { join } from 'node:path';
import { scaled, tempDir, waitFor } from '@cx/testing';
import { auditEvents } from './testing/client';
import { Cluster, PROCESSES, type ProcessName } from './testing/cluster';
import { type PrivateBroker, startPrivateBroker } from './testing/private-broker';
import { auditVerify, distributedStoryEnv, startStoryEmbedded } from './testing/story';
import { UsageProducer } from './testing/usage-producer';
import { runWorkload, WORKLOAD_T0, type WorkloadResult } from './testing/workload';

const SIZES = { orders: scaled(20_000, 200), usage: scaled(100_000, 1_000) };

interface Fault {
  phase: 'orders' | 'usage';
  /** The fraction of the phase's load sent when it strikes. */
  at: number;
  target: ProcessName | 'broker';
}

// Each process once, and the broker once.
const FAULTS: Fault[] = [
  { phase: 'orders', at: 0.15, target: 'matching' },
  { phase: 'orders', at: 0.4, target: 'billing' },
  { phase: 'orders', at: 0.65, target: 'pricing-guidance' },
  { phase: 'orders', at: 0.85, target: 'gateway' },
  { phase: 'usage', at: 0.2, target: 'metering' },
  { phase: 'usage', at: 0.5, target: 'broker' },
];

describe('faults: kill -9 each process in turn and restart the broker, under load', () => {
  const dir = tempDir('cx-faults-');
  let broker: PrivateBroker | undefined;
  let cluster: Cluster | undefined;
  let producer: UsageProducer | undefined;
  let disturbed: WorkloadResult | undefined;
  const log = (line: string) => process.stderr.write(`faults: ${line}\n`);

  beforeAll(async () => {
    broker = await startPrivateBroker(join(dir.path, 'kafka'));
    producer = new UsageProducer(broker.brokers);
    cluster = await Cluster.start({
      dir: join(dir.path, 'cluster'),
      brokers: broker.brokers,
      env: distributedStoryEnv(),
      clockStart: new Date(WORKLOAD_T0),
      supervise: true,
    });
  }, 300_000);

  afterAll(async () => {
    await producer?.close();
    await cluster?.stop('SIGKILL');
    await broker?.stop();
    dir.remove();
  }, 120_000);

  it(`loses nothing and counts nothing twice (${SIZES.orders} orders, ${SIZES.usage} usage events)`, async () => {
    const c = cluster!;
    const b = broker!;
    const struck: string[] = [];
    let next = 0;
    let running: Promise<void> = Promise.resolve();
    const strike = async (f: Fault): Promise<void> => {
      const started = Date.now();
      if (f.target === 'broker') {
        await b.stop();
        await b.start();
      } else {
        await c.kill(f.target);
        await c.restart(f.target);
      }
      struck.push(f.target);
      log(`${f.target} killed and back in ${Date.now() - started} ms`);
      if (f.target !== 'broker') log(`  ${f.target}'s slow start-up steps: ${c.slowSteps(f.target).join(' | ')}`);
    };
    const progress = async (phase: 'orders' | 'usage', done: number, total: number): Promise<void> => {
      const f = FAULTS[next];
      if (f === undefined || f.phase !== phase || done < Math.ceil(f.at * total)) return;
      next += 1;
      // One fault at a time, chained: a fault starts once the previous one is over, even when two come due
      // together (the books run side by side, so a second fault can come due while the first still waits; both
      // awaiting the same earlier fault once let a gateway restart run while pricing-guidance was down). The
      // load waits until this one's process is dead, then goes on while it restarts.
      let killed!: () => void;
      const hasKilled = new Promise<void>((r) => (killed = r));
      const previous = running;
      running = (async () => {
        try {
          await previous;
        } catch (e) {
          // An earlier fault failed: the load must not wait for this one; the failure reaches `await running`.
          killed();
          throw e;
        }
        if (f.target !== 'broker') {
          const p = c.procs.get(f.target);
          // The load resumes once the process is dead, and retries against it while it restarts.
          if (p === undefined) killed();
          else p.child.once('exit', () => killed());
        }
        const s = strike(f);
        if (f.target === 'broker') killed();
        await s;
      })();
      await hasKilled;
    };
    // Billing killed while it settles the day: once the first settlement is in its store, the close still running.
    let closeKilledAfter = -1;
    const duringClose = async (): Promise<void> => {
      await waitFor(async () => (await auditEvents(c.url('billing'), c.adminKey, 'AllocationSettled')).length > 0, {
        timeoutMs: 120_000,
        intervalMs: 20,
        what: 'the close to start settling',
      });
      closeKilledAfter = (await auditEvents(c.url('billing'), c.adminKey, 'AllocationSettled')).length;
      await strike({ phase: 'usage', at: 1, target: 'billing' });
    };
    const started = Date.now();
    try {
      disturbed = await runWorkload(
        {
          mode: 'distributed',
          url: c.url('gateway'),
          storeUrl: (s) => c.url(s),
          admin: c.adminKey,
          setClock: (iso) => c.clock!.set(iso),
          produceUsage: (events, account) => producer!.send(events, account),
          stores: PROCESSES.map((p) => c.storeFile(p)),
        },
        SIZES,
        { progress, duringClose },
      );
      await running;
    } catch (e) {
      throw new Error(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n${c.output().slice(-30_000)}`);
    }
    log(
      `${disturbed.trades} trades, ${disturbed.usageEvents} usage events, ${disturbed.retries} retried calls, ` +
        `${disturbed.staleRetries} orders re-placed after GUIDANCE_STALE, in ${Date.now() - started} ms; ` +
        `unexpected exits: ${JSON.stringify(c.unexpectedExits.map((x) => [x.name, x.code]))}`,
    );
    log(
      `billing killed during the close after ${closeKilledAfter} settlements; the close answered "${disturbed.closeAnswer}"`,
    );
    expect(struck).toEqual([...FAULTS.map((f) => f.target), 'billing']);
    expect(disturbed.trades).toBeGreaterThan(SIZES.orders / 10);
    // The close that billing's crash cut short, finished by the retry, still reports (and records in PeriodClosed)
    // every allocation it settled, those settled before the crash included.
    if (disturbed.closeSettlements !== null) expect(disturbed.closeSettlements).toBe(disturbed.trades);
  }, 1_800_000);

  it('verifies all five stores clean with cx audit verify', async () => {
    expect(disturbed).toBeDefined();
    const verified = await auditVerify(PROCESSES.map((p) => cluster!.storeFile(p)));
    expect({ code: verified.code, clean: verified.report.clean, violations: verified.report.violationCount }).toEqual({
      code: 0,
      clean: true,
      violations: 0,
    });
    expect(verified.report.rules).toEqual(expect.arrayContaining(['ledger', 'usage', 'statements']));
  }, 600_000);

  it('issues the statements of an undisturbed run of the same input', async () => {
    expect(disturbed).toBeDefined();
    const file = join(dir.path, 'undisturbed.sqlite');
    const app = await startStoryEmbedded(file, WORKLOAD_T0);
    try {
      const undisturbed = await runWorkload(
        {
          mode: 'embedded',
          url: app.url,
          storeUrl: () => app.url,
          admin: app.adminKey as string,
          setClock: (iso) => void app.clock.set(new Date(iso)),
          stores: [file],
        },
        SIZES,
      );
      expect(undisturbed.trades).toBe(disturbed!.trades);
      expect(undisturbed.closeSettlements).toBe(undisturbed.trades);
      expect(undisturbed.usageSent).toEqual(disturbed!.usageSent);
      log(`statement hashes ${JSON.stringify(disturbed!.hashes)}`);
      expect(disturbed!.hashes).toEqual(undisturbed.hashes);
    } finally {
      await app.app.close();
    }
  }, 1_800_000);
});
