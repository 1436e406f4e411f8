/**
 * The keys wing (`bindings/keys/`) owns what a key is and how it is read, written, named and used: key files and
 * key ids (this file), the key types (`key-types.ts`), DER (`der.ts`), X.509 certificates (`x509.ts`), the one
 * loader for any public key a verifier is given (`verification-key.ts`), the crypto backends behind one interface
 * (`crypto/`, with `load-private-key.ts` above them) and OpenPGP keys and signatures (`openpgp/`). It imports only
 * the root: it sits below metadata, which signs and verifies envelopes with its keys, while a key never needs a
 * document, so keys know nothing of metadata, verify, record, layout or cli.
 * Wing order, lowest first: root (engine, errors, encoding, bigint) < keys < metadata < verify < record, layout
 * < cli, index < entry; test/architecture.test.ts holds the tree to it.
 */
/**
 * Keys: the model, the file formats the reference (in-toto 1.3.1, securesystemslib 0.26) reads and writes,
 * and key ids. Everything here is synchronous and runtime-neutral except `readPrivateKey`, which may need
 * a crypto backend (encrypted PEM) or WebCrypto (encrypted securesystemslib keys). The backends build on this
 * file (a generated key is PKCS#8 that it parses), so it takes the backend as an argument rather than importing
 * `crypto/`: `loadPrivateKey` (load-private-key.ts) is `readPrivateKey` with the runtime's default backend.
 *
 * What the reference stores as `keyval.public` depends on where the key came from, and the key id hashes
 * that string, so we reproduce each case (see `publicValue`):
 * - ed25519: the raw 32-byte key as hex.
 * - rsa: the SPKI PEM cut from `-----BEGIN` to the end of `-----END PUBLIC KEY-----` (`extract_pem`), so
 *   never a trailing newline, whether read from a `.pub` file or derived from a private key.
 * - ecdsa: from a JSON key file, the string in the file (which the reference wrote with a trailing
 *   newline); from a private key or a new key, the library's PEM, trailing newline kept; from a public
 *   PEM file, cut like RSA (no trailing newline).
 * Read from a PEM, `\r\n` becomes `\n`; a JSON key's string is kept exactly. A key read from DER, raw bytes, an
 * `RSA PUBLIC KEY` or a certificate gets the PEM that in-toto-golang writes for it (64-character lines, no
 * trailing newline).
 *
 * Key ids (see `keyidCandidates`): three schemes are in use. K1, the legacy one (in-toto 1.x, golang, rs for RSA):
 * the dict with `keyid_hash_algorithms`; K2 without it (securesystemslib >= 1.0, rs for ed25519); K3 is K2 over
 * the PEM with its trailing newline (python in-toto >= 2 for RSA and ECDSA). in-toto-golang labels every ECDSA key
 * `ecdsa-sha2-nistp256` whatever its curve, and that label enters its ids. We accept that label on P-384 and
 * P-521 keys, but a label never decides how a signature is checked: the curve comes from the key itself, and
 * the hash from the curve (RFC 5656 §6.2.1: P-256 SHA-256, P-384 SHA-384, P-521 SHA-512). We refuse to sign
 * with such a mislabelled key, since python would check that signature with the label's hash.
 */
import { Point } from '@noble/ed25519';
import { sha256, sha512 } from '@noble/hashes/sha2.js';
import { bytesToHex, hexToBytes, utf8ToBytes } from '@noble/hashes/utils.js';
import type { CryptoBackend } from './crypto/types.js';
import type { HashName, KeyType, PrivateKey, PublicKey, Scheme } from './key-types.js';
import {
  DerError,
  DerReader,
  TAG,
  derBitString,
  derExplicit,
  derNull,
  derOctetString,
  derOid,
  derSequence,
  derSmallInteger,
  derTlv,
  derUnsignedInteger,
} from './der.js';
import { canonicalize, parseJson as parseStrictJson } from '../engine.js';
import { InTotoError, abytes } from '../errors.js';

export type { HashName, KeyType, PrivateKey, PublicKey, Scheme } from './key-types.js';

/** A key as it appears in a layout's `keys` map (securesystemslib's public key dict). */
export interface KeyDict {
  keyid: string;
  keytype: KeyType;
  scheme: Scheme;
  keyid_hash_algorithms?: string[];
  keyval: { public: string; private?: '' };
}

export interface LoadOptions {
  /** The expected key type; a key of another type is refused. Detected from the key when absent. */
  keyType?: KeyType;
  /**
   * The scheme to label a PEM, DER or raw key with (JSON keys carry their own). Default: the key type's, for
   * ECDSA the curve's. `ecdsa-sha2-nistp256` on a P-384 or P-521 key gives the ids in-toto-golang computes.
   */
  scheme?: Scheme;
}

export interface LoadPrivateOptions extends LoadOptions {
  /** Decrypts an encrypted key. Giving one for an unencrypted key is an error, as in the reference. */
  password?: string;
  /** The backend that decrypts encrypted PEM; the runtime's default when absent. */
  backend?: CryptoBackend;
}

/** What the readers of private keys pass down: the options, and where a backend comes from when none is given. */
interface ReadPrivateOptions extends LoadPrivateOptions {
  readonly defaultBackend: () => Promise<CryptoBackend>;
}

const KEY_TYPES: readonly KeyType[] = ['ed25519', 'rsa', 'ecdsa'];

/** securesystemslib `settings.HASH_ALGORITHMS`: always part of the dict a legacy key id hashes. */
const KEYID_HASH_ALGORITHMS = ['sha256', 'sha512'];

// Algorithm identifiers.
const OID_RSA = '1.2.840.113549.1.1.1'; // rsaEncryption, RFC 8017 appendix C
const OID_EC = '1.2.840.10045.2.1'; // id-ecPublicKey, RFC 5480 §2.1.1
const OID_ED25519 = '1.3.101.112'; // id-Ed25519, RFC 8410 §3

export interface Curve {
  /** The curve's own scheme (securesystemslib's name for it). */
  readonly scheme: Scheme;
  /** namedCurve, RFC 5480 §2.1.1.1. */
  readonly oid: string;
  /** The WebCrypto / JWK name. */
  readonly name: 'P-256' | 'P-384' | 'P-521';
  /** Bytes in a coordinate, in the private scalar, and in each of r and s. */
  readonly size: number;
  /** The hash ECDSA uses with this curve (RFC 5656 §6.2.1). */
  readonly hash: HashName;
}

/** The NIST curves ECDSA keys may use (RFC 5480 §2.1.1.1 OIDs). */
const CURVES: readonly Curve[] = [
  { scheme: 'ecdsa-sha2-nistp256', oid: '1.2.840.10045.3.1.7', name: 'P-256', size: 32, hash: 'SHA-256' },
  { scheme: 'ecdsa-sha2-nistp384', oid: '1.3.132.0.34', name: 'P-384', size: 48, hash: 'SHA-384' },
  { scheme: 'ecdsa-sha2-nistp521', oid: '1.3.132.0.35', name: 'P-521', size: 66, hash: 'SHA-512' },
];

/** Curves met in other implementations' test keys that we do not support, by OID, to name them in errors. */
const UNSUPPORTED_CURVES: Readonly<Record<string, string>> = {
  '1.3.132.0.33': 'P-224 (no securesystemslib scheme, no WebCrypto support)',
  '1.3.132.0.10': 'secp256k1 (no securesystemslib scheme, no WebCrypto support)',
};

/** The label in-toto-golang gives every ECDSA key by default, whatever its curve. */
const GOLANG_ECDSA_LABEL: Scheme = 'ecdsa-sha2-nistp256';

/** The largest RSA modulus we accept: bigger keys only make verification slow. */
const MAX_RSA_BITS = 16384;

export interface KeyGenParams {
  scheme: Scheme;
  /** ECDSA only. */
  curve?: Curve;
  /** RSA only. */
  bits?: number;
}

