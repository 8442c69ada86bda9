import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sha256 } from '../src/state/tree/hashing.ts';
import { StateTree, verifyProof } from '../src/state/tree/index.ts';
import type { TreeWrite } from '../src/state/tree/index.ts';
import { LevelKvStore } from '../src/storage/db.ts';
import { mib, printTable, rate, threadCpuMs, type BenchRow } from './table.ts';

/*
 * State tree on a real LevelDB: load `keys` keys in versions of 50k, then apply blocks of 10,000
 * changed keys (prepare + one atomic batch + markCommitted, timed together), first as an archive
 * node, then with keepVersions = 3 so every block also deletes what pruning makes due. Then proofs
 * (generation, verification, size) and reads, and the process memory with the tree loaded.
 * Env: BENCH_TREE_KEYS, BENCH_TREE_BLOCKS, BENCH_TREE_SYNC=1 (fsync each block's batch).
 *
 * `designComparison` counts the hashing one block needs in the two candidate layouts from the issue
 * (flat radix-16 nodes, as built, against binary nodes as in Diem/Aptos JMT) on the same keys.
 */

const LOAD_BATCH = 50_000;
const BLOCK_KEYS = 10_000;

function keyOf(i: number): Uint8Array {
  return new TextEncoder().encode(`bal/${i.toString(36).padStart(6, '0')}`);
}

/** A 32-byte balance-sized value that differs per (key, version). */
function valueFor(i: number, version: number): Uint8Array {
  const v = new Uint8Array(32);
  const dv = new DataView(v.buffer);
  dv.setUint32(0, i);
  dv.setUint32(4, version);
  dv.setUint32(28, (i * 2654435761) >>> 0);
  return v;
}

/** xorshift32: deterministic key picks without hashing. */
function rng(seed: number): () => number {
  let x = seed | 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return x >>> 0;
  };
}

function dirBytes(dir: string): number {
  let total = 0;
  for (const f of readdirSync(dir)) total += statSync(join(dir, f)).size;
  return total;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1]!;
}

