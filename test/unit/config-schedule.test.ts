import { TEST_KEYRING } from '../../src/keys.ts';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BlockCodec, CommitCodec } from '../../src/codec/core.ts';
import { validatorsHash } from '../../src/codec/protocol.ts';
import { addressFromPublicKey, formatAddress } from '../../src/crypto/address.ts';
import { SigningKey } from '../../src/crypto/ed25519.ts';
import { toHex } from '../../src/crypto/hash.ts';
import type { TributaryError } from '../../src/errors.ts';
import { parseGenesis, type Genesis } from '../../src/genesis.ts';
import { homePaths } from '../../src/config.ts';
import { initHome } from '../../src/home.ts';
import { MODULES, MODULE_ORDER } from '../../src/modules.ts';
import { openChain, openHome, startProducer } from '../../src/node.ts';
import { UPDATE_DELAY } from '../../src/state/chainconfig/keeper.ts';
import { TxRegistry } from '../../src/state/registry.ts';
import { buildTx } from '../../src/state/tx.ts';
import { MemoryKvStore } from '../../src/storage/db.ts';
import { changeTx, configChangeModule } from '../helpers/config-change-module.ts';
import { TestChain } from '../helpers/test-chain.ts';
import { codeOf } from '../helpers/codes.ts';

const validator = SigningKey.generate();
const alice = SigningKey.generate();

function genesis(): Genesis {
  return parseGenesis({
    chainId: 'config-test',
    genesisTimeMs: 1_000,
    validators: [{ name: 'v0', publicKey: toHex(validator.publicKey), power: 1 }],
    accounts: [{ address: formatAddress(addressFromPublicKey(alice.publicKey)), balance: '1000000000' }],
    params: { minFee: '1000' },
  });
}

const registry = () => new TxRegistry([...MODULES, configChangeModule], MODULE_ORDER);

/** A node's chain over memory, producing blocks with the real engine and signer. */
async function node(g: Genesis) {
  const opened = await openChain({ db: new MemoryKvStore(), genesis: g, registry: registry() });
  let clock = 10_000;
  const producer = await startProducer(opened, {
    key: validator,
    signerPath: join(mkdtempSync(join(tmpdir(), 'tributary-config-')), 'signer-state.json'),
    mempool: { maxTxs: 1000, maxBytes: 1 << 20 },
    intervalMs: 1000,
    now: () => (clock += 1000),
  });
  return { ...opened, ...producer };
}

describe('validators and parameters in state, changed through the typed path', () => {
  it('a parameter change and a validator-set change made at height H take effect at exactly H + 2, on replay too', async () => {
    const g = genesis();
    const n = await node(g);
    await n.engine.produceBlock(); // height 1
    let nonce = 0;
    const change = buildTx(
      alice,
      changeTx,
      { params_json: JSON.stringify({ minFee: '5000' }), validator_pubkey: validator.publicKey, validator_power: 7 },
      { chainId: g.chainId, nonce: nonce++, fee: 1000n },
    );
    await n.mempool.add(change);
    const atH = await n.engine.produceBlock(); // height 2: schedules both for height 4
    const H = atH.header.height;
    const receipt = (await n.chain.blocks.getReceipts(H))!.receipts[0]!;
    expect(receipt.failed).toBe(false);
    expect(receipt.events.map((e) => e.attributes[0]!.value)).toEqual([
      String(H + UPDATE_DELAY),
      String(H + UPDATE_DELAY),
    ]);

    const oldSet = validatorsHash([
      { address: addressFromPublicKey(validator.publicKey), publicKey: validator.publicKey, power: 1 },
    ]);
    const newSet = validatorsHash([
      { address: addressFromPublicKey(validator.publicKey), publicKey: validator.publicKey, power: 7 },
    ]);
    // H + 1 still runs on the old parameters: a fee of 1000 is accepted. Its header already names
    // the set of H + 2 as the next validators.
    await n.mempool.add(
      buildTx(
        alice,
        changeTx,
        { params_json: '', validator_pubkey: new Uint8Array(0), validator_power: 0 },
        { chainId: g.chainId, nonce: nonce++, fee: 1000n },
      ),
    );
    const h1 = await n.engine.produceBlock();
    expect(h1.block.txs.length).toBe(1);
    expect(toHex(h1.header.validators_hash)).toBe(toHex(oldSet));
    expect(toHex(h1.header.next_validators_hash)).toBe(toHex(newSet));
    expect(n.app.params.minFee).toBe(5000n);
    // From H + 2 on: the minimum fee is 5000 and the new power signs.
    expect(
      await codeOf(
        n.mempool.add(
          buildTx(
            alice,
            changeTx,
            { params_json: '', validator_pubkey: new Uint8Array(0), validator_power: 0 },
            { chainId: g.chainId, nonce, fee: 1000n },
          ),
        ),
      ),
    ).toBe('tx/fee_too_low');
    const h2 = await n.engine.produceBlock();
    expect(h2.header.height).toBe(H + UPDATE_DELAY);
    expect(toHex(h2.header.validators_hash)).toBe(toHex(newSet));
    expect((await n.chain.validatorSet(H + UPDATE_DELAY)).totalPower).toBe(7);
    expect((await n.chain.validatorSet(H + 1)).totalPower).toBe(1);
    await n.engine.produceBlock();

    // Replay on a second node: same roots at every height, same sets, same parameters.
    const replica = (await openChain({ db: new MemoryKvStore(), genesis: g, registry: registry() })).chain;
    for (let h = 1; h <= n.chain.latestHeight; h++) {
      const stored = (await n.chain.blocks.getBlock(h))!;
      await replica.importBlock(
        BlockCodec.decode(BlockCodec.encode(stored.block)),
        CommitCodec.decode(CommitCodec.encode((await n.chain.blocks.getCommit(h))!)),
      );
      expect(toHex(replica.app.stateRoot)).toBe(toHex(stored.header.state_root));
    }
    expect(replica.app.params.minFee).toBe(5000n);
    expect(replica.app.info().validators[0]!.power).toBe(7);
  });

  it('an invalid parameter value fails at execution with a coded error and changes nothing', async () => {
    const chain = await TestChain.create({
      funded: [{ key: alice, balance: 1_000_000n }],
      registry: registry(),
      validator,
    });
    const configKey = new TextEncoder().encode('chainconfig/params');
    const before = await chain.app.queryContext(chain.reader).state.get(configKey);
    const refused: [unknown, string][] = [
      [{ maxTxBytes: 0 }, 'params/invalid'],
      // The AI modules' shares off the top must leave the model something.
      [{ modules: { inference: { validatorBps: 9000, treasuryBps: 9000 } } }, 'params/invalid'],
    ];
    for (const [bad, code] of refused) {
      const receipt = await chain.run(
        chain.sign(alice, changeTx, {
          params_json: JSON.stringify(bad),
          validator_pubkey: new Uint8Array(0),
          validator_power: 0,
        }),
      );
      expect(receipt.failed).toBe(true);
      expect(receipt.error_code).toBe(code);
    }
    // Removing the only validator is refused by the same path.
    const remove = await chain.run(
      chain.sign(alice, changeTx, { params_json: '', validator_pubkey: validator.publicKey, validator_power: 0 }),
    );
    expect(remove.error_code).toBe('chainconfig/empty_validator_set');
    const after = await chain.app.queryContext(chain.reader).state.get(configKey);
    expect(toHex(after!)).toBe(toHex(before!));
    expect(chain.app.info().params.maxTxBytes).toBe(65536);
  });
});

