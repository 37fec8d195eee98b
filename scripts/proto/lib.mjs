// Shared by the proto scripts: where the repository, the contracts and the tools are.
// The tools come from the project's devDependencies (@bufbuild/buf ships its binary as an npm optional
// dependency; @bufbuild/protoc-gen-es is plain JS), so everything runs offline on a clean clone after `npm ci`.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { delimiter, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Options every script accepts: `--root <dir>` (a copy of the repository layout, used by tests). */
export const parseArgs = (argv) => {
  const out = { root: repoRoot, flags: new Set() };
  for (let i = 0; i < argv.length; i += 1) {
    if (argv[i] === '--root') out.root = resolve(argv[++i]);
    else out.flags.add(argv[i]);
  }
  return out;
};

export const paths = (root) => ({
  root,
  proto: join(root, 'proto'),
  template: join(root, 'proto', 'buf.gen.yaml'),
  baseline: join(root, 'proto', 'baseline', 'image.binpb'),
  gen: join(root, 'libs', 'contracts', 'src', 'gen'),
});

/** node_modules/.bin holding `buf` and `protoc-gen-es`: CX_PROTO_BIN, else the repository's own. */
export const binDir = () => process.env.CX_PROTO_BIN ?? join(repoRoot, 'node_modules', '.bin');

/** Runs buf with `args` in `cwd`; returns { status, stdout, stderr }. Throws when buf is not installed. */
export const buf = (args, cwd, { quiet = false } = {}) => {
  const bin = binDir();
  const exe = join(bin, 'buf');
  if (!existsSync(exe)) throw new Error(`buf not found at ${exe}: run npm ci (or set CX_PROTO_BIN)`);
  const res = spawnSync(exe, args, {
    cwd,
    encoding: 'utf8',
    env: {
      ...process.env,
      PATH: `${bin}${delimiter}${process.env.PATH ?? ''}`,
      BUF_CACHE_DIR: process.env.BUF_CACHE_DIR ?? join(cwd, '.cache', 'buf'),
    },
  });
  if (res.error) throw res.error;
  if (!quiet) {
    if (res.stdout) process.stdout.write(res.stdout);
    if (res.stderr) process.stderr.write(res.stderr);
  }
  return res;
};
