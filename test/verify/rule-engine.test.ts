/**
 * The artifact-rule engine (assembly/rules.ts through bindings/verify/rule-engine.ts):
 *  - every rule kind passing and failing, IN prefixes, MATCH against a missing step, whole-dict digest
 *    equality, REQUIRE after consumption, unicode paths, all failures reported (not just the first);
 *  - the reference's own corners, decided by running Debian's in-toto 1.3.1 `verify_item_rules`;
 *  - a fast-check property: the engine against a small TypeScript model of the queue written below, and the
 *    same random cases against the reference;
 *  - hash flooding: paths that all collide under a naive string hash still load in linear probe counts.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createEngine } from '../../bindings/engine.js';
import { InTotoError } from '../../bindings/errors.js';
import { evaluateRules, RuleEngine, type RuleItem, type RuleResult } from '../../bindings/verify/rule-engine.js';
import { parseRule, type ArtifactRule } from '../../bindings/metadata/rules.js';
import { assertReferenceInstalled, runPython } from '../helpers/reference.js';

type Digests = Record<string, string>;
type Artifacts = Record<string, Digests>;
interface LinkSpec {
  materials: Artifacts;
  products: Artifacts;
}
interface ItemSpec {
  name: string;
  materials: string[][];
  products: string[][];
}

const engine = createEngine();
const A = { sha256: 'aa' };
const B = { sha256: 'bb' };
const utf8 = new TextEncoder();

const metablock = (link: LinkSpec, name = 'x'): Uint8Array =>
  utf8.encode(JSON.stringify({ signatures: [], signed: { _type: 'link', name, command: [], byproducts: {}, environment: {}, ...link } }));

const rule = (tokens: string[]): ArtifactRule => parseRule(tokens, { field: 'test' });
const item = (spec: ItemSpec): RuleItem => ({
  name: spec.name,
  kind: 'step',
  materials: spec.materials.map(rule),
  products: spec.products.map(rule),
});

function run(links: Record<string, LinkSpec>, items: ItemSpec[], trace = true): RuleResult {
  return evaluateRules(
    items.map(item),
    Object.entries(links).map(([name, link]) => ({ name, bytes: metablock(link, name) })),
    { engine, trace },
  );
}

/** Failures as [item, side, rule index, code, artifacts], for compact expectations. */
const failuresOf = (r: RuleResult) => r.failures.map((f) => [f.item, f.side, f.ruleIndex, f.code, [...f.artifacts]]);
const consumedBy = (r: RuleResult, item: string, side: string, ruleIndex: number) =>
  r.trace.find((t) => t.item === item && t.side === side && t.ruleIndex === ruleIndex)?.consumed;

describe('each rule kind', () => {
  const build: LinkSpec = {
    materials: { 'src/a.c': A, 'src/b.c': A, 'README': B, 'gone.txt': A },
    products: { 'src/a.c': A, 'src/b.c': B, 'README': B, 'a.out': A },
  };

  it('ALLOW consumes what it matches; DISALLOW then fails only on what is left', () => {
    const r = run({ build }, [{ name: 'build', materials: [['ALLOW', 'src/*'], ['DISALLOW', '*']], products: [] }]);
    expect(failuresOf(r)).toEqual([['build', 'materials', 1, 'RULE_DISALLOW', ['README', 'gone.txt']]]);
    expect(consumedBy(r, 'build', 'materials', 0)).toEqual(['src/a.c', 'src/b.c']);
    expect(run({ build }, [{ name: 'build', materials: [['ALLOW', '*'], ['DISALLOW', '*']], products: [['DISALLOW', 'nothing*']] }]).passed).toBe(true);
  });

  it('CREATE consumes products that are not materials, and nothing on the materials side', () => {
    const r = run({ build }, [{ name: 'build', materials: [['CREATE', '*'], ['DISALLOW', 'gone.txt']], products: [['CREATE', '*'], ['DISALLOW', 'a.out']] }]);
    expect(failuresOf(r)).toEqual([['build', 'materials', 1, 'RULE_DISALLOW', ['gone.txt']]]);
    expect(consumedBy(r, 'build', 'products', 0)).toEqual(['a.out']);
  });

  it('DELETE consumes materials that are not products, and nothing on the products side', () => {
    const r = run({ build }, [{ name: 'build', materials: [['DELETE', '*'], ['DISALLOW', 'gone.txt']], products: [['DELETE', '*'], ['DISALLOW', 'a.out']] }]);
    expect(failuresOf(r)).toEqual([['build', 'products', 1, 'RULE_DISALLOW', ['a.out']]]);
    expect(consumedBy(r, 'build', 'materials', 0)).toEqual(['gone.txt']);
  });

  it('MODIFY consumes paths on both sides whose digest dicts differ, on either side', () => {
    const r = run({ build }, [{ name: 'build', materials: [['MODIFY', '*']], products: [['MODIFY', '*'], ['DISALLOW', 'src/*']] }]);
    expect(consumedBy(r, 'build', 'materials', 0)).toEqual(['src/b.c']);
    expect(failuresOf(r)).toEqual([['build', 'products', 1, 'RULE_DISALLOW', ['src/a.c']]]);
  });

  it('REQUIRE passes on a queued path, fails on an absent one and on one an earlier rule consumed', () => {
    const r = run({ build }, [
      { name: 'build', materials: [['REQUIRE', 'README'], ['REQUIRE', 'nope'], ['ALLOW', 'README'], ['REQUIRE', 'README']], products: [['REQUIRE', 'src/*']] },
    ]);
    expect(failuresOf(r)).toEqual([
      ['build', 'materials', 1, 'RULE_REQUIRE', ['nope']],
      ['build', 'materials', 3, 'RULE_REQUIRE', ['README']],
      // REQUIRE takes a literal name: no globbing.
      ['build', 'products', 0, 'RULE_REQUIRE', ['src/*']],
    ]);
  });

  it('reports every failure of every item and side, not only the first', () => {
    const r = run({ build, test: build }, [
      { name: 'build', materials: [['DISALLOW', 'README'], ['DISALLOW', 'src/*']], products: [['REQUIRE', 'x']] },
      { name: 'test', materials: [], products: [['DISALLOW', '*.out']] },
    ]);
    expect(r.passed).toBe(false);
    expect(failuresOf(r).map((f) => f.slice(0, 4))).toEqual([
      ['build', 'materials', 0, 'RULE_DISALLOW'],
      ['build', 'materials', 1, 'RULE_DISALLOW'],
      ['build', 'products', 0, 'RULE_REQUIRE'],
      ['test', 'products', 0, 'RULE_DISALLOW'],
    ]);
    expect(r.failures[0]!.message).toContain("'DISALLOW README'");
    expect(r.failures[0]!.ruleText).toBe('DISALLOW README');
  });

  it('keywords are case-insensitive, patterns are not', () => {
    const r = run({ build }, [{ name: 'build', materials: [['aLLow', 'readme'], ['Disallow', 'README']], products: [] }]);
    expect(failuresOf(r)).toEqual([['build', 'materials', 1, 'RULE_DISALLOW', ['README']]]);
  });

  it('the implicit ALLOW * takes what is left, and shows in the trace', () => {
    const r = run({ build }, [{ name: 'build', materials: [['ALLOW', 'src/*']], products: [] }]);
    expect(r.passed).toBe(true);
    const implicit = r.trace.find((t) => t.item === 'build' && t.side === 'materials' && t.implicit);
    expect(implicit).toMatchObject({ ruleIndex: 1, rule: 'ALLOW *', consumed: ['README', 'gone.txt'] });
    expect(run({ build }, [{ name: 'build', materials: [], products: [] }], false).trace).toEqual([]);
  });
});

