import { SignedTxCodec, TxBodyCodec, type Block, type BlockHeader, type Event, type Receipt } from '../codec/core.ts';
import { addressFromPublicKey, type Address } from '../crypto/address.ts';
import type { ChainEvent } from '../state/module.ts';
import { txHash } from '../state/tx.ts';
import { headerHash } from '../codec/protocol.ts';
import type { StoredResults } from '../storage/block-store.ts';

/*
 * A block as it leaves the commit path: what the index records and what the event stream
 * delivers. Built either from the block just executed (the commit path) or from a stored block and
 * its receipts (rebuilding the index); both give the same value, which is what makes a rebuilt
 * index byte-identical to the one written block by block.
 */

export interface CommittedTx {
  readonly hash: Uint8Array;
  readonly sender: Address;
  readonly type: string;
}

export interface CommittedBlock {
  readonly header: BlockHeader;
  readonly hash: Uint8Array;
  /** In block order; `receipts[i]` is the receipt of `txs[i]`. */
  readonly txs: readonly CommittedTx[];
  readonly receipts: readonly Receipt[];
  /** `receipts[i]` in canonical bytes. */
  readonly receiptBytes: readonly Uint8Array[];
  readonly endBlockEvents: readonly Event[];
}

/** Position of a block's end-of-block events, after every transaction. */
export const END_BLOCK_POSITION = 0xffff_ffff;

/** From the commit path: the executed transactions already carry hash, sender and type. */
export function committedBlock(
  block: Block,
  executed: {
    txs: readonly { hash: Uint8Array; sender: Address; body: { type: string } }[];
    receipts: readonly Receipt[];
    receiptBytes: readonly Uint8Array[];
    endBlockEvents: readonly Event[];
  },
): CommittedBlock {
  const header = block.header!;
  return {
    header,
    hash: headerHash(header),
    txs: executed.txs.map((t) => ({ hash: t.hash, sender: t.sender, type: t.body.type })),
    receipts: executed.receipts,
    receiptBytes: executed.receiptBytes,
    endBlockEvents: executed.endBlockEvents,
  };
}

/** From the block store: transactions decoded again (they were fully checked when committed). */
export function storedCommittedBlock(block: Block, results: StoredResults): CommittedBlock {
  const header = block.header!;
  return {
    header,
    hash: headerHash(header),
    txs: block.txs.map((bytes) => {
      const body = TxBodyCodec.decodeStored(SignedTxCodec.decodeStored(bytes).body);
      return { hash: txHash(bytes), sender: addressFromPublicKey(body.sender_pubkey), type: body.type };
    }),
    receipts: results.receipts,
    // The very bytes the commit path had (the store keeps them as hashed): a rebuilt index is byte-identical.
    receiptBytes: results.receiptBytes,
    endBlockEvents: results.endBlockEvents,
  };
}

/** What `blockEvents` reads of a block (a subscription replaying stored blocks has no more). */
export type BlockWithEvents = Pick<CommittedBlock, 'header' | 'hash' | 'receipts' | 'endBlockEvents'> & {
  readonly txs: readonly Pick<CommittedTx, 'hash'>[];
};

/** Every event of the block with its place: transactions' events in order, then end-of-block events. */
export function* blockEvents(block: BlockWithEvents): Generator<ChainEvent> {
  const height = block.header.height;
  const blockTimeMs = block.header.time_ms;
  for (let i = 0; i < block.receipts.length; i++) {
    const events = block.receipts[i]!.events;
    for (let e = 0; e < events.length; e++) {
      yield {
        height,
        blockHash: block.hash,
        blockTimeMs,
        txHash: block.txs[i]!.hash,
        txIndex: i,
        eventIndex: e,
        event: events[e]!,
      };
    }
  }
  for (let e = 0; e < block.endBlockEvents.length; e++) {
    yield {
      height,
      blockHash: block.hash,
      blockTimeMs,
      txHash: null,
      txIndex: null,
      eventIndex: e,
      event: block.endBlockEvents[e]!,
    };
  }
}
