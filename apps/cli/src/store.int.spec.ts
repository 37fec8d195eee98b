// Proves `cx store backup|restore` as real processes on real SQLite files: an online backup taken while appends
// go on is consistent and verifies clean, a restore reproduces it exactly, and a bad or unforced restore refuses
// and leaves the target as it was.
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ChainedEventStore } from '@cx/audit';
import { type EventStore, openEventStore, SqliteEventStore } from '@cx/event-store';
import { tempDir } from '@cx/testing';

const repoRoot = join(__dirname, '..', '..', '..');

const cx = (args: string[]): Promise<{ code: number; stdout: string; stderr: string }> =>
  new Promise((resolve) => {
    execFile(
      process.execPath,
      [join(repoRoot, 'bin', 'cx.js'), ...args],
      { cwd: '/', env: { ...process.env, CX_CLI_FROM_SOURCE: '1' } },
      (error, stdout, stderr) => resolve({ code: error ? Number(error.code) : 0, stdout, stderr }),
    );
  });

const allEvents = async (store: EventStore) => {
  const out: string[] = [];
  for await (const e of store.readAll()) out.push(`${e.streamId}/${e.revision}/${e.id}/${JSON.stringify(e.data)}`);
  return out;
};

describe('cx store', () => {
  const dir = tempDir('cx-store-');
  const live = join(dir.path, 'live.sqlite');
  const backup = join(dir.path, 'backup.sqlite');
  const restored = join(dir.path, 'restored.sqlite');
  afterAll(() => dir.remove());

  it('backs up online while appends go on, and the backup verifies clean', async () => {
    const store = new ChainedEventStore(await openEventStore(`sqlite:${live}`));
    for (let i = 0; i < 50; i++) {
      await store.appendToStream(`order-${i % 5}`, [{ type: 'Placed', data: { i } }], { expectedRevision: 'any' });
    }
    let appending = true;
    const writer = (async () => {
      for (let i = 0; appending; i++) {
        await store.appendToStream(`tick-${i % 3}`, [{ type: 'Ticked', data: { i } }], { expectedRevision: 'any' });
      }
    })();
    const r = await cx(['store', 'backup', backup, '--store', `sqlite:${live}`]);
    appending = false;
    await writer;
    await store.close();
    expect(r).toMatchObject({ code: 0, stderr: '' });
    expect(r.stdout).toContain(`Backed up sqlite:${live} to ${backup}`);
    const verified = await cx(['audit', 'verify', '--store', `sqlite:${backup}`, '--json']);
    expect(verified.code).toBe(0);
    // A second backup never overwrites the first.
    expect((await cx(['store', 'backup', backup, '--store', `sqlite:${live}`])).code).toBe(2);
  });

  it('restores a backup exactly, and refuses to overwrite a store without --force', async () => {
    const r = await cx(['store', 'restore', backup, '--store', `sqlite:${restored}`, '--json']);
    expect(r.code).toBe(0);
    const events = Number(JSON.parse(r.stdout).events);
    expect(events).toBeGreaterThanOrEqual(50);
    const a = SqliteEventStore.open(backup);
    const b = SqliteEventStore.open(restored);
    expect(await allEvents(b)).toEqual(await allEvents(a));
    await a.close();
    await b.close();
    expect((await cx(['store', 'restore', backup, '--store', `sqlite:${restored}`])).code).toBe(2);
    expect((await cx(['store', 'restore', backup, '--store', `sqlite:${restored}`, '--force'])).code).toBe(0);
  });

  it('refuses a corrupt backup and leaves the target untouched', async () => {
    const bad = join(dir.path, 'bad.sqlite');
    writeFileSync(bad, Buffer.alloc(8192, 7));
    const before = readFileSync(restored);
    const r = await cx(['store', 'restore', bad, '--store', `sqlite:${restored}`, '--force']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/restore failed/);
    expect(readFileSync(restored).equals(before)).toBe(true);
  });
});
