// Compiles apps/, libs/ and services/ to dist/ with swc (type checking is `npm run typecheck`).
// The @cx/* path aliases of tsconfig.json are rewritten to relative paths, so dist/ runs on plain node.
// Then builds the web console (web/) with vite into dist/web, which the embedded exchange and the gateway serve at /.
import { readFileSync, mkdirSync, writeFileSync, readdirSync, statSync, rmSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { transformFileSync } from '@swc/core';

const root = resolve(dirname(new URL(import.meta.url).pathname), '..');
const tsconfig = JSON.parse(readFileSync(join(root, 'tsconfig.json'), 'utf8'));
const swcrc = JSON.parse(readFileSync(join(root, '.swcrc'), 'utf8'));
delete swcrc.$schema;
const paths = tsconfig.compilerOptions.paths;
const out = join(root, 'dist');

const walk = (dir) =>
  readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) return name === 'node_modules' ? [] : walk(p);
    return p.endsWith('.ts') && !p.endsWith('.d.ts') && !/\.(spec|contract)\.ts$/.test(p) ? [p] : [];
  });

rmSync(out, { recursive: true, force: true });
let count = 0;
for (const top of ['apps', 'libs', 'services']) {
  for (const file of walk(join(root, top))) {
    const { code, map } = transformFileSync(file, {
      ...swcrc,
      swcrc: false,
      jsc: { ...swcrc.jsc, baseUrl: root, paths },
      sourceFileName: relative(join(out, relative(root, dirname(file))), file),
    });
    const target = join(out, relative(root, file)).replace(/\.ts$/, '.js');
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, `${code}\n//# sourceMappingURL=${target.split('/').pop()}.map\n`);
    if (map) writeFileSync(`${target}.map`, map);
    count += 1;
  }
}
console.log(`built ${count} files into dist/`);

const { build } = await import('vite');
await build({ configFile: join(root, 'web', 'vite.config.ts'), logLevel: 'warn' });
console.log('built the web console into dist/web/');
