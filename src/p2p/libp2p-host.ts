import { noise } from '@chainsafe/libp2p-noise';
import { yamux } from '@chainsafe/libp2p-yamux';
import {
  gossipsub,
  StrictNoSign,
  TopicValidatorResult,
  type GossipSub,
  type GossipsubMessage,
} from '@libp2p/gossipsub';
import type { PeerScoreParams, PeerScoreThresholds, TopicScoreParams } from '@libp2p/gossipsub/score';
import { identify } from '@libp2p/identify';
import type { Connection, PeerId, PrivateKey, Stream, StreamCloseEvent, StreamMessageEvent } from '@libp2p/interface';
import { peerIdFromString } from '@libp2p/peer-id';
import { ping } from '@libp2p/ping';
import { tcp } from '@libp2p/tcp';
import { multiaddr, type Multiaddr } from '@multiformats/multiaddr';
import { createLibp2p, type Libp2p } from 'libp2p';
import type { Logger } from 'pino';
import { sha256, toHex, utf8 } from '../crypto/hash.ts';
import { TributaryError, isTributaryError } from '../errors.ts';
import { FrameDecoder, encodeFrame, encodeResponseChunk, encodeResponseError, parseResponseFrame } from './frames.ts';
import {
  GOSSIP_TOPICS,
  gossipTopicName,
  type GossipDeliver,
  type GossipTopic,
  type GossipValidator,
  type GossipVerdict,
  type HandlerLimits,
  type P2pNetwork,
  type PeerEvent,
  type RequestHandler,
  type RequestOptions,
} from './network.ts';

/*
 * The one file that knows libp2p and gossipsub. Everything above it sees `P2pNetwork`.
 */

export interface P2pHostOptions {
  chainId: string;
  /** The node's libp2p identity (`loadOrCreateP2pKey`). */
  privateKey: PrivateKey;
  /** Multiaddrs to listen on, e.g. "/ip4/0.0.0.0/tcp/26656"; port 0 picks a free one. */
  listen: string[];
  /** Addresses to advertise instead of the listen addresses (behind NAT); empty = the listen addresses. */
  announce: string[];
  /** Peers to keep connected to, each "/ip4/…/tcp/…/p2p/<peerId>": redialled with backoff while down. */
  bootstrap: string[];
  /**
   * Multiaddrs (optionally with /ipcidr/N) exempt from the inbound connection limits and the
   * same-IP gossip penalty. Every loopback peer is one host to libp2p, whose default limit is 5
   * inbound connections per host per second: devnets and tests list "/ip4/127.0.0.1/ipcidr/8".
   */
  allow: string[];
  maxConnections: number;
  /** Gossip messages above this are refused on publish and rejected on receipt. */
  maxGossipBytes: number;
  heartbeatMs: number;
  dialTimeoutMs: number;
  redialInitialMs: number;
  redialMaxMs: number;
  /** How long a peer whose score fell below the graylist threshold stays disconnected and refused. */
  banMs: number;
  /** Gossip messages waiting for their validator at once; more are ignored (not penalised). */
  maxPendingValidations: number;
  logger?: Logger;
}

export const DEFAULT_P2P_HOST_OPTIONS: Omit<P2pHostOptions, 'chainId' | 'privateKey'> = {
  listen: ['/ip4/0.0.0.0/tcp/26656'],
  announce: [],
  bootstrap: [],
  allow: [],
  maxConnections: 64,
  maxGossipBytes: 1024 * 1024,
  heartbeatMs: 700,
  dialTimeoutMs: 5_000,
  redialInitialMs: 1_000,
  redialMaxMs: 30_000,
  banMs: 10 * 60_000,
  maxPendingValidations: 4096,
};

/**
 * Gossipsub drops a whole RPC frame above `maxInboundDataLength` and with it the sender's
 * stream, and libp2p's default for that is 4 MiB. Our own limit sits below it by a margin for the
 * frame's own fields and piggybacked control messages, so a message just over our limit is still
 * decoded and rejected (scored) rather than killing the stream.
 */
