/**
 * Password-based decryption of PKCS#8 `EncryptedPrivateKeyInfo` (RFC 5958 §3) under PKCS#5 (RFC 8018), in
 * plain TypeScript plus WebCrypto's AES-CBC: for the schemes OpenSSL 3 no longer loads by default. python's
 * cryptography (which bundles OpenSSL's legacy provider) still reads PBES1 keys, and in-toto python's test keys
 * are encrypted with `pbeWithMD5AndDES-CBC`; node:crypto refuses them ("unsupported").
 *
 * PBES1 (§6.1): PBKDF1 with MD5 or SHA-1, then single DES-CBC. PBES2 (§6.2): PBKDF2 with HMAC-SHA-1/2, then
 * AES-CBC, DES-EDE3-CBC or DES-CBC. DES is broken as a cipher; reading a key someone encrypted with it costs
 * nothing in security (the key file is theirs), refusing it would only strand the key.
 */
import { md5, sha1 } from '@noble/hashes/legacy.js';
import { pbkdf2 } from '@noble/hashes/pbkdf2.js';
import { sha224, sha256, sha384, sha512 } from '@noble/hashes/sha2.js';
import { DerError, DerReader } from '../der.js';
import { InTotoError } from '../../errors.js';

const OID = {
  pbeWithMD5AndDES: '1.2.840.113549.1.5.3',
  pbeWithSHA1AndDES: '1.2.840.113549.1.5.10',
  pbes2: '1.2.840.113549.1.5.13',
  pbkdf2: '1.2.840.113549.1.5.12',
  desCbc: '1.3.14.3.2.7',
  desEde3Cbc: '1.2.840.113549.3.7',
  aes128Cbc: '2.16.840.1.101.3.4.1.2',
  aes192Cbc: '2.16.840.1.101.3.4.1.22',
  aes256Cbc: '2.16.840.1.101.3.4.1.42',
} as const;

/** RFC 8018 appendix B.1.2 PRFs, by OID. */
const PRFS = {
  '1.2.840.113549.2.7': sha1,
  '1.2.840.113549.2.8': sha224,
  '1.2.840.113549.2.9': sha256,
  '1.2.840.113549.2.10': sha384,
  '1.2.840.113549.2.11': sha512,
} as const;

/** More rounds than any real key file uses: refuse them rather than spin. */
const MAX_ITERATIONS = 10_000_000;

/**
 * The PKCS#8 PrivateKeyInfo inside an EncryptedPrivateKeyInfo. A wrong password is `KEY_PASSWORD` (whatever
 * the padding or the structure it leaves says); a scheme we do not know is `UNSUPPORTED`.
 */
export async function decryptPkcs8(der: Uint8Array, password: string): Promise<Uint8Array> {
  let scheme: { kind: 'pbes1'; hash: typeof md5; salt: Uint8Array; iterations: number } | { kind: 'pbes2'; key: () => Uint8Array; cipher: Cipher };
  let ciphertext: Uint8Array;
  try {
    const outer = new DerReader(der);
    const info = outer.sequence('EncryptedPrivateKeyInfo');
    outer.end('EncryptedPrivateKeyInfo');
    const alg = info.sequence('encryptionAlgorithm');
    ciphertext = info.octetString('encryptedData');
    info.end('EncryptedPrivateKeyInfo');
    const oid = alg.oid('encryptionAlgorithm');
    if (oid === OID.pbeWithMD5AndDES || oid === OID.pbeWithSHA1AndDES) {
      const params = alg.sequence('PBEParameter');
      const salt = params.octetString('salt');
      const iterations = params.smallInteger('iterationCount');
      params.end('PBEParameter');
      if (salt.length !== 8) throw new DerError('the PBES1 salt must be 8 bytes (RFC 8018 §6.1.1)');
      scheme = { kind: 'pbes1', hash: oid === OID.pbeWithMD5AndDES ? md5 : sha1, salt, iterations: checkIterations(iterations) };
    } else if (oid === OID.pbes2) {
      scheme = { kind: 'pbes2', ...readPbes2(alg.sequence('PBES2-params'), password) };
    } else {
      throw new InTotoError('UNSUPPORTED', `unsupported private key encryption ${oid} (expected PBES2, or PBES1 with MD5 or SHA-1 and DES)`);
    }
    alg.end('encryptionAlgorithm');
  } catch (error) {
    if (error instanceof DerError) throw new InTotoError('KEY', `malformed EncryptedPrivateKeyInfo: ${error.message}`, {}, { cause: error });
    throw error;
  }
  let plain: Uint8Array | undefined;
  if (scheme.kind === 'pbes1') {
    // PBKDF1 (RFC 8018 §5.1): T1 = H(P || S), Ti = H(Ti-1); DES key = T[0..8], IV = T[8..16].
    let t = scheme.hash(concat(new TextEncoder().encode(password), scheme.salt));
    for (let i = 1; i < scheme.iterations; i++) t = scheme.hash(t);
    plain = unpad(desCbcDecrypt([t.subarray(0, 8)], t.subarray(8, 16), ciphertext), 8);
  } else {
    plain = await scheme.cipher(scheme.key(), ciphertext);
  }
  if (!plain || !looksLikePkcs8(plain)) {
    throw new InTotoError('KEY_PASSWORD', 'could not decrypt the private key: wrong password (or a damaged key)');
  }
  return plain;
}

