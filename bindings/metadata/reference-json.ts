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

/** What `writeJson` gives back when canonical JSON needs the engine (see `writeJson`). */
export const NOT_STRINGIFIABLE: unique symbol = Symbol('not writable here as canonical JSON');

/**
 * The three ways metadata is written, each with python's (and securesystemslib's) sorted keys:
 * - `pretty`: `json.dumps(indent=1, sort_keys=True)`, ensure_ascii (the files the reference writes);
 * - `compact`: `json.dumps(separators=(',', ':'), sort_keys=True)`, ensure_ascii (DSSE payloads);
 * - `canonical`: securesystemslib's canonical JSON (compact; only `"` and `\\` escaped; UTF-8 as is): what is signed.
 */
export type JsonMode = 'pretty' | 'compact' | 'canonical';

/** Node's Buffer, whose `latin1Write` copies an ASCII string natively (about twice the speed of a loop); else none. */
type Latin1Writer = Uint8Array & { latin1Write(s: string, offset: number, length: number): number };
type BufferClass = { from(buffer: ArrayBuffer): Latin1Writer };

/**
 * The Buffer class, when it writes as Node's does: tried once (at the first document written, nothing runs at import)
 * on a view of a fresh buffer, at an offset past 64 KiB (workerd's nodejs_compat Buffer has refused lengths there).
 * Anything else, and the plain loop is used.
 */
let nodeBuffer: BufferClass | null | undefined;
function bufferClass(): BufferClass | undefined {
  if (nodeBuffer === undefined) {
    nodeBuffer = null;
    const candidate = (globalThis as unknown as { Buffer?: BufferClass }).Buffer;
    try {
      const bytes = new Uint8Array(1 << 17);
      const written = typeof candidate?.from === 'function' ? candidate.from(bytes.buffer).latin1Write('ok', 70_000, 2) : 0;
      if (written === 2 && bytes[70_000] === 0x6f && bytes[70_001] === 0x6b) nodeBuffer = candidate!;
    } catch {
      // not Node's Buffer: the loop
    }
  }
  return nodeBuffer ?? undefined;
}

/** Appends bytes to a buffer that doubles as it fills: no intermediate string of the whole document. */
class ByteSink {
  buffer = new Uint8Array(1 << 16);
  length = 0;
  private latin1 = bufferClass()?.from(this.buffer.buffer);
  private readonly encoder = new TextEncoder();

  reserve(bytes: number): void {
    if (this.length + bytes <= this.buffer.length) return;
    let size = this.buffer.length * 2;
    while (size < this.length + bytes) size *= 2;
    const grown = new Uint8Array(size);
    grown.set(this.buffer.subarray(0, this.length));
    this.buffer = grown;
    this.latin1 = bufferClass()?.from(grown.buffer);
  }

  byte(b: number): void {
    this.reserve(1);
    this.buffer[this.length++] = b;
  }

  /** An ASCII string (checked by the caller), a byte per character: no encoder call, no view made. */
  ascii(s: string): void {
    this.reserve(s.length);
    if (this.latin1) {
      this.length += this.latin1.latin1Write(s, this.length, s.length);
      return;
    }
    const buffer = this.buffer;
    let at = this.length;
    for (let i = 0; i < s.length; i++) buffer[at++] = s.charCodeAt(i);
    this.length = at;
  }

  /** A string whose UTF-8 is written as is (canonical JSON's raw text). */
  text(s: string): void {
    this.reserve(s.length * 3);
    this.length += this.encoder.encodeInto(s, this.buffer.subarray(this.length)).written;
  }

  bytes(): Uint8Array {
    // A large document is handed out in place (at most half the buffer unused) rather than copied once more.
    return this.length >= 1 << 20 ? this.buffer.subarray(0, this.length) : this.buffer.slice(0, this.length);
  }
}

