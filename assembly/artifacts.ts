// Artifact tables: a link's `materials` and `products` (`path -> {algorithm: hex digest}`), kept after the
// link's document is gone, in compact raw buffers (no managed object per artifact).
//
// Each side of a link is one `Side`: entries in code point order of their paths (the order canonical JSON
// gives keys), each pointing at the path's bytes and at the canonical JSON bytes of its digest dict, so that
// "same hashes" is one byte comparison with python's dict equality semantics (`{sha256}` differs from
// `{sha256, sha512}`, and so do `"AB"` and `"ab"`). Lookup by path is open addressing keyed by SipHash-1-3
// under a secret 128-bit key the host supplies: paths come from untrusted files, and with an unkeyed hash
// an attacker could pick a million paths that share one bucket and make loading quadratic.
//
// The entries, bytes and index live in a `Table` that sides recording exactly the same artifacts share (a chain's
// steps often record the same files: a step's materials are the previous step's products, and an unmodified
// tree is both a step's materials and its products). A new side is compared, entry by entry and byte by byte,
// with the last few tables built before one is built for it; a table is freed with the last side holding it.

import {
  OK, E_NOT_AN_OBJECT, E_MISSING_MEMBER, E_ARTIFACTS, E_NO_SEED, E_NO_SLOT, E_TOO_MANY_ARTIFACTS,
} from './errors';
import {
  K_OBJECT, K_STRING, NATURAL, F_NEEDS_ESCAPE, parse, findMember, kindOf, word, skip, tape, orders, errorOffset,
} from './json';
import { compareBytes } from './sort';
import { Region, Words } from './buffers';
import { isAccepted } from './digests';
import { beginAt, cursor, putByte, writeStringBody } from './canonical';

// ---------------------------------------------------------------------------------------------------------
// SipHash-1-3 (Aumasson and Bernstein, "SipHash: a fast short-input PRF", 2012; the variant python >= 3.11
// and Rust use for their own hash tables).

let k0: u64 = 0;
let k1: u64 = 0;
let seeded = false;

/** Probe steps taken by table inserts and lookups since the last `resetProbes` (for the flooding test). */
export let probes: u64 = 0;

export function resetProbes(): void {
  probes = 0;
}

/** SipHash-1-3 of `len` bytes at `ptr` under the key set by `setSeed`. */
export function sipHash(ptr: usize, len: u32): u64 {
  let v0: u64 = k0 ^ 0x736f6d6570736575;
  let v1: u64 = k1 ^ 0x646f72616e646f6d;
  let v2: u64 = k0 ^ 0x6c7967656e657261;
  let v3: u64 = k1 ^ 0x7465646279746573;
  const full = len & ~7;
  // The last block: the remaining bytes, little-endian, with the length's low byte on top.
  let last: u64 = (<u64>len) << 56;
  for (let i: u32 = full; i < len; i++) last |= (<u64>load<u8>(ptr + i)) << ((<u64>(i - full)) << 3);
  // One compression round per 8-byte block, the last block included (c = 1).
  for (let i: u32 = 0; i <= full; i += 8) {
    const m = i < full ? load<u64>(ptr + i) : last;
    v3 ^= m;
    v0 += v1; v1 = rotl<u64>(v1, 13); v1 ^= v0; v0 = rotl<u64>(v0, 32);
    v2 += v3; v3 = rotl<u64>(v3, 16); v3 ^= v2;
    v0 += v3; v3 = rotl<u64>(v3, 21); v3 ^= v0;
    v2 += v1; v1 = rotl<u64>(v1, 17); v1 ^= v2; v2 = rotl<u64>(v2, 32);
    v0 ^= m;
  }
  // Three finalization rounds (d = 3).
  v2 ^= 0xff;
  for (let r = 0; r < 3; r++) {
    v0 += v1; v1 = rotl<u64>(v1, 13); v1 ^= v0; v0 = rotl<u64>(v0, 32);
    v2 += v3; v3 = rotl<u64>(v3, 16); v3 ^= v2;
    v0 += v3; v3 = rotl<u64>(v3, 21); v3 ^= v0;
    v2 += v1; v1 = rotl<u64>(v1, 17); v1 ^= v2; v2 = rotl<u64>(v2, 32);
  }
  return v0 ^ v1 ^ v2 ^ v3;
}

