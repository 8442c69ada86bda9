import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BlockHeaderCodec, type Commit } from '../../src/codec/core.ts';
import { VoteType, validatorsHash, voteSignBytes } from '../../src/codec/protocol.ts';
import { DEFAULT_CONFIG } from '../../src/config.ts';
import { ValidatorSet } from '../../src/consensus/validator-set.ts';
import { rpcLightSource } from '../../src/cli/light-source.ts';
import { addressFromPublicKey, formatAddress } from '../../src/crypto/address.ts';
import { SigningKey } from '../../src/crypto/ed25519.ts';
import { toHex } from '../../src/crypto/hash.ts';
import { parseGenesis } from '../../src/genesis.ts';
import {
  followToHeight,
  genesisTrust,
  verifyProofInVerifiedHeader,
  verifyStateProof,
  type LightSource,
} from '../../src/light/verify.ts';
import { MODULE_ORDER, MODULES } from '../../src/modules.ts';
import { openChain, startProducer, type OpenedChain } from '../../src/node.ts';
import { RpcClient } from '../../src/rpc/client.ts';
import { RpcServer } from '../../src/rpc/server.ts';
import { accountKey } from '../../src/state/bank/keeper.ts';
import { transferTx } from '../../src/state/bank/module.ts';
import { UPDATE_DELAY } from '../../src/state/chainconfig/keeper.ts';
import { TxRegistry } from '../../src/state/registry.ts';
import { buildTx } from '../../src/state/tx.ts';
import { MemoryKvStore } from '../../src/storage/db.ts';
import { changeTx, configChangeModule } from '../helpers/config-change-module.ts';
import { codeOf } from '../helpers/codes.ts';

const oldValidator = SigningKey.generate();
const newValidator = SigningKey.generate();
const alice = SigningKey.generate();
const bob = addressFromPublicKey(SigningKey.generate().publicKey);
const CHANGE_HEIGHT = 2;
const EFFECTIVE = CHANGE_HEIGHT + UPDATE_DELAY;
const TOP = 6;

const genesis = parseGenesis({
  chainId: 'light-follow',
  genesisTimeMs: 1_000,
  validators: [{ name: 'old', publicKey: toHex(oldValidator.publicKey), power: 1 }],
  accounts: [{ address: formatAddress(addressFromPublicKey(alice.publicKey)), balance: '1000000000' }],
  params: { minFee: '1000' },
});
const setOf = (key: SigningKey, power: number) =>
  new ValidatorSet([{ name: '', publicKey: key.publicKey, address: addressFromPublicKey(key.publicKey), power }]);

/**
 * A real chain whose validator set changes: block 2 carries two changes through chainconfig's
 * typed path (the test module stands in for staking): add a new validator, remove the old one.
 * Effective at 2 + UPDATE_DELAY = 4, so blocks 1 to 3 are signed by the old key and 4 to 6 by the
 * new one (a second single-validator engine takes over on the same chain). Block 5 moves 700 to
 * bob. The light client reads it over a real JSON-RPC server on loopback.
 */
