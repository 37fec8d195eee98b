import type { Command } from 'commander';
import type { CliContext } from './cli-context';
import { registerAccountsCommands } from './commands/accounts.command';
import { registerAuditCommands } from './commands/audit.command';
import { registerKeysCommands } from './commands/keys.command';
import { registerSimulateCommands } from './commands/simulate.command';
import { registerStoreCommands } from './commands/store.command';

/**
 * Each command group registers itself on the program. A module adding a group (audit, store, simulate) writes
 * one `register…Commands(program, ctx)` function and adds it here; nothing else in the CLI changes.
 */
export type CommandGroup = (program: Command, ctx: CliContext) => void;

export const commandGroups: readonly CommandGroup[] = [
  registerKeysCommands,
  registerAccountsCommands,
  registerAuditCommands,
  registerStoreCommands,
  registerSimulateCommands,
];