type Cipher = (key: Uint8Array, ciphertext: Uint8Array) => Promise<Uint8Array | undefined>;

/** PBES2-params (RFC 8018 appendix A.4): PBKDF2 and the cipher, the key derived lazily. */
function readPbes2(params: DerReader, password: string): { key: () => Uint8Array; cipher: Cipher } {
  const kdf = params.sequence('keyDerivationFunc');
  if (kdf.oid('keyDerivationFunc') !== OID.pbkdf2) throw new InTotoError('UNSUPPORTED', 'PBES2 with a key derivation other than PBKDF2 is not supported');
  const p = kdf.sequence('PBKDF2-params');
  const salt = p.octetString('salt');
  const iterations = checkIterations(p.smallInteger('iterationCount'));
  const declaredLength = p.peekTag() === 0x02 ? p.smallInteger('keyLength') : undefined;
  let prf: (typeof PRFS)[keyof typeof PRFS] = sha1; // the default, hmacWithSHA1
  if (!p.done) {
    const prfAlg = p.sequence('prf');
    const prfOid = prfAlg.oid('prf');
    if (!prfAlg.done) prfAlg.null('prf parameters');
    const found = PRFS[prfOid as keyof typeof PRFS];
    if (!found) throw new InTotoError('UNSUPPORTED', `unsupported PBKDF2 PRF ${prfOid}`);
    prf = found;
  }
  p.end('PBKDF2-params');
  const enc = params.sequence('encryptionScheme');
  params.end('PBES2-params');
  const oid = enc.oid('encryptionScheme');
  const iv = enc.octetString('iv');
  enc.end('encryptionScheme');
  const keyLength = { [OID.aes128Cbc]: 16, [OID.aes192Cbc]: 24, [OID.aes256Cbc]: 32, [OID.desEde3Cbc]: 24, [OID.desCbc]: 8 }[oid];
  if (keyLength === undefined) throw new InTotoError('UNSUPPORTED', `unsupported PBES2 cipher ${oid} (expected AES-CBC, DES-EDE3-CBC or DES-CBC)`);
  if (declaredLength !== undefined && declaredLength !== keyLength) throw new DerError('the PBKDF2 keyLength does not fit the cipher');
  if (iv.length !== (oid === OID.desEde3Cbc || oid === OID.desCbc ? 8 : 16)) throw new DerError('the cipher IV has the wrong length');
  const key = () => pbkdf2(prf, new TextEncoder().encode(password), salt, { c: iterations, dkLen: keyLength });
  if (oid === OID.desCbc) return { key, cipher: async (k, c) => unpad(desCbcDecrypt([k], iv, c), 8) };
  if (oid === OID.desEde3Cbc) return { key, cipher: async (k, c) => unpad(desCbcDecrypt([k.subarray(0, 8), k.subarray(8, 16), k.subarray(16, 24)], iv, c), 8) };
  return {
    key,
    cipher: async (k, c) => {
      const subtle = globalThis.crypto?.subtle;
      if (!subtle) throw new InTotoError('UNSUPPORTED', 'decrypting an AES-encrypted key needs WebCrypto, which this runtime lacks');
      const aes = await subtle.importKey('raw', k as Uint8Array<ArrayBuffer>, 'AES-CBC', false, ['decrypt']);
      try {
        return new Uint8Array(await subtle.decrypt({ name: 'AES-CBC', iv: iv as Uint8Array<ArrayBuffer> }, aes, c as Uint8Array<ArrayBuffer>));
      } catch {
        return undefined; // bad padding: the wrong key
      }
    },
  };
}