// ---------------------------------------------------------------------------------------------------------
// One side of a link.

const ENTRY_BYTES: usize = 16; // path offset, path length, digest offset, digest length (u32 each, into `bytes`)

/** The last few tables `loadSide` built, newest last: what a new side is compared with before building its own. */
const recent = new Array<Table>();
const RECENT: i32 = 4;

/** Bumped by `setSeed`: a table whose `epoch` is older was indexed under an old key. */
let seedEpoch: u32 = 0;

/**
 * What one side records: its entries, bytes and index. Immutable once built (only `setSeed` rebuilds the index,
 * the same for every holder), so every side of any link that records exactly the same artifacts (the same count,
 * and entry by entry byte-identical paths and stored digest dicts: see `sameTable`) holds one table, counted in
 * `refs` and freed with the last holder. In a chain, a step's materials are often the previous step's products.
 */
class Table {
  count: u32 = 0;
  entries: usize = 0;
  bytes: usize = 0;
  bytesLen: u32 = 0;
  /** (mask + 1) buckets of two u32: entry + 1 (0 = empty), and the hash's upper half to skip most compares. */
  index: usize = 0;
  mask: u32 = 0;
  epoch: u32 = 0;
  refs: u32 = 1;

  /** Builds the index over the entries under the current key (also after a new key). */
  buildIndex(): void {
    let cap: u32 = 8;
    while (cap < (this.count << 1)) cap <<= 1; // load factor at most 1/2: short probe runs
    if (this.index == 0 || this.mask + 1 != cap) {
      if (this.index != 0) heap.free(this.index);
      this.index = heap.alloc(<usize>cap << 3);
      this.mask = cap - 1;
    }
    memory.fill(this.index, 0, <usize>cap << 3);
    for (let i: u32 = 0; i < this.count; i++) {
      const entry = this.entries + <usize>i * ENTRY_BYTES;
      const h = sipHash(this.bytes + <usize>load<u32>(entry), load<u32>(entry + 4));
      let b = <u32>h & this.mask;
      while (true) {
        probes++;
        const at = this.index + (<usize>b << 3);
        if (load<u32>(at) == 0) {
          store<u32>(at, i + 1);
          store<u32>(at + 4, <u32>(h >> 32));
          break;
        }
        b = (b + 1) & this.mask;
      }
    }
    this.epoch = seedEpoch;
  }

  /** Drops one holder; the last one frees the buffers (and the table is no longer offered for sharing). */
  drop(): void {
    if (--this.refs != 0) return;
    if (this.entries != 0) heap.free(this.entries);
    if (this.bytes != 0) heap.free(this.bytes);
    if (this.index != 0) heap.free(this.index);
    this.entries = this.bytes = this.index = 0;
    this.count = 0;
    const at = recent.indexOf(this);
    if (at >= 0) recent.splice(at, 1);
  }
}

export class Side {
  table: Table = new Table();
  /** For each entry, 1 + the entry with the same path on the link's other side, or 0: built on first use. */
  partner: usize = 0;

  @inline get count(): u32 {
    return this.table.count;
  }
  @inline get bytesLen(): u32 {
    return this.table.bytesLen;
  }
  @inline pathPtr(i: u32): usize {
    const t = this.table;
    return t.bytes + <usize>load<u32>(t.entries + <usize>i * ENTRY_BYTES);
  }
  @inline pathLen(i: u32): u32 {
    return load<u32>(this.table.entries + <usize>i * ENTRY_BYTES + 4);
  }
  @inline digestPtr(i: u32): usize {
    const t = this.table;
    return t.bytes + <usize>load<u32>(t.entries + <usize>i * ENTRY_BYTES + 8);
  }
  @inline digestLen(i: u32): u32 {
    return load<u32>(this.table.entries + <usize>i * ENTRY_BYTES + 12);
  }

  /** The entry whose path is the `len` bytes at `ptr`, or -1. */
  find(ptr: usize, len: u32): i32 {
    const t = this.table;
    if (t.count == 0) return -1;
    const h = sipHash(ptr, len);
    const tag = <u32>(h >> 32);
    let b = <u32>h & t.mask;
    while (true) {
      probes++;
      const at = t.index + (<usize>b << 3);
      const e = load<u32>(at);
      if (e == 0) return -1;
      if (load<u32>(at + 4) == tag && compareBytes(<u32>this.pathPtr(e - 1), this.pathLen(e - 1), <u32>ptr, len) == 0) {
        return <i32>(e - 1);
      }
      b = (b + 1) & t.mask;
    }
  }

