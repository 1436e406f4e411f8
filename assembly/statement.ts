// Link attestations read in one call (docs/ABI.md, "Link attestations"): a DSSE envelope whose payload is an in-toto
// Statement (v1 or v0.1) with a link v0.3 predicate becomes what a classic link gives the host, without the
// payload ever crossing into the host as text:
//   - the signed bytes, PAE(payloadType, payload), in the output region (the payload decoded from base64 there);
//   - the artifact tables in a new slot: products from `subject`, materials from `predicate.materials`, each
//     ResourceDescriptor's `name` the path and its digest reduced to the algorithms a verifier accepts;
//   - in the aux region, the envelope with `"payload": ""`, then the Statement's own bytes with the contents of
//     `subject` and `predicate.materials` cut out (`[]`), for the host to read the small rest as ordinary JSON.
//
// This is a fast path, not a second authority: the host's reader (bindings/attestation/) defines what is valid.
// Every descriptor is checked here as that reader checks it (and as the conversion to a classic link needs), and
// anything this reader does not take as it is (a malformed envelope or Statement, another predicate, a duplicate
// name, an unaccepted digest, too many artifacts) returns E_NOT_LINK_ATTESTATION: the host then reads the
// envelope its general way and reports the exact reason. So the engine may decline more than the host refuses,
// never accept what the host refuses.

import { OK, E_NOT_LINK_ATTESTATION } from './errors';
import { Region, Words } from './buffers';
import {
  input, parse, setFractions, findMember, kindOf, word, skip, tape, K_OBJECT, K_ARRAY, K_STRING,
} from './json';
import { output } from './canonical';
import { sortKeys, compareBytes } from './sort';
import { Link, loadDescriptorSide, place, isSeeded } from './artifacts';
import { knownAlgorithm, isKnownDigest } from './digests';

class Name {
  readonly ptr: usize;
  readonly len: u32;
  constructor(readonly bytes: ArrayBuffer) {
    this.ptr = changetype<usize>(bytes);
    this.len = <u32>bytes.byteLength;
  }
}
function name(s: string): Name {
  return new Name(String.UTF8.encode(s));
}

const PAYLOAD = name('payload');
const PAYLOAD_TYPE = name('payloadType');
const TYPE = name('_type');
const STATEMENT_V1 = name('https://in-toto.io/Statement/v1');
const STATEMENT_V01 = name('https://in-toto.io/Statement/v0.1');
const PREDICATE_TYPE = name('predicateType');
const LINK_V03 = name('https://in-toto.io/attestation/link/v0.3');
const PREDICATE = name('predicate');
const SUBJECT = name('subject');
const MATERIALS = name('materials');
const NAME = name('name');
const URI = name('uri');
const DIGEST = name('digest');
const CONTENT = name('content');
const DOWNLOAD_LOCATION = name('downloadLocation');
const MEDIA_TYPE = name('mediaType');
const ANNOTATIONS = name('annotations');
const PAE_PREFIX = name('DSSEv1 ');

@inline function is(node: u32, n: Name): bool {
  return word(node, 2) == n.len && memory.compare(word(node, 1), n.ptr, n.len) == 0;
}

function member(obj: u32, n: Name): u32 {
  const found = findMember(obj, n.ptr, n.len);
  return found < 0 ? 0 : <u32>found;
}

// ---------------------------------------------------------------------------------------------------------
// Base64, standard or URL-safe, padded or not, unused trailing bits zero: what bindings/encoding.ts fromBase64
// takes (one spelling per byte string), four characters at a time.

const B64 = memory.data(256);
for (let i = 0; i < 256; i++) store<u8>(B64 + i, 255);
for (let i = 0; i < 26; i++) {
  store<u8>(B64 + 0x41 + i, <u8>i);
  store<u8>(B64 + 0x61 + i, <u8>(26 + i));
}
for (let i = 0; i < 10; i++) store<u8>(B64 + 0x30 + i, <u8>(52 + i));
store<u8>(B64 + 0x2b, 62);
store<u8>(B64 + 0x2f, 63);
store<u8>(B64 + 0x2d, 62);
store<u8>(B64 + 0x5f, 63);