describe('MATCH', () => {
  const fetch: LinkSpec = { materials: {}, products: { 'foo.tar.gz': A, 'pkg/x.py': A, 'pkg/y.py': B, 'dual': { sha256: 'aa', sha512: 'cc' } } };

  it('consumes when the named step has the path with equal digests', () => {
    const build: LinkSpec = { materials: { 'foo.tar.gz': A, 'pkg/x.py': B, 'dual': A }, products: {} };
    const r = run({ fetch, build }, [
      { name: 'build', materials: [['MATCH', '*', 'WITH', 'PRODUCTS', 'FROM', 'fetch'], ['DISALLOW', '*']], products: [] },
    ]);
    // pkg/x.py has other digests; dual has {sha256} where fetch recorded {sha256, sha512}: whole dicts differ.
    expect(failuresOf(r)).toEqual([['build', 'materials', 1, 'RULE_DISALLOW', ['dual', 'pkg/x.py']]]);
    expect(consumedBy(r, 'build', 'materials', 0)).toEqual(['foo.tar.gz']);
  });

  it('compares whole digest dicts: the same algorithms and values, nothing less, nothing more', () => {
    const same: LinkSpec = { materials: { dual: { sha512: 'cc', sha256: 'aa' } }, products: {} };
    expect(run({ fetch, same }, [{ name: 'same', materials: [['MATCH', 'dual', 'WITH', 'PRODUCTS', 'FROM', 'fetch'], ['DISALLOW', '*']], products: [] }]).passed).toBe(true);
    // Key order and JSON spelling do not matter, content does (keys with quotes and backslashes included).
    const rules = new RuleEngine(engine);
    const x = rules.load('{"signed":{"materials":{"f":{"z\\"q":"aa","a\\\\k":"bb","sha256":"cc"}}}}');
    const y = rules.load('{"signed":{"materials":{"f":{"sha256":"cc","a\\u005ck":"bb","\\u007a\\"q":"aa"}}}}');
    const z = rules.load('{"signed":{"materials":{"f":{"sha256":"cc","a\\\\k":"bb","z\\"q":"aA"}}}}');
    expect(rules.equal(x, y)).toBe(true);
    expect(rules.equal(x, z)).toBe(false);
    rules.close();
    const upper: LinkSpec = { materials: { 'foo.tar.gz': { sha256: 'AA' } }, products: {} };
    expect(run({ fetch, upper }, [{ name: 'upper', materials: [['MATCH', '*', 'WITH', 'PRODUCTS', 'FROM', 'fetch'], ['DISALLOW', '*']], products: [] }]).passed).toBe(false);
  });

  it('IN prefixes are literal: the source prefix is stripped before globbing, the destination one prepended', () => {
    const build: LinkSpec = { materials: { 'src/pkg/x.py': A, 'src/pkg/y.py': B, 'src/foo.tar.gz': A, 'other/x.py': A }, products: {} };
    const r = run({ fetch, build }, [
      {
        name: 'build',
        materials: [['MATCH', '*.py', 'IN', 'src/pkg', 'WITH', 'PRODUCTS', 'IN', 'pkg/', 'FROM', 'fetch'], ['MATCH', 'foo*', 'IN', 'src/', 'WITH', 'PRODUCTS', 'FROM', 'fetch'], ['DISALLOW', '*']],
        products: [],
      },
    ]);
    expect(consumedBy(r, 'build', 'materials', 0)).toEqual(['src/pkg/x.py', 'src/pkg/y.py']);
    expect(consumedBy(r, 'build', 'materials', 1)).toEqual(['src/foo.tar.gz']);
    expect(failuresOf(r)).toEqual([['build', 'materials', 2, 'RULE_DISALLOW', ['other/x.py']]]);
    // A glob in a prefix is not a glob.
    const star = run({ fetch, build }, [{ name: 'build', materials: [['MATCH', '*', 'IN', 's*', 'WITH', 'PRODUCTS', 'FROM', 'fetch']], products: [] }]);
    expect(consumedBy(star, 'build', 'materials', 0)).toEqual([]);
  });

  it('MATCH against a step that has no link consumes nothing (and does not fail)', () => {
    const build: LinkSpec = { materials: { 'foo.tar.gz': A }, products: {} };
    const r = run({ build }, [{ name: 'build', materials: [['MATCH', '*', 'WITH', 'PRODUCTS', 'FROM', 'nowhere'], ['DISALLOW', '*']], products: [] }]);
    expect(failuresOf(r)).toEqual([['build', 'materials', 1, 'RULE_DISALLOW', ['foo.tar.gz']]]);
    expect(consumedBy(r, 'build', 'materials', 0)).toEqual([]);
  });

  it('can match against materials, and against the item itself', () => {
    const build: LinkSpec = { materials: { a: A, b: A }, products: { a: A, b: B } };
    const r = run({ build }, [{ name: 'build', materials: [], products: [['MATCH', '*', 'WITH', 'MATERIALS', 'FROM', 'build'], ['DISALLOW', '*']] }]);
    expect(failuresOf(r)).toEqual([['build', 'products', 1, 'RULE_DISALLOW', ['b']]]);
  });

  it('reproduces the reference when a stripped path does not join back to itself', () => {
    // python re-joins the source prefix with the stripped path and replaces backslashes: "src/x\\y" looks up
    // "src/x/y" (consuming that one), and "src//abs" looks up "/abs", which is no artifact: KeyError.
    const a: LinkSpec = { materials: { 'src/x\\y': A, 'src/x/y': A, 'src//abs': B }, products: {} };
    const b: LinkSpec = { materials: {}, products: { 'x\\y': A, 'x/y': A, '/abs': B } };
    const r = run({ a, b }, [
      { name: 'a', materials: [['MATCH', 'x*', 'IN', 'src', 'WITH', 'PRODUCTS', 'FROM', 'b'], ['DISALLOW', '*']], products: [] },
      { name: 'a', materials: [['MATCH', '*', 'IN', 'src', 'WITH', 'PRODUCTS', 'FROM', 'b']], products: [] },
    ]);
    expect(consumedBy(r, 'a', 'materials', 0)).toEqual(['src/x/y']);
    expect(failuresOf(r)).toEqual([
      ['a', 'materials', 1, 'RULE_DISALLOW', ['src//abs', 'src/x\\y']],
      ['a', 'materials', 0, 'RULE_MATCH', ['src//abs']],
    ]);
    expect(r.failures[1]!.sources).toEqual(['/abs']);
  });
});

