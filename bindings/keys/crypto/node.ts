/**
 * The node:crypto backend: the fastest on Node (OpenSSL), and the only one that decrypts encrypted PEM.
 * node:crypto is imported when the backend is created, never at module load, so bundles for other
 * runtimes can include this file without pulling Node in.
 */
import type { KeyObject } from 'node:crypto';
import { InTotoError, abytes } from '../../errors.js';
import {
  type HashName, type KeyType, type PrivateKey, type PublicKey, assertSigningScheme, keyGenParams, privateKeyFromPkcs8, signatureHash,
} from '../keys.js';
import { decryptPkcs8 } from './pbe.js';
import { checkVerifyInput, checkVerifyWithInput } from './checks.js';
import type { CryptoBackend, GenerateOptions, SignatureAlgorithm } from './types.js';

type NodeCrypto = typeof import('node:crypto');

export async function createNodeBackend(): Promise<CryptoBackend> {
  // Other runtimes' node:crypto shims (workerd's nodejs_compat) refuse `{ key, padding }` and `dsaEncoding`
  // options and would report every RSA and ECDSA signature as invalid: this backend is for Node and Deno only.
  const g = globalThis as { Deno?: unknown; navigator?: { userAgent?: unknown } };
  const agent = g.navigator?.userAgent;
  if (typeof agent === 'string' && !agent.startsWith('Node.js') && g.Deno === undefined) {
    throw new InTotoError('UNSUPPORTED', `the node backend runs on Node and Deno, not ${agent}`);
  }
  let crypto: NodeCrypto;
  try {
    // process.getBuiltinModule (Node >= 20.16) skips the ES module loader's resolve and load of a dynamic import.
    const proc = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
    crypto = (proc?.getBuiltinModule?.('node:crypto') as NodeCrypto | undefined) ?? (await import('node:crypto'));
  } catch (cause) {
    throw new InTotoError('UNSUPPORTED', 'node:crypto is not available in this runtime', {}, { cause });
  }
  return new NodeBackend(crypto);
}

/** RFC 8017 §9.1: securesystemslib signs with a salt as long as the digest (`PSS.DIGEST_LENGTH`). */
const PSS_SIGN_SALT = 32;

class NodeBackend implements CryptoBackend {
  readonly name = 'node';
  readonly #crypto: NodeCrypto;
  // Keys are immutable, so parsed KeyObjects can be kept as long as the key lives.
  readonly #publicKeys = new WeakMap<PublicKey, KeyObject>();
  readonly #privateKeys = new WeakMap<PrivateKey, KeyObject>();

  constructor(crypto: NodeCrypto) {
    this.#crypto = crypto;
  }

  async verify(key: PublicKey, data: Uint8Array, signature: Uint8Array): Promise<boolean> {
    return this.#verify(key, data, signature);
  }

  verifySync(key: PublicKey, data: Uint8Array, signature: Uint8Array): boolean {
    return this.#verify(key, data, signature);
  }

