import { BlockCodec, CommitCodec } from '../../src/codec/core.ts';
import { bytesEqual } from '../../src/crypto/hash.ts';
import { TributaryError } from '../../src/errors.ts';
import { genesisHash } from '../../src/genesis.ts';
import {
  FrameDecoder,
  encodeFrame,
  encodeResponseChunk,
  encodeResponseError,
  encodeVarint,
  parseResponseFrame,
} from '../../src/p2p/frames.ts';
import type { HandlerLimits, P2pNetwork, RequestHandler } from '../../src/p2p/network.ts';
import {
  BlockWithCommitCodec,
  BlocksByRangeRequestCodec,
  StatusCodec,
  SyncClient,
  serveSync,
  syncProtocols,
  type Status,
} from '../../src/p2p/sync.ts';
import { fixtureChain } from './chain.ts';
import { Finding, guard, guardAsync, type FuzzTarget } from './harness.ts';
import type { Rng } from './rng.ts';
import { canonicalProblem, mutateN } from './wire.ts';

// ------------------------------------------------------------------ frames

const FRAME_ERRORS = ['p2p/malformed', 'p2p/too_large'];
const WIRE_CODES = [
  'p2p/limit_exceeded',
  'p2p/bad_request',
  'p2p/server_error',
  'x/y',
  'P2P/Upper',
  'p2p/',
  '',
  'a'.repeat(30) + '/b',
];

function concatAll(parts: Uint8Array[]): Uint8Array {
  return Uint8Array.from(parts.flatMap((p) => [...p]));
}

/**
 * Frame parsing (src/p2p/frames.ts): a stream of frames, whole or mutated, fed to `FrameDecoder` in
 * random chunks, every frame taken out parsed as a response frame. Only p2p/malformed and
 * p2p/too_large; an untouched stream gives back exactly its payloads; whatever is accepted was
 * written in minimal form (re-encoding it gives the bytes consumed).
 */
export function framesTarget(): FuzzTarget {
  return {
    name: 'frames',
    weight: 0.1,
    async open() {
      return {
        async close() {},
        async one(rng, slot) {
          if (rng.chance(0.05)) {
            const n = rng.pick([-1, 0.5, 2 ** 32, 2 ** 32 - 1, 2 ** 53, Number.NaN, rng.next(), rng.int(300)]);
            const r = guard(FRAME_ERRORS, 'encodeVarint', () => encodeVarint(n));
            return r.ok ? 'varint' : `varint:${r.code}`;
          }
          const payloads = Array.from({ length: rng.range(1, 4) }, () => {
            const k = rng.int(3);
            return k === 0
              ? encodeResponseChunk(rng.bytes(rng.length(300)))
              : k === 1
                ? encodeResponseError(rng.pick(WIRE_CODES))
                : encodeFrame(rng.bytes(rng.length(40)));
          });
          const clean = concatAll(payloads);
          const mutated = rng.chance(0.7);
          const stream = mutated
            ? rng.chance(0.85)
              ? mutateN(rng, clean, rng.bytes(8)).bytes
              : rng.bytes(rng.length(64))
            : clean;
          slot.input = stream;
          const max = rng.pick([0, 16, 300, 1 << 20, 1 << 20, 1 << 20]);
          const decoder = new FrameDecoder(max);
          const frames: Uint8Array[] = [];
          let at = 0;
          let failure: string | undefined;
          while (at < stream.length && failure === undefined) {
            const step = rng.range(1, 64);
            decoder.push(stream.subarray(at, at + step));
            at += step;
            for (;;) {
              const r = guard(FRAME_ERRORS, 'FrameDecoder.next', () => decoder.next());
              if (!r.ok) {
                failure = r.code;
                break;
              }
              if (!r.value) break;
              frames.push(r.value);
            }
          }
          const consumed = concatAll(frames.map((f) => encodeFrame(f)));
          if (!bytesEqual(consumed, stream.subarray(0, consumed.length))) {
            throw new Finding('non_canonical_accept', 'frames taken out do not re-encode to the bytes consumed');
          }
          if (!mutated && failure === undefined) {
            if (frames.length !== payloads.length)
              throw new Finding('round_trip', `${payloads.length} frames written, ${frames.length} read`);
            for (const [i, f] of frames.entries()) {
              const written = payloads[i]!;
              if (!bytesEqual(encodeFrame(f), written))
                throw new Finding('round_trip', `frame ${i} read back differently`);
            }
          }
          for (const f of frames) {
            const parsed = guard(FRAME_ERRORS, 'parseResponseFrame', () => parseResponseFrame(f));
            if (!parsed.ok) continue;
            const again =
              parsed.value.kind === 'chunk'
                ? encodeResponseChunk(parsed.value.payload)
                : encodeResponseError(parsed.value.code);
            if (!bytesEqual(again, encodeFrame(f)))
              throw new Finding(
                'non_canonical_accept',
                `response frame ${parsed.value.kind} does not re-encode to itself`,
              );
          }
          return failure ?? (mutated ? 'mutated:accepted' : 'accepted');
        },
      };
    },
  };
}