describe('links', () => {
  it('keeps unicode paths as bytes: NFC and NFD are different artifacts, astral characters are one `?`', () => {
    const nfc = 'caf\u00e9';
    const nfd = 'cafe\u0301';
    const link: LinkSpec = { materials: { [nfc]: A, [nfd]: B, '😀.txt': A, 'ü/ß': A }, products: {} };
    const r = run({ u: link }, [{ name: 'u', materials: [['REQUIRE', nfc], ['ALLOW', 'caf?'], ['ALLOW', '?.txt'], ['DISALLOW', '*']], products: [] }]);
    expect(consumedBy(r, 'u', 'materials', 1)).toEqual([nfc]);
    expect(consumedBy(r, 'u', 'materials', 2)).toEqual(['😀.txt']);
    expect(failuresOf(r)).toEqual([['u', 'materials', 3, 'RULE_DISALLOW', [nfd, 'ü/ß']]]);
  });

  it('writes paths with quotes, backslashes and control characters back intact', () => {
    const odd = 'a"b\\c\nd\u0001e\u007f';
    const r = run({ o: { materials: { [odd]: A }, products: {} } }, [{ name: 'o', materials: [['DISALLOW', '*']], products: [] }]);
    expect(r.failures[0]!.artifacts).toEqual([odd]);
  });

  it('reads DSSE payloads (the whole document) and links without materials or products', () => {
    const rules = new RuleEngine(engine);
    try {
      const payload = rules.load(JSON.stringify({ _type: 'link', products: { p: A } }), 'whole');
      const empty = rules.load(JSON.stringify({ signed: { _type: 'link' }, signatures: [] }));
      const r = rules.apply([item({ name: 'p', materials: [], products: [['MATCH', 'p', 'WITH', 'PRODUCTS', 'FROM', 'p'], ['DISALLOW', '*']] })], new Map([['p', payload], ['e', empty]]));
      expect(r.passed).toBe(true);
      expect(rules.equal(empty, empty)).toBe(true);
      expect(rules.equal(payload, empty)).toBe(false);
    } finally {
      rules.close();
    }
  });

  it('refuses artifacts that are not hash dicts of hex strings, as the reference does, naming the path', () => {
    const rules = new RuleEngine(engine);
    const refuse = (materials: unknown) => {
      try {
        rules.load(JSON.stringify({ signed: { materials, products: {} }, signatures: [] }));
      } catch (error) {
        expect(error).toBeInstanceOf(InTotoError);
        return error as InTotoError;
      }
      throw new Error(`accepted ${JSON.stringify(materials)}`);
    };
    expect(refuse({ 'a.txt': 'aa' })).toMatchObject({ code: 'FORMAT', artifact: 'a.txt' });
    expect(refuse({ 'b.txt': { sha256: 'xyz' } })).toMatchObject({ code: 'FORMAT', artifact: 'sha256' });
    expect(refuse({ 'c.txt': { sha256: '' } })).toMatchObject({ code: 'FORMAT' });
    expect(refuse({ 'd.txt': { sha256: 1 } })).toMatchObject({ code: 'FORMAT' });
    expect(refuse({ 'e.txt': { sha256: 'ab\n\n' } })).toMatchObject({ code: 'FORMAT' });
    expect(refuse([])).toMatchObject({ code: 'FORMAT' });
    expect(() => rules.load('{"signed":{"materials":{"a":{"sha256":"aa"},"a":{"sha256":"aa"}}}}')).toThrow(expect.objectContaining({ code: 'JSON', engineCode: 9 }));
    expect(() => rules.load('[]')).toThrow(expect.objectContaining({ code: 'FORMAT' }));
    expect(() => rules.load('{"signatures":[]}')).toThrow(expect.objectContaining({ code: 'FORMAT', field: 'signed' }));
    // securesystemslib's `[a-fA-F0-9]+$` also matches before one final newline: the reference accepts this.
    rules.load(JSON.stringify({ signed: { materials: { f: { sha256: 'AB\n' } } } }));
    rules.close();
  });

  it('composes summary links and compares links', () => {
    const rules = new RuleEngine(engine);
    const first = rules.load(metablock({ materials: { m: A }, products: { p1: A } }));
    const last = rules.load(metablock({ materials: { x: B }, products: { p2: B } }));
    const summary = rules.compose(first, last);
    const expected = rules.load(metablock({ materials: { m: A }, products: { p2: B } }));
    expect(rules.equal(summary, expected)).toBe(true);
    expect(rules.equal(summary, first)).toBe(false);
    rules.free(first);
    expect(() => rules.equal(first, last)).toThrow(TypeError);
    rules.close();
  });

  it('refuses to go on after the engine restarted, rather than read tables it no longer has', () => {
    const own = createEngine();
    const rules = new RuleEngine(own);
    const h = rules.load(metablock({ materials: { a: A }, products: {} }));
    expect(() => own.invoke(() => {
      throw new Error('simulated trap');
    })).toThrow(expect.objectContaining({ code: 'ENGINE' }));
    expect(() => rules.apply([item({ name: 'x', materials: [], products: [] })], new Map([['x', h]]))).toThrow(expect.objectContaining({ code: 'ENGINE' }));
    rules.close();
  });

  it('refuses an item without a link, and handles of another session', () => {
    const one = new RuleEngine(engine);
    const two = new RuleEngine(engine);
    const h = one.load(metablock({ materials: {}, products: {} }));
    expect(() => one.apply([item({ name: 'missing', materials: [], products: [] })], new Map([['x', h]]))).toThrow(expect.objectContaining({ code: 'LINK_MISSING' }));
    expect(() => two.apply([], new Map([['x', h]]))).toThrow(TypeError);
    one.close();
    two.close();
  });

  it('sessions on one engine keep their own links', () => {
    const one = new RuleEngine(engine);
    const a = one.load(metablock({ materials: { a: A }, products: {} }));
    const two = new RuleEngine(engine);
    const b = two.load(metablock({ materials: { b: A }, products: {} }));
    two.close();
    const r = one.apply([item({ name: 'a', materials: [['REQUIRE', 'a']], products: [] })], new Map([['a', a]]));
    expect(r.passed).toBe(true);
    expect(b.slot).toBeGreaterThanOrEqual(0);
    one.close();
  });

  it('Symbol.dispose closes the session (`using`)', () => {
    const rules = new RuleEngine(engine);
    const h = rules.load(metablock({ materials: { a: A }, products: {} }));
    expect(Object.getOwnPropertyDescriptor(RuleEngine.prototype, Symbol.dispose)).toMatchObject({ enumerable: false, writable: true, configurable: true });
    rules[Symbol.dispose]();
    expect(() => rules.apply([item({ name: 'a', materials: [['REQUIRE', 'a']], products: [] })], new Map([['a', h]]))).toThrow(TypeError);
  });
});

