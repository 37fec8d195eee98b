// Proves `cx simulate` as a real process: it starts its own embedded exchange with a simulated clock, plays the
// market day, and exits 0 with a summary whose statements agree with the ledger and whose audit is clean; the same
// seed twice gives the same trades and statements with the same content hashes. With --url it plays the same day on
// an exchange already running with a simulated clock, and audits it over HTTP.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { type ExchangeProcess, startExchange, tempDir, testScale } from '@cx/testing';
import { DEFAULT_TRADING_DAY, embeddedEnv, type SimulationSummary } from './simulate/simulate';

const repoRoot = join(__dirname, '..', '..', '..');

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

const cx = (args: string[]): Promise<Result> =>
  new Promise((resolve) => {
    execFile(
      process.execPath,
      [join(repoRoot, 'bin', 'cx.js'), ...args],
      // From another directory, and from source, as cli.int.spec.ts runs the CLI.
      { cwd: '/', env: { ...process.env, CX_CLI_FROM_SOURCE: '1' }, maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => resolve({ code: error ? Number(error.code) : 0, stdout, stderr }),
    );
  });

// Small in CI (CX_TEST_SCALE), the command's defaults at full scale.
const orders = Math.max(30, Math.round(400 * testScale()));
const providers = testScale() >= 1 ? 4 : 2;
const buyers = testScale() >= 1 ? 6 : 3;
const args = ['simulate', '--json', '--seed', '7', '--orders', String(orders)];
args.push('--providers', String(providers), '--buyers', String(buyers));

describe('cx simulate', () => {
  let first: SimulationSummary;

  it('plays a market day on its own exchange and exits 0 with a clean audit', async () => {
    const r = await cx(args);
    expect({ code: r.code, stderr: r.code === 0 ? '' : r.stderr }).toEqual({ code: 0, stderr: '' });
    first = JSON.parse(r.stdout) as SimulationSummary;
    expect(first.exchange).toMatchObject({ mode: 'embedded', kept: false });
    expect(first.reference.source.file ?? '(built-in snapshot)').toMatch(/vast_vms\.csv$|built-in/);

    // The story happened: trades, a floor change that cancelled resting orders, a halt that refused orders,
    // retried usage counted once, late usage, three days closed.
    expect(first.trades.count).toBeGreaterThan(0);
    expect(first.trades.belowFloor).toBe(0);
    expect(Number(first.trades.vwap)).toBeGreaterThanOrEqual(Number(first.guidance.opening.floor));
    expect(first.guidance.raised.floor).toBe(first.reference.raisedFloor);
    expect(first.halt.haltId).not.toBe('');
    expect(first.usage.accepted).toBeGreaterThan(0);
    expect(first.usage.rejected).toBe(0);
    // The exchange answered some retries as duplicates and booked some readings as late.
    expect(first.usage.duplicates).toBeGreaterThan(0);
    expect(first.usage.late).toBeGreaterThan(0);
    expect(first.periodsClosed).toHaveLength(3);

    // Every account's statements: the last closing balance is the ledger's posted cash, and the CSV agrees.
    expect(first.statements).toHaveLength(providers + buyers);
    for (const s of first.statements) {
      expect({ account: s.account, closing: s.closing }).toEqual({ account: s.account, closing: s.ledgerBalance });
      expect(s.matchesLedger).toBe(true);
      for (const p of s.periods)
        expect({ period: p.period, csvAgrees: p.csvAgrees }).toEqual({ period: p.period, csvAgrees: true });
    }

    expect(first.audit).toMatchObject({ clean: true, violationCount: 0, keysPinned: true });
    expect(first.audit.eventsChecked).toBeGreaterThan(0);
  }, 600_000);

  it('gives the same trades and statements for the same seed', async () => {
    expect(first).toBeDefined();
    const r = await cx(args);
    expect(r.code).toBe(0);
    const second = JSON.parse(r.stdout) as SimulationSummary;
    expect(Object.keys(second.contentHashes).length).toBeGreaterThan(0);
    expect(second.contentHashes).toEqual(first.contentHashes);
    expect(second.trades).toEqual(first.trades);
    expect(second.orders).toEqual(first.orders);
    expect(second.usage).toEqual(first.usage);
    expect(second.statements).toEqual(first.statements);
  }, 600_000);

  it('plays the day on an exchange already running with a simulated clock (--url), audited over HTTP', async () => {
    expect(first).toBeDefined();
    const dir = tempDir('cx-simulate-url-');
    let ex: ExchangeProcess | undefined;
    try {
      // The environment the command gives its own exchange, which is what --url asks of the target.
      const env = embeddedEnv(join(dir.path, 'cx.sqlite'), DEFAULT_TRADING_DAY);
      ex = await startExchange(env);
      const r = await cx([...args, '--url', ex.url, '--key', ex.adminKey as string]);
      expect({ code: r.code, stderr: r.code === 0 ? '' : r.stderr }).toEqual({ code: 0, stderr: '' });
      const remote = JSON.parse(r.stdout) as SimulationSummary;
      expect(remote.exchange).toMatchObject({ mode: 'remote', url: ex.url, store: null });
      expect(remote.trades.count).toBeGreaterThan(0);
      expect(remote.halt.haltId).not.toBe('');
      expect(remote.usage).toMatchObject({ rejected: 0 });
      expect(remote.usage.duplicates).toBeGreaterThan(0);
      expect(remote.usage.late).toBeGreaterThan(0);
      expect(remote.periodsClosed).toHaveLength(3);
      for (const s of remote.statements)
        expect({ account: s.account, ok: s.matchesLedger }).toEqual({ account: s.account, ok: true });
      expect(remote.audit).toMatchObject({ clean: true, violationCount: 0, source: ex.url });
      expect(remote.audit.eventsChecked).toBeGreaterThan(0);
      // The same day on the same start: the same trades as the embedded run.
      expect(remote.trades).toEqual(first.trades);
    } finally {
      await ex?.stop('SIGKILL');
      dir.remove();
    }
  }, 600_000);
});
