import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG } from '../../src/config.ts';
import {
  ConnectionLimiter,
  HttpPolicy,
  ResponseBudget,
  connectionCapForDescriptors,
  descriptorLimit,
  hostName,
  isJsonContentType,
  resolveConnectionLimits,
  serializeBounded,
} from '../../src/rpc/limits.ts';

describe('serializeBounded', () => {
  it('writes exactly what JSON.stringify writes, whenever it fits', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const expected = JSON.stringify(value);
        const out = serializeBounded(value, 1 << 20);
        expect(out).toEqual({ ok: true, text: expected, bytes: Buffer.byteLength(expected) });
      }),
      { numRuns: 500 },
    );
  });

  it('refuses exactly the values whose UTF-8 form passes the cap', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.integer({ min: 0, max: 400 }), (value, max) => {
        const bytes = Buffer.byteLength(JSON.stringify(value));
        const out = serializeBounded(value, max);
        expect(out.ok).toBe(bytes <= max);
        if (!out.ok) expect(out.atLeastBytes).toBeGreaterThan(max);
      }),
      { numRuns: 500 },
    );
  });

  it('counts bytes, not characters', () => {
    expect(serializeBounded('ééé', 8)).toEqual({ ok: true, text: '"ééé"', bytes: 8 });
    expect(serializeBounded('éééé', 9).ok).toBe(false);
  });

  it('drops undefined fields and writes undefined items as null, like JSON.stringify', () => {
    const value = { a: undefined, b: [undefined, 1, () => 0], c: { d: undefined, e: new Date(0) } };
    expect(serializeBounded(value, 1000)).toMatchObject({ ok: true, text: JSON.stringify(value) });
  });

  it('stops early on a huge result instead of building it', () => {
    const big = { txs: Array.from({ length: 200_000 }, (_, i) => ({ hash: `0x${i.toString(16).padStart(64, '0')}` })) };
    const out = serializeBounded(big, 64 * 1024);
    expect(out.ok).toBe(false);
    // Cut within one transaction of the cap, never the ~16 MB of the whole.
    if (!out.ok) expect(out.atLeastBytes).toBeLessThan(64 * 1024 + 200);
  });

  it('a subtree too large for any string is a refusal, not a RangeError', () => {
    // One string of 300 M characters, serialised twice in a nested object: more than V8's max string length.
    const chunk = 'a'.repeat(300_000_000);
    const out = serializeBounded({ x: { y: [chunk, chunk] } }, 2 ** 31);
    expect(out.ok).toBe(false);
  });
});

describe('ResponseBudget', () => {
  it('bounds one result by the response cap', () => {
    const budget = new ResponseBudget(10);
    expect(budget.serialize('12345678')).toEqual({ text: '"12345678"' });
    const out = budget.serialize('123456789');
    expect('error' in out && out.error.code).toBe('rpc/response_too_large');
    expect('error' in out && out.error.data).toEqual({ limit: 'response_bytes', max: 10 });
  });

  it("bounds a batch's results together, counting refused ones, then refuses the rest unrun", () => {
    const budget = new ResponseBudget(100, 25);
    expect(budget.serialize('a'.repeat(8))).toEqual({ text: `"${'a'.repeat(8)}"` }); // 10 bytes
    expect(budget.exhausted).toBe(false);
    const second = budget.serialize('b'.repeat(20)); // 22 bytes: 32 > 25
    expect('error' in second && second.error.code).toBe('rpc/batch_too_large');
    expect('error' in second && second.error.data).toMatchObject({ limit: 'batch_response_bytes', max: 25 });
    expect(budget.exhausted).toBe(true);
    expect(budget.refusal().code).toBe('rpc/batch_too_large');
    expect(budget.refusal().data).toMatchObject({ limit: 'batch_response_bytes', max: 25 });
  });

  it('names the response cap when it is the one that binds inside a batch', () => {
    const budget = new ResponseBudget(5, 1000);
    const out = budget.serialize('toolong');
    expect('error' in out && out.error.code).toBe('rpc/response_too_large');
  });
});

describe('ConnectionLimiter', () => {
  it('caps connections in total and per client, and frees them on close', () => {
    const limiter = new ConnectionLimiter(3, 2);
    expect(limiter.tryOpen('a')).toBeUndefined();
    expect(limiter.tryOpen('a')).toBeUndefined();
    expect(limiter.tryOpen('a')).toEqual({ limit: 'connections_per_client', max: 2 });
    expect(limiter.tryOpen('b')).toBeUndefined();
    expect(limiter.tryOpen('c')).toEqual({ limit: 'connections', max: 3 });
    expect(limiter.open).toBe(3);
    limiter.close('a');
    expect(limiter.tryOpen('c')).toBeUndefined();
    limiter.close('x'); // never opened: nothing to free
    expect(limiter.open).toBe(3);
  });
});