// ------------------------------------------------------------------ sync

/**
 * The network as sync.ts sees it, played by the fuzzer: `handle` keeps the handlers serveSync
 * registers (the fuzzer then sends them requests), and `request` answers a SyncClient with the
 * responses the fuzzer prepared. Everything above the interface is the real sync code.
 */
class ScriptedNetwork implements P2pNetwork {
  readonly peerId = 'fuzz-peer';
  readonly handlers = new Map<string, { handler: RequestHandler; limits: HandlerLimits }>();
  answer: () => Uint8Array[] = () => [];
  async start(): Promise<void> {}
  async stop(): Promise<void> {}
  listenAddresses(): string[] {
    return [];
  }
  peers(): string[] {
    return [];
  }
  async publish(): Promise<void> {}
  onGossip(): void {}
  async handle(protocol: string, handler: RequestHandler, limits: HandlerLimits): Promise<void> {
    this.handlers.set(protocol, { handler, limits });
  }
  async request(): Promise<Uint8Array[]> {
    return this.answer();
  }
  onPeer(): void {}
  async disconnect(): Promise<void> {}
  peerScore(): number {
    return 0;
  }
}

const SERVER_ERRORS = ['p2p/bad_request', 'p2p/limit_exceeded', 'p2p/wrong_chain'];
const CLIENT_ERRORS = ['p2p/'];
const REMOTE_CODES = [
  'p2p/bad_request',
  'p2p/limit_exceeded',
  'p2p/wrong_chain',
  'p2p/too_large',
  'p2p/malformed',
  'p2p/server_error',
  'tx/malformed',
  'x',
];

async function drain(out: AsyncIterable<Uint8Array> | Promise<Uint8Array[]>, max: number): Promise<Uint8Array[]> {
  if (out instanceof Promise) return out;
  const got: Uint8Array[] = [];
  for await (const r of out) {
    got.push(r);
    if (got.length >= max) break;
  }
  return got;
}

/**
 * Sync message decoding (src/p2p/sync.ts), both ways. As server: status and blocks-by-range
 * requests, generated and mutated, refused only with p2p/bad_request, p2p/limit_exceeded or
 * p2p/wrong_chain, and accepted only when canonical. As client: status and block responses (real
 * blocks of a chain, mutated at the pair, block or commit level), refused only with p2p/* codes;
 * every block handed on decodes canonically at the height asked for.
 */
