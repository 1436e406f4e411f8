/**
 * Picks the crypto backend, fastest first: node:crypto on Node, WebCrypto where present, else the pure
 * @noble/ed25519 fallback. Backends are loaded on first use (dynamic import), so nothing Node-specific is
 * loaded in browsers or Workers and nothing runs at import time.
 */
import { InTotoError } from '../../errors.js';
import type { KeyType, PrivateKey, PublicKey } from '../key-types.js';
import type { BackendName, CryptoBackend, GenerateOptions, SignatureAlgorithm } from './types.js';

export type { BackendName, CryptoBackend, GenerateOptions, SignatureAlgorithm } from './types.js';

export const BACKENDS: readonly BackendName[] = ['node', 'webcrypto', 'noble'];

/** The backend this runtime gets by default. */
export function defaultBackendName(): BackendName {
  if (isNode()) return 'node';
  if (globalThis.crypto?.subtle) return 'webcrypto';
  return 'noble';
}

const loaded = new Map<BackendName, Promise<CryptoBackend>>();

/** The named backend (the runtime's default when absent); `UNSUPPORTED` if this runtime lacks it. */
export function getBackend(name: BackendName = defaultBackendName()): Promise<CryptoBackend> {
  let backend = loaded.get(name);
  if (!backend) {
    backend = load(name);
    loaded.set(name, backend);
    backend.catch(() => loaded.delete(name));
  }
  return backend;
}

function load(name: BackendName): Promise<CryptoBackend> {
  switch (name) {
    case 'node':
      return import('./node.js').then((m) => m.createNodeBackend());
    case 'webcrypto':
      return import('./webcrypto.js').then((m) => m.createWebCryptoBackend());
    case 'noble':
      return import('./noble.js').then((m) => m.createNobleBackend());
    default:
      return Promise.reject(new InTotoError('UNSUPPORTED', `unknown crypto backend ${JSON.stringify(name)} (expected ${BACKENDS.join(', ')})`));
  }
}

export interface BackendOption {
  backend?: BackendName;
}

/** Whether `signature` is `key`'s signature over `data`; see `CryptoBackend.verify`. */
export async function verify(key: PublicKey, data: Uint8Array, signature: Uint8Array, opts: BackendOption = {}): Promise<boolean> {
  return (await getBackend(opts.backend)).verify(key, data, signature);
}

/** Whether `signature` verifies with the DER SPKI `spki` under an X.509 signature algorithm; see `CryptoBackend.verifyWith`. */
export async function verifyWith(
  spki: Uint8Array,
  algorithm: SignatureAlgorithm,
  data: Uint8Array,
  signature: Uint8Array,
  opts: BackendOption = {},
): Promise<boolean> {
  return (await getBackend(opts.backend)).verifyWith(spki, algorithm, data, signature);
}

export async function sign(key: PrivateKey, data: Uint8Array, opts: BackendOption = {}): Promise<Uint8Array> {
  return (await getBackend(opts.backend)).sign(key, data);
}

export async function generateKeyPair(keytype: KeyType, opts: GenerateOptions & BackendOption = {}): Promise<PrivateKey> {
  return (await getBackend(opts.backend)).generateKeyPair(keytype, opts);
}

/**
 * Node proper, not a runtime that imitates parts of it: Deno, Bun and workerd expose `process.versions.node`
 * too, but name themselves in `navigator.userAgent` (Node has it from version 21, as `Node.js/...`).
 */
function isNode(): boolean {
  const proc = (globalThis as { process?: { versions?: { node?: unknown } } }).process;
  if (typeof proc?.versions?.node !== 'string') return false;
  const agent = (globalThis as { navigator?: { userAgent?: unknown } }).navigator?.userAgent;
  return typeof agent !== 'string' || agent.startsWith('Node.js');
}