describe('the ABI, called directly', () => {
  interface Raw {
    memory: WebAssembly.Memory;
    input_ptr(n: number): number;
    output_ptr(): number;
    output_len(): number;
    error_offset(): number;
    set_seed(a: number, b: number, c: number, d: number): number;
    link_store(len: number, select: number): number;
    rules_apply(len: number, flags: number): number;
    glob_match(p: number, s: number): number;
  }
  const raw = createEngine();
  const call = <T>(fn: (ex: Raw) => T): T => raw.invoke((ex) => fn(ex as unknown as Raw));
  // The pointer first: input_ptr may grow memory, detaching a buffer read before it.
  const put = (ex: Raw, bytes: Uint8Array) => {
    const ptr = ex.input_ptr(bytes.length);
    new Uint8Array(ex.memory.buffer, ptr, bytes.length).set(bytes);
  };
  const apply = (program: string, flags = 0) =>
    call((ex) => {
      const bytes = utf8.encode(program);
      put(ex, bytes);
      const code = ex.rules_apply(bytes.length, flags);
      const out = new TextDecoder().decode(new Uint8Array(ex.memory.buffer, ex.output_ptr(), ex.output_len()));
      return { code, offset: ex.error_offset(), out };
    });

  it('refuses to store links before the host supplies a seed', () => {
    const link = metablock({ materials: { a: A }, products: {} });
    expect(call((ex) => (put(ex, link), ex.link_store(link.length, 1)))).toBe(-17);
    call((ex) => ex.set_seed(0x01234567, 0x89abcdef, 0xfedcba98, 0x76543210));
    expect(call((ex) => (put(ex, link), ex.link_store(link.length, 1)))).toBe(0);
    expect(call((ex) => (put(ex, link), ex.link_store(link.length, 2)))).toBe(-15);
  });

  it('runs an empty program, and refuses malformed ones with code 19 and the offending token', () => {
    expect(apply('{"links":{},"items":[]}')).toMatchObject({ code: 0, out: '{"items":[],"failures":0}' });
    expect(apply('{"links":{},"items":[]}', 2).code).toBe(15);
    const program = (rule: unknown, links = '{"x":0}', name = 'x') => `{"links":${links},"items":[{"name":"${name}","materials":[${JSON.stringify(rule)}],"products":[]}]}`;
    expect(apply(program(['ALLOW', '*'])).code).toBe(0);
    for (const bad of [['CREATE'], ['CREATE', 'a', 'b'], ['FOO', 'a'], ['CREATE', 1], 'CREATE a', ['MATCH', '*', 'WITH', 'PRODUCTS'], ['MATCH', '*', 'FROM', 'x', 'WITH', 'PRODUCTS'], ['MATCH', '*', 'IN', 'a', 'WITH', 'PRODUCTS', 'IN', 'b', 'FROM']]) {
      expect(apply(program(bad)).code, JSON.stringify(bad)).toBe(19);
    }
    const text = program(['MATCH', '*', 'WITH', 'FOO', 'FROM', 'x']);
    const r = apply(text);
    expect(r).toMatchObject({ code: 19, offset: text.indexOf('"FOO"') });
    expect(apply(program(['ALLOW', '*'], '{"x":-1}')).code).toBe(19);
    expect(apply(program(['ALLOW', '*'], '{"x":99}')).code).toBe(18);
    expect(apply(program(['ALLOW', '*'], '{"x":0}', 'y')).code).toBe(19);
    expect(apply('{"links":{},"items":[],"extra":1}').code).toBe(19);
    expect(apply('{"links":{},"items":[1]}').code).toBe(19);
    expect(apply('{"links":{},"items":[], }').code).toBe(2);
  });

  it('glob_match refuses bytes that are not UTF-8', () => {
    expect(call((ex) => (put(ex, Uint8Array.of(0x2a, 0xff)), ex.glob_match(1, 1)))).toBe(-3);
    expect(call((ex) => (put(ex, Uint8Array.of(0x2a, 0x61)), ex.glob_match(1, 1)))).toBe(1);
  });

  it('the host turns a malformed rule object into a FORMAT error', () => {
    const bogus = { type: 'CREATE', pattern: 'x', tokens: ['CREATE'] } as ArtifactRule;
    expect(() =>
      evaluateRules([{ name: 'x', materials: [bogus], products: [] }], [{ name: 'x', bytes: metablock({ materials: {}, products: {} }) }], { engine }),
    ).toThrow(expect.objectContaining({ code: 'FORMAT' }));
  });
});

// -------------------------------------------------------------------------------------------------------
// The reference, and a model.

/**
 * Runs each item side through in-toto 1.3.1's `verify_item_rules` and reports the outcome (the first failing
 * rule's kind, or KeyError) and the queue after every rule that completed (python's RULE_TRACE).
 */
function reference(cases: { links: Record<string, LinkSpec>; items: ItemSpec[] }[]): { error: string | null; queues: string[][] }[][] {
  const program = `
import json, sys
from in_toto.models.link import Link
from in_toto.models.metadata import Metablock
from in_toto import verifylib
from in_toto.exceptions import RuleVerificationError
out = []
for case in json.load(sys.stdin):
    links = {name: Metablock(signed=Link(name=name, materials=l["materials"], products=l["products"]))
             for name, l in case["links"].items()}
    res = []
    for item in case["items"]:
        for side in ("materials", "products"):
            try:
                verifylib.verify_item_rules(item["name"], side, item[side], links)
                err = None
            except RuleVerificationError:
                err = "RULE"
            except KeyError:
                err = "KeyError"
            res.append({"error": err, "queues": [sorted(e["queue"]) for e in verifylib.RULE_TRACE["trace"]]})
    out.append(res)
json.dump(out, sys.stdout)
`;
  return JSON.parse(runPython(program, JSON.stringify(cases)).toString('utf8'));
}

