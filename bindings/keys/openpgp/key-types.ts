/**
 * The OpenPGP public key model, in a file of its own so that keys (key.ts, which checks self-signatures with
 * signature.ts) and signatures (signature.ts, which verifies with a key) need not import each other for it.
 * key.ts re-exports it.
 */
import type { GpgKeyType, PublicParams } from './algorithms.js';

export interface GpgPublicKey {
  readonly kind: 'openpgp';
  /** The v4 fingerprint, 40 lowercase hex. */
  readonly keyid: string;
  readonly type: GpgKeyType;
  /** The reference's name for the algorithm (`pgp+rsa-pkcsv1.5`, `pgp+dsa-fips-180-2`, `pgp+eddsa-ed25519`). */
  readonly method: string;
  /** `keyval.public`: the key's numbers in hex. */
  readonly public: PublicParams;
  /** Seconds since the epoch; absent in dicts written before the reference recorded it. */
  readonly creationTime?: number;
  /** Seconds after `creationTime` at which the key expires; absent or 0: never. */
  readonly validityPeriod?: number;
  /** Signing subkeys by fingerprint (empty for a subkey). */
  readonly subkeys: ReadonlyMap<string, GpgPublicKey>;
}
