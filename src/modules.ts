import { AI_MODULES } from './attribution/index.ts';
import { bankModule } from './state/bank/module.ts';
import type { Module } from './state/module.ts';
import { TxRegistry } from './state/registry.ts';

/**
 * The module list: the one place a module is switched on. Order matters only for end-of-block
 * hooks, which run in this order on every node.
 */
export const MODULES: readonly Module[] = [...AI_MODULES, bankModule];

export function defaultRegistry(): TxRegistry {
  return new TxRegistry(MODULES);
}
