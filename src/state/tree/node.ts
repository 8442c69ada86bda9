/**
 * Storage format of the state tree. All integers big-endian.
 *
 * The tree is a radix-16 sparse Merkle trie over keyHash = sha256(key) with leaf compression: a key's
 * leaf sits in the slot of the shallowest node where no other key shares its path, so an internal
 * node always has at least two keys below it. Leaves are stored inline in their parent's slot, so a
 * node record is all a path step needs.
 *
 * Every record a version writes is keyed treeVersion ‖ u64 version ‖ u8 kind ‖ …, so one version's
 * records are one contiguous key range after every older version's (see Bucket.treeVersion).
 *
 * Node record — DB key: treeVersion ‖ u64 version ‖ 0x00 ‖ u8 depth ‖ path (depth nibbles packed
 * two per byte, high nibble first, a trailing half byte zero). `version` is the version that wrote it.
 *
 *   [0]        0x01 (NODE_DOMAIN)
 *   [1..2]     existMask u16: bit n set ⇔ slot n (child nibble n) is occupied
 *   [3..4]     leafMask  u16 ⊆ existMask: the occupied slot holds a leaf (else a child node)
 *   entries    per occupied slot, ascending nibble: leaf → keyHash(32) ‖ valueHash(32);
 *              child node → its hash(32)
 *   versions   per occupied slot, ascending nibble, u48: leaf → version that wrote its value
 *              (the value record key); child node → version of the child's record
 *
 *   nodeHash = sha256(record[0 .. end of entries]). Versions are storage pointers only and never
 *   hashed: the root depends on the key/value set alone, not on how it was split into versions.
 *
 * Root record — DB key: treeVersion ‖ u64 version ‖ 0x03, the last key of its version, so the last
 *   key of the bucket names the latest version.
 *   [0] kind (0 empty, 1 leaf, 2 node) ‖ rootHash(32) ‖ leaf: keyHash ‖ valueHash ‖ u48 valueVersion
 *                                                    ‖ node: u48 nodeVersion
 * Value record — treeVersion ‖ u64 version ‖ 0x01 ‖ keyHash → the value written at that version.
 *   The leaf names the version, so a read at any version is a walk and one exact get.
 * Stale record — treeVersion ‖ u64 version ‖ 0x02 → (u8 length ‖ DB key)* : every node and value
 *   record that `version` superseded; they are unreachable from `version` on and get deleted once
 *   the oldest retained version reaches it.
 * Key index    — treeKeys ‖ raw key → empty, for each key present at the latest version; written
 *   only when a key appears or goes, so updating a value costs no op here.
 */
import { TributaryError } from '../../errors.ts';
import { Bucket } from '../../storage/buckets.ts';
import { EMPTY_ROOT, HASH_LEN, leafHash, NODE_DOMAIN, popcount16, sha256Range } from './hashing.ts';

export type TreeErrorCode =
  | 'state/pruned'
  | 'state/unknown_version'
  | 'state/bad_proof'
  | 'state/corrupt'
  | 'state/not_prepared'
  | 'state/version_exists'
  | 'state/bad_option'
  | 'state/old_layout';

export const NODE_HEADER_LEN = 5;
export const VERSION_LEN = 6;
/** Largest version a u48 slot can hold; far beyond any block height, still a safe JS integer. */
export const MAX_VERSION = 2 ** 48 - 1;
const LEAF_ENTRY_LEN = 2 * HASH_LEN;
const NODE_ENTRY_LEN = HASH_LEN;

export interface LeafRef {
  readonly leaf: true;
  readonly keyHash: Uint8Array;
  readonly valueHash: Uint8Array;
  /** Version that wrote this value; locates the value record. */
  readonly version: number;
}
export interface NodeRef {
  readonly leaf: false;
  readonly hash: Uint8Array;
  /** Version that wrote the child node record. */
  readonly version: number;
}
export type ChildRef = LeafRef | NodeRef;

function corrupt(message: string): never {
  throw new TributaryError<TreeErrorCode>('state/corrupt', message);
}

/**
 * An immutable node: the raw record plus offsets computed from the masks on demand. It is also a
 * NodeRef (leaf: false, hash, version), so a parent can point at it directly.
 */
