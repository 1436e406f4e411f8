/**
 * One loader for every public key a verifier is given: securesystemslib's formats (`loadPublicKey`: PEM, DER,
 * JSON) or an OpenPGP key exported by gpg (binary or armored), recognised by its first bytes. The tools take
 * either wherever they take a public key file, so verification never needs the gpg binary.
 */
import { loadPublicKey, type LoadOptions, type PublicKey } from './keys.js';
import { gpgKeyFromExport, type GpgPublicKey } from './openpgp/key.js';

/** A key that verifies signatures: securesystemslib's kinds, or an OpenPGP key with its subkeys. */
export type VerificationKey = PublicKey | GpgPublicKey;

/** Whether `data` looks like OpenPGP key material: an armored key block, or binary starting with a public key packet. */
export function isOpenPgpKeyData(data: Uint8Array | string): boolean {
  if (typeof data === 'string') return data.trimStart().startsWith('-----BEGIN PGP PUBLIC KEY BLOCK-----');
  // RFC 4880 §4.2: tag 6 in the old format (0x98-0x9a) or the new one (0xc6).
  if (data.length > 0 && (data[0] === 0x98 || data[0] === 0x99 || data[0] === 0x9a || data[0] === 0xc6)) return true;
  const head = new TextDecoder().decode(data.subarray(0, 64)).trimStart();
  return head.startsWith('-----BEGIN PGP PUBLIC KEY BLOCK-----');
}

export interface LoadVerificationKeyOptions extends LoadOptions {
  /** For OpenPGP data holding several keys: the one to take (fingerprint or its end; a subkey's names its master). */
  keyid?: string;
}

/** A public key from its file's contents, OpenPGP or not (see the file comment). */
export async function loadVerificationKey(data: Uint8Array | string, options: LoadVerificationKeyOptions = {}): Promise<VerificationKey> {
  if (isOpenPgpKeyData(data)) return gpgKeyFromExport(data, options.keyid);
  const { keyid: _, ...opts } = options;
  return loadPublicKey(data, opts);
}
