// Proves `cx keys` and `cx accounts` as real processes on a real SQLite file: their output, their exit codes (0 done, 1 refused, 2 bad usage or store), and that a key they print works.
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ApiKeyVerifier, IdentityProjection } from '@cx/identity';
import { openEventStore } from '@cx/event-store';
import { systemClock } from '@cx/shared-kernel';
import { tempDir } from '@cx/testing';

const repoRoot = join(__dirname, '..', '..', '..');

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

const cx = (args: string[], env: Record<string, string> = {}): Promise<Result> =>
  new Promise((resolve) => {
    execFile(
      process.execPath,
      [join(repoRoot, 'bin', 'cx.js'), ...args],
      // From another directory, so the CLI must find the repository's tsconfig on its own; from source, so a
      // stale dist/ cannot answer for the code under test.
      { cwd: '/', env: { ...process.env, CX_CLI_FROM_SOURCE: '1', ...env } },
      (error, stdout, stderr) => resolve({ code: error ? Number(error.code) : 0, stdout, stderr }),
    );
  });

describe('cx CLI', () => {
  const dir = tempDir('cx-cli-');
  const url = `sqlite:${join(dir.path, 'cx.sqlite')}`;

  afterAll(() => dir.remove());

  it('issues an admin key, printing it once', async () => {
    const r = await cx(['keys', 'create', '--role', 'admin', '--label', 'ops', '--store', url]);
    expect(r).toMatchObject({ code: 0, stderr: '' });
    expect(r.stdout).toMatch(
      /^Key issued: [0-9a-f-]{36} {2}role admin, never expires, label "ops"\nAPI key: cx_[0-9a-f-]{36}_[A-Za-z0-9_-]{43}\n/,
    );
  });

  it('opens an account and issues a trader key for it that the identity projection accepts', async () => {
    const account = await cx([
      'accounts',
      'create',
      '--id',
      'acme-01',
      '--name',
      'Acme Compute',
      '--kind',
      'provider',
      '--credit-line',
      '5000',
      '--json',
      '--store',
      url,
    ]);
    expect(account.code).toBe(0);
    expect(JSON.parse(account.stdout)).toMatchObject({
      accountId: 'acme-01',
      legalName: 'Acme Compute',
      kind: 'provider',
      currency: 'CNY',
      creditLine: '5000.00',
    });

    const issued = await cx([
      'keys',
      'create',
      '--role',
      'trader',
      '--account',
      'acme-01',
      '--expires',
      '2099-01-01T00:00:00Z',
      '--json',
      '--store',
      url,
    ]);
    expect(issued.code).toBe(0);
    const key = JSON.parse(issued.stdout) as {
      key: string;
      keyId: string;
      role: string;
      accounts: string[];
      expiresAt: string;
    };
    expect(key).toMatchObject({
      role: 'trader',
      accounts: ['acme-01'],
      expiresAt: '2099-01-01T00:00:00.000Z',
      status: 'active',
    });

    const store = await openEventStore(url);
    const projection = new IdentityProjection(store);
    try {
      await projection.ready();
      expect(new ApiKeyVerifier(projection, systemClock).verify(key.key)).toEqual({
        ok: true,
        principal: { keyId: key.keyId, role: 'trader', accounts: ['acme-01'] },
      });
    } finally {
      await projection.stop();
      await store.close();
    }
  });

  it('lists keys without showing them', async () => {
    const r = await cx(['keys', 'list', '--store', url]);
    expect(r.code).toBe(0);
    expect(r.stdout.split('\n')[0]).toMatch(/^KEY ID +ROLE +STATUS +ACCOUNTS +EXPIRES +LABEL$/);
    expect(r.stdout).toMatch(/admin +active/);
    expect(r.stdout).toMatch(/trader +active +acme-01/);
    expect(r.stdout).not.toContain('cx_');
  });

  it('revokes a key once, and refuses the second time with exit code 1', async () => {
    const { items } = JSON.parse((await cx(['keys', 'list', '--json', '--store', url])).stdout) as {
      items: { keyId: string; role: string }[];
    };
    const trader = items.find((k) => k.role === 'trader');
    const first = await cx(['keys', 'revoke', trader!.keyId, '--reason', 'test', '--store', url]);
    expect(first).toMatchObject({ code: 0, stdout: expect.stringMatching(/^Key revoked: /) });
    const again = await cx(['keys', 'revoke', trader!.keyId, '--store', url]);
    expect(again).toMatchObject({ code: 1, stdout: '' });
    expect(again.stderr).toMatch(/^IDENTITY.KEY_ALREADY_REVOKED: /);
  });

  it.each([
    [
      'a trader key without an account',
      ['keys', 'create', '--role', 'trader'],
      1,
      /^IDENTITY.ACCOUNTS_REQUIRED: .*\(accounts\)/,
    ],
    [
      'a key for an unknown account',
      ['keys', 'create', '--role', 'finance', '--account', 'ghost'],
      1,
      /^IDENTITY.UNKNOWN_ACCOUNT: /,
    ],
    [
      'an expiry in the past',
      ['keys', 'create', '--role', 'admin', '--expires', '2000-01-01T00:00:00Z'],
      1,
      /^IDENTITY.EXPIRY_NOT_IN_FUTURE: /,
    ],
    [
      'an account that exists',
      ['accounts', 'create', '--id', 'acme-01', '--name', 'Again', '--kind', 'buyer'],
      1,
      /^IDENTITY.ACCOUNT_EXISTS: /,
    ],
    [
      'a bad timezone',
      ['accounts', 'create', '--name', 'X', '--kind', 'buyer', '--timezone', 'Mars/Olympus'],
      1,
      /^IDENTITY.INVALID_TIMEZONE: /,
    ],
    [
      'a credit line in exponent notation',
      ['accounts', 'create', '--name', 'X', '--kind', 'buyer', '--credit-line', '1e3'],
      1,
      /^IDENTITY.INVALID_CREDIT_LINE: /,
    ],
    ['an unknown role', ['keys', 'create', '--role', 'superuser'], 2, /argument 'superuser' is invalid/],
    ['a missing --role', ['keys', 'create'], 2, /required option '--role <role>' not specified/],
    ['an unknown command', ['keys', 'rotate'], 2, /unknown command 'rotate'/],
  ])('refuses %s', async (_what, args, code, stderr) => {
    const r = await cx([...args, '--store', url]);
    expect(r.code).toBe(code);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(stderr);
  });

  it('prints refusals as JSON with --json', async () => {
    const r = await cx(['keys', 'create', '--role', 'trader', '--json', '--store', url]);
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stderr)).toEqual({
      code: 'IDENTITY.ACCOUNTS_REQUIRED',
      message: expect.any(String),
      details: [{ field: 'accounts', code: 'IDENTITY.ACCOUNTS_REQUIRED' }],
    });
  });

  it.each([
    ['an unknown store URL', () => 'bogus:nowhere'],
    [
      'a file that is not a store',
      () => {
        const path = join(dir.path, 'notes.txt');
        writeFileSync(path, 'these are not the events you are looking for\n'.repeat(200));
        return `sqlite:${path}`;
      },
    ],
  ])('exits 2 for %s', async (_what, store) => {
    const r = await cx(['keys', 'list', '--store', store()]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^error: cannot open store /);
  });

  it('takes the store from CX_STORE when --store is absent', async () => {
    const r = await cx(['accounts', 'list'], { CX_STORE: url });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/acme-01 +provider +CNY +5000.00/);
  });
});
