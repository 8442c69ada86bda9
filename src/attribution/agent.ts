/** The agent module's public surface; its parts are in ./agent/ (the Module object in index.ts). */
export * from './agent/index.ts';
export * from './agent/txs.ts';
export * from './agent/keys.ts';
export * from './agent/views.ts';
export * from './agent/queries.ts';
export * from './agent/keepers.ts';
export * from './agent/invariants.ts';
