/**
 * One interface over the crypto each runtime offers (node:crypto, WebCrypto, @noble/ed25519). Backends
 * deal in raw signature bytes; hex and base64 belong to the envelope formats.
 */
import type { HashName, KeyType, PrivateKey, PublicKey, Scheme } from '../key-types.js';

export type BackendName = 'node' | 'webcrypto' | 'noble';

/**
 * A signature algorithm as X.509 certificates name them (RFC 5280 §4.1.1.2; RFC 4055, RFC 5758, RFC 8410), for
 * checking a certificate chain. ECDSA signatures are DER `Ecdsa-Sig-Value` (RFC 3279 §2.2.3), as certificates hold them.
 */
export interface SignatureAlgorithm {
  readonly name: 'RSASSA-PKCS1-v1_5' | 'RSA-PSS' | 'ECDSA' | 'Ed25519';
  /** The digest (not for Ed25519). SHA-1 only for OpenPGP key self-signatures, which old keys carry. */
  readonly hash?: HashName | 'SHA-1' | 'SHA-224';
  /** RSA-PSS only. */
  readonly saltLength?: number;
}

export interface GenerateOptions {
  /** For ECDSA: `ecdsa-sha2-nistp256` (the default, as in-toto-keygen), `ecdsa-sha2-nistp384` or `ecdsa-sha2-nistp521`. */
  scheme?: Scheme;
  /** For RSA: the modulus size, 3072 by default (securesystemslib's default). */
  bits?: number;
}

export interface CryptoBackend {
  readonly name: BackendName;
  /**
   * Whether `signature` is `key`'s signature over `data` under the key's scheme. Signature bytes that do
   * not verify, however malformed, give `false`; a key the backend cannot use is an `InTotoError`
   * (`KEY`, or `UNSUPPORTED` for a key type the backend lacks).
   */
  verify(key: PublicKey, data: Uint8Array, signature: Uint8Array): Promise<boolean>;
  /**
   * `verify`, synchronously, where the runtime's crypto is (node:crypto; absent elsewhere): `data` is read during
   * the call only, so it may be a view that is valid only then (the engine's memory, which the next engine call
   * may reuse or detach).
   */
  verifySync?(key: PublicKey, data: Uint8Array, signature: Uint8Array): boolean;
  /**
   * Whether `signature` over `data` verifies with the public key `spki` (DER SubjectPublicKeyInfo) under
   * `algorithm`: for X.509 certificate signatures, whose algorithms are not in-toto key schemes. A key or an
   * algorithm the backend cannot use is an `InTotoError` (`KEY`, `UNSUPPORTED`); a key of another type than the
   * algorithm's gives `false`.
   */
  verifyWith(spki: Uint8Array, algorithm: SignatureAlgorithm, data: Uint8Array, signature: Uint8Array): Promise<boolean>;
  /** Signs `data` with the key's scheme, in the reference's signature encoding (ECDSA: DER). */
  sign(key: PrivateKey, data: Uint8Array): Promise<Uint8Array>;
  generateKeyPair(keytype: KeyType, opts?: GenerateOptions): Promise<PrivateKey>;
  /**
   * Decrypts a password-protected PEM private key (`ENCRYPTED PRIVATE KEY`, or OpenSSL's legacy
   * `Proc-Type: 4,ENCRYPTED`) to unencrypted PKCS#8 DER. `UNSUPPORTED` where the runtime cannot.
   */
  decryptPrivateKey(pem: string, password: string): Promise<Uint8Array>;
}
