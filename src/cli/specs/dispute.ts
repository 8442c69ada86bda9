import { DISPUTE_REASON_NAMES, DISPUTE_TARGET_NAMES, REASONS_BY_TARGET } from '../../attribution/dispute/keys.ts';
import type { MsgOpenDispute, MsgRespondDispute, MsgVoteDispute } from '../../attribution/store.ts';
import { TributaryError } from '../../errors.ts';
import { cliAmount, cliChoice, cliHex, cliInt } from './parse.ts';
import { txCliSpec, type TxCliSpecs } from './types.ts';

/** `tributary tx` commands of the dispute module, keyed by transaction type. */
export const disputeCliSpecs: TxCliSpecs = {
  'dispute/open': txCliSpec<MsgOpenDispute>({
    name: 'dispute-open',
    description:
      'open a dispute against a contribution, model version, attribution record or agent action, posting a bond',
    options: [
      {
        flags: '--target <kind>',
        description: `what is disputed: ${Object.values(DISPUTE_TARGET_NAMES).join(', ')}`,
        required: true,
      },
      { flags: '--id <id>', description: 'id of the disputed contribution, model version, ...', required: true },
      {
        flags: '--reason <reason>',
        description: Object.entries(REASONS_BY_TARGET)
          .map(([k, rs]) => `${DISPUTE_TARGET_NAMES[Number(k)]}: ${rs.map((r) => DISPUTE_REASON_NAMES[r]).join('|')}`)
          .join('; '),
        required: true,
      },
      { flags: '--seq <n>', description: 'agent_action only: the action seq (--id is the agent)' },
      { flags: '--evidence-hash <hex>', description: '32-byte hash of the evidence document', required: true },
      {
        flags: '--bond <baseUnits>',
        description: 'bond escrowed until resolution (at least dispute.minBond)',
        required: true,
      },
    ],
    build(o) {
      return {
        target_kind: cliChoice(o.target, DISPUTE_TARGET_NAMES, 'target'),
        target_id: cliInt(o.id, 'id'),
        reason: cliChoice(o.reason, DISPUTE_REASON_NAMES, 'reason'),
        evidence_hash: cliHex(o.evidenceHash),
        bond: cliAmount(o.bond, 'bond'),
        target_seq: cliInt(o.seq, 'seq'),
      };
    },
  }),
  'dispute/respond': txCliSpec<MsgRespondDispute>({
    name: 'dispute-respond',
    description: 'answer a dispute against your target with evidence and a counter-bond',
    options: [
      { flags: '--dispute <id>', description: 'dispute id', required: true },
      { flags: '--evidence-hash <hex>', description: '32-byte hash of the answer', required: true },
      { flags: '--counter-bond <baseUnits>', description: 'counter-bond (at least dispute.minBond)', required: true },
    ],
    build(o) {
      return {
        dispute_id: cliInt(o.dispute, 'dispute'),
        evidence_hash: cliHex(o.evidenceHash),
        counter_bond: cliAmount(o.counterBond, 'counter-bond'),
      };
    },
  }),
  'dispute/vote': txCliSpec<MsgVoteDispute>({
    name: 'dispute-vote',
    description: 'vote on a dispute (datanet owner or curators for a contribution, validators otherwise)',
    options: [
      { flags: '--dispute <id>', description: 'dispute id', required: true },
      { flags: '--uphold', description: 'the dispute is right' },
      { flags: '--reject', description: 'the dispute is wrong' },
    ],
    build(o) {
      if (o.uphold === o.reject) throw new TributaryError('cli/invalid', 'give exactly one of --uphold and --reject');
      return { dispute_id: cliInt(o.dispute, 'dispute'), uphold: o.uphold === true };
    },
  }),
};