export class TreeNode implements NodeRef {
  readonly leaf = false as const;
  /**
   * The record followed by 32 bytes holding its hash once computed, so a node is one view and no
   * separate digest object. A view into a ByteArena chunk shared by many nodes: with one ArrayBuffer
   * per node, allocating the ~20k new nodes of a block cost ~50 ms, besides their GC. Only
   * `moveTo` reassigns it (same bytes, another chunk), so chunks whose nodes mostly died can be
   * freed. A Buffer, so unchanged runs copy with Buffer#copy and no intermediate views.
   */
  raw: Buffer;
  /** Length of the record proper (what is stored and hashed from). */
  readonly recordLength: number;
  readonly existMask: number;
  readonly leafMask: number;
  readonly entriesEnd: number;
  /** Version that wrote this record (part of its DB key). */
  readonly version: number;
  /**
   * Loaded child nodes by slot: the in-memory latest tree. Nodes never change once written, so a
   * pointer stays valid forever; eviction just drops pointers.
   */
  children: (TreeNode | undefined)[] | undefined;
  private hashed = false;

  private constructor(
    raw: Buffer,
    recordLength: number,
    existMask: number,
    leafMask: number,
    entriesEnd: number,
    version: number,
  ) {
    this.raw = raw;
    this.recordLength = recordLength;
    this.existMask = existMask;
    this.leafMask = leafMask;
    this.entriesEnd = entriesEnd;
    this.version = version;
  }

  static decode(raw: Uint8Array, version: number, arena?: ByteArena): TreeNode {
    if (raw.length < NODE_HEADER_LEN || raw[0] !== NODE_DOMAIN) corrupt('bad node record header');
    const existMask = (raw[1]! << 8) | raw[2]!;
    const leafMask = (raw[3]! << 8) | raw[4]!;
    if ((leafMask & ~existMask) !== 0 || existMask === 0) corrupt('bad node masks');
    const entriesEnd = NODE_HEADER_LEN + entriesLength(existMask, leafMask);
    if (raw.length !== entriesEnd + VERSION_LEN * popcount16(existMask)) corrupt('bad node record length');
    const buf = nodeBytes(raw.length + HASH_LEN, arena);
    buf.set(raw, 0);
    return new TreeNode(buf, raw.length, existMask, leafMask, entriesEnd, version);
  }

  /** Moves the bytes (record and hash, if computed) into `arena`; returns the bytes moved. */
  moveTo(arena: ByteArena): number {
    const size = this.recordLength + HASH_LEN;
    const moved = arena.alloc(size);
    this.raw.copy(moved, 0, 0, size);
    this.raw = moved;
    return size;
  }

  /** The record bytes exactly as stored. */
  record(): Buffer {
    return this.raw.subarray(0, this.recordLength);
  }

  private ensureHash(): void {
    if (this.hashed) return;
    this.raw.set(sha256Range(this.raw, 0, this.entriesEnd), this.recordLength);
    this.hashed = true;
  }

  get hash(): Uint8Array {
    this.ensureHash();
    return this.raw.subarray(this.recordLength, this.recordLength + HASH_LEN);
  }

  copyHashTo(target: Uint8Array, offset: number): void {
    this.ensureHash();
    this.raw.copy(target, offset, this.recordLength, this.recordLength + HASH_LEN);
  }

  has(slot: number): boolean {
    return (this.existMask & (1 << slot)) !== 0;
  }

  isLeaf(slot: number): boolean {
    return (this.leafMask & (1 << slot)) !== 0;
  }

  /** Occupied slot holding a child node. */
  isNode(slot: number): boolean {
    return (this.existMask & ~this.leafMask & (1 << slot)) !== 0;
  }

  entryOffset(slot: number): number {
    const below = (1 << slot) - 1;
    return NODE_HEADER_LEN + entriesLength(this.existMask & below, this.leafMask & below);
  }

  entryLength(slot: number): number {
    return this.isLeaf(slot) ? LEAF_ENTRY_LEN : NODE_ENTRY_LEN;
  }

  versionOffset(slot: number): number {
    return this.entriesEnd + VERSION_LEN * popcount16(this.existMask & ((1 << slot) - 1));
  }

  slotVersion(slot: number): number {
    return readU48(this.raw, this.versionOffset(slot));
  }

