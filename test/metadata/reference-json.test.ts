/**
 * The metadata writers' fast paths against their oracles: `dumpReferenceJson` / `dumpCompactJson` against
 * python's own `json.dumps` (indent 1 and compact, sort_keys, ensure_ascii), and `createMetablock`'s signed bytes
 * against the engine's canonical form, on generated documents (control characters, astral characters, code
 * points above the surrogates, integer-like keys, big and unsafe numbers, deep nesting). Each run also checks
 * that the fast path was really taken for a good share of documents and declined where it must be.
 */
import { describe, expect, it, beforeAll } from 'vitest';
import { getEngine, initEngine } from '../../bindings/engine.js';
import { createMetablock } from '../../bindings/metadata/envelope.js';
import { compareCodePoints, dumpCompactJson, dumpReferenceJson, inPythonOrder, NOT_STRINGIFIABLE } from '../../bindings/metadata/reference-json.js';

const stringifiesAsSorted = (v: unknown, canonical = false): boolean => inPythonOrder(v, canonical) !== NOT_STRINGIFIABLE;
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
    let fast = 0;
    docs.forEach((doc, i) => {
      if (stringifiesAsSorted(doc)) fast++;
      expect(new TextDecoder().decode(dumpReferenceJson(doc)), `document ${i}`).toBe(expected[i]![0]);
      expect(new TextDecoder().decode(dumpCompactJson(doc)), `document ${i}`).toBe(expected[i]![1]);
    });
    // Both paths were exercised: documents with objects holding "10" and "9" take the general writer.
    expect(fast).toBeGreaterThan(900);
    expect(fast).toBeLessThan(1300);
  });

  it('declines what JSON.stringify would write differently', () => {
    expect(inPythonOrder({ b: 1, a: 2 })).toEqual({ a: 2, b: 1 });
    expect(Object.keys(inPythonOrder({ b: 1, a: { d: 1, c: 2 } }) as object)).toEqual(['a', 'b']);
    const shared = { a: { big: 1 } };
    expect(inPythonOrder(shared)).toBe(shared);
    expect(stringifiesAsSorted({ '10': 1, '9': 2 })).toBe(false); // V8 lists "9" before "10"; python sorts "10" first
    expect(stringifiesAsSorted({ a: 1.5 })).toBe(false);
    expect(stringifiesAsSorted({ a: undefined })).toBe(false);
    expect(stringifiesAsSorted({ a: new Date(0) })).toBe(false);
    expect(stringifiesAsSorted([1, , 2])).toBe(false); // eslint-disable-line no-sparse-arrays
    expect(stringifiesAsSorted({ a: 2n })).toBe(false);
    expect(stringifiesAsSorted({ a: 'x\ny' })).toBe(true);
    expect(stringifiesAsSorted({ a: 'x\ny' }, true)).toBe(false);
    expect(stringifiesAsSorted({ a: '\ud800' }, true)).toBe(false);
    expect(() => dumpReferenceJson({ a: 1.5 })).toThrow(TypeError);
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
      if (stringifiesAsSorted(doc, true)) fast++;
      expect(createMetablock(doc).signedBytes, `document ${i}`).toEqual(engine);
      compared++;
    }
    expect(compared).toBeGreaterThan(1500);
    expect(fast).toBeGreaterThan(300);
  });
});

describe('fast paths and the engine limits', () => {
  it("createMetablock refuses what the engine refuses under a lowered depth limit; toJSON on an array takes the general writer", () => {
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
    const odd = { a: Object.assign([1, 2], { toJSON: () => 'x' }) };
    expect(inPythonOrder(odd)).toBe(NOT_STRINGIFIABLE);
    expect(new TextDecoder().decode(dumpCompactJson(odd))).toBe('{"a":[1,2]}');
  });
});
