import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CLI, REPO, tempHome } from '../helpers/process.ts';

/*
 * bin/tributary picks the compiled dist/ of `npm run build` only while it is newer than every .ts
 * file under src and bin. Checked on a copy of the wrapper in a scratch tree (its own src, bin and
 * dist, the real node_modules), so the repository's files are never touched.
 */
describe('bin/tributary: compiled build or sources', () => {
  const root = tempHome('tributary-wrapper-');
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('runs dist/ while it is fresh, the TypeScript once a source is newer or without a build', () => {
    for (const dir of ['bin', 'src', 'dist/bin']) mkdirSync(join(root, dir), { recursive: true });
    symlinkSync(join(REPO, 'node_modules'), join(root, 'node_modules'));
    copyFileSync(CLI, join(root, 'bin', 'tributary'));
    writeFileSync(join(root, 'bin', 'tributary.ts'), "console.log('sources');\n");
    writeFileSync(join(root, 'src', 'module.ts'), 'export {};\n');
    writeFileSync(join(root, 'dist', 'bin', 'tributary.js'), "console.log('dist');\n");
    const run = () => spawnSync(join(root, 'bin', 'tributary'), [], { encoding: 'utf8' }).stdout.trim();
    const past = new Date(Date.now() - 60_000);
    for (const f of ['bin/tributary.ts', 'src/module.ts']) utimesSync(join(root, f), past, past);

    expect(run()).toBe('sources'); // no dist/.built: no build
    writeFileSync(join(root, 'dist', '.built'), 'now\n');
    expect(run()).toBe('dist');
    const later = new Date(Date.now() + 60_000);
    utimesSync(join(root, 'src', 'module.ts'), later, later); // a source edited after the build
    expect(run()).toBe('sources');
  });
});
