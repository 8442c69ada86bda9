import { expect } from 'vitest';
import { VoteType, headerHash, headerSignBytes, voteSignBytes } from '../../src/codec/protocol.ts';
import { commitSigners, headerFor, makeCommit } from '../../src/consensus/block-builder.ts';
import type { Chain } from '../../src/consensus/chain.ts';
import type { ChainEventStream } from '../../src/index/stream.ts';
import { addressFromPublicKey, formatAddress, type Address } from '../../src/crypto/address.ts';
import { SigningKey } from '../../src/crypto/ed25519.ts';
import { parseGenesis, type Genesis, type GenesisJson } from '../../src/genesis.ts';
import { defaultRegistry } from '../../src/modules.ts';
import { openChain } from '../../src/node.ts';
import type { Application, FinalizedBlock } from '../../src/state/app.ts';
import { readAccount, readSupply } from '../../src/state/bank/keeper.ts';
import { moduleEvents, undeclaredEventProblem } from '../../src/state/events.ts';
import type { ChainReader, EventDefinition, TxDefinition } from '../../src/state/module.ts';
import type { TxRegistry } from '../../src/state/registry.ts';
import { buildTx } from '../../src/state/tx.ts';
import { MemoryKvStore, type KvStore } from '../../src/storage/db.ts';
import type { Block, Commit, Receipt } from '../../src/codec/core.ts';
import type { JsonValue } from '../../src/codec/json.ts';

/**
 * An application driven block by block in-process, for module tests: real codec, real signatures,
 * real state tree (over the in-memory store unless one is given), and blocks signed by the one
 * validator and committed through the real `Chain.append` (block store, chain index, event
 * stream). After every block it checks every module invariant, that supply never changes, and
 * that every event emitted is declared by a module and matches its declaration.
 */
export class TestChain {
  readonly app: Application;
  readonly genesis: Genesis;
  readonly validator: SigningKey;
  /** The committed chain: blocks, receipts, the chain index and the event stream. */
  readonly chain: Chain;
  private readonly nonces = new Map<string, number>();
  private readonly declaredEvents: ReadonlyMap<string, EventDefinition>;
  private lastCommit: Commit | undefined;
  /** Keys of every validator this chain may sign with (v0 plus `extraValidators`), by hex address. */
  private readonly signingKeys = new Map<string, SigningKey>();
  /** Validators (hex address) whose precommits the next commits leave out. */
  private readonly absent = new Set<string>();
  private initialSupply = 0n;
  private timeMs: number;

  private constructor(app: Application, genesis: Genesis, validator: SigningKey, chain: Chain) {
    this.app = app;
    this.genesis = genesis;
    this.validator = validator;
    this.chain = chain;
    this.declaredEvents = moduleEvents(app.registry.modules);
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
    /** The committed chain's event stream (default: a fresh one). */
    events?: ChainEventStream;
    /** v0's power (default 1). */
    validatorPower?: number;
    /** More genesis validators; every known key signs each commit unless marked absent. */
    extraValidators?: { key: SigningKey; power: number }[];
  }): Promise<TestChain> {
    const validator = opts.validator ?? SigningKey.generate();
    const hexKey = (k: SigningKey) => Buffer.from(k.publicKey).toString('hex');
    const genesis = parseGenesis({
      chainId: 'test-chain',
      genesisTimeMs: 1_700_000_000_000,
      validators: [
        { name: 'v0', publicKey: hexKey(validator), power: opts.validatorPower ?? 1 },
        ...(opts.extraValidators ?? []).map((v, i) => ({
          name: `v${i + 1}`,
          publicKey: hexKey(v.key),
          power: v.power,
        })),
      ],
      accounts: opts.funded.map((f) => ({
        address: formatAddress(addressFromPublicKey(f.key.publicKey)),
        balance: f.balance.toString(),
      })),
      params: opts.params,
      modules: opts.modules,
    });
    const db = opts.db ?? new MemoryKvStore();
    const { app, chain: committed } = await openChain({
      db,
      genesis,
      registry: opts.registry ?? defaultRegistry(),
      events: opts.events,
    });
    const chain = new TestChain(app, genesis, validator, committed);
    for (const k of [validator, ...(opts.extraValidators ?? []).map((v) => v.key)])
      chain.signingKeys.set(Buffer.from(addressFromPublicKey(k.publicKey)).toString('hex'), k);
    chain.initialSupply = await readSupply(app.queryContext(chain.reader).state);
    return chain;
  }

  get reader(): ChainReader {
    return this.chain;
  }

  /** The chain itself, for what RPC methods read (block store, index, heights). */
  get committed(): Chain {
    return this.chain;
  }

  /** Sign a message as `key` with the next nonce and the minimum fee (or `fee`). */
  sign<M>(key: SigningKey, def: TxDefinition<M>, message: M, fee?: bigint): Uint8Array {
    const id = Buffer.from(key.publicKey).toString('hex');
    const nonce = this.nonces.get(id) ?? 0;
    // Build first: a message refused by validateBasic must not use up the nonce.
    const tx = buildTx(key, def, message, {
      chainId: this.genesis.chainId,
      nonce,
      fee: fee ?? this.genesis.params.minFee,
    });
    this.nonces.set(id, nonce + 1);
    return tx;
  }

  /** Whether `validator`'s precommit is left out of the commits of the next blocks (a validator that is down). */
  setAbsent(validator: Address, absent: boolean): void {
    const id = Buffer.from(validator).toString('hex');
    if (absent) this.absent.add(id);
    else this.absent.delete(id);
  }

  /** Execute one block holding `txs` (validate mode: every tx must be includable), commit it, check invariants. */
  async block(txs: Uint8Array[]): Promise<FinalizedBlock> {
    this.timeMs += 1000;
    const decoded = txs.map((b) => this.app.decodeTx(b));
    const finalized = await this.app.finalizeBlock(
      {
        chainId: this.genesis.chainId,
        height: this.app.height + 1,
        timeMs: this.timeMs,
        proposer: addressFromPublicKey(this.validator.publicKey),
        lastCommitSigners: commitSigners(this.lastCommit),
      },
      decoded,
      'validate',
    );
    const [block, commit] = await this.signBlock(finalized);
    await this.chain.commitBlock(block, commit, finalized);
    const problems = [...finalized.receipts.flatMap((r) => r.events), ...finalized.endBlockEvents]
      .map((e) => undeclaredEventProblem(this.declaredEvents, e))
      .filter((p) => p !== undefined);
    expect(problems).toEqual([]);
    await this.expectInvariants();
    return finalized;
  }

  /** The block and commit certificate the single validator makes for an executed block. */
  private async signBlock(finalized: FinalizedBlock): Promise<[Block, Commit]> {
    const header = await headerFor(this.chain, finalized, this.lastCommit);
    const hash = headerHash(header);
    const block: Block = {
      header,
      proposer_signature: this.validator.sign(headerSignBytes(hash)),
      txs: finalized.txs.map((t) => t.bytes),
      last_commit: this.lastCommit,
    };
    const { chainId, height } = finalized.info;
    const signBytes = voteSignBytes({ chainId, type: VoteType.precommit, height, round: 0, blockHash: hash });
    const signatures = [];
    for (const v of (await this.chain.validatorSet(height)).validators) {
      const id = Buffer.from(v.address).toString('hex');
      const key = this.signingKeys.get(id);
      if (key && !this.absent.has(id)) signatures.push({ validator: v.address, signature: key.sign(signBytes) });
    }
    const commit = makeCommit(height, 0, hash, signatures);
    this.lastCommit = commit;
    return [block, commit];
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
