/** The inference module's public surface; its parts are in ./inference/ (the Module object in index.ts). */
export * from './inference/index.ts';
export * from './inference/txs.ts';
export * from './inference/views.ts';
export * from './inference/queries.ts';
export * from './inference/keepers.ts';
export * from './inference/credits.ts';
