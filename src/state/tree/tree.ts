/**
 * The authenticated, versioned state tree (format: node.ts; proofs: proof.ts; design: README.md).
 *
 * Writes never touch the DB from here: `prepare` reads committed records and returns the next
 * version, whose `writeTo` adds its ops to the caller's batch (new nodes, value records, key-index
 * changes, root record, stale list, and the deletes of whatever pruning makes due); the caller
 * writes that batch, then calls `markCommitted`. The head only moves in `markCommitted`, so a prepare whose batch never landed
 * leaves no trace, and reopening after a crash finds the last written version.
 *
 * The latest version's nodes live in memory as a pointer tree (TreeNode.children), bounded by
 * cacheSize; nodes are immutable, so a prepare builds new nodes beside the committed ones and the
 * switch is one pointer in markCommitted. Caching committed nodes during an abandoned prepare is
 * harmless. Versions below the tip are read from the DB through a small LRU.
 *
 * Updates are sorted by key hash once, so the updates under any subtree are one index range: no
 * per-node grouping allocations, and duplicate keys are adjacent (the last write wins).
 */
import { bytesKey } from '../../crypto/hash.ts';
import { TributaryError } from '../../errors.ts';
import { Bucket, bucketEnd, RETIRED_TREE_BUCKETS } from '../../storage/buckets.ts';
import type { BatchOp, KvStore, WriteBatch } from '../../storage/db.ts';
import {
  EMPTY_ROOT,
  equalBytes,
  HASH_LEN,
  hashEqualAt,
  nibbleAt,
  PATH_NIBBLES,
  popcount16,
  sha256,
} from './hashing.ts';
import { Lru } from './lru.ts';
import {
  ByteArena,
  decodeKeyList,
  decodeRoot,
  EARLIEST_KEY,
  encodeRoot,
  encodeVersion,
  indexKey,
  KeyListWriter,
  MAX_VERSION,
  nodeKey,
  NODE_HEADER_LEN,
  readU64,
  resolveMasks,
  rootHashOf,
  rootKey,
  rootKeyVersion,
  staleKey,
  TreeNode,
  valueKey,
} from './node.ts';
import type { ChildRef, LeafRef, RootRecord, TreeErrorCode } from './node.ts';
import { encodeProof } from './proof.ts';
import type { ProofLevel, ProofTerminal } from './proof.ts';

/** The returned ops reference keys and values without copying: leave them unchanged until written. */
export interface TreeWrite {
  key: Uint8Array;
  /** null deletes the key. */
  value: Uint8Array | null;
}

export interface PreparedVersion {
  readonly version: number;
  readonly root: Uint8Array;
  /** Number of ops `writeTo` adds. */
  readonly opCount: number;
  /**
   * Adds everything this version needs to `batch`; the caller writes it atomically (with its own
   * ops, such as the block) and then calls `markCommitted`. The ops are built here from the
   * prepared nodes and values rather than held as objects since prepare: see WriteBatch.
   */
  writeTo(batch: WriteBatch): void;
}

export interface StateTreeOptions {
  /** Keep the last N versions and delete older ones; 0 or undefined keeps everything (archive). */
  keepVersions?: number;
  /**
   * Nodes of the latest tree kept in memory. Default 524,288: all ~330k nodes of a 1M-key tree fit
   * (~0.5 KiB each on average). Past the budget the lowest level is kept only in part.
   */
  cacheSize?: number;
  /** Latest values kept in memory (entries); default 65,536. */
  valueCacheSize?: number;
}

const DEFAULT_CACHE_NODES = 524_288;
/** Node arena growth below which compaction is not worth a pass over the tree. */
const MIN_COMPACT_BYTES = 64 * 1024 * 1024;
/** Nodes of older versions kept for reads below the tip. */
const OLD_NODE_CACHE = 8_192;
const ROOT_CACHE_VERSIONS = 256;
/**
 * Versions one prepare may prune. Normally one falls due per version; this only bounds the catch-up
 * work after keepVersions was lowered (or set on an archive database), spreading it over commits.
 */
const MAX_PRUNE_VERSIONS_PER_PREPARE = 64;

/**
 * One deduplicated write. It doubles as the LeafRef of the leaf it creates (for a delete the
 * valueHash is a placeholder that is never stored), which saves an object per changed key.
 */
interface Update extends LeafRef {
  readonly key: Uint8Array;
  readonly value: Uint8Array | null;
  /** First four key-hash bytes as an integer: most sort comparisons end here. */
  readonly prefix: number;
}

const NO_VALUE_HASH = new Uint8Array(HASH_LEN);
const NO_BYTES = new Uint8Array(0);

function compareUpdates(a: Update, b: Update): number {
  if (a.prefix !== b.prefix) return a.prefix - b.prefix;
  for (let i = 4; i < HASH_LEN; i++) {
    const d = a.keyHash[i]! - b.keyHash[i]!;
    if (d !== 0) return d;
  }
  return 0;
}

