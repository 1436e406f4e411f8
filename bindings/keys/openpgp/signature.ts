/**
 * OpenPGP signatures (RFC 4880 §5.2, version 4): the packet, and the form the reference stores in a Metablock,
 * `{keyid, other_headers, signature}` (securesystemslib `GPG_SIGNATURE_SCHEMA`):
 * - `keyid`: the signing key's fingerprint (a subkey's, when a subkey signed), from the issuer fingerprint;
 * - `other_headers`: hex of the signature packet from its version byte to the end of the hashed subpackets,
 *   exactly the part the signature also covers (§5.2.4);
 * - `signature`: hex; RSA: the MPI's bytes; DSA: DER `SEQUENCE {r, s}` (as pyca/cryptography wants it);
 *   EdDSA: r || s, each left-padded to 32 bytes.
 * What is signed is `data || other_headers || 0x04 0xFF || length(other_headers) as 4 bytes` (§5.2.4).
 */
import { DerReader, derSequence, derUnsignedInteger } from '../der.js';
import { concatBytes as concat, fromHex, toHex } from '../../encoding.js';
import { InTotoError } from '../../errors.js';
import { HASHES, KEY_ALGORITHMS, SHA256_ID, algorithmName, stripZeros, verifyHashed, type GpgKeyType } from './algorithms.js';
import type { GpgPublicKey } from './key-types.js';
import { BodyReader, PgpFormatError, SUBPACKET, TAG, readPackets, readSubpackets, readUint32, uint32, type Subpacket } from './packets.js';

/** Signature types (RFC 4880 §5.2.1). */
export const SIG_TYPE = {
  BINARY: 0x00,
  CERT_GENERIC: 0x10,
  CERT_POSITIVE: 0x13,
  SUBKEY_BINDING: 0x18,
  PRIMARY_KEY_BINDING: 0x19,
  DIRECT_KEY: 0x1f,
  KEY_REVOCATION: 0x20,
  SUBKEY_REVOCATION: 0x28,
  CERT_REVOCATION: 0x30,
} as const;

/** An OpenPGP signature entry as the reference writes it in `signatures`. */
export interface GpgSignature {
  readonly keyid: string;
  readonly other_headers: string;
  readonly signature: string;
}

/** A parsed version 4 signature packet. */
export interface SignaturePacket {
  readonly type: number;
  readonly keyAlgorithm: number;
  readonly hashAlgorithm: number;
  /** Version byte to the end of the hashed subpackets: what the reference calls `other_headers`. */
  readonly hashedPart: Uint8Array;
  readonly hashed: readonly Subpacket[];
  readonly unhashed: readonly Subpacket[];
  /** The signature's MPIs: RSA [s], DSA and EdDSA [r, s]. */
  readonly values: readonly Uint8Array[];
  /** Signature creation time (hashed), seconds since the epoch. */
  readonly creationTime?: number;
  /** The issuer's fingerprint (subpacket 33) or 8-byte key id (subpacket 16), lowercase hex, from either area. */
  readonly issuerFingerprint?: string;
  readonly issuerKeyId?: string;
}

/** Subpackets a signature may mark critical that we understand (RFC 4880 §5.2.3.1: an unknown critical one voids it). */
const KNOWN_SUBPACKETS = new Set([2, 3, 4, 5, 6, 7, 9, 11, 12, 16, 21, 22, 23, 24, 25, 27, 28, 29, 30, 31, 32, 33, 34, 35]);

/** The first hashed subpacket marked critical that we do not understand: it voids the signature (RFC 4880 §5.2.3.1). */
export function unknownCritical(sig: Pick<SignaturePacket, 'hashed'>): Subpacket | undefined {
  return sig.hashed.find((s) => s.critical && !KNOWN_SUBPACKETS.has(s.type));
}

/** Reads the hashed header part (`other_headers`) of a v4 signature. `body` may continue after it. */
function readHeader(reader: BodyReader) {
  const version = reader.byte('version');
  if (version !== 4) throw new PgpFormatError(`${reader.what}: version ${version} signatures are not supported (only version 4, as the reference)`);
  const type = reader.byte('signature type');
  const keyAlgorithm = reader.byte('public-key algorithm');
  const hashAlgorithm = reader.byte('hash algorithm');
  const hashed = readSubpackets(reader.take(reader.uint16('hashed subpacket length'), 'hashed subpackets'), reader.what);
  return { type, keyAlgorithm, hashAlgorithm, hashed, hashedPart: reader.bytes.subarray(0, reader.at) };
}