describe('light client: follows validator-set changes from genesis through next_validators_hash', () => {
  let opened: OpenedChain;
  let rpc: RpcServer;
  let client: RpcClient;
  let source: LightSource;
  const trust = genesisTrust(genesis.chainId, new ValidatorSet(genesis.validators));
  const signerDirs: string[] = [];

  beforeAll(async () => {
    opened = await openChain({
      db: new MemoryKvStore(),
      genesis,
      registry: new TxRegistry([...MODULES, configChangeModule], MODULE_ORDER),
    });
    let clock = 10_000;
    const producerFor = async (key: SigningKey) => {
      const signerDir = mkdtempSync(join(tmpdir(), 'tributary-light-follow-'));
      signerDirs.push(signerDir);
      const p = await startProducer(opened, {
        key,
        signerPath: join(signerDir, 'signer-state.json'),
        mempool: { maxTxs: 1000, maxBytes: 1 << 20 },
        intervalMs: 1000,
        now: () => (clock += 1000),
      });
      // start() loads the last commit the next block carries; blocks are then made one by one.
      await p.engine.start();
      await p.engine.stop();
      return p;
    };
    const before = await producerFor(oldValidator);
    await before.engine.produceBlock(); // 1
    const tx = (nonce: number, key: SigningKey, power: number) =>
      buildTx(
        alice,
        changeTx,
        { params_json: '', validator_pubkey: key.publicKey, validator_power: power },
        { chainId: genesis.chainId, nonce, fee: 1000n },
      );
    await before.mempool.add(tx(0, newValidator, 1));
    await before.mempool.add(tx(1, oldValidator, 0));
    const changed = await before.engine.produceBlock(); // 2
    expect(changed.header.height).toBe(CHANGE_HEIGHT);
    expect((await opened.chain.blocks.getReceipts(CHANGE_HEIGHT))!.receipts.map((r) => r.failed)).toEqual([
      false,
      false,
    ]);
    await before.engine.produceBlock(); // 3: still the old set
    const after = await producerFor(newValidator);
    for (let h = EFFECTIVE; h <= TOP; h++) {
      if (h === 5)
        await after.mempool.add(
          buildTx(alice, transferTx, { to: bob, amount: 700n }, { chainId: genesis.chainId, nonce: 2, fee: 1000n }),
        );
      await after.engine.produceBlock();
    }
    expect(opened.chain.latestHeight).toBe(TOP);
    rpc = new RpcServer({ chain: opened.chain, mempool: after.mempool, config: DEFAULT_CONFIG.rpc });
    const address = await rpc.listen('127.0.0.1', 0);
    client = new RpcClient(`http://127.0.0.1:${address.port}`);
    source = rpcLightSource(client);
  });
  afterAll(async () => {
    await rpc?.close();
    for (const dir of signerDirs) rmSync(dir, { recursive: true, force: true });
  });

  it('chain_getValidators gives the set of a height, hashing to the header fields, known up to latest + 2', async () => {
    const oldHash = toHex(setOf(oldValidator, 1).hash);
    const newHash = toHex(setOf(newValidator, 1).hash);
    for (let h = 1; h <= TOP + 2; h++) {
      const view = await client.call<{ height: number; hash: string; validators: { publicKey: string }[] }>(
        'chain_getValidators',
        [h],
      );
      expect(view.height).toBe(h);
      expect(view.hash).toBe('0x' + (h < EFFECTIVE ? oldHash : newHash));
      expect(view.validators.map((v) => v.publicKey)).toEqual([
        '0x' + toHex((h < EFFECTIVE ? oldValidator : newValidator).publicKey),
      ]);
      if (h <= TOP) {
        const header = (await opened.chain.blocks.getBlock(h))!.header;
        expect(view.hash).toBe('0x' + toHex(header.validators_hash));
        if (h > 1) {
          const previous = (await opened.chain.blocks.getBlock(h - 1))!.header;
          expect(view.hash).toBe('0x' + toHex(previous.next_validators_hash));
        }
      }
    }
    // Without a height: the set that signs the next block.
    expect((await client.call<{ height: number }>('chain_getValidators')).height).toBe(TOP + 1);
    expect(await codeOf(client.call('chain_getValidators', [TOP + 3]))).toBe('rpc/not_found');
    expect(await codeOf(client.call('chain_getValidators', [0]))).toBe('rpc/not_found');
    expect(await codeOf(client.call('chain_getValidators', ['two']))).toBe('rpc/invalid_params');
  });

  it('the change made in block H is first named by header H + 1 and first signs block H + 2', async () => {
    // The off-by-one the light client depends on, stated on the real headers.
    const header = async (h: number) => (await opened.chain.blocks.getBlock(h))!.header;
    const oldHash = toHex(setOf(oldValidator, 1).hash);
    const newHash = toHex(setOf(newValidator, 1).hash);
    expect(toHex((await header(CHANGE_HEIGHT)).next_validators_hash)).toBe(oldHash);
    expect(toHex((await header(CHANGE_HEIGHT + 1)).validators_hash)).toBe(oldHash);
    expect(toHex((await header(CHANGE_HEIGHT + 1)).next_validators_hash)).toBe(newHash);
    expect(toHex((await header(EFFECTIVE)).validators_hash)).toBe(newHash);
  });

  it('verifies every height from genesis trust across the change, and a state proof after it', async () => {
    for (let h = 1; h <= TOP; h++) {
      const followed = await followToHeight(trust, h, source);
      expect(followed.header.height).toBe(h);
      expect(toHex(followed.trusted.validators.hash)).toBe(
        toHex((h < EFFECTIVE ? setOf(oldValidator, 1) : setOf(newValidator, 1)).hash),
      );
    }
    const followed = await followToHeight(trust, TOP, source);
    const { value, proof } = await opened.app.prove(accountKey(bob), TOP);
    expect(verifyProofInVerifiedHeader({ key: accountKey(bob), value, proof }, followed).exists).toBe(true);
    // The trust reached can be kept and followed on from; it never moves back.
    const at3 = (await followToHeight(trust, 3, source)).trusted;
    expect((await followToHeight(at3, TOP, source)).header.height).toBe(TOP);
    expect(await codeOf(followToHeight(followed.trusted, 3, source))).toBe('light/behind_trust');
  });

  it('trusting the genesis set alone fails after the change: the header names another set', async () => {
    const { headerBytes, commit } = await source.certifiedHeader(EFFECTIVE);
    const { value, proof } = await opened.app.prove(accountKey(bob), EFFECTIVE);
    expect(
      await codeOf(
        Promise.resolve().then(() =>
          verifyStateProof({ key: accountKey(bob), value, proof }, headerBytes, commit, trust),
        ),
      ),
    ).toBe('light/validators_mismatch');
  });

  it('refuses a forged validator set for the new height with light/validators_hash_mismatch', async () => {
    const impostor = SigningKey.generate();
    const forgeries = [
      // Another key altogether, the old key kept in power, and the right key with another power.
      [{ name: 'x', publicKey: impostor.publicKey, address: addressFromPublicKey(impostor.publicKey), power: 1 }],
      [...setOf(oldValidator, 1).validators],
      [...setOf(newValidator, 2).validators],
    ];
    for (const forged of forgeries) {
      const lying: LightSource = {
        certifiedHeader: (h) => source.certifiedHeader(h),
        validators: async (h) => (h === EFFECTIVE ? forged : source.validators(h)),
      };
      expect(validatorsHash(forged)).not.toEqual((await opened.chain.validatorSet(EFFECTIVE)).hash);
      expect(await codeOf(followToHeight(trust, TOP, lying))).toBe('light/validators_hash_mismatch');
    }
  });

  it('refuses a certificate signed by the old set after the change with light/insufficient_commit', async () => {
    const real = await source.certifiedHeader(EFFECTIVE);
    const header = BlockHeaderCodec.decode(real.headerBytes);
    expect(header.height).toBe(EFFECTIVE);
    // The old validator's genuine precommit over the real block EFFECTIVE: valid signature, wrong set.
    const blockHash = real.commit.block_hash;
    const byOldSet: Commit = {
      ...real.commit,
      signatures: [
        {
          validator: addressFromPublicKey(oldValidator.publicKey),
          signature: oldValidator.sign(
            voteSignBytes({
              chainId: genesis.chainId,
              type: VoteType.precommit,
              height: EFFECTIVE,
              round: real.commit.round,
              blockHash,
            }),
          ),
        },
      ],
    };
    const lying: LightSource = {
      certifiedHeader: async (h) => (h === EFFECTIVE ? { ...real, commit: byOldSet } : source.certifiedHeader(h)),
      validators: (h) => source.validators(h),
    };
    expect(await codeOf(followToHeight(trust, TOP, lying))).toBe('light/insufficient_commit');
    // The same certificate would pass the old set's check: only following the change catches it.
    expect(() => setOf(oldValidator, 1).verifyCommit(genesis.chainId, byOldSet, header, blockHash)).not.toThrow();
    // An empty certificate is insufficient for the same reason.
    const empty: LightSource = {
      ...lying,
      certifiedHeader: async (h) =>
        h === EFFECTIVE ? { ...real, commit: { ...real.commit, signatures: [] } } : source.certifiedHeader(h),
    };
    expect(await codeOf(followToHeight(trust, TOP, empty))).toBe('light/insufficient_commit');
  });
});