export async function benchTree(opts: { keys?: number; blocks?: number; sync?: boolean } = {}): Promise<BenchRow[]> {
  const keyCount = opts.keys ?? Number(process.env.BENCH_TREE_KEYS ?? 1_000_000);
  const blocks = opts.blocks ?? Number(process.env.BENCH_TREE_BLOCKS ?? 20);
  const sync = opts.sync ?? process.env.BENCH_TREE_SYNC === '1';
  const dir = mkdtempSync(join(tmpdir(), 'trib-bench-tree-'));
  let db = await LevelKvStore.open(dir);
  const rows: BenchRow[] = [];
  const gc = (globalThis as { gc?: () => void }).gc;
  try {
    let tree = await StateTree.open(db);

    // Load.
    let t0 = performance.now();
    for (let start = 0; start < keyCount; start += LOAD_BATCH) {
      const writes: TreeWrite[] = [];
      for (let i = start; i < Math.min(keyCount, start + LOAD_BATCH); i++)
        writes.push({ key: keyOf(i), value: valueFor(i, 0) });
      await tree.commit(writes, { sync });
    }
    const loadMs = performance.now() - t0;
    rows.push({
      name: 'initial load',
      value: rate(keyCount, loadMs),
      unit: 'keys/s',
      note: `${keyCount.toLocaleString('en-US')} keys in versions of ${LOAD_BATCH.toLocaleString('en-US')}`,
    });

    // Blocks of changed keys.
    const pick = rng(12345);
    const runBlocks = async (count: number) => {
      const times = { prepare: 0, write: 0, total: 0, perBlock: [] as number[], ops: 0 };
      for (let b = 0; b < count; b++) {
        const version = tree.latestVersion + 1;
        const writes: TreeWrite[] = [];
        for (let j = 0; j < BLOCK_KEYS; j++) {
          const i = pick() % keyCount;
          writes.push({ key: keyOf(i), value: valueFor(i, version) });
        }
        const start = performance.now();
        const prepared = await tree.prepare(writes);
        const prepared_at = performance.now();
        const batch = db.writeBatch();
        prepared.writeTo(batch);
        await batch.write({ sync });
        tree.markCommitted(prepared);
        const end = performance.now();
        times.prepare += prepared_at - start;
        times.write += end - prepared_at;
        times.total += end - start;
        times.perBlock.push(end - start);
        times.ops += prepared.opCount;
      }
      return times;
    };
    const cpuBefore = threadCpuMs();
    const archive = await runBlocks(blocks);
    const cpuAfter = threadCpuMs();
    const updates = blocks * BLOCK_KEYS;
    rows.push({
      name: 'leaf updates, archive (prepare + batch write)',
      value: rate(updates, archive.total),
      unit: 'keys/s',
      note: `${blocks} blocks of ${BLOCK_KEYS.toLocaleString('en-US')} at ${keyCount.toLocaleString('en-US')} keys; median block ${median(archive.perBlock).toFixed(0)} ms; ${Math.round(archive.ops / blocks).toLocaleString('en-US')} ops/block; sync=${sync}`,
    });
    rows.push({
      name: '  prepare only',
      value: rate(updates, archive.prepare),
      unit: 'keys/s',
      note: 'hashing, node updates, op building',
    });
    rows.push({
      name: '  LevelDB batch only',
      value: rate(updates, archive.write),
      unit: 'keys/s',
      note: 'writeTo (ops into the batch) + write',
    });
    if (cpuBefore && cpuAfter) {
      const perBlock = (names: string[]) => {
        let ms = 0;
        for (const [name, after] of cpuAfter)
          if (names.length === 0 || names.includes(name)) ms += after - (cpuBefore.get(name) ?? 0);
        return (ms / blocks).toFixed(0);
      };
      rows.push({
        name: 'CPU per block, all threads',
        value: perBlock([]),
        unit: 'ms',
        note: `2 cores give ${(2 * median(archive.perBlock)).toFixed(0)} ms of CPU in a median block; includes making the block's writes`,
      });
      rows.push({
        name: '  main thread',
        value: perBlock(['MainThread']),
        unit: 'ms',
        note: 'prepare, writeTo, GC pauses',
      });
      rows.push({
        name: '  V8 helper threads',
        value: perBlock(['V8Worker', 'V8 DefaultWorke']),
        unit: 'ms',
        note: 'concurrent and parallel GC',
      });
      rows.push({
        name: '  libuv thread pool',
        value: perBlock(['libuv-worker']),
        unit: 'ms',
        note: 'LevelDB write, flush and compaction',
      });
    }

    // Proofs and reads at the tip (archive tree, fully built).
    gc?.(); // a collection of the blocks' garbage must not land inside the timings below
    const proofKeys: Uint8Array[] = [];
    for (let j = 0; j < 2_000; j++)
      proofKeys.push(j % 2 === 0 ? keyOf(pick() % keyCount) : keyOf(keyCount + (pick() % keyCount)));
    const root = tree.latestRoot;
    const proofs: { key: Uint8Array; value: Uint8Array | undefined; proof: Uint8Array; us: number }[] = [];
    for (const key of proofKeys) {
      const start = performance.now();
      const p = await tree.prove(key);
      proofs.push({ key, ...p, us: (performance.now() - start) * 1000 });
    }
    let ok = 0;
    const verifyUs: number[] = [];
    for (const p of proofs) {
      const start = performance.now();
      if (verifyProof(root, p.key, p.value, p.proof)) ok++;
      verifyUs.push((performance.now() - start) * 1000);
    }
    if (ok !== proofs.length) throw new Error(`only ${ok}/${proofs.length} proofs verified`);
    const present = proofs.filter((p) => p.value !== undefined);
    const absent = proofs.filter((p) => p.value === undefined);
    const avg = (xs: number[]) => Math.round(xs.reduce((a, b) => a + b, 0) / xs.length);
    rows.push({
      name: 'proof generation, key present',
      value: median(present.map((p) => p.us)).toFixed(0),
      unit: 'µs/proof',
      note: `median of ${present.length}; path from memory + value read from LevelDB; at ${keyCount.toLocaleString('en-US')} keys`,
    });
    rows.push({
      name: 'proof generation, key absent',
      value: median(absent.map((p) => p.us)).toFixed(0),
      unit: 'µs/proof',
      note: `median of ${absent.length}; no DB read`,
    });
    rows.push({
      name: 'proof verification',
      value: median(verifyUs).toFixed(0),
      unit: 'µs/proof',
      note: `median of ${proofs.length}, max ${Math.max(...verifyUs).toFixed(0)}; verifyProof, pure JS (no node:crypto)`,
    });
    rows.push({
      name: 'proof size, inclusion',
      value: String(avg(present.map((p) => p.proof.length))),
      unit: 'bytes',
      note: `max ${Math.max(...present.map((p) => p.proof.length))}`,
    });
    rows.push({
      name: 'proof size, non-inclusion',
      value: String(avg(absent.map((p) => p.proof.length))),
      unit: 'bytes',
      note: `max ${Math.max(...absent.map((p) => p.proof.length))}`,
    });

    t0 = performance.now();
    for (const key of proofKeys) await tree.get(key);
    const tipMs = performance.now() - t0;
    const old = tree.latestVersion - 1;
    t0 = performance.now();
    for (const key of proofKeys) await tree.get(key, old);
    const oldMs = performance.now() - t0;
    rows.push({
      name: 'get at latest (in-memory walk + one value read)',
      value: ((tipMs * 1000) / proofKeys.length).toFixed(0),
      unit: 'µs/read',
    });
    rows.push({
      name: 'get at an older version (tree walk)',
      value: ((oldMs * 1000) / proofKeys.length).toFixed(0),
      unit: 'µs/read',
    });

    gc?.();
    const mem = process.memoryUsage();
    rows.push({
      name: 'process RSS with the tree loaded',
      value: mib(mem.rss),
      unit: 'MiB',
      note: 'includes V8 pages kept from the bulk load',
    });
    rows.push({
      name: '  JS heap used',
      value: mib(mem.heapUsed),
      unit: 'MiB',
      note: `${gc ? 'after gc; ' : ''}whole latest tree in memory (default cacheSize)`,
    });
    rows.push({ name: '  array buffers (node records)', value: mib(mem.arrayBuffers), unit: 'MiB' });
    await db.close();
    rows.push({
      name: 'LevelDB size, archive',
      value: mib(dirBytes(dir)),
      unit: 'MiB',
      note: `${tree.latestVersion + 1} versions`,
    });

    // Same blocks with pruning: reopen with keepVersions = 3; the first blocks prune the backlog.
    db = await LevelKvStore.open(dir);
    tree = await StateTree.open(db, { keepVersions: 3 });
    await runBlocks(3);
    const pruned = await runBlocks(Math.max(3, blocks >> 1));
    const prunedUpdates = Math.max(3, blocks >> 1) * BLOCK_KEYS;
    rows.push({
      name: 'leaf updates, keepVersions=3 (prepare + batch write)',
      value: rate(prunedUpdates, pruned.total),
      unit: 'keys/s',
      note: `median block ${median(pruned.perBlock).toFixed(0)} ms; ${Math.round(pruned.ops / (prunedUpdates / BLOCK_KEYS)).toLocaleString('en-US')} ops/block incl. prune deletes`,
    });
    await db.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  rows.push(...designComparison(keyCount));
  return rows;
}

/**
 * Hash invocations for one block of BLOCK_KEYS updates among `keyCount` keys, counted exactly on
 * the key hashes: flat radix-16 nodes need one hash per node on the union of the update paths,
 * binary nodes one per binary internal node on it (leaves compressed in both).
 */
export function designComparison(keyCount: number): BenchRow[] {
  const hashes = Array.from({ length: keyCount }, (_, i) => Buffer.from(sha256(keyOf(i))));
  const order = Array.from({ length: keyCount }, (_, i) => i).sort((a, b) => Buffer.compare(hashes[a]!, hashes[b]!));
  const commonBits = (a: Buffer, b: Buffer) => {
    let i = 0;
    while (i < 32 && a[i] === b[i]) i++;
    return i === 32 ? 256 : i * 8 + Math.clz32(a[i]! ^ b[i]!) - 24;
  };
  // A leaf sits one bit below its longest common prefix with any other key.
  const leafDepth = new Int32Array(keyCount);
  for (let r = 0; r < keyCount; r++) {
    const h = hashes[order[r]!]!;
    const prev = r > 0 ? commonBits(h, hashes[order[r - 1]!]!) : 0;
    const next = r < keyCount - 1 ? commonBits(h, hashes[order[r + 1]!]!) : 0;
    leafDepth[order[r]!] = Math.max(prev, next) + 1;
  }
  const pick = rng(777);
  const binary = new Set<string>();
  const radix16 = new Set<string>();
  let depthSum = 0;
  for (let j = 0; j < BLOCK_KEYS; j++) {
    const i = pick() % keyCount;
    const h = hashes[i]!;
    const d = leafDepth[i]!;
    let bits = '';
    for (let k = 0; k < d; k++) bits += (h[k >> 3]! >> (7 - (k & 7))) & 1;
    for (let k = 0; k < d; k++) binary.add(bits.slice(0, k));
    for (let k = 0; k < Math.ceil(d / 4); k++) radix16.add(bits.slice(0, 4 * k));
    depthSum += d;
  }
  const n = (x: number) => x.toLocaleString('en-US');
  return [
    {
      name: 'design: node hashes per block, radix-16 (built)',
      value: n(radix16.size),
      unit: 'hashes',
      note: `+ ${n(2 * BLOCK_KEYS)} key/value hashes; one sha256 per node record`,
    },
    {
      name: 'design: node hashes per block, binary (JMT)',
      value: n(binary.size + BLOCK_KEYS),
      unit: 'hashes',
      note: `+ ${n(2 * BLOCK_KEYS)} key/value hashes; incl. ${n(BLOCK_KEYS)} leaf hashes; proofs ~${Math.round((depthSum / BLOCK_KEYS) * 32)} B`,
    },
  ];
}

if (import.meta.main) {
  printTable('State tree (bench/tree.ts)', await benchTree());
}
