// `npm run bench -- <name>` runs bench/<name>/main.ts; `npm run bench` lists the benchmarks.
// Each benchmark prints a ratio against a baseline measured in the same run and ends with one JSON line.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

const root = resolve(dirname(new URL(import.meta.url).pathname), '..');
const names = readdirSync(join(root, 'bench'), { withFileTypes: true })
  .filter((d) => d.isDirectory() && existsSync(join(root, 'bench', d.name, 'main.ts')))
  .map((d) => d.name);
const [name, ...args] = process.argv.slice(2);
if (!name || !names.includes(name)) {
  console.error(`usage: npm run bench -- <name> [args]\nbenchmarks: ${names.join(', ') || '(none)'}`);
  process.exit(name ? 2 : 0);
}
const r = spawnSync(
  process.execPath,
  // The exchange's own V8 settings (package.json's start scripts, deploy/Dockerfile), for both sides of a benchmark.
  ['--expose-gc', '--max-semi-space-size=64', '-r', '@swc-node/register', join('bench', name, 'main.ts'), ...args],
  {
    cwd: root,
    stdio: 'inherit',
    env: { ...process.env, NODE_ENV: 'production' },
  },
);
process.exit(r.status ?? 1);