/** Checks a backend's `generateKeyPair` arguments; defaults are in-toto-keygen's (RSA 3072, P-256). */
export function keyGenParams(keytype: KeyType, opts: { scheme?: Scheme; bits?: number } = {}): KeyGenParams {
  if (!KEY_TYPES.includes(keytype)) throw new TypeError(`keytype must be one of ${KEY_TYPES.join(', ')}`);
  const scheme = opts.scheme ?? defaultScheme(keytype);
  if (!schemesFor(keytype).includes(scheme)) throw new TypeError(`scheme ${scheme} is not a ${keytype} scheme`);
  if (keytype === 'ecdsa') return { scheme, curve: ecdsaCurve({ scheme }) };
  if (keytype === 'ed25519') return { scheme };
  const bits = opts.bits ?? 3072;
  // securesystemslib's RSAKEYBITS_SCHEMA: at least 2048 bits.
  if (!Number.isInteger(bits) || bits < 2048 || bits > MAX_RSA_BITS) throw new RangeError(`RSA bits must be an integer in [2048, ${MAX_RSA_BITS}]`);
  return { scheme, bits };
}

/** The digest a scheme names. For a key, use `signatureHash`: an ECDSA key's curve decides, not its label. */
export function schemeHash(scheme: Scheme): HashName {
  return scheme === 'ecdsa-sha2-nistp384' ? 'SHA-384' : scheme === 'ecdsa-sha2-nistp521' ? 'SHA-512' : 'SHA-256';
}

/** The digest a key's signatures use: SHA-256, but for ECDSA the hash of the key's own curve (RFC 5656 §6.2.1). */
export function signatureHash(key: { keytype: KeyType; scheme: Scheme; spki?: Uint8Array }): HashName {
  return key.keytype === 'ecdsa' ? ecdsaCurve(key).hash : 'SHA-256';
}

/**
 * The curve of an ECDSA key: read from the key itself (its SPKI) when there is one, so that a scheme label
 * never picks the curve; from the scheme only for key generation parameters.
 */
export function ecdsaCurve(key: { scheme: Scheme; spki?: Uint8Array }): Curve {
  if (key.spki instanceof Uint8Array) {
    const parsed = withKeyContext('SubjectPublicKeyInfo', () => parseSpki(key.spki as Uint8Array));
    if (!parsed.curve) throw new TypeError('not an ECDSA key');
    return parsed.curve;
  }
  const curve = CURVES.find((c) => c.scheme === key.scheme);
  if (!curve) throw new TypeError(`scheme ${key.scheme} is not an ECDSA scheme`);
  return curve;
}

/**
 * Refuses to sign with an ECDSA key whose label names another curve (in-toto-golang's default label on a
 * P-384 or P-521 key): python would check such a signature with the label's hash, golang refuses it.
 */
export function assertSigningScheme(key: PublicKey): void {
  if (key.keytype !== 'ecdsa') return;
  const curve = ecdsaCurve(key);
  if (curve.scheme !== key.scheme) {
    throw new InTotoError(
      'KEY',
      `will not sign with the ${curve.name} key ${key.keyid} labelled ${key.scheme}: its signatures would be checked with another hash by other implementations (label it ${curve.scheme})`,
      { keyid: key.keyid },
    );
  }
}

/** Whether `scheme` may label a key on `curve`: the curve's own scheme, or in-toto-golang's default label. */
function ecdsaLabelAllowed(curve: Curve, scheme: Scheme): boolean {
  return scheme === curve.scheme || scheme === GOLANG_ECDSA_LABEL;
}

// ---- key ids ----

/** The fields a key id hashes. */
export interface KeyIdFields {
  keytype: string;
  scheme: string;
  public: string;
}

/**
 * The key id in-toto 1.3.1 (securesystemslib <= 0.31, in-toto-golang) computes: sha256 of the canonical
 * JSON of `{keyid_hash_algorithms, keytype, keyval: {public}, scheme}`. Needs `initEngine()` first.
 */
export function computeKeyid(key: KeyIdFields): string {
  return hashKeyDict({
    keyid_hash_algorithms: KEYID_HASH_ALGORITHMS,
    keytype: key.keytype,
    keyval: { public: key.public },
    scheme: key.scheme,
  });
}

/** The key id securesystemslib >= 1.0 computes: the same dict without `keyid_hash_algorithms`. */
export function computeNewKeyid(key: KeyIdFields): string {
  return hashKeyDict({ keytype: key.keytype, keyval: { public: key.public }, scheme: key.scheme });
}

/** The three key ids other implementations give a key (see the module comment), for one scheme label. */
export interface KeyIds {
  /** K1: in-toto 1.x, in-toto-golang, in-toto-rs for RSA. */
  readonly legacy: string;
  /** K2: securesystemslib >= 1.0 over the same `public` (in-toto-rs and python >= 2 for ed25519). */
  readonly noHashAlgorithms: string;
  /** K3: K2 over the PEM with its trailing newline (python in-toto >= 2 for RSA and ECDSA); K2 for ed25519. */
  readonly pemWithNewline: string;
}

/**
 * A key's K1, K2 and K3 ids under `scheme` (default: the key's own label). K1 and K2 hash the PEM without its
 * trailing newline, K3 with it; the PEM is the key's own `public` when it is the standard encoding of the key,
 * else the standard encoding (what golang and python write).
 */
export function keyIds(key: KeyIdFields & { spki?: Uint8Array }, scheme: string = key.scheme): KeyIds {
  if (key.keytype === 'ed25519') {
    const legacy = computeKeyid({ ...key, scheme });
    const fresh = computeNewKeyid({ ...key, scheme });
    return { legacy, noHashAlgorithms: fresh, pemWithNewline: fresh };
  }
  const pem = key.spki instanceof Uint8Array ? encodePem('PUBLIC KEY', key.spki) : key.public.replace(/\n$/, '');
  return {
    legacy: computeKeyid({ ...key, scheme, public: pem }),
    noHashAlgorithms: computeNewKeyid({ ...key, scheme, public: pem }),
    pemWithNewline: computeNewKeyid({ ...key, scheme, public: `${pem}\n` }),
  };
}

const candidateCache = new WeakMap<object, readonly string[]>();

/**
 * Every id another implementation may give this key, its own `keyid` first: both hashing schemes, over its
 * `public` with and without the PEM's trailing newline (python in-toto >= 2 keeps it, 1.x cuts it) and over
 * the standard PEM encoding of the key, and for ECDSA under its own label, its curve's scheme and
 * in-toto-golang's default label. A signature's keyid names the key if it is one of these: the id only picks
 * which signature to check, the key itself checks it. The key's own `keyid` is the one it was given if it was
 * read from a dict: to ask whether an id is really this key's, pass the key without its `keyid`.
 */
export function keyidCandidates(key: KeyIdFields & { keyid?: string; spki?: Uint8Array }): string[] {
  const cached = candidateCache.get(key);
  if (cached) return [...cached];
  const publics = new Set([key.public]);
  if (key.public.startsWith('-----BEGIN')) {
    publics.add(key.public.endsWith('\n') ? key.public.slice(0, -1) : `${key.public}\n`);
    if (key.spki instanceof Uint8Array) {
      const standard = encodePem('PUBLIC KEY', key.spki);
      publics.add(standard).add(`${standard}\n`);
    }
  }
  const schemes = new Set([key.scheme]);
  if (key.keytype === 'ecdsa') {
    schemes.add(GOLANG_ECDSA_LABEL);
    if (key.spki instanceof Uint8Array) schemes.add(ecdsaCurve({ scheme: key.scheme as Scheme, spki: key.spki }).scheme);
  }
  const ids = typeof key.keyid === 'string' ? [key.keyid] : [];
  for (const scheme of schemes) {
    for (const p of publics) ids.push(computeKeyid({ ...key, scheme, public: p }), computeNewKeyid({ ...key, scheme, public: p }));
  }
  const unique = [...new Set(ids)];
  if (Object.isFrozen(key)) candidateCache.set(key, unique);
  return [...unique];
}

/**
 * sha256 of the dict's canonical JSON, in hex: node:crypto's where there is one (reached synchronously through
 * `process.getBuiltinModule`: a key has up to 8 candidate ids, and noble's first hash compiles and warms its code
 * during a tool's start), else noble's.
 */
