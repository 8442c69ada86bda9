import { readFileSync } from 'node:fs';
import { messageCodec, parseSchema, type MessageCodec } from '../codec/canonical.ts';
import { BlockCodec, CommitCodec, type Block, type Commit } from '../codec/core.ts';
import { bytesEqual, toHex } from '../crypto/hash.ts';
import { TributaryError, isTributaryError, type ErrorCode } from '../errors.ts';
import { protocolName, type HandlerLimits, type P2pNetwork } from './network.ts';
import type { BlockWithCommit, BlocksByRangeRequest, Status, SyncMessages } from './sync.pb.ts';

/*
 * Block sync over request/response: a status handshake (chain id, genesis hash, height, head) and
 * blocks by range, each with the commit certificate that decided it. This file moves and decodes
 * bytes; whether a block is valid is `Chain.importBlock`'s to say.
 */

export type SyncErrorCode = 'p2p/bad_request' | 'p2p/limit_exceeded' | 'p2p/wrong_chain' | 'p2p/malformed';

const schema = parseSchema<SyncMessages>(readFileSync(new URL('./sync.proto', import.meta.url), 'utf8'));

export type { BlockWithCommit, BlocksByRangeRequest, Status };

export const StatusCodec = messageCodec(schema, 'tributary.p2p.Status');
export const BlocksByRangeRequestCodec = messageCodec(schema, 'tributary.p2p.BlocksByRangeRequest');
export const BlockWithCommitCodec = messageCodec(schema, 'tributary.p2p.BlockWithCommit');

/** What a node serves from: its status and its committed blocks and certificates. */
export interface SyncSource {
  status(): Status;
  getBlock(height: number): Promise<Block | undefined>;
  getCommit(height: number): Promise<Commit | undefined>;
}

export interface SyncLimits {
  /** A range request for more is refused with `p2p/limit_exceeded` (by the client before asking, too). */
  maxBlocksPerRequest: number;
  /** Bytes of blocks and commits per response stream; the server stops at the block that would cross it. */
  maxResponseBytes: number;
  statusTimeoutMs: number;
  blocksTimeoutMs: number;
  /** Sync streams a peer may have open at once per connection. */
  maxConcurrent: number;
}

export const DEFAULT_SYNC_LIMITS: SyncLimits = {
  maxBlocksPerRequest: 64,
  // A block may be 16 MiB (maxBlockBytes); this lets at least one through with its commit.
  maxResponseBytes: 64 * 1024 * 1024,
  statusTimeoutMs: 5_000,
  blocksTimeoutMs: 30_000,
  maxConcurrent: 2,
};

const MAX_STATUS_BYTES = 1024;

export function syncProtocols(chainId: string): { status: string; blocksByRange: string } {
  return { status: protocolName(chainId, 'sync/status'), blocksByRange: protocolName(chainId, 'sync/blocks_by_range') };
}

function decodeOrFail<T>(codec: MessageCodec<T>, bytes: Uint8Array, code: SyncErrorCode, what: string): T {
  try {
    return codec.decode(bytes);
  } catch (e) {
    throw new TributaryError(code, `${what}: ${(e as Error).message}`);
  }
}

function checkSameChain(local: Status, remote: Status, peer: string): void {
  if (remote.chain_id !== local.chain_id || !bytesEqual(remote.genesis_hash, local.genesis_hash)) {
    throw new TributaryError(
      'p2p/wrong_chain',
      `${peer} is on chain "${remote.chain_id}" with genesis ${toHex(remote.genesis_hash)}`,
      {
        peer,
        chainId: remote.chain_id,
      },
    );
  }
}

/**
 * Serves status and blocks by range from `source`. Malformed requests get `p2p/bad_request`,
 * ranges above the limit `p2p/limit_exceeded`, a peer of another chain `p2p/wrong_chain`; none of
 * them throws out of the handler. `onStatus` hears every peer's handshake (its height, for the
 * sync driver).
 */
export async function serveSync(
  network: P2pNetwork,
  source: SyncSource,
  limits: Partial<SyncLimits> = {},
  hooks: { onStatus?: (peer: string, status: Status) => void } = {},
): Promise<void> {
  const l = { ...DEFAULT_SYNC_LIMITS, ...limits };
  const protocols = syncProtocols(source.status().chain_id);
  const base: Omit<HandlerLimits, 'maxResponses' | 'timeoutMs'> = {
    maxRequestBytes: MAX_STATUS_BYTES,
    maxResponseBytes: l.maxResponseBytes,
    maxConcurrent: l.maxConcurrent,
  };

  await network.handle(
    protocols.status,
    async (request, from) => {
      const theirs = decodeOrFail(StatusCodec, request, 'p2p/bad_request', 'status request');
      const ours = source.status();
      checkSameChain(ours, theirs, from);
      hooks.onStatus?.(from, theirs);
      return [StatusCodec.encode(ours)];
    },
    { ...base, maxResponses: 1, timeoutMs: l.statusTimeoutMs },
  );

  await network.handle(
    protocols.blocksByRange,
    (request) => {
      const { start_height: start, count } = decodeOrFail(
        BlocksByRangeRequestCodec,
        request,
        'p2p/bad_request',
        'blocks by range request',
      );
      if (start < 1 || count < 1)
        throw new TributaryError('p2p/bad_request', 'start height and count must be at least 1');
      if (count > l.maxBlocksPerRequest) {
        throw new TributaryError(
          'p2p/limit_exceeded',
          `at most ${l.maxBlocksPerRequest} blocks per request, asked for ${count}`,
        );
      }
      return blocksFrom(source, start, count);
    },
    { ...base, maxResponses: l.maxBlocksPerRequest, timeoutMs: l.blocksTimeoutMs },
  );
}

