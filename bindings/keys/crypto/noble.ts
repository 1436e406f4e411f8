/**
 * The pure-JavaScript fallback (@noble/ed25519): Ed25519 only, for runtimes with neither node:crypto nor
 * WebCrypto's Ed25519. RSA and ECDSA are `UNSUPPORTED` here.
 */
import * as ed from '@noble/ed25519';
import { sha512 } from '@noble/hashes/sha2.js';
import { InTotoError, abytes } from '../../errors.js';
import { type KeyType, type PrivateKey, type PublicKey, ed25519Seed, keyGenParams, privateKeyFromEd25519Seed } from '../keys.js';
import { DerReader } from '../der.js';
import { checkVerifyInput, checkVerifyWithInput } from './checks.js';
import type { CryptoBackend, GenerateOptions, SignatureAlgorithm } from './types.js';

export function createNobleBackend(): CryptoBackend {
  // noble's synchronous API needs a SHA-512, and documents this one; its async API would need WebCrypto,
  // which is exactly what a runtime using this backend may lack. Set once, never replaced.
  ed.hashes.sha512 ??= sha512;
  return new NobleBackend();
}

class NobleBackend implements CryptoBackend {
  readonly name = 'noble';

  async verify(key: PublicKey, data: Uint8Array, signature: Uint8Array): Promise<boolean> {
    checkVerifyInput(data, signature);
    const raw = ed25519PublicBytes(key);
    try {
      // RFC 8032 §5.1.7 as OpenSSL and libsodium (the reference's libraries) apply it, not ZIP-215.
      return ed.verify(signature, data, raw, { zip215: false });
    } catch {
      return false;
    }
  }

  async verifyWith(spki: Uint8Array, algorithm: SignatureAlgorithm, data: Uint8Array, signature: Uint8Array): Promise<boolean> {
    checkVerifyWithInput(spki, data, signature);
    if (algorithm.name !== 'Ed25519') throw unsupported(algorithm.name);
    let raw: Uint8Array;
    try {
      // RFC 8410 §4: SEQUENCE { SEQUENCE { OID 1.3.101.112 }, BIT STRING key }.
      const info = new DerReader(spki).sequence('SubjectPublicKeyInfo');
      if (new DerReader(info.read(0x30, 'algorithm')).oid('algorithm') !== '1.3.101.112') return false;
      raw = info.bitString('subjectPublicKey');
    } catch (cause) {
      throw new InTotoError('KEY', 'not a readable public key', {}, { cause });
    }
    try {
      return raw.length === 32 && ed.verify(signature, data, raw, { zip215: false });
    } catch {
      return false;
    }
  }

  async sign(key: PrivateKey, data: Uint8Array): Promise<Uint8Array> {
    abytes(data, 'data');
    ed25519PublicBytes(key);
    return ed.sign(data, ed25519Seed(key));
  }

  async generateKeyPair(keytype: KeyType, opts?: GenerateOptions): Promise<PrivateKey> {
    keyGenParams(keytype, opts);
    if (keytype !== 'ed25519') throw unsupported(keytype);
    return privateKeyFromEd25519Seed(ed.utils.randomSecretKey());
  }

  async decryptPrivateKey(): Promise<Uint8Array> {
    throw new InTotoError('UNSUPPORTED', 'the pure-JavaScript backend cannot decrypt encrypted PEM private keys');
  }
}

function ed25519PublicBytes(key: PublicKey): Uint8Array {
  if (!(key?.spki instanceof Uint8Array)) throw new TypeError('key must be a PublicKey');
  if (key.keytype !== 'ed25519') throw unsupported(key.keytype);
  // Our Ed25519 SPKI ends with the 32-byte key (RFC 8410 §4).
  return key.spki.subarray(key.spki.length - 32);
}

const unsupported = (keytype: string): InTotoError =>
  new InTotoError('UNSUPPORTED', `${keytype} keys need node:crypto or WebCrypto; the pure-JavaScript backend has Ed25519 only`);
