import { writeFileSync } from 'node:fs';
import { QUERY_COMMANDS_PATH, queryCommandsOf } from '../src/cli/query-commands.ts';
import { defaultRegistry } from '../src/modules.ts';

/*
 * `npm run query-commands`: writes src/cli/query-commands.json, the `tributary query <name>`
 * commands of every module query with a CLI name, so that the CLI builds them without loading the
 * modules (a unit test fails while the file is stale).
 */
writeFileSync(QUERY_COMMANDS_PATH, JSON.stringify(queryCommandsOf(defaultRegistry().queries), null, 2) + '\n');
console.log(`wrote ${QUERY_COMMANDS_PATH.pathname}`);