  leafAt(slot: number): LeafRef {
    const off = this.entryOffset(slot);
    return {
      leaf: true,
      keyHash: this.raw.subarray(off, off + HASH_LEN),
      valueHash: this.raw.subarray(off + HASH_LEN, off + LEAF_ENTRY_LEN),
      version: this.slotVersion(slot),
    };
  }

  /** The child in `slot` as a reference (views into this record), or null when the slot is empty. */
  child(slot: number): ChildRef | null {
    if (!this.has(slot)) return null;
    if (this.isLeaf(slot)) return this.leafAt(slot);
    const loaded = this.children?.[slot];
    if (loaded !== undefined) return loaded;
    const off = this.entryOffset(slot);
    return { leaf: false, hash: this.raw.subarray(off, off + HASH_LEN), version: this.slotVersion(slot) };
  }

  /**
   * Builds the node written at `version` from `base` (may be null) with some slots replaced:
   * undefined keeps the base slot, null clears it. Unchanged slots are copied in runs, and loaded
   * child pointers carry over.
   */
  static build(
    base: TreeNode | null,
    changes: ReadonlyArray<ChildRef | null | undefined>,
    version: number,
    arena?: ByteArena,
  ): TreeNode {
    const masks = resolveMasks(base, changes);
    const existMask = masks >>> 16;
    const leafMask = masks & 0xffff;
    const entriesEnd = NODE_HEADER_LEN + entriesLength(existMask, leafMask);
    const size = entriesEnd + VERSION_LEN * popcount16(existMask);
    // Every byte but the hash tail is written below.
    const raw = nodeBytes(size + HASH_LEN, arena);
    raw[0] = NODE_DOMAIN;
    raw[1] = existMask >> 8;
    raw[2] = existMask & 0xff;
    raw[3] = leafMask >> 8;
    raw[4] = leafMask & 0xff;
    let children: (TreeNode | undefined)[] | undefined;
    let entryOff = NODE_HEADER_LEN;
    let versionOff = entriesEnd;
    // Unchanged base slots are copied in runs: [runStart, runEnd) of entry bytes in the base
    // record, with their versions at [runVersionStart, +6 per slot).
    let runStart = -1;
    let runEnd = 0;
    let runVersionStart = 0;
    let runSlots = 0;
    for (let slot = 0; slot <= 16; slot++) {
      const change = slot < 16 && (existMask & (1 << slot)) !== 0 ? changes[slot] : null;
      const copy = slot < 16 && change === undefined;
      const from = copy ? base!.entryOffset(slot) : -1;
      if (runStart >= 0 && (!copy || from !== runEnd)) {
        const b = base!.raw;
        b.copy(raw, entryOff, runStart, runEnd);
        entryOff += runEnd - runStart;
        b.copy(raw, versionOff, runVersionStart, runVersionStart + VERSION_LEN * runSlots);
        versionOff += VERSION_LEN * runSlots;
        runStart = -1;
      }
      if (slot === 16 || (existMask & (1 << slot)) === 0) continue;
      if (copy) {
        const b = base!;
        if (runStart < 0) {
          runStart = from;
          runEnd = from;
          runVersionStart = b.versionOffset(slot);
          runSlots = 0;
        }
        runEnd += b.entryLength(slot);
        runSlots++;
        const loaded = b.children?.[slot];
        if (loaded !== undefined) (children ??= new Array(16))[slot] = loaded;
        continue;
      }
      if (change!.leaf) {
        raw.set(change!.keyHash, entryOff);
        raw.set(change!.valueHash, entryOff + HASH_LEN);
        entryOff += LEAF_ENTRY_LEN;
      } else {
        if (change instanceof TreeNode) {
          change.copyHashTo(raw, entryOff);
          (children ??= new Array(16))[slot] = change;
        } else {
          raw.set(change!.hash, entryOff);
        }
        entryOff += NODE_ENTRY_LEN;
      }
      writeU48(raw, versionOff, change!.version);
      versionOff += VERSION_LEN;
    }
    const node = new TreeNode(raw, size, existMask, leafMask, entriesEnd, version);
    node.children = children;
    return node;
  }
}

function nodeBytes(n: number, arena: ByteArena | undefined): Buffer {
  return arena === undefined ? Buffer.allocUnsafeSlow(n) : arena.alloc(n);
}

