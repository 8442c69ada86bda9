/** The model module's public surface; its parts are in ./model/ (the Module object in index.ts). */
export * from './model/index.ts';
export * from './model/txs.ts';
export * from './model/keys.ts';
export * from './model/views.ts';
export * from './model/queries.ts';
export * from './model/keepers.ts';
