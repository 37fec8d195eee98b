#!/usr/bin/env node
// `node scripts/deploy/validate.mjs`: validates deploy/ statically (schemas from installed packages, nothing
// downloaded; no Docker, no cluster) and against the code. Exit 0 when clean, 1 with one line per problem.
// The checks live in deploy-validator.ts, run from source through @swc-node/register like bin/cx.js.
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const require = createRequire(import.meta.url);
process.env.SWC_NODE_PROJECT = process.env.SWC_NODE_PROJECT || join(root, 'tsconfig.json');
require('@swc-node/register');
const { validateRepository } = require('./deploy-validator.ts');

const { problems, checked } = validateRepository(root);
for (const line of checked) process.stdout.write(`checked  ${line}\n`);
for (const p of problems) process.stdout.write(`PROBLEM  ${p}\n`);
process.stdout.write(
  problems.length === 0
    ? 'deploy/ is valid (statically: nothing was built or applied)\n'
    : `${problems.length} problem(s) in deploy/\n`,
);
process.exit(problems.length === 0 ? 0 : 1);
