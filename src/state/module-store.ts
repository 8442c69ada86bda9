import { toHex } from '../crypto/hash.ts';
import { TributaryError } from '../errors.ts';
import type { StateReader, WorkingState } from './working-state.ts';

/*
 * A module's view of one working state. Reads reach any key (the payment path reads model,
 * datanet and attribution records on every payment, and a read cannot break another module's
 * invariants); writes reach only the module's declared prefixes (`Module.storePrefixes`, default
 * "<name>/"): a write outside them throws `state/write_outside_prefix`, so a module changes
 * another module's records only through that module's keeper. The working state under it is a
 * private field: a module holding its store cannot reach the buffer itself.
 *
 * Caching (decoded values, committed values) is the working state's (see working-state.ts), so
 * it holds whoever writes. The store adds a count of its own writes (reverted ones included), which
 * lets a module keep a value derived from its records until its next write.
 */

export type ModuleStoreErrorCode = 'state/write_outside_prefix';

interface RecordCodec<T> {
  encode(value: T): Uint8Array;
  decodeStored(bytes: Uint8Array): T;
}

export class ModuleStore implements StateReader {
  readonly module: string;
  readonly #state: WorkingState;
  readonly #prefixes: readonly Uint8Array[];
  #writes = 0;

  constructor(state: WorkingState, module: string, prefixes: readonly Uint8Array[]) {
    this.#state = state;
    this.module = module;
    this.#prefixes = prefixes;
  }

  get(key: Uint8Array): Promise<Uint8Array | undefined> {
    return this.#state.get(key);
  }

  set(key: Uint8Array, value: Uint8Array): void {
    this.#guard(key);
    this.#state.set(key, value);
  }

  delete(key: Uint8Array): void {
    this.#guard(key);
    this.#state.delete(key);
  }

  /** The decoded record at `key`, a copy the caller may change. */
  load<T>(codec: RecordCodec<T>, key: Uint8Array): Promise<T | undefined> {
    return this.#state.load(codec, key);
  }

  save<T>(codec: RecordCodec<T>, key: Uint8Array, value: T): void {
    this.#guard(key);
    this.#state.save(codec, key, value);
  }

  /** The parsed value at `key`, shared (never mutate it); see WorkingState.loadCached. */
  loadCached<T>(key: Uint8Array, parse: (raw: Uint8Array) => T): Promise<T | undefined> {
    return this.#state.loadCached(key, parse);
  }

  /** Whether the key has a buffered write in this working state. */
  hasWrite(key: Uint8Array): boolean {
    return this.#state.hasWrite(key);
  }

  /** Writes through this store so far (reverted ones included): changes whenever its records may have. */
  get writeCount(): number {
    return this.#writes;
  }

  /**
   * The module's block-scoped scratch value: lives as long as the working state, outside its
   * checkpoints, so a revert does not undo it. Safe only for what cannot be reverted any more
   * (filled as a transaction's last step) or for caches whose validity is checked on use.
   */
  scratch<T>(slot: string, init: () => T): T {
    return this.#state.scratch(`${this.module}:${slot}`, init);
  }

  /** Removes and returns the scratch value (undefined when there is none). */
  takeScratch<T>(slot: string): T | undefined {
    return this.#state.takeScratch<T>(`${this.module}:${slot}`);
  }

  #guard(key: Uint8Array): void {
    this.#writes += 1;
    for (const prefix of this.#prefixes) if (hasPrefix(key, prefix)) return;
    throw new TributaryError('state/write_outside_prefix', `module ${this.module} may not write this key`, {
      module: this.module,
      key: toHex(key),
    });
  }
}

function hasPrefix(key: Uint8Array, prefix: Uint8Array): boolean {
  if (key.length < prefix.length) return false;
  for (let i = 0; i < prefix.length; i++) if (key[i] !== prefix[i]) return false;
  return true;
}
