import { canonicalJson } from '../../codec/json.ts';
import { parseAddress } from '../../crypto/address.ts';
import { TributaryError } from '../../errors.ts';
import {
  CONTENT_KIND_NAMES,
  type Content,
  type MsgDeposit,
  type MsgPropose,
  type MsgVote,
  OPTION_NAMES,
} from '../../state/gov/records.ts';
import { cliAmount, cliHex, cliInt, cliString } from './parse.ts';
import { txCliSpec, type TxCliSpecs } from './types.ts';

/** A name from a table of numbered names ("param_change" or "param-change"), as its number. */
function numberOf(table: Record<number, string>, value: string, what: string): number {
  const wanted = value.replaceAll('-', '_');
  for (const [n, name] of Object.entries(table)) if (name === wanted) return Number(n);
  throw new TributaryError('cli/invalid', `${what} must be one of ${Object.values(table).join(', ')}, got "${value}"`);
}

/** The parameter change as canonical JSON (what the proposal must carry), from any JSON spelling. */
function canonicalParams(text: string): string {
  if (text === '') return '';
  try {
    return canonicalJson(JSON.parse(text));
  } catch {
    throw new TributaryError('cli/invalid', '--params must be JSON with integers only');
  }
}

/** `tributary tx` commands of the governance module, keyed by transaction type. */
export const govCliSpecs: TxCliSpecs = {
  'gov/propose': txCliSpec<MsgPropose>({
    name: 'gov-propose',
    description:
      'submit a governance proposal: a parameter change (--params), a validator addition (--public-key, --power, ' +
      '--name), a validator removal (--public-key) or a treasury spend (--recipient, --amount)',
    options: [
      { flags: '--kind <kind>', description: Object.values(CONTENT_KIND_NAMES).join(' | '), required: true },
      { flags: '--title <text>', description: 'what the proposal does, in a line', required: true },
      {
        flags: '--params <json>',
        description:
          'partial chain parameters, e.g. {"modules":{"gov":{...}}} (fields of a module section are merged into it)',
      },
      { flags: '--public-key <hex>', description: 'the Ed25519 public key of the validator to add or remove' },
      { flags: '--power <n>', description: 'voting power of the validator to add' },
      { flags: '--name <text>', description: 'name of the validator to add' },
      { flags: '--recipient <address>', description: 'who a treasury spend pays (trib1...)' },
      { flags: '--amount <baseUnits>', description: 'what a treasury spend pays' },
      { flags: '--deposit <baseUnits>', description: 'initial deposit, moved to the gov account', defaultValue: '0' },
    ],
    build(o) {
      const recipient = cliString(o.recipient);
      const content: Content = {
        kind: numberOf(CONTENT_KIND_NAMES, cliString(o.kind), '--kind'),
        title: cliString(o.title),
        params_json: canonicalParams(cliString(o.params)),
        public_key: cliHex(o.publicKey),
        power: cliInt(o.power, 'power'),
        name: cliString(o.name),
        recipient: recipient === '' ? new Uint8Array(0) : parseAddress(recipient),
        amount: cliAmount(o.amount, 'amount'),
      };
      return { content, initial_deposit: cliAmount(o.deposit, 'deposit') };
    },
  }),
  'gov/deposit': txCliSpec<MsgDeposit>({
    name: 'gov-deposit',
    description: 'add to the deposit of a proposal in its deposit period',
    options: [
      { flags: '--proposal <id>', description: 'proposal id', required: true },
      { flags: '--amount <baseUnits>', description: 'amount in base units', required: true },
    ],
    build(o) {
      return { proposal_id: cliInt(o.proposal, 'proposal'), amount: cliAmount(o.amount, 'amount') };
    },
  }),
  'gov/vote': txCliSpec<MsgVote>({
    name: 'gov-vote',
    description:
      'vote on a proposal in its voting period (by bonded stake; validators only, one vote each, on validator-set proposals)',
    options: [
      { flags: '--proposal <id>', description: 'proposal id', required: true },
      { flags: '--option <option>', description: Object.values(OPTION_NAMES).join(' | '), required: true },
    ],
    build(o) {
      return {
        proposal_id: cliInt(o.proposal, 'proposal'),
        option: numberOf(OPTION_NAMES, cliString(o.option), '--option'),
      };
    },
  }),
};