const RPC_FRAME_MARGIN = 64 * 1024;
const LIBP2P_FRAME_LIMIT = 4 * 1024 * 1024;

export const GOSSIP_SCORE_THRESHOLDS: PeerScoreThresholds = {
  gossipThreshold: -10,
  publishThreshold: -50,
  graylistThreshold: -80,
  acceptPXThreshold: 100,
  opportunisticGraftThreshold: 2,
};

/**
 * Per topic: a little credit for time in the mesh and for first deliveries (capped, so it never
 * outweighs misbehaviour), a squared penalty for invalid messages (P4: 1 rejected message costs
 * 10, 3 cost 90, past the graylist threshold), which decays slowly (half-life ~2 min). Mesh
 * delivery-rate penalties (P3, P3b) are off: transactions can be quiet for minutes, and an honest
 * peer would be punished for a silent topic.
 */
function topicScoreParams(): TopicScoreParams {
  return {
    topicWeight: 1,
    timeInMeshWeight: 0.01,
    timeInMeshQuantum: 1000,
    timeInMeshCap: 300,
    firstMessageDeliveriesWeight: 0.5,
    firstMessageDeliveriesDecay: 0.9,
    firstMessageDeliveriesCap: 20,
    meshMessageDeliveriesWeight: 0,
    meshMessageDeliveriesDecay: 0.5,
    meshMessageDeliveriesCap: 1,
    meshMessageDeliveriesThreshold: 1,
    meshMessageDeliveriesWindow: 10,
    meshMessageDeliveriesActivation: 5000,
    meshFailurePenaltyWeight: 0,
    meshFailurePenaltyDecay: 0.5,
    invalidMessageDeliveriesWeight: -10,
    invalidMessageDeliveriesDecay: 0.995,
  };
}

function scoreParams(topicNames: string[], exemptIps: Set<string>): Partial<PeerScoreParams> {
  const topics: Record<string, TopicScoreParams> = {};
  for (const name of topicNames) topics[name] = topicScoreParams();
  return {
    topics,
    topicScoreCap: 20,
    appSpecificScore: () => 0,
    appSpecificWeight: 1,
    IPColocationFactorWeight: -5,
    IPColocationFactorThreshold: 10,
    IPColocationFactorWhitelist: exemptIps,
    behaviourPenaltyWeight: -10,
    behaviourPenaltyThreshold: 6,
    behaviourPenaltyDecay: 0.9,
    decayInterval: 1000,
    decayToZero: 0.01,
    retainScore: 10 * 60_000,
  };
}

/** The one place our verdicts become gossipsub's. */
function toTopicValidatorResult(verdict: GossipVerdict): TopicValidatorResult {
  switch (verdict) {
    case 'accept':
      return TopicValidatorResult.Accept;
    case 'reject':
      return TopicValidatorResult.Reject;
    default:
      return TopicValidatorResult.Ignore;
  }
}

/** Message id: sha256 over the topic name and the data, so equal bytes on two topics are two messages. */
function messageId(topic: string, data: Uint8Array): Uint8Array {
  return sha256(utf8.encode(topic), new Uint8Array([0]), data);
}

/**
 * What asynchronous validation needs of the router. The public `GossipSub` type of
 * @libp2p/gossipsub 17 leaves these out, though the object the factory returns has them.
 */
interface GossipRouter extends GossipSub {
  getScore(peerId: string): number;
  reportMessageValidationResult(msgId: string, propagationSource: string, acceptance: TopicValidatorResult): void;
}

type Services = {
  identify: ReturnType<ReturnType<typeof identify>>;
  ping: ReturnType<ReturnType<typeof ping>>;
  pubsub: GossipSub;
};

function invalidConfig(message: string): TributaryError {
  return new TributaryError('p2p/invalid_config', message);
}

