import { generateKeyPair } from '@libp2p/crypto/keys';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TributaryError } from '../../src/errors.ts';
import { createP2pHost, GOSSIP_SCORE_THRESHOLDS, type P2pHostOptions } from '../../src/p2p/libp2p-host.ts';
import { GOSSIP_TOPICS, type GossipTopic, type GossipVerdict, type P2pNetwork } from '../../src/p2p/network.ts';

/*
 * Real libp2p hosts on 127.0.0.1 in this process. Topology, all links made from bootstrap lists:
 *
 *     A ─── B ─── E (sends oversized messages)
 *      \   /
 *        C ─── D (sends only rejected messages)
 *
 * Every node's validator decides by the message text: "reject…" is rejected and "ignore…" ignored
 * everywhere, "c-reject…" / "c-ignore…" only at C (accepted elsewhere), anything else accepted.
 * D hears from A and B only through C, so what C does not forward never reaches D.
 */

const CHAIN = 'p2p-gossip-test';
const LOOPBACK = ['/ip4/127.0.0.1/tcp/0'];
const ALLOW = ['/ip4/127.0.0.1/ipcidr/8'];
const MAX_GOSSIP = 64 * 1024;

interface Delivery {
  topic: GossipTopic;
  text: string;
  from: string;
}

interface TestNode {
  name: string;
  net: P2pNetwork;
  deliveries: Delivery[];
  validated: number;
}

const text = new TextDecoder();
const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitFor(what: string, cond: () => boolean, timeoutMs = 10_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await sleep(25);
  }
}

function verdictAt(name: string, message: string): GossipVerdict {
  if (message.startsWith('reject')) return 'reject';
  if (message.startsWith('ignore')) return 'ignore';
  if (name === 'C' && message.startsWith('c-reject')) return 'reject';
  if (name === 'C' && message.startsWith('c-ignore')) return 'ignore';
  return 'accept';
}

async function startNode(name: string, bootstrap: TestNode[], extra: Partial<P2pHostOptions> = {}): Promise<TestNode> {
  const net = await createP2pHost({
    chainId: CHAIN,
    privateKey: await generateKeyPair('Ed25519'),
    listen: LOOPBACK,
    allow: ALLOW,
    bootstrap: bootstrap.map((n) => n.net.listenAddresses()[0]!),
    heartbeatMs: 100,
    redialInitialMs: 100,
    redialMaxMs: 400,
    maxGossipBytes: MAX_GOSSIP,
    ...extra,
  });
  const node: TestNode = { name, net, deliveries: [], validated: 0 };
  for (const topic of GOSSIP_TOPICS) {
    net.onGossip(
      topic,
      async (data) => {
        node.validated++;
        return verdictAt(name, text.decode(data.subarray(0, 16)));
      },
      (data, from) => node.deliveries.push({ topic, text: text.decode(data.subarray(0, 64)), from }),
    );
  }
  await net.start();
  return node;
}

function received(node: TestNode, prefix: string): Delivery[] {
  return node.deliveries.filter((d) => d.text.startsWith(prefix));
}