/** Sorts by UTF-8 bytes (= code points), the engine's order; python's sorted() on str agrees. */
const byCodePoint = (a: string, b: string): number => {
  const x = [...a].map((c) => c.codePointAt(0)!);
  const y = [...b].map((c) => c.codePointAt(0)!);
  for (let i = 0; i < Math.min(x.length, y.length); i++) if (x[i] !== y[i]) return x[i]! - y[i]!;
  return x.length - y.length;
};

/** Simple globs only (the model's patterns: literals, `*`, `?`, `[..]` without ranges or negation). */
const modelGlob = (pattern: string, path: string): boolean => {
  let re = '';
  for (const c of pattern) {
    if (c === '*') re += '[\\s\\S]*';
    else if (c === '?') re += '[\\s\\S]';
    else if (c === '[' || c === ']') re += c;
    else re += c.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');
  }
  return new RegExp(`^(?:${re})$`, 'u').test(path);
};

const sameDigests = (a: Digests | undefined, b: Digests | undefined): boolean =>
  a !== undefined && b !== undefined && Object.keys(a).length === Object.keys(b).length && Object.entries(a).every(([k, v]) => b[k] === v);

/** python's os.path.join(prefix, path).replace("\\", "/") on POSIX. */
const join = (prefix: string, path: string): string =>
  (path.startsWith('/') ? path : prefix.endsWith('/') ? prefix + path : `${prefix}/${path}`).replaceAll('\\', '/');

interface ModelSide {
  failures: { ruleIndex: number; code: string; artifacts: string[] }[];
  queues: string[][];
}

/** The rule queue as verify_item_rules describes it, continuing past failures. Obvious, not fast. */
function model(links: Record<string, LinkSpec>, spec: ItemSpec, side: 'materials' | 'products'): ModelSide {
  const own = links[spec.name]!;
  const artifacts = own[side];
  let queue = new Set(Object.keys(artifacts));
  const out: ModelSide = { failures: [], queues: [] };
  spec[side].forEach((tokens, ruleIndex) => {
    const r = rule(tokens);
    const consumed = new Set<string>();
    const matching = () => [...queue].filter((p) => modelGlob((r as { pattern: string }).pattern, p));
    switch (r.type) {
      case 'ALLOW':
        matching().forEach((p) => consumed.add(p));
        break;
      case 'CREATE':
        matching().filter((p) => p in own.products && !(p in own.materials)).forEach((p) => consumed.add(p));
        break;
      case 'DELETE':
        matching().filter((p) => p in own.materials && !(p in own.products)).forEach((p) => consumed.add(p));
        break;
      case 'MODIFY':
        matching().filter((p) => p in own.materials && p in own.products && !sameDigests(own.materials[p], own.products[p])).forEach((p) => consumed.add(p));
        break;
      case 'DISALLOW': {
        const hits = matching();
        if (hits.length > 0) out.failures.push({ ruleIndex, code: 'RULE_DISALLOW', artifacts: hits.sort(byCodePoint) });
        break;
      }
      case 'REQUIRE':
        if (!queue.has(r.filename)) out.failures.push({ ruleIndex, code: 'RULE_REQUIRE', artifacts: [r.filename] });
        break;
      case 'MATCH': {
        const dest = links[r.step];
        if (!dest) break;
        const missing: string[] = [];
        const src = r.srcPrefix ? join(r.srcPrefix, '') : '';
        for (const path of queue) {
          if (!path.startsWith(src)) continue;
          const stripped = path.slice(src.length);
          if (!modelGlob(r.pattern, stripped)) continue;
          const source = r.srcPrefix ? join(r.srcPrefix, stripped) : stripped;
          if (!(source in artifacts)) {
            missing.push(path);
            continue;
          }
          const target = r.dstPrefix ? join(r.dstPrefix, stripped) : stripped;
          if (sameDigests(artifacts[source], dest[r.dstType === 'PRODUCTS' ? 'products' : 'materials'][target])) consumed.add(source);
        }
        if (missing.length > 0) out.failures.push({ ruleIndex, code: 'RULE_MATCH', artifacts: missing.sort(byCodePoint) });
        break;
      }
    }
    queue = new Set([...queue].filter((p) => !consumed.has(p)));
    out.queues.push([...queue].sort(byCodePoint));
  });
  return out;
}

// Random cases: a pool of paths with the awkward ones (backslashes, a doubled slash, unicode), digests that
// differ by value and by algorithm set, and rules drawn from every kind and MATCH form.
const PATHS = ['a', 'b.py', 'src/a', 'src/b.py', 'src/x\\y', 'src//abs', '/abs', 'x\\y', 'dir/é', '😀', 'é', 'pkg/a'];
const DIGESTS: Digests[] = [{ sha256: 'aa' }, { sha256: 'bb' }, { sha256: 'aa', sha512: 'cc' }, { sha512: 'aa' }];
const PATTERNS = ['*', '*.py', 'src/*', '?', 'a', 'x\\y', '[ab]*', 'é*', '*😀', '/*', 'b.py', '*/*'];
const PREFIXES = ['src', 'src/', 'dir', 'pkg', ''];
const STEPS = ['s1', 's2', 's3'];

const artifactsArb = fc.dictionary(fc.constantFrom(...PATHS), fc.constantFrom(...DIGESTS), { maxKeys: 8 });
const linkArb = fc.record({ materials: artifactsArb, products: artifactsArb });
const ruleArb: fc.Arbitrary<string[]> = fc.oneof(
  fc.tuple(fc.constantFrom('CREATE', 'DELETE', 'MODIFY', 'ALLOW', 'DISALLOW', 'allow', 'Disallow'), fc.constantFrom(...PATTERNS)).map(([k, p]) => [k, p]),
  fc.tuple(fc.constant('REQUIRE'), fc.constantFrom(...PATHS)).map(([k, p]) => [k, p]),
  fc
    .tuple(fc.constantFrom(...PATTERNS), fc.option(fc.constantFrom(...PREFIXES)), fc.constantFrom('MATERIALS', 'PRODUCTS', 'products'), fc.option(fc.constantFrom(...PREFIXES)), fc.constantFrom(...STEPS, 'nowhere'))
    .map(([pattern, src, dst, dstPrefix, step]) => [
      'MATCH', pattern, ...(src === null ? [] : ['IN', src]), 'WITH', dst, ...(dstPrefix === null ? [] : ['IN', dstPrefix]), 'FROM', step,
    ]),
);
const caseArb = fc
  .record({
    links: fc.record({ s1: linkArb, s2: linkArb, s3: linkArb }, { requiredKeys: ['s1', 's2'] }),
    rules: fc.array(fc.record({ materials: fc.array(ruleArb, { maxLength: 6 }), products: fc.array(ruleArb, { maxLength: 6 }) }), { minLength: 1, maxLength: 2 }),
  })
  .map(({ links, rules }) => ({
    links: links as Record<string, LinkSpec>,
    items: rules.map((r, i) => ({ name: i === 0 ? 's1' : 's2', ...r })),
  }));

