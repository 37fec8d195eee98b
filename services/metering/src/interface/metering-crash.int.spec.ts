// Proves an HTTP batch is counted exactly once across a crash: a real metering process is killed with SIGKILL
// after the batch was durably written but before it answered, and the integrator's retry (to a restarted process
// on the same SQLite file) is all duplicates; killed before anything was written, the retry is all accepted (the
// failed write claimed no identity).
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { openEventStore } from '@cx/event-store';
import { Dec } from '@cx/shared-kernel';
import { httpCall, scaled, tempDir, waitFor } from '@cx/testing';
import type { UsageRecordedData } from '../domain/usage/usage.events';

const ROOT = join(__dirname, '..', '..', '..', '..');
const FIXTURE = join(__dirname, 'fixtures', 'metering-process.fixture.ts');

interface Proc {
  child: ChildProcess;
  out: () => string;
  exited: Promise<unknown>;
}

// Every process a test started, so that a failing test leaves none behind.
const started = new Set<ChildProcess>();

const startProcess = (storePath: string, mode: string): Proc => {
  const child = spawn(process.execPath, ['-r', '@swc-node/register', FIXTURE, storePath, mode], {
    cwd: ROOT,
    env: { ...process.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  started.add(child);
  const exited = new Promise((r) => child.once('exit', r)).finally(() => started.delete(child));
  return { child, out: () => out, exited };
};

const urlOf = (p: Proc): Promise<string> =>
  waitFor(() => /^listening (\S+)$/m.exec(p.out())?.[1], {
    timeoutMs: 60_000,
    what: `the process to listen: ${p.out()}`,
  });

const batchOf = (prefix: string, n: number) =>
  Array.from({ length: n }, (_, i) => ({
    specversion: '1.0',
    id: `${prefix}-${i}`,
    source: '//provider.example/agent',
    type: 'com.cx.usage.v1',
    subject: 'alloc-crash',
    time: new Date(Date.parse('2026-03-10T10:00:00Z') + i * 1_000).toISOString(),
    data: { meter: 'accelerator_seconds', quantity: `${i}.25` },
  }));

describe('metering killed mid-request', () => {
  const dir = tempDir('cx-metering-crash-');
  afterAll(() => {
    for (const child of started) child.kill('SIGKILL');
    dir.remove();
  });

  it('counts the retried batch exactly once, whether the kill came after or before the write', async () => {
    const file = join(dir.path, 'cx.sqlite');
    const n = scaled(1_000, 100);

    // 1. Killed after the durable write, before the answer.
    const first = startProcess(file, 'hang-after-commit');
    const url1 = await urlOf(first);
    const admin = /^admin-key (\S+)$/m.exec(first.out())?.[1] as string;
    expect(admin).toBeDefined();
    const batch = batchOf('after', n);
    const lost = httpCall(url1, 'POST', '/v1/usage', admin, batch).then(
      () => 'answered',
      () => 'no answer',
    );
    await waitFor(() => first.out().includes('committed'), { timeoutMs: 30_000, what: 'the write to commit' });
    first.child.kill('SIGKILL');
    await first.exited;
    expect(await lost).toBe('no answer');

    const second = startProcess(file, 'normal');
    const url2 = await urlOf(second);
    try {
      const retry = await httpCall(url2, 'POST', '/v1/usage', admin, batch);
      expect(retry.status).toBe(200);
      expect(retry.body.rejected).toBe(0);
      expect(retry.body.accepted + retry.body.duplicates).toBe(n);
      // At least the write the process announced survived the kill, so the retry found it.
      expect(retry.body.duplicates).toBeGreaterThan(0);
    } finally {
      second.child.kill('SIGTERM');
      await second.exited;
    }

    // 2. Killed before anything reached the store: the retry is accepted in full.
    const third = startProcess(file, 'hang-before-commit');
    const url3 = await urlOf(third);
    const batch2 = batchOf('before', n);
    const lost2 = httpCall(url3, 'POST', '/v1/usage', admin, batch2).then(
      () => 'answered',
      () => 'no answer',
    );
    await waitFor(() => third.out().includes('appending'), { timeoutMs: 30_000, what: 'the append to start' });
    third.child.kill('SIGKILL');
    await third.exited;
    expect(await lost2).toBe('no answer');
    const fourth = startProcess(file, 'normal');
    const url4 = await urlOf(fourth);
    try {
      const retry = await httpCall(url4, 'POST', '/v1/usage', admin, batch2);
      expect([retry.body.accepted, retry.body.duplicates, retry.body.rejected]).toEqual([n, 0, 0]);
    } finally {
      fourth.child.kill('SIGTERM');
      await fourth.exited;
    }

    // The file holds each event once, and the quantities sum to the batches' sum.
    const store = await openEventStore(`sqlite:${file}`);
    try {
      const seen = new Map<string, number>();
      let sum = new Dec(0);
      for await (const e of store.readAll({ filter: { streamNamePrefixes: ['usage-'] } })) {
        const d = e.data as UsageRecordedData;
        seen.set(d.id, (seen.get(d.id) ?? 0) + 1);
        sum = sum.add(d.quantity);
      }
      expect(seen.size).toBe(2 * n);
      expect([...seen.values()].every((c) => c === 1)).toBe(true);
      const expected = [...batch, ...batch2].reduce((s, e) => s.add(e.data.quantity), new Dec(0));
      expect(sum.toFixed()).toBe(expected.toFixed());
    } finally {
      await store.close();
    }
  });
});
