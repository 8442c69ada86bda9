import type { StateReader } from '../../state/working-state.ts';
import {
  type AncestorSet,
  AncestorSetCodec,
  type ModelUsage,
  ModelUsageCodec,
  type ModelVersion,
  ModelVersionCodec,
  PREFIX,
  idKey,
  load,
  readId,
} from '../store.ts';

/* The model module: state keys and record access. */

/** Absolute limit; the chain parameter `maxParents` may only lower it. */
export const MAX_PARENTS = 16;

export function versionKey(id: number): Uint8Array {
  return idKey(PREFIX.version, id);
}

export async function readVersion(state: StateReader, id: number): Promise<ModelVersion | undefined> {
  return load(state, ModelVersionCodec, versionKey(id));
}

export async function readAncestors(state: StateReader, id: number): Promise<AncestorSet> {
  return (await load(state, AncestorSetCodec, idKey(PREFIX.ancestors, id))) ?? { models: [], datanets: [] };
}

export async function readUsage(state: StateReader, id: number): Promise<ModelUsage> {
  return (await load(state, ModelUsageCodec, idKey(PREFIX.usage, id))) ?? { paid_count: 0, paid_amount: 0n };
}

/** The upheld dispute that flagged a version's lineage, or undefined. */
export async function readVersionFlag(state: StateReader, id: number): Promise<number | undefined> {
  return readId(state, idKey(PREFIX.versionFlag, id));
}
