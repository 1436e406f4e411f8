/**
 * The WebCrypto backend (`crypto.subtle`): browsers, Deno, Cloudflare Workers. Two gaps with the reference
 * are closed here: WebCrypto wants ECDSA signatures as raw r||s (IEEE P1363) where in-toto stores DER, and
 * it verifies RSA-PSS with one exact salt length where securesystemslib accepts any.
 * Where WebCrypto lacks Ed25519, Ed25519 goes to @noble/ed25519.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { modPow, toBigInt } from '../../bigint.js';
import { DerError, DerReader, derSequence, derUnsignedInteger } from '../der.js';
import { InTotoError, abytes } from '../../errors.js';
import {
  type KeyType, type PrivateKey, type PublicKey, type Scheme, assertSigningScheme, ecdsaCurve, keyGenParams, privateKeyFromPkcs8, signatureHash,
} from '../keys.js';
import { checkVerifyInput, checkVerifyWithInput } from './checks.js';
import type { CryptoBackend, GenerateOptions, SignatureAlgorithm } from './types.js';

/** RFC 8017 §9.1: securesystemslib signs with a salt as long as the digest (`PSS.DIGEST_LENGTH`). */
const PSS_SIGN_SALT = 32;
/** SHA-256 output length, hLen in RFC 8017 §9.1. */
const H_LEN = 32;

export function createWebCryptoBackend(subtle: SubtleCrypto | undefined = globalThis.crypto?.subtle): CryptoBackend {
  if (!subtle) throw new InTotoError('UNSUPPORTED', 'WebCrypto (crypto.subtle) is not available in this runtime');
  return new WebCryptoBackend(subtle);
}

type Usage = 'sign' | 'verify';

class WebCryptoBackend implements CryptoBackend {
  readonly name = 'webcrypto';
  readonly #subtle: SubtleCrypto;
  // Keys are immutable, so imported CryptoKeys can be kept as long as the key lives.
  readonly #publicKeys = new WeakMap<PublicKey, Promise<CryptoKey | undefined>>();
  readonly #privateKeys = new WeakMap<PrivateKey, Promise<CryptoKey | undefined>>();
  #noble?: Promise<CryptoBackend>;

  constructor(subtle: SubtleCrypto) {
    this.#subtle = subtle;
  }

