export { StateTree } from './tree.ts';
export type { PreparedVersion, StateTreeOptions, TreeWrite } from './tree.ts';
export { decodeProof, encodeProof, rootFromProof, verifyProof } from './proof.ts';
export type { ProofErrorCode, ProofLevel, ProofTerminal, TreeProof } from './proof.ts';
export { EMPTY_ROOT, leafHash } from './primitives.ts';
export type { TreeErrorCode } from './node.ts';