describe('the genesis a chain was started from', () => {
  it('an edited genesis.json is refused at start with both hashes; reformatting it is not an edit', async () => {
    const home = mkdtempSync(join(tmpdir(), 'tributary-genesis-'));
    initHome(home, { protection: TEST_KEYRING });
    const first = await openHome(home, { keepVersions: 0 });
    await first.db.close();
    const path = homePaths(home).genesis;
    const original = readFileSync(path, 'utf8');
    writeFileSync(path, JSON.stringify(JSON.parse(original))); // same meaning, other bytes
    await (await openHome(home, { keepVersions: 0 })).db.close();
    const edited = JSON.parse(original) as { params: { minFee: string } };
    edited.params.minFee = '1';
    writeFileSync(path, JSON.stringify(edited, null, 2));
    const error = await openHome(home, { keepVersions: 0 }).then(
      () => undefined,
      (e: unknown) => e as TributaryError,
    );
    expect(error?.code).toBe('node/genesis_mismatch');
    expect(error?.data?.stored).toMatch(/^0x[0-9a-f]{64}$/);
    expect(error?.data?.given).toMatch(/^0x[0-9a-f]{64}$/);
    expect(error?.data?.stored).not.toBe(error?.data?.given);
    writeFileSync(path, original);
    await (await openHome(home, { keepVersions: 0 })).db.close();
  });
});

describe('the engine and its persisted signer', () => {
  it('after a crash between signing and committing, the height is retried in the next round, never re-signed', async () => {
    const g = genesis();
    const n = await node(g);
    await n.engine.produceBlock();
    // As if the node had signed a proposal and precommit for height 2, round 0, and died before the batch.
    await n.signer.sign({ height: 2, round: 0, step: 'proposal', signBytes: new Uint8Array([1]) });
    await n.signer.sign({ height: 2, round: 0, step: 'precommit', signBytes: new Uint8Array([2]) });
    const stored = await n.engine.produceBlock();
    const commit = (await n.chain.blocks.getCommit(2))!;
    expect(stored.header.height).toBe(2);
    expect(commit.round).toBe(1);
    expect(n.signer.lastSigned).toEqual({ height: 2, round: 1, step: 'precommit' });
    // A replica accepts a block decided in round 1.
    const replica = (await openChain({ db: new MemoryKvStore(), genesis: g, registry: registry() })).chain;
    for (let h = 1; h <= 2; h++)
      await replica.importBlock((await n.chain.blocks.getBlock(h))!.block, (await n.chain.blocks.getCommit(h))!);
    expect(replica.latestHeight).toBe(2);
  });
});
