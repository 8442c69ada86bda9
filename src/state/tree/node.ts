/**
 * Storage format of the state tree. All integers big-endian.
 *
 * The tree is a radix-16 sparse Merkle trie over keyHash = sha256(key) with leaf compression: a key's
 * leaf sits in the slot of the shallowest node where no other key shares its path, so an internal
 * node always has at least two keys below it. Leaves are stored inline in their parent's slot, so a
 * node record is all a path step needs.
 *
 * Node record — DB key: treeNode ‖ u64 version ‖ u8 depth ‖ path (depth nibbles packed two per
 * byte, high nibble first, a trailing half byte zero). `version` is the version that wrote it.
 *
 *   [0]        0x01 (NODE_DOMAIN)
 *   [1..2]     existMask u16: bit n set ⇔ slot n (child nibble n) is occupied
 *   [3..4]     leafMask  u16 ⊆ existMask: the occupied slot holds a leaf (else a child node)
 *   entries    per occupied slot, ascending nibble: leaf → keyHash(32) ‖ valueHash(32);
 *              child node → its hash(32)
 *   versions   per occupied slot, ascending nibble, u48: leaf → version that wrote its value
 *              (the history record key); child node → version of the child's record
 *
 *   nodeHash = sha256(record[0 .. end of entries]). Versions are storage pointers only and never
 *   hashed: the root depends on the key/value set alone, not on how it was split into versions.
 *
 * Root record — DB key: treeRoot ‖ u64 version.
 *   [0] kind (0 empty, 1 leaf, 2 node) ‖ rootHash(32) ‖ leaf: keyHash ‖ valueHash ‖ u48 valueVersion
 *                                                    ‖ node: u48 nodeVersion
 * History record — treeHistory ‖ keyHash ‖ u64 version → value written at that version.
 * Latest record  — treeLatest ‖ raw key → current value.
 * Stale record   — treeStale ‖ u64 version → (u8 length ‖ DB key)* : every node and history record
 *   that `version` superseded; they are unreachable from `version` on and get deleted once the
 *   oldest retained version reaches it.
 */
import { TributaryError } from '../../errors.ts';
import { Bucket } from '../../storage/buckets.ts';
import { EMPTY_ROOT, HASH_LEN, leafHash, NODE_DOMAIN, popcount16, sha256 } from './hashing.ts';

export type TreeErrorCode =
  | 'state/pruned'
  | 'state/unknown_version'
  | 'state/bad_proof'
  | 'state/corrupt'
  | 'state/not_prepared'
  | 'state/version_exists'
  | 'state/bad_option';

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
  /** Version that wrote this value; locates the history record. */
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

/** An immutable decoded node: the raw record plus offsets computed from the masks on demand. */
export class TreeNode {
  readonly raw: Uint8Array;
  readonly existMask: number;
  readonly leafMask: number;
  readonly entriesEnd: number;
  private nodeHash: Uint8Array | undefined;

  private constructor(raw: Uint8Array, existMask: number, leafMask: number, entriesEnd: number) {
    this.raw = raw;
    this.existMask = existMask;
    this.leafMask = leafMask;
    this.entriesEnd = entriesEnd;
  }

  static decode(raw: Uint8Array): TreeNode {
    if (raw.length < NODE_HEADER_LEN || raw[0] !== NODE_DOMAIN) corrupt('bad node record header');
    const existMask = (raw[1]! << 8) | raw[2]!;
    const leafMask = (raw[3]! << 8) | raw[4]!;
    if ((leafMask & ~existMask) !== 0 || existMask === 0) corrupt('bad node masks');
    const entriesEnd = NODE_HEADER_LEN + entriesLength(existMask, leafMask);
    if (raw.length !== entriesEnd + VERSION_LEN * popcount16(existMask)) corrupt('bad node record length');
    return new TreeNode(raw, existMask, leafMask, entriesEnd);
  }

  get hash(): Uint8Array {
    return (this.nodeHash ??= sha256(this.raw.subarray(0, this.entriesEnd)));
  }

  has(slot: number): boolean {
    return (this.existMask & (1 << slot)) !== 0;
  }

