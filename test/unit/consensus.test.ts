import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { BlockCodec, CommitCodec, type Block, type Commit } from '../../src/codec/core.ts';
import { Mempool } from '../../src/consensus/mempool.ts';
import { Signer } from '../../src/consensus/signer.ts';
import { SoloEngine } from '../../src/consensus/solo-engine.ts';
import { ValidatorSet } from '../../src/consensus/validator-set.ts';
import { VoteType, headerHash, headerSignBytes, voteSignBytes } from '../../src/codec/protocol.ts';
import { openChain as openNodeChain } from '../../src/node.ts';
import { addressFromPublicKey, formatAddress } from '../../src/crypto/address.ts';
import { SigningKey } from '../../src/crypto/ed25519.ts';
import { toHex } from '../../src/crypto/hash.ts';
import { parseGenesis, type Genesis } from '../../src/genesis.ts';
import { transferTx } from '../../src/state/bank/module.ts';
import { buildTx } from '../../src/state/tx.ts';
import { MemoryKvStore } from '../../src/storage/db.ts';
import { codeOf } from '../helpers/codes.ts';

const validator = SigningKey.generate();
const alice = SigningKey.generate();
const bob = addressFromPublicKey(SigningKey.generate().publicKey);

function genesisFor(validators: { key: SigningKey; power: number }[]): Genesis {
  return parseGenesis({
    chainId: 'consensus-test',
    genesisTimeMs: 1_000,
    validators: validators.map((v) => ({ publicKey: toHex(v.key.publicKey), power: v.power })),
    accounts: [{ address: formatAddress(addressFromPublicKey(alice.publicKey)), balance: '1000000000' }],
  });
}

async function openChain(genesis: Genesis) {
  return (await openNodeChain({ db: new MemoryKvStore(), genesis })).chain;
}

/** A signer with a fresh state file: real files, as the node keeps them. */
function freshSigner(key: SigningKey): Promise<Signer> {
  return Signer.open(join(mkdtempSync(join(tmpdir(), 'tributary-signer-')), 'signer-state.json'), key);
}

/** Three blocks made by a real engine, with transfers in the second. */
async function produce(genesis: Genesis): Promise<{ block: Block; commit: Commit }[]> {
  const chain = await openChain(genesis);
  const mempool = new Mempool(chain.app);
  chain.useCheckStateOwner(mempool);
  let t = 10_000;
  const engine = new SoloEngine({
    chain,
    mempool,
    signer: await freshSigner(validator),
    intervalMs: 1000,
    now: () => (t += 1000),
  });
  await engine.start();
  await engine.stop();
  const out: { block: Block; commit: Commit }[] = [];
  for (let h = 0; h < 3; h++) {
    if (h === 1) {
      for (let n = 0; n < 5; n++) {
        await mempool.add(
          buildTx(alice, transferTx, { to: bob, amount: 10n }, { chainId: genesis.chainId, nonce: n, fee: 1000n }),
        );
      }
    }
    const stored = await engine.produceBlock();
    out.push({ block: stored.block, commit: (await chain.blocks.getCommit(stored.header.height))! });
  }
  return out;
}

const clone = <T>(codec: { encode(v: T): Uint8Array; decode(b: Uint8Array): T }, v: T): T =>
  codec.decode(codec.encode(v));