/**
 * Hashes the writes and returns one update per distinct key, sorted by key hash, so the updates
 * under any subtree form one contiguous range. Array#sort is stable: of equal keys the last write
 * comes last in its run, and that is the one kept.
 */
function sortedUpdates(writes: TreeWrite[], version: number): Update[] {
  const all: Update[] = new Array(writes.length);
  for (let i = 0; i < writes.length; i++) {
    const w = writes[i]!;
    const keyHash = sha256(w.key);
    all[i] = {
      leaf: true,
      key: w.key,
      keyHash,
      value: w.value,
      valueHash: NO_VALUE_HASH,
      version,
      prefix: ((keyHash[0]! << 24) | (keyHash[1]! << 16) | (keyHash[2]! << 8) | keyHash[3]!) >>> 0,
    };
  }
  all.sort(compareUpdates);
  let kept = 0;
  for (let i = 0; i < all.length; i++) {
    const u = all[i]!;
    const next = all[i + 1];
    if (next !== undefined && compareUpdates(u, next) === 0) continue;
    if (u.value !== null) (u as { valueHash: Uint8Array }).valueHash = sha256(u.value);
    all[kept++] = u;
  }
  all.length = kept;
  return all;
}

/** End of the run of updates in [lo, hi) sharing the nibble at `depth` with updates[lo]. */
function runEnd(updates: Update[], lo: number, hi: number, depth: number): number {
  const nib = nibbleAt(updates[lo]!.keyHash, depth);
  let j = lo + 1;
  while (j < hi && nibbleAt(updates[j]!.keyHash, depth) === nib) j++;
  return j;
}

interface PendingCommit {
  readonly rootRef: ChildRef | null;
  readonly rootHash: Uint8Array;
  readonly earliest: number;
  /** Change in the number of in-memory latest-tree nodes once this version is the tip. */
  readonly nodeDelta: number;
  /** The version's writes, applied to the latest-value cache when it becomes the tip. */
  readonly writes: readonly TreeWrite[];
}

/**
 * Latest values kept in memory by default (entries, present or known-absent). 65,536 rather than
 * more: each entry costs ~250 B of JS heap for the GC to trace. At 1M keys a 262,144-entry cache
 * held 60 MiB and cost ~75 ms of GC CPU a 10k-key block, while the node's benches (spine,
 * inference/pay) ran no slower with the smaller one.
 */
const DEFAULT_VALUE_CACHE = 65_536;

function treeError(
  code: TreeErrorCode,
  message: string,
  data?: Record<string, unknown>,
): TributaryError<TreeErrorCode> {
  return new TributaryError<TreeErrorCode>(code, message, data);
}

/**
 * The bytes as a plain Uint8Array view (no copy). LevelDB hands back Buffers; callers get one type
 * whichever store is underneath.
 */
