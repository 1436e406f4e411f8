/**
 * A minimal, strict DER reader and writer (ITU-T X.690 §10): just the types that key files and ECDSA
 * signatures use. Strict means one encoding per value: definite, minimal lengths (§10.1), minimal
 * INTEGERs (§8.3.2), byte-aligned BIT STRINGs, no trailing bytes. A second encoding of the same key
 * would give a second set of bytes for parsers to disagree on.
 */
import { concatBytes } from '../encoding.js';

/** Malformed DER. Callers turn it into an `InTotoError` naming the structure (or into `false`). */
export class DerError extends Error {
  override name = 'DerError';
}

/** Universal tags (X.690 §8.1.2, X.680 §8.4) and the constructed SEQUENCE form. */
export const TAG = {
  BOOLEAN: 0x01,
  INTEGER: 0x02,
  BIT_STRING: 0x03,
  OCTET_STRING: 0x04,
  NULL: 0x05,
  OID: 0x06,
  SEQUENCE: 0x30,
} as const;

/** Context-specific, constructed `[n]` (X.690 §8.1.2.2), as used by EXPLICIT tags. */
const contextTag = (n: number): number => 0xa0 | n;

/** Keys and signatures are small; a longer length field is an attack or a mistake. */
const MAX_LENGTH_OCTETS = 3;

/** Reads consecutive TLVs from `bytes[start, end)`. Every read checks its bounds. */
export class DerReader {
  readonly #bytes: Uint8Array;
  #pos: number;
  readonly #end: number;

  constructor(bytes: Uint8Array, start = 0, end = bytes.length) {
    this.#bytes = bytes;
    this.#pos = start;
    this.#end = end;
  }

  get done(): boolean {
    return this.#pos === this.#end;
  }

  /** The tag of the next element, or -1 at the end. */
  peekTag(): number {
    return this.done ? -1 : this.#bytes[this.#pos];
  }

  /** Reads one element with tag `tag` and returns its contents. */
  read(tag: number, what: string): Uint8Array {
    const [start, end] = this.#readTlv(tag, what);
    return this.#bytes.subarray(start, end);
  }

  /**
   * Reads the next element whatever its (low-number, X.690 §8.1.2.3) tag: its tag, its contents, and the whole
   * encoding (`raw`: tag, length and contents), which is what signatures over parts of a certificate cover.
   */
  any(what: string): { tag: number; contents: Uint8Array; raw: Uint8Array; reader: () => DerReader } {
    const from = this.#pos;
    const tag = this.peekTag();
    if (tag < 0) throw new DerError(`${what}: missing (end of data)`);
    if ((tag & 0x1f) === 0x1f) throw new DerError(`${what}: high tag numbers are not supported`);
    const [start, end] = this.#readTlv(tag, what);
    const bytes = this.#bytes;
    return { tag, contents: bytes.subarray(start, end), raw: bytes.subarray(from, end), reader: () => new DerReader(bytes, start, end) };
  }

  /** A BOOLEAN, in DER's one encoding of each value (X.690 §11.1: 0x00 or 0xFF). */
  boolean(what: string): boolean {
    const v = this.read(TAG.BOOLEAN, what);
    if (v.length !== 1 || (v[0] !== 0 && v[0] !== 0xff)) throw new DerError(`${what}: BOOLEAN not DER-encoded`);
    return v[0] === 0xff;
  }