function parseAddress(text: string, what: string): Multiaddr {
  try {
    return multiaddr(text);
  } catch (e) {
    throw invalidConfig(`${what} "${text}" is not a multiaddr: ${(e as Error).message}`);
  }
}

function parsePeer(peer: string): PeerId {
  try {
    return peerIdFromString(peer);
  } catch {
    throw new TributaryError('p2p/invalid_peer', `"${peer}" is not a peer id`);
  }
}

interface BootstrapTarget {
  address: Multiaddr;
  peer: string;
  delayMs: number;
  timer: NodeJS.Timeout | undefined;
}

interface TopicHandler {
  validate: GossipValidator;
  deliver: GossipDeliver;
}

/** Peers disconnected for their gossip score, refused until their time is up (wall clock: not consensus). */
class BanList {
  private readonly until = new Map<string, number>();

  ban(peer: string, ms: number): void {
    this.until.set(peer, Date.now() + ms);
  }

  has(peer: string): boolean {
    const until = this.until.get(peer);
    if (until === undefined) return false;
    if (Date.now() < until) return true;
    this.until.delete(peer);
    return false;
  }
}

export async function createP2pHost(
  options: Partial<P2pHostOptions> & Pick<P2pHostOptions, 'chainId' | 'privateKey'>,
): Promise<P2pNetwork> {
  const opts: P2pHostOptions = { ...DEFAULT_P2P_HOST_OPTIONS, ...options };
  if (!(opts.maxGossipBytes > 0 && opts.maxGossipBytes + RPC_FRAME_MARGIN <= LIBP2P_FRAME_LIMIT)) {
    throw invalidConfig(`maxGossipBytes must be between 1 and ${LIBP2P_FRAME_LIMIT - RPC_FRAME_MARGIN}`);
  }
  for (const a of [...opts.listen, ...opts.announce]) parseAddress(a, 'listen/announce address');
  const exemptIps = new Set<string>();
  for (const a of opts.allow) {
    const host = parseAddress(a, 'allow-list entry').getComponents()[0];
    if (!host || (host.name !== 'ip4' && host.name !== 'ip6') || !host.value)
      throw invalidConfig(`allow-list entry "${a}" must start with /ip4 or /ip6`);
    exemptIps.add(host.value);
  }
  const bootstrap: BootstrapTarget[] = [];
  for (const text of opts.bootstrap) {
    const address = parseAddress(text, 'bootstrap address');
    const peer = address.getComponents().find((c) => c.name === 'p2p')?.value;
    if (!peer) throw invalidConfig(`bootstrap address "${text}" must end with /p2p/<peerId>`);
    parsePeer(peer);
    bootstrap.push({ address, peer, delayMs: opts.redialInitialMs, timer: undefined });
  }
  const topicNames = GOSSIP_TOPICS.map((t) => gossipTopicName(opts.chainId, t));
  const bans = new BanList();
  const isBanned = (peerId: PeerId): boolean => bans.has(peerId.toString());
  const node = await createLibp2p({
    start: false,
    privateKey: opts.privateKey,
    addresses: { listen: opts.listen, announce: opts.announce },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    connectionManager: {
      maxConnections: opts.maxConnections,
      allow: opts.allow,
      dialTimeout: opts.dialTimeoutMs,
    },
    connectionGater: {
      denyDialPeer: isBanned,
      denyInboundEncryptedConnection: isBanned,
      denyOutboundEncryptedConnection: isBanned,
    },
    services: {
      identify: identify(),
      ping: ping(),
      pubsub: gossipsub({
        globalSignaturePolicy: StrictNoSign,
        asyncValidation: true,
        msgIdFn: (msg) => messageId(msg.topic, msg.data),
        msgIdToStrFn: toHex,
        allowedTopics: topicNames,
        allowPublishToZeroTopicPeers: true,
        ignoreDuplicatePublishError: true,
        emitSelf: false,
        floodPublish: true,
        doPX: false,
        heartbeatInterval: opts.heartbeatMs,
        maxInboundDataLength: opts.maxGossipBytes + RPC_FRAME_MARGIN,
        scoreParams: scoreParams(topicNames, exemptIps),
        scoreThresholds: GOSSIP_SCORE_THRESHOLDS,
      }),
    },
  });
  // A shared devnet list names this node too.
  const others = bootstrap.filter((t) => t.peer !== node.peerId.toString());
  return new Libp2pHost(opts, node, bans, others);
}