describe('importing blocks made elsewhere', () => {
  const genesis = genesisFor([{ key: validator, power: 10 }]);

  it('a second node replays the blocks to the same state root', async () => {
    const blocks = await produce(genesis);
    const replica = await openChain(genesis);
    for (const { block, commit } of blocks) await replica.importBlock(block, commit);
    expect(replica.latestHeight).toBe(3);
    expect(toHex(replica.app.stateRoot)).toBe(toHex(blocks[2]!.block.header!.state_root));
    expect(blocks[1]!.block.txs.length).toBe(5);
  });

  /** Re-signs a tampered header and its commit with the real validator key: only the content is wrong. */
  const resign = (b: Block, c: Commit) => {
    const hash = headerHash(b.header!);
    b.proposer_signature = validator.sign(headerSignBytes(hash));
    c.block_hash = hash;
    c.signatures[0]!.signature = validator.sign(
      voteSignBytes({
        chainId: genesis.chainId,
        type: VoteType.precommit,
        height: c.height,
        round: c.round,
        blockHash: hash,
      }),
    );
  };
  const tamperings: [string, (b: Block, c: Commit) => void, string][] = [
    [
      'a wrong state root, validly signed',
      (b, c) => {
        b.header!.state_root = new Uint8Array(32).fill(1);
        resign(b, c);
      },
      'consensus/bad_header',
    ],
    [
      'a wrong results root, validly signed',
      (b, c) => {
        b.header!.results_root = new Uint8Array(32).fill(1);
        resign(b, c);
      },
      'consensus/bad_header',
    ],
    [
      'a time that does not increase, validly signed',
      (b, c) => {
        b.header!.time_ms = 1;
        resign(b, c);
      },
      'consensus/bad_header',
    ],
    [
      'a changed state root',
      (b) => void (b.header!.state_root = new Uint8Array(32).fill(1)),
      'consensus/bad_proposer_signature',
    ],
    [
      'a forged proposer signature',
      (b) => void (b.proposer_signature = new Uint8Array(64)),
      'consensus/bad_proposer_signature',
    ],
    ['a commit for another block', (_b, c) => void (c.block_hash = new Uint8Array(32).fill(2)), 'consensus/bad_commit'],
    ['a commit with no signatures', (_b, c) => void (c.signatures = []), 'consensus/insufficient_power'],
    [
      'a bad vote signature',
      (_b, c) => void (c.signatures[0]!.signature = new Uint8Array(64).fill(3)),
      'consensus/bad_commit',
    ],
    ['a vote by a stranger', (_b, c) => void (c.signatures[0]!.validator = bob), 'consensus/unknown_validator'],
    ['another chain id', (b) => void (b.header!.chain_id = 'other'), 'consensus/bad_header'],
    ['a dropped transaction', (b) => void b.txs.pop(), 'consensus/bad_header'],
  ];
  for (const [name, tamper, code] of tamperings) {
    it(`rejects ${name} with ${code} and changes nothing`, async () => {
      const blocks = await produce(genesis);
      const replica = await openChain(genesis);
      await replica.importBlock(blocks[0]!.block, blocks[0]!.commit);
      const root = toHex(replica.app.stateRoot);
      const block = clone(BlockCodec, blocks[1]!.block);
      const commit = clone(CommitCodec, blocks[1]!.commit);
      tamper(block, commit);
      expect(await codeOf(replica.importBlock(block, commit))).toBe(code);
      expect(replica.latestHeight).toBe(1);
      expect(toHex(replica.app.stateRoot)).toBe(root);
      // and the untouched block still imports
      await replica.importBlock(blocks[1]!.block, blocks[1]!.commit);
      expect(replica.latestHeight).toBe(2);
    });
  }
});

describe('validator set', () => {
  it('needs strictly more than two thirds of the power', () => {
    const keys = [1, 2, 3, 4].map(() => SigningKey.generate());
    const set = new ValidatorSet(genesisFor(keys.map((key) => ({ key, power: 1 }))).validators);
    expect(set.totalPower).toBe(4);
    expect(set.quorum).toBe(3);
    const set3 = new ValidatorSet(genesisFor(keys.slice(0, 3).map((key) => ({ key, power: 1 }))).validators);
    expect(set3.quorum).toBe(3);
  });

  it('the single-validator engine refuses a multi-validator genesis or a foreign key', async () => {
    const two = await openChain(
      genesisFor([
        { key: validator, power: 1 },
        { key: alice, power: 1 },
      ]),
    );
    const engineTwo = new SoloEngine({
      chain: two,
      mempool: new Mempool(two.app),
      signer: await freshSigner(validator),
      intervalMs: 1000,
    });
    expect(await codeOf(engineTwo.start())).toBe('consensus/multi_validator_unsupported');
    const one = await openChain(genesisFor([{ key: validator, power: 1 }]));
    const engineOne = new SoloEngine({
      chain: one,
      mempool: new Mempool(one.app),
      signer: await freshSigner(alice),
      intervalMs: 1000,
    });
    expect(await codeOf(engineOne.start())).toBe('consensus/not_a_validator');
  });
});

describe("the single-validator engine's timer", () => {
  it('starts blocks one interval apart, not one interval after each commit, and a late one at once', async () => {
    const chain = await openChain(genesisFor([{ key: validator, power: 1 }]));
    const engine = new SoloEngine({
      chain,
      mempool: new Mempool(chain.app),
      signer: await freshSigner(validator),
      intervalMs: 100,
    });
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
    try {
      // Blocks that take 60 ms, then one that takes 250 ms (longer than the interval), then 60 again.
      const durations = [60, 60, 250, 60, 60];
      const starts: number[] = [];
      const spy = vi.spyOn(engine, 'produceBlock').mockImplementation(async () => {
        starts.push(performance.now());
        await new Promise((resolve) => setTimeout(resolve, durations[starts.length - 1] ?? 60));
        return undefined as never;
      });
      const origin = performance.now();
      await engine.start();
      await vi.advanceTimersByTimeAsync(800);
      // Stopping waits for the block in progress, which needs its fake time to pass.
      const stopped = engine.stop();
      await vi.advanceTimersByTimeAsync(500);
      await stopped;
      expect(spy).toHaveBeenCalled();
      // 100, 200, 300 (it runs until 550), the next at once (Node's timers wait at least 1 ms), then
      // one interval later: never 160 ms apart for a 60 ms block, as a pause after each commit gave.
      expect(starts.slice(0, 5).map((t) => Math.round(t - origin))).toEqual([100, 200, 300, 551, 651]);
    } finally {
      vi.useRealTimers();
    }
  });
});
