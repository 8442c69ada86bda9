// generated from core.proto by `npm run proto`; do not edit

/**
 * What the sender signs. `type` names the transaction module ("bank/transfer"); `payload` is that
 * module's message in canonical encoding.
 */
export interface TxBody {
  chain_id: string;
  /** Ed25519 public key, 32 bytes */
  sender_pubkey: Uint8Array;
  /** equals the sender's account nonce when executed */
  nonce: number;
  fee: bigint;
  type: string;
  payload: Uint8Array;
}

/**
 * The signature covers the exact body bytes (domain-separated, see src/state/tx.ts), so nothing is
 * ever re-encoded before verifying.
 */
export interface SignedTx {
  body: Uint8Array;
  /** Ed25519, 64 bytes */
  signature: Uint8Array;
}

export interface BlockHeader {
  chain_id: string;
  height: number;
  /** proposer's clock, strictly increasing; the only time state sees */
  time_ms: number;
  /** hash of the previous header; 32 zero bytes at height 1 */
  parent_hash: Uint8Array;
  /** proposer address, 20 bytes */
  proposer: Uint8Array;
  /** Merkle root of the transaction hashes */
  txs_root: Uint8Array;
  /** state tree root after executing this block */
  state_root: Uint8Array;
  /** Merkle root of the receipts */
  results_root: Uint8Array;
  /** hash of the validator set that must sign this block */
  validators_hash: Uint8Array;
  /** hash of the commit certificate for the parent block */
  last_commit_hash: Uint8Array;
  /** hash of the validator set that signs the next block */
  next_validators_hash: Uint8Array;
}

/**
 * A validator's vote in one round of Tendermint. `type` is 1 for a prevote, 2 for a precommit
 * (plain numbers: the canonical codec refuses enums; src/consensus/protocol.ts refuses any other
 * value). An empty block_hash is a vote for nil. The commit certificate for height H is the set of
 * precommits for H's hash, in one round, with more than 2/3 of the voting power.
 */
export interface Vote {
  chain_id: string;
  /** 1 prevote, 2 precommit */
  type: number;
  height: number;
  round: number;
  block_hash: Uint8Array;
}

export interface CommitSig {
  validator: Uint8Array;
  /** over the canonical Vote bytes, domain-separated */
  signature: Uint8Array;
}

export interface Commit {
  height: number;
  round: number;
  block_hash: Uint8Array;
  /** sorted by validator address, one per validator at most */
  signatures: CommitSig[];
}

export interface Block {
  header: BlockHeader | undefined;
  /** proposer's signature over the header hash */
  proposer_signature: Uint8Array;
  /** canonical SignedTx bytes */
  txs: Uint8Array[];
  /** commit certificate of the parent (absent at height 1) */
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

/**
 * The block store's record of a block apart from its transactions (src/storage/block-store.ts):
 * the transactions and receipts are records of their own under (height, index).
 */
export interface BlockFrame {
  /** the block with no transactions */
  block: Block | undefined;
  /** how many transactions (and receipts) the block has */
  tx_count: number;
}

export interface CoreMessages {
  'tributary.core.TxBody': TxBody;
  'tributary.core.SignedTx': SignedTx;
  'tributary.core.BlockHeader': BlockHeader;
  'tributary.core.Vote': Vote;
  'tributary.core.CommitSig': CommitSig;
  'tributary.core.Commit': Commit;
  'tributary.core.Block': Block;
  'tributary.core.Attribute': Attribute;
  'tributary.core.Event': Event;
  'tributary.core.Receipt': Receipt;
  'tributary.core.BlockReceipts': BlockReceipts;
  'tributary.core.TxLocation': TxLocation;
  'tributary.core.BlockFrame': BlockFrame;
}
