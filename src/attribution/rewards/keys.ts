import type { Address } from '../../crypto/address.ts';
import type { ModuleStore } from '../../state/module-store.ts';
import type { StateReader } from '../../state/working-state.ts';
import { type Earnings, EarningsCodec, PREFIX, bytesKey, load, save } from '../store.ts';

/* The rewards module: state keys and record access. */

export function emptyEarnings(): Earnings {
  return {
    claimable: 0n,
    contributed: 0n,
    refined: 0n,
    executed: 0n,
    curated: 0n,
    claimed: 0n,
    payments: 0,
    contributor_payments: 0,
  };
}

export function earningsKey(address: Address): Uint8Array {
  return bytesKey(PREFIX.earnings, address);
}

export async function readEarnings(state: StateReader, address: Address): Promise<Earnings> {
  return (await load(state, EarningsCodec, earningsKey(address))) ?? emptyEarnings();
}

export function writeEarnings(state: ModuleStore, address: Address, e: Earnings): void {
  save(state, EarningsCodec, earningsKey(address), e);
}
