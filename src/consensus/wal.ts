import { mkdir, open, readdir, readFile, rm, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { TributaryError } from '../errors.ts';

/*
 * The consensus write-ahead log, one file per height: every message this validator received and
 * every one it signed, appended before it is acted on, so a restart replays the height to the
 * same state instead of starting it afresh (CometBFT keeps such a log for the same reason).
 * Records: u32 length ‖ u32 CRC-32 of the payload ‖ payload (big-endian). A torn last record, which
 * a kill -9 during an append leaves, fails its length or CRC check and is dropped on open; a bad
 * record before the end is corruption and refuses to open. What a record holds is the engine's
 * business: the log stores bytes.
 *
 * Hand-written: no maintained package does an fsync'd, CRC-framed append log for Node.
 */

export type WalErrorCode = 'wal/corrupt' | 'wal/closed';

const HEADER = 8;
/** Far above any consensus message; a length past it is a torn or corrupt header. */
const MAX_RECORD = 64 * 1024 * 1024;

function fileName(height: number): string {
  return `${String(height).padStart(16, '0')}.wal`;
}

export class ConsensusWal {
  private readonly dir: string;
  private file: FileHandle | undefined;
  private fileHeight = 0;
  private appending: Promise<unknown> = Promise.resolve();

  private constructor(dir: string) {
    this.dir = dir;
  }

  static async open(dir: string): Promise<ConsensusWal> {
    await mkdir(dir, { recursive: true });
    return new ConsensusWal(dir);
  }

  /** Records of `height` in the order written; a torn last record is dropped (and cut off the file). */
  async read(height: number): Promise<Uint8Array[]> {
    const path = join(this.dir, fileName(height));
    let bytes: Uint8Array;
    try {
      bytes = new Uint8Array(await readFile(path));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw e;
    }
    const records: Uint8Array[] = [];
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    let at = 0;
    while (at < bytes.length) {
      if (at + HEADER > bytes.length) break; // torn header
      const length = view.getUint32(at);
      const crc = view.getUint32(at + 4);
      const end = at + HEADER + length;
      if (length > MAX_RECORD || end > bytes.length) break; // torn tail
      const payload = bytes.subarray(at + HEADER, end);
      if (crc32(payload) !== crc) {
        if (end === bytes.length) break; // the last record, half on disk
        throw new TributaryError('wal/corrupt', `${path}: record at byte ${at} fails its checksum`);
      }
      records.push(payload.slice());
      at = end;
    }
    if (at < bytes.length) {
      // Cut the torn tail so that appends after it stay readable.
      const handle = await open(path, 'r+');
      try {
        await handle.truncate(at);
        await handle.sync();
      } finally {
        await handle.close();
      }
    }
    return records;
  }

  /** Appends one record to `height`'s file and fsyncs it before resolving. Appends are serialised. */
  append(height: number, payload: Uint8Array): Promise<void> {
    const run = this.appending.then(async () => {
      if (this.fileHeight !== height || !this.file) {
        await this.file?.close();
        this.file = await open(join(this.dir, fileName(height)), 'a');
        this.fileHeight = height;
      }
      const record = new Uint8Array(HEADER + payload.length);
      const view = new DataView(record.buffer);
      view.setUint32(0, payload.length);
      view.setUint32(4, crc32(payload));
      record.set(payload, HEADER);
      await this.file.write(record);
      await this.file.sync();
    });
    this.appending = run.catch(() => undefined);
    return run;
  }

  /** After `height` is committed: its log and older ones are no longer needed. */
  async prune(belowOrAt: number): Promise<void> {
    await this.appending;
    if (this.file && this.fileHeight <= belowOrAt) {
      await this.file.close();
      this.file = undefined;
    }
    for (const name of await readdir(this.dir)) {
      const m = /^(\d{16})\.wal$/.exec(name);
      if (m && Number(m[1]) <= belowOrAt) await rm(join(this.dir, name), { force: true });
    }
  }

  async close(): Promise<void> {
    await this.appending;
    await this.file?.close();
    this.file = undefined;
  }
}
