import { generateKeyPair } from '@libp2p/crypto/keys';
import { randomBytes } from 'node:crypto';
import { VoteCodec } from '../../src/codec/core.ts';
import { VoteType, voteSignBytes } from '../../src/codec/protocol.ts';
import { ProposalMessageCodec, VoteMessageCodec } from '../../src/consensus/messages.ts';
import { addressFromPublicKey } from '../../src/crypto/address.ts';
import type { SigningKey } from '../../src/crypto/ed25519.ts';
import { createP2pHost } from '../../src/p2p/libp2p-host.ts';
import { GOSSIP_TOPICS, type P2pNetwork } from '../../src/p2p/network.ts';
import type { Genesis } from '../../src/genesis.ts';
import { LOOPBACK, sleep, startInProcessNode, waitFor, type InProcessNode } from './bft-network.ts';

/*
 * A Byzantine validator for tests: a member of the validator set (its key is in genesis) that runs
 * no engine and no signer, only a libp2p host, and publishes whatever a test tells it to:
 * conflicting votes, garbage, oversized messages, votes with a wrong signature.
 */
export class ByzantineValidator {
  readonly network: P2pNetwork;
  private readonly key: SigningKey;
  private readonly chainId: string;
  private resend = 0;

  private constructor(network: P2pNetwork, key: SigningKey, chainId: string) {
    this.network = network;
    this.key = key;
    this.chainId = chainId;
  }

  static async start(opts: { chainId: string; key: SigningKey; bootstrap: string[] }): Promise<ByzantineValidator> {
    const network = await createP2pHost({
      chainId: opts.chainId,
      privateKey: await generateKeyPair('Ed25519'),
      ...LOOPBACK,
      bootstrap: opts.bootstrap,
      // Its own limit is high, so it can send what honest nodes refuse.
      maxGossipBytes: 3 * 1024 * 1024,
    });
    // Subscribed (so it is in every mesh) but never forwards anything.
    for (const topic of GOSSIP_TOPICS)
      network.onGossip(
        topic,
        async () => 'ignore',
        () => undefined,
      );
    await network.start();
    return new ByzantineValidator(network, opts.key, opts.chainId);
  }

  get address(): Uint8Array {
    return addressFromPublicKey(this.key.publicKey);
  }

  private vote(height: number, round: number, blockHash: Uint8Array, signature?: Uint8Array): Uint8Array {
    const type = VoteType.prevote;
    const vote = VoteCodec.encode({ chain_id: this.chainId, type, height, round, block_hash: blockHash });
    const sig = signature ?? this.key.sign(voteSignBytes({ chainId: this.chainId, type, height, round, blockHash }));
    return VoteMessageCodec.encode({ vote: { vote, validator: this.address, signature: sig }, resend: this.resend++ });
  }

  /** Two prevotes, correctly signed, for two different blocks at one height and round. */
  async equivocate(height: number, round: number): Promise<void> {
    await this.network.publish('vote', this.vote(height, round, new Uint8Array(randomBytes(32))));
    await this.network.publish('vote', this.vote(height, round, new Uint8Array(randomBytes(32))));
  }

  async sendGarbage(): Promise<void> {
    await this.network.publish('vote', new Uint8Array(randomBytes(200)));
  }

  /** Just over the honest nodes' 1 MiB limit (still decoded by gossipsub, so it is scored). */
  async sendOversized(): Promise<void> {
    const padding = new Uint8Array(1024 * 1024 + 1024);
    await this.network.publish(
      'proposal',
      ProposalMessageCodec.encode({
        proposal: { proposal: padding, signature: new Uint8Array(64) },
        resend: this.resend++,
      }),
    );
  }

  async sendWronglySigned(height: number, round: number): Promise<void> {
    await this.network.publish(
      'vote',
      this.vote(height, round, new Uint8Array(randomBytes(32)), new Uint8Array(randomBytes(64))),
    );
  }

  stop(): Promise<void> {
    return this.network.stop();
  }
}

/**
 * Three honest in-process validators and this Byzantine one as the fourth, connected and meshed:
 * the start of every Byzantine-validator test. Pushes into `honest` as it goes (so the caller's
 * cleanup stops whatever started before a failure) and returns the Byzantine double.
 */
export async function startByzantineNetwork(
  genesis: Genesis,
  keys: readonly SigningKey[],
  honest: InProcessNode[],
): Promise<ByzantineValidator> {
  for (let i = 0; i < 3; i++) {
    honest.push(
      await startInProcessNode({
        index: i,
        genesis,
        key: keys[i],
        bootstrap: honest.map((n) => n.network.listenAddresses()[0]!),
      }),
    );
  }
  const byzantine = await ByzantineValidator.start({
    chainId: genesis.chainId,
    key: keys[3]!,
    bootstrap: honest.map((n) => n.network.listenAddresses()[0]!),
  });
  try {
    await waitFor(() => honest.every((n) => n.opened.chain.latestHeight >= 3), 60_000, '3 heights');
    await waitFor(
      () => honest.every((n) => n.network.peers().includes(byzantine.network.peerId)),
      10_000,
      'the Byzantine peer connected',
    );
    await sleep(1_000); // gossipsub meshes form on heartbeats
  } catch (e) {
    await byzantine.stop();
    throw e;
  }
  return byzantine;
}
