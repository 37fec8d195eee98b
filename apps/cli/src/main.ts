import { Command, CommanderError, Option } from 'commander';
import {
  type CliContext,
  CliFailure,
  defaultContext,
  defaultStoreUrl,
  EXIT_OK,
  EXIT_USAGE,
  reportError,
} from './cli-context';
import { type CommandGroup, commandGroups } from './command-groups';

// `cx`: operator commands that act on the event store directly (DESIGN.md, "Command line").

export const buildProgram = (ctx: CliContext, groups: readonly CommandGroup[] = commandGroups): Command => {
  const program = new Command('cx')
    .description('cx: operate the compute exchange from the command line')
    // Set before any subcommand exists, so every subcommand inherits it: usage errors throw instead of exiting,
    // and main decides the exit code.
    .exitOverride()
    .configureOutput({ writeOut: (s) => ctx.io.out(s), writeErr: (s) => ctx.io.err(s) })
    .showHelpAfterError('(run with --help for usage)')
    .addOption(
      new Option('--store <url>', 'event store: sqlite:<path> or esdb://…').default(
        defaultStoreUrl(),
        '$CX_STORE or sqlite:./data/cx.sqlite',
      ),
    )
    .option('--json', 'print JSON instead of text', false);
  for (const register of groups) register(program, ctx);
  return program;
};

/** Runs the CLI and returns its exit code; it never calls process.exit itself, so it can be tested in-process. */
export const run = async (argv: readonly string[], ctx: CliContext = defaultContext()): Promise<number> => {
  const program = buildProgram(ctx);
  try {
    await program.parseAsync([...argv]);
    return EXIT_OK;
  } catch (e) {
    if (e instanceof CommanderError) {
      // Help and version end with exit code 0; every other parse error is bad usage, already printed.
      return e.exitCode === 0 ? EXIT_OK : EXIT_USAGE;
    }
    const json = argv.includes('--json');
    return reportError(ctx.io, json, e instanceof CliFailure || e instanceof Error ? e : new Error(String(e)));
  }
};

if (require.main === module) {
  void run(process.argv).then((code) => process.exit(code));
}
