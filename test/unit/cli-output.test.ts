import { describe, expect, it } from 'vitest';
import { asRejection, asUsageError, EXIT, exitCodeOf, hintFor } from '../../src/cli/errors.ts';
import { formatAmount, formatOpen, keyValueTable, peopleView, table } from '../../src/cli/format.ts';
import { TributaryError } from '../../src/errors.ts';

describe('CLI output for people', () => {
  it('writes amounts in OPEN with 18 decimals, exactly, and keeps the base units beside them', () => {
    expect(formatOpen(0n)).toBe('0 OPEN');
    expect(formatOpen(1000n)).toBe('0.000000000000001 OPEN');
    expect(formatOpen(10n ** 18n)).toBe('1 OPEN');
    expect(formatOpen('1500000000000000000')).toBe('1.5 OPEN');
    // Far beyond a double's precision: never rounded.
    expect(formatOpen((1n << 128n) - 1n)).toBe('340282366920938463463.374607431768211455 OPEN');
    expect(formatAmount('2330')).toBe('2330 (0.00000000000000233 OPEN)');
  });

  it('aligns tables on their widest cell', () => {
    expect(
      keyValueTable([
        ['a', '1'],
        ['longer', '2'],
      ]),
    ).toBe('a       1\nlonger  2');
    expect(
      table(
        ['name', 'v'],
        [
          ['x', '1'],
          ['yyyy', '22'],
        ],
      ),
    ).toBe('name  v\nx     1\nyyyy  22');
  });
});

describe('CLI exit codes and hints', () => {
  it('tells usage errors, rejected transactions and network failures apart', () => {
    expect(exitCodeOf(new TributaryError('codec/invalid_hex', 'x'))).toBe(EXIT.usage);
    expect(exitCodeOf(new TributaryError('address/invalid', 'x'))).toBe(EXIT.usage);
    expect(exitCodeOf(new TributaryError('math/invalid_amount', 'x'))).toBe(EXIT.usage);
    expect(exitCodeOf(new TributaryError('rpc/unreachable', 'x'))).toBe(EXIT.network);
    expect(exitCodeOf(asRejection(new TributaryError('tx/fee_too_low', 'x')))).toBe(EXIT.rejected);
    expect(exitCodeOf(asUsageError(new TributaryError('datanet/invalid', 'x')))).toBe(EXIT.usage);
    // An unreachable node stays a network failure wherever it was caught.
    expect(exitCodeOf(asRejection(new TributaryError('rpc/unreachable', 'x')))).toBe(EXIT.network);
    expect(exitCodeOf(new TributaryError('keys/not_found', 'x'))).toBe(EXIT.failure);
    expect(exitCodeOf(new Error('a bug'))).toBe(EXIT.failure);
  });

  it('has a next step for input, network and rejection codes, and for the reasons modules share', () => {
    for (const code of [
      'codec/invalid_hex',
      'rpc/unreachable',
      'tx/fee_too_low',
      'model/unknown_parent',
      'cli/offline',
    ])
      expect(hintFor(code), code).toMatch(/\S/);
    expect(hintFor('agent/invalid')).toBe(hintFor('datanet/invalid'));
    expect(hintFor('model/not_found')).toMatch(/query/);
  });
});

describe('peopleView: any query result for people', () => {
  it('scalars as aligned rows, nested objects flattened, amounts with OPEN, record lists as tables', () => {
    const out = peopleView({
      id: 7,
      owner: 'trib1abc',
      stake: '1500000000000000000',
      size: '12',
      roles: { validator: { bonded: '2000000000000000000', unbonding: [] } },
      curators: ['trib1x', 'trib1y'],
      payments: [
        { id: 1, amount: '1000', payer: 'trib1p' },
        { id: 2, amount: '25', payer: 'trib1q' },
      ],
      flaggedByDispute: null,
    });
    expect(out).toBe(
      [
        'id                         7',
        'owner                      trib1abc',
        'stake                      1500000000000000000 (1.5 OPEN)',
        'size                       12',
        'roles.validator.bonded     2000000000000000000 (2 OPEN)',
        'roles.validator.unbonding  (none)',
        'curators[0]                trib1x',
        'curators[1]                trib1y',
        'flaggedByDispute           -',
        '',
        'payments:',
        'id  amount                          payer',
        '1   1000 (0.000000000000001 OPEN)   trib1p',
        '2   25 (0.000000000000000025 OPEN)  trib1q',
      ].join('\n'),
    );
  });

  it('a top-level list of records is one table; a scalar prints as itself', () => {
    expect(peopleView([{ a: 1, b: 'x' }, { a: 2 }])).toBe(['a  b', '1  x', '2  -'].join('\n'));
    expect(peopleView(null)).toBe('-');
    expect(peopleView(42)).toBe('42');
  });
});
