// Strict JSON reader over UTF-8 bytes, producing a tape (a flat array of 4-word nodes in document order).
//
// Strict means: one reading only. Duplicate keys, floats, invalid UTF-8, lone surrogate escapes, raw
// control characters, nesting deeper than the limit and trailing bytes are refused, with an error code
// and the byte offset, because a signature must never cover bytes that two parsers read differently.
//
// Tape node n occupies words [4n, 4n+4):
//   w0: kind (low byte) | flags
//   object/array: w1 = member/element count, w2 = index of the node after the container's last
//                 descendant, w3 = (objects) offset of the sorted member order in `orders`, or NATURAL;
//                 (arrays) input offset of the closing `]`
//   string:       w1 = pointer to the decoded bytes (into the input when the string had no escape,
//                 else into the arena), w2 = byte length, w3 = input offset of the opening quote
//   number:       w1 = pointer into the input, w2 = byte length, w3 = input offset
// Object members are a key string node followed by the value's nodes.

import { Region, Words } from './buffers';
import {
  OK, E_UNEXPECTED_END, E_SYNTAX, E_INVALID_UTF8, E_INVALID_ESCAPE, E_LONE_SURROGATE, E_CONTROL_CHARACTER,
  E_FLOAT, E_INVALID_NUMBER, E_DUPLICATE_KEY, E_TOO_DEEP, E_TRAILING_DATA,
} from './errors';
import { compareBytes, sortKeys } from './sort';

export const K_OBJECT: u32 = 1;
export const K_ARRAY: u32 = 2;
export const K_STRING: u32 = 3;
export const K_NUMBER: u32 = 4;
export const K_TRUE: u32 = 5;
export const K_FALSE: u32 = 6;
export const K_NULL: u32 = 7;
/** String flag: the decoded bytes contain `"` or `\`, which canonical JSON must escape. */
export const F_NEEDS_ESCAPE: u32 = 0x100;
/** String flag: the decoded bytes contain a control character (< 0x20), which plain JSON must escape. */
export const F_HAS_CONTROL: u32 = 0x200;
/** Object order marker: members are already in strictly increasing key order. */
export const NATURAL: u32 = 0xffffffff;

/** Python refuses integers longer than this many digits (sys.get_int_max_str_digits() in 3.11). */
export const MAX_NUMBER_DIGITS: u32 = 4300;

export const input = new Region();
export const arena = new Region();
export const tape = new Words();
export const orders = new Words();
const stack = new Words();

export let maxDepth: u32 = 100;
export let errorOffset: u32 = 0;
/**
 * Ordinary JSON (RFC 8259) numbers: fractions and exponents read, for attestation payloads, which are not
 * canonical JSON. Everything else stays strict (duplicate keys, UTF-8, surrogates, depth). Off by default.
 */
let fractions: bool = false;
/** Set by a parse in `fractions` mode: a number that a float64 may not hold exactly (a fraction, an exponent, > 15 digits). */
export let inexactNumbers: bool = false;

export function setFractions(on: bool): void {
  fractions = on;
  inexactNumbers = false;
}

export function setMaxDepth(depth: u32): void {
  maxDepth = depth;
}

@inline export function kindOf(n: u32): u32 {
  return tape.get(n << 2) & 0xff;
}
@inline export function word(n: u32, w: u32): u32 {
  return tape.get((n << 2) + w);
}
@inline function setWord(n: u32, w: u32, v: u32): void {
  tape.set((n << 2) + w, v);
}
@inline function newNode(kind: u32, a: u32, b: u32, c: u32): u32 {
  const at = tape.grow(4);
  tape.set(at, kind);
  tape.set(at + 1, a);
  tape.set(at + 2, b);
  tape.set(at + 3, c);
  return at >> 2;
}

/** The node after `n` and all its descendants. */
@inline export function skip(n: u32): u32 {
  const k = kindOf(n);
  return k == K_OBJECT || k == K_ARRAY ? word(n, 2) : n + 1;
}

let base: usize = 0; // input start
let end: usize = 0; // input end
let arenaPos: usize = 0;
/** Whether this parse has sized the arena: done at its first escape only (most big documents have none). */
let arenaReady = false;

function fail(code: i32, at: usize): i32 {
  errorOffset = <u32>(at - base);
  return code;
}

@inline function isWhitespace(c: u32): bool {
  return c == 0x20 || c == 0x0a || c == 0x0d || c == 0x09;
}

@inline function skipWhitespace(p: usize): usize {
  while (p < end && isWhitespace(load<u8>(p))) p++;
  return p;
}

