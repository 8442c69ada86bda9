import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { addressFromPublicKey, formatAddress } from '../../src/crypto/address.ts';
import { SigningKey } from '../../src/crypto/ed25519.ts';
import { toHex } from '../../src/crypto/hash.ts';
import type { TributaryError } from '../../src/errors.ts';
import { parseGenesis } from '../../src/genesis.ts';
import { openChain, startProducer } from '../../src/node.ts';
import { Bucket, bucketKey } from '../../src/storage/buckets.ts';
import { MemoryKvStore } from '../../src/storage/db.ts';

const validator = SigningKey.generate();
const genesis = parseGenesis({
  chainId: 'open-test',
  genesisTimeMs: 1_000,
  validators: [{ publicKey: toHex(validator.publicKey), power: 1 }],
  accounts: [{ address: formatAddress(addressFromPublicKey(validator.publicKey)), balance: '1000000' }],
});

describe('openChain', () => {
  it('the chain index follows commits in its own batches, and catches up from the blocks when it lags (a crash lost its tail)', async () => {
    const db = new MemoryKvStore();
    const opened = await openChain({ db, genesis });
    let clock = 10_000;
    const { engine } = await startProducer(opened, {
      key: validator,
      signerPath: join(mkdtempSync(join(tmpdir(), 'tributary-open-')), 'signer-state.json'),
      mempool: {},
      intervalMs: 1000,
      now: () => (clock += 1000),
    });
    await engine.produceBlock();
    await engine.produceBlock();
    await opened.chain.index.idle();
    expect(await opened.chain.index.indexedHeight()).toBe(2);
    const records = async (): Promise<string[]> => {
      const out: string[] = [];
      for await (const [k, v] of opened.chain.index.records()) out.push(`${toHex(k)}=${toHex(v)}`);
      return out;
    };
    const before = await records();
    // Lose the index records, as unsynced index batches lost in a crash would be.
    const batch = db.writeBatch();
    for await (const [key] of opened.chain.index.records()) batch.del(key);
    await batch.write();
    expect(await opened.chain.index.indexedHeight()).toBe(0);
    // Opening the chain again rewrites what is missing, byte for byte.
    const reopened = await openChain({ db, genesis });
    expect(await reopened.chain.index.indexedHeight()).toBe(2);
    expect(await records()).toEqual(before);
  });

  it('refuses a database of the layout before validators and params moved into state (no genesis hash)', async () => {
    const db = new MemoryKvStore();
    await openChain({ db, genesis });
    const batch = db.writeBatch();
    batch.del(bucketKey(Bucket.meta, new TextEncoder().encode('genesis_hash')));
    await batch.write();
    const error = await openChain({ db, genesis }).then(
      () => undefined,
      (e: unknown) => e as TributaryError,
    );
    expect(error?.code).toBe('state/old_layout');
  });
});

describe('commitBlock', () => {
  it('commits a block whose execution went stale (another block of the height executed since) by running it again', async () => {
    const opened = await openChain({ db: new MemoryKvStore(), genesis });
    let clock = 10_000;
    const { engine } = await startProducer(opened, {
      key: validator,
      signerPath: join(mkdtempSync(join(tmpdir(), 'tributary-stale-')), 'signer-state.json'),
      mempool: {},
      intervalMs: 1000,
      now: () => (clock += 1000),
    });
    await engine.produceBlock();
    const stored = await engine.produceBlock();
    // A second node replays block 2, but executes it, then executes a different block 2 before committing.
    const replica = await openChain({ db: new MemoryKvStore(), genesis });
    await replica.chain.importBlock(
      (await opened.chain.blocks.getBlock(1))!.block,
      (await opened.chain.blocks.getCommit(1))!,
    );
    const first = await replica.chain.verifyProposal(stored.block, { maxRound: 0 });
    await replica.app.finalizeBlock({ ...first.info, timeMs: first.info.timeMs + 1 }, [], 'validate');
    expect(replica.app.canCommit(first)).toBe(false);
    await replica.chain.commitBlock(stored.block, (await opened.chain.blocks.getCommit(2))!, first);
    expect(replica.chain.latestHeight).toBe(2);
    expect(toHex(replica.app.stateRoot)).toBe(toHex(stored.header.state_root));
  });
});
