/*
 * How `tributary tx <name>` builds each transaction's message from command-line options. The
 * specs live here, one file per module keyed by transaction type, apart from the modules' rules:
 * a flag's wording changes this folder only. The CLI pairs each spec with the registry's
 * TxDefinition of the same type (src/cli/tx.ts).
 */

export interface CliOption {
  /** commander flags, e.g. "--to <address>" */
  flags: string;
  description: string;
  required?: boolean;
  defaultValue?: string;
}

export type CliValue = string | boolean | string[] | undefined;

export interface TxCliSpec<M> {
  name: string;
  description: string;
  options: CliOption[];
  build(options: Record<string, CliValue>): M;
}

/** Specs by transaction type ("<module>/<action>"). */
/** A spec in the table of many message types; each is used only with its own type (see AnyTxDefinition). */
// biome-ignore lint/suspicious/noExplicitAny: a heterogeneous table
export type AnyTxCliSpec = TxCliSpec<any>;
export type TxCliSpecs = Readonly<Record<string, AnyTxCliSpec>>;

/** Types a spec by its message (so `build` must return one). */
export function txCliSpec<M>(spec: TxCliSpec<M>): TxCliSpec<M> {
  return spec;
}
