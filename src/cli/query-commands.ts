import { readFileSync } from 'node:fs';
import type { QueryDefinition } from '../state/module.ts';

/*
 * What `tributary query <name>` needs of a module query (method, description, parameters, CLI
 * name), kept in query-commands.json beside this file: reading it costs a file read, while the
 * registry it is generated from loads every module's schema and codecs. `npm run query-commands`
 * rewrites it; a unit test fails while it is stale.
 */

export type CliQuery = Pick<QueryDefinition, 'method' | 'description' | 'params' | 'cli'>;

export const QUERY_COMMANDS_PATH = new URL('./query-commands.json', import.meta.url);

export function queryCommandsOf(queries: readonly QueryDefinition[]): CliQuery[] {
  return queries
    .filter((q) => q.cli !== undefined)
    .map(({ method, description, params, cli }) => ({ method, description, params, cli }));
}

export function loadQueryCommands(): CliQuery[] {
  return JSON.parse(readFileSync(QUERY_COMMANDS_PATH, 'utf8')) as CliQuery[];
}