function hashKeyDict(dict: object): string {
  const bytes = canonicalize(JSON.stringify(dict));
  const crypto = nodeCrypto();
  return crypto ? crypto.createHash('sha256').update(bytes).digest('hex') : bytesToHex(sha256(bytes));
}

type NodeCrypto = typeof import('node:crypto');

/** node:crypto, where the runtime has it synchronously (Node, Deno 2, Bun); else undefined. */
function nodeCrypto(): NodeCrypto | undefined {
  const proc = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
  try {
    const crypto = proc?.getBuiltinModule?.('node:crypto') as NodeCrypto | undefined;
    return typeof crypto?.createHash === 'function' ? crypto : undefined;
  } catch {
    return undefined;
  }
}

// ---- loading ----

/**
 * Reads a public key, whatever the format: a securesystemslib JSON key (a `.pub` file or a layout key dict);
 * PEM: SPKI (`PUBLIC KEY`), PKCS#1 (`RSA PUBLIC KEY`) or the key of a `CERTIFICATE`; DER: SPKI or PKCS#1
 * RSAPublicKey; or a raw 32-byte Ed25519 key (RFC 8032 §5.1.5). Like the reference, the key id is computed
 * from the key, never taken from the file.
 */
export function loadPublicKey(data: string | Uint8Array, opts: LoadOptions = {}): PublicKey {
  const input = readKeyInput(data);
  let key: PublicKey;
  if (input.text !== undefined && looksLikeJson(input.text)) {
    const dict = readKeyDict(parseJson(input.text), false);
    if (opts.scheme !== undefined && opts.scheme !== dict.scheme) {
      throw keyError(`the JSON key says scheme ${dict.scheme}, not ${opts.scheme}`, { field: 'scheme' });
    }
    key = publicKeyFromFields({ ...dict, keyid: undefined, keyidHashAlgorithms: KEYID_HASH_ALGORITHMS });
  } else if (input.text !== undefined && input.text.includes('-----BEGIN ')) {
    const pem = parsePem(input.text);
    if (pem.label === 'PUBLIC KEY') {
      const spki = spkiFromPem(pem);
      // The reference keeps the file's PEM (what its key ids hash); ed25519 keys are hex.
      const pub = spki.keytype === 'ed25519' ? publicValue(spki) : pem.block.replaceAll('\r\n', '\n');
      key = makePublicKey(spki.keytype, labelFor(spki, opts.scheme), pub, spki.spki, undefined, KEYID_HASH_ALGORITHMS);
    } else if (pem.label === 'RSA PUBLIC KEY' || pem.label === 'CERTIFICATE') {
      if (pem.headers.size > 0) throw keyError(`a "${pem.label}" PEM has no headers`);
      key = publicKeyFromSpkiDer(pem.label === 'CERTIFICATE' ? certificateSpki(pem.der) : rsaPublicKeySpki(pem.der), opts);
    } else {
      const hint = pem.label.includes('PRIVATE') ? ': this is a private key, use loadPrivateKey' : '';
      throw keyError(`expected a "PUBLIC KEY", "RSA PUBLIC KEY" or "CERTIFICATE" PEM block, found "${pem.label}"${hint}`);
    }
  } else if (input.bytes !== undefined) {
    key = publicKeyFromBinary(input.bytes, opts);
  } else {
    throw keyError('not a public key: expected a PEM block or a securesystemslib JSON key (DER and raw keys must be given as bytes)');
  }
  checkKeyType(key.keytype, opts.keyType);
  return key;
}

/**
 * A public key from DER SubjectPublicKeyInfo (RFC 5280 §4.1.2.7), with the `public` in-toto-golang writes for it
 * (SPKI PEM without a trailing newline; ed25519: hex). What a certificate's key becomes.
 */
export function publicKeyFromSpkiDer(spkiDer: Uint8Array, opts: LoadOptions = {}): PublicKey {
  const spki = withKeyContext('SubjectPublicKeyInfo', () => parseSpki(abytes(spkiDer, 'spkiDer')));
  const key = makePublicKey(spki.keytype, labelFor(spki, opts.scheme), standardPublic(spki), spki.spki, undefined, KEYID_HASH_ALGORITHMS);
  checkKeyType(key.keytype, opts.keyType);
  return key;
}

/** DER (SPKI, PKCS#1 RSAPublicKey) or a raw Ed25519 key. */
function publicKeyFromBinary(bytes: Uint8Array, opts: LoadOptions): PublicKey {
  if (bytes[0] === TAG.SEQUENCE) {
    try {
      // RFC 5280's SPKI starts with the AlgorithmIdentifier SEQUENCE, RFC 8017's RSAPublicKey with an INTEGER.
      const first = new DerReader(bytes).sequence('key').peekTag();
      return publicKeyFromSpkiDer(first === TAG.INTEGER ? rsaPublicKeySpki(bytes) : bytes, opts);
    } catch (error) {
      // A raw ed25519 key starts with 0x30 once in 256 keys.
      if (!(bytes.length === 32 && error instanceof InTotoError)) throw error;
    }
  }
  if (bytes.length === 32) {
    const spki = withKeyContext('raw Ed25519 public key', () => ({ keytype: 'ed25519' as const, spki: ed25519Spki(bytes) }));
    return makePublicKey('ed25519', labelFor(spki, opts.scheme), publicValue(spki), spki.spki, undefined, KEYID_HASH_ALGORITHMS);
  }
  if (bytes.length === 64) throw keyError('64 raw bytes are an Ed25519 private key (seed and public key): use loadPrivateKey');
  throw keyError(`not a public key: ${bytes.length} bytes that are neither PEM, JSON, DER nor a raw 32-byte Ed25519 key`);
}

/** The scheme a key read from PEM, DER or raw bytes gets: the one asked for, if it may label this key. */
function labelFor(spki: { keytype: KeyType; curve?: Curve }, wanted: Scheme | undefined): Scheme {
  const own = spki.curve?.scheme ?? defaultScheme(spki.keytype);
  if (wanted === undefined || wanted === own) return own;
  if (!schemesFor(spki.keytype).includes(wanted) || !(spki.curve && ecdsaLabelAllowed(spki.curve, wanted))) {
    throw keyError(`scheme ${wanted} cannot label this ${spki.curve?.name ?? spki.keytype} key (its scheme is ${own})`, { field: 'scheme' });
  }
  return wanted;
}

/** `public` as golang writes it for a key it re-encodes: SPKI PEM, no trailing newline (ed25519: hex). */
function standardPublic(m: { keytype: KeyType; spki: Uint8Array }): string {
  return m.keytype === 'ed25519' ? publicValue(m) : encodePem('PUBLIC KEY', m.spki);
}

/** RSAPublicKey (RFC 8017 appendix A.1.1) as SPKI. */
function rsaPublicKeySpki(der: Uint8Array): Uint8Array {
  return withKeyContext('PKCS#1 RSAPublicKey', () => {
    const outer = new DerReader(der);
    const seq = outer.sequence('RSAPublicKey');
    outer.end('RSAPublicKey');
    const [n, e] = [seq.unsignedInteger('modulus'), seq.unsignedInteger('publicExponent')];
    seq.end('RSAPublicKey');
    return rsaSpki(n, e);
  });
}

/** The SubjectPublicKeyInfo of an X.509 certificate (RFC 5280 §4.1), found without interpreting the rest. */
function certificateSpki(der: Uint8Array): Uint8Array {
  return withKeyContext('X.509 Certificate', () => {
    const outer = new DerReader(der);
    const cert = outer.sequence('Certificate');
    outer.end('Certificate');
    const tbs = cert.sequence('tbsCertificate');
    tbs.optionalExplicit(0, 'version');
    tbs.any('serialNumber');
    for (const name of ['signature', 'issuer', 'validity', 'subject']) tbs.sequence(name);
    return tbs.sequenceWithRaw('subjectPublicKeyInfo').raw;
  });
}