  async verify(key: PublicKey, data: Uint8Array, signature: Uint8Array): Promise<boolean> {
    checkVerifyInput(data, signature);
    const cryptoKey = await cached(this.#publicKeys, key, () => this.#import(key, 'spki', spkiOf(key), 'verify'));
    if (!cryptoKey) return (await this.#nobleBackend()).verify(key, data, signature);
    const subtle = this.#subtle;
    try {
      switch (key.keytype) {
        case 'ed25519':
          return await subtle.verify('Ed25519', cryptoKey, view(signature), view(data));
        case 'rsa': {
          if (await subtle.verify({ name: 'RSA-PSS', saltLength: PSS_SIGN_SALT }, cryptoKey, view(signature), view(data))) return true;
          const saltLength = pssSaltLength(key, signature);
          return saltLength !== undefined && saltLength !== PSS_SIGN_SALT && (await subtle.verify({ name: 'RSA-PSS', saltLength }, cryptoKey, view(signature), view(data)));
        }
        case 'ecdsa': {
          const raw = ecdsaDerToRaw(signature, ecdsaCurve(key).size);
          return raw !== undefined && (await subtle.verify({ name: 'ECDSA', hash: signatureHash(key) }, cryptoKey, view(raw), view(data)));
        }
      }
    } catch {
      return false;
    }
  }

  async verifyWith(spki: Uint8Array, algorithm: SignatureAlgorithm, data: Uint8Array, signature: Uint8Array): Promise<boolean> {
    checkVerifyWithInput(spki, data, signature);
    const { name, hash } = algorithm;
    let params: AlgorithmIdentifier | RsaHashedImportParams | EcKeyImportParams;
    let curveSize = 0;
    if (name === 'Ed25519') params = { name };
    else if (name === 'RSASSA-PKCS1-v1_5' || name === 'RSA-PSS') params = { name, hash: hash ?? 'SHA-256' };
    else if (name === 'ECDSA') {
      let curve;
      try {
        curve = ecdsaCurve({ scheme: 'ecdsa-sha2-nistp256' as Scheme, spki });
      } catch {
        return false; // not an EC key (or one we cannot use): not this algorithm's key
      }
      curveSize = curve.size;
      params = { name, namedCurve: curve.name };
    } else throw new InTotoError('UNSUPPORTED', `unsupported signature algorithm ${JSON.stringify(name)}`);
    let cryptoKey: CryptoKey;
    try {
      cryptoKey = await this.#subtle.importKey('spki', view(spki), params, false, ['verify']);
    } catch (cause) {
      if (name === 'Ed25519' && isNotSupported(cause)) {
        const noble = await this.#nobleBackend();
        return noble.verifyWith(spki, algorithm, data, signature);
      }
      // A key of another type than the algorithm's (DataError) is a signature that does not verify.
      if (cause instanceof Error && cause.name === 'DataError') return false;
      throw new InTotoError('KEY', 'WebCrypto cannot read the public key', {}, { cause });
    }
    try {
      if (name === 'ECDSA') {
        const raw = ecdsaDerToRaw(signature, curveSize);
        return raw !== undefined && (await this.#subtle.verify({ name, hash: hash ?? 'SHA-256' }, cryptoKey, view(raw), view(data)));
      }
      const alg = name === 'RSA-PSS' ? { name, saltLength: algorithm.saltLength ?? 32 } : { name };
      return await this.#subtle.verify(alg, cryptoKey, view(signature), view(data));
    } catch {
      return false;
    }
  }

  async sign(key: PrivateKey, data: Uint8Array): Promise<Uint8Array> {
    abytes(data, 'data');
    assertSigningScheme(key);
    const cryptoKey = await cached(this.#privateKeys, key, () => this.#import(key, 'pkcs8', pkcs8Of(key), 'sign'));
    if (!cryptoKey) return (await this.#nobleBackend()).sign(key, data);
    let algorithm: AlgorithmIdentifier | RsaPssParams | EcdsaParams;
    switch (key.keytype) {
      case 'ed25519':
        algorithm = 'Ed25519';
        break;
      case 'rsa':
        algorithm = { name: 'RSA-PSS', saltLength: PSS_SIGN_SALT };
        break;
      case 'ecdsa':
        algorithm = { name: 'ECDSA', hash: signatureHash(key) };
        break;
    }
    let signature: Uint8Array;
    try {
      signature = new Uint8Array(await this.#subtle.sign(algorithm, cryptoKey, view(data)));
    } catch (cause) {
      // A key WebCrypto imported but cannot sign with (e.g. RSA too small for a 32-byte PSS salt).
      throw new InTotoError('KEY', `WebCrypto cannot sign with the ${key.keytype} key ${key.keyid}`, { keyid: key.keyid }, { cause });
    }
    return key.keytype === 'ecdsa' ? ecdsaRawToDer(signature) : signature;
  }

  async generateKeyPair(keytype: KeyType, opts?: GenerateOptions): Promise<PrivateKey> {
    const params = keyGenParams(keytype, opts);
    let algorithm: AlgorithmIdentifier | RsaHashedKeyGenParams | EcKeyGenParams;
    if (keytype === 'ed25519') algorithm = { name: 'Ed25519' };
    else if (params.curve) algorithm = { name: 'ECDSA', namedCurve: params.curve.name };
    // F4 = 65537, the exponent every implementation uses (RFC 8017 leaves it open).
    else algorithm = { name: 'RSA-PSS', modulusLength: params.bits as number, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' };
    let pair: CryptoKeyPair;
    try {
      pair = (await this.#subtle.generateKey(algorithm, true, ['sign', 'verify'])) as CryptoKeyPair;
    } catch (cause) {
      if (keytype === 'ed25519' && isNotSupported(cause)) return (await this.#nobleBackend()).generateKeyPair(keytype, opts);
      throw cause;
    }
    return privateKeyFromPkcs8(new Uint8Array(await this.#subtle.exportKey('pkcs8', pair.privateKey)));
  }

  async decryptPrivateKey(): Promise<Uint8Array> {
    throw new InTotoError('UNSUPPORTED', 'WebCrypto cannot decrypt encrypted PEM private keys; decrypt the key first, or use Node');
  }

  /** Imports a key; `undefined` means "Ed25519, which this WebCrypto lacks". */
  async #import(key: PublicKey, format: 'spki' | 'pkcs8', der: Uint8Array, usage: Usage): Promise<CryptoKey | undefined> {
    let algorithm: AlgorithmIdentifier | RsaHashedImportParams | EcKeyImportParams;
    switch (key.keytype) {
      case 'ed25519':
        algorithm = { name: 'Ed25519' };
        break;
      case 'rsa':
        algorithm = { name: 'RSA-PSS', hash: 'SHA-256' };
        break;
      case 'ecdsa':
        algorithm = { name: 'ECDSA', namedCurve: ecdsaCurve(key).name };
        break;
      default:
        throw new TypeError('key must be a PublicKey or PrivateKey');
    }
    try {
      return await this.#subtle.importKey(format, view(der), algorithm, false, [usage]);
    } catch (cause) {
      if (key.keytype === 'ed25519' && isNotSupported(cause)) return undefined;
      throw new InTotoError('KEY', `WebCrypto cannot use the ${key.keytype} key ${key.keyid}`, { keyid: key.keyid }, { cause });
    }
  }

  #nobleBackend(): Promise<CryptoBackend> {
    this.#noble ??= import('./noble.js').then((m) => m.createNobleBackend());
    return this.#noble;
  }
}

function cached<K extends object, V>(cache: WeakMap<K, Promise<V>>, key: K, load: () => Promise<V>): Promise<V> {
  let value = cache.get(key);
  if (!value) {
    value = load();
    cache.set(key, value);
    value.catch(() => cache.delete(key));
  }
  return value;
}

/** WebCrypto's types want ArrayBuffer-backed views; ours may be typed more loosely (a SharedArrayBuffer view is refused at run time). */
const view = (bytes: Uint8Array): Uint8Array<ArrayBuffer> => bytes as Uint8Array<ArrayBuffer>;

const isNotSupported = (e: unknown): boolean => e instanceof Error && e.name === 'NotSupportedError';

function spkiOf(key: PublicKey): Uint8Array {
  if (!(key?.spki instanceof Uint8Array)) throw new TypeError('key must be a PublicKey');
  return key.spki;
}

function pkcs8Of(key: PrivateKey): Uint8Array {
  if (!(key?.pkcs8 instanceof Uint8Array)) throw new TypeError('key must be a PrivateKey');
  return key.pkcs8;
}

// ---- ECDSA signature encodings ----

/**
 * DER `Ecdsa-Sig-Value ::= SEQUENCE { r INTEGER, s INTEGER }` (RFC 3279 §2.2.3) to r||s, each left-padded to
 * `size` bytes (IEEE P1363, what WebCrypto takes). `undefined` for anything but canonical DER with r and s
 * that fit: OpenSSL, which the reference uses, refuses non-canonical encodings as well.
 */
export function ecdsaDerToRaw(der: Uint8Array, size: number): Uint8Array | undefined {
  try {
    const outer = new DerReader(der);
    const seq = outer.sequence('Ecdsa-Sig-Value');
    outer.end('Ecdsa-Sig-Value');
    const r = seq.unsignedInteger('r');
    const s = seq.unsignedInteger('s');
    seq.end('Ecdsa-Sig-Value');
    if (r.length > size || s.length > size) return undefined;
    const raw = new Uint8Array(2 * size);
    raw.set(r, size - r.length);
    raw.set(s, 2 * size - s.length);
    return raw;
  } catch (e) {
    if (e instanceof DerError) return undefined;
    throw e;
  }
}

/** r||s (two halves of equal size) to DER `Ecdsa-Sig-Value`, INTEGERs minimal and non-negative. */
export function ecdsaRawToDer(raw: Uint8Array): Uint8Array {
  if (raw.length === 0 || raw.length % 2 !== 0) throw new RangeError('an r||s signature has two halves of equal length');
  const half = raw.length / 2;
  return derSequence(derUnsignedInteger(raw.subarray(0, half)), derUnsignedInteger(raw.subarray(half)));
}

// ---- RSA-PSS salt length ----

/**
 * The salt length an RSA-PSS/SHA-256 signature was made with, read from its encoded message (RFC 8017
 * §8.1.2 RSAVP1, then §9.1.2 steps 4-10), or `undefined` if it is not a PSS encoding. Only public values
 * are involved. This only picks the salt length to ask WebCrypto about; WebCrypto does the verification,
 * so a wrong guess can make a valid signature fail, never an invalid one pass.
 */
export function pssSaltLength(key: PublicKey, signature: Uint8Array): number | undefined {
  const { n, e, bits } = rsaPublicNumbers(key.spki);
  const k = Math.ceil(bits / 8);
  if (signature.length !== k) return undefined;
  const s = toBigInt(signature);
  if (s >= n) return undefined;
  const emBits = bits - 1;
  const emLen = Math.ceil(emBits / 8);
  const m = modPow(s, e, n);
  if (m >> BigInt(8 * emLen) !== 0n) return undefined;
  const em = toBytes(m, emLen);
  if (emLen < H_LEN + 2 || em[emLen - 1] !== 0xbc) return undefined;
  const db = em.subarray(0, emLen - H_LEN - 1);
  const h = em.subarray(emLen - H_LEN - 1, emLen - 1);
  const mask = mgf1Sha256(h, db.length);
  for (let i = 0; i < db.length; i++) db[i] ^= mask[i];
  db[0] &= 0xff >> (8 * emLen - emBits);
  const one = db.findIndex((b) => b !== 0);
  return one >= 0 && db[one] === 0x01 ? db.length - one - 1 : undefined;
}

/** MGF1 with SHA-256 (RFC 8017 appendix B.2.1). */
function mgf1Sha256(seed: Uint8Array, length: number): Uint8Array {
  const out = new Uint8Array(Math.ceil(length / H_LEN) * H_LEN);
  const block = new Uint8Array(seed.length + 4);
  block.set(seed);
  for (let counter = 0; counter * H_LEN < length; counter++) {
    new DataView(block.buffer).setUint32(seed.length, counter);
    out.set(sha256(block), counter * H_LEN);
  }
  return out.subarray(0, length);
}

function rsaPublicNumbers(spki: Uint8Array): { n: bigint; e: bigint; bits: number } {
  const info = new DerReader(spki).sequence('SubjectPublicKeyInfo');
  info.sequence('algorithm');
  const key = new DerReader(info.bitString('subjectPublicKey')).sequence('RSAPublicKey');
  const n = key.unsignedInteger('modulus');
  const e = key.unsignedInteger('publicExponent');
  return { n: toBigInt(n), e: toBigInt(e), bits: n.length * 8 - (Math.clz32(n[0]) - 24) };
}


function toBytes(value: bigint, length: number): Uint8Array {
  const out = new Uint8Array(length);
  let v = value;
  for (let i = length - 1; i >= 0; i--, v >>= 8n) out[i] = Number(v & 0xffn);
  return out;
}
