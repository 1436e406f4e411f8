/** The WASM engine through its host: strictness, error codes and offsets, limits, traps, memory. */
import { describe, expect, it } from 'vitest';
import { canonicalize, createEngine, parseJson } from '../bindings/engine.js';
import { InTotoError } from '../bindings/errors.js';

const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
const bytes = (...b: number[]) => Uint8Array.from(b);

function refusal(input: string | Uint8Array, engine = createEngine()): InTotoError {
  try {
    engine.canonicalize(input);
  } catch (error) {
    expect(error).toBeInstanceOf(InTotoError);
    return error as InTotoError;
  }
  throw new Error(`accepted ${JSON.stringify(typeof input === 'string' ? input : [...input])}`);
}

describe('canonical form', () => {
  it('sorts keys by code point, not by UTF-16 unit', () => {
    // U+FF61 sorts before U+1F600 by code point; JavaScript's default sort puts the astral one first.
    expect(text(canonicalize('{"\u{1F600}":1,"\uFF61":2,"a":3,"":4}'))).toBe('{"":4,"a":3,"\uFF61":2,"\u{1F600}":1}');
  });

  it('escapes only quote and backslash, writes everything else raw', () => {
    expect(text(canonicalize('["a\\"b\\\\c\\n\\t\\u0000\\u001f\\/\\u00e9\\ud83d\\ude00"]'))).toBe('["a\\"b\\\\c\n\t\u0000\u001f/\u00e9\u{1F600}"]');
  });

  it('drops all whitespace and keeps integers exact', () => {
    expect(text(canonicalize(' {\n "b" : [ 1 , -2 , 123456789012345678901234567890 ] ,\t"a":{ } }\r\n'))).toBe(
      '{"a":{},"b":[1,-2,123456789012345678901234567890]}',
    );
  });

  it('reads -0 as the integer 0, as python does', () => {
    expect(text(canonicalize('[-0,0]'))).toBe('[0,0]');
  });

  it('sorts large unsorted objects and keeps already-sorted ones', () => {
    const keys = Array.from({ length: 5000 }, (_, i) => `k${(i * 7919) % 5000}`);
    const doc = '{' + keys.map((k) => `"${k}":"${k}"`).join(',') + '}';
    const expected = '{' + [...keys].sort().map((k) => `"${k}":"${k}"`).join(',') + '}';
    expect(text(canonicalize(doc))).toBe(expected);
    expect(text(canonicalize(expected))).toBe(expected);
  });

  it('selects the signed member of a Metablock', () => {
    const engine = createEngine();
    const doc = '{"signatures":[{"keyid":"ab","sig":"cd"}],"signed":{"_type":"link","b":[],"a":null}}';
    expect(text(engine.canonicalize(doc, 'signed'))).toBe('{"_type":"link","a":null,"b":[]}');
    expect(() => engine.canonicalize('[1]', 'signed')).toThrow(expect.objectContaining({ code: 'FORMAT', field: 'signed' }));
    expect(() => engine.canonicalize('{"signatures":[]}', 'signed')).toThrow(expect.objectContaining({ code: 'FORMAT', field: 'signed' }));
  });
});

describe('strictness: every refusal has a code and the offset of the offending byte', () => {
  const cases: [string, string | Uint8Array, number, number][] = [
    ['empty input', '', 1, 0],
    ['unterminated string', '{"a":"b', 1, 7],
    ['missing colon', '{"a" 1}', 2, 5],
    ['trailing comma', '[1,]', 2, 3],
    ['single quotes', "{'a':1}", 2, 1],
    ['NaN', '[NaN]', 2, 1],
    ['byte order mark', '\uFEFF{}', 2, 0],
    ['truncated UTF-8', bytes(0x22, 0xc3, 0x22), 3, 1],
    ['overlong UTF-8', bytes(0x22, 0xc0, 0xaf, 0x22), 3, 1],
    ['UTF-8-encoded surrogate', bytes(0x22, 0xed, 0xa0, 0x80, 0x22), 3, 1],
    ['code point above U+10FFFF', bytes(0x22, 0xf4, 0x90, 0x80, 0x80, 0x22), 3, 1],
    ['stray continuation byte', bytes(0x22, 0x80, 0x22), 3, 1],
    ['unknown escape', '["\\x41"]', 4, 2],
    ['short \\u escape', '["\\u12"]', 4, 2],
    ['lone high surrogate', '["\\ud800"]', 5, 2],
    ['lone low surrogate', '["\\udc00"]', 5, 2],
    ['high surrogate then non-surrogate', '["\\ud800\\u0041"]', 5, 2],
    ['raw newline in a string', '["a\nb"]', 6, 3],
    ['fraction', '{"a":1.0}', 7, 5],
    ['exponent', '[1e5]', 7, 1],
    ['leading zero', '[01]', 8, 1],
    ['lone minus', '[-]', 8, 1],
    ['integer longer than python accepts', '[' + '9'.repeat(4301) + ']', 8, 1],
    ['duplicate key', '{"a":1,"b":2,"a":3}', 9, 13],
    ['duplicate key spelled differently', '{"\\u0061":1,"a":2}', 9, 12],
    ['data after the document', '{} {}', 11, 3],
  ];
  it.each(cases)('%s', (_name, input, engineCode, offset) => {
    const error = refusal(input);
    expect(error.code).toBe('JSON');
    expect(error.engineCode).toBe(engineCode);
    expect(error.offset).toBe(offset);
    expect(error.message).toContain(`(byte ${offset})`);
  });

  it('names the line and column of the offending byte, as python does', () => {
    const error = refusal('{\n  "a": 1,\n  "b": ]\n}');
    expect(error.message).toBe('invalid JSON at line 3, column 8 (byte 19): unexpected character');
  });

  it('accepts an integer of exactly the longest length python accepts', () => {
    expect(text(canonicalize('[' + '9'.repeat(4300) + ']'))).toHaveLength(4302);
  });

  it('refuses a JS string with a lone surrogate instead of replacing it', () => {
    expect(() => canonicalize('["\uD800"]')).toThrow(expect.objectContaining({ code: 'JSON' }));
  });
});

