import { sha256 } from '../crypto/hash.ts';
import { EMPTY_LIST_ROOT } from '../crypto/merkle.ts';

/*
 * Append-only Merkle accumulator for a datanet's accepted contributions. State keeps only the
 * frontier: entry i is the root of the complete subtree of 2^i leaves not yet merged into a
 * larger one (or empty), so appending and computing the root are O(log n) and need no iteration.
 * The root equals `merkleRoot` (src/crypto/merkle.ts) over the same leaves: RFC 6962 shape, leaf
 * and node hashes domain-separated, a lone right subtree promoted rather than duplicated.
 */

const LEAF = Uint8Array.of(0);
const NODE = Uint8Array.of(1);
const EMPTY = new Uint8Array(0);

/** Returns the new frontier; the input is not modified. */
export function appendLeaf(frontier: readonly Uint8Array[], leaf: Uint8Array): Uint8Array[] {
  const next = [...frontier];
  let carry = sha256(LEAF, leaf);
  let level = 0;
  while (level < next.length && next[level]!.length > 0) {
    carry = sha256(NODE, next[level]!, carry);
    next[level] = EMPTY;
    level++;
  }
  if (level === next.length) next.push(carry);
  else next[level] = carry;
  return next;
}

/** Root over every appended leaf: fold the frontier from the smallest subtree upwards. */
export function frontierRoot(frontier: readonly Uint8Array[]): Uint8Array {
  let acc: Uint8Array | undefined;
  for (const node of frontier) {
    if (node.length === 0) continue;
    acc = acc ? sha256(NODE, node, acc) : node;
  }
  return acc ?? EMPTY_LIST_ROOT;
}
