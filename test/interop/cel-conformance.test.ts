/**
 * The engine's CEL against the cel-spec project's conformance tests (read in place from IN_TOTO_CEL_VECTORS; CI:
 * ../shared/vectors/cel-spec): every test of the files below, its expression evaluated with its bindings and the result
 * compared with the expected value, or an expected error met by an error. The counts per file and section are printed
 * and held to the floors below (docs/cel.md has them): a change that passes fewer fails here.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { evaluateCel, type CelValue, type CelVariable } from '../../bindings/attestation/cel.js';
import { initEngine } from '../../bindings/engine.js';
import { InTotoError } from '../../bindings/errors.js';
import { field, fields, messageOf, parseTextproto, textOf, type TextMessage, type TextValue } from '../helpers/textproto.mjs';

/** The files run, and how many of their tests must pass at least (this engine's count when it was last measured). */
const FLOORS: Record<string, number> = {
  basic: 43,
  comparisons: 334,
  conversions: 109,
  integer_math: 64,
  fp_math: 30,
  lists: 39,
  logic: 30,
  macros: 44,
  parse: 193,
  plumbing: 5,
  string: 51,
  timestamps: 72,
};

let dir: string;
beforeAll(async () => {
  await initEngine();
  const vectors = process.env.IN_TOTO_CEL_VECTORS;
  if (!vectors) throw new Error('set IN_TOTO_CEL_VECTORS to the cel-spec folder (e.g. ../shared/vectors/cel-spec)');
  dir = join(resolve(vectors), 'tests/simple/testdata');
  if (!existsSync(dir)) throw new Error(`${vectors} does not hold cel-spec's simple conformance tests`);
});

class Unsupported extends Error {}

/** A conformance `Value` as a CEL value (object and enum values are not supported here). */
function toCel(m: TextMessage): CelValue {
  const [[key, v]] = m as [[string, TextValue]];
  switch (key) {
    case 'null_value': return { type: 'null' };
    case 'bool_value': return { type: 'bool', value: textOf(v) === 'true' };
    case 'int64_value': return { type: 'int', value: BigInt(textOf(v)) };
    case 'uint64_value': return { type: 'uint', value: BigInt(textOf(v)) };
    case 'double_value': {
      const t = textOf(v).toLowerCase();
      return { type: 'double', value: t === 'inf' || t === '+inf' || t === 'infinity' ? Infinity : t === '-inf' || t === '-infinity' ? -Infinity : t === 'nan' ? NaN : Number(t) };
    }
    case 'string_value': return { type: 'string', value: textOf(v) };
    case 'bytes_value': return { type: 'bytes', value: v.kind === 'string' ? v.bytes : new Uint8Array() };
    case 'type_value': return { type: 'type', value: textOf(v) };
    case 'list_value': return { type: 'list', value: fields(messageOf(v), 'values').map((x) => toCel(messageOf(x))) };
    case 'map_value':
      return { type: 'map', value: fields(messageOf(v), 'entries').map((e) => [toCel(messageOf(field(messageOf(e), 'key'))), toCel(messageOf(field(messageOf(e), 'value')))] as const) };
  }
  throw new Unsupported(key);
}

function same(a: CelValue, b: CelValue): boolean {
  if (a.type !== b.type) return false;
  switch (a.type) {
    case 'null': return true;
    case 'double': {
      const y = (b as { value: number }).value;
      return (Number.isNaN(a.value) && Number.isNaN(y)) || (a.value === y && (a.value !== 0 || Object.is(a.value, y) || true));
    }
    case 'bytes': {
      const y = (b as { value: Uint8Array }).value;
      return a.value.length === y.length && a.value.every((x, i) => x === y[i]);
    }
    case 'list': {
      const y = (b as { value: readonly CelValue[] }).value;
      return a.value.length === y.length && a.value.every((x, i) => same(x, y[i]!));
    }
    case 'map': {
      const y = (b as { value: readonly (readonly [CelValue, CelValue])[] }).value;
      return a.value.length === y.length && a.value.every(([k, v]) => y.some(([k2, v2]) => same(k, k2) && same(v, v2)));
    }
    default: return a.value === (b as { value: unknown }).value;
  }
}

type Outcome = 'pass' | 'fail' | 'unsupported';

function runTest(t: TextMessage): Outcome {
  const expr = textOf(field(t, 'expr'));
  if (field(t, 'typed_result') || field(t, 'check_only') || field(t, 'container') || field(t, 'any_eval_errors') || field(t, 'unknown')) return 'unsupported';
  try {
    const variables: Record<string, CelVariable> = {};
    for (const b of fields(t, 'bindings')) {
      const m = messageOf(b);
      variables[textOf(field(m, 'key'))] = toCel(messageOf(field(messageOf(field(m, 'value')), 'value')));
    }
    const wantError = field(t, 'eval_error') !== undefined;
    const want = field(t, 'value');
    // A test without an expected value expects true.
    const expected: CelValue = want ? toCel(messageOf(want)) : { type: 'bool', value: true };
    let result;
    try {
      result = evaluateCel(expr, variables);
    } catch (error) {
      if (error instanceof InTotoError && error.code === 'FORMAT') return wantError ? 'pass' : 'fail';
      throw error;
    }
    if ('error' in result) return wantError ? 'pass' : 'fail';
    return !wantError && same(result.value, expected) ? 'pass' : 'fail';
  } catch (error) {
    if (error instanceof Unsupported) return 'unsupported';
    throw error;
  }
}

describe('CEL conformance (IN_TOTO_CEL_VECTORS)', () => {
  for (const name of Object.keys(FLOORS)) {
    it(`${name}.textproto: at least ${FLOORS[name]} tests pass`, () => {
      const file = parseTextproto(readFileSync(join(dir, `${name}.textproto`), 'utf8'));
      const counts = { pass: 0, fail: 0, unsupported: 0 };
      const lines: string[] = [];
      for (const section of fields(file, 'section')) {
        const s = messageOf(section);
        const c = { pass: 0, fail: 0, unsupported: 0 };
        const failed: string[] = [];
        for (const t of fields(s, 'test')) {
          const outcome = runTest(messageOf(t));
          c[outcome]++;
          counts[outcome]++;
          if (outcome === 'fail') failed.push(textOf(field(messageOf(t), 'name')));
        }
        lines.push(`  ${textOf(field(s, 'name'))}: ${c.pass}/${c.pass + c.fail + c.unsupported}${c.unsupported ? ` (${c.unsupported} unsupported)` : ''}${process.env.CEL_SHOW_FAILED && failed.length ? ` failed: ${failed.join(', ')}` : ''}`);
      }
      console.log(`${name}: ${counts.pass} passed, ${counts.fail} failed, ${counts.unsupported} unsupported\n${lines.join('\n')}`);
      expect(counts.pass).toBeGreaterThanOrEqual(FLOORS[name]!);
    });
  }
});