  sequence(what: string): DerReader {
    const [start, end] = this.#readTlv(TAG.SEQUENCE, what);
    return new DerReader(this.#bytes, start, end);
  }

  /** A SEQUENCE whose whole encoding is needed too (e.g. a certificate's `tbsCertificate`, which its signature covers). */
  sequenceWithRaw(what: string): { reader: DerReader; raw: Uint8Array } {
    const from = this.#pos;
    const [start, end] = this.#readTlv(TAG.SEQUENCE, what);
    return { reader: new DerReader(this.#bytes, start, end), raw: this.#bytes.subarray(from, end) };
  }

  /** `[n] EXPLICIT`, when present. */
  optionalExplicit(n: number, what: string): DerReader | undefined {
    if (this.peekTag() !== contextTag(n)) return undefined;
    const [start, end] = this.#readTlv(contextTag(n), what);
    return new DerReader(this.#bytes, start, end);
  }

  /** A non-negative INTEGER's magnitude, big-endian, without the sign octet (at least one byte). */
  unsignedInteger(what: string): Uint8Array {
    const v = this.read(TAG.INTEGER, what);
    if (v.length === 0) throw new DerError(`${what}: empty INTEGER`);
    if (v[0] & 0x80) throw new DerError(`${what}: negative INTEGER`);
    // X.690 §8.3.2: the first nine bits must not all be zero.
    if (v.length > 1 && v[0] === 0 && !(v[1] & 0x80)) throw new DerError(`${what}: INTEGER not minimally encoded`);
    return v.length > 1 && v[0] === 0 ? v.subarray(1) : v;
  }

  /** A small non-negative INTEGER such as a version number. */
  smallInteger(what: string): number {
    const v = this.unsignedInteger(what);
    if (v.length > 4) throw new DerError(`${what}: INTEGER too large`);
    return v.reduce((acc, b) => acc * 256 + b, 0);
  }

  /** An OBJECT IDENTIFIER in dotted form (X.690 §8.19). */
  oid(what: string): string {
    const v = this.read(TAG.OID, what);
    if (v.length === 0) throw new DerError(`${what}: empty OBJECT IDENTIFIER`);
    const arcs: number[] = [];
    let arc = 0;
    let fresh = true;
    for (const b of v) {
      // §8.19.2: no leading 0x80 octet inside a subidentifier.
      if (fresh && b === 0x80) throw new DerError(`${what}: OBJECT IDENTIFIER not minimally encoded`);
      if (arc > 2 ** 45) throw new DerError(`${what}: OBJECT IDENTIFIER arc too large`);
      arc = arc * 128 + (b & 0x7f);
      fresh = !(b & 0x80);
      if (fresh) {
        arcs.push(arc);
        arc = 0;
      }
    }
    if (!fresh) throw new DerError(`${what}: truncated OBJECT IDENTIFIER`);
    // §8.19.4: the first subidentifier packs the first two arcs.
    const first = arcs[0] < 80 ? Math.floor(arcs[0] / 40) : 2;
    return [first, arcs[0] - first * 40, ...arcs.slice(1)].join('.');
  }

  /** A BIT STRING of whole octets (keys and signatures never have unused bits). */
  bitString(what: string): Uint8Array {
    const v = this.read(TAG.BIT_STRING, what);
    if (v.length === 0 || v[0] !== 0) throw new DerError(`${what}: BIT STRING with unused bits`);
    return v.subarray(1);
  }

  octetString(what: string): Uint8Array {
    return this.read(TAG.OCTET_STRING, what);
  }

  null(what: string): void {
    if (this.read(TAG.NULL, what).length !== 0) throw new DerError(`${what}: NULL with contents`);
  }

  /** Asserts that nothing follows. */
  end(what: string): void {
    if (!this.done) throw new DerError(`${what}: unexpected trailing data`);
  }

  #readTlv(tag: number, what: string): [number, number] {
    const bytes = this.#bytes;
    let pos = this.#pos;
    if (pos >= this.#end) throw new DerError(`${what}: missing (end of data)`);
    if (bytes[pos] !== tag) {
      throw new DerError(`${what}: expected tag 0x${hex2(tag)}, found 0x${hex2(bytes[pos])}`);
    }
    pos++;
    if (pos >= this.#end) throw new DerError(`${what}: truncated length`);
    let length = bytes[pos++];
    if (length & 0x80) {
      const n = length & 0x7f;
      // §10.1: definite form only (0x80 is the indefinite form), in the fewest octets.
      if (n === 0 || n > MAX_LENGTH_OCTETS) throw new DerError(`${what}: unsupported length encoding`);
      if (pos + n > this.#end) throw new DerError(`${what}: truncated length`);
      if (bytes[pos] === 0) throw new DerError(`${what}: length not minimally encoded`);
      length = 0;
      for (let i = 0; i < n; i++) length = length * 256 + bytes[pos++];
      if (length < 0x80) throw new DerError(`${what}: length not minimally encoded`);
    }
    if (length > this.#end - pos) throw new DerError(`${what}: truncated (needs ${length} bytes)`);
    this.#pos = pos + length;
    return [pos, pos + length];
  }
}

const hex2 = (b: number): string => b.toString(16).padStart(2, '0');

// ---- writer ----

export function derTlv(tag: number, contents: Uint8Array): Uint8Array {
  const n = contents.length;
  if (n >= 0x1000000) throw new RangeError('DER contents too long');
  // §10.1: the short form below 128, else the fewest length octets.
  const length =
    n < 0x80 ? [n] : n < 0x100 ? [0x81, n] : n < 0x10000 ? [0x82, n >> 8, n & 0xff] : [0x83, n >> 16, (n >> 8) & 0xff, n & 0xff];
  const out = new Uint8Array(1 + length.length + n);
  out[0] = tag;
  out.set(length, 1);
  out.set(contents, 1 + length.length);
  return out;
}

const derConcat = concatBytes;

export const derSequence = (...items: Uint8Array[]): Uint8Array => derTlv(TAG.SEQUENCE, derConcat(...items));

/** A non-negative INTEGER from its big-endian magnitude (leading zeros allowed in the input). */
export function derUnsignedInteger(magnitude: Uint8Array): Uint8Array {
  let i = 0;
  while (i < magnitude.length - 1 && magnitude[i] === 0) i++;
  const v = magnitude.subarray(i);
  if (v.length === 0) return derTlv(TAG.INTEGER, new Uint8Array(1));
  // A set high bit would read as negative: prefix a zero octet (§8.3.3).
  return derTlv(TAG.INTEGER, v[0] & 0x80 ? derConcat(new Uint8Array(1), v) : v);
}

export function derSmallInteger(n: number): Uint8Array {
  if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) throw new RangeError(`not a small unsigned integer: ${n}`);
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v % 256);
  return derUnsignedInteger(Uint8Array.from(bytes));
}

export function derOid(dotted: string): Uint8Array {
  const arcs = dotted.split('.').map(Number);
  if (arcs.length < 2 || arcs.some((a) => !Number.isSafeInteger(a) || a < 0)) throw new RangeError(`bad OID: ${dotted}`);
  const out: number[] = [];
  for (const arc of [arcs[0] * 40 + arcs[1], ...arcs.slice(2)]) {
    const groups = [arc % 128];
    for (let v = Math.floor(arc / 128); v > 0; v = Math.floor(v / 128)) groups.unshift((v % 128) | 0x80);
    out.push(...groups);
  }
  return derTlv(TAG.OID, Uint8Array.from(out));
}

export const derBitString = (bytes: Uint8Array): Uint8Array => derTlv(TAG.BIT_STRING, derConcat(new Uint8Array(1), bytes));
export const derOctetString = (bytes: Uint8Array): Uint8Array => derTlv(TAG.OCTET_STRING, bytes);
export const derNull = (): Uint8Array => derTlv(TAG.NULL, new Uint8Array(0));
export const derExplicit = (n: number, contents: Uint8Array): Uint8Array => derTlv(contextTag(n), contents);
