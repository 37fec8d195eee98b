#!/usr/bin/env node
'use strict';
// Runs the cx CLI: the compiled build when there is one, else the TypeScript source through @swc-node/register,
// so `npx cx` works straight after `npm ci`. CX_CLI_FROM_SOURCE=1 forces the source (tests use it, so a stale
// dist/ can never answer for the code under test).
const { existsSync } = require('node:fs');
const { join } = require('node:path');

const root = join(__dirname, '..');
const built = join(root, 'dist', 'apps', 'cli', 'src', 'main.js');

let cli;
if (existsSync(built) && !process.env.CX_CLI_FROM_SOURCE) {
  cli = require(built);
} else {
  // The @cx/* aliases come from tsconfig.json, found relative to the repository rather than the caller's cwd.
  process.env.SWC_NODE_PROJECT = process.env.SWC_NODE_PROJECT || join(root, 'tsconfig.json');
  require('@swc-node/register');
  cli = require(join(root, 'apps', 'cli', 'src', 'main.ts'));
}

cli.run(process.argv).then(
  (code) => process.exit(code),
  (e) => {
    process.stderr.write(`${e && e.stack ? e.stack : String(e)}\n`);
    process.exit(2);
  },
);