/** True when any of the 8 bytes is `"`, `\`, below 0x20 or above 0x7f (SWAR; false positives only above a true one). */
@inline function hasSpecialByte(x: u64): bool {
  const q = x ^ 0x2222222222222222;
  const b = x ^ 0x5c5c5c5c5c5c5c5c;
  const t = ((q - 0x0101010101010101) & ~q) | ((b - 0x0101010101010101) & ~b) | (x - 0x2020202020202020) | x;
  return (t & 0x8080808080808080) != 0;
}

/** hasSpecialByte over 16 bytes, with one test. */
@inline function hasSpecialByte16(x: u64, y: u64): bool {
  const q = x ^ 0x2222222222222222;
  const b = x ^ 0x5c5c5c5c5c5c5c5c;
  const r = y ^ 0x2222222222222222;
  const c = y ^ 0x5c5c5c5c5c5c5c5c;
  const t = ((q - 0x0101010101010101) & ~q) | ((b - 0x0101010101010101) & ~b) | (x - 0x2020202020202020) | x;
  const u = ((r - 0x0101010101010101) & ~r) | ((c - 0x0101010101010101) & ~c) | (y - 0x2020202020202020) | y;
  return ((t | u) & 0x8080808080808080) != 0;
}

/** Advances over bytes that need no attention inside a string. */
@inline function scanPlain(p: usize): usize {
  while (true) {
    // Long strings (a DSSE payload's base64) sixteen bytes a turn, then eight.
    while (p + 16 <= end && !hasSpecialByte16(load<u64>(p), load<u64>(p + 8))) p += 16;
    while (p + 8 <= end && !hasSpecialByte(load<u64>(p))) p += 8;
    const limit = p + 8 < end ? p + 8 : end;
    while (p < limit) {
      const c = <u32>load<u8>(p);
      if (c == 0x22 || c == 0x5c || c < 0x20 || c >= 0x80) return p;
      p++;
    }
    if (p >= end) return end;
  }
}

/** Length of the well-formed UTF-8 sequence at p whose lead byte is >= 0x80, or 0 (RFC 3629 section 4). */
function utf8Length(p: usize): u32 {
  const c = <u32>load<u8>(p);
  const avail = end - p;
  if (c >= 0xc2 && c <= 0xdf) {
    if (avail < 2) return 0;
    return (<u32>load<u8>(p + 1) & 0xc0) == 0x80 ? 2 : 0;
  }
  if (c >= 0xe0 && c <= 0xef) {
    if (avail < 3) return 0;
    const c1 = <u32>load<u8>(p + 1);
    const c2 = <u32>load<u8>(p + 2);
    if ((c2 & 0xc0) != 0x80) return 0;
    if (c == 0xe0) return c1 >= 0xa0 && c1 <= 0xbf ? 3 : 0; // no overlong forms
    if (c == 0xed) return c1 >= 0x80 && c1 <= 0x9f ? 3 : 0; // no surrogates
    return (c1 & 0xc0) == 0x80 ? 3 : 0;
  }
  if (c >= 0xf0 && c <= 0xf4) {
    if (avail < 4) return 0;
    const c1 = <u32>load<u8>(p + 1);
    if ((<u32>load<u8>(p + 2) & 0xc0) != 0x80 || (<u32>load<u8>(p + 3) & 0xc0) != 0x80) return 0;
    if (c == 0xf0) return c1 >= 0x90 && c1 <= 0xbf ? 4 : 0; // no overlong forms
    if (c == 0xf4) return c1 >= 0x80 && c1 <= 0x8f ? 4 : 0; // nothing above U+10FFFF
    return (c1 & 0xc0) == 0x80 ? 4 : 0;
  }
  return 0;
}

@inline function hexValue(c: u32): i32 {
  if (c >= 0x30 && c <= 0x39) return <i32>(c - 0x30);
  c |= 0x20;
  if (c >= 0x61 && c <= 0x66) return <i32>(c - 0x61 + 10);
  return -1;
}

/** Reads the 4 hex digits at p, or returns -1. */
function hex4(p: usize): i32 {
  if (end - p < 4) return -1;
  const a = hexValue(load<u8>(p));
  const b = hexValue(load<u8>(p + 1));
  const c = hexValue(load<u8>(p + 2));
  const d = hexValue(load<u8>(p + 3));
  if ((a | b | c | d) < 0) return -1;
  return (a << 12) | (b << 8) | (c << 4) | d;
}

