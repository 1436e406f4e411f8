/**
 * The key model: the types every part of the keys wing shares (keys.ts, the crypto backends, their interface
 * in crypto/types.ts), in a file of their own so that the backends and keys.ts need not import each other
 * for them. keys.ts re-exports them; the functions over them live there.
 */

export type KeyType = 'ed25519' | 'rsa' | 'ecdsa';
export type Scheme = 'ed25519' | 'rsassa-pss-sha256' | 'ecdsa-sha2-nistp256' | 'ecdsa-sha2-nistp384' | 'ecdsa-sha2-nistp521';

export interface PublicKey {
  readonly keytype: KeyType;
  readonly scheme: Scheme;
  /** `keyval.public` exactly as the reference stores it (hex for ed25519, SPKI PEM otherwise). */
  readonly public: string;
  /** `keyid_hash_algorithms`, when the key carried it (every key the reference loads from a file does). */
  readonly keyidHashAlgorithms?: readonly string[];
  readonly keyid: string;
  /** The key as DER SubjectPublicKeyInfo (RFC 5280 §4.1.2.7): what crypto backends import. */
  readonly spki: Uint8Array;
}

/** A private key is also its public key (same fields), so it can name itself in signatures. */
export interface PrivateKey extends PublicKey {
  /** The public half alone, to hand out. */
  readonly publicKey: PublicKey;
  /** Unencrypted PKCS#8 PrivateKeyInfo DER (RFC 5208 §5). Not enumerable: it stays out of logs and JSON. */
  readonly pkcs8: Uint8Array;
}

export type HashName = 'SHA-256' | 'SHA-384' | 'SHA-512';
