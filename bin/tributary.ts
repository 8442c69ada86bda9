import { enableCompileCache } from 'node:module';

// Node keeps the compiled (type-stripped) code of every module it loads, in $NODE_COMPILE_CACHE
// or <tmpdir>/node-compile-cache, keyed by content: the CLI's start-up then skips most of the
// compiling. Enabled before anything else is imported, hence the dynamic import.
enableCompileCache();
const { main } = await import('../src/cli/main.ts');
await main(process.argv);
