/**
 * Differential test of canonical JSON against the reference: securesystemslib.formats.encode_canonical
 * (Debian's python3-securesystemslib, installed with in-toto 1.3.1), byte for byte.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { createEngine, type Engine } from '../bindings/engine.js';
import { InTotoError } from '../bindings/errors.js';
import { Gen, rng, spell, type Spelling } from './helpers/json-gen.js';
import { assertReferenceInstalled, runPython } from './helpers/reference.js';

/** Reads base64 documents (one per line), answers one line each: "OK <base64 canonical>" or "ERR <reason>". */
const REFERENCE_ENCODER = `
import base64, json, sys
from securesystemslib.formats import encode_canonical
for line in sys.stdin:
    try:
        value = json.loads(base64.b64decode(line).decode("utf-8"))
        out = "OK " + base64.b64encode(encode_canonical(value).encode("utf-8")).decode()
    except Exception as e:
        out = "ERR " + type(e).__name__
    print(out)
`;

function referenceCanonical(docs: Uint8Array[]): string[] {
  const input = docs.map((d) => Buffer.from(d).toString('base64')).join('\n') + '\n';
  return runPython(REFERENCE_ENCODER, input).toString('utf8').trimEnd().split('\n');
}

function ours(engine: Engine, doc: Uint8Array): string {
  try {
    return 'OK ' + Buffer.from(engine.canonicalize(doc)).toString('base64');
  } catch (error) {
    if (error instanceof InTotoError) return `REFUSED ${error.code}`;
    throw error;
  }
}

const SEED = 20261125;
const utf8 = new TextEncoder();

describe('canonical JSON equals securesystemslib encode_canonical', () => {
  let engine: Engine;
  beforeAll(() => {
    assertReferenceInstalled();
    engine = createEngine({ maxDepth: 200 });
  });

  it('for 1,200 generated documents in four spellings', () => {
    const g = new Gen(rng(SEED));
    const spellings: Spelling[] = ['compact', 'indented', 'python-disk', 'escapes'];
    const docs: Uint8Array[] = [];
    for (let i = 0; i < 1200; i++) {
      // Every 50th document is nested 60 to 150 deep; the rest are bushy and shallow.
      const value = i % 50 === 0 ? g.deep(g.int(60, 150)) : g.value(0, g.int(1, 6));
      docs.push(utf8.encode(spell(value, spellings[i % 4]!, g)));
    }
    const theirs = referenceCanonical(docs);
    expect(theirs).toHaveLength(docs.length);
    const mismatches = docs
      .map((doc, i) => ({ i, doc: new TextDecoder().decode(doc).slice(0, 200), ours: ours(engine, doc), theirs: theirs[i] }))
      .filter((r) => r.ours !== r.theirs);
    expect(mismatches).toEqual([]);
    // The generator must really have produced the hard cases, or this test proves less than it says.
    const all = docs.map((d) => new TextDecoder().decode(d)).join('');
    expect(all).toMatch(/\\ud[89ab][0-9a-f]{2}\\ud[c-f][0-9a-f]{2}/); // surrogate-pair escapes
    expect(all).toMatch(/[\u{10000}-\u{10ffff}]/u); // raw astral characters
    expect(all).toMatch(/[\ue000-\uffff]/); // raw U+E000..U+FFFF
    expect(all).toMatch(/\d{100}/); // big integers
    expect(all).toMatch(/"": /); // empty keys
  });

  it('agrees on which mutated documents are acceptable, and on their bytes when both accept', () => {
    const g = new Gen(rng(SEED + 1));
    const docs: Uint8Array[] = [];
    for (let i = 0; i < 600; i++) {
      const bytes = utf8.encode(spell(g.value(0, 4), i % 2 ? 'compact' : 'escapes', g));
      // Flip, insert or delete a few bytes anywhere.
      const mutant = [...bytes];
      for (let m = g.int(1, 3); m > 0 && mutant.length > 0; m--) {
        const at = g.int(0, mutant.length - 1);
        const op = g.int(0, 2);
        const byte = g.pick([0x22, 0x5c, 0x2c, 0x3a, 0x7b, 0x7d, 0x5b, 0x5d, 0x2e, 0x65, 0x30, 0x2d, 0x75, 0xc3, 0xed, 0xff, 0x00, 0x20, g.int(0, 255)]);
        if (op === 0) mutant[at] = byte;
        else if (op === 1) mutant.splice(at, 0, byte);
        else mutant.splice(at, 1);
      }
      docs.push(Uint8Array.from(mutant));
    }
    const theirs = referenceCanonical(docs);
    let bothAccepted = 0;
    for (let i = 0; i < docs.length; i++) {
      const mine = ours(engine, docs[i]!);
      const reference = theirs[i]!;
      if (mine.startsWith('OK')) {
        // Never accept what the reference cannot encode, and never produce different bytes.
        expect({ i, reference }).toEqual({ i, reference: mine });
        bothAccepted++;
      } else if (reference.startsWith('OK')) {
        // We may be stricter than python only where python's own parser is lax: duplicate keys
        // (python keeps the last), NaN/Infinity, or a lone surrogate that python only rejects later.
        const text = new TextDecoder().decode(docs[i]!);
        expect({ i, text, mine }).toMatchObject({ mine: expect.stringMatching(/^REFUSED (JSON|LIMIT)$/) });
      }
    }
    expect(bothAccepted).toBeGreaterThan(50);
  });

  it('refuses what python would encode differently or not at all', () => {
    // python: json.loads keeps the last duplicate; encode_canonical refuses floats.
    expect(() => engine.canonicalize('{"a":1,"a":2}')).toThrow(expect.objectContaining({ code: 'JSON', engineCode: 9 }));
    const [float] = referenceCanonical([utf8.encode('{"a":1.5}')]);
    expect(float).toMatch(/^ERR/);
    expect(() => engine.canonicalize('{"a":1.5}')).toThrow(expect.objectContaining({ code: 'JSON', engineCode: 7 }));
  });
});
