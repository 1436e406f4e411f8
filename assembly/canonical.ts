// Canonical JSON writer: the bytes securesystemslib's encode_canonical produces, from the tape.
//   - no whitespace; object keys sorted by code point (the order the parser recorded);
//   - strings: only `\` and `"` are escaped (as `\\` and `\"`); every other byte is written raw,
//     newlines and other control characters included;
//   - integers as their decimal digits ("-0" reads as the integer 0); true, false, null.
// The output is never longer than the input it came from (every value is written in at most as many
// bytes as its source spelling took), so the writer sizes its buffer once and never checks again.

import { Region } from './buffers';
import { K_OBJECT, K_ARRAY, K_STRING, K_NUMBER, K_TRUE, K_FALSE, F_NEEDS_ESCAPE, NATURAL, tape, orders, kindOf, word, skip } from './json';

export const output = new Region();
let out: usize = 0;

@inline function put(c: u8): void {
  store<u8>(out, c);
  out++;
}

function writeString(ptr: usize, len: usize, flags: u32): void {
  put(0x22);
  if ((flags & F_NEEDS_ESCAPE) == 0) {
    memory.copy(out, ptr, len);
    out += len;
  } else {
    for (let i: usize = 0; i < len; i++) {
      const c = load<u8>(ptr + i);
      if (c == 0x22 || c == 0x5c) put(0x5c);
      put(c);
    }
  }
  put(0x22);
}

@inline function writeKey(key: u32): void {
  writeString(word(key, 1), word(key, 2), tape.get(key << 2));
  put(0x3a);
}

/** Writes node n and its descendants. Recursion depth is bounded by the parser's depth limit. */
function writeValue(n: u32): void {
  const kind = kindOf(n);
  if (kind == K_OBJECT) {
    put(0x7b);
    const count = word(n, 1);
    const order = word(n, 3);
    if (order == NATURAL) {
      let key = n + 1;
      for (let i: u32 = 0; i < count; i++) {
        if (i > 0) put(0x2c);
        writeKey(key);
        writeValue(key + 1);
        key = skip(key + 1);
      }
    } else {
      for (let i: u32 = 0; i < count; i++) {
        if (i > 0) put(0x2c);
        const key = orders.get(order + i);
        writeKey(key);
        writeValue(key + 1);
      }
    }
    put(0x7d);
  } else if (kind == K_ARRAY) {
    put(0x5b);
    const count = word(n, 1);
    let item = n + 1;
    for (let i: u32 = 0; i < count; i++) {
      if (i > 0) put(0x2c);
      writeValue(item);
      item = skip(item);
    }
    put(0x5d);
  } else if (kind == K_STRING) {
    writeString(word(n, 1), word(n, 2), tape.get(n << 2));
  } else if (kind == K_NUMBER) {
    const ptr = word(n, 1);
    const len = word(n, 2);
    if (len == 2 && load<u16>(ptr) == 0x302d) put(0x30); // "-0" is the integer 0
    else {
      memory.copy(out, ptr, len);
      out += len;
    }
  } else if (kind == K_TRUE) {
    store<u32>(out, 0x65757274);
    out += 4;
  } else if (kind == K_FALSE) {
    store<u32>(out, 0x736c6166);
    store<u8>(out + 4, 0x65);
    out += 5;
  } else {
    store<u32>(out, 0x6c6c756e);
    out += 4;
  }
}

/** Writes node n canonically into `output`; `capacity` is the parsed input's length. Returns the byte count. */
export function writeCanonical(n: u32, capacity: usize): usize {
  out = output.ensure(capacity);
  writeValue(n);
  return out - output.ptr;
}
