// Canonical JSON writer: the bytes securesystemslib's encode_canonical produces, from the tape.
//   - no whitespace; object keys sorted by code point (the order the parser recorded);
//   - strings: only `\` and `"` are escaped (as `\\` and `\"`); every other byte is written raw,
//     newlines and other control characters included;
//   - integers as their decimal digits ("-0" reads as the integer 0); true, false, null.
// The output is never longer than the input it came from (every value is written in at most as many
// bytes as its source spelling took), so the writer sizes its buffer once and never checks again.

import { Region, Words } from './buffers';
import { K_OBJECT, K_ARRAY, K_STRING, K_NUMBER, K_TRUE, K_FALSE, F_NEEDS_ESCAPE, F_HAS_CONTROL, NATURAL, tape, orders, kindOf, word, skip } from './json';

export const output = new Region();
let out: usize = 0;

// The plain-JSON mode: the same bytes, except that control characters in strings are escaped (canonical
// JSON writes them raw, which strict JSON parsers refuse), and the members `materials` and `products` of
// one object (`lean`) are written as `{}`: a link's small part, for a host that keeps its artifacts here.
// Control characters get JSON's two-byte escapes where they exist (\b \t \n \f \r) and \u00XX otherwise,
// the same or fewer bytes than any escape the input could have spelled them with, so the output still never
// outgrows the input.
let plain = false;
let lean: u32 = 0xffffffff;
const HEX_DIGITS = memory.data<u8>([0x30, 0x31, 0x32, 0x33, 0x34, 0x35, 0x36, 0x37, 0x38, 0x39, 0x61, 0x62, 0x63, 0x64, 0x65, 0x66]);
const MATERIALS_KEY = memory.data<u8>([0x6d, 0x61, 0x74, 0x65, 0x72, 0x69, 0x61, 0x6c, 0x73]);
const PRODUCTS_KEY = memory.data<u8>([0x70, 0x72, 0x6f, 0x64, 0x75, 0x63, 0x74, 0x73]);

@inline function put(c: u8): void {
  store<u8>(out, c);
  out++;
}

/** Writes control character c as JSON escapes it. */
function putControl(c: u8): void {
  put(0x5c);
  if (c == 0x08) put(0x62);
  else if (c == 0x09) put(0x74);
  else if (c == 0x0a) put(0x6e);
  else if (c == 0x0c) put(0x66);
  else if (c == 0x0d) put(0x72);
  else {
    store<u32>(out, 0x30303075); // "u000"
    out += 3;
    put(c >= 0x10 ? 0x31 : 0x30);
    put(load<u8>(HEX_DIGITS + (c & 0xf)));
  }
}

/** Writes `len` bytes as the inside of a string: `"` and `\` escaped, control characters too in plain mode. */
export function writeStringBody(ptr: usize, len: usize, escapeControls: bool): void {
  for (let i: usize = 0; i < len; i++) {
    const c = load<u8>(ptr + i);
    if (c == 0x22 || c == 0x5c) {
      put(0x5c);
      put(c);
    } else if (c < 0x20 && escapeControls) putControl(c);
    else put(c);
  }
}

function writeString(ptr: usize, len: usize, flags: u32): void {
  put(0x22);
  if ((flags & F_NEEDS_ESCAPE) == 0 && (!plain || (flags & F_HAS_CONTROL) == 0)) {
    memory.copy(out, ptr, len);
    out += len;
  } else {
    writeStringBody(ptr, len, plain);
  }
  put(0x22);
}

/** In plain mode, whether object member `key` of object `n` is one whose value is written as `{}`. */
@inline function leanMember(n: u32, key: u32): bool {
  if (n != lean) return false;
  const len = word(key, 2);
  return (len == 9 && memory.compare(word(key, 1), MATERIALS_KEY, 9) == 0) || (len == 8 && memory.compare(word(key, 1), PRODUCTS_KEY, 8) == 0);
}

@inline function writeKey(key: u32): void {
  writeString(word(key, 1), word(key, 2), tape.get(key << 2));
  put(0x3a);
}

function writeScalar(n: u32, kind: u32): void {
  if (kind == K_STRING) {
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

/** Open containers of `writeValue`, three words each: the node, the next member's index, the next child node. */
const frames = new Words();

/**
 * Writes node n and its descendants. Iterative, with an explicit stack: recursion here once trapped on
 * AssemblyScript's shadow stack at about 545 levels, below the 10,000 that `set_max_depth` allows.
 */
function writeValue(root: u32): void {
  frames.reset();
  let n = root;
  while (true) {
    const kind = kindOf(n);
    if (kind == K_OBJECT || kind == K_ARRAY) {
      put(kind == K_OBJECT ? 0x7b : 0x5b);
      if (word(n, 1) == 0) {
        put(kind == K_OBJECT ? 0x7d : 0x5d);
      } else {
        const at = frames.grow(3);
        frames.set(at, n);
        frames.set(at + 1, 0);
        frames.set(at + 2, n + 1);
      }
    } else {
      writeScalar(n, kind);
    }
    // The next node to write: the next child of the innermost open container, closing those that are done.
    while (true) {
      if (frames.len == 0) return;
      const at = frames.len - 3;
      const c = frames.get(at);
      const i = frames.get(at + 1);
      const isObject = kindOf(c) == K_OBJECT;
      if (i == word(c, 1)) {
        put(isObject ? 0x7d : 0x5d);
        frames.len = at;
        continue;
      }
      if (i > 0) put(0x2c);
      frames.set(at + 1, i + 1);
      if (isObject) {
        const order = word(c, 3);
        let key: u32;
        if (order == NATURAL) {
          key = frames.get(at + 2);
          frames.set(at + 2, skip(key + 1));
        } else {
          key = orders.get(order + i);
        }
        writeKey(key);
        // Plain mode's lean object: its artifacts stay out (written as {}), the rest as usual.
        if (plain && leanMember(c, key)) {
          put(0x7b);
          put(0x7d);
          continue;
        }
        n = key + 1;
      } else {
        n = frames.get(at + 2);
        frames.set(at + 2, skip(n));
      }
      break;
    }
  }
}

/** Writes node n canonically into `output`; `capacity` is the parsed input's length. Returns the byte count. */
export function writeCanonical(n: u32, capacity: usize): usize {
  out = output.ensure(capacity);
  plain = false;
  writeValue(n);
  return out - output.ptr;
}

/**
 * Writes node n as plain JSON (canonical, but control characters escaped) into `region`, with the members
 * `materials` and `products` of object node `leanObject` written as `{}` (0xffffffff: none). Returns the count.
 */
export function writePlain(n: u32, leanObject: u32, region: Region, capacity: usize): usize {
  out = region.ensure(capacity);
  plain = true;
  lean = leanObject;
  writeValue(n);
  plain = false;
  lean = 0xffffffff;
  return out - region.ptr;
}

/** The write cursor, for writers outside this file that share its helpers (they call `beginAt` first). */
export function beginAt(at: usize): void {
  out = at;
}
export function cursor(): usize {
  return out;
}
@inline export function putByte(c: u8): void {
  put(c);
}
