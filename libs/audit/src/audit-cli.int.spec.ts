// Proves `cx audit verify` and `cx audit export` run as a real process: exit 0 clean, 1 on violations, 2 on an
// unreadable store or file, a wrong key or a truncated NDJSON line; export output verifies as --file input.
import Database from 'better-sqlite3';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { appendFileSync, copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { tempDir } from '@cx/testing';
import { generateSigningKey } from './signing-key';
import { buildRealisticStore, type RealisticStore } from './testing/realistic-store.fixture';

const ROOT = resolve(__dirname, '../../..');

const cx = async (...args: string[]): Promise<{ code: number | null; out: string; err: string }> => {
  const child = spawn(process.execPath, [join(ROOT, 'bin', 'cx.js'), ...args], {
    cwd: ROOT,
    env: { ...process.env, CX_CLI_FROM_SOURCE: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const [code] = (await once(child, 'exit')) as [number | null];
  return { code, out, err };
};

let dir: { path: string; remove: () => void };
let file: string;
let built: RealisticStore;

beforeAll(async () => {
  dir = tempDir('cx-audit-cli-');
  file = join(dir.path, 'store.sqlite');
  built = await buildRealisticStore(file, join(dir.path, 'audit.pub.pem'), { streams: 6, rounds: 40 });
}, 60_000);
afterAll(() => dir.remove());

describe('cx audit (as a process)', () => {
  it('verify on a clean store exits 0 with a summary, and --json gives the report', async () => {
    const text = await cx('audit', 'verify', '--store', `sqlite:${file}`, '--public-key', built.publicKeyPath);
    expect(text.err).toBe('');
    expect(text.code).toBe(0);
    expect(text.out).toMatch(/^CLEAN: \d+ events, 2 checkpoints, 0 violations/);
    const json = await cx('audit', 'verify', '--store', `sqlite:${file}`, '--json');
    expect(json.code).toBe(0);
    const report = JSON.parse(json.out) as { clean: boolean; keysPinned: boolean };
    expect(report).toMatchObject({ clean: true, keysPinned: false });
  }, 60_000);

  it('verify exits 1 and names stream, revision and position of a changed event', async () => {
    const bad = join(dir.path, 'bad.sqlite');
    copyFileSync(file, bad);
    const db = new Database(bad);
    const row = db
      .prepare("SELECT position, stream, revision FROM events WHERE stream = 'ledger-2' LIMIT 1 OFFSET 5")
      .get() as {
      position: number;
      stream: string;
      revision: number;
    };
    db.prepare("UPDATE events SET data = replace(data, '.25', '.26') WHERE position = ?").run(row.position);
    db.close();
    const r = await cx('--json', 'audit', 'verify', '--store', `sqlite:${bad}`);
    expect(r.code).toBe(1);
    const report = JSON.parse(r.out) as { violations: Array<Record<string, string>> };
    expect(report.violations).toEqual([
      expect.objectContaining({
        check: 'chain.hash',
        stream: 'ledger-2',
        revision: String(row.revision),
        position: `${row.position}/${row.position}`,
      }),
    ]);
    // Two stores (distributed mode): the clean one and the bad one, each violation tagged with its source.
    const both = await cx('--json', 'audit', 'verify', '--store', `sqlite:${file}`, '--store', `sqlite:${bad}`);
    expect(both.code).toBe(1);
    expect((JSON.parse(both.out) as { sources: string[] }).sources).toHaveLength(2);
  }, 60_000);

  it('export writes NDJSON that verifies with --file, and resumes with --after', async () => {
    const full = await cx('audit', 'export', '--store', `sqlite:${file}`);
    expect(full.code).toBe(0);
    const lines = full.out.trim().split('\n');
    const middle = JSON.parse(lines[99] as string) as { position: string };
    const rest = await cx('audit', 'export', '--store', `sqlite:${file}`, '--after', middle.position);
    expect(rest.out.trim().split('\n')).toEqual(lines.slice(100));
    const ndjson = join(dir.path, 'export.ndjson');
    writeFileSync(ndjson, full.out);
    const r = await cx('audit', 'verify', '--file', ndjson, '--public-key', built.publicKeyPath);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(new RegExp(`^CLEAN: ${lines.length} events`));
  }, 60_000);

  it('exit 2 with a clear message: missing store, missing file, truncated line, unreadable or wrong key', async () => {
    const missing = await cx('audit', 'verify', '--store', `sqlite:${join(dir.path, 'nope.sqlite')}`);
    expect(missing.code).toBe(2);
    expect(missing.err).toMatch(/cannot read store .*no such file/);

    const noFile = await cx('audit', 'verify', '--file', join(dir.path, 'nope.ndjson'));
    expect(noFile.code).toBe(2);
    expect(noFile.err).toMatch(/cannot read .*nope\.ndjson/);

    const full = await cx('audit', 'export', '--store', `sqlite:${file}`);
    const truncated = join(dir.path, 'truncated.ndjson');
    const lines = full.out.trim().split('\n');
    writeFileSync(truncated, `${lines.slice(0, 10).join('\n')}\n`);
    appendFileSync(truncated, `${(lines[10] as string).slice(0, 40)}\n`);
    const t = await cx('audit', 'verify', '--file', truncated);
    expect(t.code).toBe(2);
    expect(t.err).toMatch(/line 11: not JSON/);

    const garbageKey = join(dir.path, 'garbage.pem');
    writeFileSync(garbageKey, 'not a key');
    const g = await cx('audit', 'verify', '--store', `sqlite:${file}`, '--public-key', garbageKey);
    expect(g.code).toBe(2);
    expect(g.err).toMatch(/public key .*not a public key/);

    const otherKey = join(dir.path, 'other.pem');
    writeFileSync(otherKey, generateSigningKey().publicKeyPem);
    const w = await cx('audit', 'verify', '--store', `sqlite:${file}`, '--public-key', otherKey);
    expect(w.code).toBe(2);
    expect(w.err).toMatch(/wrong public key/);
    expect(readFileSync(built.publicKeyPath, 'utf8')).toMatch(/BEGIN PUBLIC KEY/);
  }, 90_000);
});