/** Printable ASCII without `"` or `\\`: written as it is in every mode. */
const PLAIN = /^[ !#-[\]-~]*$/;
/** Canonical JSON writes any other character raw, but for `"` and `\\`; control characters and lone surrogates go to the engine. */
const CANONICAL_ESCAPES = /["\\]/g;

class Bail extends Error {}

function writeString(sink: ByteSink, s: string, mode: JsonMode): void {
  sink.byte(0x22);
  if (PLAIN.test(s)) sink.ascii(s);
  else if (mode === 'canonical') {
    if (!canonicalString(s)) throw new Bail();
    sink.text(s.replace(CANONICAL_ESCAPES, (c) => `\\${c}`));
  } else {
    sink.ascii(s.replace(/[^ -~]|["\\]/g, (c) => SHORT_ESCAPES[c] ?? '\\u' + c.charCodeAt(0).toString(16).padStart(4, '0')));
  }
  sink.byte(0x22);
}

function writeValue(sink: ByteSink, value: unknown, mode: JsonMode, indent: string, depth: number, maxDepth: number): void {
  if (value === null) return sink.ascii('null');
  if (typeof value === 'boolean') return sink.ascii(value ? 'true' : 'false');
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value)) {
      if (mode === 'canonical') throw new Bail();
      throw new TypeError(`cannot write ${value}: metadata numbers are integers`);
    }
    return sink.ascii(String(value));
  }
  if (typeof value === 'bigint') {
    if (mode === 'canonical') throw new Bail();
    return sink.ascii(value.toString());
  }
  if (typeof value === 'string') return writeString(sink, value, mode);
  if (typeof value !== 'object') {
    if (mode === 'canonical') throw new Bail();
    throw new TypeError(`cannot write a ${typeof value} as JSON`);
  }
  if (depth >= maxDepth) {
    if (mode === 'canonical') throw new Bail();
    throw new TypeError(`cannot write JSON nested more than ${maxDepth} deep`);
  }
  const inner = mode === 'pretty' ? indent + ' ' : '';
  const newline = mode === 'pretty' ? '\n' + inner : '';
  if (Array.isArray(value)) {
    if (value.length === 0) return sink.ascii('[]');
    sink.byte(0x5b);
    for (let i = 0; i < value.length; i++) {
      if (!(i in value)) throw new TypeError('cannot write an array with holes as JSON');
      if (i > 0) sink.byte(0x2c);
      if (newline) sink.ascii(newline);
      writeValue(sink, value[i], mode, inner, depth + 1, maxDepth);
    }
    if (newline) sink.ascii('\n' + indent);
    return sink.byte(0x5d);
  }
  const record = value as Record<string, unknown>;
  let keys = Object.keys(record);
  if (keys.length === 0) return sink.ascii('{}');
  // Most objects (a link's artifacts, recorded in order) are sorted already: checked in one pass.
  for (let i = 1; i < keys.length; i++) {
    if (compareCodePoints(keys[i - 1]!, keys[i]!) >= 0) {
      keys = [...keys].sort(compareCodePoints);
      break;
    }
  }
  sink.byte(0x7b);
  for (let i = 0; i < keys.length; i++) {
    if (i > 0) sink.byte(0x2c);
    if (newline) sink.ascii(newline);
    writeString(sink, keys[i]!, mode);
    sink.ascii(mode === 'pretty' ? ': ' : ':');
    writeValue(sink, record[keys[i]!], mode, inner, depth + 1, maxDepth);
  }
  if (newline) sink.ascii('\n' + indent);
  sink.byte(0x7d);
}

/**
 * `value` as JSON bytes in `mode`, written straight into a byte buffer (a link of 100,000 artifacts: no string of
 * the whole document, no copy of its objects). Pretty and compact write what python's `json.dumps` writes, or throw
 * `TypeError` for what JSON metadata cannot hold (non-integer numbers, `undefined`, functions, array holes).
 * Canonical gives `NOT_STRINGIFIABLE` for what only the engine decides (control characters, lone surrogates,
 * non-integers, nesting beyond `maxDepth`): the caller then asks the engine, which writes it or refuses.
 */
export function writeJson(value: unknown, mode: JsonMode, maxDepth = Infinity): Uint8Array | typeof NOT_STRINGIFIABLE {
  const sink = new ByteSink();
  try {
    writeValue(sink, value, mode, '', 0, mode === 'canonical' ? Math.min(maxDepth, MAX_DEPTH) : maxDepth);
  } catch (error) {
    if (error instanceof Bail) return NOT_STRINGIFIABLE;
    throw error;
  }
  return sink.bytes();
}

const canonicalString = (s: string): boolean => !CONTROL.test(s) && s.isWellFormed();
const CONTROL = /[\u0000-\u001f]/;
const MAX_DEPTH = 64;

/** The bytes the reference writes for a metadata file holding `value`. */
export function dumpReferenceJson(value: unknown): Uint8Array {
  return writeJson(value, 'pretty') as Uint8Array;
}

/**
 * Compact JSON with sorted keys and ASCII-only strings (`json.dumps(sort_keys=True, separators=(',', ':'))`):
 * valid JSON for any parser, unlike canonical JSON, whose raw control characters (the newlines in PEM keys)
 * strict JSON refuses. Used for DSSE payloads.
 */
export function dumpCompactJson(value: unknown): Uint8Array {
  return writeJson(value, 'compact') as Uint8Array;
}
