/** The dispute module's public surface; its parts are in ./dispute/ (the Module object in index.ts). */
export * from './dispute/index.ts';
export * from './dispute/txs.ts';
export * from './dispute/keys.ts';
export * from './dispute/views.ts';
export * from './dispute/queries.ts';
export * from './dispute/keepers.ts';
export * from './dispute/invariants.ts';
