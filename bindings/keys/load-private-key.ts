/**
 * `loadPrivateKey`: keys.ts's reader of private key files with the runtime's default crypto backend, which
 * decrypts encrypted PEM. It sits above `crypto/` in the keys wing: the backends build on keys.ts, so keys.ts
 * takes the backend as an argument and this file supplies the default.
 */
import { getBackend } from './crypto/index.js';
import { readPrivateKey, type LoadPrivateOptions, type PrivateKey } from './keys.js';

/** Reads a private key (every format `readPrivateKey` in keys.ts reads); encrypted PEM is decrypted by `opts.backend` or the runtime's default. */
export function loadPrivateKey(data: string | Uint8Array, opts: LoadPrivateOptions = {}): Promise<PrivateKey> {
  return readPrivateKey(data, opts, () => getBackend());
}
