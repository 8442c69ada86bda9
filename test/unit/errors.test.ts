import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { TributaryError, errorModule, fail } from '../../src/errors.ts';

describe('error codes', () => {
  it('a declared code is carried as it is; its module is the part before the slash', () => {
    const e = new TributaryError('tx/bad_signature', 'bad');
    expect(e.code).toBe('tx/bad_signature');
    expect(errorModule(e.code)).toBe('tx');
    expect(() => fail('mempool/full', 'full')).toThrow(expect.objectContaining({ code: 'mempool/full' }));
  });

  it('a code no module declares does not compile', () => {
    // These lines are checked by `tsc --noEmit` in `npm test`: each must be a type error.
    // @ts-expect-error: 'tx/no_such_code' is in no module's ErrorCode union
    const undeclared = new TributaryError('tx/no_such_code', 'x');
    // @ts-expect-error: free text is not a code
    const freeText = () => fail('something went wrong', 'x');
    expect(undeclared.code).toBe('tx/no_such_code');
    expect(freeText).toThrow(TributaryError);
  });

  it('every <Name>ErrorCode union declared under src/ is part of ErrorCode', () => {
    const src = fileURLToPath(new URL('../../src', import.meta.url));
    const files = readdirSync(src, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts'));
    const declared = new Set<string>();
    for (const f of files) {
      for (const m of readFileSync(join(src, f), 'utf8').matchAll(/^export type (\w+ErrorCode)\b/gm))
        declared.add(m[1]!);
    }
    const union = readFileSync(join(src, 'error-codes.ts'), 'utf8');
    const missing = [...declared].filter((name) => !new RegExp(`\\| ${name}\\b`).test(union)).sort();
    expect(declared.size).toBeGreaterThan(30);
    expect(missing).toEqual([]);
  });
});
