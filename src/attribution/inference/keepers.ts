import type { KeeperSource } from '../../state/module.ts';
import type { Payments } from '../expected.ts';
import { executePayment } from './txs.ts';

/* The inference module: what this module offers other modules (bound in src/modules.ts). */

/** Payments for other modules (`agent/act`): run over the inference store, whoever's transaction it is. */
export const paymentsKeeper: KeeperSource<Payments> = {
  module: 'inference',
  create: (env) => ({ pay: (ctx, req) => executePayment(ctx, env, req) }),
};
