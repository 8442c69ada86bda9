import type { StateReader } from '../../state/working-state.ts';
import { type AttributionRecord, AttributionRecordCodec, PREFIX, idKey, load, readId } from '../store.ts';

/* The attribution module: state keys and record access. */

/** Absolute bound; the `maxWeights` parameter may lower it. */
export const MAX_WEIGHTS = 1_024;

export function recordKey(id: number): Uint8Array {
  return idKey(PREFIX.record, id);
}

export async function readRecord(state: StateReader, id: number): Promise<AttributionRecord | undefined> {
  return load(state, AttributionRecordCodec, recordKey(id));
}

/** The upheld dispute that flagged a record (payments may no longer name it), or undefined. */
export async function readRecordFlag(state: StateReader, id: number): Promise<number | undefined> {
  return readId(state, idKey(PREFIX.recordFlag, id));
}