  /** Builds the index under the current key, once per key for a table several sides hold. */
  buildIndex(): void {
    if (this.table.index == 0 || this.table.epoch != seedEpoch) this.table.buildIndex();
  }

  /** Entry + 1 of the same path in `other` (the same link's other side), or 0. */
  partnerOf(i: u32, other: Side): u32 {
    if (this.partner == 0) {
      this.partner = heap.alloc(<usize>max<u32>(this.count, 1) << 2);
      // One table on both sides: every entry's partner is itself.
      const shared = other.table === this.table;
      for (let k: u32 = 0; k < this.count; k++) {
        store<u32>(this.partner + (<usize>k << 2), shared ? k + 1 : <u32>(other.find(this.pathPtr(k), this.pathLen(k)) + 1));
      }
    }
    return load<u32>(this.partner + (<usize>i << 2));
  }

  /** Makes this (empty, just made) side record what `from` records, by holding its table. */
  share(from: Table): void {
    this.table.drop();
    from.refs++;
    this.table = from;
  }

  copyFrom(from: Side): void {
    this.share(from.table);
  }

  release(): void {
    this.table.drop();
    this.table = new Table();
    if (this.partner != 0) heap.free(this.partner);
    this.partner = 0;
  }
}

export class Link {
  materials: Side = new Side();
  products: Side = new Side();

  release(): void {
    this.materials.release();
    this.products.release();
  }
}

/** Stored links by slot number; a freed slot is null and is reused by the next `storeLink`. */
const slots = new Array<Link | null>();

export function linkAt(slot: u32): Link | null {
  return slot < <u32>slots.length ? unchecked(slots[slot]) : null;
}

/** Freed slot numbers, reused last-freed first: placing a link costs the same however many are stored. */
const freeSlots = new Array<i32>();

export function place(link: Link): i32 {
  if (freeSlots.length > 0) {
    const i = freeSlots.pop();
    unchecked((slots[i] = link));
    return i;
  }
  slots.push(link);
  return slots.length - 1;
}

// ---------------------------------------------------------------------------------------------------------
// Loading a side from the tape.

/** in-toto's HASH_SCHEMA is securesystemslib's regex `[a-fA-F0-9]+$` used with `re.match`: `$` also matches
 *  before one final newline, so the reference accepts `"ab\n"` (a different digest from `"ab"`). */
function isHashValue(ptr: usize, len: u32): bool {
  let n = len;
  if (n >= 2 && load<u8>(ptr + n - 1) == 0x0a) n--;
  if (n == 0) return false;
  // Eight bytes at a time (a link holds hundreds of thousands of 64-character digests): every byte must be
  // ASCII, and a digit 0x30-0x39 as it is, or a letter 0x61-0x66 once lowercased (| 0x20). The digit test must
  // not lowercase: 0x10-0x19 | 0x20 are the digits, and control characters are no hex (the reference's
  // `[a-fA-F0-9]+`). Adding 0x80 - lo sets a byte's top bit exactly when the byte is >= lo, and no sum carries
  // into the next byte.
  let i: u32 = 0;
  for (; i + 8 <= n; i += 8) {
    const x = load<u64>(ptr + i);
    if ((x & 0x8080808080808080) != 0) return false;
    const y = x | 0x2020202020202020;
    const digit = (x + 0x5050505050505050) & ~(x + 0x4646464646464646);
    const letter = (y + 0x1f1f1f1f1f1f1f1f) & ~(y + 0x1919191919191919);
    if (((digit | letter) & 0x8080808080808080) != 0x8080808080808080) return false;
  }
  for (; i < n; i++) {
    const c = <u32>load<u8>(ptr + i);
    const lower = c | 0x20;
    if (!((c >= 0x30 && c <= 0x39) || (lower >= 0x61 && lower <= 0x66))) return false;
  }
  return true;
}

/** An upper bound of the canonical length of a validated hash dict: `{` `}` and per member `"k":"v",` with
 *  every key and value byte possibly escaped (two bytes). */
function dictBound(dict: u32): u64 {
  const members = word(dict, 1);
  let bound: u64 = 2;
  let k = dict + 1;
  for (let m: u32 = 0; m < members; m++) {
    bound += 6 + ((<u64>word(k, 2) + <u64>word(k + 1, 2)) << 1);
    k += 2;
  }
  return bound;
}

