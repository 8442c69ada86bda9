import { spawnSync } from 'node:child_process';
import { cpus } from 'node:os';
import { fileURLToPath } from 'node:url';

/**
 * `npm run bench`: every benchmark of the node, one table each. Figures go into README.md with
 * the command that produced them. Benchmarks are never timed tests: nothing here can fail CI.
 * Each runs in a fresh process, as a node would: one benchmark's heap and JIT state must not
 * colour the next one's figures. `node bench/<name>.ts` runs one alone.
 */
const BENCHES = ['spine.ts', 'attribution.ts', 'tree.ts', 'bft.ts', 'rpc.ts'];

console.log(`node ${process.version}, ${cpus().length} cores, ${new Date().toISOString()}`);
let failed = false;
for (const file of BENCHES) {
  const path = fileURLToPath(new URL(file, import.meta.url));
  const r = spawnSync(process.execPath, ['--expose-gc', path], { stdio: 'inherit' });
  if (r.status !== 0) failed = true;
}
process.exitCode = failed ? 1 : 0;
