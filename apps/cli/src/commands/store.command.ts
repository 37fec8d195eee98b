import type { Command } from 'commander';
import { SqliteEventStore } from '@cx/event-store';
import { type CliContext, CliFailure, EXIT_USAGE, globalOptions, withStore } from '../cli-context';

// `cx store backup|restore`: the SQLite store's file, copied online with SQLite's backup API and restored in one
// rename. EventStoreDB has its own backup tooling; these commands refuse any other store.

const sqlitePath = (url: string): string => {
  if (!url.startsWith('sqlite:')) {
    throw new CliFailure(
      EXIT_USAGE,
      `store backup and restore work on sqlite: stores; ${url.split(':')[0]} has its own tools`,
    );
  }
  return url.slice('sqlite:'.length);
};

export const registerStoreCommands = (program: Command, ctx: CliContext): void => {
  const store = program.command('store').description('back up and restore the SQLite event store');

  store
    .command('backup <file>')
    .description('copy the store, online and consistent, into a new file (the exchange may keep running)')
    .action(async (file: string, _opts: unknown, cmd: Command) => {
      const g = globalOptions(cmd);
      sqlitePath(g.store);
      const r = await withStore(ctx, g.store, async (s) => {
        if (!(s instanceof SqliteEventStore)) throw new CliFailure(EXIT_USAGE, `${g.store} is not a SQLite store`);
        try {
          return await s.backup(file);
        } catch (e) {
          throw new CliFailure(EXIT_USAGE, `backup failed: ${e instanceof Error ? e.message : String(e)}`, {
            cause: e,
          });
        }
      });
      ctx.io.out(
        g.json
          ? JSON.stringify({ backup: file, store: g.store, pages: r.totalPages })
          : `Backed up ${g.store} to ${file} (${r.totalPages} pages). Verify it with: cx audit verify --store sqlite:${file}`,
      );
    });

  store
    .command('restore <file>')
    .description('replace the store with a backup (stop the exchange first); the backup is checked before use')
    .option('--force', 'replace an existing store file')
    .action(async (file: string, opts: { force?: boolean }, cmd: Command) => {
      const g = globalOptions(cmd);
      const target = sqlitePath(g.store);
      let events: bigint;
      try {
        ({ events } = await SqliteEventStore.restore(file, target, { force: opts.force === true }));
      } catch (e) {
        throw new CliFailure(EXIT_USAGE, `restore failed: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
      }
      ctx.io.out(
        g.json
          ? JSON.stringify({ restored: file, store: g.store, events: String(events) })
          : `Restored ${g.store} from ${file} (${events} events).`,
      );
    });
};
