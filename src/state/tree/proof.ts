/**
 * State proofs: standalone and pure (no DB, no tree object, no Node built-ins), so a light client
 * can check a value against a header's state root with this file, primitives.ts and sha256.ts.
 *
 * Encoding (canonical: one byte string per proof; decode rejects anything else):
 *   [0]   terminal — what the key's path reaches: 0 an empty slot (or the empty tree),
 *         1 the key's own leaf (inclusion), 2 another key's leaf (non-inclusion)
 *   [1]   L, the number of nodes on the path (0..64), root first
 *   terminal 2 only: keyHash(32) ‖ valueHash(32) of that other leaf
 *   L times: siblingMask u16 ‖ siblingLeafMask u16 (⊆ siblingMask) ‖ sibling entries in slot order
 *            (leaf → keyHash ‖ valueHash, 64 bytes; node → hash, 32 bytes)
 * The on-path slot is left out of each level; the verifier fills it from the key's nibble and the
 * hash computed one level below, so the proof carries each node's siblings and nothing else.
 */
import { TributaryError } from '../../errors.ts';
import {
  EMPTY_ROOT,
  equalBytes,
  HASH_LEN,
  leafHash,
  nibbleAt,
  NODE_DOMAIN,
  PATH_NIBBLES,
  popcount16,
  sha256Js as sha256,
  sharesPrefix,
} from './primitives.ts';

export type ProofErrorCode = 'state/bad_proof';

export type ProofTerminal =
  | { readonly kind: 'empty' }
  | { readonly kind: 'leaf' }
  | { readonly kind: 'other'; readonly keyHash: Uint8Array; readonly valueHash: Uint8Array };

export interface ProofLevel {
  /** Occupied slots of this node other than the on-path one. */
  readonly siblingMask: number;
  /** Which of those hold leaves. */
  readonly leafMask: number;
  /** Their entries in slot order, exactly as in the node record. */
  readonly entries: Uint8Array;
}

export interface TreeProof {
  readonly terminal: ProofTerminal;
  /** Nodes on the key's path, root first. */
  readonly levels: readonly ProofLevel[];
}

const TERMINAL_EMPTY = 0;
const TERMINAL_LEAF = 1;
const TERMINAL_OTHER = 2;
const LEAF_ENTRY = 2 * HASH_LEN;

function siblingEntriesLength(siblingMask: number, leafMask: number): number {
  return HASH_LEN * popcount16(siblingMask & ~leafMask) + LEAF_ENTRY * popcount16(leafMask);
}

export function encodeProof(proof: TreeProof): Uint8Array {
  const t = proof.terminal;
  let len = 2 + (t.kind === 'other' ? 2 * HASH_LEN : 0);
  for (const level of proof.levels) len += 4 + level.entries.length;
  const out = new Uint8Array(len);
  out[0] = t.kind === 'empty' ? TERMINAL_EMPTY : t.kind === 'leaf' ? TERMINAL_LEAF : TERMINAL_OTHER;
  out[1] = proof.levels.length;
  let off = 2;
  if (t.kind === 'other') {
    out.set(t.keyHash, off);
    out.set(t.valueHash, off + HASH_LEN);
    off += 2 * HASH_LEN;
  }
  for (const level of proof.levels) {
    out[off] = level.siblingMask >> 8;
    out[off + 1] = level.siblingMask & 0xff;
    out[off + 2] = level.leafMask >> 8;
    out[off + 3] = level.leafMask & 0xff;
    out.set(level.entries, off + 4);
    off += 4 + level.entries.length;
  }
  return out;
}

function badProof(message: string): never {
  throw new TributaryError<ProofErrorCode>('state/bad_proof', message);
}

/** Parses proof bytes; throws TributaryError('state/bad_proof') on anything malformed. */
export function decodeProof(bytes: Uint8Array): TreeProof {
  if (!(bytes instanceof Uint8Array) || bytes.length < 2) badProof('proof too short');
  const kind = bytes[0]!;
  const levelCount = bytes[1]!;
  if (kind > TERMINAL_OTHER) badProof(`unknown terminal kind ${kind}`);
  if (levelCount > PATH_NIBBLES) badProof(`too many levels: ${levelCount}`);
  let off = 2;
  let terminal: ProofTerminal;
  if (kind === TERMINAL_OTHER) {
    if (bytes.length < off + 2 * HASH_LEN) badProof('truncated terminal leaf');
    terminal = {
      kind: 'other',
      keyHash: new Uint8Array(bytes.subarray(off, off + HASH_LEN)),
      valueHash: new Uint8Array(bytes.subarray(off + HASH_LEN, off + 2 * HASH_LEN)),
    };
    off += 2 * HASH_LEN;
  } else {
    terminal = kind === TERMINAL_EMPTY ? { kind: 'empty' } : { kind: 'leaf' };
  }
  const levels: ProofLevel[] = [];
  for (let i = 0; i < levelCount; i++) {
    if (bytes.length < off + 4) badProof('truncated level header');
    const siblingMask = (bytes[off]! << 8) | bytes[off + 1]!;
    const leafMask = (bytes[off + 2]! << 8) | bytes[off + 3]!;
    if ((leafMask & ~siblingMask) !== 0) badProof('leaf mask outside sibling mask');
    const len = siblingEntriesLength(siblingMask, leafMask);
    off += 4;
    if (bytes.length < off + len) badProof('truncated level entries');
    levels.push({ siblingMask, leafMask, entries: new Uint8Array(bytes.subarray(off, off + len)) });
    off += len;
  }
  if (off !== bytes.length) badProof('trailing bytes after proof');
  return { terminal, levels };
}

