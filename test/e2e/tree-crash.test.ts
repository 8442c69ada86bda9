import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { StateTree } from '../../src/state/tree/index.ts';
import { LevelKvStore, MemoryKvStore } from '../../src/storage/db.ts';
import { CRASH_KEEP_VERSIONS, CRASH_KEY_SPACE, crashKey, crashWrites } from './fixtures/tree-crash-writes.ts';

const NODE = resolve('node_modules/.bin/node');
const CHILD = resolve('test/e2e/fixtures/tree-crash-child.ts');
const ROUNDS = 5;
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

const dir = mkdtempSync(join(tmpdir(), 'tree-crash-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs the child until it has printed at least one new version, then SIGKILLs it after a random delay. */
function runAndKill(): Promise<number[]> {
  return new Promise((resolveRun, reject) => {
    const child = spawn(NODE, [CHILD, dir], { stdio: ['ignore', 'pipe', 'pipe'] });
    const printed: number[] = [];
    let partial = '';
    let stderr = '';
    let killTimer: NodeJS.Timeout | undefined;
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      partial += chunk;
      const lines = partial.split('\n');
      partial = lines.pop()!;
      for (const line of lines) printed.push(Number(line));
      if (killTimer === undefined && printed.length > 0) {
        killTimer = setTimeout(() => child.kill('SIGKILL'), Math.floor(Math.random() * 700));
      }
    });
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      if (signal !== 'SIGKILL') reject(new Error(`child exited on its own (code ${code}): ${stderr}`));
      else resolveRun(printed);
    });
  });
}

describe('state tree crash safety', () => {
  it(`reopens at the last written version after ${ROUNDS} random SIGKILLs`, async () => {
    let lastPrinted = -1;
    for (let round = 0; round < ROUNDS; round++) {
      const printed = await runAndKill();
      expect(printed.length).toBeGreaterThan(0);
      expect(printed[0]).toBeGreaterThan(lastPrinted);
      lastPrinted = printed[printed.length - 1]!;

      const db = await LevelKvStore.open(dir);
      const tree = await StateTree.open(db, { keepVersions: CRASH_KEEP_VERSIONS });
      const latest = tree.latestVersion;
      // The kill may land after a batch was written but before its version was printed.
      expect(latest).toBeGreaterThanOrEqual(lastPrinted);
      expect(latest).toBeLessThanOrEqual(lastPrinted + 1);
      lastPrinted = latest;
      expect(tree.earliestVersion()).toBe(Math.max(0, latest - CRASH_KEEP_VERSIONS + 1));

      // Replay the deterministic writes: version by version (for every retained root) and as one
      // fresh tree of the final key/value set (for the latest root).
      const replay = await StateTree.open(new MemoryKvStore());
      const finalState = new Map<string, Uint8Array | null>();
      for (let v = 0; v <= latest; v++) {
        const writes = crashWrites(v);
        await replay.commit(writes);
        for (const w of writes) finalState.set(hex(w.key), w.value);
      }
      for (let v = tree.earliestVersion(); v <= latest; v++) {
        expect(hex(await tree.rootAt(v))).toBe(hex(await replay.rootAt(v)));
      }
      const fresh = await StateTree.open(new MemoryKvStore());
      await fresh.commit([...finalState].map(([k, value]) => ({ key: Buffer.from(k, 'hex'), value })));
      expect(hex(tree.latestRoot)).toBe(hex(fresh.latestRoot));
      for (let n = 0; n < CRASH_KEY_SPACE; n += 997) {
        const expected = finalState.get(hex(crashKey(n))) ?? undefined;
        const got = await tree.get(crashKey(n));
        expect(got === undefined ? undefined : hex(got)).toBe(expected === undefined ? undefined : hex(expected));
      }
      await db.close();
    }
    expect(lastPrinted).toBeGreaterThan(ROUNDS);
  }, 120_000);
});
