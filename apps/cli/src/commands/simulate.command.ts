import type { Command } from 'commander';
import { type CliContext, CliFailure, EXIT_REFUSED, EXIT_USAGE, globalOptions } from '../cli-context';
import { SimulationFailed, simulate } from '../simulate/simulate';
import { formatSummary } from '../simulate/summary';

// `cx simulate` (issue 9, item 3): a market day in minutes on an exchange with a simulated clock. Exit 0 when every
// step succeeded and the audit is clean; 1 when the audit found violations (the summary is printed first); 2 when
// a step failed or the options are wrong.

const whole = (name: string, min: number, max: number) => (raw: string) => {
  if (!/^\d{1,9}$/.test(raw) || Number(raw) < min || Number(raw) > max) {
    throw new CliFailure(EXIT_USAGE, `${name} must be a whole number from ${min} to ${max}, got "${raw}"`);
  }
  return Number(raw);
};

interface SimulateFlags {
  seed: number;
  providers: number;
  buyers: number;
  orders: number;
  url?: string;
  key?: string;
  keep: boolean;
  data?: string;
}

export const registerSimulateCommands = (program: Command, ctx: CliContext): void => {
  program
    .command('simulate')
    .description(
      'play a market day (providers, buyers, a floor change, a halt, usage, period close, statements) on an exchange with a simulated clock, then audit it; by default on its own embedded exchange in a temporary folder',
    )
    .option(
      '--seed <n>',
      'seed of the day: the same seed gives the same trades and statements',
      whole('--seed', 0, 2 ** 31 - 1),
      42,
    )
    .option('--providers <n>', 'provider accounts', whole('--providers', 1, 100), 4)
    .option('--buyers <n>', 'buyer accounts', whole('--buyers', 1, 100), 6)
    .option('--orders <n>', 'orders over the trading day', whole('--orders', 10, 100_000), 400)
    .option(
      '--url <url>',
      'an exchange already running with CX_CLOCK=simulated, CX_BILLING_PERIOD_GRACE_MS=0, CX_GUIDANCE_MIN_NOTICE_MS ≤ 3 h ≤ CX_GUIDANCE_MAX_LAG_MS and CX_GUIDANCE_HEARTBEAT_MS of a few hundred ms (needs --key)',
    )
    .option('--key <key>', 'an admin API key for --url; default $CX_API_KEY', process.env.CX_API_KEY)
    .option('--keep', 'keep the embedded exchange’s temporary folder (store, signing key) and print its path', false)
    .option('--data <dir>', 'the public datasets folder (default $CX_DATA_DIR or ../shared/data beside the repository)')
    .action(async (flags: SimulateFlags, cmd: Command) => {
      const g = globalOptions(cmd);
      if (flags.url !== undefined) {
        if (!/^https?:\/\/[^\s]+$/.test(flags.url)) {
          throw new CliFailure(EXIT_USAGE, `--url must be an http(s) URL, got "${flags.url}"`);
        }
        if (flags.key === undefined || flags.key === '') {
          throw new CliFailure(EXIT_USAGE, '--url needs --key <an admin API key> (or CX_API_KEY)');
        }
      }
      let summary;
      try {
        summary = await simulate({
          seed: flags.seed,
          providers: flags.providers,
          buyers: flags.buyers,
          orders: flags.orders,
          url: flags.url,
          key: flags.key,
          keep: flags.keep,
          dataDir: flags.data,
        });
      } catch (e) {
        if (e instanceof SimulationFailed) {
          const kept = e.keptStore !== null ? ` (the exchange’s folder is kept for inspection: ${e.keptStore})` : '';
          throw new CliFailure(EXIT_USAGE, `simulate failed: ${e.message}${kept}`, { cause: e });
        }
        throw e;
      }
      ctx.io.out(g.json ? JSON.stringify(summary) : formatSummary(summary));
      if (!summary.audit.clean) {
        throw new CliFailure(EXIT_REFUSED, `audit verify: ${summary.audit.violationCount} violation(s)`);
      }
      const disagree = summary.statements.filter((s) => !s.matchesLedger || s.periods.some((p) => !p.csvAgrees));
      if (disagree.length > 0) {
        throw new CliFailure(
          EXIT_REFUSED,
          `statements disagree with the ledger or their CSV for ${disagree.map((s) => s.account).join(', ')}`,
        );
      }
    });
};
