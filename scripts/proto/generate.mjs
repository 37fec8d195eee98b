#!/usr/bin/env node
// Generates the TypeScript of the integration-event contracts: proto/ → libs/contracts/src/gen/ (committed).
//   node scripts/proto/generate.mjs            write libs/contracts/src/gen/
//   node scripts/proto/generate.mjs --check    generate into a temp dir and fail (exit 1) if the committed
//                                              code differs: a .proto changed without regenerating, or by hand.
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { buf, parseArgs, paths } from './lib.mjs';

const { root, flags } = parseArgs(process.argv.slice(2));
const p = paths(root);
const check = flags.has('--check');

const listFiles = (dir) => {
  try {
    statSync(dir);
  } catch {
    return [];
  }
  return readdirSync(dir, { recursive: true })
    .map(String)
    .filter((f) => statSync(join(dir, f)).isFile())
    .sort();
};

// `--output` is the base the template's `out` (libs/contracts/src/gen) is relative to.
const outBase = check ? mkdtempSync(join(tmpdir(), 'cx-proto-gen-')) : root;
try {
  const res = buf(['generate', 'proto', '--template', p.template, '--output', outBase], root);
  if (res.status !== 0) {
    console.error('proto:generate: buf generate failed');
    process.exit(res.status ?? 1);
  }
  if (!check) {
    console.log(`proto:generate: wrote ${listFiles(p.gen).length} files to ${relative(root, p.gen)}/`);
    process.exit(0);
  }
  const fresh = join(outBase, relative(root, p.gen));
  const want = listFiles(fresh);
  const have = listFiles(p.gen);
  const problems = [
    ...want.filter((f) => !have.includes(f)).map((f) => `missing: ${f}`),
    ...have.filter((f) => !want.includes(f)).map((f) => `not generated from proto/: ${f}`),
    ...want
      .filter((f) => have.includes(f) && !readFileSync(join(fresh, f)).equals(readFileSync(join(p.gen, f))))
      .map((f) => `differs: ${f}`),
  ];
  if (problems.length > 0) {
    console.error(`proto:check: ${relative(root, p.gen)}/ is not what proto/ generates:`);
    for (const line of problems) console.error(`  ${line}`);
    console.error('run `npm run proto:generate` and commit the result.');
    process.exit(1);
  }
  console.log(`proto:check: generated code is up to date (${want.length} files)`);
} finally {
  if (check) rmSync(outBase, { recursive: true, force: true });
}