/** The characters of base64 text `len` bytes long without its padding, or -1 when the padding is wrong. */
function base64Body(src: usize, len: u32): i64 {
  let body = len;
  if (len >= 2 && load<u8>(src + len - 1) == 0x3d && load<u8>(src + len - 2) == 0x3d) body = len - 2;
  else if (len >= 1 && load<u8>(src + len - 1) == 0x3d) body = len - 1;
  if ((body & 3) == 1 || (body != len && (len & 3) != 0)) return -1;
  return body;
}

/** The 12 bits of each pair of base64 characters (indexed by the two bytes, little-endian), 0x8000 when either is not base64. Made at first use. */
let pairs: usize = 0;
function pairTable(): usize {
  if (pairs == 0) {
    pairs = heap.alloc(65536 << 1);
    for (let i: u32 = 0; i < 65536; i++) {
      const a = <u32>load<u8>(B64 + (i & 0xff));
      const b = <u32>load<u8>(B64 + (i >> 8));
      store<u16>(pairs + (<usize>i << 1), <u16>(((a | b) & 0x80) != 0 ? 0x8000 : (a << 6) | b));
    }
  }
  return pairs;
}

/**
 * Decodes `body` characters of base64 at `src` (to `dst` when `write`); false when one is not base64. Whole
 * groups are written four bytes at a time (the fourth overwritten by the next group): `dst` must have 1 byte of
 * room past the decoded length, which the regions' padding gives.
 */
function base64Decode(src: usize, body: u32, dst: usize, write: bool): bool {
  const full = body & ~3;
  const table = pairTable();
  let o = dst;
  for (let i: u32 = 0; i < full; i += 4) {
    const x = load<u32>(src + i);
    const hi = <u32>load<u16>(table + ((<usize>x & 0xffff) << 1));
    const lo = <u32>load<u16>(table + (<usize>(x >> 16) << 1));
    if (((hi | lo) & 0x8000) != 0) return false;
    if (write) {
      const n = (hi << 12) | lo;
      store<u32>(o, ((n >> 16) & 0xff) | (n & 0xff00) | ((n & 0xff) << 16));
      o += 3;
    }
  }
  const rest = body - full;
  if (rest == 0) return true;
  const a = <u32>load<u8>(B64 + <usize>load<u8>(src + full));
  const b = <u32>load<u8>(B64 + <usize>load<u8>(src + full + 1));
  const c = rest == 3 ? <u32>load<u8>(B64 + <usize>load<u8>(src + full + 2)) : 0;
  if (((a | b | c) & 0x80) != 0) return false;
  if (rest == 2) {
    const n = (a << 6) | b;
    if ((n & 0xf) != 0) return false;
    if (write) store<u8>(o, <u8>(n >> 4));
  } else {
    const n = (a << 12) | (b << 6) | c;
    if ((n & 0x3) != 0) return false;
    if (write) {
      store<u8>(o, <u8>(n >> 10));
      store<u8>(o + 1, <u8>(n >> 2));
    }
  }
  return true;
}

// ---------------------------------------------------------------------------------------------------------
// ResourceDescriptors.

/** Whether the key node `key` is `sha256`. */
@inline function isSha256(key: u32): bool {
  const p = <usize>word(key, 1);
  return word(key, 2) == 6 && load<u32>(p) == 0x32616873 && load<u16>(p + 4) == 0x3635; // "sha2" "56"
}

/** Whether the 64 bytes at `p` are lower-case hex digits, eight at a time. */
function isLowerHex64(p: usize): bool {
  for (let i: usize = 0; i < 64; i += 8) {
    const x = load<u64>(p + i);
    if ((x & 0x8080808080808080) != 0) return false;
    // A byte is a digit when 0x30 <= b <= 0x39, a letter when 0x61 <= b <= 0x66 (adding 0x80 - lo sets the top
    // bit exactly when b >= lo, no sum carrying into the next byte).
    const digit = (x + 0x5050505050505050) & ~(x + 0x4646464646464646);
    const letter = (x + 0x1f1f1f1f1f1f1f1f) & ~(x + 0x1919191919191919);
    if (((digit | letter) & 0x8080808080808080) != 0x8080808080808080) return false;
  }
  return true;
}

