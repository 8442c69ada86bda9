import { ClassicLevel } from 'classic-level';
import { TributaryError } from '../errors.ts';
import { toHex as hexKey } from '../crypto/hash.ts';
import { levelMaxOpenFiles } from './descriptors.ts';

export type StorageErrorCode = 'storage/locked' | 'storage/open_failed' | 'storage/write_failed';

export type BatchOp = { type: 'put'; key: Uint8Array; value: Uint8Array } | { type: 'del'; key: Uint8Array };

export interface RangeOptions {
  gte?: Uint8Array;
  gt?: Uint8Array;
  lt?: Uint8Array;
  lte?: Uint8Array;
  reverse?: boolean;
  limit?: number;
}

/**
 * An atomic batch filled op by op. put/del copy the bytes before returning, so callers may reuse
 * their buffers at once: a state version emits tens of thousands of ops, and holding each as an
 * object until the write cost more in GC than the write itself.
 */
export interface WriteBatch {
  put(key: Uint8Array, value: Uint8Array): void;
  del(key: Uint8Array): void;
  /** Ops added so far. */
  readonly length: number;
  /** All ops land together or none do. `sync` forces the write-ahead log to disk first. */
  write(opts?: { sync?: boolean }): Promise<void>;
}

/**
 * The whole storage surface the node uses: point reads, ordered range reads and atomic batches.
 * Small on purpose, so LevelDB and the in-memory twin stay interchangeable in tests.
 */
export interface KvStore {
  get(key: Uint8Array): Promise<Uint8Array | undefined>;
  getMany(keys: Uint8Array[]): Promise<(Uint8Array | undefined)[]>;
  /** All ops land together or none do. `sync` forces the write-ahead log to disk first. */
  batch(ops: BatchOp[], opts?: { sync?: boolean }): Promise<void>;
  writeBatch(): WriteBatch;
  range(opts: RangeOptions): AsyncIterable<[Uint8Array, Uint8Array]>;
  /** Why writes are failing (disk full, I/O error), or undefined while they work. */
  fault(): string | undefined;
  /** After a fault: tries to make writes work again; true once they do. */
  recover(): Promise<boolean>;
  close(): Promise<void>;
}

/** A key of the meta bucket (0x01) written and deleted to test that writes work again. */
const PROBE_KEY = Uint8Array.of(0x01, ...new TextEncoder().encode('write_probe'));

export class LevelKvStore implements KvStore {
  private db: ClassicLevel<Uint8Array, Uint8Array>;
  private readonly path: string;
  private writeFault: string | undefined;

  private constructor(db: ClassicLevel<Uint8Array, Uint8Array>, path: string) {
    this.db = db;
    this.path = path;
  }

  static async open(path: string): Promise<LevelKvStore> {
    return new LevelKvStore(await LevelKvStore.openLevel(path), path);
  }

  private static async openLevel(path: string): Promise<ClassicLevel<Uint8Array, Uint8Array>> {
    // Table files LevelDB keeps open are capped by the descriptor budget (storage/descriptors.ts).
    const db = new ClassicLevel<Uint8Array, Uint8Array>(path, {
      keyEncoding: 'view',
      valueEncoding: 'view',
      maxOpenFiles: levelMaxOpenFiles(),
    });
    try {
      await db.open();
    } catch (e) {
      const cause = (e as { cause?: { code?: string; message?: string } }).cause;
      if (cause?.code === 'LEVEL_LOCKED' || /lock/i.test(cause?.message ?? '')) {
        throw new TributaryError('storage/locked', `database already in use: ${path}`, { path });
      }
      throw new TributaryError('storage/open_failed', `cannot open database ${path}: ${(e as Error).message}`, {
        path,
      });
    }
    return db;
  }

  fault(): string | undefined {
    return this.writeFault;
  }

  /**
   * LevelDB keeps refusing every write after one failed (its background error sticks until the
   * database is reopened), so freeing disk space alone would not help. Reopening is safe here:
   * a failed batch wrote nothing, and every in-memory structure above reflects only batches that
   * landed. A synced probe write then shows whether writes work again.
   */
  async recover(): Promise<boolean> {
    if (this.writeFault === undefined) return true;
    try {
      await this.db.close();
      this.db = await LevelKvStore.openLevel(this.path);
      await this.db.put(PROBE_KEY, new Uint8Array(0), { sync: true });
      await this.db.del(PROBE_KEY, { sync: true });
      this.writeFault = undefined;
      return true;
    } catch (e) {
      this.writeFault = faultReason(e);
      return false;
    }
  }

