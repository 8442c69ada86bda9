import type { ModuleStore } from '../../state/module-store.ts';
import type { StateReader } from '../../state/working-state.ts';
import {
  type Contribution,
  ContributionCodec,
  type Datanet,
  DatanetCodec,
  PREFIX,
  idKey,
  load,
  save,
} from '../store.ts';

/* The datanet module: state keys and record access. */

export function datanetKey(id: number): Uint8Array {
  return idKey(PREFIX.datanet, id);
}

export function contributionKey(id: number): Uint8Array {
  return idKey(PREFIX.contribution, id);
}

export async function readDatanet(state: StateReader, id: number): Promise<Datanet | undefined> {
  return load(state, DatanetCodec, datanetKey(id));
}

export async function readContribution(state: StateReader, id: number): Promise<Contribution | undefined> {
  return load(state, ContributionCodec, contributionKey(id));
}

export function writeContribution(state: ModuleStore, c: Contribution): void {
  save(state, ContributionCodec, contributionKey(c.id), c);
}

export function vestingKey(height: number): Uint8Array {
  return idKey(PREFIX.vesting, height);
}