/** Four words per descriptor read: [0, name pointer, name length, digest node] (see loadDescriptorSide). */
const names = new Words();
const order = new Words();

/** Whether `dict` is a DigestSet with at least one accepted algorithm: strings, known algorithms lower-case hex of their length. */
function checkDigest(dict: u32): bool {
  const members = word(dict, 1);
  let accepted = false;
  let key = dict + 1;
  for (let m: u32 = 0; m < members; m++) {
    const value = key + 1;
    if (kindOf(value) != K_STRING) return false;
    // The common case first: a sha256 digest, 64 lower-case hex digits.
    if (isSha256(key)) {
      if (word(value, 2) != 64 || !isLowerHex64(word(value, 1))) return false;
      accepted = true;
      key = value + 1;
      continue;
    }
    const a = knownAlgorithm(word(key, 1), word(key, 2));
    if (a !== null) {
      if (!isKnownDigest(a, word(value, 1), word(value, 2))) return false;
      if (a.accepted) accepted = true;
    }
    key = value + 1;
  }
  return accepted;
}

/**
 * Checks the ResourceDescriptor `rd` as the host's readResourceDescriptor does and as a classic artifact needs
 * (a non-empty name, a digest by an accepted algorithm), and records it in `names`. False: not read here.
 */
function readDescriptor(rd: u32): bool {
  if (kindOf(rd) != K_OBJECT) return false;
  const count = word(rd, 1);
  let key = rd + 1;
  let nameNode: u32 = 0;
  let digest: u32 = 0;
  for (let i: u32 = 0; i < count; i++) {
    const value = key + 1;
    const k = kindOf(value);
    if (is(key, NAME)) {
      if (k != K_STRING) return false;
      nameNode = value;
    } else if (is(key, URI) || is(key, DOWNLOAD_LOCATION) || is(key, MEDIA_TYPE)) {
      if (k != K_STRING) return false;
    } else if (is(key, DIGEST)) {
      if (k != K_OBJECT || !checkDigest(value)) return false;
      digest = value;
    } else if (is(key, CONTENT)) {
      if (k != K_STRING) return false;
      const body = base64Body(word(value, 1), word(value, 2));
      if (body < 0 || !base64Decode(word(value, 1), <u32>body, 0, false)) return false;
    } else if (is(key, ANNOTATIONS)) {
      if (k != K_OBJECT) return false;
    }
    key = skip(value);
  }
  if (nameNode == 0 || word(nameNode, 2) == 0 || digest == 0) return false;
  const at = names.grow(4);
  names.set(at, 0);
  names.set(at + 1, word(nameNode, 1));
  names.set(at + 2, word(nameNode, 2));
  names.set(at + 3, digest);
  return true;
}

/** Reads the descriptors of `list` (an array node) into `names` and sorts their indices into `order`; false on a duplicate name. */
function readDescriptors(list: u32): bool {
  const first = names.len >> 2;
  const count = word(list, 1);
  // Room for all of them at once (no copies while growing).
  names.grow(count << 2);
  names.len = first << 2;
  let rd = list + 1;
  for (let i: u32 = 0; i < count; i++) {
    if (!readDescriptor(rd)) return false;
    rd = skip(rd);
  }
  const at = order.grow(count);
  for (let i: u32 = 0; i < count; i++) order.set(at + i, first + i);
  // Writers list descriptors sorted by name (as a classic link's keys are): strictly increasing names need no
  // sort and hold no duplicate.
  for (let i: u32 = 1; i < count; i++) {
    const a = (first + i - 1) << 2;
    const b = (first + i) << 2;
    if (compareBytes(names.get(a + 1), names.get(a + 2), names.get(b + 1), names.get(b + 2)) >= 0) return sortDistinct(at, count);
  }
  return true;
}