/**
 * Reads a key dict as it appears in a layout's `keys` map. Its `keyid` is kept as given (the layout is the
 * authority for the ids inside it); it is computed (legacy scheme) only when absent.
 */
export function publicKeyFromDict(obj: unknown): PublicKey {
  return publicKeyFromFields(readKeyDict(obj, false));
}

/**
 * Reads a private key: securesystemslib JSON (plain or encrypted with a password); PEM: PKCS#1
 * `RSA PRIVATE KEY`, SEC1 `EC PRIVATE KEY`, PKCS#8 `PRIVATE KEY`, and, with a password and a backend that
 * can decrypt them (node:crypto; PBES1 and PBES2 PKCS#8 included), `ENCRYPTED PRIVATE KEY` and OpenSSL's
 * `Proc-Type: 4,ENCRYPTED` PEM; the same structures as DER bytes; or raw Ed25519 bytes (a 32-byte seed, or
 * 64 bytes of seed and public key, as in-toto-rs and libsodium store them). `defaultBackend` gives the backend
 * that decrypts encrypted PEM when `options.backend` is absent (see the file comment).
 */
export async function readPrivateKey(
  data: string | Uint8Array,
  options: LoadPrivateOptions,
  defaultBackend: () => Promise<CryptoBackend>,
): Promise<PrivateKey> {
  const opts: ReadPrivateOptions = { ...options, defaultBackend };
  const { text, bytes } = readKeyInput(data);
  let key: PrivateKey;
  if (text !== undefined && looksLikeJson(text)) {
    refuseUnneededPassword(opts.password);
    key = privateKeyFromJson(text);
    if (opts.scheme !== undefined && opts.scheme !== key.scheme) throw keyError(`the JSON key says scheme ${key.scheme}, not ${opts.scheme}`, { field: 'scheme' });
  } else if (text !== undefined && SSLIB_ENCRYPTED.test(text.trim())) {
    if (opts.password === undefined) throw passwordError('the key is encrypted: a password is needed');
    key = privateKeyFromJson(await decryptSslibKey(text.trim(), opts.password));
  } else if (text !== undefined && text.includes('-----BEGIN ')) {
    key = await privateKeyFromPem(parsePem(text), opts);
  } else if (bytes !== undefined) {
    key = await privateKeyFromBinary(bytes, opts);
  } else {
    throw keyError('not a private key: expected a PEM block or a securesystemslib JSON key (DER and raw keys must be given as bytes)');
  }
  checkKeyType(key.keytype, opts.keyType);
  return key;
}

/**
 * DER (PKCS#8, encrypted PKCS#8, PKCS#1 RSAPrivateKey, SEC1 ECPrivateKey) or raw Ed25519: a 32-byte seed, or
 * 64 bytes of seed and public key (RFC 8032 §5.1.5; what ed25519-dalek and libsodium store).
 */
async function privateKeyFromBinary(bytes: Uint8Array, opts: ReadPrivateOptions): Promise<PrivateKey> {
  if (bytes[0] === TAG.SEQUENCE) {
    let kind: 'pkcs8' | 'encrypted' | 'pkcs1' | 'sec1' | undefined;
    try {
      const r = new DerReader(bytes).sequence('key');
      const first = r.peekTag();
      if (first === TAG.SEQUENCE) kind = 'encrypted'; // EncryptedPrivateKeyInfo, RFC 5958 §3
      else if (first === TAG.INTEGER) {
        r.read(TAG.INTEGER, 'version');
        const second = r.peekTag();
        kind = second === TAG.SEQUENCE ? 'pkcs8' : second === TAG.OCTET_STRING ? 'sec1' : second === TAG.INTEGER ? 'pkcs1' : undefined;
      }
    } catch (error) {
      if (!(error instanceof DerError)) throw error;
    }
    if (kind === 'encrypted') {
      if (opts.password === undefined) throw passwordError('the DER key is encrypted (EncryptedPrivateKeyInfo): a password is needed');
      return privateKeyFromPem({ label: 'ENCRYPTED PRIVATE KEY', headers: new Map(), der: bytes, block: encodePem('ENCRYPTED PRIVATE KEY', bytes) }, opts);
    }
    if (kind !== undefined) {
      refuseUnneededPassword(opts.password);
      const label = { pkcs8: 'PRIVATE KEY', sec1: 'EC PRIVATE KEY', pkcs1: 'RSA PRIVATE KEY' }[kind];
      return privateKeyFromMaterial(unencryptedPemMaterial({ label, headers: new Map(), der: bytes, block: '' }), opts.scheme);
    }
  }
  refuseUnneededPassword(opts.password);
  if (bytes.length === 32) return privateKeyFromMaterial(withKeyContext('raw Ed25519 seed', () => ed25519FromSeed(bytes)), opts.scheme);
  if (bytes.length === 64) {
    const material = withKeyContext('raw Ed25519 key', () => ed25519FromSeed(bytes.subarray(0, 32)));
    if (!equalBytes(material.spki.subarray(material.spki.length - 32), bytes.subarray(32))) {
      throw keyError('64 raw bytes read as an Ed25519 seed and public key, but the second half is not the seed\'s public key');
    }
    return privateKeyFromMaterial(material, opts.scheme);
  }
  throw keyError(`not a private key: ${bytes.length} bytes that are neither PEM, JSON, DER nor a raw Ed25519 key (32 or 64 bytes)`);
}

/**
 * A private key from unencrypted PKCS#8 DER, with the public value the reference gives a key it creates:
 * what crypto backends call after generating a key.
 */
export function privateKeyFromPkcs8(der: Uint8Array): PrivateKey {
  return privateKeyFromMaterial(withKeyContext('PKCS#8 PrivateKeyInfo', () => parsePkcs8(abytes(der, 'der'))));
}

/** An Ed25519 private key from its 32-byte seed (RFC 8032 §5.1.5). */
export function privateKeyFromEd25519Seed(seed: Uint8Array): PrivateKey {
  if (abytes(seed, 'seed').length !== 32) throw new RangeError('an Ed25519 seed is 32 bytes');
  return privateKeyFromMaterial(ed25519FromSeed(seed));
}

/** The 32-byte seed of an Ed25519 private key (RFC 8410 §7), for implementations that take it raw. */
export function ed25519Seed(key: PrivateKey): Uint8Array {
  if (key.keytype !== 'ed25519') throw new TypeError('not an Ed25519 key');
  const info = new DerReader(key.pkcs8).sequence('PrivateKeyInfo');
  info.smallInteger('version');
  info.sequence('privateKeyAlgorithm');
  return new DerReader(info.octetString('privateKey')).octetString('CurvePrivateKey');
}

// ---- writing ----

/** The dict the reference puts in a layout's `keys` map (RSA keys carry an empty `private`, as there). */
export function keyToDict(k: PublicKey): KeyDict {
  const dict: KeyDict = { keyid: k.keyid, keytype: k.keytype, scheme: k.scheme, keyval: { public: k.public } };
  if (k.keyidHashAlgorithms) dict.keyid_hash_algorithms = [...k.keyidHashAlgorithms];
  if (k.keytype === 'rsa') dict.keyval.private = '';
  return dict;
}

/** The text of the `.pub` file `in-toto-keygen` writes for this key. */
export function keyToPublicFile(k: PublicKey): string {
  if (k.keytype === 'rsa') return k.public;
  return pyJson([
    ['keytype', k.keytype],
    ['scheme', k.scheme],
    ['keyid_hash_algorithms', KEYID_HASH_ALGORITHMS],
    ['keyval', { public: k.public }],
  ]);
}

