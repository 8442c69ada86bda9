/** The attribution module's public surface; its parts are in ./record/ (the Module object in index.ts). */
export * from './record/index.ts';
export * from './record/txs.ts';
export * from './record/keys.ts';
export * from './record/views.ts';
export * from './record/queries.ts';
export * from './record/keepers.ts';