/** `sha256`, the one algorithm in-toto's tools record. */
const SHA256 = memory.data<u8>([0x73, 0x68, 0x61, 0x32, 0x35, 0x36]);
/** First byte of a compact digest dict; a canonical one starts with `{`. */
const COMPACT_SHA256: u8 = 0x01;
/** A compact digest dict: the tag, then the 32 bytes of `{"sha256": "<64 lowercase hex digits>"}`. */
const COMPACT_LEN: u32 = 33;

/**
 * Decodes 64 hex digits (already validated as such) at `src` into 32 bytes at `dst`, eight digits at a time;
 * false, with `dst` partly written, when one is an upper-case letter (`0`-`9` and `a`-`f` have bit 0x20 set,
 * `A`-`F` have not): such a digest is not compacted, since its dict differs from the lower-case one.
 */
function decodeLowerHex64(src: usize, dst: usize): bool {
  for (let i: usize = 0; i < 64; i += 8) {
    const x = load<u64>(src + i);
    if ((x & 0x2020202020202020) != 0x2020202020202020) return false;
    // Each digit's value: its low nibble, plus 9 for letters (0x6X: bit 6 set).
    const v = (x & 0x0f0f0f0f0f0f0f0f) + ((x >> 6) & 0x0101010101010101) * 9;
    // Digit pairs (little-endian: the high nibble first) into bytes 0, 2, 4 and 6 of w.
    const w = ((v << 4) & 0xf0f0f0f0f0f0f0f0) | ((v >> 8) & 0x000f000f000f000f);
    const out = dst + (i >> 1);
    store<u8>(out, <u8>w);
    store<u8>(out + 1, <u8>(w >> 16));
    store<u8>(out + 2, <u8>(w >> 32));
    store<u8>(out + 3, <u8>(w >> 48));
  }
  return true;
}

/**
 * Writes a validated hash dict at `dst` and returns its length. The dict the tools record,
 * `{"sha256": "<64 lowercase hex>"}`, is stored compact (a tag byte and the 32 digest bytes: 33 bytes instead
 * of 77; a link of 100,000 artifacts per side holds 9 MB less); any other dict as its canonical JSON, what
 * canonical.ts writes for it. Both forms are one-to-one and cannot be confused (a canonical dict starts with
 * `{`), so two dicts are equal exactly when their stored bytes are, as rules and link comparison need.
 */
function writeDigest(dict: u32, dst: usize): u32 {
  const members = word(dict, 1);
  const order = word(dict, 3);
  if (members == 1) {
    const k = dict + 1;
    const v = k + 1;
    const vPtr = word(v, 1);
    if (word(k, 2) == 6 && word(v, 2) == 64 && memory.compare(word(k, 1), SHA256, 6) == 0 && decodeLowerHex64(vPtr, dst + 1)) {
      store<u8>(dst, COMPACT_SHA256);
      return COMPACT_LEN;
    }
  }
  let p = dst;
  store<u8>(p++, 0x7b);
  let walk = dict + 1;
  for (let m: u32 = 0; m < members; m++) {
    const key = order == NATURAL ? walk : orders.get(order + m);
    if (m > 0) store<u8>(p++, 0x2c);
    store<u8>(p++, 0x22);
    const kPtr = word(key, 1);
    const kLen = word(key, 2);
    if ((tape.get(key << 2) & F_NEEDS_ESCAPE) == 0) {
      memory.copy(p, kPtr, kLen);
      p += kLen;
    } else {
      for (let i: u32 = 0; i < kLen; i++) {
        const c = load<u8>(kPtr + i);
        if (c == 0x22 || c == 0x5c) store<u8>(p++, 0x5c);
        store<u8>(p++, c);
      }
    }
    store<u32>(p, 0x223a22); // `":"` (and a zero byte overwritten next)
    p += 3;
    const value = key + 1;
    memory.copy(p, word(value, 1), word(value, 2));
    p += word(value, 2);
    store<u8>(p++, 0x22);
    walk += 2;
  }
  store<u8>(p++, 0x7d);
  return <u32>(p - dst);
}

