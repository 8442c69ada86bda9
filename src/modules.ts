import { AI_MODULES } from './attribution/index.ts';
import { bankModule } from './state/bank/module.ts';
import { chainConfigModule } from './state/chainconfig/module.ts';
import { evidenceModule } from './state/evidence/module.ts';
import type { Module } from './state/module.ts';
import { TxRegistry, type ModuleOrder } from './state/registry.ts';

/** The module list: the one place a module is switched on. */
export const MODULES: readonly Module[] = [chainConfigModule, ...AI_MODULES, evidenceModule, bankModule];

/**
 * Block hook order, the same on every node. Begin: the chainconfig module first, so every later hook
 * sees the validator set and parameters in force. End: the AI-economy modules before the bank,
 * because the block's payment credits move the validators' share into the fee collector, which
 * the bank then pays out to the validators in the same block.
 */
export const MODULE_ORDER: ModuleOrder = {
  beginBlock: ['chainconfig'],
  endBlock: ['datanet', 'inference', 'bank'],
};

export function defaultRegistry(): TxRegistry {
  return new TxRegistry(MODULES, MODULE_ORDER);
}
