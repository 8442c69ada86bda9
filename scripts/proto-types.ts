import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';
import { messageCodec, parseSchema, type FieldKind, type FieldPlan } from '../src/codec/canonical.ts';

/*
 * `npm run proto`: writes X.pb.ts beside every X.proto under src/ with one interface per message and
 * the `XMessages` map (full name -> interface) that types `parseSchema<XMessages>`. The types come
 * from the canonical codec's own field plan, so the codec's rules (what is refused, what maps to
 * bigint) hold here by construction. test/unit/proto-types.test.ts fails when a file is stale.
 */

export const SRC_DIR = fileURLToPath(new URL('../src/', import.meta.url));

const SCALAR_TYPES: Record<Exclude<FieldKind, 'message'>, string> = {
  number: 'number',
  bool: 'boolean',
  string: 'string',
  bytes: 'Uint8Array',
  amount: 'bigint',
};

function byName(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Every .proto under `dir`, depth first, names in byte order. */
export function findProtoFiles(dir: string = SRC_DIR): string[] {
  const found: string[] = [];
  const entries = readdirSync(dir, { withFileTypes: true }).sort((a, b) => byName(a.name, b.name));
  for (const entry of entries) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) found.push(...findProtoFiles(path));
    else if (entry.isFile() && entry.name.endsWith('.proto')) found.push(path);
  }
  return found;
}

export function generatedPath(protoPath: string): string {
  return protoPath.replace(/\.proto$/, '.pb.ts');
}

export function headerFor(protoFileName: string): string {
  return `// generated from ${protoFileName} by \`npm run proto\`; do not edit`;
}

/** "chain_config" -> "ChainConfig": the messages map is `${this}Messages`. */
function pascalCase(stem: string): string {
  return stem
    .split(/[^A-Za-z0-9]+/)
    .filter((part) => part.length > 0)
    .map((part) => part[0]!.toUpperCase() + part.slice(1))
    .join('');
}

/** Messages in declaration order, each followed by the messages declared inside it. */
function messagesOf(ns: protobuf.NamespaceBase, out: protobuf.Type[] = []): protobuf.Type[] {
  for (const child of ns.nestedArray) {
    if (child instanceof protobuf.Type) out.push(child);
    if (child instanceof protobuf.Namespace) messagesOf(child, out);
  }
  return out;
}

/** A message declared inside another is named by its path: `Outer_Inner`. */
function interfaceName(type: protobuf.Type): string {
  const path = [type.name];
  for (let p = type.parent; p instanceof protobuf.Type; p = p.parent) path.unshift(p.name);
  return path.join('_');
}

function docComment(text: string | null, indent: string): string[] {
  if (!text) return [];
  const lines = text.replaceAll('*/', '*\\/').split('\n');
  if (lines.length === 1) return [`${indent}/** ${lines[0]} */`];
  return [`${indent}/**`, ...lines.map((l) => (l ? `${indent} * ${l}` : `${indent} *`)), `${indent} */`];
}

function fieldType(field: FieldPlan, names: Map<protobuf.Type, string>, where: string): string {
  let base: string;
  if (field.kind === 'message') {
    const name = names.get(field.nested!.type);
    if (name === undefined) throw new Error(`${where}: ${field.nested!.type.fullName} is not declared in this file`);
    base = name;
  } else {
    base = SCALAR_TYPES[field.kind];
  }
  if (field.repeated) return `${base}[]`;
  return field.kind === 'message' ? `${base} | undefined` : base;
}

/** The text of X.pb.ts for the .proto `source` named `protoFileName` (for the header). */
export function generateTypes(source: string, protoFileName: string): string {
  const root = parseSchema(source);
  const types = messagesOf(root);
  const mapName = `${pascalCase(basename(protoFileName, '.proto'))}Messages`;
  const names = new Map<protobuf.Type, string>();
  const taken = new Set<string>([mapName]);
  for (const type of types) {
    const name = interfaceName(type);
    if (taken.has(name)) throw new Error(`${protoFileName}: two declarations would both be named ${name}`);
    taken.add(name);
    names.set(type, name);
  }

  const out: string[] = [headerFor(protoFileName)];
  for (const type of types) {
    const fullName = type.fullName.replace(/^\./, '');
    // The codec's plan, so whatever the codec refuses (enums, maps, oneofs, floats) fails here too.
    const plan = messageCodec(root, fullName).plan;
    out.push('', ...docComment(type.comment, ''), `export interface ${names.get(type)} {`);
    for (const field of plan.fields) {
      const comment = type.fields[field.name]!.comment;
      out.push(
        ...docComment(comment, '  '),
        `  ${field.name}: ${fieldType(field, names, `${fullName}.${field.name}`)};`,
      );
    }
    out.push('}');
  }
  out.push('', `export interface ${mapName} {`);
  for (const type of types) out.push(`  '${type.fullName.replace(/^\./, '')}': ${names.get(type)};`);
  out.push('}', '');
  return out.join('\n');
}

export interface GeneratedFile {
  path: string;
  text: string;
}

export function generateAll(dir: string = SRC_DIR): GeneratedFile[] {
  return findProtoFiles(dir).map((protoPath) => ({
    path: generatedPath(protoPath),
    text: generateTypes(readFileSync(protoPath, 'utf8'), basename(protoPath)),
  }));
}

/** Generated files whose .proto is gone (recognised by the header, so no hand-written file matches). */
export function findOrphans(dir: string = SRC_DIR): string[] {
  const found: string[] = [];
  const entries = readdirSync(dir, { withFileTypes: true }).sort((a, b) => byName(a.name, b.name));
  for (const entry of entries) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) found.push(...findOrphans(path));
    else if (entry.isFile() && entry.name.endsWith('.pb.ts')) {
      const proto = basename(path, '.pb.ts') + '.proto';
      const stillThere = readdirSync(dir).includes(proto);
      if (!stillThere && readFileSync(path, 'utf8').startsWith(headerFor(proto))) found.push(path);
    }
  }
  return found;
}

if (import.meta.main) {
  const show = (path: string): string => relative(process.cwd(), path);
  for (const file of generateAll()) {
    let current: string | undefined;
    try {
      current = readFileSync(file.path, 'utf8');
    } catch {
      current = undefined;
    }
    if (current === file.text) {
      console.log(`unchanged ${show(file.path)}`);
    } else {
      writeFileSync(file.path, file.text);
      console.log(`wrote     ${show(file.path)}`);
    }
  }
  for (const orphan of findOrphans()) {
    rmSync(orphan);
    console.log(`removed   ${show(orphan)} (its .proto is gone)`);
  }
}
