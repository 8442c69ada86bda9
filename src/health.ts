/*
 * What `GET /readyz` answers (src/rpc/server.ts serves it; src/node.ts wires this in): whether a
 * load balancer should send this node traffic. Pure, so every rule is tested without a network.
 */

export interface ReadinessInput {
  /** The node runs the BFT engine (a single-validator node is always in step with itself). */
  readonly bft: boolean;
  /** Its key is the whole validator set: it makes blocks alone and needs no peer. */
  readonly soleValidator: boolean;
  readonly syncing: boolean;
  readonly peers: number;
  readonly latestHeight: number;
  /** The highest committed height a peer has reported (0 when none has). */
  readonly highestPeerHeight: number;
  readonly minPeers: number;
  readonly maxBlocksBehind: number;
}

/** Why the node should not get traffic though it can commit, or undefined when it should. */
export function readinessProblem(r: ReadinessInput): string | undefined {
  if (!r.bft) return undefined;
  if (r.syncing) return 'catching up from peers (block sync)';
  const behind = r.highestPeerHeight - r.latestHeight;
  if (behind > r.maxBlocksBehind) return `${behind} blocks behind the highest peer (more than ${r.maxBlocksBehind})`;
  if (!r.soleValidator && r.peers < r.minPeers)
    return `${r.peers} peer${r.peers === 1 ? '' : 's'} connected (at least ${r.minPeers} needed)`;
  return undefined;
}
