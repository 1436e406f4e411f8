/**
 * The metadata writers against their oracles: `dumpReferenceJson` / `dumpCompactJson` (`writeJson` pretty and
 * compact) against python's own `json.dumps` (indent 1 and compact, sort_keys, ensure_ascii), and `createMetablock`'s
 * signed bytes (`writeJson` canonical, else the engine) against the engine's canonical form, on generated documents
 * (control characters, astral characters, code points above the surrogates, integer-like keys, big and unsafe
 * numbers, deep nesting). Each run also checks that canonical writing was really done here for a good share of
 * documents and left to the engine where it must be.
 */
import { describe, expect, it, beforeAll } from 'vitest';
import { getEngine, initEngine } from '../../bindings/engine.js';
import { createMetablock } from '../../bindings/metadata/envelope.js';
import { compareCodePoints, dumpCompactJson, dumpReferenceJson, NOT_STRINGIFIABLE, writeJson } from '../../bindings/metadata/reference-json.js';

const writtenHere = (v: unknown): boolean => writeJson(v, 'canonical') !== NOT_STRINGIFIABLE;
import { Gen, rng, type Value } from '../helpers/json-gen.js';
import { runPython } from '../helpers/reference.js';

beforeAll(async () => {
  await initEngine();
});

/**
 * A generated value as a JS value: objects get their keys in code point order (shared as they are by the fast
 * path) or as generated (copied in order by it); with `integerKeys`, objects also get "10" and "9", which V8
 * lists in numeric order, so the fast path must decline them.
 */
function toJs(v: Value, sortKeys: boolean, integerKeys = false): unknown {
  if (v === null || typeof v === 'boolean' || typeof v === 'string') return v;
  if (typeof v === 'bigint') return Number.isSafeInteger(Number(v)) ? Number(v) : Number(v % 1000000n);
  if (Array.isArray(v)) return v.map((x) => toJs(x, sortKeys, integerKeys));
  const entries = [...v.entries].filter(([k]) => !integerKeys || (k !== '10' && k !== '9'));
  if (integerKeys) entries.push(['10', 1n], ['9', 2n]);
  if (sortKeys) entries.sort(([a], [b]) => compareCodePoints(a, b));
  const out: Record<string, unknown> = {};
  for (const [k, x] of entries) Object.defineProperty(out, k, { value: toJs(x, sortKeys, integerKeys), enumerable: true, writable: true, configurable: true });
  return out;
}

const PYTHON_DUMPS = `
import json, sys
out = []
for line in sys.stdin.buffer.read().decode('utf-8', 'surrogatepass').split('\\n'):
    v = json.loads(line)
    out.append([json.dumps(v, indent=1, sort_keys=True), json.dumps(v, sort_keys=True, separators=(',', ':'))])
sys.stdout.write(json.dumps(out))
`;

describe('python-compatible writers', () => {
  it('write what python json.dumps writes, indented and compact, for 1,500 generated documents', () => {
    const g = new Gen(rng(20261125));
    const docs: unknown[] = [];
    for (let i = 0; i < 1500; i++) {
      const v = i % 3 === 0 ? g.deep(g.int(1, 40)) : g.value(0, 5);
      docs.push(toJs(v, i % 5 !== 0, i % 4 === 1));
    }
    // Python reads each document from JSON.stringify (lone surrogates pass as escapes).
    const input = docs.map((d) => JSON.stringify(d)).join('\n');
    const expected = JSON.parse(runPython(PYTHON_DUMPS, input).toString('utf8')) as [string, string][];
    docs.forEach((doc, i) => {
      expect(new TextDecoder().decode(dumpReferenceJson(doc)), `document ${i}`).toBe(expected[i]![0]);
      expect(new TextDecoder().decode(dumpCompactJson(doc)), `document ${i}`).toBe(expected[i]![1]);
    });
  });

  it('sorts keys by code point whatever order V8 lists them in; refuses what metadata cannot hold', () => {
    const text = (v: unknown, mode: 'pretty' | 'compact' | 'canonical') => new TextDecoder().decode(writeJson(v, mode) as Uint8Array);
    expect(text({ '9': 2, '10': 1, b: { d: 1, c: 2 }, a: [] }, 'compact')).toBe('{"10":1,"9":2,"a":[],"b":{"c":2,"d":1}}');
    expect(text({ b: 1, a: { c: [1, {}] } }, 'pretty')).toBe('{\n "a": {\n  "c": [\n   1,\n   {}\n  ]\n },\n "b": 1\n}');
    expect(text({ a: 'é"\\\u007f' }, 'compact')).toBe('{"a":"\\u00e9\\"\\\\\\u007f"}');
    expect(text({ a: 'é"\\\u007f' }, 'canonical')).toBe('{"a":"é\\"\\\\\u007f"}');
    for (const bad of [{ a: 1.5 }, { a: undefined }, { a: () => 1 }, [1, , 2]]) expect(() => dumpReferenceJson(bad), JSON.stringify(bad)).toThrow(TypeError); // eslint-disable-line no-sparse-arrays
    expect(text({ a: 2n }, 'pretty')).toBe('{\n "a": 2\n}');
    // Canonical JSON leaves to the engine what only it decides: control characters, lone surrogates, non-integers.
    for (const engineOnly of [{ a: 'x\ny' }, { a: '\ud800' }, { a: 1.5 }, { a: 2n }]) expect(writeJson(engineOnly, 'canonical')).toBe(NOT_STRINGIFIABLE);
  });
});

describe('createMetablock', () => {
  it("signs exactly the engine's canonical bytes, for 2,000 generated documents", () => {
    const g = new Gen(rng(7));
    let fast = 0;
    let compared = 0;
    for (let i = 0; i < 2000; i++) {
      const doc = toJs({ entries: [['signed', i % 4 === 0 ? g.deep(g.int(1, 80)) : g.value(0, 5)]] }, i % 5 !== 0, i % 6 === 1) as Record<string, unknown>;
      let engine: Uint8Array | undefined;
      try {
        engine = getEngine().canonicalize(JSON.stringify(doc));
      } catch {
        // Lone surrogates, depth: the engine refuses, and so must createMetablock.
        expect(() => createMetablock(doc)).toThrow();
        continue;
      }
      if (writtenHere(doc)) fast++;
      expect(createMetablock(doc).signedBytes, `document ${i}`).toEqual(engine);
      compared++;
    }
    expect(compared).toBeGreaterThan(1500);
    expect(fast).toBeGreaterThan(300);
  });
});

describe('fast paths and the engine limits', () => {
  it("createMetablock refuses what the engine refuses under a lowered depth limit; toJSON is not called", () => {
    const engine = getEngine();
    const deep = { a: { b: { c: { d: { e: { f: 1 } } } } } };
    engine.setLimits({ maxDepth: 4 });
    try {
      expect(() => engine.canonicalize(JSON.stringify(deep))).toThrow();
      expect(() => createMetablock(deep)).toThrow();
    } finally {
      engine.setLimits({ maxDepth: 100 });
    }
    expect(createMetablock(deep).signedBytes).toEqual(engine.canonicalize(JSON.stringify(deep)));
    // toJSON is not called: the file and the signed bytes hold the same array.
    const odd = { a: Object.assign([1, 2], { toJSON: () => 'x' }) };
    expect(new TextDecoder().decode(dumpCompactJson(odd))).toBe('{"a":[1,2]}');
    expect(new TextDecoder().decode(createMetablock(odd).signedBytes)).toBe('{"a":[1,2]}');
  });
});