const HEX = memory.data<u8>([0x30, 0x31, 0x32, 0x33, 0x34, 0x35, 0x36, 0x37, 0x38, 0x39, 0x61, 0x62, 0x63, 0x64, 0x65, 0x66]);
/** `{"sha256":"`, what a compact digest dict is written out with. */
const SHA256_OPEN = memory.data<u8>([0x7b, 0x22, 0x73, 0x68, 0x61, 0x32, 0x35, 0x36, 0x22, 0x3a, 0x22]);

/** Writes the compact digest dict at `d` as its canonical JSON `{"sha256":"<hex>"}` (77 bytes). */
function writeCompactDigest(d: usize): void {
  for (let k: usize = 0; k < 11; k++) putByte(load<u8>(SHA256_OPEN + k));
  for (let k: usize = 1; k <= 32; k++) {
    const b = <u32>load<u8>(d + k);
    putByte(load<u8>(HEX + (b >> 4)));
    putByte(load<u8>(HEX + (b & 0xf)));
  }
  putByte(0x22);
  putByte(0x7d);
}

function failAt(code: i32, keyNode: u32): i32 {
  // The parser's offset export reports where in the input the problem is: the artifact's (or field's) key.
  errorOffset = word(keyNode, 3);
  return code;
}

/** The key node of member i (in sorted order) of object `obj` whose member walk is at `key`. */
@inline function memberKey(obj: u32, i: u32, key: u32): u32 {
  const order = word(obj, 3);
  return order == NATURAL ? key : orders.get(order + i);
}

/**
 * Fills `side` from the object node `obj` (or leaves it empty when `obj` is 0: the member is absent, which
 * the reference reads as `{}`). Every value must be a HASHDICT: an object of hex strings.
 */
function loadSide(side: Side, obj: u32): i32 {
  if (obj == 0) {
    side.buildIndex();
    return OK;
  }
  if (kindOf(obj) != K_OBJECT) return failAt(E_ARTIFACTS, obj - 1);
  const count = word(obj, 1);
  // First pass: validate, and size the buffer exactly (canonical digest length bounded from the tape).
  let bound: u64 = 0;
  let walk = obj + 1;
  for (let i: u32 = 0; i < count; i++) {
    const value = walk + 1;
    if (kindOf(value) != K_OBJECT) return failAt(E_ARTIFACTS, walk);
    const members = word(value, 1);
    let k = value + 1;
    for (let m: u32 = 0; m < members; m++) {
      const v = k + 1;
      if (kindOf(v) != K_STRING || !isHashValue(word(v, 1), word(v, 2))) return failAt(E_ARTIFACTS, k);
      k = v + 1;
    }
    bound += <u64>word(walk, 2) + dictBound(value);
    walk = skip(value);
  }
  if (bound > 0x7fff0000) abort('artifact table larger than 2 GiB');
  // A table already built with exactly these entries is shared rather than built again.
  for (let r = recent.length - 1; r >= 0; r--) {
    const t = unchecked(recent[r]);
    if (sameTable(t, obj, count)) {
      side.share(t);
      side.buildIndex();
      return OK;
    }
  }
  const t = side.table;
  t.count = count;
  t.entries = heap.alloc(max<usize>(<usize>count * ENTRY_BYTES, 8));
  t.bytes = heap.alloc(max<usize>(<usize>bound, 8));
  let used: u32 = 0;
  walk = obj + 1;
  for (let i: u32 = 0; i < count; i++) {
    const key = memberKey(obj, i, walk);
    const value = key + 1;
    const pathLen = word(key, 2);
    memory.copy(t.bytes + used, word(key, 1), pathLen);
    const entry = t.entries + <usize>i * ENTRY_BYTES;
    store<u32>(entry, used);
    store<u32>(entry + 4, pathLen);
    used += pathLen;
    const digestLen = writeDigest(value, t.bytes + used);
    store<u32>(entry + 8, used);
    store<u32>(entry + 12, digestLen);
    used += digestLen;
    walk = skip(walk + 1);
  }
  // Give back what the bound over-estimated (TLSF shrinks in place).
  t.bytes = heap.realloc(t.bytes, max<usize>(used, 8));
  t.bytesLen = used;
  side.buildIndex();
  remember(t);
  return OK;
}

/** Offers a table just built for sharing (an empty one is not worth it). */
function remember(t: Table): void {
  if (t.count == 0) return;
  if (recent.length >= RECENT) recent.shift();
  recent.push(t);
}

