/**
 * Our DSA verification (bindings/keys/openpgp/dsa.ts, for OpenPGP DSA keys: no WebCrypto has DSA) against
 * node:crypto's (OpenSSL), on keys and signatures node makes: the same verdict on valid signatures, on each
 * kind of broken one, and with digests longer than q (FIPS 186-4 §4.6 truncation).
 */
import { generateKeyPairSync, randomBytes, sign, verify as nodeVerify, type KeyObject } from 'node:crypto';
import { sha256, sha512 } from '@noble/hashes/sha2.js';
import { describe, expect, it } from 'vitest';
import { DerReader } from '../../bindings/keys/der.js';
import { dsaVerify, type DsaPublicKey } from '../../bindings/keys/openpgp/dsa.js';

/** p, q, g, y from a DSA SubjectPublicKeyInfo (RFC 3279 §2.3.2). */
function dsaParams(publicKey: KeyObject): DsaPublicKey {
  const spki = new DerReader(new Uint8Array(publicKey.export({ format: 'der', type: 'spki' }))).sequence('spki');
  const algorithm = spki.sequence('algorithm');
  expect(algorithm.oid('algorithm')).toBe('1.2.840.10040.4.1');
  const params = algorithm.sequence('parameters');
  const [p, q, g] = [params.unsignedInteger('p'), params.unsignedInteger('q'), params.unsignedInteger('g')];
  const y = new DerReader(spki.bitString('subjectPublicKey')).unsignedInteger('y');
  return { p, q, g, y };
}

const flip = (bytes: Uint8Array, at: number): Uint8Array => {
  const out = bytes.slice();
  out[at]! ^= 0x01;
  return out;
};

describe.each([
  { L: 2048, N: 256, hash: 'sha256', digest: sha256 },
  { L: 1024, N: 160, hash: 'sha256', digest: sha256 }, // a 256-bit digest truncated to q's 160 bits
  { L: 2048, N: 224, hash: 'sha512', digest: sha512 },
] as const)('DSA L=$L N=$N with $hash', ({ L, N, hash, digest }) => {
  const { publicKey, privateKey } = generateKeyPairSync('dsa', { modulusLength: L, divisorLength: N });
  const key = dsaParams(publicKey);
  const half = N / 8;

  it('agrees with node:crypto on 40 valid signatures and on each of their corruptions', () => {
    for (let i = 0; i < 40; i++) {
      const data = randomBytes(1 + i * 7);
      const sig = new Uint8Array(sign(hash, data, { key: privateKey, dsaEncoding: 'ieee-p1363' }));
      const [r, s] = [sig.subarray(0, half), sig.subarray(half)];
      expect(dsaVerify(key, digest(data), r, s)).toBe(true);
      const cases: [Uint8Array, Uint8Array, Uint8Array][] = [
        [data, flip(r, i % half), s],
        [data, r, flip(s, (i * 3) % half)],
        [flip(data, 0), r, s],
        [data, s, r],
      ];
      for (const [d, rr, ss] of cases) {
        const theirs = nodeVerify(hash, d, { key: publicKey, dsaEncoding: 'ieee-p1363' }, Buffer.concat([rr, ss]));
        expect(dsaVerify(key, digest(d), rr, ss)).toBe(theirs);
        expect(theirs).toBe(false);
      }
    }
  });

  it('refuses r or s out of range (0, q), and parameters that are not a DSA group', () => {
    const data = randomBytes(32);
    const sig = new Uint8Array(sign(hash, data, { key: privateKey, dsaEncoding: 'ieee-p1363' }));
    const [r, s] = [sig.subarray(0, half), sig.subarray(half)];
    expect(dsaVerify(key, digest(data), new Uint8Array([0]), s)).toBe(false);
    expect(dsaVerify(key, digest(data), r, key.q)).toBe(false);
    expect(dsaVerify({ ...key, g: new Uint8Array([1]) }, digest(data), r, s)).toBe(false);
    expect(dsaVerify({ ...key, y: key.p }, digest(data), r, s)).toBe(false);
    expect(dsaVerify({ ...key, q: new Uint8Array([0x7f]) }, digest(data), r, s)).toBe(false);
  });
});
