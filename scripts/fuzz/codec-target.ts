import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';
import { messageCodec, parseSchema, type MessageCodec } from '../../src/codec/canonical.ts';
import { Finding, guard, type FuzzTarget } from './harness.ts';
import type { Rng } from './rng.ts';
import { generateValue, sameValue, show } from './values.ts';
import { canonicalProblem, mutateN } from './wire.ts';

const SRC_DIR = fileURLToPath(new URL('../../src/', import.meta.url));

function protoFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .flatMap((e) =>
      e.isDirectory() ? protoFiles(join(dir, e.name)) : e.name.endsWith('.proto') ? [join(dir, e.name)] : [],
    )
    .sort();
}

function typesOf(ns: protobuf.NamespaceBase): protobuf.Type[] {
  return ns.nestedArray.flatMap((n) => [
    ...(n instanceof protobuf.Type ? [n] : []),
    ...(n instanceof protobuf.Namespace || n instanceof protobuf.Type ? typesOf(n) : []),
  ]);
}

/**
 * A codec for every message of every schema under src/ (core, sync, every module's, the index's),
 * built the way their owners build them: whatever schema a later change adds is fuzzed too.
 */
export function allCodecs(): MessageCodec<Record<string, unknown>>[] {
  const codecs: MessageCodec<Record<string, unknown>>[] = [];
  for (const file of protoFiles(SRC_DIR)) {
    const root = parseSchema(readFileSync(file, 'utf8'));
    for (const type of typesOf(root))
      codecs.push(messageCodec<Record<string, unknown>>(root, type.fullName.replace(/^\./, '')));
  }
  return codecs;
}

/** A strand of UTF-16 that is not well-formed (a lone surrogate), which UTF-8 cannot carry. */
function hasIllFormedString(v: unknown): boolean {
  if (typeof v === 'string') return !v.isWellFormed();
  if (Array.isArray(v)) return v.some(hasIllFormedString);
  if (v && typeof v === 'object' && !(v instanceof Uint8Array)) return Object.values(v).some(hasIllFormedString);
  return false;
}

function withLoneSurrogate(
  rng: Rng,
  value: Record<string, unknown>,
  codec: MessageCodec<Record<string, unknown>>,
): boolean {
  const strings = codec.plan.fields.filter((f) => f.kind === 'string' && !f.repeated);
  if (strings.length === 0) return false;
  const f = rng.pick(strings);
  value[f.name] = `${value[f.name] as string}${rng.bool() ? '\ud800' : '\udfff'}x`;
  return true;
}

const CODEC_ERRORS = ['codec/'] as const;

/**
 * The canonical codec: decode∘encode is the identity on generated values and encode's bytes are
 * canonical by an independent reading of the wire; decode of mutated or random bytes throws only
 * `codec/*` and accepts only canonical bytes (and refuses none of them).
 */
export function codecTarget(): FuzzTarget {
  return {
    name: 'codec',
    weight: 0.35,
    async open() {
      const codecs = allCodecs();
      return {
        async close() {},
        async one(rng, slot) {
          const codec = rng.pick(codecs);
          const value = generateValue(rng, codec.plan);
          const mode = rng.int(20);
          if (mode < 6) {
            const illFormed = mode === 0 && withLoneSurrogate(rng, value, codec);
            const encoded = guard(CODEC_ERRORS, `${codec.typeName} encode`, () => codec.encode(value));
            if (!encoded.ok) {
              if (illFormed || hasIllFormedString(value)) return `refused_encode:${encoded.code}`;
              throw new Finding(
                'rejected_valid',
                `${codec.typeName} encode refused ${show(value)} with ${encoded.code}`,
              );
            }
            const bytes = encoded.value;
            slot.input = bytes;
            const problem = canonicalProblem(codec.plan, bytes);
            if (problem)
              throw new Finding(
                'non_canonical_accept',
                `${codec.typeName} encode wrote non-canonical bytes: ${problem} (value ${show(value)})`,
              );
            const decoded = guard(CODEC_ERRORS, `${codec.typeName} decode`, () => codec.decode(bytes));
            if (!decoded.ok)
              throw new Finding('rejected_valid', `${codec.typeName} refused its own encoding with ${decoded.code}`);
            if (!sameValue(decoded.value, value)) {
              throw new Finding(
                'round_trip',
                `${codec.typeName}: decode(encode(v)) != v: ${show(value)} -> ${show(decoded.value)}`,
              );
            }
            return 'round_trip';
          }
          let input: Uint8Array;
          if (mode < 18) {
            const base = guard(CODEC_ERRORS, `${codec.typeName} encode`, () => codec.encode(value));
            const other = guard(CODEC_ERRORS, 'encode', () => {
              const c = rng.pick(codecs);
              return c.encode(generateValue(rng, c.plan));
            });
            input = mutateN(rng, base.ok ? base.value : new Uint8Array(0), other.ok ? other.value : rng.bytes(8)).bytes;
          } else {
            input = rng.bytes(rng.length(64));
          }
          slot.input = input;
          const decoded = guard(CODEC_ERRORS, `${codec.typeName} decode`, () => codec.decode(input));
          const problem = canonicalProblem(codec.plan, input);
          if (decoded.ok && problem) throw new Finding('non_canonical_accept', `${codec.typeName} accepted ${problem}`);
          if (!decoded.ok && !problem)
            throw new Finding('rejected_valid', `${codec.typeName} refused canonical bytes with ${decoded.code}`);
          return decoded.ok ? 'accepted' : decoded.code;
        },
      };
    },
  };
}
