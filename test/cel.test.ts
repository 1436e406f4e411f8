/**
 * CEL in the engine (assembly/cel.ts through bindings/attestation/cel.ts): CEL's semantics where implementations differ most
 * (errors as values absorbed by && and ||, overflow, heterogeneous numbers, macros, missing fields), typed values in and
 * out, and bounded cost on hostile expressions (typed errors, the engine usable after). The cel-spec conformance
 * files: test/interop/cel-conformance.test.ts.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { evaluateCel, evaluateCelMany, type CelResult, type CelValue } from '../bindings/attestation/cel.js';
import { getEngine, initEngine } from '../bindings/engine.js';
import { InTotoError } from '../bindings/errors.js';

beforeAll(async () => {
  await initEngine();
});

const value = (r: CelResult) => ('value' in r ? r.value : { error: r.error });
const run = (expr: string, vars = {}) => value(evaluateCel(expr, vars));
const refusal = (expr: string) => {
  try {
    evaluateCel(expr);
    return 'evaluated';
  } catch (error) {
    if (error instanceof InTotoError) return error.code;
    throw error;
  }
};

describe('CEL semantics', () => {
  it.each([
    ['1 + 2 * 3', { type: 'int', value: 7n }],
    ['7u / 2u', { type: 'uint', value: 3n }],
    ['-9223372036854775808', { type: 'int', value: -9223372036854775808n }],
    ['1 == 1.0 && 1u == 1 && 2 > 1.5', { type: 'bool', value: true }],
    ['"a" + "b" == "ab" ? 1 : 2', { type: 'int', value: 1n }],
    ['size("héllo😀")', { type: 'int', value: 6n }],
    ['[1, 2, 3].filter(x, x % 2 == 1).map(x, x * 10)', { type: 'list', value: [{ type: 'int', value: 10n }, { type: 'int', value: 30n }] }],
    ['{"a": [1, 2]}.a.exists_one(x, x == 2)', { type: 'bool', value: true }],
    ['type(1u) == uint && type("") == string', { type: 'bool', value: true }],
    ['b"\\x00\\xff".size()', { type: 'int', value: 2n }],
  ])('%s', (expr, expected) => {
    expect(run(expr)).toEqual(expected);
  });

  it('errors are values: && and || absorb them when the other side decides, otherwise they surface', () => {
    expect(run('false && 1 / 0 == 1')).toEqual({ type: 'bool', value: false });
    expect(run('1 / 0 == 1 || true')).toEqual({ type: 'bool', value: true });
    expect(run('true && 1 / 0 == 1')).toEqual({ error: 'divide by zero' });
    expect(run('[1, 0].all(x, 1 / x > 0)')).toEqual({ error: 'divide by zero' });
    expect(run('[0, 1].exists(x, 1 / x > 0)')).toEqual({ type: 'bool', value: true });
  });

  it('overflow is an error, never a wrap', () => {
    for (const expr of ['9223372036854775807 + 1', '-9223372036854775808 - 1', '-(-9223372036854775808)', '0u - 1u', '18446744073709551615u * 2u', '-9223372036854775808 / -1']) {
      expect(run(expr), expr).toEqual({ error: expect.stringContaining('overflow') });
    }
  });

  it('a missing field is an error (what allowIfNoClaim reads), and has() tells presence without one', () => {
    const vars = { predicate: { json: { builder: { id: 'https://github.com/actions/runner' } } } };
    expect(run('predicate.builder.id.startsWith("https://github.com/")', vars)).toEqual({ type: 'bool', value: true });
    expect(run('predicate.buildType == "x"', vars)).toEqual({ error: 'no such key: buildType' });
    expect(run('has(predicate.buildType)', vars)).toEqual({ type: 'bool', value: false });
    expect(run('undeclared == 1')).toEqual({ error: "undeclared reference to 'undeclared'" });
  });

  it('JSON numbers are doubles, typed variables keep int and uint apart', () => {
    expect(run('x == 1 && type(x) == double', { x: { json: 1 } })).toEqual({ type: 'bool', value: true });
    expect(run('x + 1u', { x: { type: 'uint', value: 18446744073709551614n } })).toEqual({ type: 'uint', value: 18446744073709551615n });
    expect(run('x + 1', { x: { type: 'uint', value: 1n } })).toEqual({ error: 'no such overload: _+_(uint, int)' });
  });
});

describe('timestamps and durations', () => {
  it.each([
    ["timestamp('2024-02-29T12:00:00.5+02:00') == timestamp('2024-02-29T10:00:00.5Z')", { type: 'bool', value: true }],
    ["timestamp('2024-01-01T00:00:00Z') - timestamp('2023-12-31T23:00:00Z') == duration('1h')", { type: 'bool', value: true }],
    ["string(timestamp('2024-01-01T00:00:00Z') + duration('1h30m0.25s'))", { type: 'string', value: '2024-01-01T01:30:00.25Z' }],
    ["timestamp('2009-02-13T23:31:30Z').getDayOfWeek()", { type: 'int', value: 5n }],
    ["timestamp('2009-02-13T23:31:30Z').getHours('+05:30')", { type: 'int', value: 5n }],
    ["int(timestamp('1970-01-02T00:00:00Z'))", { type: 'int', value: 86400n }],
    ["duration('-1.5s') < duration('0s')", { type: 'bool', value: true }],
    ["timestamp(x.finishedOn) > timestamp('2024-01-01T00:00:00Z')", { type: 'bool', value: true }],
  ])('%s', (expr, expected) => {
    expect(run(expr, { x: { json: { finishedOn: '2024-06-01T12:00:00Z' } } })).toEqual(expected);
  });

  it('out of range, malformed and unsupported are CEL errors', () => {
    expect(run("timestamp('9999-12-31T23:59:59Z') + duration('1s')")).toEqual({ error: 'timestamp out of range' });
    expect(run("timestamp('2024-02-30T00:00:00Z')")).toEqual({ error: expect.stringContaining('not an RFC 3339 time') });
    expect(run("duration('1d')")).toEqual({ error: expect.stringContaining('not a duration') });
    expect(run("duration('300y')")).toEqual({ error: expect.stringContaining('not a duration') });
    expect(run("timestamp('2024-01-01T00:00:00Z').getHours('Europe/Paris')")).toEqual({ error: expect.stringContaining('unsupported time zone') });
  });
});

describe('matches(): RE2 syntax in linear time', () => {
  it.each([
    ["'grey'.matches('gr(a|e)y')", true],
    ["'aaa'.matches('^a{2,3}$')", true],
    ["'aaaa'.matches('^a{2,3}$')", false],
    ["'AB'.matches('(?i)^ab$')", true],
    ["'a1'.matches('^[a-z]\\\\d$')", true],
    ["'😀😀'.matches('^(a|😀){2}$')", true],
    ["'https://github.com/acme/app/.github/workflows/r.yml@refs/tags/v1.2'.matches('^https://github\\\\.com/acme/[^/]+/\\\\.github/workflows/[^@]+@refs/tags/v[0-9]+(\\\\.[0-9]+)*$')", true],
  ])('%s is %s', (expr, expected) => {
    expect(run(expr)).toEqual({ type: 'bool', value: expected });
  });

  it('a pattern that backtracking takes exponential time on answers at once; malformed patterns are CEL errors', () => {
    expect(run(`'${'a'.repeat(50_000)}!'.matches('^(a+)+$')`)).toEqual({ type: 'bool', value: false });
    for (const pattern of ['(', 'a**', '[b-a]', '\\\\p{L}', 'a{1001}', '[[:alpha:]]']) {
      expect(run(`'x'.matches('${pattern}')`), pattern).toEqual({ error: expect.stringContaining('invalid regular expression') });
    }
    // A program beyond the size limit is refused, not built.
    expect(run("'x'.matches('((a{100}){100}){100}')")).toEqual({ error: expect.stringContaining('too large') });
  });
});

describe('CEL on hostile input: typed errors, bounded cost, the engine usable after', () => {
  it('syntax errors are FORMAT; nesting, chains and work beyond the limits are LIMIT or FORMAT, never a trap', () => {
    expect(refusal('1 +')).toBe('FORMAT');
    expect(refusal('"unterminated')).toBe('FORMAT');
    expect(refusal('('.repeat(5000) + '1' + ')'.repeat(5000))).toBe('FORMAT');
    expect(refusal('!'.repeat(50_000) + 'true')).toBe('FORMAT');
    expect(refusal(Array.from({ length: 10_000 }, () => '1').join(' + '))).toBe('LIMIT');
    expect(refusal(`[${Array.from({ length: 1000 }, (_, i) => i).join(',')}].all(x, [${Array.from({ length: 1000 }, (_, i) => i).join(',')}].all(y, x + y >= 0))`)).toBe('LIMIT');
    expect(refusal('1'.repeat(200_000))).toBe('LIMIT');
    // The engine still works.
    expect(run('1 + 1')).toEqual({ type: 'int', value: 2n });
    expect(getEngine().canonicalize('{"b":1,"a":2}')).toEqual(new TextEncoder().encode('{"a":2,"b":1}'));
  });

  it('seeded random expressions: every outcome typed, none a crash', () => {
    let x = 20261207;
    const next = () => ((x ^= x << 13), (x ^= x >>> 17), (x ^= x << 5), (x >>> 0) / 0x100000000);
    const atoms = ['1', '2u', '1.5', '"s"', 'b"b"', 'true', 'null', '[1, 2]', '{"k": 1}', 'x', 'x.k', '(', ')', '+', '-', '*', '/', '%', '==', '<', '&&', '||', '!', '?', ':', '.', ',', '[', ']', '{', '}', 'size', 'has', 'map', 'all', '\\', '"', "'", '1e400', '0x', '9223372036854775808'];
    for (let i = 0; i < 3000; i++) {
      const expr = Array.from({ length: 1 + Math.floor(next() * 12) }, () => atoms[Math.floor(next() * atoms.length)]).join(next() < 0.5 ? ' ' : '');
      try {
        const r = evaluateCel(expr, { x: { json: { k: [1, 'a', null] } } });
        expect('value' in r || 'error' in r, expr).toBe(true);
      } catch (error) {
        expect(error, expr).toBeInstanceOf(InTotoError);
        expect(['FORMAT', 'LIMIT'], expr).toContain((error as InTotoError).code);
      }
    }
    expect(run('2 * 21')).toEqual({ type: 'int', value: 42n });
  });
});

describe('evaluateCelMany: several rules over one copy of the variables', () => {
  it('gives, rule by rule, what evaluateCel gives or throws; the variables are read once and shared', () => {
    const variables = { predicate: { json: { a: { b: 'x' }, n: [1, 2, 3] } }, k: { type: 'int' as const, value: 5n } };
    const rules = ["predicate.a.b == 'x'", 'predicate.missing', 'size(predicate.n) + k', '1 +', "'a' * 2", 'k > 4 && predicate.n.all(x, x > 0)', `${'('.repeat(200)}1${')'.repeat(200)}`, ''];
    const many = evaluateCelMany(rules, variables);
    expect(many).toHaveLength(rules.length);
    rules.forEach((rule, i) => {
      let single: CelResult | InTotoError;
      try {
        single = evaluateCel(rule, variables);
      } catch (error) {
        single = error as InTotoError;
      }
      if (single instanceof InTotoError) {
        expect(many[i], rule).toBeInstanceOf(InTotoError);
        expect((many[i] as InTotoError).code, rule).toBe(single.code);
        expect((many[i] as InTotoError).message, rule).toBe(single.message);
      } else expect(many[i], rule).toEqual(single);
    });
    expect(many[0]).toEqual({ value: { type: 'bool', value: true } });
    expect(many[2]).toEqual({ value: { type: 'int', value: 8n } });
    expect(evaluateCelMany([], variables)).toEqual([]);
    expect(() => evaluateCelMany(['true', 'a\0b'])).toThrow(/NUL/);
    expect(evaluateCel('1 + 1 == 2')).toEqual({ value: { type: 'bool', value: true } });
  });
});

describe('what an adversarial review of CEL found (each wrong, a crash or unbounded before)', () => {
  const value = (expr: string, variables = {}) => {
    const r = evaluateCel(expr, variables);
    return 'error' in r ? `error: ${r.error}` : r.value.type === 'bool' ? r.value.value : r.value;
  };
  const thrown = (expr: string, variables = {}) => {
    try {
      evaluateCel(expr, variables);
    } catch (error) {
      return `${(error as InTotoError).code}: ${(error as Error).message}`;
    }
    return 'no error';
  };

  it('regex alternation after a repetition or a group keeps every branch (a deny rule passed)', () => {
    expect(value('"d".matches("^a*(c|d)$")')).toBe(true);
    expect(value('"v1beta".matches("^v[0-9]+(alpha|beta)$")')).toBe(true);
    expect(value('"ad".matches("^(a|b)(c|d)$")')).toBe(true);
    expect(value('!"refs/heads/featuresnapshot".matches("^refs/heads/[a-z]+(dev|snapshot)$")')).toBe(false);
    expect(value('"ae".matches("^(a|b)(c|d)$")')).toBe(false);
  });

  it('durations in milliseconds do not wrap; (?i) folds the Kelvin sign and long s, and refuses non-ASCII patterns', () => {
    expect(value('duration("18446744073709ms") <= duration("1h")')).toBe('error: duration out of range');
    expect(value('duration("1500ms") == duration("1.5s")')).toBe(true);
    expect(value('"\u212A8S".matches("(?i)^k8s$")')).toBe(true);
    expect(value('"\u017F".matches("(?i)s")')).toBe(true);
    expect(value('"É".matches("(?i)é")')).toMatch(/not supported/);
  });

  it('malformed patterns are refused as RE2 refuses them', () => {
    for (const p of ['(?i', '\\\\x{41', 'a{2}{3}', '[\\\\d-z]', '\\\\é']) expect(value(`"a".matches("${p}")`), p).toMatch(/^error: invalid regular expression/);
  });

  it('host integers outside 64 bits are refused, not wrapped', () => {
    expect(thrown('x', { x: { type: 'int', value: 2n ** 63n } })).toMatch(/FORMAT: .*not a 64-bit int/);
    expect(thrown('x', { x: { type: 'uint', value: -1n } })).toMatch(/not a 64-bit uint/);
    expect(value('x', { x: { type: 'int', value: -(2n ** 63n) } })).toEqual({ type: 'int', value: -(2n ** 63n) });
  });

  it('cost grows with the work done: long chains, map lookups, contains, shared results, long quoted values', () => {
    expect(thrown(`a${'.b'.repeat(20000)}`, { a: { json: {} } })).toMatch(/LIMIT: .*nests more than 250/);
    const big = { m: { json: Object.fromEntries(Array.from({ length: 100_000 }, (_, i) => [`k${i}`, i])) } };
    expect(thrown('m.all(k, m[k] >= 0.0)', big)).toMatch(/LIMIT: .*steps/);
    expect(value('m.all(k, m[k] >= 0.0)', { m: { json: Object.fromEntries(Array.from({ length: 500 }, (_, i) => [`k${i}`, i])) } })).toBe(true);
    expect(thrown('s.contains(t)', { s: { type: 'string', value: 'a'.repeat(1 << 20) }, t: { type: 'string', value: `${'a'.repeat(1 << 15)}b` } })).toMatch(/LIMIT: .*steps/);
    expect(thrown(`[[0]]${'.map(a,[a,a])'.repeat(30)}`)).toMatch(/LIMIT: .*result is larger/);
    expect(value('int(x) > 5', { x: { type: 'string', value: '9'.repeat(1_000_000) } })).toMatch(/^error: cannot convert '9{64}\.\.\. \(1000000 characters\)' to int$/);
    expect(value('1 + 1 == 2')).toBe(true);
  });
});

describe('what a second adversarial review of CEL found', () => {
  const value = (expr: string, variables = {}) => {
    try {
      const r = evaluateCel(expr, variables);
      return 'error' in r ? `error: ${r.error}` : r.value.type === 'bool' ? r.value.value : r.value;
    } catch (error) {
      return `${(error as InTotoError).code}: ${(error as Error).message}`;
    }
  };

  it('`in` over a list and matches() pay for their work; long patterns are refused', () => {
    const names = Array.from({ length: 20_000 }, (_, i) => `n${i}`);
    expect(value('subject.all(s, !(s in allowed))', { subject: { json: names }, allowed: { json: names.map((n) => `${n}x`) } })).toMatch(/^LIMIT: .*steps/);
    expect(value('subject.all(s, !s.matches("[a-z0-9]{1,64}\\\\.exe"))', { subject: { json: Array.from({ length: 20 }, () => 'a'.repeat(100_000)) } })).toMatch(/^LIMIT: .*steps/);
    expect(value(`"x".matches("${'(a)|'.repeat(2000)}b")`)).toMatch(/longer than 4096/);
    expect(value('"b" in ["a", "b"]')).toBe(true);
  });

  it('repetition counts do not wrap; (?i) refuses non-ASCII written as escapes', () => {
    expect(value('"a".matches("^a{4294967297}$")')).toMatch(/^error: invalid regular expression: a repetition count above 1000/);
    expect(value('"aaa".matches("^a{4294967295,}$")')).toMatch(/above 1000/);
    expect(value('"a".matches("^a{2147483648,1}$")')).toMatch(/above 1000/);
    expect(value('"\u017F".matches("(?i)\\\\x{17f}")')).toMatch(/not supported/);
    expect(value('"É".matches("(?i)[\\\\x{e0}-\\\\x{ff}]")')).toMatch(/not supported/);
    expect(value('"a".matches("(?i)[^\\\\W]")')).toBe(true);
  });

  it('a variable nested past the host stack is a LIMIT error, not a crash; the engine answers after', () => {
    let deep: unknown = 1;
    for (let i = 0; i < 200_000; i++) deep = [deep];
    expect(value('size(x) == 1', { x: { json: deep } })).toMatch(/^LIMIT: CEL: a variable is nested too deeply/);
    let typed: CelValue = { type: 'null' };
    for (let i = 0; i < 200_000; i++) typed = { type: 'list', value: [typed] };
    expect(value('size(x) == 1', { x: typed })).toMatch(/^LIMIT: /);
    expect(value('1 + 1 == 2')).toBe(true);
  });
});
