/** The rewards module's public surface; its parts are in ./rewards/ (the Module object in index.ts). */
export * from './rewards/index.ts';
export * from './rewards/txs.ts';
export * from './rewards/keys.ts';
export * from './rewards/views.ts';
export * from './rewards/queries.ts';
export * from './rewards/keepers.ts';
export * from './rewards/invariants.ts';