/** Read one height at a time, so a range never sits in memory whole. */
async function* blocksFrom(source: SyncSource, start: number, count: number): AsyncIterable<Uint8Array> {
  for (let h = start; h < start + count; h++) {
    const block = await source.getBlock(h);
    const commit = block && (await source.getCommit(h));
    if (!block || !commit) return;
    yield BlockWithCommitCodec.encode({ block: BlockCodec.encode(block), commit: CommitCodec.encode(commit) });
  }
}

export interface SyncedBlock {
  block: Block;
  commit: Commit;
}

/** A server's refusal, known to this protocol, is thrown with its own code (and `data.remote`). */
const SERVER_CODES = new Set<ErrorCode>([
  'p2p/bad_request',
  'p2p/limit_exceeded',
  'p2p/wrong_chain',
  'p2p/too_large',
  'p2p/malformed',
]);

function fromRemote(e: unknown, peer: string): unknown {
  if (isTributaryError(e) && e.code === 'p2p/remote_error') {
    const remoteCode = String(e.data?.remoteCode) as ErrorCode;
    if (SERVER_CODES.has(remoteCode))
      return new TributaryError(remoteCode, `${peer} refused the request: ${remoteCode}`, { peer, remote: true });
  }
  return e;
}

export class SyncClient {
  private readonly network: P2pNetwork;
  private readonly local: Pick<SyncSource, 'status'>;
  private readonly limits: SyncLimits;
  private readonly protocols: { status: string; blocksByRange: string };

  constructor(network: P2pNetwork, local: Pick<SyncSource, 'status'>, limits: Partial<SyncLimits> = {}) {
    this.network = network;
    this.local = local;
    this.limits = { ...DEFAULT_SYNC_LIMITS, ...limits };
    this.protocols = syncProtocols(local.status().chain_id);
  }

  /** Sends our status, returns the peer's; another chain or genesis is `p2p/wrong_chain` (either side may say it). */
  async requestStatus(peer: string): Promise<Status> {
    const ours = this.local.status();
    let responses: Uint8Array[];
    try {
      responses = await this.network.request(peer, this.protocols.status, StatusCodec.encode(ours), {
        timeoutMs: this.limits.statusTimeoutMs,
        maxResponses: 1,
        maxBytes: MAX_STATUS_BYTES,
      });
    } catch (e) {
      throw fromRemote(e, peer);
    }
    if (responses.length !== 1)
      throw new TributaryError('p2p/malformed', `${peer} answered status with ${responses.length} messages`);
    const theirs = decodeOrFail(StatusCodec, responses[0]!, 'p2p/malformed', `status from ${peer}`);
    checkSameChain(ours, theirs, peer);
    return theirs;
  }

  /**
   * Blocks `start` .. `start + count - 1` with their certificates, decoded and in order; fewer if
   * the peer has fewer (or its byte budget ran out). Undecodable bytes or a wrong height are
   * `p2p/malformed`: drop that peer.
   */
  async requestBlocks(peer: string, start: number, count: number): Promise<SyncedBlock[]> {
    if (!Number.isSafeInteger(start) || !Number.isSafeInteger(count) || start < 1 || count < 1) {
      throw new TributaryError('p2p/bad_request', 'start height and count must be integers of at least 1');
    }
    if (count > this.limits.maxBlocksPerRequest) {
      throw new TributaryError(
        'p2p/limit_exceeded',
        `at most ${this.limits.maxBlocksPerRequest} blocks per request, asked for ${count}`,
      );
    }
    let responses: Uint8Array[];
    try {
      responses = await this.network.request(
        peer,
        this.protocols.blocksByRange,
        BlocksByRangeRequestCodec.encode({ start_height: start, count }),
        {
          timeoutMs: this.limits.blocksTimeoutMs,
          maxResponses: count,
          maxBytes: this.limits.maxResponseBytes,
        },
      );
    } catch (e) {
      throw fromRemote(e, peer);
    }
    return responses.map((bytes, i) => {
      const where = `block ${start + i} from ${peer}`;
      const pair = decodeOrFail(BlockWithCommitCodec, bytes, 'p2p/malformed', where);
      const block = decodeOrFail(BlockCodec, pair.block, 'p2p/malformed', where);
      const commit = decodeOrFail(CommitCodec, pair.commit, 'p2p/malformed', `commit of ${where}`);
      if (!block.header || block.header.height !== start + i || commit.height !== start + i) {
        throw new TributaryError('p2p/malformed', `${where}: expected height ${start + i}`);
      }
      return { block, commit };
    });
  }
}