/** The text of the unencrypted private key file `in-toto-keygen` writes for this key. */
export function keyToPrivateFile(k: PrivateKey): string {
  const info = new DerReader(k.pkcs8).sequence('PrivateKeyInfo');
  info.smallInteger('version');
  info.sequence('privateKeyAlgorithm');
  const privateKey = info.octetString('privateKey');
  switch (k.keytype) {
    case 'rsa':
      return encodePem('RSA PRIVATE KEY', privateKey);
    case 'ed25519':
      return pyJson([
        ['keytype', k.keytype],
        ['scheme', k.scheme],
        ['keyid', k.keyid],
        ['keyid_hash_algorithms', KEYID_HASH_ALGORITHMS],
        ['keyval', { public: k.public, private: bytesToHex(ed25519Seed(k)) }],
      ]);
    case 'ecdsa':
      return pyJson([
        ['keytype', k.keytype],
        ['scheme', k.scheme],
        ['keyid', k.keyid],
        ['keyval', { public: k.public, private: `${encodePem('EC PRIVATE KEY', sec1WithParameters(privateKey, ecdsaCurve(k)))}\n` }],
        ['keyid_hash_algorithms', KEYID_HASH_ALGORITHMS],
      ]);
  }
}

/** python's `json.dumps`: `", "` and `": "`, keys in the given order, non-ASCII as `\uXXXX` (UTF-16 units). */
function pyJson(entries: [string, unknown][]): string {
  const value = (v: unknown): string =>
    Array.isArray(v)
      ? `[${v.map(value).join(', ')}]`
      : typeof v === 'object' && v !== null
        ? pyJson(Object.entries(v))
        : JSON.stringify(v).replace(/[\u0080-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  return `{${entries.map(([k, v]) => `${value(k)}: ${value(v)}`).join(', ')}}`;
}

/** SEC1 as OpenSSL's "traditional" format writes it: with the curve `[0]` (RFC 5915 §3). */
function sec1WithParameters(ecPrivateKey: Uint8Array, curve: Curve): Uint8Array {
  const r = new DerReader(ecPrivateKey).sequence('ECPrivateKey');
  r.smallInteger('version');
  const d = r.octetString('privateKey');
  r.optionalExplicit(0, 'parameters');
  const pub = r.optionalExplicit(1, 'publicKey')?.bitString('publicKey');
  if (!pub) throw new TypeError('ECPrivateKey without its public key');
  return derSequence(derSmallInteger(1), derOctetString(d), derExplicit(0, derOid(curve.oid)), derExplicit(1, derBitString(pub)));
}

// ---- the model ----

interface DictFields {
  keytype: KeyType;
  scheme: Scheme;
  public: string;
  private?: string;
  keyid?: string;
  keyidHashAlgorithms?: readonly string[];
}

function makePublicKey(
  keytype: KeyType,
  scheme: Scheme,
  pub: string,
  spki: Uint8Array,
  keyid: string | undefined,
  keyidHashAlgorithms: readonly string[] | undefined,
): PublicKey {
  const key: PublicKey = {
    keytype,
    scheme,
    public: pub,
    ...(keyidHashAlgorithms ? { keyidHashAlgorithms: Object.freeze([...keyidHashAlgorithms]) } : {}),
    keyid: keyid ?? computeKeyid({ keytype, scheme, public: pub }),
    spki,
  };
  return Object.freeze(key);
}

function makePrivateKey(material: KeyMaterial, publicKey: PublicKey): PrivateKey {
  if (!equalBytes(material.spki, publicKey.spki)) {
    throw keyError('the public key given with the private key is not its public half', { field: 'keyval.public' });
  }
  const key = { ...publicKey, publicKey } as PrivateKey;
  Object.defineProperty(key, 'pkcs8', { value: material.pkcs8, enumerable: false });
  return Object.freeze(key);
}

function publicKeyFromFields(d: DictFields): PublicKey {
  const where = { field: 'keyval.public' };
  let spki: KeyMaterial['spki'];
  if (d.keytype === 'ed25519') {
    if (!/^[0-9a-fA-F]{64}$/.test(d.public)) throw keyError('an ed25519 public key must be 64 hex characters', where);
    spki = withKeyContext('ed25519 public key', () => ed25519Spki(hexToBytes(d.public)));
  } else {
    const parsed = spkiFromPem(parsePem(d.public, where), where);
    if (parsed.keytype !== d.keytype) {
      throw keyError(`keytype is ${d.keytype} but keyval.public holds an ${parsed.keytype} key`, { field: 'keytype' });
    }
    // in-toto-golang's default label is accepted on any curve (it enters the key id); any other label must
    // be the curve's own. Either way the curve and hash come from the key (see `signatureHash`).
    if (parsed.curve && !ecdsaLabelAllowed(parsed.curve, d.scheme)) {
      throw keyError(`scheme ${d.scheme} does not match the key's curve ${parsed.curve.name} (${parsed.curve.scheme})`, {
        field: 'scheme',
      });
    }
    spki = parsed.spki;
  }
  return makePublicKey(d.keytype, d.scheme, d.public, spki, d.keyid, d.keyidHashAlgorithms);
}

/** Validates a securesystemslib key dict, naming the field that is wrong. */
function readKeyDict(obj: unknown, wantPrivate: boolean): DictFields {
  if (!isObject(obj)) throw keyError('a key must be a JSON object');
  if (typeof obj.method === 'string' && obj.method.startsWith('pgp+')) {
    throw new InTotoError('UNSUPPORTED', `OpenPGP keys (${obj.method}) are not supported`, { field: 'method' });
  }
  const { keytype, scheme, keyval, keyid, keyid_hash_algorithms: algorithms } = obj;
  if (!KEY_TYPES.includes(keytype as KeyType)) {
    throw keyError(`unsupported keytype ${JSON.stringify(keytype)} (expected ${KEY_TYPES.join(', ')})`, { field: 'keytype' });
  }
  const kt = keytype as KeyType;
  if (!schemesFor(kt).includes(scheme as Scheme)) {
    throw keyError(`unsupported scheme ${JSON.stringify(scheme)} for a ${kt} key (expected ${schemesFor(kt).join(' or ')})`, {
      field: 'scheme',
    });
  }
  if (!isObject(keyval) || typeof keyval.public !== 'string') throw keyError('keyval.public must be a string', { field: 'keyval.public' });
  const priv = keyval.private;
  if (wantPrivate ? typeof priv !== 'string' || priv === '' : priv !== undefined && priv !== '') {
    throw keyError(wantPrivate ? (priv === undefined || priv === '' ? 'this is a public key (its keyval.private is empty or absent), not a private key: signing needs the private key file' : 'keyval.private must be a non-empty string') : 'this is a private key (it carries keyval.private), where a public key belongs: give its public key file (in-toto-keygen writes it as NAME.pub)', {
      field: 'keyval.private',
    });
  }
  if (keyid !== undefined && (typeof keyid !== 'string' || !/^[0-9a-fA-F]+$/.test(keyid))) {
    throw keyError('keyid must be a hex string', { field: 'keyid' });
  }
  if (algorithms !== undefined && !(Array.isArray(algorithms) && algorithms.every((a) => typeof a === 'string'))) {
    throw keyError('keyid_hash_algorithms must be a list of strings', { field: 'keyid_hash_algorithms' });
  }
  return {
    keytype: kt,
    scheme: scheme as Scheme,
    public: keyval.public,
    ...(wantPrivate ? { private: priv as string } : {}),
    ...(keyid !== undefined ? { keyid: keyid as string } : {}),
    ...(algorithms !== undefined ? { keyidHashAlgorithms: algorithms as string[] } : {}),
  };
}

function schemesFor(keytype: KeyType): Scheme[] {
  return keytype === 'ecdsa' ? CURVES.map((c) => c.scheme) : [defaultScheme(keytype)];
}

function defaultScheme(keytype: KeyType): Scheme {
  return keytype === 'ed25519' ? 'ed25519' : keytype === 'rsa' ? 'rsassa-pss-sha256' : 'ecdsa-sha2-nistp256';
}

function checkKeyType(found: KeyType, expected: KeyType | undefined): void {
  if (expected !== undefined && found !== expected) throw keyError(`expected an ${expected} key, found an ${found} key`);
}

/** A JSON private key file: keyval.private is a hex seed (ed25519) or a PEM (rsa, ecdsa). */
function privateKeyFromJson(text: string): PrivateKey {
  const d = readKeyDict(parseJson(text), true);
  const secret = d.private as string;
  let material: KeyMaterial;
  if (d.keytype === 'ed25519') {
    if (!/^[0-9a-fA-F]{64}$/.test(secret)) {
      throw keyError('an ed25519 private key must be 64 hex characters', { field: 'keyval.private' });
    }
    material = withKeyContext('ed25519 seed', () => ed25519FromSeed(hexToBytes(secret)));
  } else {
    material = unencryptedPemMaterial(parsePem(secret, { field: 'keyval.private' }), { field: 'keyval.private' });
  }
  if (material.keytype !== d.keytype) throw keyError(`keytype is ${d.keytype} but the private key is ${material.keytype}`, { field: 'keytype' });
  const declared = makePrivateKey(material, publicKeyFromFields({ ...d, keyid: undefined, keyidHashAlgorithms: KEYID_HASH_ALGORITHMS }));
  if (d.keyid === undefined || d.keyid === declared.keyid) return declared;
  // The reference takes the file's keyid as it is; we also check that it is this key's (under either scheme).
  if (d.keyid !== computeNewKeyid(declared)) throw keyError(`keyid ${d.keyid} is not the id of this key (${declared.keyid})`, { field: 'keyid' });
  return makePrivateKey(material, makePublicKey(d.keytype, d.scheme, d.public, declared.spki, d.keyid, KEYID_HASH_ALGORITHMS));
}

async function privateKeyFromPem(pem: Pem, opts: ReadPrivateOptions): Promise<PrivateKey> {
  let material: KeyMaterial;
  const encrypted = pem.label === 'ENCRYPTED PRIVATE KEY' || pem.headers.get('Proc-Type') === '4,ENCRYPTED';
  if (encrypted) {
    if (opts.password === undefined) throw passwordError(`the "${pem.label}" PEM is encrypted: a password is needed`);
    const backend = opts.backend ?? (await opts.defaultBackend());
    const der = await backend.decryptPrivateKey(pem.block, opts.password);
    material = withKeyContext(`decrypted "${pem.label}"`, () => parsePkcs8(der));
  } else {
    refuseUnneededPassword(opts.password);
    material = unencryptedPemMaterial(pem);
  }
  return privateKeyFromMaterial(material, opts.scheme);
}

/** A private key with the public value the reference gives a key it derives from a private key or creates. */
function privateKeyFromMaterial(m: KeyMaterial, scheme?: Scheme): PrivateKey {
  return makePrivateKey(m, makePublicKey(m.keytype, labelFor(m, scheme), publicValue(m), m.spki, undefined, KEYID_HASH_ALGORITHMS));
}

function unencryptedPemMaterial(pem: Pem, detail: { field?: string } = {}): KeyMaterial {
  if (pem.headers.size > 0) throw keyError(`the "${pem.label}" PEM has headers (is it encrypted?), which are not allowed here`, detail);
  switch (pem.label) {
    case 'RSA PRIVATE KEY':
      return withKeyContext('PKCS#1 RSAPrivateKey', () => rsaMaterial(pem.der), detail);
    case 'EC PRIVATE KEY':
      return withKeyContext('SEC1 ECPrivateKey', () => ecMaterial(pem.der, undefined), detail);
    case 'PRIVATE KEY':
      return withKeyContext('PKCS#8 PrivateKeyInfo', () => parsePkcs8(pem.der), detail);
    case 'PUBLIC KEY':
      throw keyError('this is a public key ("PUBLIC KEY" PEM), not a private key', detail);
    default:
      throw keyError(`unsupported PEM label "${pem.label}" for a private key`, detail);
  }
}

function refuseUnneededPassword(password: string | undefined): void {
  if (password !== undefined) throw passwordError('a password was given but the key is not encrypted');
}

/**
 * The reference's `keyval.public` for a key it derives from a private key or creates: RSA PEM without,
 * ECDSA PEM with its trailing newline (see the module comment).
 */
function publicValue(m: { keytype: KeyType; spki: Uint8Array }): string {
  switch (m.keytype) {
    case 'ed25519':
      return bytesToHex(m.spki.subarray(m.spki.length - 32));
    case 'rsa':
      return encodePem('PUBLIC KEY', m.spki);
    case 'ecdsa':
      return `${encodePem('PUBLIC KEY', m.spki)}\n`;
  }
}

// ---- DER structures ----

/** A private key, normalised: its PKCS#8 and the SPKI of its public half. */
interface KeyMaterial {
  keytype: KeyType;
  scheme: Scheme;
  curve?: Curve;
  spki: Uint8Array;
  pkcs8: Uint8Array;
}

const algorithmIdentifier = (oid: string, params?: Uint8Array): Uint8Array =>
  params ? derSequence(derOid(oid), params) : derSequence(derOid(oid));

const pkcs8Of = (algorithm: Uint8Array, privateKey: Uint8Array): Uint8Array =>
  derSequence(derSmallInteger(0), algorithm, derOctetString(privateKey));

function spkiFromPem(pem: Pem, detail: { field?: string } = {}): ReturnType<typeof parseSpki> {
  if (pem.label !== 'PUBLIC KEY') {
    const hint = pem.label.includes('PRIVATE') ? ': this is a private key, use loadPrivateKey' : '';
    throw keyError(`expected a "PUBLIC KEY" PEM block, found "${pem.label}"${hint}`, detail);
  }
  if (pem.headers.size > 0) throw keyError('a "PUBLIC KEY" PEM has no headers', detail);
  return parseSpki(pem.der, detail);
}

/** SubjectPublicKeyInfo (RFC 5280 §4.1.2.7) of one of our key types. */
function parseSpki(der: Uint8Array, detail: { field?: string } = {}): { keytype: KeyType; curve?: Curve; spki: Uint8Array } {
  return withKeyContext(
    'SubjectPublicKeyInfo',
    () => {
      const outer = new DerReader(der);
      const spki = outer.sequence('SubjectPublicKeyInfo');
      outer.end('SubjectPublicKeyInfo');
      const alg = spki.sequence('algorithm');
      const oid = alg.oid('algorithm');
      if (oid === OID_ED25519) {
        if (!alg.done) {
          throw new DerError(`the Ed25519 AlgorithmIdentifier has parameters (${alg.peekTag() === TAG.NULL ? 'NULL' : 'tag 0x' + alg.peekTag().toString(16)}); RFC 8410 §3 says they MUST be absent (OpenSSL refuses this key too)`);
        }
        const raw = spki.bitString('subjectPublicKey');
        spki.end('SubjectPublicKeyInfo');
        return { keytype: 'ed25519' as const, spki: ed25519Spki(raw) };
      }
      if (oid === OID_RSA) {
        alg.null('rsaEncryption parameters');
        alg.end('rsaEncryption algorithm');
        const key = spki.bitString('subjectPublicKey');
        spki.end('SubjectPublicKeyInfo');
        const r = new DerReader(key);
        const seq = r.sequence('RSAPublicKey');
        r.end('RSAPublicKey');
        const [n, e] = [seq.unsignedInteger('modulus'), seq.unsignedInteger('publicExponent')];
        seq.end('RSAPublicKey');
        return { keytype: 'rsa' as const, spki: rsaSpki(n, e) };
      }
      if (oid === OID_EC) {
        const curve = curveByOid(alg.oid('namedCurve'));
        alg.end('id-ecPublicKey algorithm');
        const point = spki.bitString('subjectPublicKey');
        spki.end('SubjectPublicKeyInfo');
        return { keytype: 'ecdsa' as const, curve, spki: ecSpki(curve, point) };
      }
      throw new DerError(`unsupported key algorithm ${oid} (expected Ed25519, RSA or EC)`);
    },
    detail,
  );
}

/** PrivateKeyInfo / OneAsymmetricKey (RFC 5208 §5, RFC 5958 §2). */
function parsePkcs8(der: Uint8Array): KeyMaterial {
  const outer = new DerReader(der);
  const info = outer.sequence('PrivateKeyInfo');
  outer.end('PrivateKeyInfo');
  const version = info.smallInteger('version');
  if (version > 1) throw new DerError(`unsupported PrivateKeyInfo version ${version}`);
  const alg = info.sequence('privateKeyAlgorithm');
  const oid = alg.oid('privateKeyAlgorithm');
  const privateKey = info.octetString('privateKey');
  if (info.peekTag() === 0xa0) info.read(0xa0, 'attributes'); // [0] IMPLICIT Attributes: nothing we use
  // [1] IMPLICIT BIT STRING (RFC 5958 §2, version 1 only): the public key, checked against the private one.
  const embeddedPublic = version === 1 && info.peekTag() === 0x81 ? info.read(0x81, 'publicKey') : undefined;
  if (info.peekTag() === 0xa1) {
    // in-toto-rs's ed25519 test keys: ring writes the public key wrapped in a constructed [1].
    throw new DerError(
      'the publicKey field is a constructed [1] (0xa1) around a BIT STRING; RFC 5958 §2 makes it [1] IMPLICIT BIT STRING (0x81), primitive (OpenSSL refuses this key too)',
    );
  }
  if (version === 0 && info.peekTag() === 0x81) throw new DerError('a version 0 PrivateKeyInfo cannot carry a publicKey (RFC 5958 §2: version 1)');
  info.end('PrivateKeyInfo');
  let material: KeyMaterial;
  if (oid === OID_ED25519) {
    alg.end('Ed25519 algorithm (RFC 8410 §3: no parameters)');
    // RFC 8410 §7: privateKey holds CurvePrivateKey, itself an OCTET STRING.
    const r = new DerReader(privateKey);
    const seed = r.octetString('CurvePrivateKey');
    r.end('CurvePrivateKey');
    material = ed25519FromSeed(seed);
    if (embeddedPublic && !equalBytes(derBitStringContents(embeddedPublic), material.spki.subarray(material.spki.length - 32))) {
      throw new DerError('the embedded public key is not the public half of the private key');
    }
  } else if (oid === OID_RSA) {
    alg.null('rsaEncryption parameters');
    alg.end('rsaEncryption algorithm');
    material = rsaMaterial(privateKey);
  } else if (oid === OID_EC) {
    const curve = curveByOid(alg.oid('namedCurve'));
    alg.end('id-ecPublicKey algorithm');
    material = ecMaterial(privateKey, curve);
  } else {
    throw new DerError(`unsupported key algorithm ${oid} (expected Ed25519, RSA or EC)`);
  }
  return material;
}

/** RSAPrivateKey (RFC 8017 appendix A.1.2), two-prime. */
function rsaMaterial(der: Uint8Array): KeyMaterial {
  const outer = new DerReader(der);
  const r = outer.sequence('RSAPrivateKey');
  outer.end('RSAPrivateKey');
  if (r.smallInteger('version') !== 0) throw new DerError('multi-prime RSA keys are not supported');
  const n = r.unsignedInteger('modulus');
  const e = r.unsignedInteger('publicExponent');
  for (const name of ['privateExponent', 'prime1', 'prime2', 'exponent1', 'exponent2', 'coefficient']) r.unsignedInteger(name);
  r.end('RSAPrivateKey');
  return {
    keytype: 'rsa',
    scheme: 'rsassa-pss-sha256',
    spki: rsaSpki(n, e),
    pkcs8: pkcs8Of(algorithmIdentifier(OID_RSA, derNull()), der),
  };
}

/** ECPrivateKey (RFC 5915 §3); `curve` comes from the PKCS#8 algorithm, or else from `[0]`. */
function ecMaterial(der: Uint8Array, fromAlgorithm: Curve | undefined): KeyMaterial {
  const outer = new DerReader(der);
  const r = outer.sequence('ECPrivateKey');
  outer.end('ECPrivateKey');
  if (r.smallInteger('version') !== 1) throw new DerError('ECPrivateKey version must be 1');
  const d = r.octetString('privateKey');
  const params = r.optionalExplicit(0, 'parameters');
  const named = params ? curveByOid(params.oid('namedCurve')) : undefined;
  params?.end('parameters');
  const pub = r.optionalExplicit(1, 'publicKey');
  const point = pub?.bitString('publicKey');
  pub?.end('publicKey');
  r.end('ECPrivateKey');
  if (named && fromAlgorithm && named !== fromAlgorithm) throw new DerError('ECPrivateKey parameters name another curve');
  const curve = fromAlgorithm ?? named;
  if (!curve) throw new DerError('ECPrivateKey does not name its curve');
  if (d.length !== curve.size) throw new DerError(`the private scalar must be ${curve.size} bytes for ${curve.name}`);
  // Deriving the public point needs curve arithmetic we do not carry; OpenSSL always writes it.
  if (!point) throw new DerError('ECPrivateKey without its public key is not supported');
  return {
    keytype: 'ecdsa',
    scheme: curve.scheme,
    curve,
    spki: ecSpki(curve, point),
    pkcs8: pkcs8Of(algorithmIdentifier(OID_EC, derOid(curve.oid)), der),
  };
}

function ed25519FromSeed(seed: Uint8Array): KeyMaterial {
  if (seed.length !== 32) throw new DerError('an Ed25519 private key is 32 bytes (RFC 8410 §7)');
  return {
    keytype: 'ed25519',
    scheme: 'ed25519',
    spki: ed25519Spki(ed25519PublicFromSeed(seed)),
    pkcs8: pkcs8Of(algorithmIdentifier(OID_ED25519), derOctetString(seed)),
  };
}

/**
 * RFC 8032 §5.1.5: A = [s]B with s the clamped first half of SHA-512(seed). On Node, node:crypto derives it
 * (reached synchronously through `process.getBuiltinModule`): noble's first multiplication builds its tables,
 * 15 ms of a tool's start. Elsewhere, and if that fails, noble does.
 */
function ed25519PublicFromSeed(seed: Uint8Array): Uint8Array {
  const fromNode = nodePublicFromSeed(seed);
  if (fromNode) return fromNode;
  const h = sha512(seed).subarray(0, 32);
  h[0] &= 248;
  h[31] &= 127;
  h[31] |= 64;
  const s = BigInt(`0x${bytesToHex(h.reverse())}`) % Point.CURVE().n;
  return Point.BASE.multiply(s).toBytes();
}

function nodePublicFromSeed(seed: Uint8Array): Uint8Array | undefined {
  try {
    const crypto = nodeCrypto();
    if (!crypto?.createPrivateKey) return undefined;
    // Node takes any TypedArray as DER (its typings say Buffer); Buffer itself is not a global in every runtime.
    const der = pkcs8Of(algorithmIdentifier(OID_ED25519), derOctetString(seed));
    const key = crypto.createPrivateKey({ key: der as Buffer, format: 'der', type: 'pkcs8' });
    const spki = new Uint8Array(crypto.createPublicKey(key).export({ format: 'der', type: 'spki' }));
    // RFC 8410 §4: the 32-byte key ends the 44-byte SubjectPublicKeyInfo.
    return spki.length === 44 ? spki.slice(12) : undefined;
  } catch {
    return undefined;
  }
}

/** DER SPKI of a raw Ed25519 public key (checked to be a curve point); for OpenPGP keys. */
export const ed25519SpkiFromRaw = (raw: Uint8Array): Uint8Array => ed25519Spki(raw);

/** DER SPKI of an RSA key from its modulus and exponent (big-endian magnitudes), checked as every RSA key here. */
export const rsaSpkiFromParts = (n: Uint8Array, e: Uint8Array): Uint8Array => rsaSpki(n, e);

function ed25519Spki(raw: Uint8Array): Uint8Array {
  if (raw.length !== 32) throw new DerError('an Ed25519 public key is 32 bytes (RFC 8410 §3)');
  try {
    Point.fromBytes(raw, false);
  } catch {
    throw new DerError('the Ed25519 public key is not a point on the curve (RFC 8032 §5.1.3)');
  }
  return derSequence(algorithmIdentifier(OID_ED25519), derBitString(raw));
}

function rsaSpki(n: Uint8Array, e: Uint8Array): Uint8Array {
  const bits = n.length * 8 - Math.clz32(n[0]) + 24;
  if (bits > MAX_RSA_BITS) throw new DerError(`RSA modulus of ${bits} bits is larger than ${MAX_RSA_BITS}`);
  if (!(n[n.length - 1] & 1) || !(e[e.length - 1] & 1) || (e.length === 1 && e[0] < 3)) {
    throw new DerError('not an RSA public key: the modulus and the exponent must be odd, the exponent at least 3');
  }
  const rsaPublicKey = derSequence(derUnsignedInteger(n), derUnsignedInteger(e));
  return derSequence(algorithmIdentifier(OID_RSA, derNull()), derBitString(rsaPublicKey));
}

/** RFC 5480 §2.2: we take the uncompressed form (0x04 || X || Y), which every implementation writes. */
function ecSpki(curve: Curve, point: Uint8Array): Uint8Array {
  if (point.length !== 1 + 2 * curve.size || point[0] !== 0x04) {
    throw new DerError(`the ${curve.name} public key must be an uncompressed point of ${1 + 2 * curve.size} bytes`);
  }
  return derSequence(algorithmIdentifier(OID_EC, derOid(curve.oid)), derBitString(point));
}

function curveByOid(oid: string): Curve {
  const curve = CURVES.find((c) => c.oid === oid);
  if (!curve) {
    const known = UNSUPPORTED_CURVES[oid];
    throw new DerError(`unsupported elliptic curve ${oid}${known ? `, ${known}` : ''} (expected P-256, P-384 or P-521)`);
  }
  return curve;
}

function derBitStringContents(implicitBitString: Uint8Array): Uint8Array {
  return new DerReader(derTlv(TAG.BIT_STRING, implicitBitString)).bitString('publicKey');
}

// ---- PEM (RFC 7468, with RFC 1421 headers for OpenSSL's legacy encryption) ----

interface Pem {
  label: string;
  headers: Map<string, string>;
  der: Uint8Array;
  /** The text from `-----BEGIN` to the end of the `-----END` line, as the reference's `extract_pem` cuts it. */
  block: string;
}

function parsePem(text: string, detail: { field?: string } = {}): Pem {
  const begins = [...text.matchAll(/-----BEGIN ([A-Z0-9 ]+)-----/g)];
  if (begins.length !== 1) throw keyError(begins.length === 0 ? 'no PEM block found' : 'more than one PEM block', detail);
  const [begin] = begins;
  const label = begin[1];
  const footer = `-----END ${label}-----`;
  const bodyStart = begin.index + begin[0].length;
  const footerAt = text.indexOf(footer, bodyStart);
  if (footerAt < 0) throw keyError(`"${label}" PEM has no "${footer}" line (truncated?)`, detail);
  const lines = text.slice(bodyStart, footerAt).split(/\r?\n/);
  const headers = new Map<string, string>();
  let i = lines[0].trim() === '' ? 1 : 0;
  if (lines[i]?.includes(':')) {
    for (; i < lines.length && lines[i].trim() !== ''; i++) {
      const colon = lines[i].indexOf(':');
      if (colon < 0) throw keyError(`malformed header line in "${label}" PEM`, detail);
      headers.set(lines[i].slice(0, colon).trim(), lines[i].slice(colon + 1).trim());
    }
  }
  const der = base64Decode(lines.slice(i).join('').replace(/[ \t]/g, ''));
  if (!der || der.length === 0) throw keyError(`"${label}" PEM does not hold valid base64`, detail);
  return { label, headers, der, block: text.slice(begin.index, footerAt + footer.length) };
}

/** PEM with 64-character lines (RFC 7468 §2), no trailing newline. */
function encodePem(label: string, der: Uint8Array): string {
  let binary = '';
  for (const b of der) binary += String.fromCharCode(b);
  const b64 = btoa(binary);
  const lines = b64.match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----`;
}

function base64Decode(b64: string): Uint8Array | undefined {
  if (b64.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(b64)) return undefined;
  return Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
}

// ---- securesystemslib's encrypted key files ----

/** `salt@@@@iterations@@@@hmac@@@@iv@@@@ciphertext`, each part hex but the iteration count. */
const SSLIB_ENCRYPTED = /^[0-9a-fA-F]+@@@@[0-9]+@@@@[0-9a-fA-F]+@@@@[0-9a-fA-F]+@@@@[0-9a-fA-F]+$/;
/** More PBKDF2 rounds than any real key file uses: refuse them rather than spin. */
const MAX_PBKDF2_ITERATIONS = 10_000_000;

/**
 * Decrypts securesystemslib's format (`rsa_keys._decrypt`): a PBKDF2-HMAC-SHA256 key of 32 bytes,
 * used both for HMAC-SHA256 over the ciphertext and for AES-256-CTR with a 128-bit counter.
 */
async function decryptSslibKey(text: string, password: string): Promise<string> {
  const subtle = globalThis.crypto?.subtle;
  if (!subtle) throw new InTotoError('UNSUPPORTED', 'decrypting a securesystemslib key needs WebCrypto, which this runtime lacks');
  const [salt, iterations, mac, iv, ciphertext] = text.split('@@@@');
  const rounds = Number(iterations);
  if (!(rounds >= 1 && rounds <= MAX_PBKDF2_ITERATIONS) || iv.length !== 32 || mac.length !== 64 || salt.length % 2 || ciphertext.length % 2) {
    throw keyError('malformed encrypted securesystemslib key');
  }
  const base = await subtle.importKey('raw', utf8ToBytes(password), 'PBKDF2', false, ['deriveBits']);
  const bits = await subtle.deriveBits({ name: 'PBKDF2', hash: 'SHA-256', salt: hexToBytes(salt), iterations: rounds }, base, 256);
  const hmacKey = await subtle.importKey('raw', bits, { name: 'HMAC', hash: 'SHA-256' }, false, ['verify']);
  const body = hexToBytes(ciphertext);
  if (!(await subtle.verify('HMAC', hmacKey, hexToBytes(mac), body))) {
    throw passwordError('could not decrypt the key: wrong password (or a corrupted file)');
  }
  const aesKey = await subtle.importKey('raw', bits, 'AES-CTR', false, ['decrypt']);
  const plain = await subtle.decrypt({ name: 'AES-CTR', counter: hexToBytes(iv), length: 128 }, aesKey, body);
  return decodeText(new Uint8Array(plain));
}

// ---- small helpers ----

/** Key data as text, when it is UTF-8 (JSON, PEM), and as bytes, when given as bytes (DER, raw). */
function readKeyInput(data: string | Uint8Array): { text?: string; bytes?: Uint8Array } {
  if (typeof data === 'string') return { text: data };
  if (!(data instanceof Uint8Array)) throw new TypeError('key data must be a string or a Uint8Array');
  try {
    return { text: new TextDecoder('utf-8', { fatal: true }).decode(data), bytes: data };
  } catch {
    return { bytes: data };
  }
}

function decodeText(data: string | Uint8Array): string {
  if (typeof data === 'string') return data;
  if (!(data instanceof Uint8Array)) throw new TypeError('key data must be a string or a Uint8Array');
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(data);
  } catch (cause) {
    throw keyError('key data is not UTF-8 text', {}, cause);
  }
}

const looksLikeJson = (text: string): boolean => text.trimStart().startsWith('{');

function parseJson(text: string): unknown {
  try {
    return parseStrictJson(text);
  } catch (cause) {
    throw keyError(`the key file is not valid JSON${cause instanceof Error ? `: ${cause.message}` : ''}`, {}, cause);
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/** Runs a DER parse and turns a `DerError` into a `KEY` error that names the structure. */
function withKeyContext<T>(what: string, parse: () => T, detail: { field?: string } = {}): T {
  try {
    return parse();
  } catch (e) {
    if (e instanceof DerError) throw keyError(`malformed ${what}: ${e.message}`, detail, e);
    throw e;
  }
}

function keyError(message: string, detail: { field?: string } = {}, cause?: unknown): InTotoError {
  return new InTotoError('KEY', message, detail, cause === undefined ? undefined : { cause });
}

function passwordError(message: string): InTotoError {
  return new InTotoError('KEY_PASSWORD', message);
}
