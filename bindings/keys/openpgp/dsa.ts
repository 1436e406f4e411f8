/**
 * DSA signature verification (FIPS 186-4 §4.7), for OpenPGP DSA keys. Written here because no runtime's
 * WebCrypto has DSA and no maintained pure-JS library offers it alone; it is a few modular exponentiations
 * over public values, so constant time does not matter. Cross-checked against node:crypto in the tests.
 */
import { modPow, toBigInt } from '../../bigint.js';

/** Domain parameters and public key, as big-endian magnitudes. */
export interface DsaPublicKey {
  readonly p: Uint8Array;
  readonly q: Uint8Array;
  readonly g: Uint8Array;
  readonly y: Uint8Array;
}

/** Largest `p` accepted: FIPS 186-4 stops at 3072 bits; gpg can make 4096-bit DSA keys. */
const MAX_P_BITS = 4096;

function bitLength(n: bigint): number {
  return n === 0n ? 0 : n.toString(2).length;
}

/** Inverse of `a` modulo the prime `q` (extended Euclid); undefined when there is none. */
function modInverse(a: bigint, q: bigint): bigint | undefined {
  let [r0, r1] = [q, ((a % q) + q) % q];
  let [t0, t1] = [0n, 1n];
  while (r1 !== 0n) {
    const quotient = r0 / r1;
    [r0, r1] = [r1, r0 - quotient * r1];
    [t0, t1] = [t1, t0 - quotient * t1];
  }
  return r0 === 1n ? ((t0 % q) + q) % q : undefined;
}

/**
 * Whether (r, s) is a valid signature of `digest` under `key`. The digest is truncated to the bit length of
 * `q` (FIPS 186-4 §4.6: the leftmost min(N, outlen) bits). Malformed parameters give `false`.
 */
export function dsaVerify(key: DsaPublicKey, digest: Uint8Array, r: Uint8Array, s: Uint8Array): boolean {
  const p = toBigInt(key.p);
  const q = toBigInt(key.q);
  const g = toBigInt(key.g);
  const y = toBigInt(key.y);
  const pBits = bitLength(p);
  const qBits = bitLength(q);
  // Sanity of the public values: an odd p of sensible size, a q of a standard size, 1 < g, y < p.
  if (pBits < 1024 || pBits > MAX_P_BITS || !(p & 1n) || ![160, 224, 256].includes(qBits) || !(q & 1n)) return false;
  if (!(g > 1n && g < p && y > 1n && y < p)) return false;
  const rn = toBigInt(r);
  const sn = toBigInt(s);
  if (!(rn > 0n && rn < q && sn > 0n && sn < q)) return false;
  const w = modInverse(sn, q);
  if (w === undefined) return false;
  let z = toBigInt(digest);
  const excess = digest.length * 8 - qBits;
  if (excess > 0) z >>= BigInt(excess);
  const u1 = (z * w) % q;
  const u2 = (rn * w) % q;
  const v = ((modPow(g, u1, p) * modPow(y, u2, p)) % p) % q;
  return v === rn;
}