/**
 * True iff `proof` shows that, in the tree with root `root`, `key` maps to `value`
 * (or is absent when `value` is undefined). Never throws: malformed input is simply false.
 */
export function verifyProof(
  root: Uint8Array,
  key: Uint8Array,
  value: Uint8Array | undefined,
  proof: Uint8Array,
): boolean {
  try {
    if (!(root instanceof Uint8Array) || root.length !== HASH_LEN || !(key instanceof Uint8Array)) return false;
    if (value !== undefined && !(value instanceof Uint8Array)) return false;
    const computed = rootFromProof(key, value, decodeProof(proof));
    return computed !== undefined && equalBytes(computed, root);
  } catch {
    return false;
  }
}

/**
 * The root a decoded proof commits to for (key, value), or undefined if the proof cannot show that
 * claim at all (wrong terminal kind, on-path slot listed as a sibling, non-canonical node shape).
 */
export function rootFromProof(
  key: Uint8Array,
  value: Uint8Array | undefined,
  proof: TreeProof,
): Uint8Array | undefined {
  const keyHash = sha256(key);
  const t = proof.terminal;
  if ((value === undefined) === (t.kind === 'leaf')) return undefined;
  const depth = proof.levels.length;

  // What sits in the on-path slot of the deepest node (or is the whole tree when depth is 0).
  let slotLeaf: { keyHash: Uint8Array; valueHash: Uint8Array } | null;
  if (t.kind === 'empty') slotLeaf = null;
  else if (t.kind === 'leaf') slotLeaf = { keyHash, valueHash: sha256(value!) };
  else {
    // Another key's leaf proves absence only if it occupies exactly the slot our key leads to.
    if (equalBytes(t.keyHash, keyHash) || !sharesPrefix(t.keyHash, keyHash, depth)) return undefined;
    slotLeaf = { keyHash: t.keyHash, valueHash: t.valueHash };
  }
  if (depth === 0) return slotLeaf === null ? EMPTY_ROOT : leafHash(slotLeaf.keyHash, slotLeaf.valueHash);

  let childHash: Uint8Array | null = null; // on-path child node hash for levels above the deepest
  for (let i = depth - 1; i >= 0; i--) {
    const level = proof.levels[i]!;
    const slot = nibbleAt(keyHash, i);
    const bit = 1 << slot;
    if ((level.siblingMask & bit) !== 0) return undefined;
    let existMask = level.siblingMask;
    let leafMask = level.leafMask;
    let pathEntry: Uint8Array | null;
    if (i === depth - 1) {
      if (slotLeaf === null) pathEntry = null;
      else {
        pathEntry = new Uint8Array(LEAF_ENTRY);
        pathEntry.set(slotLeaf.keyHash, 0);
        pathEntry.set(slotLeaf.valueHash, HASH_LEN);
        leafMask |= bit;
      }
    } else {
      pathEntry = childHash;
    }
    if (pathEntry !== null) existMask |= bit;
    // A stored node never is empty or a lone leaf (that leaf would sit in the parent instead).
    const children = popcount16(existMask);
    if (children === 0 || (children === 1 && leafMask === existMask)) return undefined;

    const insertAt = siblingEntriesLength(level.siblingMask & (bit - 1), level.leafMask & (bit - 1));
    const record = new Uint8Array(5 + level.entries.length + (pathEntry?.length ?? 0));
    record[0] = NODE_DOMAIN;
    record[1] = existMask >> 8;
    record[2] = existMask & 0xff;
    record[3] = leafMask >> 8;
    record[4] = leafMask & 0xff;
    record.set(level.entries.subarray(0, insertAt), 5);
    if (pathEntry !== null) record.set(pathEntry, 5 + insertAt);
    record.set(level.entries.subarray(insertAt), 5 + insertAt + (pathEntry?.length ?? 0));
    childHash = sha256(record);
  }
  return childHash!;
}
