#!/usr/bin/env node
// Records the current contracts as the released baseline (proto/baseline/image.binpb), which the breaking
// check compares against. Run it when the contracts are released (a deliberate, reviewed commit), never to
// make a failing check pass.
//   node scripts/proto/update-baseline.mjs [--root <dir>]
import { relative } from 'node:path';
import { buf, parseArgs, paths } from './lib.mjs';

const { root } = parseArgs(process.argv.slice(2));
const p = paths(root);
// No source info: comments and layout do not change the baseline, only the contracts do.
const res = buf(['build', 'proto', '--exclude-source-info', '-o', relative(root, p.baseline)], root);
if (res.status !== 0) process.exit(res.status ?? 1);
console.log(`proto:baseline: wrote ${relative(root, p.baseline)}`);
