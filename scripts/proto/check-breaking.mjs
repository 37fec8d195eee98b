#!/usr/bin/env node
// Fails (exit 1) when proto/ breaks a published contract: lint, then `buf breaking` against the committed
// baseline image of the released contracts (proto/baseline/image.binpb), so it needs nothing but the clone.
// Rules: buf's FILE set (wire, JSON and generated-code compatibility: no deleted, renumbered, renamed or
// retyped fields, messages, enums, values or files). Adding fields, messages, oneof cases and files passes.
//   node scripts/proto/check-breaking.mjs [--root <dir>]
import { existsSync } from 'node:fs';
import { relative } from 'node:path';
import { buf, parseArgs, paths } from './lib.mjs';

const { root } = parseArgs(process.argv.slice(2));
const p = paths(root);

// Both run, so a lint error does not hide a breaking change.
const lint = buf(['lint', 'proto'], root);
if (lint.status !== 0) console.error('proto:check: buf lint failed');
if (!existsSync(p.baseline)) {
  console.error(
    `proto:check: no baseline at ${relative(root, p.baseline)}; run \`npm run proto:baseline\` when releasing`,
  );
  process.exit(1);
}
const res = buf(['breaking', 'proto', '--against', relative(root, p.baseline)], root);
if (res.status !== 0) {
  console.error(
    `proto:check: breaking change against ${relative(root, p.baseline)}. Published contracts only grow: add a new ` +
      'field or message (reserve removed numbers and names), or publish a new version (cx.<service>.v2, topic .v2).',
  );
} else {
  console.log(`proto:check: no breaking change against ${relative(root, p.baseline)}`);
}
process.exit(lint.status !== 0 || res.status !== 0 ? 1 : 0);
