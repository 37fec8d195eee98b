// Proves the whole exchange end to end in distributed mode, and that embedded mode agrees with it: the gateway and
// the four services as separate OS processes on their own SQLite files over a Kafka broker of this test's own
// (fresh topics), one shared simulated clock, and the full story over HTTP (catalog, guidance issued for the
// future, orders rest, the floor takes effect and cancels some, trades, allocations, usage over HTTP and over
// Kafka with duplicates, the day closed, statements in JSON and CSV); `cx audit verify` over the five stores is
// clean; the same story in the embedded exchange issues statements with the same content hashes.
import 'reflect-metadata';
import { join } from 'node:path';
import { tempDir } from '@cx/testing';
import { Cluster, PROCESSES } from './testing/cluster';
import { type PrivateBroker, startPrivateBroker } from './testing/private-broker';
import {
  ACCOUNTS,
  auditVerify,
  distributedStoryEnv,
  runStory,
  startStoryEmbedded,
  STORY_T0,
  type StoryResult,
} from './testing/story';
import { UsageProducer } from './testing/usage-producer';

describe('the full story, distributed and embedded', () => {
  const dir = tempDir('cx-story-');
  let broker: PrivateBroker | undefined;
  let cluster: Cluster | undefined;
  let producer: UsageProducer | undefined;
  let distributed: StoryResult | undefined;

  beforeAll(async () => {
    broker = await startPrivateBroker(join(dir.path, 'kafka'));
    producer = new UsageProducer(broker.brokers);
    cluster = await Cluster.start({
      dir: join(dir.path, 'cluster'),
      brokers: broker.brokers,
      env: distributedStoryEnv(),
      clockStart: new Date(STORY_T0),
    });
  }, 300_000);

  afterAll(async () => {
    await producer?.close();
    await cluster?.stop('SIGKILL');
    await broker?.stop();
    dir.remove();
  }, 120_000);

  it('runs the story through the gateway and four services over Kafka', async () => {
    const c = cluster!;
    try {
      distributed = await runStory({
        mode: 'distributed',
        url: c.url('gateway'),
        storeUrl: (s) => c.url(s),
        admin: c.adminKey,
        setClock: (iso) => c.clock!.set(iso),
        produceUsage: (events, account) => producer!.send(events, account),
        stores: PROCESSES.map((p) => c.storeFile(p)),
      });
    } catch (e) {
      throw new Error(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n${c.output().slice(-20_000)}`);
    }
    expect(Object.keys(distributed.hashes).sort()).toEqual([...ACCOUNTS].sort());
  }, 300_000);

  it('verifies all five stores clean with cx audit verify (repeatable --store)', async () => {
    expect(distributed).toBeDefined();
    const verified = await auditVerify(PROCESSES.map((p) => cluster!.storeFile(p)));
    expect({ code: verified.code, clean: verified.report.clean }).toEqual({ code: 0, clean: true });
    // Every store was read and every business rule ran over them.
    expect(verified.report).toMatchObject({
      sources: expect.arrayContaining([expect.stringContaining('billing'), expect.stringContaining('gateway')]),
      rules: expect.arrayContaining(['floor', 'ledger', 'usage', 'statements']),
      violationCount: 0,
    });
    expect((verified.report.sources as string[]).length).toBe(5);
    expect(verified.report.eventsChecked).toBeGreaterThan(50);
  }, 180_000);

  it('issues statements with the same content hashes in the embedded exchange', async () => {
    expect(distributed).toBeDefined();
    const file = join(dir.path, 'embedded.sqlite');
    const app = await startStoryEmbedded(file, STORY_T0);
    try {
      const embedded = await runStory({
        mode: 'embedded',
        url: app.url,
        storeUrl: () => app.url,
        admin: app.adminKey as string,
        setClock: (iso) => void app.clock.set(new Date(iso)),
        stores: [file],
      });
      process.stderr.write(`story: statement hashes ${JSON.stringify(distributed!.hashes)}\n`);
      expect(embedded.hashes).toEqual(distributed!.hashes);
      const verified = await auditVerify([file]);
      expect({ code: verified.code, clean: verified.report.clean }).toEqual({ code: 0, clean: true });
    } finally {
      await app.app.close();
    }
  }, 300_000);
});