export function entriesLength(existMask: number, leafMask: number): number {
  return NODE_ENTRY_LEN * popcount16(existMask & ~leafMask) + LEAF_ENTRY_LEN * popcount16(leafMask);
}

/** Masks a node would have after applying `changes` to `base`, packed as existMask << 16 | leafMask. */
export function resolveMasks(base: TreeNode | null, changes: ReadonlyArray<ChildRef | null | undefined>): number {
  let existMask = base ? base.existMask : 0;
  let leafMask = base ? base.leafMask : 0;
  for (let slot = 0; slot < 16; slot++) {
    const change = changes[slot];
    if (change === undefined) continue;
    const bit = 1 << slot;
    if (change === null) {
      existMask &= ~bit;
      leafMask &= ~bit;
    } else {
      existMask |= bit;
      if (change.leaf) leafMask |= bit;
      else leafMask &= ~bit;
    }
  }
  return (existMask << 16) | leafMask;
}

export function writeU48(buf: Uint8Array, off: number, v: number): void {
  if (!Number.isSafeInteger(v) || v < 0 || v > MAX_VERSION) throw new RangeError(`version out of range: ${v}`);
  const hi = Math.floor(v / 0x1_0000_0000);
  const lo = v >>> 0;
  buf[off] = hi >>> 8;
  buf[off + 1] = hi & 0xff;
  buf[off + 2] = lo >>> 24;
  buf[off + 3] = (lo >>> 16) & 0xff;
  buf[off + 4] = (lo >>> 8) & 0xff;
  buf[off + 5] = lo & 0xff;
}

export function readU48(buf: Uint8Array, off: number): number {
  const hi = (buf[off]! << 8) | buf[off + 1]!;
  const lo = ((buf[off + 2]! << 24) | (buf[off + 3]! << 16) | (buf[off + 4]! << 8) | buf[off + 5]!) >>> 0;
  return hi * 0x1_0000_0000 + lo;
}

function writeU64(buf: Uint8Array, off: number, v: number): void {
  const hi = Math.floor(v / 0x1_0000_0000);
  const lo = v >>> 0;
  buf[off] = hi >>> 24;
  buf[off + 1] = (hi >>> 16) & 0xff;
  buf[off + 2] = (hi >>> 8) & 0xff;
  buf[off + 3] = hi & 0xff;
  buf[off + 4] = lo >>> 24;
  buf[off + 5] = (lo >>> 16) & 0xff;
  buf[off + 6] = (lo >>> 8) & 0xff;
  buf[off + 7] = lo & 0xff;
}

export function readU64(buf: Uint8Array, off: number): number {
  const hi = ((buf[off]! << 24) | (buf[off + 1]! << 16) | (buf[off + 2]! << 8) | buf[off + 3]!) >>> 0;
  const lo = ((buf[off + 4]! << 24) | (buf[off + 5]! << 16) | (buf[off + 6]! << 8) | buf[off + 7]!) >>> 0;
  return hi * 0x1_0000_0000 + lo;
}

/** Record kinds inside one version's key range. */
const KIND_NODE = 0x00;
const KIND_VALUE = 0x01;
const KIND_STALE = 0x02;
/** Highest kind: a version's root record is the last key of its range. */
const KIND_ROOT = 0x03;
/** Bucket byte, version, kind. */
const VERSION_PREFIX_LEN = 10;
const VALUE_KEY_LEN = VERSION_PREFIX_LEN + HASH_LEN;

export function nodeKeyLength(depth: number): number {
  return VERSION_PREFIX_LEN + 1 + ((depth + 1) >> 1);
}

function writeVersionPrefix(out: Uint8Array, off: number, version: number, kind: number): void {
  out[off] = Bucket.treeVersion;
  writeU64(out, off + 1, version);
  out[off + 9] = kind;
}

function writeNodeKey(out: Uint8Array, off: number, version: number, depth: number, pathSource: Uint8Array): void {
  const pathBytes = (depth + 1) >> 1;
  writeVersionPrefix(out, off, version, KIND_NODE);
  const at = off + VERSION_PREFIX_LEN;
  out[at] = depth;
  for (let i = 0; i < pathBytes; i++) out[at + 1 + i] = pathSource[i]!;
  if ((depth & 1) === 1) out[at + pathBytes] = out[at + pathBytes]! & 0xf0;
}