function checkIterations(n: number): number {
  if (n < 1 || n > MAX_ITERATIONS) throw new DerError(`iteration count ${n} outside 1..${MAX_ITERATIONS}`);
  return n;
}

/** PKCS#5 padding (RFC 8018 §6.1.1 step 4): 1 to `block` bytes, each holding the count. */
function unpad(data: Uint8Array, block: number): Uint8Array | undefined {
  const n = data[data.length - 1] ?? 0;
  if (data.length === 0 || data.length % block !== 0 || n < 1 || n > block) return undefined;
  for (let i = data.length - n; i < data.length; i++) if (data[i] !== n) return undefined;
  return data.subarray(0, data.length - n);
}

/** A plausible PrivateKeyInfo: SEQUENCE { INTEGER 0|1, SEQUENCE, OCTET STRING ... } filling the buffer. */
function looksLikePkcs8(der: Uint8Array): boolean {
  try {
    const outer = new DerReader(der);
    const info = outer.sequence('PrivateKeyInfo');
    outer.end('PrivateKeyInfo');
    return info.smallInteger('version') <= 1 && info.sequence('algorithm') !== undefined && info.octetString('privateKey').length > 0;
  } catch {
    return false;
  }
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

// ---- DES (FIPS 46-3), decryption only; one key is DES, three are DES-EDE3 (SP 800-67) ----

const IP = [58, 50, 42, 34, 26, 18, 10, 2, 60, 52, 44, 36, 28, 20, 12, 4, 62, 54, 46, 38, 30, 22, 14, 6, 64, 56, 48, 40, 32, 24, 16, 8,
  57, 49, 41, 33, 25, 17, 9, 1, 59, 51, 43, 35, 27, 19, 11, 3, 61, 53, 45, 37, 29, 21, 13, 5, 63, 55, 47, 39, 31, 23, 15, 7];
const FP = [40, 8, 48, 16, 56, 24, 64, 32, 39, 7, 47, 15, 55, 23, 63, 31, 38, 6, 46, 14, 54, 22, 62, 30, 37, 5, 45, 13, 53, 21, 61, 29,
  36, 4, 44, 12, 52, 20, 60, 28, 35, 3, 43, 11, 51, 19, 59, 27, 34, 2, 42, 10, 50, 18, 58, 26, 33, 1, 41, 9, 49, 17, 57, 25];
const E = [32, 1, 2, 3, 4, 5, 4, 5, 6, 7, 8, 9, 8, 9, 10, 11, 12, 13, 12, 13, 14, 15, 16, 17,
  16, 17, 18, 19, 20, 21, 20, 21, 22, 23, 24, 25, 24, 25, 26, 27, 28, 29, 28, 29, 30, 31, 32, 1];
const P = [16, 7, 20, 21, 29, 12, 28, 17, 1, 15, 23, 26, 5, 18, 31, 10, 2, 8, 24, 14, 32, 27, 3, 9, 19, 13, 30, 6, 22, 11, 4, 25];
const PC1 = [57, 49, 41, 33, 25, 17, 9, 1, 58, 50, 42, 34, 26, 18, 10, 2, 59, 51, 43, 35, 27, 19, 11, 3, 60, 52, 44, 36,
  63, 55, 47, 39, 31, 23, 15, 7, 62, 54, 46, 38, 30, 22, 14, 6, 61, 53, 45, 37, 29, 21, 13, 5, 28, 20, 12, 4];
const PC2 = [14, 17, 11, 24, 1, 5, 3, 28, 15, 6, 21, 10, 23, 19, 12, 4, 26, 8, 16, 7, 27, 20, 13, 2,
  41, 52, 31, 37, 47, 55, 30, 40, 51, 45, 33, 48, 44, 49, 39, 56, 34, 53, 46, 42, 50, 36, 29, 32];
const SHIFTS = [1, 1, 2, 2, 2, 2, 2, 2, 1, 2, 2, 2, 2, 2, 2, 1];
const S = [
  [14, 4, 13, 1, 2, 15, 11, 8, 3, 10, 6, 12, 5, 9, 0, 7, 0, 15, 7, 4, 14, 2, 13, 1, 10, 6, 12, 11, 9, 5, 3, 8,
    4, 1, 14, 8, 13, 6, 2, 11, 15, 12, 9, 7, 3, 10, 5, 0, 15, 12, 8, 2, 4, 9, 1, 7, 5, 11, 3, 14, 10, 0, 6, 13],
  [15, 1, 8, 14, 6, 11, 3, 4, 9, 7, 2, 13, 12, 0, 5, 10, 3, 13, 4, 7, 15, 2, 8, 14, 12, 0, 1, 10, 6, 9, 11, 5,
    0, 14, 7, 11, 10, 4, 13, 1, 5, 8, 12, 6, 9, 3, 2, 15, 13, 8, 10, 1, 3, 15, 4, 2, 11, 6, 7, 12, 0, 5, 14, 9],
  [10, 0, 9, 14, 6, 3, 15, 5, 1, 13, 12, 7, 11, 4, 2, 8, 13, 7, 0, 9, 3, 4, 6, 10, 2, 8, 5, 14, 12, 11, 15, 1,
    13, 6, 4, 9, 8, 15, 3, 0, 11, 1, 2, 12, 5, 10, 14, 7, 1, 10, 13, 0, 6, 9, 8, 7, 4, 15, 14, 3, 11, 5, 2, 12],
  [7, 13, 14, 3, 0, 6, 9, 10, 1, 2, 8, 5, 11, 12, 4, 15, 13, 8, 11, 5, 6, 15, 0, 3, 4, 7, 2, 12, 1, 10, 14, 9,
    10, 6, 9, 0, 12, 11, 7, 13, 15, 1, 3, 14, 5, 2, 8, 4, 3, 15, 0, 6, 10, 1, 13, 8, 9, 4, 5, 11, 12, 7, 2, 14],
  [2, 12, 4, 1, 7, 10, 11, 6, 8, 5, 3, 15, 13, 0, 14, 9, 14, 11, 2, 12, 4, 7, 13, 1, 5, 0, 15, 10, 3, 9, 8, 6,
    4, 2, 1, 11, 10, 13, 7, 8, 15, 9, 12, 5, 6, 3, 0, 14, 11, 8, 12, 7, 1, 14, 2, 13, 6, 15, 0, 9, 10, 4, 5, 3],
  [12, 1, 10, 15, 9, 2, 6, 8, 0, 13, 3, 4, 14, 7, 5, 11, 10, 15, 4, 2, 7, 12, 9, 5, 6, 1, 13, 14, 0, 11, 3, 8,
    9, 14, 15, 5, 2, 8, 12, 3, 7, 0, 4, 10, 1, 13, 11, 6, 4, 3, 2, 12, 9, 5, 15, 10, 11, 14, 1, 7, 6, 0, 8, 13],
  [4, 11, 2, 14, 15, 0, 8, 13, 3, 12, 9, 7, 5, 10, 6, 1, 13, 0, 11, 7, 4, 9, 1, 10, 14, 3, 5, 12, 2, 15, 8, 6,
    1, 4, 11, 13, 12, 3, 7, 14, 10, 15, 6, 8, 0, 5, 9, 2, 6, 11, 13, 8, 1, 4, 10, 7, 9, 5, 0, 15, 14, 2, 3, 12],
  [13, 2, 8, 4, 6, 15, 11, 1, 10, 9, 3, 14, 5, 0, 12, 7, 1, 15, 13, 8, 10, 3, 7, 4, 12, 5, 6, 11, 0, 14, 9, 2,
    7, 11, 4, 1, 9, 12, 14, 2, 0, 6, 10, 13, 15, 3, 5, 8, 2, 1, 14, 7, 4, 10, 8, 13, 15, 12, 9, 0, 3, 5, 6, 11],
];

type Bits = number[];
const toBits = (bytes: Uint8Array): Bits => [...bytes].flatMap((b) => [7, 6, 5, 4, 3, 2, 1, 0].map((i) => (b >> i) & 1));
const fromBits = (bits: Bits): Uint8Array => Uint8Array.from({ length: bits.length / 8 }, (_, i) => bits.slice(8 * i, 8 * i + 8).reduce((a, b) => (a << 1) | b, 0));
const permute = (bits: Bits, table: readonly number[]): Bits => table.map((i) => bits[i - 1]!);

/** The 16 round keys of a DES key (FIPS 46-3, "key schedule"). */
function subkeys(key: Uint8Array): Bits[] {
  const cd = permute(toBits(key), PC1);
  let c = cd.slice(0, 28);
  let d = cd.slice(28);
  return SHIFTS.map((n) => {
    c = [...c.slice(n), ...c.slice(0, n)];
    d = [...d.slice(n), ...d.slice(0, n)];
    return permute([...c, ...d], PC2);
  });
}

/** One DES block with the given round keys in order (reversed round keys decrypt). */
function desBlock(block: Uint8Array, keys: readonly Bits[]): Uint8Array {
  const bits = permute(toBits(block), IP);
  let l = bits.slice(0, 32);
  let r = bits.slice(32);
  for (const k of keys) {
    const x = permute(r, E).map((b, i) => b ^ k[i]!);
    const f: Bits = [];
    for (let s = 0; s < 8; s++) {
      const six = x.slice(6 * s, 6 * s + 6);
      const v = S[s]![((six[0]! << 1) | six[5]!) * 16 + ((six[1]! << 3) | (six[2]! << 2) | (six[3]! << 1) | six[4]!)]!;
      f.push((v >> 3) & 1, (v >> 2) & 1, (v >> 1) & 1, v & 1);
    }
    const pf = permute(f, P);
    const next = l.map((b, i) => b ^ pf[i]!);
    l = r;
    r = next;
  }
  return fromBits(permute([...r, ...l], FP));
}

/** DES-CBC (one key) or DES-EDE3-CBC (three keys) decryption, padding left on. */
export function desCbcDecrypt(keys: readonly Uint8Array[], iv: Uint8Array, ciphertext: Uint8Array): Uint8Array {
  if (keys.length !== 1 && keys.length !== 3) throw new RangeError('DES takes one key, DES-EDE3 three');
  if (ciphertext.length % 8 !== 0) return new Uint8Array(0);
  const schedules = keys.map(subkeys);
  // EDE3 decryption: D(K1, E(K2, D(K3, x))).
  const steps: Bits[][] = schedules.length === 1 ? [[...schedules[0]!].reverse()] : [[...schedules[2]!].reverse(), schedules[1]!, [...schedules[0]!].reverse()];
  const out = new Uint8Array(ciphertext.length);
  let prev = iv;
  for (let i = 0; i < ciphertext.length; i += 8) {
    const block = ciphertext.subarray(i, i + 8);
    let x = block;
    for (const keysForStep of steps) x = desBlock(x, keysForStep);
    for (let j = 0; j < 8; j++) out[i + j] = x[j]! ^ prev[j]!;
    prev = block;
  }
  return out;
}
