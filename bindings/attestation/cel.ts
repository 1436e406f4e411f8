/**
 * CEL expressions, evaluated by the engine (assembly/cel.ts; docs/ABI.md, "CEL"; what is covered: docs/cel.md).
 * Values cross as typed JSON, so that int, uint and double stay apart and bytes stay bytes:
 *
 *   evaluateCel('size(subjects) > 0 && predicate.builder.id.startsWith("https://github.com/")',
 *     { subjects: { type: 'list', value: [] }, predicate: { json: statement.predicate } })
 *
 * A CEL error (a type mismatch, a missing field, an overflow) is a result, `{ error }`, as CEL says it is; a syntax
 * error is `FORMAT` and an exceeded limit `LIMIT` (InTotoError).
 */
import { getEngine, toUtf8 } from '../engine.js';
import { fromBase64, toBase64 } from '../encoding.js';
import { InTotoError } from '../errors.js';

export type CelValue =
  | { readonly type: 'null' }
  | { readonly type: 'bool'; readonly value: boolean }
  | { readonly type: 'int' | 'uint'; readonly value: bigint }
  | { readonly type: 'double'; readonly value: number }
  | { readonly type: 'string'; readonly value: string }
  | { readonly type: 'bytes'; readonly value: Uint8Array }
  | { readonly type: 'list'; readonly value: readonly CelValue[] }
  | { readonly type: 'map'; readonly value: readonly (readonly [CelValue, CelValue])[] }
  | { readonly type: 'type'; readonly value: string }
  /** RFC 3339, UTC (`2024-01-01T00:00:00.5Z`). */
  | { readonly type: 'timestamp'; readonly value: string }
  /** Seconds with a fraction (`-1.5s`), or any Go duration text as input (`1h30m`). */
  | { readonly type: 'duration'; readonly value: string };

/** A variable: a typed value, or plain JSON (objects become maps with string keys, numbers doubles). */
export type CelVariable = CelValue | { readonly json: unknown };

export type CelResult = { readonly value: CelValue } | { readonly error: string };

function encode(v: CelVariable): unknown {
  if ('json' in v) return { json: v.json };
  switch (v.type) {
    case 'null': return { null: null };
    case 'bool': return { bool: v.value };
    case 'int': case 'uint': {
      // 64 bits, signed or not: a value outside would arrive wrapped.
      const [lo, hi] = v.type === 'int' ? [-(1n << 63n), (1n << 63n) - 1n] : [0n, (1n << 64n) - 1n];
      if (typeof v.value !== 'bigint' || v.value < lo || v.value > hi) throw new InTotoError('FORMAT', `CEL: ${String(v.value)} is not a 64-bit ${v.type}`, { field: 'variables' });
      return { [v.type]: v.value.toString() };
    }
    case 'double': return { double: Number.isNaN(v.value) ? 'NaN' : v.value === Infinity ? 'Infinity' : v.value === -Infinity ? '-Infinity' : String(v.value) };
    case 'string': return { string: v.value };
    case 'bytes': return { bytes: toBase64(v.value) };
    case 'list': return { list: v.value.map(encode) };
    case 'map': return { map: v.value.map(([k, x]) => [encode(k), encode(x)]) };
    case 'type': return { type: v.value };
    case 'timestamp': return { timestamp: v.value };
    case 'duration': return { duration: v.value };
  }
}

function decode(t: Record<string, unknown>): CelValue {
  const [tag] = Object.keys(t);
  const x = t[tag!];
  switch (tag) {
    case 'null': return { type: 'null' };
    case 'bool': return { type: 'bool', value: x as boolean };
    case 'int': case 'uint': return { type: tag, value: BigInt(x as string) };
    case 'double': return { type: 'double', value: x === 'NaN' ? NaN : x === 'Infinity' ? Infinity : x === '-Infinity' ? -Infinity : x === '-0' ? -0 : Number(x) };
    case 'string': return { type: 'string', value: x as string };
    case 'bytes': return { type: 'bytes', value: fromBase64(x as string) ?? new Uint8Array() };
    case 'list': return { type: 'list', value: (x as Record<string, unknown>[]).map(decode) };
    case 'map': return { type: 'map', value: (x as [Record<string, unknown>, Record<string, unknown>][]).map(([k, v]) => [decode(k), decode(v)] as const) };
    case 'type': return { type: 'type', value: x as string };
    case 'timestamp': return { type: 'timestamp', value: x as string };
    case 'duration': return { type: 'duration', value: x as string };
  }
  throw new InTotoError('ENGINE', `the engine returned an unknown CEL value (${String(tag)})`);
}

function activationOf(variables: Readonly<Record<string, CelVariable>>): Uint8Array {
  try {
    // A JSON number beyond the double range (1e400) would be written as null: refused instead.
    return toUtf8(JSON.stringify(Object.fromEntries(Object.entries(variables).map(([name, v]) => [name, encode(v)])), (_key, v: unknown) => {
      if (typeof v === 'number' && !Number.isFinite(v)) throw new InTotoError('FORMAT', `CEL: a variable holds the number ${v}, outside what JSON and CEL doubles carry`, { field: 'variables' });
      return v;
    }));
  } catch (error) {
    // A value nested past the host's stack (thousands of levels) is refused as the engine refuses deep nesting.
    if (error instanceof RangeError) throw new InTotoError('LIMIT', 'CEL: a variable is nested too deeply to be passed to the engine', { field: 'variables' }, { cause: error });
    throw error;
  }
}

/** One outcome as the engine writes it: a value, a CEL error, or (thrown) a parse error or a limit. */
function outcome(out: Record<string, unknown>): CelResult {
  if ('parseError' in out) throw new InTotoError('FORMAT', `CEL: ${String(out.parseError)}`, { field: 'expression' });
  if ('limit' in out) throw new InTotoError('LIMIT', `CEL: ${String(out.limit)}`, { field: 'expression' });
  if ('error' in out) return { error: String(out.error) };
  return { value: decode(out) };
}

/** Evaluates `expression` with `variables` (see the module comment). */
export function evaluateCel(expression: string, variables: Readonly<Record<string, CelVariable>> = {}): CelResult {
  return outcome(JSON.parse(getEngine().celEvaluate(toUtf8(expression), activationOf(variables))) as Record<string, unknown>);
}

/**
 * Evaluates each expression over the same variables, copied into the engine once (a layout's rules over one
 * Statement): each outcome is what `evaluateCel` would return, or the error it would throw.
 */
export function evaluateCelMany(expressions: readonly string[], variables: Readonly<Record<string, CelVariable>> = {}): (CelResult | InTotoError)[] {
  if (expressions.length === 0) return [];
  if (expressions.some((e) => e.includes('\0'))) throw new InTotoError('FORMAT', 'CEL: an expression holds a NUL character', { field: 'expression' });
  const outs = JSON.parse(getEngine().celEvaluate(toUtf8(expressions.join('\0')), activationOf(variables), true)) as Record<string, unknown>[];
  if (outs.length !== expressions.length) throw new InTotoError('ENGINE', `the engine gave ${outs.length} CEL outcomes for ${expressions.length} expressions`);
  return outs.map((out) => {
    try {
      return outcome(out);
    } catch (error) {
      if (error instanceof InTotoError) return error;
      throw error;
    }
  });
}
