import type { Block, BlockHeader, Commit, CommitSig } from '../codec/core.ts';
import { commitHash, headerHash, headerSignBytes } from '../codec/protocol.ts';
import type { Address } from '../crypto/address.ts';
import { compareBytes } from '../crypto/hash.ts';
import { merkleRoot } from '../crypto/merkle.ts';
import type { FinalizedBlock } from '../state/app.ts';
import type { DecodedTx } from '../state/tx.ts';
import type { Chain } from './chain.ts';

/*
 * Block and header building, shared by every engine (the single-validator engine today, the BFT
 * engine next): what goes into a header is decided here only.
 */

/** Header time: the proposer's clock, but strictly above the parent's even if the clock steps back. */
export function proposalTime(parentTimeMs: number, nowMs: number): number {
  return Math.max(nowMs, parentTimeMs + 1);
}

export interface BuiltProposal {
  block: Block;
  hash: Uint8Array;
  finalized: FinalizedBlock;
}

/**
 * Executes `candidates` on the tip (PrepareProposal), builds the header of the next height and has
 * it signed by `signHeader` (the persisted signer, which may refuse).
 */
export async function buildProposal(
  chain: Chain,
  opts: { proposer: Address; nowMs: number; candidates: DecodedTx[]; lastCommit: Commit | undefined },
  signHeader: (signBytes: Uint8Array) => Promise<Uint8Array>,
): Promise<BuiltProposal> {
  const app = chain.app;
  const parent = chain.blocks.latestBlock;
  const height = chain.latestHeight + 1;
  const timeMs = proposalTime(parent ? parent.header.time_ms : app.genesis.genesisTimeMs, opts.nowMs);
  const finalized = await app.prepareProposal(
    {
      chainId: app.chainId,
      height,
      timeMs,
      proposer: opts.proposer,
      lastCommitSigners: commitSigners(opts.lastCommit),
    },
    opts.candidates,
  );
  const header = await headerFor(chain, finalized, opts.lastCommit);
  const hash = headerHash(header);
  const block: Block = {
    header,
    proposer_signature: await signHeader(headerSignBytes(hash)),
    txs: finalized.txs.map((t) => t.bytes),
    last_commit: opts.lastCommit,
  };
  return { block, hash, finalized };
}

/** The header of an executed block on the chain's tip. */
export async function headerFor(
  chain: Chain,
  finalized: FinalizedBlock,
  lastCommit: Commit | undefined,
): Promise<BlockHeader> {
  const { chainId, height, timeMs, proposer } = finalized.info;
  const parent = chain.blocks.latestBlock;
  return {
    chain_id: chainId,
    height,
    time_ms: timeMs,
    parent_hash: parent ? parent.hash : new Uint8Array(32),
    proposer,
    txs_root: merkleRoot(finalized.txs.map((t) => t.hash)),
    state_root: finalized.stateRoot,
    results_root: finalized.resultsRoot,
    validators_hash: (await chain.validatorSet(height)).hash,
    last_commit_hash: commitHash(lastCommit),
    next_validators_hash: (await chain.validatorSet(height + 1)).hash,
  };
}

/** The validators whose precommits a commit certificate carries (what the application's liveness window reads). */
export function commitSigners(commit: Commit | undefined): Address[] {
  return commit ? commit.signatures.map((s) => s.validator) : [];
}

/** A commit certificate from precommit signatures, in the canonical (address) order. */
export function makeCommit(height: number, round: number, blockHash: Uint8Array, signatures: CommitSig[]): Commit {
  return {
    height,
    round,
    block_hash: blockHash,
    signatures: [...signatures].sort((a, b) => compareBytes(a.validator, b.validator)),
  };
}
