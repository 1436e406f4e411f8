/**
 * Every limit that bounds what hostile metadata can cost, tested at its edge: the largest document, the
 * deepest nesting, the longest number, the deepest sublayout, the largest RSA key, the widest parameter.
 * See SECURITY.md, "Limits".
 */
import { describe, expect, it } from 'vitest';
import { derBitString, derNull, derOid, derSequence, derUnsignedInteger } from '../../bindings/keys/der.js';
import { toBase64 } from '../../bindings/encoding.js';
import { createEngine, getEngine, initEngine } from '../../bindings/engine.js';
import { loadPublicKey } from '../../bindings/keys/keys.js';
import { linkFileName, sublayoutDirName } from '../../bindings/verify/link-source.js';
import { parseLayout, substituteParameters } from '../../bindings/metadata/models.js';
import { RuleEngine } from '../../bindings/verify/rule-engine.js';
import { verify, type Verdict, type VerifyOptions } from '../../bindings/verify/verify.js';
import { isTypedError, layoutDoc, linkDoc, makeKeys, signDoc, untypedFailures, type Keys } from './chains.js';

let k: Keys;
const NOW = new Date('2030-01-01T00:00:00Z');

function refusal(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    expect(isTypedError(error)).toBe(true);
    return error;
  }
  throw new Error('not refused');
}

