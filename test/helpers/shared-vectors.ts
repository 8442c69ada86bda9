import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * A conformance vector file from ../shared (beside the repository; never copied in). In a clone
 * elsewhere it is absent and the tests using it skip with a message; in CI (CI set), where
 * ../shared is always laid out, its absence fails the run instead of skipping consensus checks.
 */
export function sharedVectors(relative: string, what: string): { path: string; present: boolean } {
  const path = fileURLToPath(new URL(`../../../shared/vectors/${relative}`, import.meta.url));
  const present = existsSync(path);
  if (!present) {
    if (process.env.CI) throw new Error(`${what} vectors are missing at ${path}: CI must provide ../shared`);
    console.warn(`SKIPPED: ${what} vectors not found at ${path} (../shared is absent in this clone)`);
  }
  return { path, present };
}