describe('descriptor reserve', () => {
  it('reads the soft limit of open files', () => {
    const text =
      'Limit                     Soft Limit           Hard Limit           Units\n' +
      'Max cpu time              unlimited            unlimited            seconds\n' +
      'Max open files            512                  4096                 files\n';
    expect(descriptorLimit(text)).toBe(512);
    expect(
      descriptorLimit('Max open files            unlimited            unlimited            files\n'),
    ).toBeUndefined();
    if (process.platform === 'linux') expect(descriptorLimit()).toBeGreaterThan(0);
  });

  it('keeps half the descriptors (at least 256) for storage, and at least a quarter for sockets', () => {
    expect(connectionCapForDescriptors(512)).toBe(256);
    expect(connectionCapForDescriptors(1024)).toBe(512);
    expect(connectionCapForDescriptors(300)).toBe(75);
    expect(connectionCapForDescriptors(1_048_576)).toBe(524_288);
  });

  it('lowers the configured connection cap to fit, and refuses nonsense settings', () => {
    const rpc = { ...DEFAULT_CONFIG.rpc, maxConnections: 1000 };
    expect(resolveConnectionLimits(rpc, 512)).toMatchObject({ maxConnections: 256, loweredForDescriptors: true });
    expect(resolveConnectionLimits(rpc, 100_000)).toMatchObject({ maxConnections: 1000, loweredForDescriptors: false });
    expect(resolveConnectionLimits(rpc, undefined)).toMatchObject({ maxConnections: 1000 });
    expect(() => resolveConnectionLimits({ ...rpc, maxResponseBytes: 0 }, 512)).toThrow(
      expect.objectContaining({ code: 'config/invalid' }),
    );
    expect(() => resolveConnectionLimits({ ...rpc, headersTimeoutMs: 5000, requestTimeoutMs: 1000 }, 512)).toThrow(
      expect.objectContaining({ code: 'config/invalid' }),
    );
  });
});

describe('browser policy', () => {
  it('reads the host name without the port', () => {
    expect(hostName('LocalHost:8545')).toBe('localhost');
    expect(hostName('[::1]:8545')).toBe('[::1]');
    expect(hostName('127.0.0.1')).toBe('127.0.0.1');
  });

  it('serves loopback names and the listen address by default, and nothing else', () => {
    const policy = new HttpPolicy(DEFAULT_CONFIG.rpc, '10.1.2.3');
    for (const host of ['localhost:8545', '127.0.0.1:8545', '[::1]:8545', '10.1.2.3:8545', undefined]) {
      expect(policy.hostAllowed(host)).toBe(true);
    }
    for (const host of ['evil.example', 'evil.example:8545', 'localhost.evil.example', '0.0.0.0:8545']) {
      expect(policy.hostAllowed(host)).toBe(false);
    }
    // A wildcard listen address is not a name anyone should be served under.
    expect(new HttpPolicy(DEFAULT_CONFIG.rpc, '0.0.0.0').hostAllowed('0.0.0.0:8545')).toBe(false);
    expect(new HttpPolicy({ ...DEFAULT_CONFIG.rpc, allowedHosts: ['*'] }, '0.0.0.0').hostAllowed('evil.example')).toBe(
      true,
    );
  });

  it('allows no origin unless configured', () => {
    expect(new HttpPolicy(DEFAULT_CONFIG.rpc, '127.0.0.1').corsEnabled).toBe(false);
    expect(new HttpPolicy(DEFAULT_CONFIG.rpc, '127.0.0.1').originAllowed('http://localhost:3000')).toBe(false);
    const policy = new HttpPolicy({ ...DEFAULT_CONFIG.rpc, corsOrigins: ['https://wallet.example/'] }, '127.0.0.1');
    expect(policy.originAllowed('https://wallet.example')).toBe(true);
    expect(policy.originAllowed('https://evil.example')).toBe(false);
    expect(policy.originAllowed('null')).toBe(false);
  });

  it('takes JSON content types only', () => {
    for (const t of ['application/json', 'application/json; charset=utf-8', 'Application/JSON']) {
      expect(isJsonContentType(t)).toBe(true);
    }
    for (const t of [undefined, '', 'text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data']) {
      expect(isJsonContentType(t)).toBe(false);
    }
  });
});

describe('descriptor budget for storage', () => {
  it("LevelDB's open table files take a quarter of the descriptor limit, between 64 and 1000", async () => {
    const { levelMaxOpenFiles } = await import('../../src/storage/descriptors.ts');
    expect(levelMaxOpenFiles(512)).toBe(128);
    expect(levelMaxOpenFiles(100)).toBe(64);
    expect(levelMaxOpenFiles(1 << 20)).toBe(1000);
  });
});