  isLeaf(slot: number): boolean {
    return (this.leafMask & (1 << slot)) !== 0;
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

  /** The child in `slot` as a reference (views into this record), or null when the slot is empty. */
  child(slot: number): ChildRef | null {
    if (!this.has(slot)) return null;
    const off = this.entryOffset(slot);
    const version = this.slotVersion(slot);
    if (this.isLeaf(slot)) {
      return {
        leaf: true,
        keyHash: this.raw.subarray(off, off + HASH_LEN),
        valueHash: this.raw.subarray(off + HASH_LEN, off + LEAF_ENTRY_LEN),
        version,
      };
    }
    return { leaf: false, hash: this.raw.subarray(off, off + HASH_LEN), version };
  }

  childCount(): number {
    return popcount16(this.existMask);
  }

  /** Builds a node from `base` (may be null) with some slots replaced: undefined keeps, null clears. */
  static build(base: TreeNode | null, changes: ReadonlyArray<ChildRef | null | undefined>): TreeNode {
    const { existMask, leafMask } = resolveMasks(base, changes);
    const entriesEnd = NODE_HEADER_LEN + entriesLength(existMask, leafMask);
    const raw = new Uint8Array(entriesEnd + VERSION_LEN * popcount16(existMask));
    raw[0] = NODE_DOMAIN;
    raw[1] = existMask >> 8;
    raw[2] = existMask & 0xff;
    raw[3] = leafMask >> 8;
    raw[4] = leafMask & 0xff;
    let entryOff = NODE_HEADER_LEN;
    let versionOff = entriesEnd;
    for (let slot = 0; slot < 16; slot++) {
      if ((existMask & (1 << slot)) === 0) continue;
      const change = changes[slot];
      if (change === undefined) {
        // Unchanged slot: copy its bytes straight from the base record.
        const b = base!;
        const from = b.entryOffset(slot);
        const len = b.entryLength(slot);
        raw.set(b.raw.subarray(from, from + len), entryOff);
        entryOff += len;
        const vFrom = b.versionOffset(slot);
        raw.set(b.raw.subarray(vFrom, vFrom + VERSION_LEN), versionOff);
      } else if (change!.leaf) {
        raw.set(change!.keyHash, entryOff);
        raw.set(change!.valueHash, entryOff + HASH_LEN);
        entryOff += LEAF_ENTRY_LEN;
        writeU48(raw, versionOff, change!.version);
      } else {
        raw.set(change!.hash, entryOff);
        entryOff += NODE_ENTRY_LEN;
        writeU48(raw, versionOff, change!.version);
      }
      versionOff += VERSION_LEN;
    }
    return new TreeNode(raw, existMask, leafMask, entriesEnd);
  }
}

export function entriesLength(existMask: number, leafMask: number): number {
  return NODE_ENTRY_LEN * popcount16(existMask & ~leafMask) + LEAF_ENTRY_LEN * popcount16(leafMask);
}

/** Masks a node would have after applying `changes` to `base`. */
export function resolveMasks(
  base: TreeNode | null,
  changes: ReadonlyArray<ChildRef | null | undefined>,
): { existMask: number; leafMask: number } {
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
  return { existMask, leafMask };
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

/** DB key of the node written at `version` at the first `depth` nibbles of `pathSource`. */
export function nodeKey(version: number, depth: number, pathSource: Uint8Array): Uint8Array {
  const pathBytes = (depth + 1) >> 1;
  const key = new Uint8Array(10 + pathBytes);
  key[0] = Bucket.treeNode;
  writeU64(key, 1, version);
  key[9] = depth;
  for (let i = 0; i < pathBytes; i++) key[10 + i] = pathSource[i]!;
  if ((depth & 1) === 1) key[9 + pathBytes] = key[9 + pathBytes]! & 0xf0;
  return key;
}

export function historyKey(keyHash: Uint8Array, version: number): Uint8Array {
  const key = new Uint8Array(1 + HASH_LEN + 8);
  key[0] = Bucket.treeHistory;
  key.set(keyHash, 1);
  writeU64(key, 1 + HASH_LEN, version);
  return key;
}

export function versionKey(bucket: typeof Bucket.treeRoot | typeof Bucket.treeStale, version: number): Uint8Array {
  const key = new Uint8Array(9);
  key[0] = bucket;
  writeU64(key, 1, version);
  return key;
}

export function latestKey(key: Uint8Array): Uint8Array {
  const out = new Uint8Array(1 + key.length);
  out[0] = Bucket.treeLatest;
  out.set(key, 1);
  return out;
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

export function decodeRoot(raw: Uint8Array): RootRecord {
  const kind = raw[0];
  const hash = raw.slice(1, 1 + HASH_LEN);
  if (kind === 0 && raw.length === 1 + HASH_LEN) return { hash, ref: null };
  if (kind === 1 && raw.length === 1 + 3 * HASH_LEN + VERSION_LEN) {
    return {
      hash,
      ref: {
        leaf: true,
        keyHash: raw.slice(1 + HASH_LEN, 1 + 2 * HASH_LEN),
        valueHash: raw.slice(1 + 2 * HASH_LEN, 1 + 3 * HASH_LEN),
        version: readU48(raw, 1 + 3 * HASH_LEN),
      },
    };
  }
  if (kind === 2 && raw.length === 1 + HASH_LEN + VERSION_LEN) {
    return { hash, ref: { leaf: false, hash, version: readU48(raw, 1 + HASH_LEN) } };
  }
  return corrupt('bad root record');
}

/** Packs DB keys as (u8 length ‖ key)* for a stale record. */
export function encodeKeyList(keys: readonly Uint8Array[]): Uint8Array {
  let len = 0;
  for (const k of keys) len += 1 + k.length;
  const out = new Uint8Array(len);
  let off = 0;
  for (const k of keys) {
    out[off] = k.length;
    out.set(k, off + 1);
    off += 1 + k.length;
  }
  return out;
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
