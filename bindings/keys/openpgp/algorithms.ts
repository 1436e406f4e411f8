/**
 * The OpenPGP public-key and hash algorithms the reference supports (securesystemslib `gpg.handlers`): RSA,
 * DSA and EdDSA (Ed25519, the "legacy" algorithm 22 gpg 2.2 makes), with their key material in the reference's
 * form (`keyval.public`: hex numbers) and one `verifyHashed` over all three.
 *
 * RSA and Ed25519 go through the runtime's crypto backend (node:crypto, WebCrypto; noble has Ed25519 only);
 * DSA, which no WebCrypto has, is verified by `dsa.ts`. Digests come from @noble/hashes, which runs everywhere.
 */
import { sha1 } from '@noble/hashes/legacy.js';
import { sha224, sha256, sha384, sha512 } from '@noble/hashes/sha2.js';
import { defaultBackendName, verifyWith } from '../crypto/index.js';
import type { SignatureAlgorithm } from '../crypto/types.js';
import { concatBytes as concat, fromHex, toHex } from '../../encoding.js';
import { InTotoError } from '../../errors.js';
import { ed25519SpkiFromRaw, rsaSpkiFromParts } from '../keys.js';
import { dsaVerify } from './dsa.js';
import { BodyReader, PgpFormatError } from './packets.js';

export type GpgKeyType = 'rsa' | 'dsa' | 'eddsa';

/** Public-key algorithm ids (RFC 4880 §9.1; 22 from RFC 9580 §9.1) and the reference's names for them. */
export const KEY_ALGORITHMS: Readonly<Record<number, { readonly type: GpgKeyType; readonly method: string }>> = {
  1: { type: 'rsa', method: 'pgp+rsa-pkcsv1.5' },
  17: { type: 'dsa', method: 'pgp+dsa-fips-180-2' },
  22: { type: 'eddsa', method: 'pgp+eddsa-ed25519' },
};

export const ALGORITHM_ID: Readonly<Record<GpgKeyType, number>> = { rsa: 1, dsa: 17, eddsa: 22 };

/** Names of the algorithms we do not support, for messages. */
const OTHER_ALGORITHMS: Readonly<Record<number, string>> = {
  2: 'RSA encrypt-only',
  3: 'RSA sign-only',
  16: 'Elgamal',
  18: 'ECDH',
  19: 'ECDSA',
  25: 'X25519',
  26: 'X448',
  27: 'Ed25519 (RFC 9580 keys)',
  28: 'Ed448',
};

export function algorithmName(id: number): string {
  return KEY_ALGORITHMS[id]?.type.toUpperCase() ?? OTHER_ALGORITHMS[id] ?? `algorithm ${id}`;
}

/**
 * Hash algorithm ids (RFC 4880 §9.4) we check key signatures with (data signatures: SHA-256 only, see
 * signature.ts). SHA-224 RSA signatures need node:crypto: WebCrypto has no SHA-224.
 */
export const HASHES: Readonly<Record<number, { readonly name: 'SHA-1' | 'SHA-224' | 'SHA-256' | 'SHA-384' | 'SHA-512'; readonly digest: (data: Uint8Array) => Uint8Array }>> = {
  2: { name: 'SHA-1', digest: sha1 },
  8: { name: 'SHA-256', digest: sha256 },
  9: { name: 'SHA-384', digest: sha384 },
  10: { name: 'SHA-512', digest: sha512 },
  11: { name: 'SHA-224', digest: sha224 },
};
export const SHA256_ID = 8;

/** Ed25519's curve OID in OpenPGP's encoding (RFC 9580 §9.2: 1.3.6.1.4.1.11591.15.1, without the DER tag). */
const ED25519_OID = new Uint8Array([0x2b, 0x06, 0x01, 0x04, 0x01, 0xda, 0x47, 0x0f, 0x01]);
/** gpg's prefix for a native (compressed) point (RFC 9580 §11.2.2). */
const NATIVE_POINT = 0x40;

/** Key material: the reference's `keyval.public`, lowercase hex. */
export type PublicParams = Readonly<Record<string, string>>;

/** Reads a public key packet's algorithm-specific fields (RFC 4880 §5.5.2) into the reference's form. */
export function readPublicParams(type: GpgKeyType, reader: BodyReader): PublicParams {
  switch (type) {
    case 'rsa': {
      const n = reader.mpi('RSA modulus n');
      const e = reader.mpi('RSA exponent e');
      return { e: toHex(e), n: toHex(n) };
    }
    case 'dsa': {
      const p = reader.mpi('DSA prime p');
      const q = reader.mpi('DSA group order q');
      const g = reader.mpi('DSA generator g');
      const y = reader.mpi('DSA public value y');
      return { y: toHex(y), p: toHex(p), g: toHex(g), q: toHex(q) };
    }
    case 'eddsa': {
      const oid = reader.take(reader.byte('curve OID length'), 'curve OID');
      if (!equalBytes(oid, ED25519_OID)) throw new PgpFormatError(`${reader.what}: the EdDSA curve is not Ed25519 (OID ${toHex(oid)})`);
      const point = reader.mpi('EdDSA point');
      if (point.length !== 33 || point[0] !== NATIVE_POINT) throw new PgpFormatError(`${reader.what}: the Ed25519 point is not 0x40 followed by 32 bytes`);
      return { q: toHex(point.subarray(1)) };
    }
  }
}

