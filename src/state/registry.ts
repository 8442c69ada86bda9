import { TributaryError } from '../errors.ts';
import type { Module, QueryDefinition, StateKeyDefinition, TxDefinition } from './module.ts';

export type RegistryErrorCode = 'tx/unknown_type';

/** The type table, built once from the module list; duplicates are a programming error. */
export class TxRegistry {
  readonly modules: readonly Module[];
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  private readonly byType = new Map<string, TxDefinition<any>>();
  private readonly queryByMethod = new Map<string, QueryDefinition>();
  private readonly stateKeyByKind = new Map<string, StateKeyDefinition>();

  constructor(modules: readonly Module[]) {
    this.modules = modules;
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
