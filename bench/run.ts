import { benchSpine } from './spine.ts';
import { printTable } from './table.ts';

/**
 * `npm run bench`: every benchmark of the node, one table each. Figures go into README.md with
 * the command that produced them. Benchmarks are never timed tests: nothing here can fail CI.
 */
console.log(`node ${process.version}, ${(await import('node:os')).cpus().length} cores, ${new Date().toISOString()}`);
printTable('Spine: single-node transfer throughput (bench/spine.ts)', await benchSpine());
