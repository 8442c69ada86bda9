import { readFileSync } from 'node:fs';
import { messageCodec, parseSchema } from './canonical.ts';

const root = parseSchema(readFileSync(new URL('./core.proto', import.meta.url), 'utf8'));

export interface TxBody {
  chain_id: string;
  sender_pubkey: Uint8Array;
  nonce: number;
  fee: bigint;
  type: string;
  payload: Uint8Array;
}
export interface SignedTx {
  body: Uint8Array;
  signature: Uint8Array;
}
export interface BlockHeader {
  chain_id: string;
  height: number;
  time_ms: number;
  parent_hash: Uint8Array;
  proposer: Uint8Array;
  txs_root: Uint8Array;
  state_root: Uint8Array;
  results_root: Uint8Array;
  validators_hash: Uint8Array;
  last_commit_hash: Uint8Array;
  next_validators_hash: Uint8Array;
}
export interface Vote {
  chain_id: string;
  /** VoteType: 1 prevote, 2 precommit. */
  type: number;
  height: number;
  round: number;
  block_hash: Uint8Array;
}
export interface CommitSig {
  validator: Uint8Array;
  signature: Uint8Array;
}
export interface Commit {
  height: number;
  round: number;
  block_hash: Uint8Array;
  signatures: CommitSig[];
}
export interface Block {
  header: BlockHeader | undefined;
  proposer_signature: Uint8Array;
  txs: Uint8Array[];
  last_commit: Commit | undefined;
}
export interface Attribute {
  key: string;
  value: string;
}
export interface Event {
  type: string;
  attributes: Attribute[];
}
export interface Receipt {
  tx_hash: Uint8Array;
  failed: boolean;
  error_code: string;
  error_message: string;
  fee: bigint;
  events: Event[];
}
export interface BlockReceipts {
  receipts: Receipt[];
  end_block_events: Event[];
}
export interface TxLocation {
  height: number;
  index: number;
}

export const TxBodyCodec = messageCodec<TxBody>(root, 'tributary.core.TxBody');
export const SignedTxCodec = messageCodec<SignedTx>(root, 'tributary.core.SignedTx');
export const BlockHeaderCodec = messageCodec<BlockHeader>(root, 'tributary.core.BlockHeader');
export const VoteCodec = messageCodec<Vote>(root, 'tributary.core.Vote');
export const CommitCodec = messageCodec<Commit>(root, 'tributary.core.Commit');
export const BlockCodec = messageCodec<Block>(root, 'tributary.core.Block');
export const ReceiptCodec = messageCodec<Receipt>(root, 'tributary.core.Receipt');
export const BlockReceiptsCodec = messageCodec<BlockReceipts>(root, 'tributary.core.BlockReceipts');
export const TxLocationCodec = messageCodec<TxLocation>(root, 'tributary.core.TxLocation');