describe('limits', () => {
  it('refuses nesting beyond maxDepth, configurably', () => {
    const nested = (n: number) => '['.repeat(n) + ']'.repeat(n);
    const engine = createEngine();
    expect(() => engine.canonicalize(nested(100))).not.toThrow();
    expect(refusal(nested(101), engine)).toMatchObject({ code: 'LIMIT', engineCode: 10, offset: 100 });
    engine.setLimits({ maxDepth: 5 });
    expect(() => engine.canonicalize(nested(5))).not.toThrow();
    expect(refusal('{"a":' + nested(5) + '}', engine)).toMatchObject({ code: 'LIMIT' });
    expect(() => engine.setLimits({ maxDepth: 0 })).toThrow(RangeError);
  });

  it('refuses 100,000 levels of nesting without exhausting any stack', () => {
    expect(refusal('['.repeat(100_000))).toMatchObject({ code: 'LIMIT', engineCode: 10 });
  });

  it('refuses documents larger than maxInputBytes before copying them', () => {
    const engine = createEngine({ maxInputBytes: 64 });
    expect(() => engine.canonicalize(`"${'a'.repeat(62)}"`)).not.toThrow();
    expect(refusal(`"${'a'.repeat(63)}"`, engine)).toMatchObject({ code: 'LIMIT' });
  });
});

describe('robustness', () => {
  it('turns a trap into an ENGINE error and stays usable', () => {
    const engine = createEngine();
    expect(text(engine.canonicalize('{"b":1,"a":2}'))).toBe('{"a":2,"b":1}');
    // Asking the engine for a region above 2 GiB is a host bug it answers with a trap.
    let caught: unknown;
    try {
      engine.invoke((raw) => raw.input_ptr(0xfffffff0));
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(InTotoError);
    expect(caught).toMatchObject({ code: 'ENGINE' });
    expect((caught as InTotoError).cause).toBeInstanceOf(WebAssembly.RuntimeError);
    expect(text(engine.canonicalize('{"d":1,"c":2}'))).toBe('{"c":2,"d":1}');
  });

  it('keeps memory flat over repeated large documents', () => {
    const engine = createEngine();
    const doc = new TextEncoder().encode(JSON.stringify({ files: Object.fromEntries(Array.from({ length: 12_000 }, (_, i) => [`dir/file-${i}.txt`, { sha256: 'ab'.repeat(32) }])) }));
    expect(doc.length).toBeGreaterThan(1 << 20);
    engine.canonicalize(doc);
    const afterFirst = engine.memoryBytes;
    for (let i = 0; i < 200; i++) engine.canonicalize(doc);
    expect(engine.memoryBytes).toBe(afterFirst);
  });

  it('never throws anything but InTotoError on random bytes', () => {
    const engine = createEngine();
    let seed = 7;
    const next = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) >>> 16;
    const alphabet = [...'{}[]":,\\ntrufalse0123456789-.eE u'].map((c) => c.charCodeAt(0)).concat([0xc3, 0xa9, 0xed, 0xf0, 0x9f]);
    for (let i = 0; i < 20_000; i++) {
      const input = Uint8Array.from({ length: next() % 24 }, () => alphabet[next() % alphabet.length]!);
      try {
        engine.canonicalize(input);
      } catch (error) {
        expect(error).toBeInstanceOf(InTotoError);
      }
    }
  });
});

describe('parseJson', () => {
  it('returns the value of strict JSON and refuses what JSON.parse would accept leniently', () => {
    expect(parseJson('{"a":[1,"x",null]}')).toEqual({ a: [1, 'x', null] });
    expect(parseJson(new TextEncoder().encode('{"é":true}'))).toEqual({ é: true });
    expect(() => parseJson('{"a":1,"a":2}')).toThrow(expect.objectContaining({ code: 'JSON', engineCode: 9 }));
    expect(() => parseJson('[1.5]')).toThrow(expect.objectContaining({ code: 'JSON', engineCode: 7 }));
  });
});
