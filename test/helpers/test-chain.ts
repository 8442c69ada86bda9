import { expect } from 'vitest';
import { addressFromPublicKey, formatAddress, type Address } from '../../src/crypto/address.ts';
import { SigningKey } from '../../src/crypto/ed25519.ts';
import { parseGenesis, type Genesis, type GenesisJson } from '../../src/genesis.ts';
import { defaultRegistry } from '../../src/modules.ts';
import { openChain } from '../../src/node.ts';
import type { Application, FinalizedBlock } from '../../src/state/app.ts';
import { readAccount, readSupply } from '../../src/state/bank/keeper.ts';
import type { ChainReader, TxDefinition } from '../../src/state/module.ts';
import type { TxRegistry } from '../../src/state/registry.ts';
import { buildTx } from '../../src/state/tx.ts';
import { MemoryKvStore, type KvStore } from '../../src/storage/db.ts';
import type { Event, Receipt } from '../../src/codec/core.ts';
import type { JsonValue } from '../../src/codec/json.ts';

/**
 * An application driven block by block in-process, for module tests: real codec, real signatures,
 * real state tree (over the in-memory store unless one is given). After every block it checks
 * every module invariant and that supply never changes.
 */
export class TestChain {
  readonly app: Application;
  readonly genesis: Genesis;
  readonly validator: SigningKey;
  private readonly nonces = new Map<string, number>();
  private readonly receiptsByHeight = new Map<number, { receipts: Receipt[]; end_block_events: Event[] }>();
  private initialSupply = 0n;
  private timeMs: number;

  private readonly db: KvStore;

  private constructor(app: Application, genesis: Genesis, validator: SigningKey, db: KvStore) {
    this.db = db;
    this.app = app;
    this.genesis = genesis;
    this.validator = validator;
    this.timeMs = genesis.genesisTimeMs;
  }

  static async create(opts: {
    funded: { key: SigningKey; balance: bigint }[];
    params?: GenesisJson['params'];
    modules?: Record<string, unknown>;
    registry?: TxRegistry;
    db?: KvStore;
    /** Fixed validator key, for two chains that must agree byte for byte. */
    validator?: SigningKey;
  }): Promise<TestChain> {
    const validator = opts.validator ?? SigningKey.generate();
    const genesis = parseGenesis({
      chainId: 'test-chain',
      genesisTimeMs: 1_700_000_000_000,
      validators: [{ name: 'v0', publicKey: Buffer.from(validator.publicKey).toString('hex'), power: 1 }],
      accounts: opts.funded.map((f) => ({ address: formatAddress(addressFromPublicKey(f.key.publicKey)), balance: f.balance.toString() })),
      params: opts.params,
      modules: opts.modules,
    });
    const db = opts.db ?? new MemoryKvStore();
    const { app } = await openChain({ db, genesis, registry: opts.registry ?? defaultRegistry() });
    const chain = new TestChain(app, genesis, validator, db);
    chain.initialSupply = await readSupply(app.queryContext(chain.reader).state);
    return chain;
  }

  get reader(): ChainReader {
    const receipts = this.receiptsByHeight;
    const app = this.app;
    return {
      get latestHeight() {
        return app.height;
      },
      getReceipts: async (h) => receipts.get(h),
    };
  }

  /** Sign a message as `key` with the next nonce and the minimum fee (or `fee`). */
  sign<M>(key: SigningKey, def: TxDefinition<M>, message: M, fee?: bigint): Uint8Array {
    const id = Buffer.from(key.publicKey).toString('hex');
    const nonce = this.nonces.get(id) ?? 0;
    // Build first: a message refused by validateBasic must not use up the nonce.
    const tx = buildTx(key, def, message, { chainId: this.genesis.chainId, nonce, fee: fee ?? this.genesis.params.minFee });
    this.nonces.set(id, nonce + 1);
    return tx;
  }

  /** Execute one block holding `txs` (validate mode: every tx must be includable), commit it, check invariants. */
  async block(txs: Uint8Array[]): Promise<FinalizedBlock> {
    this.timeMs += 1000;
    const decoded = txs.map((b) => this.app.decodeTx(b));
    const finalized = await this.app.finalizeBlock(
      { chainId: this.genesis.chainId, height: this.app.height + 1, timeMs: this.timeMs, proposer: addressFromPublicKey(this.validator.publicKey) },
      decoded,
      'validate',
    );
    const batch = this.db.writeBatch();
    finalized.prepared.writeTo(batch);
    await batch.write();
    this.app.commit(finalized);
    this.receiptsByHeight.set(finalized.info.height, { receipts: finalized.receipts, end_block_events: finalized.endBlockEvents });
    await this.expectInvariants();
    return finalized;
  }

  /** Like `block`, but expects exactly one transaction and returns its receipt. */
  async run(tx: Uint8Array): Promise<Receipt> {
    const f = await this.block([tx]);
    return f.receipts[0]!;
  }

  async balance(address: Address): Promise<bigint> {
    return (await readAccount(this.app.queryContext(this.reader).state, address)).balance;
  }

  /** Every committed key and value (hex), for "nothing else changed" assertions. */
  async snapshot(): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    for await (const [k, v] of this.app.queryContext(this.reader).iterate(new Uint8Array(0))) {
      out.set(Buffer.from(k).toString('hex'), Buffer.from(v).toString('hex'));
    }
    return out;
  }

  /** Runs a query method (as RPC would) against the latest committed state. */
  async query(method: string, params: Record<string, unknown> = {}): Promise<JsonValue> {
    const def = this.app.registry.queries.find((q) => q.method === method);
    if (!def) throw new Error(`no query method ${method}`);
    return def.handler(this.app.queryContext(this.reader), params);
  }

  async expectInvariants(): Promise<void> {
    expect(await this.app.checkInvariants(this.reader)).toEqual([]);
    expect(await readSupply(this.app.queryContext(this.reader).state)).toBe(this.initialSupply);
  }
}
