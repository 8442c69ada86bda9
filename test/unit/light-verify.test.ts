import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { BlockHeaderCodec, type BlockHeader, type Commit } from '../../src/codec/core.ts';
import type { Chain } from '../../src/consensus/chain.ts';
import { VoteType, headerHash, voteSignBytes } from '../../src/codec/protocol.ts';
import { startProducer, openChain } from '../../src/node.ts';
import { ValidatorSet } from '../../src/consensus/validator-set.ts';
import { addressFromPublicKey, formatAddress, type Address } from '../../src/crypto/address.ts';
import { SigningKey } from '../../src/crypto/ed25519.ts';
import { compareBytes, toHex } from '../../src/crypto/hash.ts';
import { parseGenesis, type Genesis } from '../../src/genesis.ts';
import {
  verifyProofInHeader,
  verifyStateProof,
  type StateProofClaim,
  type TrustedValidators,
} from '../../src/light/verify.ts';
import { AccountCodec, accountKey } from '../../src/state/bank/keeper.ts';
import { transferTx } from '../../src/state/bank/module.ts';
import { buildTx } from '../../src/state/tx.ts';
import { MemoryKvStore } from '../../src/storage/db.ts';
import { codeOfSync as codeOf } from '../helpers/codes.ts';

const validator = SigningKey.generate();
const alice = SigningKey.generate();
const bob = addressFromPublicKey(SigningKey.generate().publicKey);
const stranger = addressFromPublicKey(SigningKey.generate().publicKey);

function genesisFor(validators: { key: SigningKey; power: number }[]): Genesis {
  return parseGenesis({
    chainId: 'light-test',
    genesisTimeMs: 1_000,
    validators: validators.map((v) => ({ publicKey: toHex(v.key.publicKey), power: v.power })),
    accounts: [{ address: formatAddress(addressFromPublicKey(alice.publicKey)), balance: '1000000000' }],
  });
}

interface Height {
  header: BlockHeader;
  headerBytes: Uint8Array;
  hash: Uint8Array;
  commit: Commit;
}

/**
 * A real chain: application, state tree and block store over the in-memory store, blocks made
 * and signed by the single-validator engine. Block 2 moves 700 base units from alice to bob.
 */