describe('p2p gossip over real libp2p hosts', () => {
  const nodes: TestNode[] = [];
  let A: TestNode, B: TestNode, C: TestNode, D: TestNode;

  beforeAll(async () => {
    B = await startNode('B', []);
    A = await startNode('A', [B]);
    C = await startNode('C', [A, B]);
    D = await startNode('D', [C]);
    nodes.push(A, B, C, D);
    await waitFor(
      'the bootstrap links',
      () =>
        A.net.peers().length === 2 &&
        B.net.peers().length === 2 &&
        C.net.peers().length === 3 &&
        D.net.peers().length === 1,
    );
    // Meshes form on heartbeats after subscriptions are exchanged: send until D hears A on every topic.
    for (const topic of GOSSIP_TOPICS) {
      let n = 0;
      await waitFor(`the ${topic} mesh`, () => {
        if (received(D, `warmup-${topic}`).length > 0) return true;
        void A.net.publish(topic, bytes(`warmup-${topic}-${n++}`));
        return false;
      });
    }
    await sleep(300);
    for (const node of nodes) node.deliveries.length = 0;
  });

  afterAll(async () => {
    await Promise.all(nodes.map((n) => n.net.stop()));
  });

  it('connects through bootstrap addresses, each address naming its peer id', () => {
    expect(A.net.peers()).toEqual([B.net.peerId, C.net.peerId].sort());
    expect(C.net.peers()).toEqual([A.net.peerId, B.net.peerId, D.net.peerId].sort());
    expect(D.net.peers()).toEqual([C.net.peerId]);
    for (const node of nodes) {
      for (const address of node.net.listenAddresses()) expect(address.endsWith(`/p2p/${node.net.peerId}`)).toBe(true);
    }
  });

  it('delivers each message on each topic to every other node exactly once, to its own topic, never to the sender', async () => {
    for (const topic of GOSSIP_TOPICS) {
      await A.net.publish(topic, bytes(`hello-from-A-${topic}`));
      await D.net.publish(topic, bytes(`hello-from-D-${topic}`));
    }
    const sendersOtherThan = (node: TestNode): string[] => ['A', 'D'].filter((s) => s !== node.name);
    await waitFor('every delivery', () =>
      nodes.every((n) => received(n, 'hello-').length === sendersOtherThan(n).length * GOSSIP_TOPICS.length),
    );
    // Several heartbeats more: gossip (IHAVE/IWANT) and second paths must not deliver again.
    await sleep(600);
    for (const node of nodes) {
      const others = sendersOtherThan(node);
      for (const topic of GOSSIP_TOPICS) {
        const here = received(node, 'hello-').filter((d) => d.topic === topic);
        expect(here.map((d) => d.text).sort()).toEqual(others.map((o) => `hello-from-${o}-${topic}`));
        for (const d of here) expect(node.net.peers()).toContain(d.from);
      }
    }
    expect(received(A, 'hello-from-A')).toEqual([]);
    expect(received(D, 'hello-from-D')).toEqual([]);
  });

  it('publishing the same bytes twice is one message', async () => {
    await A.net.publish('tx', bytes('twice'));
    await A.net.publish('tx', bytes('twice'));
    await waitFor('the delivery', () => received(B, 'twice').length === 1 && received(D, 'twice').length === 1);
    await sleep(400);
    expect(received(B, 'twice')).toHaveLength(1);
    expect(received(C, 'twice')).toHaveLength(1);
    expect(received(D, 'twice')).toHaveLength(1);
  });

  it("'ignore' at one node stops the message there, without lowering the sender's score", async () => {
    await A.net.publish('proposal', bytes('c-ignore-1'));
    await waitFor('B to deliver', () => received(B, 'c-ignore-1').length === 1);
    await sleep(600);
    expect(received(C, 'c-ignore-1')).toEqual([]);
    expect(received(D, 'c-ignore-1')).toEqual([]);
    expect(C.net.peerScore(A.net.peerId)).toBeGreaterThanOrEqual(0);
  });

  it("'reject' at one node stops the message there and gives the sender a negative score", async () => {
    expect(C.net.peerScore(A.net.peerId)).toBeGreaterThanOrEqual(0);
    await A.net.publish('vote', bytes('c-reject-1'));
    await waitFor('B to deliver', () => received(B, 'c-reject-1').length === 1);
    await waitFor("A's score at C to fall below 0", () => C.net.peerScore(A.net.peerId) < 0);
    await sleep(400);
    expect(received(C, 'c-reject-1')).toEqual([]);
    expect(received(D, 'c-reject-1')).toEqual([]);
    // One invalid message is a warning, not a ban: A stays connected and keeps gossiping.
    expect(C.net.peerScore(A.net.peerId)).toBeGreaterThan(GOSSIP_SCORE_THRESHOLDS.graylistThreshold);
    expect(C.net.peers()).toContain(A.net.peerId);
  });

  it('a peer that keeps sending rejected messages is graylisted, disconnected and refused', async () => {
    const validatedBefore = C.validated;
    for (let i = 0; i < 3; i++) await D.net.publish('tx', bytes(`reject-spam-${i}`));
    await waitFor(
      "D's score at C to pass the graylist threshold",
      () => C.net.peerScore(D.net.peerId) < GOSSIP_SCORE_THRESHOLDS.graylistThreshold,
    );
    expect(C.validated - validatedBefore).toBe(3);
    await waitFor('C to drop D', () => !C.net.peers().includes(D.net.peerId) && D.net.peers().length === 0);
    // D's bootstrap loop keeps redialling C (every 100-400 ms here); C's gater refuses it after the
    // handshake, so C never lists D again (D may see a connection for a moment before C drops it).
    const until = Date.now() + 1500;
    while (Date.now() < until) {
      expect(C.net.peers()).not.toContain(D.net.peerId);
      await sleep(20);
    }
    for (const node of [A, B, C]) expect(received(node, 'reject-spam')).toEqual([]);
  });

  it('oversized messages are refused on publish and dropped on receipt', async () => {
    const tooBig = new Uint8Array(MAX_GOSSIP + 1).fill(0x61);
    await expect(A.net.publish('tx', tooBig)).rejects.toSatisfy(
      (e: unknown) => e instanceof TributaryError && e.code === 'p2p/too_large',
    );

    // E allows itself bigger messages than everyone else: its peers must drop them.
    const E = await startNode('E', [B], { maxGossipBytes: 512 * 1024 });
    nodes.push(E);
    await waitFor('E to join', () => B.net.peers().includes(E.net.peerId));
    await waitFor('E to reach A through B', () => {
      if (received(A, 'from-E-probe').length > 0) return true;
      void E.net.publish('tx', bytes(`from-E-probe-${Date.now()}`));
      return false;
    });
    const scoreBefore = B.net.peerScore(E.net.peerId);
    // Just over the limit: decoded, rejected by size, scored.
    const over = bytes('big-over-limit-'.padEnd(MAX_GOSSIP + 100, 'x'));
    await E.net.publish('tx', over);
    await waitFor("E's score at B to drop", () => B.net.peerScore(E.net.peerId) < scoreBefore);
    // Past gossipsub's frame limit (ours + 64 KiB): dropped before decoding.
    await E.net.publish('tx', bytes('big-past-frame-'.padEnd(300 * 1024, 'x')));
    await sleep(600);
    for (const node of [A, B, C, D]) expect(received(node, 'big-')).toEqual([]);
    expect(B.net.peerScore(E.net.peerId)).toBeLessThan(0);
  });
});