describe('limits', () => {
  it('setup', async () => {
    await initEngine();
    k = await makeKeys();
  }, 120_000);

  it('maxInputBytes (engine; default 256 MiB): a document one byte over is LIMIT, for canonicalize, link_store and verify()', async () => {
    expect(getEngine().limits).toEqual({ maxDepth: 100, maxInputBytes: 256 << 20 });
    const engine = createEngine({ maxInputBytes: 1000 });
    const doc = (n: number) => `{"materials":{},"products":{},"x":"${'a'.repeat(n - 37)}"}`;
    expect(doc(1000).length).toBe(1000);
    expect(() => engine.canonicalize(doc(1000))).not.toThrow();
    expect(refusal(() => engine.canonicalize(doc(1001)))).toMatchObject({ code: 'LIMIT' });
    const rules = new RuleEngine(engine);
    expect(() => rules.load(doc(1000), 'whole')).not.toThrow();
    expect(refusal(() => rules.load(doc(1001), 'whole'))).toMatchObject({ code: 'LIMIT' });
    rules.close();
    // The engine itself refuses too (a host that skips its own check).
    const code = engine.invoke((ex) => {
      const raw = ex as unknown as { input_ptr(n: number): number; validate(n: number): number; memory: WebAssembly.Memory };
      raw.input_ptr(1001);
      return raw.validate(1001);
    });
    expect(code).toBe(14);
    expect(() => createEngine({ maxInputBytes: 0x7fff0001 })).toThrow(RangeError);
    // A length beyond what input_ptr reserved is a host bug: refused (15), never a parse of stale memory.
    const raw = createEngine().invoke((ex) => {
      const e = ex as unknown as { input_ptr(n: number): number; validate(n: number): number; canonicalize(n: number, s: number): number; link_store(n: number, s: number): number };
      e.input_ptr(10);
      return [e.validate(4096), e.canonicalize(4096, 0)];
    });
    expect(raw).toEqual([15, 15]);

    // verify(): the layout and each link are held to the shared engine's limit.
    const layout = await signDoc(layoutDoc([{ name: 'build', keys: [k.alice] }]), k.ownerEd);
    const shared = getEngine();
    shared.setLimits({ maxInputBytes: layout.length - 1 });
    try {
      const v = await verify({ layout, layoutKeys: [k.ownerEd.publicKey], links: new Map(), now: NOW });
      expect(v.failures).toEqual([expect.objectContaining({ code: 'LIMIT' })]);
    } finally {
      shared.setLimits({ maxInputBytes: 256 << 20 });
    }
  });

  it('maxDepth (engine; default 100, 1 to 10,000): one level over is LIMIT; 10,000 levels work everywhere', () => {
    const nested = (n: number) => '['.repeat(n) + ']'.repeat(n);
    const engine = createEngine();
    expect(() => engine.canonicalize(nested(100))).not.toThrow();
    expect(refusal(() => engine.canonicalize(nested(101)))).toMatchObject({ code: 'LIMIT', engineCode: 10 });
    expect(() => createEngine({ maxDepth: 10_001 })).toThrow(RangeError);
    const deep = createEngine({ maxDepth: 10_000 });
    // Canonical writing was recursive and trapped near 545 levels: it must reach the documented maximum.
    for (const depth of [545, 1_000, 10_000]) {
      expect(deep.canonicalize(nested(depth)).length).toBe(2 * depth);
      const objects = '{"a":'.repeat(depth - 2) + '{"c":1,"b":[true,false,null,-0,"x"]}' + '}'.repeat(depth - 2);
      const out = new TextDecoder().decode(deep.canonicalize(objects));
      expect(out).toBe('{"a":'.repeat(depth - 2) + '{"b":[true,false,null,0,"x"],"c":1}' + '}'.repeat(depth - 2));
    }
    expect(refusal(() => deep.canonicalize(nested(10_001)))).toMatchObject({ code: 'LIMIT' });
    // A link nested that deep still loads its artifact tables.
    const rules = new RuleEngine(deep);
    const link = `{"materials":{"a":{"sha256":"ab"}},"products":{},"environment":${nested(9_999)}}`;
    expect(() => rules.load(link, 'whole')).not.toThrow();
    rules.close();
  });

  it("numbers: 4,300 digits (python's limit) at most, integers only", () => {
    const engine = createEngine();
    expect(() => engine.canonicalize(`[${'9'.repeat(4300)}]`)).not.toThrow();
    expect(refusal(() => engine.canonicalize(`[${'9'.repeat(4301)}]`))).toMatchObject({ code: 'JSON', engineCode: 8 });
    expect(refusal(() => engine.canonicalize('[1e5]'))).toMatchObject({ code: 'JSON', engineCode: 7 });
  });

  it('maxSublayoutDepth (verify; default 8): 8 nested sublayouts pass, a 9th is LIMIT', async () => {
    const chain = async (levels: number): Promise<VerifyOptions> => {
      const links = new Map<string, Uint8Array>();
      let prefix = '';
      for (let i = 0; i < levels; i++) {
        const inner = i === levels - 1 ? layoutDoc([{ name: 'leaf', keys: [k.bob] }]) : layoutDoc([{ name: 'deep', keys: [k.alice] }]);
        links.set(`${prefix}${linkFileName('deep', k.alice.keyid)}`, await signDoc(inner, k.alice));
        prefix += `${sublayoutDirName('deep', k.alice.keyid)}/`;
      }
      links.set(`${prefix}${linkFileName('leaf', k.bob.keyid)}`, await signDoc(linkDoc('leaf'), k.bob));
      const layout = await signDoc(layoutDoc([{ name: 'deep', keys: [k.alice] }]), k.ownerEd);
      return { layout, layoutKeys: [k.ownerEd.publicKey], links, now: NOW };
    };
    const ok = await verify(await chain(8));
    expect(ok.failures).toEqual([]);
    const over: Verdict = await verify(await chain(9));
    expect(untypedFailures(over)).toEqual([]);
    expect(over.failures).toContainEqual(expect.objectContaining({ code: 'LIMIT', layout: Array(8).fill('deep') }));
    expect((await verify({ ...(await chain(3)), maxSublayoutDepth: 2 })).passed).toBe(false);
  });

  it('RSA keys: 16,384-bit moduli at most (verification cost grows with the cube of the size)', () => {
    const pem = (bits: number) => {
      const n = new Uint8Array(bits / 8).fill(0xff);
      const spki = derSequence(derSequence(derOid('1.2.840.113549.1.1.1'), derNull()), derBitString(derSequence(derUnsignedInteger(n), derUnsignedInteger(Uint8Array.of(1, 0, 1)))));
      return `-----BEGIN PUBLIC KEY-----\n${toBase64(spki).match(/.{1,64}/g)!.join('\n')}\n-----END PUBLIC KEY-----\n`;
    };
    expect(loadPublicKey(pem(16_384)).keytype).toBe('rsa');
    expect(refusal(() => loadPublicKey(pem(16_392)))).toMatchObject({ code: 'KEY' });
  });

  it('parameters: a format width over 65,536 is refused (python would build the string)', () => {
    const layout = parseLayout(layoutDoc([{ name: 'build', keys: [], command: ['{X:>65536}'] }]));
    expect(substituteParameters(layout, { X: 'x' }).steps[0]!.expectedCommand[0]!.length).toBe(65_536);
    expect(refusal(() => substituteParameters(parseLayout(layoutDoc([{ name: 'b', keys: [], command: ['{X:>65537}'] }])), { X: 'x' }))).toMatchObject({ code: 'FORMAT' });
  });

  it('engine memory: at most about 35x the document (worst case), about 9x for a link, flat over repeated use', () => {
    // The worst case per input byte: a 16-byte tape node for every two bytes of `[0,0,0,...]`, with the tape's
    // doubling and the input and scratch regions. WebAssembly memory never shrinks (it is reused).
    const size = (8 << 20) + 1;
    const doc = new Uint8Array(size).fill(0x2c);
    doc[0] = 0x5b;
    for (let i = 1; i < size - 1; i += 2) doc[i] = 0x30;
    doc[size - 1] = 0x5d;
    let engine = createEngine();
    let before = engine.memoryBytes;
    engine.validate(doc);
    const worst = (engine.memoryBytes - before) / size;
    expect(worst).toBeLessThan(40);
    engine.validate(doc);
    expect((engine.memoryBytes - before) / size).toBe(worst);

    // A link as recorded (about 100 bytes per artifact), loaded into the rule engine then freed, three times.
    const n = 80_000;
    const link = new TextEncoder().encode(JSON.stringify({ signed: { materials: Object.fromEntries(Array.from({ length: n }, (_, i) => [`src/dir/file-${i}.c`, { sha256: 'ab'.repeat(32) }])), products: {} } }));
    engine = createEngine();
    before = engine.memoryBytes;
    const rules = new RuleEngine(engine);
    const sizes: number[] = [];
    for (let i = 0; i < 3; i++) {
      rules.free(rules.load(link));
      sizes.push(engine.memoryBytes);
    }
    expect((sizes[0]! - before) / link.length).toBeLessThan(12);
    expect(new Set(sizes).size).toBe(1);
    rules.close();
  });

  /**
   * No limit on artifacts per link exists: a 256 MiB link of `"p":{}` members holds 25 million artifacts, which
   * JSON.parse, models.ts `parseLink` (a Map: V8 refuses more than 2^24 entries with a RangeError that is not an
   * InTotoError, so verify() throws) and the engine tables (about 40 bytes each) all try to hold. Needed: a
   * `maxArtifacts` option (VerifyOptions, passed to parseLink, and an engine-side check in `link_store` so the
   * tables are never built): LIMIT naming the link when a side has more.
   */
  it('maxArtifacts: a link with more artifacts than the limit is a LIMIT failure', async () => {
    const layout = await signDoc(layoutDoc([{ name: 'build', keys: [k.alice] }]), k.ownerEd);
    const products = Object.fromEntries(Array.from({ length: 1_001 }, (_, i) => [`f${i}`, {}]));
    const link = await signDoc(linkDoc('build', {}, products), k.alice);
    const v = await verify({ layout, layoutKeys: [k.ownerEd.publicKey], links: new Map([[linkFileName('build', k.alice.keyid), link]]), now: NOW, maxArtifacts: 1_000 } as VerifyOptions);
    expect(v.failures).toContainEqual(expect.objectContaining({ code: 'LIMIT', step: 'build' }));
  });
});
