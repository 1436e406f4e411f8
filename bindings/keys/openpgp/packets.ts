/**
 * OpenPGP wire format (RFC 4880): ASCII armor, packets, signature subpackets and MPIs. Only reading: what
 * verifying keys and signatures needs. Every length is checked against the bytes that are there; malformed
 * input is a `KEY` or `SIGNATURE` error (the caller says which), naming the packet and the offset.
 */
import { concatBytes as concat, fromBase64 } from '../../encoding.js';

/** Packet tags (RFC 4880 §4.3). */
export const TAG = {
  SIGNATURE: 2,
  PUBLIC_KEY: 6,
  MARKER: 10,
  TRUST: 12,
  USER_ID: 13,
  PUBLIC_SUBKEY: 14,
  USER_ATTRIBUTE: 17,
} as const;

/** Signature subpacket types (RFC 4880 §5.2.3.1; issuer fingerprint from RFC 9580 §5.2.3.35). */
export const SUBPACKET = {
  CREATION_TIME: 2,
  SIGNATURE_EXPIRATION: 3,
  KEY_EXPIRATION: 9,
  ISSUER: 16,
  PRIMARY_USER_ID: 25,
  KEY_FLAGS: 27,
  EMBEDDED_SIGNATURE: 32,
  ISSUER_FINGERPRINT: 33,
} as const;

/** A malformed OpenPGP structure; callers turn it into an `InTotoError` of their kind. */
export class PgpFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PgpFormatError';
  }
}

export interface Packet {
  readonly tag: number;
  readonly body: Uint8Array;
  /** Offset of the packet's header in the input, for messages. */
  readonly offset: number;
}

/**
 * Splits binary OpenPGP data into packets (RFC 4880 §4.2, old and new header formats). Partial body lengths
 * (§4.2.2.4) and indeterminate lengths only occur in streamed messages, never in keys or detached signatures,
 * and are refused.
 */
export function readPackets(data: Uint8Array): Packet[] {
  const packets: Packet[] = [];
  let at = 0;
  while (at < data.length) {
    const offset = at;
    const first = data[at++]!;
    if (!(first & 0x80)) throw new PgpFormatError(`byte ${offset}: not a packet header (bit 7 is clear)`);
    let tag: number;
    let length: number;
    if (first & 0x40) {
      tag = first & 0x3f;
      const l0 = need(data, at, 1, offset)[0]!;
      if (l0 < 192) {
        length = l0;
        at += 1;
      } else if (l0 < 224) {
        length = ((l0 - 192) << 8) + need(data, at, 2, offset)[1]! + 192;
        at += 2;
      } else if (l0 === 255) {
        length = readUint32(need(data, at + 1, 4, offset), 0);
        at += 5;
      } else {
        throw new PgpFormatError(`byte ${offset}: partial body lengths are not allowed here (RFC 4880 §4.2.2.4)`);
      }
    } else {
      tag = (first >> 2) & 0x0f;
      const lengthType = first & 3;
      if (lengthType === 3) throw new PgpFormatError(`byte ${offset}: indeterminate packet lengths are not allowed here`);
      const size = 1 << lengthType;
      const bytes = need(data, at, size, offset);
      length = size === 1 ? bytes[0]! : size === 2 ? (bytes[0]! << 8) | bytes[1]! : readUint32(bytes, 0);
      at += size;
    }
    packets.push({ tag, body: need(data, at, length, offset), offset });
    at += length;
  }
  return packets;
}

/** The bytes `data[at, at + n)`, or an error naming the packet that claims more than there is. */
function need(data: Uint8Array, at: number, n: number, packetOffset: number): Uint8Array {
  if (at + n > data.length) throw new PgpFormatError(`packet at byte ${packetOffset} is truncated (needs ${at + n - data.length} more bytes)`);
  return data.subarray(at, at + n);
}

export function readUint32(bytes: Uint8Array, at: number): number {
  return ((bytes[at]! << 24) | (bytes[at + 1]! << 16) | (bytes[at + 2]! << 8) | bytes[at + 3]!) >>> 0;
}

export function uint32(n: number): Uint8Array {
  return new Uint8Array([n >>> 24, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff]);
}

/** A cursor over one packet's body. */
export class BodyReader {
  at = 0;
  constructor(
    readonly bytes: Uint8Array,
    /** What is being read, for messages ("signature packet"). */
    readonly what: string,
  ) {}

  get remaining(): number {
    return this.bytes.length - this.at;
  }

  take(n: number, field: string): Uint8Array {
    if (this.at + n > this.bytes.length) throw new PgpFormatError(`${this.what}: ${field} is truncated`);
    const out = this.bytes.subarray(this.at, this.at + n);
    this.at += n;
    return out;
  }

