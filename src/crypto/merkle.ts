import { sha256 } from './hash.ts';

/*
 * Binary Merkle root over an ordered list (transactions and receipts of a block), in the RFC 6962
 * shape: leaves and inner nodes are hashed with different prefixes so a leaf can never pose as a
 * node, and an odd node is promoted rather than duplicated (duplication lets two lists share a root).
 */
const LEAF = Uint8Array.of(0);
const NODE = Uint8Array.of(1);
export const EMPTY_LIST_ROOT = sha256(new Uint8Array(0));

export function merkleRoot(items: Uint8Array[]): Uint8Array {
  if (items.length === 0) return EMPTY_LIST_ROOT;
  let level = items.map((item) => sha256(LEAF, item));
  while (level.length > 1) {
    const next: Uint8Array[] = [];
    for (let i = 0; i < level.length; i += 2) {
      next.push(i + 1 < level.length ? sha256(NODE, level[i]!, level[i + 1]!) : level[i]!);
    }
    level = next;
  }
  return level[0]!;
}