/** Writes code point cp as UTF-8 at dst; returns the new dst. */
function writeUtf8(dst: usize, cp: u32): usize {
  if (cp < 0x80) {
    store<u8>(dst, <u8>cp);
    return dst + 1;
  }
  if (cp < 0x800) {
    store<u8>(dst, <u8>(0xc0 | (cp >> 6)));
    store<u8>(dst + 1, <u8>(0x80 | (cp & 0x3f)));
    return dst + 2;
  }
  if (cp < 0x10000) {
    store<u8>(dst, <u8>(0xe0 | (cp >> 12)));
    store<u8>(dst + 1, <u8>(0x80 | ((cp >> 6) & 0x3f)));
    store<u8>(dst + 2, <u8>(0x80 | (cp & 0x3f)));
    return dst + 3;
  }
  store<u8>(dst, <u8>(0xf0 | (cp >> 18)));
  store<u8>(dst + 1, <u8>(0x80 | ((cp >> 12) & 0x3f)));
  store<u8>(dst + 2, <u8>(0x80 | ((cp >> 6) & 0x3f)));
  store<u8>(dst + 3, <u8>(0x80 | (cp & 0x3f)));
  return dst + 4;
}

let cursor: usize = 0; // where parsing continues after a successful parseString / parseNumber

/** Parses the string whose opening quote is at q into a new node. */
function parseString(q: usize): i32 {
  const start = q + 1;
  let p = start;
  let flags: u32 = 0;
  // Decoded bytes go to the arena only once an escape is seen; until then the node points into the input.
  let copying = false;
  let dst: usize = 0;
  let dstStart: usize = 0;
  while (true) {
    const run = p;
    p = scanPlain(p);
    if (copying && p > run) {
      memory.copy(dst, run, p - run);
      dst += p - run;
    }
    if (p >= end) return fail(E_UNEXPECTED_END, p);
    const c = <u32>load<u8>(p);
    if (c == 0x22) break;
    if (c < 0x20) return fail(E_CONTROL_CHARACTER, p);
    if (c >= 0x80) {
      const n = utf8Length(p);
      if (n == 0) return fail(E_INVALID_UTF8, p);
      if (copying) {
        memory.copy(dst, p, n);
        dst += n;
      }
      p += n;
      continue;
    }
    // A backslash escape (RFC 8259 section 7).
    if (!copying) {
      // Decoded strings are never longer than the input: one arena of its size holds them all. Sized here, at
      // the first escape, when no node points into the arena yet (ensure may move it).
      if (!arenaReady) {
        arena.ensure(end - base);
        arenaReady = true;
      }
      copying = true;
      dstStart = arena.ptr + arenaPos;
      memory.copy(dstStart, start, p - start);
      dst = dstStart + (p - start);
    }
    if (p + 1 >= end) return fail(E_UNEXPECTED_END, p);
    const e = <u32>load<u8>(p + 1);
    let cp: u32 = 0;
    let used: usize = 2;
    if (e == 0x22 || e == 0x5c || e == 0x2f) cp = e;
    else if (e == 0x62) cp = 0x08;
    else if (e == 0x66) cp = 0x0c;
    else if (e == 0x6e) cp = 0x0a;
    else if (e == 0x72) cp = 0x0d;
    else if (e == 0x74) cp = 0x09;
    else if (e == 0x75) {
      const hi = hex4(p + 2);
      if (hi < 0) return fail(E_INVALID_ESCAPE, p);
      used = 6;
      cp = <u32>hi;
      if (cp >= 0xdc00 && cp <= 0xdfff) return fail(E_LONE_SURROGATE, p);
      if (cp >= 0xd800 && cp <= 0xdbff) {
        // Only a following \uDC00-\uDFFF completes the pair.
        if (end - p < 12 || load<u8>(p + 6) != 0x5c || load<u8>(p + 7) != 0x75) return fail(E_LONE_SURROGATE, p);
        const lo = hex4(p + 8);
        if (lo < 0) return fail(E_INVALID_ESCAPE, p + 6);
        if (lo < 0xdc00 || lo > 0xdfff) return fail(E_LONE_SURROGATE, p);
        cp = 0x10000 + ((cp - 0xd800) << 10) + (<u32>lo - 0xdc00);
        used = 12;
      }
    } else return fail(E_INVALID_ESCAPE, p);
    if (cp == 0x22 || cp == 0x5c) flags |= F_NEEDS_ESCAPE;
    else if (cp < 0x20) flags |= F_HAS_CONTROL;
    dst = writeUtf8(dst, cp);
    p += used;
  }
  if (copying) {
    arenaPos = dst - arena.ptr;
    newNode(K_STRING | flags, <u32>dstStart, <u32>(dst - dstStart), <u32>(q - base));
  } else {
    newNode(K_STRING, <u32>start, <u32>(p - start), <u32>(q - base));
  }
  cursor = p + 1;
  return OK;
}