class Libp2pHost implements P2pNetwork {
  readonly peerId: string;
  private readonly opts: P2pHostOptions;
  private readonly node: Libp2p<Services>;
  private readonly router: GossipRouter;
  private readonly bans: BanList;
  private readonly bootstrap: BootstrapTarget[];
  private readonly topicNames = new Map<string, GossipTopic>();
  private readonly handlers = new Map<GossipTopic, TopicHandler>();
  private readonly peerListeners: ((peer: string, event: PeerEvent) => void)[] = [];
  private started = false;
  private pendingValidations = 0;

  constructor(opts: P2pHostOptions, node: Libp2p<Services>, bans: BanList, bootstrap: BootstrapTarget[]) {
    this.opts = opts;
    this.node = node;
    this.router = node.services.pubsub as GossipRouter;
    this.bans = bans;
    this.bootstrap = bootstrap;
    this.peerId = node.peerId.toString();
    for (const topic of GOSSIP_TOPICS) this.topicNames.set(gossipTopicName(opts.chainId, topic), topic);
    this.node.addEventListener('peer:connect', (evt) => this.emitPeer(evt.detail.toString(), 'connect'));
    this.node.addEventListener('peer:disconnect', (evt) => {
      const peer = evt.detail.toString();
      this.emitPeer(peer, 'disconnect');
      const target = this.bootstrap.find((t) => t.peer === peer);
      if (target && this.started) this.scheduleDial(target, target.delayMs);
    });
    this.router.addEventListener('gossipsub:message', (evt) => this.onGossipMessage(evt.detail));
    this.router.addEventListener('gossipsub:heartbeat', () => this.dropGraylisted());
  }

  async start(): Promise<void> {
    if (this.started) return;
    try {
      await this.node.start();
    } catch (e) {
      // A listen address in use fails the start part way: stop what did start, so that no timer
      // or socket of it outlives the failed start.
      await Promise.resolve(this.node.stop()).catch(() => undefined);
      throw new TributaryError(
        'p2p/listen_failed',
        `cannot listen for peers on ${this.opts.listen.join(', ')}: ${(e as Error).message}`,
      );
    }
    this.started = true;
    for (const topic of this.handlers.keys()) this.router.subscribe(gossipTopicName(this.opts.chainId, topic));
    for (const target of this.bootstrap) this.scheduleDial(target, 0);
  }

  async stop(): Promise<void> {
    if (!this.started) return;
    this.started = false;
    for (const target of this.bootstrap) clearTimeout(target.timer);
    await this.node.stop();
  }

  listenAddresses(): string[] {
    return this.node.getMultiaddrs().map(String).sort();
  }

  peers(): string[] {
    return this.node.getPeers().map(String).sort();
  }

  peerScore(peer: string): number {
    return this.router.getScore(peer);
  }

  async disconnect(peer: string): Promise<void> {
    await this.node.hangUp(parsePeer(peer));
  }

  onPeer(listener: (peer: string, event: PeerEvent) => void): void {
    this.peerListeners.push(listener);
  }

  private emitPeer(peer: string, event: PeerEvent): void {
    for (const listener of this.peerListeners) {
      try {
        listener(peer, event);
      } catch (e) {
        this.opts.logger?.error({ err: e, peer, event }, 'p2p: peer listener threw');
      }
    }
  }

