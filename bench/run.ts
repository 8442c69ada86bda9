import { cpus } from 'node:os';
import { benchAttribution } from './attribution.ts';
import { benchSpine } from './spine.ts';
import { printTable } from './table.ts';
import { benchTree } from './tree.ts';

/**
 * `npm run bench`: every benchmark of the node, one table each. Figures go into README.md with
 * the command that produced them. Benchmarks are never timed tests: nothing here can fail CI.
 * Each runs in this one process, one after the other; `node bench/<name>.ts` runs one alone.
 */
console.log(`node ${process.version}, ${cpus().length} cores, ${new Date().toISOString()}`);
printTable('Spine: single-node transfer throughput (bench/spine.ts)', await benchSpine());
globalThis.gc?.();
printTable('AI economy: inference payments over a depth-8 lineage (bench/attribution.ts)', await benchAttribution());
globalThis.gc?.();
printTable('State tree at 1,000,000 keys (bench/tree.ts)', await benchTree());