/**
 * Cases whose sides are drawn from two artifact sets, so that most sides record exactly the same artifacts as
 * another (one table shared: MATCH and the partner look-ups take their shortcut) and the rest differ by a little.
 */
const sharedCaseArb = fc
  .record({ pool: fc.tuple(artifactsArb, artifactsArb), picks: fc.array(fc.nat(2), { minLength: 6, maxLength: 6 }), base: caseArb })
  .map(({ pool, picks, base }) => {
    const sets = [pool[0], pool[1], { ...pool[0], ...Object.fromEntries(Object.entries(pool[1]).slice(0, 1)) }];
    const links: Record<string, LinkSpec> = {};
    ['s1', 's2', 's3'].forEach((name, i) => (links[name] = { materials: sets[picks[2 * i]!]!, products: sets[picks[2 * i + 1]!]! }));
    return { links, items: base.items };
  });

/** The engine on one random case, per item side: failures, and the queue after each rule rebuilt from the trace. */
function engineCase(c: { links: Record<string, LinkSpec>; items: ItemSpec[] }): ModelSide[] {
  const r = run(c.links, c.items);
  return c.items.flatMap((spec, itemIndex) =>
    (['materials', 'products'] as const).map((side) => {
      const queue = new Set(Object.keys(c.links[spec.name]![side]));
      return {
        failures: r.failures
          .filter((f) => f.itemIndex === itemIndex && f.side === side)
          .map((f) => ({ ruleIndex: f.ruleIndex, code: f.code, artifacts: [...f.artifacts] })),
        queues: r.trace
          .filter((t) => t.itemIndex === itemIndex && t.side === side && !t.implicit)
          .map((t) => {
            t.consumed.forEach((p) => queue.delete(p));
            return [...queue].sort(byCodePoint);
          }),
      };
    }),
  );
}

describe('the queue, against a model and against the reference', () => {
  it('agrees with the TypeScript model on random artifact sets and rule lists', () => {
    fc.assert(
      fc.property(caseArb, (c) => {
        const got = engineCase(c);
        const want = c.items.flatMap((spec) => (['materials', 'products'] as const).map((side) => model(c.links, spec, side)));
        expect(got).toEqual(want);
      }),
      { numRuns: 500, seed: 0x1a2b3c },
    );
  });

  it('agrees with the model when sides share tables (MATCH between one table and itself, prefixes, rejoins)', () => {
    fc.assert(
      fc.property(sharedCaseArb, (c) => {
        const got = engineCase(c);
        const want = c.items.flatMap((spec) => (['materials', 'products'] as const).map((side) => model(c.links, spec, side)));
        expect(got).toEqual(want);
      }),
      { numRuns: 1000, seed: 0x5eed },
    );
  });

  it('agrees with in-toto 1.3.1 verify_item_rules: first failure and every queue before it', () => {
    assertReferenceInstalled();
    // Half the cases with sides that share tables.
    const cases = [...fc.sample(caseArb, { numRuns: 300, seed: 0xbeef }), ...fc.sample(sharedCaseArb, { numRuns: 300, seed: 0xfeed })];
    const python = reference(cases);
    let failuresSeen = 0;
    let keyErrors = 0;
    cases.forEach((c, i) => {
      const ours = engineCase(c);
      python[i]!.forEach((py, s) => {
        const mine = ours[s]!;
        const first = mine.failures[0];
        if (py.error === null) {
          expect(first, JSON.stringify({ c, s })).toBeUndefined();
          expect(mine.queues).toEqual(py.queues);
        } else {
          failuresSeen++;
          // python stops at the first failure: its trace holds the queues of the rules before it.
          expect(first, JSON.stringify({ c, s })).toBeDefined();
          expect(first!.ruleIndex).toBe(py.queues.length);
          const keyword = c.items[s >> 1]![s & 1 ? 'products' : 'materials'][first!.ruleIndex]![0]!.toLowerCase();
          expect(first!.code).toBe(py.error === 'KeyError' ? 'RULE_MATCH' : keyword === 'disallow' ? 'RULE_DISALLOW' : 'RULE_REQUIRE');
          if (py.error === 'KeyError') keyErrors++;
          expect(mine.queues.slice(0, py.queues.length)).toEqual(py.queues);
        }
      });
    });
    // The cases exercise failures of each kind, including the reference's KeyError corner.
    expect(failuresSeen).toBeGreaterThan(100);
    expect(keyErrors).toBeGreaterThan(0);
  });
});

// -------------------------------------------------------------------------------------------------------
// Hash flooding.

/** Java's String.hashCode, a naive unkeyed hash: "Aa" and "BB" collide, so every string of k such blocks does. */
const naiveHash = (s: string): number => [...s].reduce((h, c) => (Math.imul(h, 31) + c.charCodeAt(0)) | 0, 0);

function collidingPaths(bits: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < 1 << bits; i++) {
    let s = '';
    for (let b = 0; b < bits; b++) s += (i >> b) & 1 ? 'BB' : 'Aa';
    out.push(s);
  }
  return out;
}

function floodLink(paths: string[]): Uint8Array {
  const digest = '{"sha256":"' + 'a'.repeat(64) + '"}';
  return utf8.encode(`{"signed":{"materials":{${paths.map((p) => `"${p}":${digest}`).join(',')}},"products":{}},"signatures":[]}`);
}

