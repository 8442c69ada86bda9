/** The datanet module's public surface; its parts are in ./datanet/ (the Module object in index.ts). */
export * from './datanet/index.ts';
export * from './datanet/txs.ts';
export * from './datanet/keys.ts';
export * from './datanet/views.ts';
export * from './datanet/queries.ts';
export * from './datanet/keepers.ts';
export * from './datanet/invariants.ts';