/** Where `sameTable` writes each digest dict as `loadSide` would store it. */
const scratch = new Region();

/**
 * Whether table `t` holds exactly what `loadSide` would build from the validated object `obj` of `count`
 * members: the same count and, entry by entry in the same (sorted) order, the same path bytes and the same
 * stored digest dict bytes (`writeDigest`'s output, which names the algorithm: the compact form is a lower-case
 * sha256 only). Then every lookup and comparison gives the same answer on the shared table as on a new one.
 */
function sameTable(t: Table, obj: u32, count: u32): bool {
  if (t.count != count) return false;
  let walk = obj + 1;
  for (let i: u32 = 0; i < count; i++) {
    const key = memberKey(obj, i, walk);
    const value = key + 1;
    const entry = t.entries + <usize>i * ENTRY_BYTES;
    const pathLen = word(key, 2);
    if (load<u32>(entry + 4) != pathLen || memory.compare(t.bytes + <usize>load<u32>(entry), word(key, 1), pathLen) != 0) return false;
    const at = scratch.ensure(<usize>dictBound(value));
    const digestLen = writeDigest(value, at);
    if (load<u32>(entry + 12) != digestLen || memory.compare(t.bytes + <usize>load<u32>(entry + 8), at, digestLen) != 0) return false;
    walk = skip(walk + 1);
  }
  return true;
}

/**
 * Writes the members of the validated digest dict `dict` whose algorithm a verifier accepts (`digests.ts`), as
 * `writeDigest` writes a whole dict: compact when only a lower-case sha256 is left, else canonical JSON. The
 * accepted algorithms' names and digests are plain ASCII (lower-case hex), so nothing needs escaping.
 */
function writeAcceptedDigest(dict: u32, dst: usize): u32 {
  const members = word(dict, 1);
  const order = word(dict, 3);
  let kept: u32 = 0;
  let only: u32 = 0;
  let walk = dict + 1;
  for (let m: u32 = 0; m < members; m++) {
    if ((word(walk, 2) == 6 && memory.compare(word(walk, 1), SHA256, 6) == 0) || isAccepted(word(walk, 1), word(walk, 2))) {
      kept++;
      only = walk;
    }
    walk += 2;
  }
  if (kept == 1 && word(only, 2) == 6 && word(only + 1, 2) == 64 && memory.compare(word(only, 1), SHA256, 6) == 0 && decodeLowerHex64(word(only + 1, 1), dst + 1)) {
    store<u8>(dst, COMPACT_SHA256);
    return COMPACT_LEN;
  }
  let p = dst;
  store<u8>(p++, 0x7b);
  walk = dict + 1;
  let written: u32 = 0;
  for (let m: u32 = 0; m < members; m++) {
    const key = order == NATURAL ? walk : orders.get(order + m);
    walk += 2;
    if (!isAccepted(word(key, 1), word(key, 2))) continue;
    if (written++ > 0) store<u8>(p++, 0x2c);
    store<u8>(p++, 0x22);
    memory.copy(p, word(key, 1), word(key, 2));
    p += word(key, 2);
    store<u32>(p, 0x223a22); // `":"`
    p += 3;
    memory.copy(p, word(key + 1, 1), word(key + 1, 2));
    p += word(key + 1, 2);
    store<u8>(p++, 0x22);
  }
  store<u8>(p++, 0x7d);
  return <u32>(p - dst);
}

/**
 * Fills `side` from `count` checked ResourceDescriptors (statement.ts): `names` holds four words per descriptor,
 * `[0, name pointer, name length, digest dict node]` (the shape of a key node, which `sortKeys` reads), and
 * `order`, from `at`, their indices sorted by name, names distinct. Each digest keeps its accepted algorithms only.
 */