describe('hash flooding', () => {
  it('paths that all collide under a naive hash still load and look up in linear probe counts', () => {
    const small = collidingPaths(16);
    const large = collidingPaths(17);
    expect(new Set(large.map(naiveHash)).size).toBe(1); // 131,072 paths, one naive bucket
    const rules = new RuleEngine(engine);
    const counts = (paths: string[]) => {
      const h = rules.load(floodLink(paths));
      const load = rules.lastCounts.probes;
      // Every path is looked up by a MATCH against another link with the same paths and one more (its own table:
      // against the link itself, the one table shared would take no look-ups at all).
      const g = rules.load(floodLink([...paths, 'one more']));
      const r = rules.apply([item({ name: 'f', materials: [['MATCH', '*', 'WITH', 'MATERIALS', 'FROM', 'g'], ['DISALLOW', '*']], products: [] })], new Map([['f', h], ['g', g]]), { trace: false });
      expect(r.passed).toBe(true);
      const lookups = rules.lastCounts.probes;
      const self = rules.apply([item({ name: 'f', materials: [['MATCH', '*', 'WITH', 'MATERIALS', 'FROM', 'f'], ['DISALLOW', '*']], products: [] })], new Map([['f', h]]), { trace: false });
      expect(self.passed).toBe(true);
      expect(rules.lastCounts.probes).toBe(0);
      rules.free(h);
      rules.free(g);
      return { load, lookups };
    };
    const a = counts(small);
    const b = counts(large);
    // About one probe per insert and per lookup (load factor <= 1/2), and doubling the paths doubles them.
    expect(a.load / small.length).toBeLessThan(2);
    expect(a.lookups / small.length).toBeLessThan(2);
    expect(b.load / a.load).toBeGreaterThan(1.8);
    expect(b.load / a.load).toBeLessThan(2.2);
    expect(b.lookups / a.lookups).toBeGreaterThan(1.8);
    expect(b.lookups / a.lookups).toBeLessThan(2.2);
    rules.close();
  });
});

describe('digest dicts stored compact (sha256 alone, lower case) or canonical', () => {
  const lower = 'a'.repeat(8) + '0123456789abcdef'.repeat(3) + 'f'.repeat(8);
  const dicts: Record<string, Record<string, string>> = {
    'compact.c': { sha256: lower },
    'upper.c': { sha256: lower.toUpperCase() },
    'mixed.c': { sha256: `${lower.slice(0, 63)}A` },
    'newline.c': { sha256: `${lower}\n` },
    'short.c': { sha256: lower.slice(0, 62) },
    'two.c': { sha256: lower, sha512: 'ab'.repeat(64) },
    'other.c': { sha384: lower },
    'zeros.c': { sha256: '0'.repeat(64) },
    'effs.c': { sha256: 'f'.repeat(64) },
  };
  const doc = (products: Record<string, Record<string, string>>) => new TextEncoder().encode(JSON.stringify({ signed: { materials: {}, products } }));

  it('come back out exactly as they went in', () => {
    const rules = new RuleEngine(createEngine());
    try {
      const handle = rules.load(doc(dicts));
      expect(rules.artifacts(handle, 'products')).toEqual(dicts);
    } finally {
      rules.close();
    }
  });

  it('MATCH compares them as the reference compares dicts: upper and lower case differ, equal dicts match', () => {
    const engine = createEngine();
    const match = (a: Record<string, string>, b: Record<string, string>) =>
      evaluateRules(
        [{ name: 'b', materials: [parseRule(['MATCH', 'f', 'WITH', 'PRODUCTS', 'FROM', 'a']), parseRule(['DISALLOW', '*'])], products: [] }],
        [
          { name: 'a', bytes: doc({ f: a }) },
          { name: 'b', bytes: new TextEncoder().encode(JSON.stringify({ signed: { materials: { f: b }, products: {} } })) },
        ],
        { engine },
      ).passed;
    expect(match({ sha256: lower }, { sha256: lower })).toBe(true);
    expect(match({ sha256: lower }, { sha256: lower.toUpperCase() })).toBe(false);
    expect(match({ sha256: lower.toUpperCase() }, { sha256: lower.toUpperCase() })).toBe(true);
    expect(match({ sha256: lower }, { sha256: `${lower.slice(0, 63)}e` })).toBe(false);
    expect(match({ sha256: lower }, { sha256: lower, sha512: 'ab'.repeat(64) })).toBe(false);
    expect(match({ sha256: '0'.repeat(64) }, { sha256: '0'.repeat(64) })).toBe(true);
  });
});

describe('digest values are hex digits, exactly as HASHDICT_SCHEMA says', () => {
  it('control characters 0x10-0x19 (which lowercase to digits) are refused at every position, both scan paths', () => {
    const rules = new RuleEngine(createEngine());
    try {
      const link = (value: string) => new TextEncoder().encode(JSON.stringify({ signed: { materials: {}, products: { app: { sha256: value } } } }));
      for (const c of [0x10, 0x15, 0x19, 0x01, 0x06, 0x2f, 0x3a, 0x40, 0x47, 0x60, 0x67]) {
        // Short values take the byte loop, 8-byte runs the word test.
        for (const value of [String.fromCharCode(c), `ab${String.fromCharCode(c)}c`, `${'0'.repeat(8)}${String.fromCharCode(c)}${'f'.repeat(7)}`, `${'a'.repeat(63)}${String.fromCharCode(c)}`]) {
          let error: unknown;
          try {
            rules.load(link(value));
          } catch (e) {
            error = e;
          }
          expect(error, `0x${c.toString(16)} in ${JSON.stringify(value)}`).toMatchObject({ code: 'FORMAT' });
        }
      }
      for (const value of ['0', '09afAF', `${'a'.repeat(64)}`, `${'F'.repeat(16)}\n`]) expect(() => rules.load(link(value))).not.toThrow();
    } finally {
      rules.close();
    }
  });
});