export function syncTarget(): FuzzTarget {
  return {
    name: 'sync',
    weight: 0.1,
    async open() {
      const fx = await fixtureChain();
      const status = (): Status => ({
        chain_id: fx.genesis.chainId,
        genesis_hash: genesisHash(fx.genesis),
        height: fx.chain.latestHeight,
        head_hash: fx.chain.blocks.latestBlock!.hash,
      });
      const source = {
        status,
        getBlock: async (h: number) => (await fx.chain.blocks.getBlock(h))?.block,
        getCommit: (h: number) => fx.chain.blocks.getCommit(h),
      };
      const net = new ScriptedNetwork();
      const limits = { maxBlocksPerRequest: 8 };
      await serveSync(net, source, limits);
      const protocols = syncProtocols(fx.genesis.chainId);
      const client = new SyncClient(net, { status }, limits);
      const pairs: Uint8Array[] = [];
      for (let h = 1; h <= fx.chain.latestHeight; h++) {
        pairs.push(
          BlockWithCommitCodec.encode({
            block: BlockCodec.encode((await source.getBlock(h))!),
            commit: CommitCodec.encode((await source.getCommit(h))!),
          }),
        );
      }
      const ours = StatusCodec.encode(status());

      const serve = async (rng: Rng, slot: { input: Uint8Array | string | undefined }): Promise<string> => {
        const asStatus = rng.bool();
        const { handler, limits: hl } = net.handlers.get(asStatus ? protocols.status : protocols.blocksByRange)!;
        const base = asStatus
          ? rng.chance(0.7)
            ? ours
            : StatusCodec.encode({
                ...status(),
                chain_id: rng.pick(['', 'other', fx.genesis.chainId]),
                height: rng.safeInt(),
              })
          : BlocksByRangeRequestCodec.encode({
              start_height: rng.pick([0, 1, 2, rng.int(10), rng.safeInt()]),
              count: rng.pick([0, 1, 4, 8, 9, rng.safeInt()]),
            });
        const request = rng.chance(0.6) ? mutateN(rng, base, rng.chance(0.5) ? ours : rng.bytes(8)).bytes : base;
        slot.input = request;
        const r = await guardAsync(SERVER_ERRORS, asStatus ? 'status handler' : 'blocks handler', () =>
          drain(handler(request, 'fuzz-peer'), hl.maxResponses),
        );
        if (!r.ok) return `serve:${r.code}`;
        const problem = canonicalProblem((asStatus ? StatusCodec : BlocksByRangeRequestCodec).plan, request);
        if (problem) throw new Finding('non_canonical_accept', `sync server accepted a request with ${problem}`);
        for (const bytes of r.value) {
          if (asStatus) StatusCodec.decode(bytes);
          else BlockCodec.decode(BlockWithCommitCodec.decode(bytes).block);
        }
        return asStatus ? 'serve:status' : 'serve:blocks';
      };

      const ask = async (rng: Rng, slot: { input: Uint8Array | string | undefined }): Promise<string> => {
        if (rng.chance(0.1)) {
          const remoteCode = rng.pick(REMOTE_CODES);
          net.answer = () => {
            throw new TributaryError('p2p/remote_error', 'refused', { remoteCode });
          };
          const r = await guardAsync(
            CLIENT_ERRORS,
            'SyncClient',
            (): Promise<unknown> =>
              rng.bool() ? client.requestStatus('fuzz-peer') : client.requestBlocks('fuzz-peer', 1, 2),
          );
          return r.ok ? 'ask:remote_accepted' : `ask:remote:${r.code}`;
        }
        if (rng.chance(0.3)) {
          const responses = Array.from({ length: rng.pick([1, 1, 1, 0, 2]) }, () =>
            rng.chance(0.7) ? mutateN(rng, ours, pairs[0]!).bytes : ours,
          );
          slot.input = concatAll(responses);
          net.answer = () => responses;
          const r = await guardAsync(CLIENT_ERRORS, 'requestStatus', () => client.requestStatus('fuzz-peer'));
          if (r.ok && responses.length === 1) {
            const problem = canonicalProblem(StatusCodec.plan, responses[0]!);
            if (problem) throw new Finding('non_canonical_accept', `requestStatus accepted ${problem}`);
          }
          return r.ok ? 'ask:status' : `ask:status:${r.code}`;
        }
        const start = rng.chance(0.9) ? rng.range(1, pairs.length) : rng.pick([0, -1, 1.5, 2 ** 60]);
        const count = rng.chance(0.9) ? rng.range(1, 8) : rng.pick([0, 9, 100]);
        const responses = pairs.slice(
          Math.max(0, start - 1),
          Math.max(0, start - 1) + (Number.isSafeInteger(count) ? count : 1),
        );
        if (rng.chance(0.8) && responses.length > 0) {
          const i = rng.int(responses.length);
          const pair = BlockWithCommitCodec.decode(responses[i]!);
          const level = rng.int(3);
          const other = pairs[rng.int(pairs.length)]!;
          responses[i] =
            level === 0
              ? mutateN(rng, responses[i]!, other).bytes
              : BlockWithCommitCodec.encode(
                  level === 1
                    ? { ...pair, block: mutateN(rng, pair.block, other).bytes }
                    : { ...pair, commit: mutateN(rng, pair.commit, other).bytes },
                );
          if (rng.chance(0.1)) responses.reverse();
        }
        slot.input = concatAll(responses);
        net.answer = () => responses;
        const r = await guardAsync(CLIENT_ERRORS, 'requestBlocks', () =>
          client.requestBlocks('fuzz-peer', start, count),
        );
        if (!r.ok) return `ask:blocks:${r.code}`;
        for (const [i, bytes] of responses.entries()) {
          const pair = BlockWithCommitCodec.decode(bytes);
          const problem =
            canonicalProblem(BlockWithCommitCodec.plan, bytes) ??
            canonicalProblem(BlockCodec.plan, pair.block) ??
            canonicalProblem(CommitCodec.plan, pair.commit);
          if (problem) throw new Finding('non_canonical_accept', `requestBlocks accepted ${problem}`);
          if (r.value[i]!.block.header!.height !== start + i)
            throw new Finding('accepted_malformed', 'requestBlocks handed on a block at the wrong height');
        }
        return 'ask:blocks';
      };

      return {
        async close() {},
        one: (rng, slot) => (rng.bool() ? serve(rng, slot) : ask(rng, slot)),
      };
    },
  };
}