  // ---- gossip ----

  onGossip(topic: GossipTopic, validate: GossipValidator, deliver: GossipDeliver): void {
    if (!GOSSIP_TOPICS.includes(topic)) throw invalidConfig(`unknown gossip topic "${topic}"`);
    if (this.handlers.has(topic)) throw invalidConfig(`gossip topic "${topic}" already has a handler`);
    this.handlers.set(topic, { validate, deliver });
    if (this.started) this.router.subscribe(gossipTopicName(this.opts.chainId, topic));
  }

  async publish(topic: GossipTopic, data: Uint8Array): Promise<void> {
    if (!this.started) throw new TributaryError('p2p/not_started', 'the p2p host is not started');
    if (data.length > this.opts.maxGossipBytes) {
      throw new TributaryError(
        'p2p/too_large',
        `gossip message of ${data.length} bytes exceeds the limit of ${this.opts.maxGossipBytes}`,
      );
    }
    try {
      await this.router.publish(gossipTopicName(this.opts.chainId, topic), data);
    } catch (e) {
      throw new TributaryError('p2p/publish_failed', `publish on ${topic} failed: ${(e as Error).message}`);
    }
  }

  private onGossipMessage({ msgId, propagationSource, msg }: GossipsubMessage): void {
    const from = propagationSource.toString();
    const topic = this.topicNames.get(msg.topic);
    const handler = topic === undefined ? undefined : this.handlers.get(topic);
    const report = (verdict: GossipVerdict): void =>
      this.router.reportMessageValidationResult(msgId, from, toTopicValidatorResult(verdict));
    if (!handler) {
      report('ignore');
      return;
    }
    if (msg.data.length > this.opts.maxGossipBytes) {
      report('reject');
      return;
    }
    if (this.pendingValidations >= this.opts.maxPendingValidations) {
      report('ignore');
      return;
    }
    this.pendingValidations++;
    const data = msg.data;
    // Through a resolved promise, so a validator that throws synchronously is caught the same way.
    Promise.resolve()
      .then(() => handler.validate(data, from))
      .catch((e: unknown): GossipVerdict => {
        this.opts.logger?.warn({ err: e, topic }, 'p2p: gossip validator threw; message ignored');
        return 'ignore';
      })
      .then((verdict) => {
        this.pendingValidations--;
        if (!this.started) return;
        report(verdict);
        if (verdict !== 'accept') return;
        handler.deliver(data, from);
      })
      .catch((e: unknown) => this.opts.logger?.error({ err: e, topic }, 'p2p: gossip consumer threw'));
  }

  /** Gossipsub only stops listening to a graylisted peer; we also drop it and refuse it for `banMs`. */
  private dropGraylisted(): void {
    for (const peerId of this.node.getPeers()) {
      const peer = peerId.toString();
      const score = this.router.getScore(peer);
      if (score >= GOSSIP_SCORE_THRESHOLDS.graylistThreshold) continue;
      this.bans.ban(peer, this.opts.banMs);
      this.opts.logger?.warn({ peer, score }, 'p2p: peer score below the graylist threshold; disconnecting');
      this.node.hangUp(peerId).catch(() => undefined);
    }
  }

  // ---- bootstrap ----

  private scheduleDial(target: BootstrapTarget, delayMs: number): void {
    clearTimeout(target.timer);
    target.timer = setTimeout(() => void this.dialBootstrap(target), delayMs);
    target.timer.unref();
  }

  private async dialBootstrap(target: BootstrapTarget): Promise<void> {
    target.timer = undefined;
    if (!this.started || this.node.getConnections(peerIdFromString(target.peer)).length > 0) return;
    try {
      await this.node.dial(target.address, { signal: AbortSignal.timeout(this.opts.dialTimeoutMs) });
      target.delayMs = this.opts.redialInitialMs;
    } catch (e) {
      if (!this.started) return;
      const delay = target.delayMs;
      target.delayMs = Math.min(delay * 2, this.opts.redialMaxMs);
      this.opts.logger?.debug(
        { peer: target.peer, err: (e as Error).message, retryMs: delay },
        'p2p: bootstrap dial failed',
      );
      this.scheduleDial(target, delay);
    }
  }

