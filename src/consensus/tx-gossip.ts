import type { Logger } from 'pino';
import { validateWith, type P2pNetwork } from '../p2p/network.ts';
import type { DecodedTx } from '../state/tx.ts';
import { Mempool } from './mempool.ts';

/**
 * A mempool whose admissions (from RPC) are gossiped on the `tx` topic, and which admits what
 * peers gossip through the same `add` checks: a transaction another node accepted is forwarded only
 * once this node accepts it too (a duplicate, nonce or fee failure is 'ignore', a bad signature or
 * encoding 'reject', by `verdictFor`).
 */
export class GossipMempool extends Mempool {
  private network: P2pNetwork | undefined;
  private gossipLogger: Logger | undefined;

  /** Subscribes to the tx topic; from now on admissions are published. */
  attach(network: P2pNetwork, logger?: Logger): void {
    this.network = network;
    this.gossipLogger = logger;
    network.onGossip(
      'tx',
      validateWith((data) => super.add(data)),
      () => undefined, // admitted by the validator already
    );
  }

  override async add(bytes: Uint8Array): Promise<DecodedTx> {
    const tx = await super.add(bytes);
    this.network?.publish('tx', bytes).catch((e) => this.gossipLogger?.warn({ err: e }, 'transaction gossip failed'));
    return tx;
  }
}
