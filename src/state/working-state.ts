/*
 * The write buffer a block (or the mempool's check state) executes against. Reads fall through
 * to the committed state; writes stay here until the block commits them as one tree version.
 * Checkpoints nest: each transaction runs inside one, and a failure reverts exactly its writes,
 * so a failed transaction leaves no trace beyond its fee and nonce.
 */
import { bytesKey } from '../crypto/hash.ts';

export interface StateReader {
  get(key: Uint8Array): Promise<Uint8Array | undefined>;
}

export interface StateWrite {
  key: Uint8Array;
  value: Uint8Array | null; // null: delete
}

interface JournalEntry {
  id: string;
  previous: StateWrite | undefined; // undefined: the key had no buffered write before
}

function copyRecord<T>(value: T): T {
  const out = { ...(value as Record<string, unknown>) };
  for (const k in out) if (Array.isArray(out[k])) out[k] = [...(out[k] as unknown[])];
  return out as T;
}

/** What a codec must offer for the decoded-value cache. */
interface RecordCodec<T> {
  encode(value: T): Uint8Array;
  decodeStored(bytes: Uint8Array): T;
}

/*
 * Beside the write buffer, a working state is the cache layer of the stores built on it
 * (src/state/module-store.ts), so caching is a property of the state and not a promise callers make:
 *   - decoded values by bytes object (`load`/`save`): the buffer hands back the very Uint8Array it
 *     was given, so a record written earlier in the block is not decoded (and re-encoded for the
 *     canonical check) again. Identity of the bytes object implies identical content, and a
 *     reverted write hands back a different object, so this cannot return a stale value. Values are
 *     copied in and out, top-level arrays included; nested messages and byte fields are shared, so
 *     callers replace them rather than mutate them.
 *   - committed values by key (`loadCached`): during one working state's life (one block, or the
 *     mempool's check state between commits) the committed state under it does not change, so a key
 *     with no buffered write reads the same value every time. A key with a buffered write is read
 *     from the buffer, whoever wrote it. Cached objects are shared and must not be mutated.
 *   - block-scoped scratch (`scratch`): values that live as long as the working state, outside its
 *     checkpoints (a revert does not touch them).
 * None of it changes a result, only speed; nothing of it reaches the tree.
 */
export class WorkingState implements StateReader {
  private readonly base: StateReader;
  private readonly writes = new Map<string, StateWrite>();
  private readonly journal: JournalEntry[] = [];
  private readonly marks: number[] = [];
  private readonly decoded = new WeakMap<Uint8Array, object>();
  private readonly committedValues = new Map<string, unknown>();
  private readonly scratchByOwner = new Map<string, unknown>();

  constructor(base: StateReader) {
    this.base = base;
  }

  /** The decoded record at `key` (a copy: the caller may change it). */
  async load<T>(codec: RecordCodec<T>, key: Uint8Array): Promise<T | undefined> {
    const raw = await this.get(key);
    if (!raw) return undefined;
    const memo = this.decoded.get(raw);
    if (memo) return copyRecord(memo as T);
    return codec.decodeStored(raw);
  }

  /** Encodes and buffers a record, remembering its decoded form for later reads in this state. */
  save<T>(codec: RecordCodec<T>, key: Uint8Array, value: T): void {
    const bytes = codec.encode(value);
    this.decoded.set(bytes, copyRecord(value as object));
    this.record(key, bytes);
  }

  /** The parsed value at `key`, parsed once per working state while the key has no buffered write. */
  async loadCached<T>(key: Uint8Array, parse: (raw: Uint8Array) => T): Promise<T | undefined> {
    const id = bytesKey(key);
    const w = this.writes.get(id);
    if (w) return w.value ? parse(w.value) : undefined;
    if (this.committedValues.has(id)) return this.committedValues.get(id) as T | undefined;
    const raw = await this.base.get(key);
    const value = raw ? parse(raw) : undefined;
    this.committedValues.set(id, value);
    return value;
  }

  /** Whether the key has a buffered write (set or delete) now. */
  hasWrite(key: Uint8Array): boolean {
    return this.writes.has(bytesKey(key));
  }

  /** A value owned by `owner` for this working state's whole life, outside checkpoints. */
  scratch<T>(owner: string, init: () => T): T {
    let value = this.scratchByOwner.get(owner) as T | undefined;
    if (value === undefined) {
      value = init();
      this.scratchByOwner.set(owner, value);
    }
    return value;
  }

  /** Removes and returns an owner's scratch value (undefined when there is none). */
  takeScratch<T>(owner: string): T | undefined {
    const value = this.scratchByOwner.get(owner) as T | undefined;
    this.scratchByOwner.delete(owner);
    return value;
  }

  async get(key: Uint8Array): Promise<Uint8Array | undefined> {
    const w = this.writes.get(bytesKey(key));
    if (w) return w.value ?? undefined;
    return this.base.get(key);
  }

  set(key: Uint8Array, value: Uint8Array): void {
    this.record(key, value);
  }

  delete(key: Uint8Array): void {
    this.record(key, null);
  }

  private record(key: Uint8Array, value: Uint8Array | null): void {
    const id = bytesKey(key);
    if (this.marks.length > 0) this.journal.push({ id, previous: this.writes.get(id) });
    this.writes.set(id, { key, value });
  }

  checkpoint(): void {
    this.marks.push(this.journal.length);
  }

  /** Keep the writes since the last checkpoint. */
  commitCheckpoint(): void {
    if (this.marks.pop() === undefined) throw new Error('commitCheckpoint without checkpoint');
    if (this.marks.length === 0) this.journal.length = 0;
  }

  /** Undo every write since the last checkpoint. */
  revert(): void {
    const mark = this.marks.pop();
    if (mark === undefined) throw new Error('revert without checkpoint');
    for (let i = this.journal.length - 1; i >= mark; i--) {
      const entry = this.journal[i]!;
      if (entry.previous) this.writes.set(entry.id, entry.previous);
      else this.writes.delete(entry.id);
    }
    this.journal.length = mark;
  }

  /** Buffered writes in bytewise key order: the one order every node feeds the tree. */
  sortedWrites(): StateWrite[] {
    const ids = [...this.writes.keys()].sort();
    return ids.map((id) => this.writes.get(id)!);
  }
}
