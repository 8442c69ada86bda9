/*
 * The write buffer a block (or the mempool's check state) executes against. Reads fall through
 * to the committed state; writes stay here until the block commits them as one tree version.
 * Checkpoints nest: each transaction runs inside one, and a failure reverts exactly its writes,
 * so a failed transaction leaves no trace beyond its fee and nonce.
 */
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

/** Map id for a key: latin1 keeps one char per byte, so string order equals bytewise order. */
export function keyId(key: Uint8Array): string {
  // State keys are short; fromCharCode is the cheapest byte->latin1 path there (no Buffer wrapper).
  if (key.length <= 256) return String.fromCharCode.apply(null, key as unknown as number[]);
  return Buffer.from(key.buffer, key.byteOffset, key.byteLength).toString('latin1');
}

export class WorkingState implements StateReader {
  private readonly base: StateReader;
  private readonly writes = new Map<string, StateWrite>();
  private readonly journal: JournalEntry[] = [];
  private readonly marks: number[] = [];

  constructor(base: StateReader) {
    this.base = base;
  }

  async get(key: Uint8Array): Promise<Uint8Array | undefined> {
    const w = this.writes.get(keyId(key));
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
    const id = keyId(key);
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