@inline function isDigit(c: u32): bool {
  return c - 0x30 < 10;
}

function parseNumber(start: usize): i32 {
  let p = start;
  if (load<u8>(p) == 0x2d) p++;
  if (p >= end) return fail(E_UNEXPECTED_END, p);
  const first = <u32>load<u8>(p);
  if (first == 0x30) {
    p++;
    if (p < end && isDigit(load<u8>(p))) return fail(E_INVALID_NUMBER, start);
  } else if (isDigit(first)) {
    while (p < end && isDigit(load<u8>(p))) p++;
  } else return fail(E_INVALID_NUMBER, start);
  const digits = p - start - (load<u8>(start) == 0x2d ? 1 : 0);
  if (digits > MAX_NUMBER_DIGITS) return fail(E_INVALID_NUMBER, start);
  if (p < end) {
    const c = <u32>load<u8>(p);
    if (c == 0x2e || c == 0x65 || c == 0x45) {
      if (!fractions) return fail(E_FLOAT, start);
      // RFC 8259: frac = "." 1*DIGIT; exp = ("e" / "E") ["-" / "+"] 1*DIGIT.
      if (c == 0x2e) {
        p++;
        const from = p;
        while (p < end && isDigit(load<u8>(p))) p++;
        if (p == from) return fail(E_INVALID_NUMBER, start);
      }
      if (p < end && (load<u8>(p) | 0x20) == 0x65) {
        p++;
        if (p < end && (load<u8>(p) == 0x2b || load<u8>(p) == 0x2d)) p++;
        const from = p;
        while (p < end && isDigit(load<u8>(p))) p++;
        if (p == from) return fail(E_INVALID_NUMBER, start);
      }
      if (p - start > MAX_NUMBER_DIGITS) return fail(E_INVALID_NUMBER, start);
      inexactNumbers = true;
    }
  }
  if (fractions && digits > 15) inexactNumbers = true;
  newNode(K_NUMBER, <u32>start, <u32>(p - start), <u32>(start - base));
  cursor = p;
  return OK;
}

function matchLiteral(p: usize, word: u32, len: usize): bool {
  if (end - p < len) return false;
  // "true" and "null" are 4 bytes, "false" is "fals" + "e".
  return load<u32>(p) == word && (len == 4 || load<u8>(p + 4) == 0x65);
}

/** Checks an object's keys are distinct and records their sorted order (or NATURAL). */
function finishObject(obj: u32): i32 {
  const count = word(obj, 1);
  if (count < 2) {
    setWord(obj, 3, NATURAL);
    return OK;
  }
  // The reference writes keys sorted, so first look for strictly increasing keys: no sort, no copy.
  let key = obj + 1;
  let sorted = true;
  for (let i: u32 = 1; i < count; i++) {
    const next = skip(key + 1);
    if (compareBytes(word(key, 1), word(key, 2), word(next, 1), word(next, 2)) >= 0) {
      sorted = false;
      break;
    }
    key = next;
  }
  if (sorted) {
    setWord(obj, 3, NATURAL);
    return OK;
  }
  const at = orders.grow(count);
  key = obj + 1;
  for (let i: u32 = 0; i < count; i++) {
    orders.set(at + i, key);
    key = skip(key + 1);
  }
  sortKeys(tape, orders, at, count);
  for (let i: u32 = 1; i < count; i++) {
    const a = orders.get(at + i - 1);
    const b = orders.get(at + i);
    if (compareBytes(word(a, 1), word(a, 2), word(b, 1), word(b, 2)) == 0) {
      return fail(E_DUPLICATE_KEY, base + <usize>max(word(a, 3), word(b, 3)));
    }
  }
  setWord(obj, 3, at);
  return OK;
}

/**
 * Parses `len` bytes at the start of the input region into the tape. Returns OK or an error code
 * (with `errorOffset` set). Iterative: the depth limit, not the native stack, bounds nesting.
 */