  async get(key: Uint8Array): Promise<Uint8Array | undefined> {
    return this.db.get(key);
  }

  async getMany(keys: Uint8Array[]): Promise<(Uint8Array | undefined)[]> {
    if (keys.length === 0) return [];
    return this.db.getMany(keys);
  }

  async batch(ops: BatchOp[], opts?: { sync?: boolean }): Promise<void> {
    if (ops.length === 0) return;
    const batch = this.writeBatch();
    for (const op of ops) {
      if (op.type === 'put') batch.put(op.key, op.value);
      else batch.del(op.key);
    }
    await batch.write(opts);
  }

  /**
   * LevelDB's chained batch: each op is copied into the native batch as it comes (the array form
   * of `db.batch` first clones every op into a new object on the main thread).
   */
  writeBatch(): WriteBatch {
    const batch = this.db.batch();
    return {
      put: (key, value) => void batch.put(key, value),
      del: (key) => void batch.del(key),
      get length() {
        return batch.length;
      },
      write: async (opts) => {
        if (batch.length === 0) return batch.close();
        try {
          await batch.write({ sync: opts?.sync ?? false });
        } catch (e) {
          this.writeFault = faultReason(e);
          throw new TributaryError('storage/write_failed', `cannot write to ${this.path}: ${this.writeFault}`, {
            reason: this.writeFault,
          });
        }
      },
    };
  }

  async *range(opts: RangeOptions): AsyncIterable<[Uint8Array, Uint8Array]> {
    for await (const entry of this.db.iterator({ ...opts, limit: opts.limit ?? -1 })) {
      yield entry as [Uint8Array, Uint8Array];
    }
  }

  async close(): Promise<void> {
    await this.db.close();
  }
}

function faultReason(e: unknown): string {
  const cause = (e as { cause?: { message?: string } }).cause?.message;
  return cause ?? (e as Error).message ?? String(e);
}

/** In-memory twin of LevelKvStore for fast unit tests; same ordering (bytewise) and atomicity. */
export class MemoryKvStore implements KvStore {
  fault(): string | undefined {
    return undefined;
  }

  async recover(): Promise<boolean> {
    return true;
  }

  private readonly map = new Map<string, [Uint8Array, Uint8Array]>();

  async get(key: Uint8Array): Promise<Uint8Array | undefined> {
    return this.map.get(hexKey(key))?.[1];
  }

  async getMany(keys: Uint8Array[]): Promise<(Uint8Array | undefined)[]> {
    return keys.map((k) => this.map.get(hexKey(k))?.[1]);
  }

  async batch(ops: BatchOp[]): Promise<void> {
    for (const op of ops) {
      if (op.type === 'put') this.map.set(hexKey(op.key), [op.key.slice(), op.value.slice()]);
      else this.map.delete(hexKey(op.key));
    }
  }

  writeBatch(): WriteBatch {
    const ops: BatchOp[] = [];
    return {
      put: (key, value) => void ops.push({ type: 'put', key: key.slice(), value: value.slice() }),
      del: (key) => void ops.push({ type: 'del', key: key.slice() }),
      get length() {
        return ops.length;
      },
      write: () => this.batch(ops),
    };
  }

  async *range(opts: RangeOptions): AsyncIterable<[Uint8Array, Uint8Array]> {
    // Hex strings of equal-prefix bytes sort exactly like the bytes themselves.
    const lo = opts.gte ? hexKey(opts.gte) : opts.gt ? hexKey(opts.gt) : undefined;
    const hi = opts.lt ? hexKey(opts.lt) : opts.lte ? hexKey(opts.lte) : undefined;
    const keys = [...this.map.keys()]
      .filter((k) => {
        if (lo !== undefined && (opts.gte ? k < lo : k <= lo)) return false;
        if (hi !== undefined && (opts.lt ? k >= hi : k > hi)) return false;
        return true;
      })
      .sort();
    if (opts.reverse) keys.reverse();
    const limit = opts.limit ?? -1;
    let n = 0;
    for (const k of keys) {
      if (limit >= 0 && n >= limit) return;
      const entry = this.map.get(k);
      if (entry) {
        n++;
        yield [entry[0], entry[1]];
      }
    }
  }

  async close(): Promise<void> {}

  /** Number of stored keys; lets tests check that pruning really deletes. */
  get size(): number {
    return this.map.size;
  }
}
