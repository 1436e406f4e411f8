// Byte-wise comparison and the sort of object keys. UTF-8 byte order equals Unicode code point order,
// which is the order securesystemslib's canonical JSON (python's sorted()) gives keys.

import { Region, Words } from './buffers';

/** Compares two byte strings; negative, zero or positive like memcmp with length as tie-break. */
export function compareBytes(a: u32, aLen: u32, b: u32, bLen: u32): i32 {
  const n = aLen < bLen ? aLen : bLen;
  let i: u32 = 0;
  while (i + 8 <= n) {
    const x = load<u64>(a + i);
    const y = load<u64>(b + i);
    if (x != y) {
      const bx = bswap<u64>(x);
      const by = bswap<u64>(y);
      return bx < by ? -1 : 1;
    }
    i += 8;
  }
  while (i < n) {
    const x = <i32>load<u8>(a + i);
    const y = <i32>load<u8>(b + i);
    if (x != y) return x - y;
    i++;
  }
  return aLen == bLen ? 0 : aLen < bLen ? -1 : 1;
}

const scratch = new Region();
let keyTape: Words = new Words(); // the tape whose key nodes are being sorted (set by sortKeys)

/** First 4 bytes of the key, big-endian, zero-padded: decides most comparisons without touching the key. */
function prefixOf(node: u32): u64 {
  const ptr = keyTape.get((node << 2) + 1);
  const len = keyTape.get((node << 2) + 2);
  let v: u32 = 0;
  for (let i: u32 = 0; i < 4; i++) v = (v << 8) | (i < len ? <u32>load<u8>(ptr + i) : 0);
  return <u64>v;
}

@inline function less(x: u64, y: u64): bool {
  const px = x >> 32;
  const py = y >> 32;
  if (px != py) return px < py;
  const a = <u32>x;
  const b = <u32>y;
  const t = keyTape;
  return compareBytes(t.get((a << 2) + 1), t.get((a << 2) + 2), t.get((b << 2) + 1), t.get((b << 2) + 2)) < 0;
}

/**
 * Sorts `count` key node indices stored in `order` from `at`, by their bytes. A stable bottom-up merge
 * sort over (prefix, node) pairs: O(n log n) on any input, so crafted key sets cannot make it quadratic.
 */
export function sortKeys(tapeWords: Words, order: Words, at: u32, count: u32): void {
  keyTape = tapeWords;
  const bytes = <usize>count << 3;
  scratch.ensure(bytes << 1);
  let src = scratch.ptr;
  let dst = scratch.ptr + bytes;
  for (let i: u32 = 0; i < count; i++) {
    const node = order.get(at + i);
    store<u64>(src + (<usize>i << 3), (prefixOf(node) << 32) | <u64>node);
  }
  // Insertion sort runs of 16, then merge runs of doubling width between the two halves of scratch.
  const RUN: u32 = 16;
  for (let lo: u32 = 0; lo < count; lo += RUN) {
    const hi = lo + RUN < count ? lo + RUN : count;
    for (let i = lo + 1; i < hi; i++) {
      const v = load<u64>(src + (<usize>i << 3));
      let j = i;
      while (j > lo && less(v, load<u64>(src + (<usize>(j - 1) << 3)))) {
        store<u64>(src + (<usize>j << 3), load<u64>(src + (<usize>(j - 1) << 3)));
        j--;
      }
      store<u64>(src + (<usize>j << 3), v);
    }
  }
  for (let width = RUN; width < count; width <<= 1) {
    for (let lo: u32 = 0; lo < count; lo += width << 1) {
      const mid = lo + width < count ? lo + width : count;
      const hi = lo + (width << 1) < count ? lo + (width << 1) : count;
      let i = lo;
      let j = mid;
      let k = lo;
      while (i < mid && j < hi) {
        const a = load<u64>(src + (<usize>i << 3));
        const b = load<u64>(src + (<usize>j << 3));
        if (less(b, a)) {
          store<u64>(dst + (<usize>k << 3), b);
          j++;
        } else {
          store<u64>(dst + (<usize>k << 3), a);
          i++;
        }
        k++;
      }
      if (i < mid) memory.copy(dst + (<usize>k << 3), src + (<usize>i << 3), <usize>(mid - i) << 3);
      else if (j < hi) memory.copy(dst + (<usize>k << 3), src + (<usize>j << 3), <usize>(hi - j) << 3);
    }
    const t = src;
    src = dst;
    dst = t;
  }
  for (let i: u32 = 0; i < count; i++) order.set(at + i, <u32>load<u64>(src + (<usize>i << 3)));
}