function writeValueKey(out: Uint8Array, off: number, version: number, src: Uint8Array, srcOff: number): void {
  writeVersionPrefix(out, off, version, KIND_VALUE);
  for (let i = 0; i < HASH_LEN; i++) out[off + VERSION_PREFIX_LEN + i] = src[srcOff + i]!;
}

/**
 * Bump allocator for the many small byte arrays one version's batch needs (DB keys, short values):
 * views into shared off-heap chunks. Why not `new Uint8Array(n)`: V8 keeps typed arrays of up to 64
 * bytes inside the JS heap, and LevelDB's binding must move each one off-heap to read it
 * (napi_get_typedarray_info materializes an ArrayBuffer); measured at ~2.9 µs per op, about 115 ms
 * of a 40k-op block batch. Chunks are freed by the GC once no view into them is left.
 */
export class ByteArena {
  private chunk = Buffer.allocUnsafeSlow(0);
  private used = 0;
  /** Bytes of chunks taken so far. */
  allocated = 0;

  alloc(n: number): Buffer {
    if (this.used + n > this.chunk.length) {
      this.chunk = Buffer.allocUnsafeSlow(Math.max(ARENA_CHUNK, n));
      this.used = 0;
      this.allocated += this.chunk.length;
    }
    const out = this.chunk.subarray(this.used, this.used + n);
    this.used += n;
    return out;
  }

  /** An off-heap copy of `bytes` when they may live in the JS heap (64 bytes or less). */
  offHeap(bytes: Uint8Array): Uint8Array {
    if (bytes.length > SMALL_TYPED_ARRAY) return bytes;
    const out = this.alloc(bytes.length);
    out.set(bytes);
    return out;
  }
}
const ARENA_CHUNK = 256 * 1024;
/** V8's typed_array_max_size_in_heap default. */
const SMALL_TYPED_ARRAY = 64;

function newBytes(n: number, arena: ByteArena | undefined): Uint8Array {
  return arena === undefined ? new Uint8Array(n) : arena.alloc(n);
}

/** DB key of the node written at `version` at the first `depth` nibbles of `pathSource`. */
export function nodeKey(version: number, depth: number, pathSource: Uint8Array, arena?: ByteArena): Uint8Array {
  const key = newBytes(nodeKeyLength(depth), arena);
  writeNodeKey(key, 0, version, depth, pathSource);
  return key;
}

/** DB key of the value `keyHash` got at `version`. */
export function valueKey(version: number, keyHash: Uint8Array, arena?: ByteArena): Uint8Array {
  const key = newBytes(VALUE_KEY_LEN, arena);
  writeValueKey(key, 0, version, keyHash, 0);
  return key;
}

export function staleKey(version: number): Uint8Array {
  const key = new Uint8Array(VERSION_PREFIX_LEN);
  writeVersionPrefix(key, 0, version, KIND_STALE);
  return key;
}

export function rootKey(version: number): Uint8Array {
  const key = new Uint8Array(VERSION_PREFIX_LEN);
  writeVersionPrefix(key, 0, version, KIND_ROOT);
  return key;
}

/** Version of a root record's DB key; undefined when `key` is not a root record key. */
export function rootKeyVersion(key: Uint8Array): number | undefined {
  if (key.length !== VERSION_PREFIX_LEN || key[0] !== Bucket.treeVersion || key[9] !== KIND_ROOT) return undefined;
  return readU64(key, 1);
}

export const EARLIEST_KEY: Uint8Array = Uint8Array.of(Bucket.treeEarliest);

export function encodeVersion(version: number): Uint8Array {
  const out = new Uint8Array(8);
  writeU64(out, 0, version);
  return out;
}

/** Key-index entry of a raw state key. */
export function indexKey(key: Uint8Array, arena?: ByteArena): Uint8Array {
  const out = newBytes(1 + key.length, arena);
  out[0] = Bucket.treeKeys;
  out.set(key, 1);
  return out;
}

/** Kind of a treeVersion record from its DB key: for tests and tools that count records. */
export function versionRecordKind(key: Uint8Array): 'node' | 'value' | 'stale' | 'root' | undefined {
  if (key[0] !== Bucket.treeVersion || key.length < VERSION_PREFIX_LEN) return undefined;
  return (['node', 'value', 'stale', 'root'] as const)[key[9]!];
}