export function parse(len: usize): i32 {
  base = input.ptr;
  end = base + len;
  tape.reset();
  orders.reset();
  stack.reset();
  arenaReady = false;
  arenaPos = 0;
  errorOffset = 0;

  let p = skipWhitespace(base);
  // Each turn of this loop reads one value at p, then closes every container that ends after it.
  while (true) {
    if (p >= end) return fail(E_UNEXPECTED_END, p);
    const c = <u32>load<u8>(p);
    let opened = false;
    if (c == 0x7b || c == 0x5b) {
      // '{' or '['
      if (stack.len >= maxDepth) return fail(E_TOO_DEEP, p);
      const n = newNode(c == 0x7b ? K_OBJECT : K_ARRAY, 0, 0, 0);
      stack.set(stack.grow(1), n);
      p = skipWhitespace(p + 1);
      opened = true;
      if (p >= end) return fail(E_UNEXPECTED_END, p);
      const close = <u32>load<u8>(p);
      if (close == (c == 0x7b ? <u32>0x7d : <u32>0x5d)) {
        opened = false; // empty: closed below like any finished value
        stack.len--;
        setWord(n, 2, n + 1);
        setWord(n, 3, c == 0x7b ? NATURAL : <u32>(p - base));
        p++;
      } else if (c == 0x7b) {
        const e = parseKey(p);
        if (e != OK) return e;
        p = cursor;
      }
    } else if (c == 0x22) {
      const e = parseString(p);
      if (e != OK) return e;
      p = cursor;
    } else if (c == 0x2d || isDigit(c)) {
      const e = parseNumber(p);
      if (e != OK) return e;
      p = cursor;
    } else if (c == 0x74 && matchLiteral(p, 0x65757274, 4)) {
      newNode(K_TRUE, 0, 0, <u32>(p - base));
      p += 4;
    } else if (c == 0x66 && matchLiteral(p, 0x736c6166, 5)) {
      newNode(K_FALSE, 0, 0, <u32>(p - base));
      p += 5;
    } else if (c == 0x6e && matchLiteral(p, 0x6c6c756e, 4)) {
      newNode(K_NULL, 0, 0, <u32>(p - base));
      p += 4;
    } else return fail(E_SYNTAX, p);
    if (opened) continue;

    // A value is complete: count it in its container, then either go on to the next one or close.
    while (true) {
      if (stack.len == 0) {
        p = skipWhitespace(p);
        return p == end ? OK : fail(E_TRAILING_DATA, p);
      }
      const top = stack.get(stack.len - 1);
      setWord(top, 1, word(top, 1) + 1);
      p = skipWhitespace(p);
      if (p >= end) return fail(E_UNEXPECTED_END, p);
      const d = <u32>load<u8>(p);
      const isObject = kindOf(top) == K_OBJECT;
      if (d == 0x2c) {
        p = skipWhitespace(p + 1);
        if (isObject) {
          const e = parseKey(p);
          if (e != OK) return e;
          p = cursor;
        }
        break;
      }
      if (d != (isObject ? <u32>0x7d : <u32>0x5d)) return fail(E_SYNTAX, p);
      stack.len--;
      setWord(top, 2, <u32>(tape.len >> 2));
      if (isObject) {
        const e = finishObject(top);
        if (e != OK) return e;
      } else {
        setWord(top, 3, <u32>(p - base));
      }
      p++;
    }
  }
}

/** Parses `"key" :` at p, leaving `cursor` at the start of the value. */
function parseKey(p: usize): i32 {
  if (p >= end) return fail(E_UNEXPECTED_END, p);
  if (load<u8>(p) != 0x22) return fail(E_SYNTAX, p);
  const e = parseString(p);
  if (e != OK) return e;
  const q = skipWhitespace(cursor);
  if (q >= end) return fail(E_UNEXPECTED_END, q);
  if (load<u8>(q) != 0x3a) return fail(E_SYNTAX, q);
  cursor = skipWhitespace(q + 1);
  return OK;
}

/** Finds the member `name` (bytes at namePtr) of the object node `obj`; returns its value node or -1. */
export function findMember(obj: u32, namePtr: usize, nameLen: u32): i64 {
  const count = word(obj, 1);
  let key = obj + 1;
  for (let i: u32 = 0; i < count; i++) {
    if (compareBytes(word(key, 1), word(key, 2), <u32>namePtr, nameLen) == 0) return <i64>(key + 1);
    key = skip(key + 1);
  }
  return -1;
}

/** Frees buffers that one large document grew beyond `limit` bytes. */
export function releaseLarge(limit: u32): void {
  input.shrink(limit);
  arena.shrink(limit);
  tape.shrink(limit >> 2);
  orders.shrink(limit >> 2);
}