  byte(field: string): number {
    return this.take(1, field)[0]!;
  }

  uint16(field: string): number {
    const b = this.take(2, field);
    return (b[0]! << 8) | b[1]!;
  }

  uint32(field: string): number {
    return readUint32(this.take(4, field), 0);
  }

  /** A multiprecision integer (RFC 4880 §3.2): bit count, then the big-endian magnitude. Returns the magnitude. */
  mpi(field: string): Uint8Array {
    const bits = this.uint16(`${field} length`);
    if (bits === 0) throw new PgpFormatError(`${this.what}: ${field} is an empty number`);
    return this.take((bits + 7) >> 3, field);
  }
}

export interface Subpacket {
  readonly type: number;
  readonly critical: boolean;
  readonly data: Uint8Array;
}

/** Signature subpackets (RFC 4880 §5.2.3.1). */
export function readSubpackets(area: Uint8Array, what: string): Subpacket[] {
  const out: Subpacket[] = [];
  let at = 0;
  while (at < area.length) {
    const l0 = area[at]!;
    let length: number;
    if (l0 < 192) {
      length = l0;
      at += 1;
    } else if (l0 < 255) {
      if (at + 2 > area.length) throw new PgpFormatError(`${what}: a subpacket length is truncated`);
      length = ((l0 - 192) << 8) + area[at + 1]! + 192;
      at += 2;
    } else {
      if (at + 5 > area.length) throw new PgpFormatError(`${what}: a subpacket length is truncated`);
      length = readUint32(area, at + 1);
      at += 5;
    }
    if (length === 0 || at + length > area.length) throw new PgpFormatError(`${what}: a subpacket overruns its area`);
    out.push({ type: area[at]! & 0x7f, critical: (area[at]! & 0x80) !== 0, data: area.subarray(at + 1, at + length) });
    at += length;
  }
  return out;
}

/**
 * Binary OpenPGP data from its ASCII armor (RFC 4880 §6.2), or the bytes unchanged when they are not armored.
 * Several armored blocks are concatenated; each block's CRC-24, when present, must match.
 */
export function dearmor(input: Uint8Array | string): Uint8Array {
  const text = typeof input === 'string' ? input : looksArmored(input) ? new TextDecoder('utf-8', { fatal: false }).decode(input) : undefined;
  if (text === undefined) return input as Uint8Array;
  const blocks: Uint8Array[] = [];
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const begin = /^-----BEGIN PGP ([A-Z ,/0-9]+)-----\s*$/.exec(lines[i]!);
    if (!begin) continue;
    const label = begin[1]!;
    i++;
    // Armor headers ("Version: ...", "Comment: ..."), up to the blank line.
    while (i < lines.length && lines[i]!.trim() !== '') {
      if (!/^[A-Za-z]+: /.test(lines[i]!)) break;
      i++;
    }
    let body = '';
    let crc: string | undefined;
    for (; i < lines.length; i++) {
      const line = lines[i]!.trim();
      if (line === `-----END PGP ${label}-----`) break;
      if (line.startsWith('=') && line.length === 5) crc = line.slice(1);
      else body += line;
    }
    if (i >= lines.length) throw new PgpFormatError(`armored block "${label}" has no END line`);
    const bytes = fromBase64(body);
    if (!bytes) throw new PgpFormatError(`armored block "${label}" is not valid base64`);
    if (crc !== undefined) {
      const expected = fromBase64(crc);
      const actual = crc24(bytes);
      if (!expected || expected.length !== 3 || ((expected[0]! << 16) | (expected[1]! << 8) | expected[2]!) !== actual) {
        throw new PgpFormatError(`armored block "${label}" fails its CRC-24 checksum`);
      }
    }
    blocks.push(bytes);
  }
  if (typeof input === 'string' && blocks.length === 0) throw new PgpFormatError('no "-----BEGIN PGP" armored block found');
  if (blocks.length === 0) return input as Uint8Array;
  return concat(...blocks);
}

function looksArmored(bytes: Uint8Array): boolean {
  // Binary OpenPGP starts with a packet header (bit 7 set); armor with ASCII, possibly after whitespace.
  return bytes.length > 0 && !(bytes[0]! & 0x80) && new TextDecoder().decode(bytes.subarray(0, 4096)).includes('-----BEGIN PGP ');
}

/** CRC-24 of RFC 4880 §6.1. */
function crc24(bytes: Uint8Array): number {
  let crc = 0xb704ce;
  for (const b of bytes) {
    crc ^= b << 16;
    for (let i = 0; i < 8; i++) {
      crc <<= 1;
      if (crc & 0x1000000) crc ^= 0x1864cfb;
    }
  }
  return crc & 0xffffff;
}
