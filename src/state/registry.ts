import { TributaryError } from '../errors.ts';
import type { Module, QueryDefinition, StateKeyDefinition, TxDefinition } from './module.ts';

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
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  private readonly byType = new Map<string, TxDefinition<any>>();
  private readonly queryByMethod = new Map<string, QueryDefinition>();
  private readonly stateKeyByKind = new Map<string, StateKeyDefinition>();

  constructor(modules: readonly Module[], order: ModuleOrder) {
    this.modules = modules;
    this.beginBlockers = hookOrder(modules, order.beginBlock, 'beginBlock');
    this.endBlockers = hookOrder(modules, order.endBlock, 'endBlock');
    for (const mod of modules) {
      for (const def of mod.txs) {
        if (!def.type.startsWith(mod.name + '/') && !def.type.includes('/')) {
          throw new Error(`tx type ${def.type} must be "<module>/<action>"`);
        }
        if (this.byType.has(def.type)) throw new Error(`tx type ${def.type} registered twice`);
        this.byType.set(def.type, def);
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

  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  get(type: string): TxDefinition<any> {
    const def = this.byType.get(type);
    if (!def) throw new TributaryError('tx/unknown_type', `unknown transaction type "${type}"`, { type });
    return def;
  }

  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  get txDefinitions(): TxDefinition<any>[] {
    return [...this.byType.values()];
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
}

function hookOrder(modules: readonly Module[], names: readonly string[], hook: 'beginBlock' | 'endBlock'): Module[] {
  const byName = new Map(modules.map((m) => [m.name, m]));
  const out = names.map((name) => {
    const mod = byName.get(name);
    if (!mod || !mod[hook]) throw new Error(`${hook} order names ${name}, which is not a module with that hook`);
    return mod;
  });
  for (const mod of modules) {
    if (mod[hook] && out.filter((m) => m === mod).length !== 1) throw new Error(`${hook} order must name ${mod.name} once`);
  }
  return out;
}
