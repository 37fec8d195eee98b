// Proves the relay loses nothing when killed: a real relay process publishing a store's events to a real Kafka
// broker is killed with SIGKILL mid-run and restarted; afterwards every event is on Kafka at least once, and a
// consumer using EffectStream applies each exactly once.
import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { SqliteEventStore } from '@cx/event-store';
import { kafkaBrokers, scaled, tempDir, waitFor } from '@cx/testing';
import { KafkaBus } from '../kafka/kafka-bus.adapter';
import { EffectStream, sourceOf } from '../idempotent/effect-stream';

const ROOT = join(__dirname, '..', '..', '..', '..');
const FIXTURE = join(__dirname, 'fixtures', 'relay-process.fixture.ts');
const STREAMS = 50;

/** Events the relay process says it published (one line per acknowledged batch). */
const published = (out: string): number =>
  [...out.matchAll(/^published (\d+)$/gm)].reduce((sum, m) => sum + Number(m[1]), 0);

describe('relay killed mid-run', () => {
  const dir = tempDir();
  afterAll(() => dir.remove());

  it('publishes every event at least once and the consumer applies each exactly once', async () => {
    const total = scaled(50_000, 10_000);
    const brokers = await kafkaBrokers();
    const topic = `cx.test.relay-crash-${randomUUID().slice(0, 8)}.v1`;
    const storePath = join(dir.path, 'source.sqlite');

    // The source: `total` events over STREAMS streams, written before the relay starts.
    const source = SqliteEventStore.open(storePath);
    const perStream = Math.ceil(total / STREAMS);
    for (let s = 0; s < STREAMS; s++) {
      for (let from = 0; from < perStream; from += 100) {
        const count = Math.min(100, perStream - from);
        const events = Array.from({ length: count }, (_, i) => ({ type: 'LoadRecorded', data: { s, i: from + i } }));
        await source.appendToStream(`load-${s}`, events, {
          expectedRevision: from === 0 ? 'no_stream' : BigInt(from - 1),
        });
      }
    }
    await source.close();
    const expected = perStream * STREAMS;

    // The consumer: counts into its own store, one effect stream per source stream.
    const sink = SqliteEventStore.open(join(dir.path, 'sink.sqlite'));
    const bus = new KafkaBus({ brokers, clientId: 'relay-crash-consumer' });
    await bus.declareTopics([{ name: topic, partitions: 3 }]);
    const effects = new Map<string, Promise<EffectStream<number>>>();
    let delivered = 0;
    let applied = 0;
    const consumer = await bus.subscribe({
      group: `relay-crash-${randomUUID().slice(0, 8)}`,
      topics: [topic],
      handler: async (m) => {
        delivered++;
        const src = sourceOf(m);
        let stream = effects.get(src.stream);
        if (!stream) {
          stream = EffectStream.load({
            store: sink,
            stream: `count-${src.stream}`,
            consumer: 'counter',
            evolve: (n: number) => n + 1,
            initial: 0,
          });
          effects.set(src.stream, stream);
        }
        if (
          (await (
            await stream
          ).applyOnce(src, () => [{ type: 'Counted', data: { revision: src.revision.toString() } }])) === 'applied'
        ) {
          applied++;
        }
      },
    });

    const startRelay = (): { child: ChildProcess; out: () => string } => {
      const child = spawn(process.execPath, ['-r', '@swc-node/register', FIXTURE, storePath, topic], {
        cwd: ROOT,
        env: { ...process.env, KAFKA_BROKERS: brokers.join(',') },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
      child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
      return { child, out: () => out };
    };

    try {
      const first = startRelay();
      // Kill it once it has published a third, while it is still publishing.
      await waitFor(() => published(first.out()) >= expected / 3, { timeoutMs: 90_000, what: 'a third published' });
      first.child.kill('SIGKILL');
      await new Promise((r) => first.child.once('exit', r));
      expect(published(first.out())).toBeLessThan(expected);

      const second = startRelay();
      await waitFor(() => applied === expected, { timeoutMs: 120_000, what: `all ${expected} events applied` });
      second.child.kill('SIGTERM');
      await new Promise((r) => second.child.once('exit', r));
      // The restarted relay resumed from its checkpoint: it published the rest (and, at most, what was
      // acknowledged after the last checkpoint again), not everything from the start.
      expect(published(second.out())).toBeGreaterThanOrEqual(expected - published(first.out()));
      expect(published(second.out())).toBeLessThan(expected);

      expect(delivered).toBeGreaterThanOrEqual(expected);
      // Exactly once: each effect stream holds one Counted per source revision, in order.
      for (let s = 0; s < STREAMS; s++) {
        const revisions: string[] = [];
        for await (const e of sink.readStream(`count-load-${s}`))
          revisions.push((e.data as { revision: string }).revision);
        expect(revisions).toEqual(Array.from({ length: perStream }, (_, i) => String(i)));
      }
      process.stderr.write(
        `relay crash test: ${expected} events, ${delivered} deliveries (${delivered - expected} duplicates)\n`,
      );
    } finally {
      await consumer.close();
      await bus.close();
      await sink.close();
    }
  });
});
