import { TributaryError } from '../../src/errors.ts';

/** The code a promise rejects with; undefined if it resolves; "uncoded: ..." for a plain error. */
export async function codeOf(p: Promise<unknown>): Promise<string | undefined> {
  try {
    await p;
  } catch (e) {
    return e instanceof TributaryError ? e.code : `uncoded: ${String(e)}`;
  }
  return undefined;
}

/** The code `fn` throws; undefined if it returns; "uncoded: ..." for a plain error. */
export function codeOfSync(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    return e instanceof TributaryError ? e.code : `uncoded: ${String(e)}`;
  }
  return undefined;
}