  // ---- request / response ----

  async handle(protocol: string, handler: RequestHandler, limits: HandlerLimits): Promise<void> {
    await this.node.handle(protocol, (stream, connection) => this.serve(stream, connection, handler, limits), {
      maxInboundStreams: limits.maxConcurrent,
    });
  }

  private async serve(
    stream: Stream,
    connection: Connection,
    handler: RequestHandler,
    limits: HandlerLimits,
  ): Promise<void> {
    const from = connection.remotePeer.toString();
    const signal = AbortSignal.timeout(limits.timeoutMs);
    const onTimeout = (): void => stream.abort(new TributaryError('p2p/timeout', 'request took too long'));
    signal.addEventListener('abort', onTimeout, { once: true });
    const reader = new StreamFrames(stream, limits.maxRequestBytes);
    try {
      let request: Uint8Array | undefined;
      try {
        request = await reader.next();
        if (request === undefined) throw new TributaryError('p2p/malformed', 'stream closed before a request');
      } catch (e) {
        await this.sendError(stream, isTributaryError(e) ? e.code : 'p2p/malformed');
        return;
      }
      // One request per stream: whatever else the client sends is dropped unread.
      reader.detach();
      await stream.closeRead().catch(() => undefined);
      let count = 0;
      let bytes = 0;
      try {
        for await (const response of iterate(handler(request, from))) {
          if (count >= limits.maxResponses || bytes + response.length > limits.maxResponseBytes) break;
          await sendFrame(stream, encodeResponseChunk(response), signal);
          count++;
          bytes += response.length;
        }
      } catch (e) {
        if (signal.aborted || stream.status !== 'open') return;
        if (!isTributaryError(e))
          this.opts.logger?.error({ err: e, protocol: stream.protocol }, 'p2p: request handler threw');
        await this.sendError(stream, isTributaryError(e) ? e.code : 'p2p/server_error');
        return;
      }
      await stream.close({ signal });
    } catch (e) {
      stream.abort(e as Error);
    } finally {
      signal.removeEventListener('abort', onTimeout);
      reader.detach();
    }
  }

  private async sendError(stream: Stream, code: string): Promise<void> {
    try {
      stream.send(encodeResponseError(code));
      await stream.close({ signal: AbortSignal.timeout(1000) });
    } catch (e) {
      stream.abort(e as Error);
    }
  }

