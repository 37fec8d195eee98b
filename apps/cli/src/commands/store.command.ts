import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import Database from 'better-sqlite3';
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

/**
 * Whether another process has the store's file open (a running exchange or service). A connection to a WAL
 * database holds a shared lock on the file for as long as it is open, so an exclusive lock that waits for nobody
 * fails exactly then. Renaming a backup over a file a writer holds would leave that writer appending to the old,
 * unlinked file, and everything it wrote afterwards would be lost. A file that is not a database holds no lock.
 */
const openElsewhere = (path: string): boolean => {
  if (!existsSync(path)) return false;
  let db: Database.Database;
  try {
    db = new Database(path, { timeout: 0, fileMustExist: true });
  } catch {
    return false;
  }
  try {
    db.pragma('locking_mode = EXCLUSIVE');
    db.exec('BEGIN EXCLUSIVE');
    db.exec('ROLLBACK');
    return false;
  } catch (e) {
    return (e as { code?: string }).code === 'SQLITE_BUSY';
  } finally {
    db.close();
  }
};

/** Where the exchange on this store keeps its audit signing key (CX_AUDIT_KEY, else beside the store). */
const signingKeyPath = (storeFile: string): string =>
  resolve(process.env.CX_AUDIT_KEY ?? join(dirname(resolve(storeFile)), 'audit-signing-key.pem'));

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
          : [
              `Backed up ${g.store} to ${file} (${r.totalPages} pages). Verify it with: cx audit verify --store sqlite:${file}`,
              // The checkpoints in the store are signed with a key kept outside it; a restored exchange that made
              // itself a new one would sign later checkpoints with a key the audit sees change, a violation.
              `The audit signing key is not in the backup: keep a copy of ${signingKeyPath(sqlitePath(g.store))} with it.`,
            ].join('\n'),
      );
    });

  store
    .command('restore <file>')
    .description('replace the store with a backup (stop the exchange first); the backup is checked before use')
    .option('--force', 'replace an existing store file')
    .action(async (file: string, opts: { force?: boolean }, cmd: Command) => {
      const g = globalOptions(cmd);
      const target = sqlitePath(g.store);
      if (openElsewhere(target)) {
        throw new CliFailure(
          EXIT_USAGE,
          `restore refused: ${target} is open in another process (a running exchange?); stop it first`,
        );
      }
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
