import { appendFileSync, existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConsensusWal } from '../../src/consensus/wal.ts';
import { TributaryError } from '../../src/errors.ts';

const fresh = () => mkdtempSync(join(tmpdir(), 'tributary-wal-'));
const rec = (...b: number[]) => Uint8Array.from(b);
const walFile = (dir: string, h: number) => join(dir, `${String(h).padStart(16, '0')}.wal`);

describe('consensus write-ahead log', () => {
  it('reads back what was appended, per height, in order, after reopening', async () => {
    const dir = fresh();
    const wal = await ConsensusWal.open(dir);
    await Promise.all([wal.append(5, rec(1)), wal.append(5, rec(2, 2)), wal.append(5, new Uint8Array(0))]);
    await wal.append(6, rec(9));
    await wal.close();
    const again = await ConsensusWal.open(dir);
    expect((await again.read(5)).map((r) => [...r])).toEqual([[1], [2, 2], []]);
    expect((await again.read(6)).map((r) => [...r])).toEqual([[9]]);
    expect(await again.read(7)).toEqual([]);
    await again.prune(5);
    expect(existsSync(walFile(dir, 5))).toBe(false);
    expect(existsSync(walFile(dir, 6))).toBe(true);
  });

  it('drops a torn last record (a kill -9 mid-append), cuts it off, and appends after it stay readable', async () => {
    for (const tear of [3, 8, 10]) {
      const dir = fresh();
      const wal = await ConsensusWal.open(dir);
      await wal.append(1, rec(1, 1, 1));
      await wal.append(1, rec(2, 2, 2, 2));
      await wal.close();
      const whole = readFileSync(walFile(dir, 1));
      const firstEnd = 8 + 3;
      writeFileSync(walFile(dir, 1), whole.subarray(0, firstEnd + tear)); // second record torn
      const reopened = await ConsensusWal.open(dir);
      expect((await reopened.read(1)).map((r) => [...r])).toEqual([[1, 1, 1]]);
      expect(statSync(walFile(dir, 1)).size).toBe(firstEnd);
      await reopened.append(1, rec(3));
      expect((await reopened.read(1)).map((r) => [...r])).toEqual([[1, 1, 1], [3]]);
      await reopened.close();
    }
  });

  it('refuses a log whose record before the end fails its checksum', async () => {
    const dir = fresh();
    const wal = await ConsensusWal.open(dir);
    await wal.append(2, rec(1, 2, 3));
    await wal.append(2, rec(4));
    await wal.close();
    const bytes = readFileSync(walFile(dir, 2));
    bytes[9] = bytes[9]! ^ 0xff; // a payload byte of the first record
    writeFileSync(walFile(dir, 2), bytes);
    const error = await (await ConsensusWal.open(dir)).read(2).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TributaryError);
    expect((error as TributaryError).code).toBe('wal/corrupt');
  });

  it('a garbage tail after good records is a torn write, not corruption', async () => {
    const dir = fresh();
    const wal = await ConsensusWal.open(dir);
    await wal.append(3, rec(7));
    await wal.close();
    appendFileSync(walFile(dir, 3), Buffer.from([0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0, 1]));
    expect((await (await ConsensusWal.open(dir)).read(3)).map((r) => [...r])).toEqual([[7]]);
  });
});
