import { type Command, Option } from 'commander';
import { type AccountViewData, accountKinds, openAccount, toAccountView } from '@cx/identity';
import { currencies, newId } from '@cx/shared-kernel';
import { type CliContext, cliMetadata, globalOptions, table, withStore } from '../cli-context';
import { loadIdentity } from './keys.command';

// `cx accounts create|list`: the same handler as POST /v1/accounts, acting on the store directly.

const describeAccount = (a: AccountViewData): string =>
  `${a.accountId}  "${a.legalName}" ${a.kind}, ${a.currency}, ${a.timezone}, credit line ${a.creditLine}, fee tier ${a.feeTier}`;

interface CreateOptions {
  id?: string;
  name: string;
  kind: string;
  currency?: string;
  timezone?: string;
  creditLine?: string;
  maxOpenLots?: string;
  maxOpenNotional?: string;
  feeTier?: string;
}

export const registerAccountsCommands = (program: Command, ctx: CliContext): void => {
  const accounts = program.command('accounts').description('open and list participant accounts');

  accounts
    .command('create')
    .description('open an account')
    .requiredOption('--name <legalName>', 'legal name of the participant')
    .addOption(
      new Option('--kind <kind>', 'what the participant does on the exchange')
        .choices(accountKinds)
        .makeOptionMandatory(),
    )
    .option('--id <accountId>', 'account id (default: generated)')
    .addOption(new Option('--currency <code>', 'settlement currency (default CNY)').choices(currencies))
    .option('--timezone <iana>', 'display timezone, e.g. Asia/Shanghai (default UTC)')
    .option('--credit-line <amount>', 'credit line as a plain decimal (default 0)')
    .option('--max-open-lots <lots>', 'most lots resting at once (default: no limit)')
    .option('--max-open-notional <amount>', 'most notional resting at once (default: no limit)')
    .option('--fee-tier <tier>', 'fee tier id (default standard)')
    .action(async (opts: CreateOptions, cmd: Command) => {
      const g = globalOptions(cmd);
      const result = await withStore(ctx, g.store, (store) =>
        openAccount(
          { store, clock: ctx.clock },
          {
            accountId: opts.id ?? newId('acc'),
            legalName: opts.name,
            kind: opts.kind,
            currency: opts.currency,
            timezone: opts.timezone,
            creditLine: opts.creditLine,
            orderLimits: {
              maxOpenQuantityLots: opts.maxOpenLots ?? null,
              maxOpenNotional: opts.maxOpenNotional ?? null,
            },
            feeTier: opts.feeTier,
          },
          cliMetadata(),
        ),
      );
      const view = toAccountView(result.account);
      if (g.json) ctx.io.out(JSON.stringify(view));
      else ctx.io.out(`Account opened: ${describeAccount(view)}`);
    });

  accounts
    .command('list')
    .description('list accounts')
    .action(async (_opts: unknown, cmd: Command) => {
      const g = globalOptions(cmd);
      const model = await withStore(ctx, g.store, loadIdentity);
      const views = model.accounts().map(toAccountView);
      if (g.json) {
        ctx.io.out(JSON.stringify({ items: views }));
        return;
      }
      if (views.length === 0) {
        ctx.io.out('no accounts');
        return;
      }
      ctx.io.out(
        table([
          ['ACCOUNT ID', 'KIND', 'CURRENCY', 'CREDIT LINE', 'TIMEZONE', 'FEE TIER', 'LEGAL NAME'],
          ...views.map((a) => [a.accountId, a.kind, a.currency, a.creditLine, a.timezone, a.feeTier, a.legalName]),
        ]),
      );
    });
};