export function rootHashOf(ref: ChildRef | null): Uint8Array {
  if (ref === null) return EMPTY_ROOT;
  return ref.leaf ? leafHash(ref.keyHash, ref.valueHash) : ref.hash;
}

export interface RootRecord {
  readonly hash: Uint8Array;
  readonly ref: ChildRef | null;
}

export function encodeRoot(ref: ChildRef | null, rootHash: Uint8Array): Uint8Array {
  if (ref === null) {
    const out = new Uint8Array(1 + HASH_LEN);
    out.set(rootHash, 1);
    return out;
  }
  if (ref.leaf) {
    const out = new Uint8Array(1 + 3 * HASH_LEN + VERSION_LEN);
    out[0] = 1;
    out.set(rootHash, 1);
    out.set(ref.keyHash, 1 + HASH_LEN);
    out.set(ref.valueHash, 1 + 2 * HASH_LEN);
    writeU48(out, 1 + 3 * HASH_LEN, ref.version);
    return out;
  }
  const out = new Uint8Array(1 + HASH_LEN + VERSION_LEN);
  out[0] = 2;
  out.set(rootHash, 1);
  writeU48(out, 1 + HASH_LEN, ref.version);
  return out;
}

/** A plain Uint8Array copy (Buffer#slice would return a view). */
function copyOf(raw: Uint8Array, start: number, end: number): Uint8Array {
  return new Uint8Array(raw.subarray(start, end));
}

export function decodeRoot(raw: Uint8Array): RootRecord {
  const kind = raw[0];
  const hash = copyOf(raw, 1, 1 + HASH_LEN);
  if (kind === 0 && raw.length === 1 + HASH_LEN) return { hash, ref: null };
  if (kind === 1 && raw.length === 1 + 3 * HASH_LEN + VERSION_LEN) {
    return {
      hash,
      ref: {
        leaf: true,
        keyHash: copyOf(raw, 1 + HASH_LEN, 1 + 2 * HASH_LEN),
        valueHash: copyOf(raw, 1 + 2 * HASH_LEN, 1 + 3 * HASH_LEN),
        version: readU48(raw, 1 + 3 * HASH_LEN),
      },
    };
  }
  if (kind === 2 && raw.length === 1 + HASH_LEN + VERSION_LEN) {
    return { hash, ref: { leaf: false, hash, version: readU48(raw, 1 + HASH_LEN) } };
  }
  return corrupt('bad root record');
}

/** Builds a stale record, (u8 length ‖ DB key)*, straight into one growing buffer. */
export class KeyListWriter {
  private buf = new Uint8Array(1 << 16);
  private len = 0;
  count = 0;

  private reserve(n: number): number {
    if (this.len + n > this.buf.length) {
      const bigger = new Uint8Array(Math.max(this.buf.length * 2, this.len + n));
      bigger.set(this.buf.subarray(0, this.len));
      this.buf = bigger;
    }
    const at = this.len;
    this.len += n;
    this.count++;
    return at;
  }

  addNodeKey(version: number, depth: number, pathSource: Uint8Array): void {
    const keyLen = nodeKeyLength(depth);
    const at = this.reserve(1 + keyLen);
    this.buf[at] = keyLen;
    writeNodeKey(this.buf, at + 1, version, depth, pathSource);
  }

  /** Value-record key of the key hash stored at src[srcOff..srcOff+32), written at `version`. */
  addValueKey(src: Uint8Array, srcOff: number, version: number): void {
    const at = this.reserve(1 + VALUE_KEY_LEN);
    this.buf[at] = VALUE_KEY_LEN;
    writeValueKey(this.buf, at + 1, version, src, srcOff);
  }

  bytes(): Uint8Array {
    return this.buf.slice(0, this.len);
  }
}

export function decodeKeyList(raw: Uint8Array): Uint8Array[] {
  const keys: Uint8Array[] = [];
  let off = 0;
  while (off < raw.length) {
    const len = raw[off]!;
    if (off + 1 + len > raw.length) corrupt('bad stale record');
    keys.push(raw.subarray(off + 1, off + 1 + len));
    off += 1 + len;
  }
  return keys;
}
