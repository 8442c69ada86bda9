import { describe, expect, it } from 'vitest';
import type { Event } from '../../src/codec/core.ts';
import { addressFromPublicKey, formatAddress } from '../../src/crypto/address.ts';
import { SigningKey } from '../../src/crypto/ed25519.ts';
import { sha256, toHex, utf8 } from '../../src/crypto/hash.ts';
import type { TributaryError } from '../../src/errors.ts';
import { MODULES } from '../../src/modules.ts';
import {
  attributeValue,
  defineEvent,
  eventProblem,
  moduleEvents,
  undeclaredEventProblem,
} from '../../src/state/events.ts';
import type { Module } from '../../src/state/module.ts';

const someone = addressFromPublicKey(new SigningKey(sha256(utf8.encode('events test'))).publicKey);
const sample = defineEvent('sample_happened', 'a test event with one field of each kind', {
  who: { kind: 'address', indexed: true },
  amount: { kind: 'amount' },
  count: { kind: 'integer' },
  digest: { kind: 'hash' },
  note: { kind: 'string' },
  ok: { kind: 'boolean' },
});

function emitted(values: Parameters<typeof sample.emit>[1]): Event {
  const out: Event[] = [];
  sample.emit(
    {
      emit: (type, attrs) =>
        out.push({ type, attributes: Object.entries(attrs).map(([key, v]) => ({ key, value: String(v) })) }),
    },
    values,
  );
  return out[0]!;
}

describe('typed events', () => {
  const values = {
    who: someone,
    amount: 10n ** 30n,
    count: 7,
    digest: sha256(utf8.encode('x')),
    note: 'a, b',
    ok: true,
  };

  it('writes the declared fields in declaration order, one string format per kind', () => {
    const ev = emitted(values);
    expect(ev).toEqual({
      type: 'sample_happened',
      attributes: [
        { key: 'who', value: formatAddress(someone) },
        { key: 'amount', value: '1000000000000000000000000000000' },
        { key: 'count', value: '7' },
        { key: 'digest', value: toHex(values.digest) },
        { key: 'note', value: 'a, b' },
        { key: 'ok', value: 'true' },
      ],
    });
    expect(attributeValue(ev, 'count')).toBe('7');
  });

  it('reads an event back into typed values', () => {
    expect(sample.read(emitted(values))).toEqual(values);
    expect(sample.read(emitted({ ...values, digest: new Uint8Array(0), ok: false }))).toMatchObject({
      digest: new Uint8Array(0),
      ok: false,
    });
  });

  it('refuses an event that does not match its declaration', () => {
    const ev = emitted(values);
    const cases: [string, Event][] = [
      ['other type', { ...ev, type: 'other' }],
      ['missing field', { ...ev, attributes: ev.attributes.slice(1) }],
      ['fields out of order', { ...ev, attributes: [ev.attributes[1]!, ev.attributes[0]!, ...ev.attributes.slice(2)] }],
      [
        'bad address',
        { ...ev, attributes: ev.attributes.map((a) => (a.key === 'who' ? { ...a, value: 'trib1nope' } : a)) },
      ],
      [
        'amount with a sign',
        { ...ev, attributes: ev.attributes.map((a) => (a.key === 'amount' ? { ...a, value: '-1' } : a)) },
      ],
      [
        'integer with a leading zero',
        { ...ev, attributes: ev.attributes.map((a) => (a.key === 'count' ? { ...a, value: '07' } : a)) },
      ],
      [
        'upper-case hex',
        {
          ...ev,
          attributes: ev.attributes.map((a) => (a.key === 'digest' ? { ...a, value: a.value.toUpperCase() } : a)),
        },
      ],
      [
        'boolean spelled otherwise',
        { ...ev, attributes: ev.attributes.map((a) => (a.key === 'ok' ? { ...a, value: 'yes' } : a)) },
      ],
    ];
    for (const [what, bad] of cases) {
      expect(eventProblem(sample, bad), what).toBeTypeOf('string');
      let code: string | undefined;
      try {
        sample.read(bad);
      } catch (e) {
        code = (e as TributaryError).code;
      }
      expect(code, what).toBe('event/malformed');
    }
    expect(eventProblem(sample, ev)).toBeUndefined();
  });

  it('knows which event types the modules declare, each once', () => {
    const declared = moduleEvents(MODULES);
    expect(undeclaredEventProblem(declared, emitted(values))).toMatch(/not declared/);
    for (const type of ['transfer', 'fees_distributed', 'inference_paid', 'agent_acted', 'contribution_submitted'])
      expect(declared.has(type), type).toBe(true);
    const twice: Module[] = [
      { name: 'a', txs: [], events: [sample] },
      { name: 'b', txs: [], events: [sample] },
    ];
    expect(() => moduleEvents(twice)).toThrow(/declared twice/);
  });

  it('writes a list field as comma-joined values and reads it back', () => {
    const listed = defineEvent('listed_happened', 'a test event with list fields', {
      who: { kind: 'address', list: true, indexed: true },
      amounts: { kind: 'amount', list: true },
      names: { kind: 'string', list: true },
    });
    const out: Event[] = [];
    const sink = {
      emit: (type: string, attrs: Record<string, unknown>) =>
        void out.push({ type, attributes: Object.entries(attrs).map(([key, v]) => ({ key, value: String(v) })) }),
    };
    listed.emit(sink, { who: [someone, someone], amounts: [1n, 20n, 300n], names: [] });
    expect(out[0]!.attributes).toEqual([
      { key: 'who', value: `${formatAddress(someone)},${formatAddress(someone)}` },
      { key: 'amounts', value: '1,20,300' },
      { key: 'names', value: '' },
    ]);
    expect(listed.read(out[0]!)).toEqual({ who: [someone, someone], amounts: [1n, 20n, 300n], names: [] });
    const withValue = (key: string, value: string): Event => ({
      ...out[0]!,
      attributes: out[0]!.attributes.map((a) => (a.key === key ? { key, value } : a)),
    });
    expect(eventProblem(listed, withValue('amounts', '1,,3'))).toMatch(/empty element/);
    expect(eventProblem(listed, withValue('amounts', '1,x'))).toMatch(/decimal/);
    expect(eventProblem(listed, withValue('names', 'a,b'))).toBeUndefined();
  });
});
