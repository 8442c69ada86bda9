import type { MsgContribute, MsgCreateDatanet, MsgReview } from '../../attribution/store.ts';
import { TributaryError } from '../../errors.ts';
import { cliAddresses, cliAmount, cliHex, cliInt, cliString } from './parse.ts';
import { txCliSpec, type TxCliSpecs } from './types.ts';

/** `tributary tx` commands of the datanet module, keyed by transaction type. */
export const datanetCliSpecs: TxCliSpecs = {
  'datanet/create': txCliSpec<MsgCreateDatanet>({
    name: 'datanet-create',
    description: 'create a datanet you own',
    options: [
      { flags: '--name <text>', description: 'datanet name', required: true },
      { flags: '--metadata-hash <hex>', description: '32-byte hash of the metadata document', required: true },
      { flags: '--licence <spdx>', description: 'licence of the data, e.g. CC-BY-4.0', required: true },
      { flags: '--curators <addresses>', description: 'comma-separated curator addresses' },
      { flags: '--min-stake <baseUnits>', description: 'minimum stake per contribution', defaultValue: '0' },
      {
        flags: '--challenge-window <blocks>',
        description: 'blocks before an accepted contribution vests',
        defaultValue: '0',
      },
    ],
    build(o) {
      return {
        name: cliString(o.name),
        metadata_hash: cliHex(o.metadataHash),
        licence: cliString(o.licence),
        curators: cliAddresses(o.curators),
        min_stake: cliAmount(o.minStake, 'min-stake'),
        challenge_window: cliInt(o.challengeWindow, 'challenge-window'),
      };
    },
  }),
  'datanet/contribute': txCliSpec<MsgContribute>({
    name: 'datanet-contribute',
    description: 'submit data to a datanet, escrowing a stake',
    options: [
      { flags: '--datanet <id>', description: 'datanet id', required: true },
      { flags: '--content-hash <hex>', description: '32-byte hash of the canonical data', required: true },
      { flags: '--size <bytes>', description: 'size of the data in bytes', required: true },
      { flags: '--uri <uri>', description: 'where the data can be fetched', defaultValue: '' },
      {
        flags: '--stake <baseUnits>',
        description: 'stake escrowed until the challenge window ends',
        defaultValue: '0',
      },
    ],
    build(o) {
      return {
        datanet_id: cliInt(o.datanet, 'datanet'),
        content_hash: cliHex(o.contentHash),
        size: cliInt(o.size, 'size'),
        uri: cliString(o.uri),
        stake: cliAmount(o.stake, 'stake'),
      };
    },
  }),
  'datanet/review': txCliSpec<MsgReview>({
    name: 'datanet-review',
    description: 'accept or reject a pending contribution (datanet owner or curator)',
    options: [
      { flags: '--contribution <id>', description: 'contribution id', required: true },
      { flags: '--accept', description: 'accept the contribution' },
      { flags: '--reject', description: 'reject the contribution (returns its stake)' },
    ],
    build(o) {
      if (o.accept === o.reject) throw new TributaryError('cli/invalid', 'give exactly one of --accept and --reject');
      return { contribution_id: cliInt(o.contribution, 'contribution'), accept: o.accept === true };
    },
  }),
};