/** The inverse of `readPublicParams`: the packet bytes, for computing a fingerprint from a key dict. */
export function writePublicParams(type: GpgKeyType, params: PublicParams, field: string): Uint8Array {
  const num = (name: string) => {
    const bytes = fromHex(params[name] ?? '');
    if (!bytes || bytes.length === 0) throw new InTotoError('KEY', `${field}.${name} must be a non-empty hex number`, { field: `${field}.${name}` });
    return mpi(bytes);
  };
  switch (type) {
    case 'rsa':
      return concat(num('n'), num('e'));
    case 'dsa':
      return concat(num('p'), num('q'), num('g'), num('y'));
    case 'eddsa': {
      const q = fromHex(params.q ?? '');
      if (!q || q.length !== 32) throw new InTotoError('KEY', `${field}.q must be 32 bytes of hex (an Ed25519 point)`, { field: `${field}.q` });
      return concat(new Uint8Array([ED25519_OID.length]), ED25519_OID, mpi(concat(new Uint8Array([NATIVE_POINT]), q)));
    }
  }
}

/** An MPI (RFC 4880 §3.2) of a magnitude; leading zero bytes are dropped, as the bit count requires. */
function mpi(magnitude: Uint8Array): Uint8Array {
  let start = 0;
  while (start < magnitude.length - 1 && magnitude[start] === 0) start++;
  const m = magnitude.subarray(start);
  const bits = (m.length - 1) * 8 + (32 - Math.clz32(m[0]!));
  return concat(new Uint8Array([bits >> 8, bits & 0xff]), m);
}

/**
 * Whether `values` (the signature's MPIs: RSA [s], DSA and EdDSA [r, s]) sign `data` hashed with `hashId`
 * under the key. Signatures that do not verify, however malformed, give `false`; a key the runtime cannot
 * use is an `InTotoError`.
 */
export async function verifyHashed(type: GpgKeyType, params: PublicParams, hashId: number, data: Uint8Array, values: readonly Uint8Array[]): Promise<boolean> {
  const hash = HASHES[hashId];
  if (!hash) return false;
  switch (type) {
    case 'rsa': {
      if (values.length !== 1) return false;
      const n = hexParam(params, 'n');
      const spki = keySpki(() => rsaSpkiFromParts(stripZeros(n), stripZeros(hexParam(params, 'e'))));
      // Longer than the modulus, even by leading zeros, is refused (as pyca/cryptography refuses it for the reference).
      if (values[0]!.length > stripZeros(n).length) return false;
      const s = stripZeros(values[0]!);
      // PKCS#1 v1.5 wants the signature as long as the modulus; OpenPGP's MPI drops leading zeros.
      const padded = new Uint8Array(stripZeros(n).length);
      padded.set(s, padded.length - s.length);
      if (hash.name === 'SHA-224' && defaultBackendName() !== 'node') throw new InTotoError('UNSUPPORTED', 'RSA signatures with SHA-224 need node:crypto (WebCrypto has no SHA-224)');
      const algorithm: SignatureAlgorithm = { name: 'RSASSA-PKCS1-v1_5', hash: hash.name };
      return verifyWith(spki, algorithm, data, padded);
    }
    case 'dsa': {
      if (values.length !== 2) return false;
      const key = { p: hexParam(params, 'p'), q: hexParam(params, 'q'), g: hexParam(params, 'g'), y: hexParam(params, 'y') };
      return dsaVerify(key, hash.digest(data), values[0]!, values[1]!);
    }
    case 'eddsa': {
      if (values.length !== 2) return false;
      const [r, s] = values.map(stripZeros) as [Uint8Array, Uint8Array];
      if (r.length > 32 || s.length > 32) return false;
      const raw = new Uint8Array(64);
      raw.set(r, 32 - r.length);
      raw.set(s, 64 - s.length);
      const spki = keySpki(() => ed25519SpkiFromRaw(hexParam(params, 'q')));
      // OpenPGP's EdDSA signs the digest, not the data (RFC 9580 §5.2.3.3).
      return verifyWith(spki, { name: 'Ed25519' }, hash.digest(data), raw);
    }
  }
}

function hexParam(params: PublicParams, name: string): Uint8Array {
  const bytes = fromHex(params[name] ?? '');
  if (!bytes || bytes.length === 0) throw new InTotoError('KEY', `the OpenPGP key's "${name}" is not a hex number`, { field: `keyval.public.${name}` });
  return bytes;
}

function keySpki(build: () => Uint8Array): Uint8Array {
  try {
    return build();
  } catch (cause) {
    throw new InTotoError('KEY', `unusable OpenPGP key: ${(cause as Error).message}`, {}, { cause });
  }
}

export function stripZeros(bytes: Uint8Array): Uint8Array {
  let i = 0;
  while (i < bytes.length - 1 && bytes[i] === 0) i++;
  return bytes.subarray(i);
}

export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