/** Sorts the `count` indices of `order` from `at` by name; false when two names are equal. */
function sortDistinct(at: u32, count: u32): bool {
  sortKeys(names, order, at, count);
  for (let i: u32 = 1; i < count; i++) {
    const a = order.get(at + i - 1) << 2;
    const b = order.get(at + i) << 2;
    if (compareBytes(names.get(a + 1), names.get(a + 2), names.get(b + 1), names.get(b + 2)) == 0) return false;
  }
  return true;
}

// ---------------------------------------------------------------------------------------------------------

/** The input offset of the `[` of the array that is the value of the member whose key node is `key`. */
function arrayOpen(key: u32): u32 {
  let p = input.ptr + <usize>word(key, 3) + 1;
  // Past the key string (its escapes included), the colon and whitespace.
  while (load<u8>(p) != 0x22) p += load<u8>(p) == 0x5c ? 2 : 1;
  p++;
  while (load<u8>(p) != 0x5b) p++;
  return <u32>(p - input.ptr);
}

/** The input offset of the closing quote of the string node `s` whose opening quote is at input offset `q`. */
function stringClose(s: u32, q: u32): u32 {
  const start = input.ptr + <usize>q + 1;
  // Unescaped strings point into the input: the bytes are the text.
  if (<usize>word(s, 1) == start) return q + 1 + word(s, 2);
  let p = start;
  while (load<u8>(p) != 0x22) p += load<u8>(p) == 0x5c ? 2 : 1;
  return <u32>(p - input.ptr);
}

function writeDecimal(p: usize, n: u32): usize {
  let digits: u32 = 1;
  for (let t = n; t >= 10; t /= 10) digits++;
  for (let i = digits; i > 0; i--) {
    store<u8>(p + i - 1, <u8>(0x30 + n % 10));
    n /= 10;
  }
  return p + digits;
}

/** After the last successful read: the length of the lean envelope at the start of aux, of everything in aux,
 *  and of the signed bytes in the output region. */
export let envelopeLength: u32 = 0;
export let auxLength: u32 = 0;
export let paeLength: u32 = 0;

/**
 * Reads the DSSE envelope already parsed from `input[0, len)` (root object 0) as a link attestation. Returns the
 * new slot, or -E_NOT_LINK_ATTESTATION (the host reads it the general way). Output and aux as above; returns the
 * total aux length through `auxLength`.
 */
