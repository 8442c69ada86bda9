import { TributaryError } from '../errors.ts';
import { utf8 } from '../crypto/hash.ts';
import type {
  KeeperSlot,
  KeeperSource,
  Module,
  QueryDefinition,
  StateKeyDefinition,
  AnyTxDefinition,
  FeeRule,
  ModuleAccount,
} from './module.ts';
import type { ChainParams } from './params.ts';

export type RegistryErrorCode = 'tx/unknown_type';

/**
 * Which modules' block hooks run, and in what order (Cosmos's SetOrderBeginBlockers /
 * SetOrderEndBlockers): stated once, in the module list, and checked to name every module that
 * has the hook exactly once.
 */
export interface ModuleOrder {
  beginBlock: readonly string[];
  endBlock: readonly string[];
}

/** The type table, built once from the module list; duplicates are a programming error. */
export class TxRegistry {
  readonly modules: readonly Module[];
  /** Modules with a begin-block hook, in hook order. */
  readonly beginBlockers: readonly Module[];
  /** Modules with an end-block hook, in hook order. */
  readonly endBlockers: readonly Module[];
  private readonly byType = new Map<string, AnyTxDefinition>();
  private readonly queryByMethod = new Map<string, QueryDefinition>();
  private readonly stateKeyByKind = new Map<string, StateKeyDefinition>();
  private readonly moduleByTx = new Map<AnyTxDefinition, Module>();
  private readonly prefixesByModule = new Map<string, readonly Uint8Array[]>();
  private readonly bindingsByModule = new Map<string, Map<KeeperSlot<unknown>, KeeperSource<unknown>>>();

  constructor(modules: readonly Module[], order: ModuleOrder) {
    this.modules = modules;
    this.beginBlockers = hookOrder(modules, order.beginBlock, 'beginBlock');
    this.endBlockers = hookOrder(modules, order.endBlock, 'endBlock');
    this.checkStores(modules);
    for (const mod of modules) {
      for (const def of mod.txs) {
        if (!def.type.startsWith(mod.name + '/') && !def.type.includes('/')) {
          throw new Error(`tx type ${def.type} must be "<module>/<action>"`);
        }
        if (this.byType.has(def.type)) throw new Error(`tx type ${def.type} registered twice`);
        this.byType.set(def.type, def);
        this.moduleByTx.set(def, mod);
      }
      for (const q of mod.queries ?? []) {
        if (this.queryByMethod.has(q.method)) throw new Error(`query ${q.method} registered twice`);
        this.queryByMethod.set(q.method, q);
      }
      for (const k of mod.stateKeys ?? []) {
        if (this.stateKeyByKind.has(k.kind)) throw new Error(`state key kind ${k.kind} registered twice`);
        this.stateKeyByKind.set(k.kind, k);
      }
    }
  }

  get(type: string): AnyTxDefinition {
    const def = this.byType.get(type);
    if (!def) throw new TributaryError('tx/unknown_type', `unknown transaction type "${type}"`, { type });
    return def;
  }

  get txDefinitions(): AnyTxDefinition[] {
    return [...this.byType.values()];
  }

  /** The module that declares a transaction type (whose store its `execute` gets). */
  moduleOf(def: AnyTxDefinition): Module {
    const mod = this.moduleByTx.get(def);
    if (!mod) throw new Error(`tx type ${def.type} is not registered`);
    return mod;
  }

  module(name: string): Module {
    const mod = this.modules.find((m) => m.name === name);
    if (!mod) throw new Error(`module ${name} is not registered`);
    return mod;
  }

  /** The key prefixes a module's store may write. */
  storePrefixes(module: string): readonly Uint8Array[] {
    const prefixes = this.prefixesByModule.get(module);
    if (!prefixes) throw new Error(`module ${module} is not registered`);
    return prefixes;
  }

  /** The provider bound to one of a module's expected keepers. */
  keeperSource<K>(consumer: string, slot: KeeperSlot<K>): KeeperSource<K> {
    const source = this.bindingsByModule.get(consumer)?.get(slot);
    if (!source) throw new Error(`module ${consumer} did not declare and bind keeper ${slot.name}`);
    return source as KeeperSource<K>;
  }

  /*
   * Store prefixes must not overlap (a write guard that two modules pass is no guard), and every
   * expected keeper must be bound to a keeper its provider lists, so no module can bring its own
   * "keeper" for another module's store.
   */
  private checkStores(modules: readonly Module[]): void {
    const all: { module: string; prefix: string }[] = [];
    for (const mod of modules) {
      const prefixes = mod.storePrefixes ?? [`${mod.name}/`];
      for (const prefix of prefixes) {
        for (const other of all) {
          if (prefix.startsWith(other.prefix) || other.prefix.startsWith(prefix)) {
            throw new Error(`store prefix ${prefix} of ${mod.name} overlaps ${other.prefix} of ${other.module}`);
          }
        }
        all.push({ module: mod.name, prefix });
      }
      this.prefixesByModule.set(
        mod.name,
        prefixes.map((p) => utf8.encode(p)),
      );
    }
    const byName = new Map(modules.map((m) => [m.name, m]));
    for (const mod of modules) {
      const bound = new Map<KeeperSlot<unknown>, KeeperSource<unknown>>();
      for (const { slot, source } of mod.keeperBindings ?? []) {
        if (!(mod.expects ?? []).includes(slot))
          throw new Error(`module ${mod.name} binds keeper ${slot.name}, which it does not expect`);
        if (!byName.get(source.module)?.keepers?.includes(source)) {
          throw new Error(
            `keeper ${slot.name} of ${mod.name} is bound to a keeper that module ${source.module} does not offer`,
          );
        }
        bound.set(slot, source);
      }
      for (const slot of mod.expects ?? []) {
        if (!bound.has(slot))
          throw new Error(`module ${mod.name} expects keeper ${slot.name}, which the module list does not bind`);
      }
      this.bindingsByModule.set(mod.name, bound);
    }
  }

  stateKey(kind: string): StateKeyDefinition | undefined {
    return this.stateKeyByKind.get(kind);
  }

  get stateKeys(): StateKeyDefinition[] {
    return [...this.stateKeyByKind.values()];
  }

  get queries(): QueryDefinition[] {
    return [...this.queryByMethod.values()];
  }

  /** Every module account, in module order. */
  get moduleAccounts(): (ModuleAccount & { module: string })[] {
    return this.modules.flatMap((m) => (m.moduleAccounts ?? []).map((a) => ({ ...a, module: m.name })));
  }

  /** Every fee rule at `params`: the chain's `minFee` first, then each module's, in module order. */
  feeRules(params: ChainParams): (FeeRule & { module: string })[] {
    return [
      { module: 'chain', param: 'params.minFee', amount: params.minFee, per: 'transaction', txTypes: ['*'] },
      ...this.modules.flatMap((m) => (m.feeRules?.(params) ?? []).map((r) => ({ ...r, module: m.name }))),
    ];
  }
}

function hookOrder(modules: readonly Module[], names: readonly string[], hook: 'beginBlock' | 'endBlock'): Module[] {
  const byName = new Map(modules.map((m) => [m.name, m]));
  const out = names.map((name) => {
    const mod = byName.get(name);
    if (!mod?.[hook]) throw new Error(`${hook} order names ${name}, which is not a module with that hook`);
    return mod;
  });
  for (const mod of modules) {
    if (mod[hook] && out.filter((m) => m === mod).length !== 1)
      throw new Error(`${hook} order must name ${mod.name} once`);
  }
  return out;
}