  async request(peer: string, protocol: string, request: Uint8Array, opts: RequestOptions): Promise<Uint8Array[]> {
    if (!this.started) throw new TributaryError('p2p/not_started', 'the p2p host is not started');
    const peerId = parsePeer(peer);
    const signal = AbortSignal.timeout(opts.timeoutMs);
    let stream: Stream;
    try {
      stream = await this.node.dialProtocol(peerId, protocol, { signal });
    } catch (e) {
      if (signal.aborted) throw new TributaryError('p2p/timeout', `no stream to ${peer} within ${opts.timeoutMs} ms`);
      if ((e as Error).name === 'UnsupportedProtocolError') {
        throw new TributaryError('p2p/unsupported_protocol', `${peer} does not serve ${protocol}`);
      }
      throw new TributaryError('p2p/unreachable', `cannot reach ${peer}: ${(e as Error).message}`);
    }
    // The response may be one kind byte longer than the payload budget.
    const reader = new StreamFrames(stream, opts.maxBytes + 1);
    const onTimeout = (): void => stream.abort(new TributaryError('p2p/timeout', 'request timed out'));
    signal.addEventListener('abort', onTimeout, { once: true });
    try {
      await sendFrame(stream, encodeFrame(request), signal);
      await stream.close({ signal });
      const responses: Uint8Array[] = [];
      let bytes = 0;
      for (;;) {
        reader.maxFrameBytes = opts.maxBytes - bytes + 1;
        const frame = await reader.next();
        if (frame === undefined) return responses;
        const parsed = parseResponseFrame(frame);
        if (parsed.kind === 'error') {
          throw new TributaryError('p2p/remote_error', `${peer} answered ${protocol} with ${parsed.code}`, {
            remoteCode: parsed.code,
          });
        }
        if (responses.length >= opts.maxResponses) {
          throw new TributaryError('p2p/too_many_responses', `${peer} sent more than ${opts.maxResponses} responses`);
        }
        bytes += parsed.payload.length;
        responses.push(parsed.payload);
      }
    } catch (e) {
      stream.abort(e as Error);
      if (signal.aborted)
        throw new TributaryError('p2p/timeout', `${protocol} to ${peer} timed out after ${opts.timeoutMs} ms`);
      if (isTributaryError(e)) throw e;
      throw new TributaryError('p2p/stream_reset', `${protocol} to ${peer} failed: ${(e as Error).message}`);
    } finally {
      signal.removeEventListener('abort', onTimeout);
      reader.detach();
    }
  }
}

async function* iterate(responses: AsyncIterable<Uint8Array> | Promise<Uint8Array[]>): AsyncIterable<Uint8Array> {
  if (responses instanceof Promise) yield* await responses;
  else yield* responses;
}

async function sendFrame(stream: Stream, frame: Uint8Array, signal: AbortSignal): Promise<void> {
  if (!stream.send(frame)) await stream.onDrain({ signal });
}

/**
 * Frames read from a libp2p 3 stream. Streams are event targets now: data arrives as 'message'
 * events, and data nobody listens for piles up until the stream is reset. So the listeners go on
 * as soon as the stream exists, and `detach` takes them off again.
 */
class StreamFrames {
  private readonly stream: Stream;
  private readonly decoder: FrameDecoder;
  private ended: boolean;
  private failure: Error | undefined;
  private wake: (() => void) | undefined;

  constructor(stream: Stream, maxFrameBytes: number) {
    this.stream = stream;
    this.decoder = new FrameDecoder(maxFrameBytes);
    this.ended = stream.readableEnded;
    stream.addEventListener('message', this.onMessage);
    stream.addEventListener('end', this.onEnd);
    stream.addEventListener('close', this.onClose);
  }

  set maxFrameBytes(n: number) {
    this.decoder.maxFrameBytes = n;
  }

  /** The next frame, or undefined once the remote has closed its side after whole frames. */
  async next(): Promise<Uint8Array | undefined> {
    for (;;) {
      const frame = this.decoder.next();
      if (frame) return frame;
      if (this.failure) throw this.failure;
      if (this.ended) {
        if (this.decoder.bufferedBytes > 0) throw new TributaryError('p2p/malformed', 'stream ended inside a frame');
        return undefined;
      }
      await new Promise<void>((resolve) => (this.wake = resolve));
    }
  }

  detach(): void {
    this.stream.removeEventListener('message', this.onMessage);
    this.stream.removeEventListener('end', this.onEnd);
    this.stream.removeEventListener('close', this.onClose);
  }

  private notify(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }

  private readonly onMessage = (evt: StreamMessageEvent): void => {
    this.decoder.push(evt.data.subarray());
    this.notify();
  };

  private readonly onEnd = (): void => {
    this.ended = true;
    this.notify();
  };

  private readonly onClose = (evt: StreamCloseEvent): void => {
    if (evt.error)
      this.failure ??= isTributaryError(evt.error)
        ? evt.error
        : new TributaryError('p2p/stream_reset', `stream closed: ${evt.error.message}`);
    this.ended = true;
    this.notify();
  };
}