export function loadDescriptorSide(side: Side, names: Words, order: Words, at: u32, count: u32): void {
  let bound: u64 = 0;
  for (let i: u32 = 0; i < count; i++) {
    const d = order.get(at + i) << 2;
    bound += <u64>names.get(d + 2) + dictBound(names.get(d + 3));
  }
  if (bound > 0x7fff0000) abort('artifact table larger than 2 GiB');
  // As in `loadSide`: a table already built with exactly these entries (by either) is shared.
  for (let r = recent.length - 1; r >= 0; r--) {
    const t = unchecked(recent[r]);
    if (sameDescriptors(t, names, order, at, count)) {
      side.share(t);
      side.buildIndex();
      return;
    }
  }
  const t = side.table;
  t.count = count;
  t.entries = heap.alloc(max<usize>(<usize>count * ENTRY_BYTES, 8));
  t.bytes = heap.alloc(max<usize>(<usize>bound, 8));
  let used: u32 = 0;
  for (let i: u32 = 0; i < count; i++) {
    const d = order.get(at + i) << 2;
    const pathLen = names.get(d + 2);
    memory.copy(t.bytes + used, names.get(d + 1), pathLen);
    const entry = t.entries + <usize>i * ENTRY_BYTES;
    store<u32>(entry, used);
    store<u32>(entry + 4, pathLen);
    used += pathLen;
    const digestLen = writeAcceptedDigest(names.get(d + 3), t.bytes + used);
    store<u32>(entry + 8, used);
    store<u32>(entry + 12, digestLen);
    used += digestLen;
  }
  t.bytes = heap.realloc(t.bytes, max<usize>(used, 8));
  t.bytesLen = used;
  side.buildIndex();
  remember(t);
}

/**
 * `sameTable` for descriptors: whether table `t` holds exactly what `loadDescriptorSide` would build from them (the
 * same count and, entry by entry in name order, the same name bytes and the same stored digest bytes).
 */
function sameDescriptors(t: Table, names: Words, order: Words, at: u32, count: u32): bool {
  if (t.count != count) return false;
  for (let i: u32 = 0; i < count; i++) {
    const d = order.get(at + i) << 2;
    const entry = t.entries + <usize>i * ENTRY_BYTES;
    const pathLen = names.get(d + 2);
    if (load<u32>(entry + 4) != pathLen || memory.compare(t.bytes + <usize>load<u32>(entry), names.get(d + 1), pathLen) != 0) return false;
    const dst = scratch.ensure(<usize>dictBound(names.get(d + 3)));
    const digestLen = writeAcceptedDigest(names.get(d + 3), dst);
    if (load<u32>(entry + 12) != digestLen || memory.compare(t.bytes + <usize>load<u32>(entry + 8), dst, digestLen) != 0) return false;
  }
  return true;
}

export function isSeeded(): bool {
  return seeded;
}

const MATERIALS = memory.data<u8>([0x6d, 0x61, 0x74, 0x65, 0x72, 0x69, 0x61, 0x6c, 0x73]);
const PRODUCTS = memory.data<u8>([0x70, 0x72, 0x6f, 0x64, 0x75, 0x63, 0x74, 0x73]);
const SIGNED = memory.data<u8>([0x73, 0x69, 0x67, 0x6e, 0x65, 0x64]);

/**
 * Parses the document in the input region and stores its artifact tables. Returns the slot number (>= 0)
 * or a negated error code.
 */
export function storeLink(len: u32, select: u32): i32 {
  if (!seeded) return -E_NO_SEED;
  const code = parse(len);
  if (code != OK) return -code;
  let root: u32 = 0;
  if (kindOf(0) != K_OBJECT) return -E_NOT_AN_OBJECT;
  if (select == 1) {
    const found = findMember(0, SIGNED, 6);
    if (found < 0) return -E_MISSING_MEMBER;
    root = <u32>found;
    if (kindOf(root) != K_OBJECT) return -failAt(E_NOT_AN_OBJECT, root - 1);
  }
  return storeParsed(root);
}

/**
 * Stores the artifact tables of the already parsed link object `root`, refusing a side with more than
 * `maxArtifacts` entries before building anything. Returns the slot or a negated code.
 */
export function storeParsed(root: u32, maxArtifacts: u32 = 0xffffffff): i32 {
  if (!seeded) return -E_NO_SEED;
  const m = findMember(root, MATERIALS, 9);
  const p = findMember(root, PRODUCTS, 8);
  if (m >= 0 && kindOf(<u32>m) == K_OBJECT && word(<u32>m, 1) > maxArtifacts) return -failAt(E_TOO_MANY_ARTIFACTS, <u32>m - 1);
  if (p >= 0 && kindOf(<u32>p) == K_OBJECT && word(<u32>p, 1) > maxArtifacts) return -failAt(E_TOO_MANY_ARTIFACTS, <u32>p - 1);
  const link = new Link();
  let e = loadSide(link.materials, m < 0 ? 0 : <u32>m);
  if (e == OK) e = loadSide(link.products, p < 0 ? 0 : <u32>p);
  if (e != OK) {
    link.release();
    return -e;
  }
  return place(link);
}