/** A signature packet's body (tag 2), version 4. */
export function readSignaturePacket(body: Uint8Array, what = 'signature packet'): SignaturePacket {
  const reader = new BodyReader(body, what);
  const header = readHeader(reader);
  const unhashed = readSubpackets(reader.take(reader.uint16('unhashed subpacket length'), 'unhashed subpackets'), what);
  reader.take(2, 'hash prefix');
  const count = header.keyAlgorithm === 1 ? 1 : 2;
  const values: Uint8Array[] = [];
  for (let i = 0; i < count; i++) values.push(reader.mpi(`signature value ${i + 1}`));
  return { ...header, unhashed, values, ...issuerAndTime(header.hashed, unhashed) };
}

function issuerAndTime(hashed: readonly Subpacket[], unhashed: readonly Subpacket[]) {
  const out: { creationTime?: number; issuerFingerprint?: string; issuerKeyId?: string } = {};
  const created = hashed.find((s) => s.type === SUBPACKET.CREATION_TIME);
  if (created && created.data.length === 4) out.creationTime = readUint32(created.data, 0);
  for (const s of [...hashed, ...unhashed]) {
    // Issuer fingerprint: a version byte, then the v4 fingerprint (RFC 9580 §5.2.3.35).
    if (s.type === SUBPACKET.ISSUER_FINGERPRINT && s.data.length === 21 && s.data[0] === 4) out.issuerFingerprint ??= toHex(s.data.subarray(1));
    if (s.type === SUBPACKET.ISSUER && s.data.length === 8) out.issuerKeyId ??= toHex(s.data);
  }
  return out;
}

/** The hashed subpacket of `type`, if any (unhashed ones are not signed and never trusted). */
export function hashedSubpacket(sig: Pick<SignaturePacket, 'hashed'>, type: number): Uint8Array | undefined {
  return sig.hashed.find((s) => s.type === type)?.data;
}

/** The bytes a v4 signature covers after the signed data (RFC 4880 §5.2.4): its header part and the trailer. */
export function signedSuffix(hashedPart: Uint8Array): Uint8Array {
  return concat(hashedPart, new Uint8Array([0x04, 0xff]), uint32(hashedPart.length));
}

/**
 * The reference's signature entry from a detached signature as `gpg --detach-sign` writes it (one signature
 * packet). The key id is the issuer fingerprint; gpg before 2.1 wrote only the 8-byte issuer id, given back
 * as `shortKeyid` for the caller to resolve (the reference exports the key to find the full id).
 */
export function signatureFromPacket(data: Uint8Array): GpgSignature & { readonly shortKeyid?: string } {
  let packets;
  try {
    packets = readPackets(data);
  } catch (error) {
    throw signatureError(error);
  }
  if (packets.length !== 1 || packets[0]!.tag !== TAG.SIGNATURE) {
    throw new InTotoError('SIGNATURE', `expected one OpenPGP signature packet, found ${packets.map((p) => `tag ${p.tag}`).join(', ') || 'nothing'}`);
  }
  let sig: SignaturePacket;
  try {
    sig = readSignaturePacket(packets[0]!.body);
  } catch (error) {
    throw signatureError(error);
  }
  const algorithm = KEY_ALGORITHMS[sig.keyAlgorithm];
  if (!algorithm) throw new InTotoError('UNSUPPORTED', `${algorithmName(sig.keyAlgorithm)} signatures are not supported (RSA, DSA and EdDSA are)`);
  if (sig.creationTime === undefined) throw new InTotoError('SIGNATURE', 'the OpenPGP signature has no creation time subpacket');
  const keyid = sig.issuerFingerprint ?? '';
  if (keyid && sig.issuerKeyId && !keyid.endsWith(sig.issuerKeyId)) {
    throw new InTotoError('SIGNATURE', `the signature's issuer id ${sig.issuerKeyId} is not the end of its issuer fingerprint ${keyid}`);
  }
  return {
    keyid,
    other_headers: toHex(sig.hashedPart),
    signature: toHex(encodeValues(algorithm.type, sig.values)),
    ...(keyid ? {} : sig.issuerKeyId ? { shortKeyid: sig.issuerKeyId } : {}),
  };
}

function encodeValues(type: GpgKeyType, values: readonly Uint8Array[]): Uint8Array {
  switch (type) {
    case 'rsa':
      return values[0]!;
    case 'dsa':
      return derSequence(derUnsignedInteger(stripZeros(values[0]!)), derUnsignedInteger(stripZeros(values[1]!)));
    case 'eddsa': {
      const out = new Uint8Array(64);
      const [r, s] = values.map(stripZeros) as [Uint8Array, Uint8Array];
      if (r.length > 32 || s.length > 32) throw new InTotoError('SIGNATURE', 'an EdDSA signature value is longer than 32 bytes');
      out.set(r, 32 - r.length);
      out.set(s, 64 - s.length);
      return out;
    }
  }
}

/** Whether a `signatures` entry has the OpenPGP shape (rather than securesystemslib's `{keyid, sig}`). */
export function isGpgSignature(entry: Readonly<Record<string, unknown>>): boolean {
  return typeof entry.other_headers === 'string' && typeof entry.signature === 'string' && !Object.hasOwn(entry, 'sig');
}

