import { BlockHeaderCodec, type Commit, type Event, type Receipt } from '../codec/core.ts';
import { formatAddress } from '../crypto/address.ts';
import { hex0x as hx, toJson, type JsonValue } from '../codec/json.ts';
import type { StoredBlock, StoredHeader } from '../storage/block-store.ts';
import { txHash, type DecodedTx } from '../state/tx.ts';

export function eventView(e: Event): { type: string; attributes: Record<string, string> } {
  return { type: e.type, attributes: Object.fromEntries(e.attributes.map((a) => [a.key, a.value])) };
}

export function receiptView(r: Receipt): JsonValue {
  return {
    txHash: hx(r.tx_hash),
    status: r.failed ? 'failed' : 'committed',
    errorCode: r.failed ? r.error_code : null,
    errorMessage: r.failed ? r.error_message : null,
    fee: r.fee.toString(),
    events: r.events.map(eventView),
  };
}

export function commitView(c: Commit): JsonValue {
  return {
    height: c.height,
    round: c.round,
    blockHash: hx(c.block_hash),
    signatures: c.signatures.map((s) => ({ validator: formatAddress(s.validator), signature: hx(s.signature) })),
  };
}

export function txBodyView(tx: DecodedTx): JsonValue {
  return {
    hash: hx(tx.hash),
    chainId: tx.body.chain_id,
    sender: formatAddress(tx.sender),
    senderPublicKey: hx(tx.body.sender_pubkey),
    nonce: tx.body.nonce,
    fee: tx.body.fee.toString(),
    type: tx.body.type,
    message: toJson(tx.definition.view(tx.message)),
    size: tx.bytes.length,
  };
}

export function blockView(stored: StoredBlock, txs: DecodedTx[] | undefined): JsonValue {
  return headerView({ ...stored, txCount: stored.block.txs.length }, txs ?? stored.block.txs);
}

/** A block's header fields; with `txs`, the block view (its transactions' hashes, or them decoded). */
export function headerView(stored: StoredHeader, txs?: DecodedTx[] | Uint8Array[]): JsonValue {
  const h = stored.header;
  const txList: Record<string, JsonValue> =
    txs === undefined ? {} : { txs: txs.map((t) => (t instanceof Uint8Array ? hx(txHash(t)) : txBodyView(t))) };
  return {
    hash: hx(stored.hash),
    height: h.height,
    chainId: h.chain_id,
    timeMs: h.time_ms,
    time: new Date(h.time_ms).toISOString(),
    parentHash: hx(h.parent_hash),
    proposer: formatAddress(h.proposer),
    txsRoot: hx(h.txs_root),
    stateRoot: hx(h.state_root),
    resultsRoot: hx(h.results_root),
    validatorsHash: hx(h.validators_hash),
    nextValidatorsHash: hx(h.next_validators_hash),
    lastCommitHash: hx(h.last_commit_hash),
    // The canonical encoding whose SHA-256 is `hash`: what a light client checks, not the fields above.
    headerBytes: hx(BlockHeaderCodec.encode(h)),
    proposerSignature: hx(stored.block.proposer_signature),
    txCount: stored.txCount,
    ...txList,
    lastCommit: stored.block.last_commit ? commitView(stored.block.last_commit) : null,
  };
}