  #verify(key: PublicKey, data: Uint8Array, signature: Uint8Array): boolean {
    checkVerifyInput(data, signature);
    const keyObject = this.#publicKey(key);
    const { constants } = this.#crypto;
    try {
      switch (key.keytype) {
        case 'ed25519':
          return this.#crypto.verify(null, data, keyObject, signature);
        case 'rsa':
          // securesystemslib verifies with `PSS.AUTO`: any salt length the encoding shows.
          return this.#crypto.verify(
            'sha256',
            data,
            { key: keyObject, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_AUTO },
            signature,
          );
        case 'ecdsa':
          return this.#crypto.verify(nodeHash(key), data, { key: keyObject, dsaEncoding: 'der' }, signature);
      }
    } catch {
      // Malformed signature bytes make OpenSSL throw for some key types: that is a failed verification.
      return false;
    }
  }

  async verifyWith(spki: Uint8Array, algorithm: SignatureAlgorithm, data: Uint8Array, signature: Uint8Array): Promise<boolean> {
    checkVerifyWithInput(spki, data, signature);
    let keyObject: KeyObject;
    try {
      keyObject = this.#crypto.createPublicKey({ key: Buffer.from(spki), format: 'der', type: 'spki' });
    } catch (cause) {
      throw new InTotoError('KEY', 'node:crypto cannot read the public key', {}, { cause });
    }
    const { constants } = this.#crypto;
    const type = keyObject.asymmetricKeyType;
    const hash = algorithm.hash === undefined ? undefined : nodeHashName(algorithm.hash);
    try {
      switch (algorithm.name) {
        case 'Ed25519':
          return type === 'ed25519' && this.#crypto.verify(null, data, keyObject, signature);
        case 'RSASSA-PKCS1-v1_5':
          return type === 'rsa' && this.#crypto.verify(hash, data, { key: keyObject, padding: constants.RSA_PKCS1_PADDING }, signature);
        case 'RSA-PSS':
          return (
            (type === 'rsa' || type === 'rsa-pss') &&
            this.#crypto.verify(hash, data, { key: keyObject, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: algorithm.saltLength ?? 32 }, signature)
          );
        case 'ECDSA':
          return type === 'ec' && this.#crypto.verify(hash, data, { key: keyObject, dsaEncoding: 'der' }, signature);
        default:
          throw new InTotoError('UNSUPPORTED', `unsupported signature algorithm ${JSON.stringify(algorithm.name)}`);
      }
    } catch (error) {
      if (error instanceof InTotoError) throw error;
      return false;
    }
  }

  async sign(key: PrivateKey, data: Uint8Array): Promise<Uint8Array> {
    abytes(data, 'data');
    assertSigningScheme(key);
    const keyObject = this.#privateKey(key);
    return Uint8Array.from(
      withKey(key, () => {
        switch (key.keytype) {
          case 'ed25519':
            return this.#crypto.sign(null, data, keyObject);
          case 'rsa':
            return this.#crypto.sign('sha256', data, {
              key: keyObject,
              padding: this.#crypto.constants.RSA_PKCS1_PSS_PADDING,
              saltLength: PSS_SIGN_SALT,
            });
          case 'ecdsa':
            return this.#crypto.sign(nodeHash(key), data, { key: keyObject, dsaEncoding: 'der' });
        }
      }),
    );
  }

  async generateKeyPair(keytype: KeyType, opts?: GenerateOptions): Promise<PrivateKey> {
    const params = keyGenParams(keytype, opts);
    const encoding = {
      publicKeyEncoding: { type: 'spki', format: 'der' },
      privateKeyEncoding: { type: 'pkcs8', format: 'der' },
    } as const;
    const pkcs8 = await new Promise<Uint8Array>((resolve, reject) => {
      const done = (err: Error | null, _publicKey: Uint8Array, privateKey: Uint8Array): void =>
        err ? reject(err) : resolve(Uint8Array.from(privateKey));
      if (keytype === 'ed25519') this.#crypto.generateKeyPair('ed25519', encoding, done);
      else if (params.curve) this.#crypto.generateKeyPair('ec', { namedCurve: params.curve.name, ...encoding }, done);
      else this.#crypto.generateKeyPair('rsa', { modulusLength: params.bits as number, publicExponent: 65537, ...encoding }, done);
    });
    return privateKeyFromPkcs8(pkcs8);
  }

  async decryptPrivateKey(pem: string, password: string): Promise<Uint8Array> {
    if (typeof pem !== 'string' || typeof password !== 'string') throw new TypeError('pem and password must be strings');
    let keyObject: KeyObject;
    try {
      keyObject = this.#crypto.createPrivateKey({ key: pem, format: 'pem', passphrase: password });
    } catch (cause) {
      // OpenSSL 3 without its legacy provider refuses PBES1 (MD5/SHA-1 and DES), which python still reads.
      const der = (cause as { code?: string }).code === 'ERR_OSSL_EVP_UNSUPPORTED' ? encryptedPkcs8Der(pem) : undefined;
      if (der) return decryptPkcs8(der, password);
      // OpenSSL cannot tell a wrong password from damaged ciphertext; the password is the likely culprit.
      throw new InTotoError('KEY_PASSWORD', 'could not decrypt the private key: wrong password (or a damaged key)', {}, { cause });
    }
    return Uint8Array.from(keyObject.export({ type: 'pkcs8', format: 'der' }));
  }

  #publicKey(key: PublicKey): KeyObject {
    let keyObject = this.#publicKeys.get(key);
    if (!keyObject) {
      const spki = spkiOf(key);
      keyObject = withKey(key, () => this.#crypto.createPublicKey({ key: spki, format: 'der', type: 'spki' }));
      this.#publicKeys.set(key, keyObject);
    }
    return keyObject;
  }

  #privateKey(key: PrivateKey): KeyObject {
    let keyObject = this.#privateKeys.get(key);
    if (!keyObject) {
      const pkcs8 = key.pkcs8;
      if (!(pkcs8 instanceof Uint8Array)) throw new TypeError('key must be a PrivateKey');
      keyObject = withKey(key, () => this.#crypto.createPrivateKey({ key: Buffer.from(pkcs8), format: 'der', type: 'pkcs8' }));
      this.#privateKeys.set(key, keyObject);
    }
    return keyObject;
  }
}

/** The DER of an `ENCRYPTED PRIVATE KEY` PEM (RFC 7468 §11), or undefined for any other PEM. */
function encryptedPkcs8Der(pem: string): Uint8Array | undefined {
  const m = /-----BEGIN ENCRYPTED PRIVATE KEY-----([A-Za-z0-9+/=\s]+)-----END ENCRYPTED PRIVATE KEY-----/.exec(pem);
  return m ? Uint8Array.from(Buffer.from(m[1]!.replace(/\s+/g, ''), 'base64')) : undefined;
}

function spkiOf(key: PublicKey): Buffer {
  if (!(key?.spki instanceof Uint8Array)) throw new TypeError('key must be a PublicKey');
  return Buffer.from(key.spki);
}

/** Runs a node:crypto call on a key; its failure (a key OpenSSL refuses, e.g. RSA too small for PSS) is `KEY`. */
function withKey<T>(key: PublicKey, use: () => T): T {
  try {
    return use();
  } catch (cause) {
    throw new InTotoError('KEY', `node:crypto cannot use the ${key.keytype} key ${key.keyid}`, { keyid: key.keyid }, { cause });
  }
}

/** The curve decides an ECDSA key's hash, never its scheme label (see `signatureHash`). */
const nodeHash = (key: PublicKey): string => nodeHashName(signatureHash(key));
const nodeHashName = (hash: HashName | 'SHA-1' | 'SHA-224'): string => ({ 'SHA-1': 'sha1', 'SHA-224': 'sha224', 'SHA-256': 'sha256', 'SHA-384': 'sha384', 'SHA-512': 'sha512' })[hash];