/**
 * Writes one side of a stored link (0 materials, 1 products) as a plain JSON object into `region`:
 * `{"path": {digests}, ...}`, paths and digest dicts escaped so that any JSON parser reads them.
 * Returns the byte count, or a negated error code.
 */
export function writeSideJson(slot: u32, which: u32, region: Region): i64 {
  const link = linkAt(slot);
  if (link === null) return -E_NO_SLOT;
  const side = which == 0 ? link.materials : link.products;
  // Worst case per entry: every path byte a control character (6 bytes each), the digest likewise, plus
  // quotes, colon and comma.
  let bound: usize = 2;
  for (let i: u32 = 0; i < side.count; i++) bound += (<usize>side.pathLen(i) + <usize>side.digestLen(i)) * 6 + 4;
  beginAt(region.ensure(bound));
  putByte(0x7b);
  for (let i: u32 = 0; i < side.count; i++) {
    if (i > 0) putByte(0x2c);
    putByte(0x22);
    writeStringBody(side.pathPtr(i), side.pathLen(i), true);
    putByte(0x22);
    putByte(0x3a);
    // The digest dict is compact (written out in full here) or canonical JSON: control bytes occur only
    // inside its strings, where escaping them keeps the meaning and makes it plain JSON.
    const d = side.digestPtr(i);
    const n = side.digestLen(i);
    if (n == COMPACT_LEN && load<u8>(d) == COMPACT_SHA256) {
      writeCompactDigest(d);
      continue;
    }
    for (let k: u32 = 0; k < n; k++) {
      const c = load<u8>(d + k);
      if (c < 0x20) writeStringBody(d + k, 1, true);
      else putByte(c);
    }
  }
  putByte(0x7d);
  return <i64>(cursor() - region.ptr);
}

export function freeLink(slot: u32): i32 {
  const link = linkAt(slot);
  if (link === null) return E_NO_SLOT;
  link.release();
  unchecked((slots[slot] = null));
  freeSlots.push(<i32>slot);
  return OK;
}

export function resetLinks(): void {
  for (let i = 0; i < slots.length; i++) {
    const link = unchecked(slots[i]);
    if (link !== null) link.release();
  }
  slots.length = 0;
  freeSlots.length = 0;
}

/** A new link with `a`'s materials and `b`'s products (a sublayout's summary link). */
export function composeLink(a: u32, b: u32): i32 {
  const from = linkAt(a);
  const to = linkAt(b);
  if (from === null || to === null) return -E_NO_SLOT;
  const link = new Link();
  link.materials.copyFrom(from.materials);
  link.products.copyFrom(to.products);
  return place(link);
}

function sidesEqual(a: Side, b: Side): bool {
  if (a.count != b.count) return false;
  // Both sides are sorted by path with no duplicates, so equal dicts have equal entries at equal positions.
  for (let i: u32 = 0; i < a.count; i++) {
    if (compareBytes(<u32>a.pathPtr(i), a.pathLen(i), <u32>b.pathPtr(i), b.pathLen(i)) != 0) return false;
    if (compareBytes(<u32>a.digestPtr(i), a.digestLen(i), <u32>b.digestPtr(i), b.digestLen(i)) != 0) return false;
  }
  return true;
}

/** 1 when two links record equal materials and equal products (python's dict equality), 0 if not, or -code. */
export function linksEqual(a: u32, b: u32): i32 {
  const x = linkAt(a);
  const y = linkAt(b);
  if (x === null || y === null) return -E_NO_SLOT;
  return sidesEqual(x.materials, y.materials) && sidesEqual(x.products, y.products) ? 1 : 0;
}

/** Sets the SipHash key and re-indexes every stored link under it. */
export function setSeed(a: u32, b: u32, c: u32, d: u32): void {
  k0 = (<u64>b << 32) | <u64>a;
  k1 = (<u64>d << 32) | <u64>c;
  seeded = true;
  seedEpoch++;
  for (let i = 0; i < slots.length; i++) {
    const link = unchecked(slots[i]);
    if (link !== null) {
      link.materials.buildIndex();
      link.products.buildIndex();
    }
  }
}
