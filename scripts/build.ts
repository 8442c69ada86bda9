import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

/*
 * `npm run build`: `src` and `bin` compiled to JavaScript in `dist/` (tsc with
 * tsconfig.build.json), so that `bin/tributary` starts without stripping TypeScript on every run
 * (30-40 ms of CPU a command in bench/cli-latency.ts: the README's CLI start-up table). Files
 * read at run time beside the code (.proto schemas, query-commands.json, genesis.json) are
 * symlinked, never copied, so they cannot go stale.
 * `dist/.built` is written last; `bin/tributary` runs the build only while no .ts file under
 * src or bin is newer than it, and the TypeScript otherwise.
 */

const root = fileURLToPath(new URL('..', import.meta.url));
const dist = join(root, 'dist');
const stamp = join(dist, '.built');

rmSync(stamp, { force: true }); // first: while building, bin/tributary runs the sources
rmSync(dist, { recursive: true, force: true });
const tsc = spawnSync(join(root, 'node_modules', '.bin', 'tsc'), ['-p', join(root, 'tsconfig.build.json')], {
  stdio: 'inherit',
});
if (tsc.status !== 0) {
  console.error('build: tsc failed; bin/tributary keeps running the TypeScript sources');
  process.exit(1);
}

function linkData(dir: string): number {
  let n = 0;
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) n += linkData(path);
    else if (name.endsWith('.proto') || name.endsWith('.json')) {
      const target = join(dist, relative(root, path));
      mkdirSync(dirname(target), { recursive: true });
      symlinkSync(relative(dirname(target), path), target);
      n++;
    }
  }
  return n;
}
const schemas = linkData(join(root, 'src'));
symlinkSync(join('..', 'genesis.json'), join(dist, 'genesis.json'));
if (!existsSync(join(dist, 'bin', 'tributary.js'))) throw new Error('build: dist/bin/tributary.js is missing');
writeFileSync(stamp, `${new Date().toISOString()}\n`);
console.log(`build: dist/ ready (${schemas} data files linked); bin/tributary runs it while no source is newer`);