export interface GpgVerifyOptions {
  /** The verifier's clock, for key and signature expiry (default: now). */
  now?: Date;
}

/**
 * Verifies an OpenPGP signature entry over `data` with `key` or, when the entry names one, its subkey, as the
 * reference does, and more strictly (each difference guards against a signature meaning something else):
 * - the key (or subkey) must not have expired at `now` (`KEY_EXPIRED`), nor the signature itself;
 * - the signature must be a version 4 binary-document signature (type 0x00) with SHA-256, by the key's
 *   algorithm, with no critical subpacket we do not understand.
 * Throws `SIGNATURE` naming the key id when it does not hold.
 */
export async function verifyGpgSignature(entry: GpgSignature, key: GpgPublicKey, data: Uint8Array, options: GpgVerifyOptions = {}): Promise<void> {
  const now = Math.floor((options.now ?? new Date()).getTime() / 1000);
  const signer = key.subkeys.get(entry.keyid) ?? key;
  const fail = (why: string) => new InTotoError('SIGNATURE', `the OpenPGP signature by key ${entry.keyid} ${why}`, { keyid: entry.keyid });
  // A subkey is no longer valid once its primary key has expired (RFC 4880 §5.2.3.6); the reference checks the signer only.
  for (const k of signer === key ? [key] : [key, signer]) {
    if (k.validityPeriod && k.creationTime !== undefined && k.creationTime + k.validityPeriod < now) {
      const role = k === key ? 'key' : `subkey ${k.keyid} of key ${key.keyid}`;
      throw new InTotoError('KEY_EXPIRED', `OpenPGP ${role} expired at ${isoSeconds(k.creationTime + k.validityPeriod)}`, { keyid: k.keyid });
    }
  }
  const headers = fromHex(entry.other_headers);
  const signature = fromHex(entry.signature);
  if (!headers || !signature) throw fail('is not hex');
  let header;
  try {
    const reader = new BodyReader(headers, 'other_headers');
    header = readHeader(reader);
    if (reader.remaining !== 0) throw new PgpFormatError(`other_headers: ${reader.remaining} bytes after the hashed subpackets`);
  } catch (error) {
    throw fail(`is malformed: ${(error as Error).message}`);
  }
  if (header.type !== SIG_TYPE.BINARY) throw fail(`is of type 0x${header.type.toString(16).padStart(2, '0')}, not a signature of a binary document (0x00)`);
  if (KEY_ALGORITHMS[header.keyAlgorithm]?.type !== signer.type) throw fail(`is an ${algorithmName(header.keyAlgorithm)} signature, but the key is ${signer.type.toUpperCase()}`);
  if (header.hashAlgorithm !== SHA256_ID) {
    throw fail(`uses ${HASHES[header.hashAlgorithm]?.name ?? `hash algorithm ${header.hashAlgorithm}`}; the reference verifies SHA-256 only`);
  }
  const critical = unknownCritical(header);
  if (critical) throw fail(`has a critical subpacket of unknown type ${critical.type}`);
  const created = hashedSubpacket(header, SUBPACKET.CREATION_TIME);
  const lifetime = hashedSubpacket(header, SUBPACKET.SIGNATURE_EXPIRATION);
  if (created?.length === 4 && lifetime?.length === 4) {
    const expires = readUint32(created, 0) + readUint32(lifetime, 0);
    if (readUint32(lifetime, 0) !== 0 && expires <= now) throw fail(`expired at ${isoSeconds(expires)}`);
  }
  const values = decodeValues(signer.type, signature);
  const ok = values !== undefined && (await verifyHashed(signer.type, signer.public, header.hashAlgorithm, concat(data, signedSuffix(headers)), values));
  if (!ok) throw fail('does not verify');
}

/** The signature's values from the reference's encoding; undefined when malformed. */
function decodeValues(type: GpgKeyType, signature: Uint8Array): Uint8Array[] | undefined {
  switch (type) {
    case 'rsa':
      return signature.length > 0 ? [signature] : undefined;
    case 'dsa':
      try {
        const outer = new DerReader(signature);
        const seq = outer.sequence('DSA signature');
        const values = [seq.unsignedInteger('r'), seq.unsignedInteger('s')];
        return seq.done && outer.done ? values : undefined;
      } catch {
        return undefined;
      }
    case 'eddsa':
      return signature.length === 64 ? [signature.subarray(0, 32), signature.subarray(32)] : undefined;
  }
}

function signatureError(error: unknown): unknown {
  return error instanceof PgpFormatError ? new InTotoError('SIGNATURE', `malformed OpenPGP signature: ${error.message}`, {}, { cause: error }) : error;
}

export function isoSeconds(unixSeconds: number): string {
  return new Date(unixSeconds * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
}
