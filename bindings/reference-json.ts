/**
 * Writes metadata files the way the reference does: python's
 * `json.dumps(obj, indent=1, separators=(',', ': '), sort_keys=True)` with its default `ensure_ascii=True`,
 * so a file we write is byte-identical to the one in-toto 1.3.1 writes for the same content.
 */

/** Orders strings by code point (python's `sorted`), not by UTF-16 unit (JavaScript's default sort). */
export function compareCodePoints(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    let x = a.charCodeAt(i);
    let y = b.charCodeAt(i);
    if (x === y) continue;
    // Surrogates (astral characters) sort after U+E000..U+FFFF by code point: move them above it.
    if (x >= 0xd800) x = x >= 0xe000 ? x - 0x800 : x + 0x2000;
    if (y >= 0xd800) y = y >= 0xe000 ? y - 0x800 : y + 0x2000;
    return x - y;
  }
  return a.length - b.length;
}

const SHORT_ESCAPES: Record<string, string> = { '"': '\\"', '\\': '\\\\', '\n': '\\n', '\r': '\\r', '\t': '\\t', '\b': '\\b', '\f': '\\f' };

/** python's ensure_ascii string encoding: everything outside ' '..'~' escaped, astral as surrogate pairs. */
function pythonString(s: string): string {
  return '"' + s.replace(/[^ -~]|["\\]/g, (c) => SHORT_ESCAPES[c] ?? '\\u' + c.charCodeAt(0).toString(16).padStart(4, '0')) + '"';
}

/** `indent` undefined: compact (`separators=(',', ':')`); else pretty with one more space per level. */
function write(value: unknown, indent: string | undefined): string {
  if (value === null) return 'null';
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value)) throw new TypeError(`cannot write ${value}: metadata numbers are integers`);
    return String(value);
  }
  if (typeof value === 'bigint') return value.toString();
  if (typeof value === 'string') return pythonString(value);
  const inner = indent === undefined ? undefined : indent + ' ';
  const open = inner === undefined ? '' : '\n' + inner;
  const sep = inner === undefined ? ',' : ',\n' + inner;
  const close = indent === undefined ? '' : '\n' + indent;
  if (Array.isArray(value)) {
    if (value.length === 0) return '[]';
    return '[' + open + value.map((v) => write(v, inner)).join(sep) + close + ']';
  }
  if (typeof value === 'object') {
    const keys = Object.keys(value).sort(compareCodePoints);
    if (keys.length === 0) return '{}';
    const record = value as Record<string, unknown>;
    const colon = inner === undefined ? ':' : ': ';
    return '{' + open + keys.map((k) => pythonString(k) + colon + write(record[k], inner)).join(sep) + close + '}';
  }
  throw new TypeError(`cannot write a ${typeof value} as JSON`);
}

/** The bytes the reference writes for a metadata file holding `value`. */
export function dumpReferenceJson(value: unknown): Uint8Array {
  return new TextEncoder().encode(write(value, ''));
}

/**
 * Compact JSON with sorted keys and ASCII-only strings (`json.dumps(sort_keys=True, separators=(',', ':'))`):
 * valid JSON for any parser, unlike canonical JSON, whose raw control characters (the newlines in PEM keys)
 * strict JSON refuses. Used for DSSE payloads.
 */
export function dumpCompactJson(value: unknown): Uint8Array {
  return new TextEncoder().encode(write(value, undefined));
}
