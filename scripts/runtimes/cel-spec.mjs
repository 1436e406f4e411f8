// cel-spec's conformance tests (tests/simple/testdata/<file>.textproto, read in place from IN_TOTO_CEL_VECTORS) as
// plain JSON cases the runtimes can run: { file, section, name, expression, bindings, expected }, values in the engine's
// typed JSON (`{ int: "1" }`, `{ bytes: <base64> }`, ...; test/conformance/suite.js reads them back with celValueOf),
// `expected` a value or `{ error: true }`. The files and what counts as unsupported are test/interop/cel-conformance.test.ts's.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { field, fields, messageOf, parseTextproto, textOf } from '../../test/helpers/textproto.mjs';

/** The files the interop suite holds to floors (test/interop/cel-conformance.test.ts, FLOORS). */
export const CEL_SPEC_FILES = ['basic', 'comparisons', 'conversions', 'integer_math', 'fp_math', 'lists', 'logic', 'macros', 'parse', 'plumbing', 'string', 'timestamps'];

class Unsupported extends Error {}

/** A conformance `Value` message as a typed JSON value (object and enum values are not supported). */
function typed(m) {
  const [[key, v]] = m;
  switch (key) {
    case 'null_value': return { null: null };
    case 'bool_value': return { bool: textOf(v) === 'true' };
    case 'int64_value': return { int: BigInt(textOf(v)).toString() };
    case 'uint64_value': return { uint: BigInt(textOf(v)).toString() };
    case 'double_value': {
      const t = textOf(v).toLowerCase();
      if (t === 'inf' || t === '+inf' || t === 'infinity') return { double: 'Infinity' };
      if (t === '-inf' || t === '-infinity') return { double: '-Infinity' };
      if (t === 'nan') return { double: 'NaN' };
      const n = Number(t);
      return { double: Object.is(n, -0) ? '-0' : String(n) };
    }
    case 'string_value': return { string: textOf(v) };
    case 'bytes_value': return { bytes: Buffer.from(v.kind === 'string' ? v.bytes : new Uint8Array()).toString('base64') };
    case 'type_value': return { type: textOf(v) };
    case 'list_value': return { list: fields(messageOf(v), 'values').map((x) => typed(messageOf(x))) };
    case 'map_value': return { map: fields(messageOf(v), 'entries').map((e) => [typed(messageOf(field(messageOf(e), 'key'))), typed(messageOf(field(messageOf(e), 'value')))]) };
  }
  throw new Unsupported(key);
}

/** One test as a case, or undefined when it needs what the interop suite counts as unsupported. */
function convert(file, section, t) {
  if (field(t, 'typed_result') || field(t, 'check_only') || field(t, 'container') || field(t, 'any_eval_errors') || field(t, 'unknown')) return undefined;
  try {
    const bindings = {};
    for (const b of fields(t, 'bindings')) {
      const m = messageOf(b);
      bindings[textOf(field(m, 'key'))] = typed(messageOf(field(messageOf(field(m, 'value')), 'value')));
    }
    const want = field(t, 'value');
    // A test without an expected value expects true.
    const expected = field(t, 'eval_error') !== undefined ? { error: true } : want ? typed(messageOf(want)) : { bool: true };
    return { file, section, name: textOf(field(t, 'name')), expression: textOf(field(t, 'expr')), bindings, expected };
  } catch (error) {
    if (error instanceof Unsupported) return undefined;
    throw error;
  }
}

/** Every supported test of CEL_SPEC_FILES under `dir` (the cel-spec folder), and how many were left out. */
export function convertCelSpec(dir) {
  const cases = [];
  let unsupported = 0;
  for (const file of CEL_SPEC_FILES) {
    const doc = parseTextproto(readFileSync(join(dir, 'tests/simple/testdata', `${file}.textproto`), 'utf8'));
    for (const s of fields(doc, 'section')) {
      const section = textOf(field(messageOf(s), 'name'));
      for (const t of fields(messageOf(s), 'test')) {
        const c = convert(file, section, messageOf(t));
        if (c) cases.push(c);
        else unsupported++;
      }
    }
  }
  return { cases, unsupported };
}
