// A seeded embedded exchange serving the built console (dist/web), for working on the console by hand:
//   npm run build && node -r @swc-node/register web/e2e/serve.ts [port]
// It prints a key per role; the data is the end-to-end test's (seed.ts) on a simulated clock, in a temp folder.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startConsoleExchange } from './exchange';
import { seed, T0 } from './seed';

const main = async (): Promise<void> => {
  const dir = mkdtempSync(join(tmpdir(), 'cx-console-'));
  const x = await startConsoleExchange(join(dir, 'cx.sqlite'), join(__dirname, '../../dist/web'), new Date(T0), {
    port: Number(process.argv[2] ?? '0'),
  });
  const keys = await seed(x);
  process.stdout.write(`${JSON.stringify({ url: x.url, dir, keys }, null, 2)}\n`);
};

main().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(1);
});
