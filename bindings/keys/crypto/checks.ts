/**
 * The labelled argument checks every backend's `verify` and `verifyWith` open with: bytes that are not a
 * Uint8Array are misuse, a TypeError naming the argument, raised before any key is read and the same on every
 * backend (signature bytes that merely fail to verify give `false`, never an error).
 */
import { abytes } from '../../errors.js';

/** `verify(key, data, signature)`: the message and the signature. */
export function checkVerifyInput(data: Uint8Array, signature: Uint8Array): void {
  abytes(data, 'data');
  abytes(signature, 'signature');
}

/** `verifyWith(spki, algorithm, data, signature)`: the key's SubjectPublicKeyInfo, then as `verify`. */
export function checkVerifyWithInput(spki: Uint8Array, data: Uint8Array, signature: Uint8Array): void {
  abytes(spki, 'spki');
  checkVerifyInput(data, signature);
}