function plain(b: Uint8Array): Uint8Array {
  return b.constructor === Uint8Array ? b : new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

/** Splits items by the nibble at `depth` of their key hash. */
function partition<T extends { readonly keyHash: Uint8Array }>(
  items: readonly T[],
  depth: number,
): (T[] | undefined)[] {
  const groups: (T[] | undefined)[] = new Array(16);
  for (const item of items) {
    const n = nibbleAt(item.keyHash, depth);
    const g = groups[n];
    if (g === undefined) groups[n] = [item];
    else g.push(item);
  }
  return groups;
}

export class StateTree {
  private readonly db: KvStore;
  private readonly keep: number;
  private readonly cacheSize: number;
  /** Nodes of older versions, for reads and proofs below the tip. */
  private readonly oldNodes: Lru<TreeNode>;
  private readonly roots = new Lru<RootRecord>(ROOT_CACHE_VERSIONS);
  private latest = -1;
  private earliest = -1;
  /** Root of the latest version; a TreeNode when loaded, whose loaded descendants hang off it. */
  private rootRef: ChildRef | null = null;
  private rootHash: Uint8Array = EMPTY_ROOT;
  /** Nodes currently reachable through the in-memory latest tree (approximate between evictions). */
  private cachedNodes = 0;
  private outstanding: { readonly prepared: PreparedVersion; readonly pending: PendingCommit } | null = null;

  /**
   * Latest values (null: known absent) by raw key, so hot accounts and counters are not a LevelDB
   * read each block. Filled on reads, updated from each version's writes in `markCommitted`. A
   * read that started before a commit is not cached (the generation moved), since LevelDB may
   * have answered it from before the batch.
   */
  private readonly values: Lru<Uint8Array | null>;
  private commitGeneration = 0;
  /**
   * Where node bytes live. Superseded nodes leave dead bytes in its chunks, so when the arena has
   * grown by as much as the live tree held at the last compaction, the in-memory tree is copied
   * into a fresh arena and the old chunks are left to the GC (amortized: one copy of the tree per
   * doubling). Nodes held elsewhere (old-version cache, a walk in flight) keep their old views,
   * which stay valid.
   */
  private nodeArena = new ByteArena();
  private compactAfter = MIN_COMPACT_BYTES;

  private constructor(db: KvStore, keepVersions: number, cacheSize: number, valueCacheSize = DEFAULT_VALUE_CACHE) {
    this.values = new Lru<Uint8Array | null>(valueCacheSize);
    this.db = db;
    this.keep = keepVersions;
    this.cacheSize = cacheSize;
    this.oldNodes = new Lru<TreeNode>(Math.min(cacheSize, OLD_NODE_CACHE));
  }

  static async open(db: KvStore, opts: StateTreeOptions = {}): Promise<StateTree> {
    const keep = opts.keepVersions ?? 0;
    const cacheSize = opts.cacheSize ?? DEFAULT_CACHE_NODES;
    const valueCacheSize = opts.valueCacheSize ?? DEFAULT_VALUE_CACHE;
    if (!Number.isSafeInteger(keep) || keep < 0) throw treeError('state/bad_option', `bad keepVersions: ${keep}`);
    if (!Number.isSafeInteger(cacheSize) || cacheSize < 0)
      throw treeError('state/bad_option', `bad cacheSize: ${cacheSize}`);
    if (!Number.isSafeInteger(valueCacheSize) || valueCacheSize < 0) {
      throw treeError('state/bad_option', `bad valueCacheSize: ${valueCacheSize}`);
    }
    const [retiredFirst, retiredLast] = RETIRED_TREE_BUCKETS;
    for await (const _ of db.range({
      gte: Uint8Array.of(retiredFirst),
      lt: Uint8Array.of(retiredLast + 1),
      limit: 1,
    })) {
      throw treeError(
        'state/old_layout',
        'this database holds a state tree in a retired layout (buckets 0x10-0x14) that this version cannot read',
        {
          bucket: retiredFirst,
        },
      );
    }
    const tree = new StateTree(db, keep, cacheSize, valueCacheSize);
    const range = {
      gte: Uint8Array.of(Bucket.treeVersion),
      lt: bucketEnd(Bucket.treeVersion),
      limit: 1,
      reverse: true,
    };
    for await (const [key, value] of db.range(range)) {
      const version = rootKeyVersion(key);
      if (version === undefined) throw treeError('state/corrupt', 'the last tree record is not a root record');
      const root = decodeRoot(value);
      tree.latest = version;
      tree.rootRef = root.ref;
      tree.rootHash = root.hash;
      const earliest = await db.get(EARLIEST_KEY);
      tree.earliest = earliest === undefined ? 0 : readU64(earliest, 0);
    }
    return tree;
  }

  /** Last committed version; -1 when nothing was ever committed. */
  get latestVersion(): number {
    return this.latest;
  }

  get latestRoot(): Uint8Array {
    return new Uint8Array(this.rootHash);
  }

  /** Oldest version still readable; -1 when nothing was ever committed. */
  earliestVersion(): number {
    return this.latest < 0 ? -1 : this.earliest;
  }

  /** Versions kept (0 = archive). */
  get keepVersions(): number {
    return this.keep;
  }

  async rootAt(version: number): Promise<Uint8Array> {
    this.checkVersion(version);
    return new Uint8Array((await this.rootRecord(version)).hash);
  }

  /**
   * Value of `key` at `version` (default: latest): a walk of that version's tree to the leaf, whose
   * value version names the one record to read. At the tip the latest-value cache comes first and
   * the walk runs over the in-memory tree.
   */
  async get(key: Uint8Array, version?: number): Promise<Uint8Array | undefined> {
    if (version === undefined) {
      if (this.latest < 0) return undefined;
      return this.getLatest(key);
    }
    this.checkVersion(version);
    if (version === this.latest) return this.getLatest(key);
    return this.readAt(sha256(key), version);
  }

  /** The value at retained `version`, or undefined when the key is absent there. */
  private async readAt(keyHash: Uint8Array, version: number): Promise<Uint8Array | undefined> {
    const { end } = await this.walk(version, keyHash);
    if (end === null || !end.leaf || !equalBytes(end.keyHash, keyHash)) return undefined;
    const value = await this.db.get(valueKey(end.version, keyHash));
    return value === undefined ? this.missing(version, 'value record') : plain(value);
  }

  /** Callers must not mutate the returned bytes: they may be the cached copy. */
  private async getLatest(key: Uint8Array): Promise<Uint8Array | undefined> {
    const id = bytesKey(key);
    const hit = this.values.get(id);
    if (hit !== undefined) return hit ?? undefined;
    const keyHash = sha256(key);
    for (;;) {
      const generation = this.commitGeneration;
      try {
        const value = await this.readAt(keyHash, this.latest);
        if (generation === this.commitGeneration) this.values.set(id, value ?? null);
        return value;
      } catch (e) {
        // Commits landed during the read and may have pruned what it was reading (with
        // keepVersions = 1, the second commit after it can): read again at the new tip.
        if (generation === this.commitGeneration) throw e;
      }
    }
  }

  async prove(key: Uint8Array, version?: number): Promise<{ value: Uint8Array | undefined; proof: Uint8Array }> {
    if (version === undefined && this.latest < 0) {
      return { value: undefined, proof: encodeProof({ terminal: { kind: 'empty' }, levels: [] }) };
    }
    const at = version ?? this.latest;
    this.checkVersion(at);
    const keyHash = sha256(key);
    const { nodes, end } = await this.walk(at, keyHash);
    const levels = nodes.map((node, depth) => siblingsOf(node, nibbleAt(keyHash, depth)));
    let terminal: ProofTerminal;
    let value: Uint8Array | undefined;
    if (end === null) terminal = { kind: 'empty' };
    else if (!end.leaf) throw treeError('state/corrupt', 'path ended at a node');
    else if (equalBytes(end.keyHash, keyHash)) {
      terminal = { kind: 'leaf' };
      const stored = await this.db.get(valueKey(end.version, keyHash));
      value = stored === undefined ? this.missing(at, 'value record') : plain(stored);
    } else {
      terminal = { kind: 'other', keyHash: end.keyHash, valueHash: end.valueHash };
    }
    return { value, proof: encodeProof({ terminal, levels }) };
  }

  /**
   * Latest key/values whose raw key starts with `prefix`, in bytewise key order, all from one
   * version: keys come from the key index through one DB iterator, whose snapshot is taken when it
   * starts, and the version is read at that same moment; values are read at that version, so
   * commits landing meanwhile change nothing (while the version stays retained). One narrow case:
   * started after a batch landed but before its markCommitted, the snapshot already has the next
   * version's index, so keys that version creates are skipped and keys it deletes are missing.
   */
  async *iterate(prefix: Uint8Array): AsyncIterable<[Uint8Array, Uint8Array]> {
    const gte = indexKey(prefix);
    const keys = this.db.range({ gte, lt: prefixEnd(gte) })[Symbol.asyncIterator]();
    // next() runs the range up to its first await, which opens the iterator: same tick as `version`.
    let next = keys.next();
    const version = this.latest;
    try {
      for (let entry = await next; entry.done !== true; entry = await (next = keys.next())) {
        const key = plain(entry.value[0]).subarray(1);
        // Not through the value cache: one pass over many keys would evict the hot ones.
        const value = await this.readAt(sha256(key), version);
        if (value !== undefined) yield [key, value];
      }
    } finally {
      await keys.return?.();
    }
  }

  async prepare(writes: TreeWrite[]): Promise<PreparedVersion> {
    const version = this.latest + 1;
    if (version > MAX_VERSION) throw treeError('state/corrupt', 'version space exhausted');
    const baseEarliest = this.latest < 0 ? 0 : this.earliest;
    const previousUnmarked = this.outstanding !== null;

    // Reads that do not depend on the tree walk start now and are awaited at the end.
    const newEarliest = this.pruneTarget(version, baseEarliest);
    // Deletes lag one version behind the earliest retained version: between this batch landing
    // and markCommitted, readers still see the old head and the old earliest version, so nothing
    // they can reach may go in this batch. Records superseded at version s are reachable only from
    // versions below s; so with earliest e retained, stale lists up to e - 1 and roots below e - 1
    // are deleted (both exist for one version more than strictly needed).
    const staleVersions: number[] = [];
    for (let s = Math.max(1, baseEarliest); s <= newEarliest - 1; s++) staleVersions.push(s);
    const staleReads = this.db.getMany(staleVersions.map(staleKey));
    staleReads.catch(() => {}); // awaited below; avoid an unhandled rejection if we throw first
    if (previousUnmarked) {
      // The last prepare was never marked committed. Fine if its batch failed; but if the batch was
      // written, building on the older head would fork the tree.
      if ((await this.db.get(rootKey(version))) !== undefined) {
        throw treeError('state/version_exists', `version ${version} is already on disk; reopen the tree`, { version });
      }
    }
    this.outstanding = null;

    const updates = sortedUpdates(writes, version);
    const baseRoot = await this.loadedRoot();
    const baseRootHash = this.rootHash;
    const builder = new VersionBuilder(version, updates, this.nodeArena);
    let newRoot: ChildRef | null = baseRoot;
    if (updates.length > 0) {
      if (baseRoot instanceof TreeNode) await this.loadPaths(baseRoot, updates);
      const result = builder.update(baseRoot);
      if (result !== UNCHANGED) newRoot = result;
    }
    const rootHash = newRoot === baseRoot ? baseRootHash : rootHashOf(newRoot);
    const ops = builder.otherOps;
    ops.push({ type: 'put', key: rootKey(version), value: encodeRoot(newRoot, rootHash) });

    if (builder.stale.count > 0) ops.push({ type: 'put', key: staleKey(version), value: builder.stale.bytes() });
    const staleRecords = await staleReads;
    staleVersions.forEach((s, i) => {
      const record = staleRecords[i];
      if (record !== undefined) for (const key of decodeKeyList(record)) ops.push({ type: 'del', key });
      ops.push({ type: 'del', key: staleKey(s) });
    });
    for (let d = Math.max(0, baseEarliest - 1); d < newEarliest - 1; d++) ops.push({ type: 'del', key: rootKey(d) });
    if (newEarliest !== baseEarliest) ops.push({ type: 'put', key: EARLIEST_KEY, value: encodeVersion(newEarliest) });

    const prepared: PreparedVersion = {
      version,
      root: new Uint8Array(rootHash),
      opCount: builder.opCount(),
      writeTo: (batch) => builder.writeTo(batch),
    };
    this.outstanding = {
      prepared,
      pending: {
        rootRef: newRoot,
        rootHash,
        earliest: newEarliest,
        nodeDelta: builder.newNodeCount - builder.staleNodeCount,
        writes,
      },
    };
    return prepared;
  }

  /** Whether `prepared` is the outstanding prepare, the only one `markCommitted` accepts. */
  isOutstanding(prepared: PreparedVersion): boolean {
    return this.outstanding?.prepared === prepared && prepared.version === this.latest + 1;
  }

  markCommitted(prepared: PreparedVersion): void {
    const o = this.outstanding;
    if (o === null || o.prepared !== prepared || prepared.version !== this.latest + 1) {
      throw treeError('state/not_prepared', 'markCommitted needs the outstanding result of prepare', {
        version: prepared.version,
      });
    }
    this.outstanding = null;
    this.latest = prepared.version;
    this.rootRef = o.pending.rootRef;
    this.rootHash = o.pending.rootHash;
    this.earliest = o.pending.earliest;
    this.cachedNodes += o.pending.nodeDelta;
    this.commitGeneration++;
    for (const w of o.pending.writes) this.values.set(bytesKey(w.key), w.value === null ? null : plain(w.value));
    // A detached ref: holding the TreeNode here would keep that version's whole node tree alive.
    const ref = o.pending.rootRef;
    const detached = ref instanceof TreeNode ? { leaf: false as const, hash: ref.hash, version: ref.version } : ref;
    this.roots.set(String(prepared.version), { hash: o.pending.rootHash, ref: detached });
    if (this.cachedNodes > this.cacheSize) this.evict();
    if (this.nodeArena.allocated > this.compactAfter) this.compactNodes();
  }

  /** Copies the in-memory latest tree into a fresh arena (see nodeArena). */
  private compactNodes(): void {
    const arena = new ByteArena();
    let live = 0;
    const root = this.rootRef;
    if (root instanceof TreeNode) {
      const stack: TreeNode[] = [root];
      for (let node = stack.pop(); node !== undefined; node = stack.pop()) {
        live += node.moveTo(arena);
        const children = node.children;
        if (children === undefined) continue;
        for (let slot = 0; slot < 16; slot++) {
          const child = children[slot];
          if (child !== undefined) stack.push(child);
        }
      }
    }
    this.nodeArena = arena;
    this.compactAfter = Math.max(MIN_COMPACT_BYTES, 2 * live);
  }

  async commit(writes: TreeWrite[], opts?: { sync?: boolean }): Promise<PreparedVersion> {
    const prepared = await this.prepare(writes);
    const batch = this.db.writeBatch();
    prepared.writeTo(batch);
    await batch.write({ sync: opts?.sync ?? false });
    this.markCommitted(prepared);
    return prepared;
  }

  private pruneTarget(version: number, baseEarliest: number): number {
    if (this.keep === 0) return baseEarliest;
    const target = version - this.keep + 1;
    return Math.max(baseEarliest, Math.min(target, baseEarliest + MAX_PRUNE_VERSIONS_PER_PREPARE));
  }

  private checkVersion(version: number): void {
    if (!Number.isSafeInteger(version) || version < 0 || version > this.latest) {
      throw treeError('state/unknown_version', `version ${version} is not committed (latest ${this.latest})`, {
        version,
        latest: this.latest,
      });
    }
    if (version < this.earliest) {
      throw treeError('state/pruned', `version ${version} was pruned (earliest ${this.earliest})`, {
        version,
        earliest: this.earliest,
      });
    }
  }

  /** A record a retained version needs is gone: pruned under a concurrent read, or real corruption. */
  private missing(version: number, what: string): never {
    this.checkVersion(version);
    throw treeError('state/corrupt', `${what} missing for version ${version}`, { version });
  }

  private async rootRecord(version: number): Promise<RootRecord> {
    if (version === this.latest) return { hash: this.rootHash, ref: this.rootRef };
    const id = String(version);
    const cached = this.roots.get(id);
    if (cached !== undefined) return cached;
    const raw = await this.db.get(rootKey(version));
    if (raw === undefined) return this.missing(version, 'root record');
    const record = decodeRoot(raw);
    this.roots.set(id, record);
    return record;
  }

  /** The latest root, with the root node loaded into memory when it is a node. */
  private async loadedRoot(): Promise<ChildRef | null> {
    const ref = this.rootRef;
    if (ref === null || ref.leaf || ref instanceof TreeNode) return ref;
    const raw = await this.db.get(nodeKey(ref.version, 0, EMPTY_ROOT));
    if (raw === undefined) throw treeError('state/corrupt', `root node missing at version ${this.latest}`);
    const node = TreeNode.decode(raw, ref.version, this.nodeArena);
    if (this.rootRef === ref) {
      this.rootRef = node;
      this.cachedNodes++;
    }
    return node;
  }

  /**
   * Nodes from the root of `version` down the path of `keyHash`, and what the path ends at. At the
   * tip the walk follows (and extends) the in-memory tree; below it, an LRU keyed by DB key.
   */
  private async walk(version: number, keyHash: Uint8Array): Promise<{ nodes: TreeNode[]; end: ChildRef | null }> {
    const atTip = version === this.latest;
    const nodes: TreeNode[] = [];
    let ref: ChildRef | null = atTip ? await this.loadedRoot() : (await this.rootRecord(version)).ref;
    let parent: TreeNode | undefined;
    let parentSlot = 0;
    for (let depth = 0; ref !== null && !ref.leaf; depth++) {
      let node = ref instanceof TreeNode ? ref : undefined;
      if (node === undefined) {
        const key = nodeKey(ref.version, depth, keyHash);
        const id = atTip ? '' : bytesKey(key);
        node = atTip ? undefined : this.oldNodes.get(id);
        if (node === undefined) {
          const raw = await this.db.get(key);
          if (raw === undefined) return this.missing(version, 'tree node');
          node = TreeNode.decode(raw, ref.version, atTip ? this.nodeArena : undefined);
          if (!atTip) this.oldNodes.set(id, node);
          else if (parent !== undefined && this.cachedNodes < this.cacheSize) {
            (parent.children ??= new Array(16))[parentSlot] = node;
            this.cachedNodes++;
          }
        }
      }
      nodes.push(node);
      parent = node;
      parentSlot = nibbleAt(keyHash, depth);
      ref = node.child(parentSlot);
    }
    return { nodes, end: ref };
  }

  /**
   * Makes every committed node the updates' paths pass through reachable in memory: a level at a
   * time, with one getMany per level for whatever is not loaded yet.
   */
  private async loadPaths(root: TreeNode, updates: Update[]): Promise<void> {
    // The frontier is one tree level: nodes with the range of updates below each.
    let nodes: TreeNode[] = [root];
    let ranges: number[] = [0, updates.length];
    for (let depth = 0; nodes.length > 0; depth++) {
      const nextNodes: TreeNode[] = [];
      const nextRanges: number[] = [];
      const absentParents: TreeNode[] = [];
      const absent: number[] = []; // slot, lo, hi triples
      for (let n = 0; n < nodes.length; n++) {
        const node = nodes[n]!;
        const hi = ranges[2 * n + 1]!;
        for (let lo = ranges[2 * n]!; lo < hi; ) {
          const end = runEnd(updates, lo, hi, depth);
          const slot = nibbleAt(updates[lo]!.keyHash, depth);
          if (node.isNode(slot)) {
            const child = node.children?.[slot];
            if (child !== undefined) {
              nextNodes.push(child);
              nextRanges.push(lo, end);
            } else {
              absentParents.push(node);
              absent.push(slot, lo, end);
            }
          }
          lo = end;
        }
      }
      if (absentParents.length > 0) {
        const versions = absentParents.map((p, i) => p.slotVersion(absent[3 * i]!));
        const arena = new ByteArena();
        const keys = versions.map((v, i) => nodeKey(v, depth + 1, updates[absent[3 * i + 1]!]!.keyHash, arena));
        const raws = await this.db.getMany(keys);
        for (let i = 0; i < absentParents.length; i++) {
          const raw = raws[i];
          if (raw === undefined) throw treeError('state/corrupt', `tree node missing at version ${this.latest}`);
          const node = TreeNode.decode(raw, versions[i]!, this.nodeArena);
          (absentParents[i]!.children ??= new Array(16))[absent[3 * i]!] = node;
          nextNodes.push(node);
          nextRanges.push(absent[3 * i + 1]!, absent[3 * i + 2]!);
        }
        this.cachedNodes += absentParents.length;
      }
      nodes = nextNodes;
      ranges = nextRanges;
    }
  }

  /**
   * Shrinks the in-memory tree to 3/4 of cacheSize, keeping the upper levels whole (they are on
   * every path) and as much of the first level that does not fit as the budget allows.
   */
  private evict(): void {
    const root = this.rootRef;
    if (!(root instanceof TreeNode)) {
      this.cachedNodes = 0;
      return;
    }
    const budget = Math.floor((this.cacheSize * 3) / 4);
    if (budget === 0) {
      this.rootRef = { leaf: false, hash: root.hash, version: root.version };
      this.cachedNodes = 0;
      return;
    }
    let level: TreeNode[] = [root];
    let kept = 1;
    while (level.length > 0) {
      const below: TreeNode[] = [];
      for (const node of level) {
        const children = node.children;
        if (children === undefined) continue;
        for (let slot = 0; slot < 16; slot++) {
          const child = children[slot];
          if (child === undefined) continue;
          if (kept < budget) {
            below.push(child);
            kept++;
          } else {
            children[slot] = undefined;
          }
        }
      }
      level = below;
    }
    this.cachedNodes = kept;
  }
}

type Outcome = ChildRef | null | typeof UNCHANGED;
/** Marks "this subtree did not change" so parents can skip rewriting. */
const UNCHANGED = Symbol('unchanged');

/**
 * Applies one version's updates to the committed tree, recording what to write (new nodes, changed
 * values) compactly; `writeTo` turns that into batch ops.
 */
class VersionBuilder {
  /** New node records: node, depth and a key hash on its path, index by index. */
  private readonly newNodes: TreeNode[] = [];
  private readonly newNodeDepths: number[] = [];
  private readonly newNodePaths: Uint8Array[] = [];
  /** Keys this version gives a new value; of those, keys that were absent; keys it deletes. */
  private readonly putValues: Update[] = [];
  private readonly createdKeys: Update[] = [];
  private readonly deletedKeys: Update[] = [];
  /** Root, stale and pruning ops: a few, or the prune deletes (views into stale records). */
  readonly otherOps: BatchOp[] = [];
  /** DB keys of node and value records this version supersedes. */
  readonly stale = new KeyListWriter();
  newNodeCount = 0;
  staleNodeCount = 0;
  private readonly version: number;
  private readonly updates: Update[];
  /** One slot-changes array per depth, reused: a node's changes are consumed before it returns. */
  private readonly scratch: (ChildRef | null | undefined)[][] = [];

  private readonly nodeArena: ByteArena;

  constructor(version: number, updates: Update[], nodeArena: ByteArena) {
    this.version = version;
    this.updates = updates;
    this.nodeArena = nodeArena;
  }

  /** The new root after all updates, or UNCHANGED. */
  update(root: ChildRef | null): Outcome {
    const n = this.updates.length;
    if (root === null) return this.fresh(0, 0, n);
    if (root.leaf) return this.mergeLeaf(root.keyHash, 0, root.valueHash, 0, root.version, root, null, 0, 0, 0, n);
    if (!(root instanceof TreeNode)) throw treeError('state/corrupt', 'node not loaded');
    return this.updateNode(root, 0, 0, n);
  }

  /** The node's subtree after updates[lo..hi), which all share its path. */
  private updateNode(node: TreeNode, depth: number, lo: number, hi: number): Outcome {
    const updates = this.updates;
    const changes = (this.scratch[depth] ??= new Array(16));
    let changed = false;
    for (let i = lo; i < hi; ) {
      const end = runEnd(updates, i, hi, depth);
      const slot = nibbleAt(updates[i]!.keyHash, depth);
      let after: Outcome;
      if (!node.has(slot)) after = this.fresh(depth + 1, i, end);
      else if (node.isLeaf(slot)) {
        const off = node.entryOffset(slot);
        after = this.mergeLeaf(
          node.raw,
          off,
          node.raw,
          off + HASH_LEN,
          node.slotVersion(slot),
          null,
          node,
          slot,
          depth + 1,
          i,
          end,
        );
      } else {
        const child = node.children?.[slot];
        if (child === undefined) throw treeError('state/corrupt', 'node not loaded');
        after = this.updateNode(child, depth + 1, i, end);
      }
      if (after !== UNCHANGED) {
        changes[slot] = after;
        changed = true;
      }
      i = end;
    }
    if (!changed) return UNCHANGED;
    const pathSource = updates[lo]!.keyHash;
    this.stale.addNodeKey(node.version, depth, pathSource);
    this.staleNodeCount++;
    const masks = resolveMasks(node, changes);
    const existMask = masks >>> 16;
    let result: ChildRef | null;
    if (existMask === 0) result = null;
    else if (popcount16(existMask) === 1 && (masks & 0xffff) === existMask) {
      // A lone leaf moves up into the parent's slot (leaf compression).
      const slot = 31 - Math.clz32(existMask);
      const change = changes[slot];
      result = change === undefined ? node.leafAt(slot) : change;
    } else {
      result = this.writeNode(depth, pathSource, TreeNode.build(node, changes, this.version, this.nodeArena));
    }
    changes.fill(undefined);
    return result;
  }

  /** updates[lo..hi) landing on an empty slot: puts become a new subtree, deletes of absent keys vanish. */
  private fresh(depth: number, lo: number, hi: number): Outcome {
    const leaves: LeafRef[] = [];
    for (let i = lo; i < hi; i++) {
      const u = this.updates[i]!;
      if (u.value === null) continue;
      this.putNewKey(u);
      leaves.push(u);
    }
    return leaves.length === 0 ? UNCHANGED : this.buildFresh(depth, leaves);
  }

  /**
   * updates[lo..hi) landing on an existing leaf, read in place (keyHash at kh[khOff], valueHash at
   * vh[vhOff]) so the common case, an update of that very key, allocates nothing for the old leaf.
   * `ref`, or `node`/`slot`, give the old leaf as a LeafRef if it has to stay.
   */
  private mergeLeaf(
    kh: Uint8Array,
    khOff: number,
    vh: Uint8Array,
    vhOff: number,
    leafVersion: number,
    ref: LeafRef | null,
    node: TreeNode | null,
    slot: number,
    depth: number,
    lo: number,
    hi: number,
  ): Outcome {
    let kept: LeafRef | null | undefined; // undefined: the old leaf stays as it is
    let leaves: LeafRef[] | undefined;
    for (let i = lo; i < hi; i++) {
      const u = this.updates[i]!;
      if (hashEqualAt(u.keyHash, kh, khOff)) {
        if (u.value === null) {
          this.deletedKeys.push(u);
          this.stale.addValueKey(kh, khOff, leafVersion);
          kept = null;
        } else if (!hashEqualAt(u.valueHash, vh, vhOff)) {
          this.putValues.push(u);
          this.stale.addValueKey(kh, khOff, leafVersion);
          kept = u;
        }
      } else if (u.value !== null) {
        this.putNewKey(u);
        (leaves ??= []).push(u);
      }
    }
    if (leaves === undefined) return kept === undefined ? UNCHANGED : kept;
    if (kept === undefined) kept = ref ?? node!.leafAt(slot);
    if (kept !== null) leaves.push(kept);
    return this.buildFresh(depth, leaves);
  }

  /** Subtree at `depth` holding exactly `leaves` (which share its path), built from scratch. */
  private buildFresh(depth: number, leaves: LeafRef[]): ChildRef | null {
    if (leaves.length === 0) return null;
    if (leaves.length === 1) return leaves[0]!;
    if (depth >= PATH_NIBBLES) throw treeError('state/corrupt', 'two keys share a key hash');
    const groups = partition(leaves, depth);
    const slots: (ChildRef | null)[] = new Array(16);
    for (let slot = 0; slot < 16; slot++) {
      const group = groups[slot];
      slots[slot] = group === undefined ? null : this.buildFresh(depth + 1, group);
    }
    return this.writeNode(depth, leaves[0]!.keyHash, TreeNode.build(null, slots, this.version, this.nodeArena));
  }

  private writeNode(depth: number, pathSource: Uint8Array, node: TreeNode): TreeNode {
    this.newNodes.push(node);
    this.newNodeDepths.push(depth);
    this.newNodePaths.push(pathSource);
    this.newNodeCount++;
    return node;
  }

  private putNewKey(u: Update): void {
    this.putValues.push(u);
    this.createdKeys.push(u);
  }

  opCount(): number {
    return (
      this.newNodes.length +
      this.putValues.length +
      this.createdKeys.length +
      this.deletedKeys.length +
      this.otherOps.length
    );
  }

  writeTo(batch: WriteBatch): void {
    // Keys and short values are built in an arena: the batch copies them, so they die young.
    const arena = new ByteArena();
    const version = this.version;
    for (let i = 0; i < this.newNodes.length; i++) {
      batch.put(nodeKey(version, this.newNodeDepths[i]!, this.newNodePaths[i]!, arena), this.newNodes[i]!.record());
    }
    for (const u of this.putValues) batch.put(valueKey(version, u.keyHash, arena), arena.offHeap(u.value!));
    for (const u of this.createdKeys) batch.put(indexKey(u.key, arena), NO_BYTES);
    for (const u of this.deletedKeys) batch.del(indexKey(u.key, arena));
    for (const op of this.otherOps) {
      if (op.type === 'put') batch.put(op.key, op.value);
      else batch.del(op.key);
    }
  }
}

/** One proof level: the node's occupied slots minus the on-path one. */
function siblingsOf(node: TreeNode, slot: number): ProofLevel {
  const bit = 1 << slot;
  let entries: Uint8Array;
  if (node.has(slot)) {
    const off = node.entryOffset(slot);
    const end = off + node.entryLength(slot);
    entries = new Uint8Array(node.entriesEnd - NODE_HEADER_LEN - (end - off));
    entries.set(node.raw.subarray(NODE_HEADER_LEN, off), 0);
    entries.set(node.raw.subarray(end, node.entriesEnd), off - NODE_HEADER_LEN);
  } else {
    entries = new Uint8Array(node.raw.subarray(NODE_HEADER_LEN, node.entriesEnd));
  }
  return { siblingMask: node.existMask & ~bit, leafMask: node.leafMask & ~bit, entries };
}

/** Smallest key greater than every key starting with `prefix` (prefix starts with a bucket byte < 0xff). */
function prefixEnd(prefix: Uint8Array): Uint8Array {
  for (let i = prefix.length - 1; i >= 0; i--) {
    if (prefix[i]! < 0xff) {
      const end = prefix.slice(0, i + 1);
      end[i] = prefix[i]! + 1;
      return end;
    }
  }
  return bucketEnd(Bucket.treeKeys);
}