describe('light client: a state value against canonical header bytes and a commit certificate', () => {
  const genesis = genesisFor([{ key: validator, power: 10 }]);
  const trusted: TrustedValidators = { chainId: genesis.chainId, validators: new ValidatorSet(genesis.validators) };
  let chain: Chain;
  const heights: Height[] = [];
  const claim = async (address: Address, height: number): Promise<StateProofClaim> => {
    const { value, proof } = await chain.app.prove(accountKey(address), height);
    return { key: accountKey(address), value, proof };
  };

  beforeAll(async () => {
    const opened = await openChain({ db: new MemoryKvStore(), genesis });
    chain = opened.chain;
    let t = 10_000;
    const { mempool, engine } = await startProducer(opened, {
      key: validator,
      signerPath: join(mkdtempSync(join(tmpdir(), 'tributary-light-')), 'signer-state.json'),
      mempool: { maxTxs: 1000, maxBytes: 1 << 20 },
      intervalMs: 1000,
      now: () => (t += 1000),
    });
    await engine.start();
    await engine.stop();
    for (let h = 1; h <= 3; h++) {
      if (h === 2)
        await mempool.add(
          buildTx(alice, transferTx, { to: bob, amount: 700n }, { chainId: genesis.chainId, nonce: 0, fee: 1000n }),
        );
      const stored = await engine.produceBlock();
      heights[h] = {
        header: stored.header,
        headerBytes: BlockHeaderCodec.encode(stored.header),
        hash: stored.hash,
        commit: (await chain.blocks.getCommit(h))!,
      };
    }
    expect(chain.latestHeight).toBe(3);
  });

  it('a good inclusion proof verifies and returns the decoded header and its hash', async () => {
    const at2 = heights[2]!;
    const verified = verifyStateProof(await claim(bob, 2), at2.headerBytes, at2.commit, trusted);
    expect(verified.exists).toBe(true);
    expect(verified.header).toEqual(at2.header);
    expect(toHex(verified.blockHash)).toBe(toHex(at2.hash));
    expect(AccountCodec.decode((await claim(bob, 2)).value!).balance).toBe(700n);
  });

  it('a good non-inclusion proof verifies, at the tip and at an older height', async () => {
    for (const h of [1, 3]) {
      const verified = verifyStateProof(await claim(stranger, h), heights[h]!.headerBytes, heights[h]!.commit, trusted);
      expect(verified.exists).toBe(false);
      expect(verified.header.height).toBe(h);
    }
    // Before block 2, bob had no account: that is provable too.
    expect(verifyStateProof(await claim(bob, 1), heights[1]!.headerBytes, heights[1]!.commit, trusted).exists).toBe(
      false,
    );
  });

  it('refuses tampered header bytes', async () => {
    const at2 = heights[2]!;
    const good = await claim(bob, 2);
    // A flipped byte that still decodes: another header, which the commit does not sign.
    const rootAt = toHex(at2.headerBytes).indexOf(toHex(at2.header.state_root)) / 2;
    const flipped = new Uint8Array(at2.headerBytes); // a copy: the codec's bytes are a Buffer, whose slice() is a view
    flipped[rootAt + 5]! ^= 0x01;
    expect(BlockHeaderCodec.decode(flipped).height).toBe(2);
    expect(codeOf(() => verifyStateProof(good, flipped, at2.commit, trusted))).toBe('light/commit_mismatch');
    // Bytes that are not a canonical header at all.
    expect(codeOf(() => verifyStateProof(good, at2.headerBytes.slice(0, -3), at2.commit, trusted))).toBe(
      'light/bad_header',
    );
    expect(
      codeOf(() => verifyStateProof(good, Uint8Array.of(...at2.headerBytes, 0x50, 0x01), at2.commit, trusted)),
    ).toBe('light/bad_header');
    // A header whose fields were re-assembled with another time: re-encoded, but not what was signed.
    const retimed = BlockHeaderCodec.encode({ ...at2.header, time_ms: at2.header.time_ms + 1 });
    expect(codeOf(() => verifyStateProof(good, retimed, at2.commit, trusted))).toBe('light/commit_mismatch');
  });

  it('refuses a commit certificate for another block', async () => {
    const at2 = heights[2]!;
    const good = await claim(bob, 2);
    expect(codeOf(() => verifyStateProof(good, at2.headerBytes, heights[1]!.commit, trusted))).toBe(
      'light/commit_mismatch',
    );
    expect(codeOf(() => verifyStateProof(good, at2.headerBytes, heights[3]!.commit, trusted))).toBe(
      'light/commit_mismatch',
    );
    // Same height, another block hash.
    const forked: Commit = { ...at2.commit, block_hash: heights[3]!.hash };
    expect(codeOf(() => verifyStateProof(good, at2.headerBytes, forked, trusted))).toBe('light/commit_mismatch');
  });

  it("refuses a commit with too little power, a forged vote or a stranger's vote", async () => {
    const at2 = heights[2]!;
    const good = await claim(bob, 2);
    const unsigned: Commit = { ...at2.commit, signatures: [] };
    expect(codeOf(() => verifyStateProof(good, at2.headerBytes, unsigned, trusted))).toBe('light/insufficient_commit');
    const forged: Commit = {
      ...at2.commit,
      signatures: [{ ...at2.commit.signatures[0]!, signature: new Uint8Array(64).fill(7) }],
    };
    expect(codeOf(() => verifyStateProof(good, at2.headerBytes, forged, trusted))).toBe('consensus/bad_commit');
    const foreign: Commit = { ...at2.commit, signatures: [{ ...at2.commit.signatures[0]!, validator: stranger }] };
    expect(codeOf(() => verifyStateProof(good, at2.headerBytes, foreign, trusted))).toBe('light/insufficient_commit');
  });

  it('needs more than 2/3 of the trusted power: 2 of 4 equal validators are refused, 3 of 4 accepted', async () => {
    // The real block 2's header, naming a four-validator set and signed by some of its members.
    const keys = [0, 1, 2, 3].map(() => SigningKey.generate());
    const four = new ValidatorSet(genesisFor(keys.map((key) => ({ key, power: 1 }))).validators);
    const header: BlockHeader = { ...heights[2]!.header, validators_hash: four.hash };
    const hash = headerHash(header);
    const signedBy = (signers: SigningKey[]): Commit => ({
      height: 2,
      round: 0,
      block_hash: hash,
      signatures: signers
        .map((key) => ({
          validator: addressFromPublicKey(key.publicKey),
          signature: key.sign(
            voteSignBytes({ chainId: genesis.chainId, type: VoteType.precommit, height: 2, round: 0, blockHash: hash }),
          ),
        }))
        .sort((a, b) => compareBytes(a.validator, b.validator)),
    });
    const fourTrusted = { chainId: genesis.chainId, validators: four };
    const good = await claim(bob, 2);
    const bytes = BlockHeaderCodec.encode(header);
    expect(codeOf(() => verifyStateProof(good, bytes, signedBy(keys.slice(0, 2)), fourTrusted))).toBe(
      'light/insufficient_commit',
    );
    expect(verifyStateProof(good, bytes, signedBy(keys.slice(0, 3)), fourTrusted).exists).toBe(true);
  });

  it('refuses a wrong value, a false absence and a proof from another height', async () => {
    const at2 = heights[2]!;
    const good = await claim(bob, 2);
    const richer = AccountCodec.encode({ ...AccountCodec.decode(good.value!), balance: 7_000_000n });
    expect(codeOf(() => verifyStateProof({ ...good, value: richer }, at2.headerBytes, at2.commit, trusted))).toBe(
      'light/bad_proof',
    );
    expect(codeOf(() => verifyStateProof({ ...good, value: undefined }, at2.headerBytes, at2.commit, trusted))).toBe(
      'light/bad_proof',
    );
    // Bob's absence at height 1 is no proof of anything under block 2's root.
    const before = await claim(bob, 1);
    expect(codeOf(() => verifyStateProof(before, at2.headerBytes, at2.commit, trusted))).toBe('light/bad_proof');
    expect(
      codeOf(() => verifyStateProof({ ...good, proof: good.proof.slice(0, -1) }, at2.headerBytes, at2.commit, trusted)),
    ).toBe('light/bad_proof');
  });

  it('refuses a header of another chain or validator set than the trusted one', async () => {
    const at2 = heights[2]!;
    const good = await claim(bob, 2);
    expect(
      codeOf(() => verifyStateProof(good, at2.headerBytes, at2.commit, { ...trusted, chainId: 'other-chain' })),
    ).toBe('light/wrong_chain');
    const otherSet = new ValidatorSet(genesisFor([{ key: alice, power: 10 }]).validators);
    expect(
      codeOf(() => verifyStateProof(good, at2.headerBytes, at2.commit, { ...trusted, validators: otherSet })),
    ).toBe('light/validators_mismatch');
  });

  it('verifyProofInHeader checks the proof against the header root only', async () => {
    const at2 = heights[2]!;
    const good = await claim(bob, 2);
    expect(verifyProofInHeader(good, at2.headerBytes).header.height).toBe(2);
    expect(codeOf(() => verifyProofInHeader({ ...good, value: undefined }, at2.headerBytes))).toBe('light/bad_proof');
    expect(codeOf(() => verifyProofInHeader(good, at2.headerBytes.slice(1)))).toBe('light/bad_header');
  });
});