export function readLinkAttestation(len: u32, maxArtifacts: u32, aux: Region): i32 {
  envelopeLength = 0;
  auxLength = 0;
  if (!isSeeded()) return -E_NOT_LINK_ATTESTATION;
  const payload = member(0, PAYLOAD);
  const payloadType = member(0, PAYLOAD_TYPE);
  if (payload == 0 || payloadType == 0 || kindOf(payload) != K_STRING || kindOf(payloadType) != K_STRING) return -E_NOT_LINK_ATTESTATION;
  const text = word(payload, 1);
  const body = base64Body(text, word(payload, 2));
  if (body < 0) return -E_NOT_LINK_ATTESTATION;
  const payloadLen = <u32>((body * 3) >> 2);

  // The signed bytes: "DSSEv1" SP LEN(type) SP type SP LEN(body) SP body, the payload decoded in place.
  const typeLen = word(payloadType, 2);
  const head = <usize>PAE_PREFIX.len + 10 + 1 + <usize>typeLen + 1 + 10 + 1;
  const out = output.ensure(head + <usize>payloadLen);
  memory.copy(out, PAE_PREFIX.ptr, PAE_PREFIX.len);
  let p = writeDecimal(out + PAE_PREFIX.len, typeLen);
  store<u8>(p++, 0x20);
  memory.copy(p, word(payloadType, 1), typeLen);
  p += typeLen;
  store<u8>(p++, 0x20);
  p = writeDecimal(p, payloadLen);
  store<u8>(p++, 0x20);
  const payloadAt = p;
  if (!base64Decode(text, <u32>body, payloadAt, true)) return -E_NOT_LINK_ATTESTATION;
  paeLength = <u32>(payloadAt - out) + payloadLen;

  // The envelope without its payload.
  const quote = word(payload, 3);
  const close = stringClose(payload, quote);
  const lean = aux.ensure(<usize>len - <usize>(close - quote - 1));
  memory.copy(lean, input.ptr, quote + 1);
  memory.copy(lean + quote + 1, input.ptr + close, len - close);
  const envLen = quote + 1 + len - close;

  // The Statement, parsed as ordinary JSON (attestation payloads are not canonical JSON).
  input.ensure(payloadLen);
  memory.copy(input.ptr, payloadAt, payloadLen);
  // The tape grown to its likely size at once (a node per 16 bytes or so of a Statement), not by doubling copies.
  tape.grow(payloadLen >> 2);
  tape.reset();
  setFractions(true);
  const code = parse(payloadLen);
  setFractions(false);
  if (code != OK || kindOf(0) != K_OBJECT) return -E_NOT_LINK_ATTESTATION;
  const type = member(0, TYPE);
  if (type == 0 || kindOf(type) != K_STRING || !(is(type, STATEMENT_V1) || is(type, STATEMENT_V01))) return -E_NOT_LINK_ATTESTATION;
  const predicateType = member(0, PREDICATE_TYPE);
  if (predicateType == 0 || kindOf(predicateType) != K_STRING || !is(predicateType, LINK_V03)) return -E_NOT_LINK_ATTESTATION;
  const predicate = member(0, PREDICATE);
  if (predicate == 0 || kindOf(predicate) != K_OBJECT) return -E_NOT_LINK_ATTESTATION;
  const subject = member(0, SUBJECT);
  if (subject == 0 || kindOf(subject) != K_ARRAY || word(subject, 1) == 0 || word(subject, 1) > maxArtifacts) return -E_NOT_LINK_ATTESTATION;
  const materials = member(predicate, MATERIALS);
  if (materials != 0 && (kindOf(materials) != K_ARRAY || word(materials, 1) > maxArtifacts)) return -E_NOT_LINK_ATTESTATION;

  names.reset();
  order.reset();
  const materialCount = materials == 0 ? 0 : word(materials, 1);
  if (materials != 0 && !readDescriptors(materials)) return -E_NOT_LINK_ATTESTATION;
  if (!readDescriptors(subject)) return -E_NOT_LINK_ATTESTATION;

  const link = new Link();
  loadDescriptorSide(link.materials, names, order, 0, materialCount);
  loadDescriptorSide(link.products, names, order, materialCount, word(subject, 1));
  const slot = place(link);

  // The Statement with both lists emptied: cut (open, close) of each, in document order.
  let cutA = arrayOpen(subject - 1);
  let endA = word(subject, 3);
  let cutB: u32 = 0;
  let endB: u32 = 0;
  if (materials != 0) {
    cutB = arrayOpen(materials - 1);
    endB = word(materials, 3);
    if (cutB < cutA) {
      const c = cutA;
      const e = endA;
      cutA = cutB;
      endA = endB;
      cutB = c;
      endB = e;
    }
  }
  const statementLen = materials != 0 ? payloadLen - (endA - cutA - 1) - (endB - cutB - 1) : payloadLen - (endA - cutA - 1);
  const all = aux.ensure(<usize>envLen + <usize>statementLen, true);
  let q = all + envLen;
  memory.copy(q, input.ptr, cutA + 1);
  q += cutA + 1;
  if (materials != 0) {
    memory.copy(q, input.ptr + endA, cutB + 1 - endA);
    q += cutB + 1 - endA;
    memory.copy(q, input.ptr + endB, payloadLen - endB);
  } else {
    memory.copy(q, input.ptr + endA, payloadLen - endA);
  }
  envelopeLength = envLen;
  auxLength = envLen + statementLen;
  return slot;
}

/** Frees the descriptor lists when one large Statement grew them past `limitWords`. */
export function releaseDescriptors(limitWords: u32): void {
  names.shrink(limitWords);
  order.shrink(limitWords);
}