describe('artifact tables shared between sides that record exactly the same artifacts', () => {
  const hex = '0123456789abcdef'.repeat(4);
  const base: Artifacts = { 'src/a.c': { sha256: hex }, 'src/b.c': { sha256: hex.replace('0', '1') }, 'z/é': { sha256: 'ab', sha512: 'cd' } };
  // Each differs from `base` in one entry, by as little as possible: none may be taken for `base`.
  const nearMisses: Record<string, Artifacts> = {
    'one path byte': { ...base, 'src/a.c': undefined!, 'src/a.d': { sha256: hex } },
    'a path one byte longer': { ...base, 'src/a.c': undefined!, 'src/a.cc': { sha256: hex } },
    'a path one byte shorter': { ...base, 'src/a.c': undefined!, 'src/a.': { sha256: hex } },
    'one digest digit': { ...base, 'src/a.c': { sha256: `${hex.slice(0, 63)}e` } },
    'the digest in upper case': { ...base, 'src/a.c': { sha256: hex.toUpperCase() } },
    'the digest with a final newline': { ...base, 'src/a.c': { sha256: `${hex}\n` } },
    'the same digest under another algorithm': { ...base, 'src/a.c': { sha384: hex } },
    'a second algorithm': { ...base, 'src/a.c': { sha256: hex, sha512: hex + hex } },
    'an algorithm fewer': { ...base, 'z/é': { sha256: 'ab' } },
    'one entry more': { ...base, 'src/c.c': { sha256: hex } },
    'one entry fewer': { ...base, 'src/b.c': undefined! },
    'the digests of two paths swapped': { ...base, 'src/a.c': base['src/b.c']!, 'src/b.c': base['src/a.c']! },
    'NFD for NFC': { ...base, 'z/é': undefined!, 'z/e\u0301': base['z/é']! },
  };
  const clean = (a: Artifacts): Artifacts => Object.fromEntries(Object.entries(a).filter(([, d]) => d !== undefined));

  it('a link recording the same artifacts as one already loaded builds no table of its own (no index inserts)', () => {
    const rules = new RuleEngine(createEngine());
    try {
      const alone = rules.load(metablock({ materials: base, products: {} }));
      const inserts = rules.lastCounts.probes;
      expect(inserts).toBeGreaterThanOrEqual(3);
      rules.free(alone);
      // The products share the materials' table: no more index inserts than the materials alone took.
      const first = rules.load(metablock({ materials: base, products: base }));
      expect(rules.lastCounts.probes).toBe(inserts);
      const second = rules.load(metablock({ materials: base, products: base }));
      expect(rules.lastCounts.probes).toBe(0);
      expect(rules.equal(first, second)).toBe(true);
      expect(rules.artifacts(second, 'products')).toEqual(base);
    } finally {
      rules.close();
    }
  });

  for (const [name, artifacts] of Object.entries(nearMisses)) {
    it(`never shares a table that differs by ${name}`, () => {
      const other = clean(artifacts);
      const rules = new RuleEngine(createEngine());
      try {
        // Loaded in both orders, next to each other, on both sides.
        const a = rules.load(metablock({ materials: base, products: other }, 'a'));
        const b = rules.load(metablock({ materials: other, products: base }, 'b'));
        const c = rules.load(metablock({ materials: base, products: base }, 'c'));
        expect(rules.artifacts(a, 'materials')).toEqual(base);
        expect(rules.artifacts(a, 'products')).toEqual(other);
        expect(rules.artifacts(b, 'materials')).toEqual(other);
        expect(rules.artifacts(b, 'products')).toEqual(base);
        expect(rules.equal(a, c)).toBe(false);
        expect(rules.equal(b, c)).toBe(false);
        // MATCH each of a's products against c's, and the other way: only the differing entries stay queued.
        const links = new Map([['a', a], ['b', b], ['c', c]]);
        const r = rules.apply([
          { name: 'a', materials: [], products: [rule(['MATCH', '*', 'WITH', 'PRODUCTS', 'FROM', 'c']), rule(['DISALLOW', '*'])] },
          { name: 'c', materials: [], products: [rule(['MATCH', '*', 'WITH', 'MATERIALS', 'FROM', 'b']), rule(['DISALLOW', '*'])] },
          { name: 'b', materials: [], products: [rule(['MODIFY', '*']), rule(['CREATE', '*']), rule(['ALLOW', '*'])] },
        ], links);
        const differ = (x: Artifacts, y: Artifacts) => Object.keys(x).filter((p) => !sameDigests(x[p], y[p])).sort(byCodePoint);
        const expected = [['a', differ(other, base)], ['c', differ(base, other)]].filter(([, paths]) => paths!.length > 0);
        expect(expected.length).toBeGreaterThan(0);
        expect(r.failures.map((f) => [f.item, [...f.artifacts]])).toEqual(expected);
        // b's products are a's materials' table, b's materials are not: MODIFY and CREATE see b's own other side.
        const consumed = [...(consumedBy(r, 'b', 'products', 0) ?? []), ...(consumedBy(r, 'b', 'products', 1) ?? [])].sort(byCodePoint);
        expect(consumed).toEqual(Object.keys(base).filter((p) => !sameDigests(base[p], other[p])).sort(byCodePoint));
      } finally {
        rules.close();
      }
    });
  }

  it('a shared table outlives the link that built it, and is re-indexed once under a new seed', () => {
    const own = createEngine();
    const rules = new RuleEngine(own);
    try {
      const first = rules.load(metablock({ materials: base, products: base }));
      const second = rules.load(metablock({ materials: base, products: {} }));
      rules.free(first);
      // Reused memory gets other bytes: a freed table still read would show here.
      rules.load(metablock({ materials: nearMisses['one digest digit']!, products: clean(nearMisses['one path byte']!) }));
      expect(rules.artifacts(second, 'materials')).toEqual(base);
      own.invoke((ex) => (ex as unknown as { set_seed(a: number, b: number, c: number, d: number): number }).set_seed(1, 2, 3, 4));
      const third = rules.load(metablock({ materials: {}, products: base }));
      expect(rules.lastCounts.probes).toBe(0); // shared with second's materials, indexed under the new key
      const r = rules.apply([
        { name: 'second', materials: [rule(['REQUIRE', 'z/é']), rule(['MATCH', '*', 'WITH', 'PRODUCTS', 'FROM', 'third']), rule(['DISALLOW', '*'])], products: [] },
      ], new Map([['second', second], ['third', third]]));
      expect(r.failures).toEqual([]);
      expect(rules.equal(second, third)).toBe(false);
    } finally {
      rules.close();
    }
  });

  it('agrees with the model on random links loaded one after another (tables shared or not)', () => {
    const arb = fc.dictionary(fc.constantFrom(...PATHS), fc.constantFrom(...DIGESTS), { maxKeys: 4 });
    const rules = new RuleEngine(engine);
    fc.assert(
      fc.property(fc.array(fc.record({ materials: arb, products: arb }), { minLength: 1, maxLength: 6 }), (links) => {
        const handles = links.map((l, i) => rules.load(metablock(l, `l${i}`)));
        links.forEach((l, i) => {
          expect(rules.artifacts(handles[i]!, 'materials')).toEqual(l.materials);
          expect(rules.artifacts(handles[i]!, 'products')).toEqual(l.products);
          links.forEach((m, j) => {
            const same = (x: Artifacts, y: Artifacts) => Object.keys(x).length === Object.keys(y).length && Object.keys(x).every((p) => sameDigests(x[p], y[p]));
            expect(rules.equal(handles[i]!, handles[j]!)).toBe(same(l.materials, m.materials) && same(l.products, m.products));
          });
        });
        // Free in a random-ish order, every other one first.
        handles.filter((_, i) => i % 2 === 0).forEach((h) => rules.free(h));
        handles.filter((_, i) => i % 2 === 1).forEach((h, k) => expect(rules.artifacts(h, 'products')).toEqual(links[2 * k + 1]!.products));
        handles.filter((_, i) => i % 2 === 1).forEach((h) => rules.free(h));
      }),
      { numRuns: 300 },
    );
    rules.close();
  });
});
