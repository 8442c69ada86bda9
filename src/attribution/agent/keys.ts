import { sha256, utf8 } from '../../crypto/hash.ts';
import type { StateReader } from '../../state/working-state.ts';
import { type Agent, type AgentAction, AgentActionCodec, AgentCodec, PREFIX, idKey, load, readId } from '../store.ts';

/* The agent module: state keys and record access. */

export const MAX_CONTROLLERS = 16;

export const ACTION_DOMAIN = utf8.encode('tributary/agent-action/v1\0');

export function agentKey(id: number): Uint8Array {
  return idKey(PREFIX.agent, id);
}

export async function readAgent(state: StateReader, id: number): Promise<Agent | undefined> {
  return load(state, AgentCodec, agentKey(id));
}

/** The chain link: hash of the action record with its own hash field empty. */
export function actionHash(action: AgentAction): Uint8Array {
  return sha256(ACTION_DOMAIN, AgentActionCodec.encode({ ...action, action_hash: new Uint8Array(0) }));
}

/** The latest upheld dispute against one of an agent's actions, or undefined. */
export async function readAgentFlag(state: StateReader, id: number): Promise<number | undefined> {
  return readId(state, idKey(PREFIX.agentFlag, id));
}
