import { errorModule, isTributaryError } from '../errors.ts';

/**
 * What the rest of the node sees of the network. Only `libp2p-host.ts` knows libp2p and
 * gossipsub; everything else (consensus, sync, the composition root) talks to this interface, so
 * swapping the gossip implementation changes one file.
 */

/** A validator's verdict on a gossip message: forward and deliver, drop quietly, or drop and penalise the sender. */
export type GossipVerdict = 'accept' | 'ignore' | 'reject';
export type GossipTopic = 'tx' | 'proposal' | 'vote' | 'evidence';
export const GOSSIP_TOPICS: readonly GossipTopic[] = ['tx', 'proposal', 'vote', 'evidence'];

export type P2pErrorCode =
  | 'p2p/invalid_config'
  | 'p2p/listen_failed'
  | 'p2p/invalid_peer'
  | 'p2p/not_started'
  | 'p2p/too_large'
  | 'p2p/publish_failed'
  | 'p2p/unreachable'
  | 'p2p/unsupported_protocol'
  | 'p2p/timeout'
  | 'p2p/too_many_responses'
  | 'p2p/remote_error'
  | 'p2p/malformed'
  | 'p2p/stream_reset';

/** Topics are scoped by chain id, so nodes of two chains never exchange gossip. */
export function gossipTopicName(chainId: string, topic: GossipTopic): string {
  return `/tributary/${chainId}/${topic}/1`;
}

/** Request/response protocols are scoped the same way. */
export function protocolName(chainId: string, name: string, version = 1): string {
  return `/tributary/${chainId}/${name}/${version}`;
}

export type GossipValidator = (data: Uint8Array, from: string) => Promise<GossipVerdict>;
export type GossipDeliver = (data: Uint8Array, from: string) => void;

/** A handler's responses, streamed (a range of blocks read one by one) or all at once. */
export type RequestHandler = (request: Uint8Array, from: string) => AsyncIterable<Uint8Array> | Promise<Uint8Array[]>;

/** What a server accepts on one protocol. */
export interface HandlerLimits {
  /** A larger request is answered with `p2p/too_large` and the stream closed. */
  maxRequestBytes: number;
  /** The handler's output is cut at this many responses... */
  maxResponses: number;
  /** ...or this many bytes in all, whichever comes first. */
  maxResponseBytes: number;
  /** Reading the request and writing every response must finish within this; then the stream is reset. */
  timeoutMs: number;
  /** Streams of this protocol open at once per connection; more are refused by libp2p. */
  maxConcurrent: number;
}

/** What a client accepts back from one request. */
export interface RequestOptions {
  /** Dial, negotiation, request and every response; then `p2p/timeout`. */
  timeoutMs: number;
  /** More responses than this is `p2p/too_many_responses`. */
  maxResponses: number;
  /** More bytes than this in all is `p2p/too_large`. */
  maxBytes: number;
}

export type PeerEvent = 'connect' | 'disconnect';

export interface P2pNetwork {
  /** This node's libp2p peer id (base58, "12D3KooW..."). */
  readonly peerId: string;
  start(): Promise<void>;
  stop(): Promise<void>;
  /** The addresses this node listens on, each ending in `/p2p/<peerId>`: what other nodes put in their bootstrap list. */
  listenAddresses(): string[];
  /** Peers with an open connection, sorted. */
  peers(): string[];
  /**
   * Sends `data` to the peers of the topic. Over the message size limit is `p2p/too_large`; no
   * peers is not an error (a single-node devnet), and publishing the same bytes again is a no-op.
   */
  publish(topic: GossipTopic, data: Uint8Array): Promise<void>;
  /**
   * One validator and one consumer per topic (subscribes to it). Every message received goes through
   * `validate` first; only 'accept' forwards it to other peers and then calls `deliver`. 'reject'
   * lowers the score of the peer it came from, 'ignore' does not. `from` is the peer that
   * forwarded the message to us: messages are unsigned, so there is no originator to name.
   */
  onGossip(topic: GossipTopic, validate: GossipValidator, deliver: GossipDeliver): void;
  /**
   * Serves `protocol` (use `protocolName`), before or after `start`. A handler that throws answers
   * with its error code (`p2p/server_error` if uncoded) and the stream closes; output past the
   * limits is cut, so the client sees fewer responses.
   */
  handle(protocol: string, handler: RequestHandler, limits: HandlerLimits): Promise<void>;
  /**
   * One request to `peer` (dialled if need be). Resolves with every response once the server closes
   * its side. A server error is `p2p/remote_error` with `data.remoteCode`.
   */
  request(peer: string, protocol: string, request: Uint8Array, opts: RequestOptions): Promise<Uint8Array[]>;
  onPeer(listener: (peer: string, event: PeerEvent) => void): void;
  /** Closes every connection to `peer` (a peer that served an invalid block, say). */
  disconnect(peer: string): Promise<void>;
  /** The gossip score this node gives `peer` (0 for unknown peers; below 0 after invalid messages). */
  peerScore(peer: string): number;
}

/**
 * The one mapping from validation errors to gossip verdicts. Gossip handlers call the same
 * functions RPC and replay use (`decodeTx`, `Mempool.add`, `Chain.verifyProposal`, vote checks)
 * and hand whatever they throw to `verdictFor`:
 * - reject: the bytes themselves are invalid whatever our state (bad encoding, bad signature,
 *   wrong chain, oversized), so the sender should never have forwarded them;
 * - ignore: the message may be valid for a node at another height or with another mempool
 *   (nonce, fee, balance, full mempool, duplicate, a module's own rules), or the failure is ours
 *   (an uncoded error): never penalise a peer for that. `consensus/bad_header` and
 *   `consensus/bad_commit` are here too: a proposal for another height fails them honestly. An
 *   engine that knows better (its own height, the current round) returns 'reject' itself.
 */
const REJECT_MODULES = new Set(['codec', 'protocol', 'p2p']);
const REJECT_CODES = new Set([
  'tx/too_large',
  'tx/malformed',
  'tx/bad_signature',
  'tx/wrong_chain_id',
  'tx/unknown_type',
  'tx/invalid',
  'consensus/bad_proposer_signature',
]);

export function verdictFor(error: unknown): GossipVerdict {
  if (!isTributaryError(error)) return 'ignore';
  if (REJECT_CODES.has(error.code) || REJECT_MODULES.has(errorModule(error.code))) return 'reject';
  return 'ignore';
}

/** A gossip validator from a check that throws coded errors: resolves 'accept' or `verdictFor(error)`. */
export function validateWith(check: (data: Uint8Array, from: string) => unknown): GossipValidator {
  return async (data, from) => {
    try {
      await check(data, from);
      return 'accept';
    } catch (e) {
      return verdictFor(e);
    }
  };
}
