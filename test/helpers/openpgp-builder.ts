/**
 * Synthetic OpenPGP transferable public keys and signatures (RFC 4880, version 4), for tests that need keys of
 * shapes gpg will not make: several self-signatures, expirations in the unhashed area, bindings by the wrong
 * key, missing back-signatures, revocations that do not verify, ...
 *
 * Written from the RFC, deliberately NOT sharing code with bindings/openpgp (a bug common to both would hide).
 * Signing uses node:crypto: Ed25519 as OpenPGP's "legacy" EdDSA (algorithm 22, signing the hash DIGEST) and RSA
 * (algorithm 1, PKCS#1 v1.5 with the hash). test/openpgp-corners.test.ts checks with the real gpg that what is
 * built here is accepted.
 *
 * Building blocks, from the bottom:
 *  - `packet`, `subpacket`, `mpi`: wire encodings (§4.2, §5.2.3.1, §3.2);
 *  - `ed25519Key`, `rsaKey`: a key (its v4 packet body, fingerprint §12.2, private half);
 *  - `keyFrame`, `uidFrame`: what signatures over keys and user ids hash (§5.2.4);
 *  - `signature`: any v4 signature (type, hash, subpackets of your choice) over any framed data;
 *  - `certify`, `bindSubkey`, `revokeKey`, `revokeSubkey`, `detachedSignature`: the usual ones, with knobs to break them;
 *  - `armor`: ASCII armor with CRC-24 (§6).
 */
import { createHash, createPrivateKey, generateKeyPairSync, sign as nodeSign, type KeyObject } from 'node:crypto';

// ---------------------------------------------------------------------------------------------------------
// Constants (RFC 4880 §4.3, §5.2.1, §5.2.3.1, §9.4)

export const TAG = { SIGNATURE: 2, PUBLIC_KEY: 6, USER_ID: 13, PUBLIC_SUBKEY: 14 } as const;

export const SIG = {
  BINARY: 0x00,
  TEXT: 0x01,
  CERT_GENERIC: 0x10,
  CERT_POSITIVE: 0x13,
  SUBKEY_BINDING: 0x18,
  PRIMARY_KEY_BINDING: 0x19,
  DIRECT_KEY: 0x1f,
  KEY_REVOCATION: 0x20,
  SUBKEY_REVOCATION: 0x28,
  CERT_REVOCATION: 0x30,
} as const;

export const HASH = { MD5: 1, SHA1: 2, SHA256: 8, SHA384: 9, SHA512: 10, SHA224: 11 } as const;
const HASH_NAME: Record<number, string> = { 1: 'md5', 2: 'sha1', 8: 'sha256', 9: 'sha384', 10: 'sha512', 11: 'sha224' };

/** Key flags (§5.2.3.21). */
export const FLAG = { CERTIFY: 0x01, SIGN: 0x02, ENCRYPT_COMMS: 0x04, ENCRYPT_STORAGE: 0x08, AUTH: 0x20 } as const;

// ---------------------------------------------------------------------------------------------------------
// Encodings

export function concat(...parts: Uint8Array[]): Uint8Array {
  return new Uint8Array(Buffer.concat(parts));
}
export const u16 = (n: number) => new Uint8Array([(n >>> 8) & 0xff, n & 0xff]);
export const u32 = (n: number) => new Uint8Array([n >>> 24, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff]);
export const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const utf8 = (s: string) => new Uint8Array(Buffer.from(s, 'utf8'));

/** §3.2: two-byte bit count of the magnitude (leading zero bytes dropped), then the magnitude. */
export function mpi(magnitude: Uint8Array): Uint8Array {
  let i = 0;
  while (i < magnitude.length - 1 && magnitude[i] === 0) i++;
  const m = magnitude.subarray(i);
  const bits = m[0] === 0 ? 0 : (m.length - 1) * 8 + (32 - Math.clz32(m[0]!));
  return concat(u16(bits), m);
}

/** A packet (§4.2): new format (default) with one-, two- or five-octet length, or old format with a 1/2/4-octet length. */
export function packet(tag: number, body: Uint8Array, format: 'new' | 'old' = 'new'): Uint8Array {
  const n = body.length;
  if (format === 'old') {
    if (tag > 15) throw new Error('old-format packets have 4-bit tags');
    const [lt, len] = n < 256 ? [0, new Uint8Array([n])] : n < 65536 ? [1, u16(n)] : [2, u32(n)];
    return concat(new Uint8Array([0x80 | (tag << 2) | lt]), len, body);
  }
  let len: Uint8Array;
  if (n < 192) len = new Uint8Array([n]);
  else if (n < 8384) len = new Uint8Array([((n - 192) >> 8) + 192, (n - 192) & 0xff]);
  else len = concat(new Uint8Array([0xff]), u32(n));
  return concat(new Uint8Array([0xc0 | tag]), len, body);
}

/** A signature subpacket (§5.2.3.1): length (of type + data), type (bit 7 = critical), data. */
export function subpacket(type: number, data: Uint8Array, critical = false): Uint8Array {
  const n = data.length + 1;
  const len = n < 192 ? new Uint8Array([n]) : n < 8384 ? new Uint8Array([((n - 192) >> 8) + 192, (n - 192) & 0xff]) : concat(new Uint8Array([0xff]), u32(n));
  return concat(len, new Uint8Array([(critical ? 0x80 : 0) | type]), data);
}

/** Common subpackets. */
export const sp = {
  /** 2: signature creation time. */
  created: (t: number) => subpacket(2, u32(t)),
  /** 3: signature expiration, seconds after its creation. */
  sigExpires: (s: number) => subpacket(3, u32(s)),
  /** 9: key expiration, seconds after the KEY's creation. */
  keyExpires: (s: number) => subpacket(9, u32(s)),
  /** 16: issuer, the 8-octet key id. */
  issuer: (k: TestKey) => subpacket(16, Buffer.from(k.keyid, 'hex')),
  /** 33: issuer fingerprint (RFC 9580 §5.2.3.35): version 4, then the 20-octet fingerprint. */
  issuerFpr: (k: TestKey) => subpacket(33, concat(new Uint8Array([4]), Buffer.from(k.fingerprint, 'hex'))),
  /** 25: primary user id flag. */
  primaryUid: (yes = true) => subpacket(25, new Uint8Array([yes ? 1 : 0])),
  /** 27: key flags. */
  keyFlags: (flags: number) => subpacket(27, new Uint8Array([flags])),
  /** 32: embedded signature (a whole signature packet body). */
  embedded: (sigBody: Uint8Array) => subpacket(32, sigBody),
  /** 29: reason for revocation. */
  reason: (code: number, text = '') => subpacket(29, concat(new Uint8Array([code]), utf8(text))),
};

// ---------------------------------------------------------------------------------------------------------
// Keys

export interface TestKey {
  readonly algorithm: 1 | 22;
  /** Key creation time, seconds since the epoch (in the packet). */
  readonly created: number;
  /** The v4 public key packet body (§5.5.2): the same for a primary key (tag 6) and a subkey (tag 14). */
  readonly body: Uint8Array;
  /** §12.2: SHA-1 over 0x99, two-octet length, body; 40 lowercase hex. */
  readonly fingerprint: string;
  /** The low 64 bits of the fingerprint, 16 lowercase hex. */
  readonly keyid: string;
  /** The key material as the reference's `keyval.public` ({q} for EdDSA, {e, n} for RSA), lowercase hex. */
  readonly public: Record<string, string>;
  readonly privateKey: KeyObject;
}

function makeKey(algorithm: 1 | 22, created: number, material: Uint8Array, pub: Record<string, string>, privateKey: KeyObject): TestKey {
  const body = concat(new Uint8Array([4]), u32(created), new Uint8Array([algorithm]), material);
  const fingerprint = createHash('sha1').update(keyFrame({ body })).digest('hex');
  return { algorithm, created, body, fingerprint, keyid: fingerprint.slice(24), public: pub, privateKey };
}

/** The Ed25519 curve OID 1.3.6.1.4.1.11591.15.1 as OpenPGP writes it (no DER tag/length). */
const ED25519_OID = Buffer.from('2b06010401da470f01', 'hex');

/**
 * An Ed25519 key, deterministic from `seed` (a number or 32 bytes). Key material: OID length, OID, then an MPI
 * of 0x40 || the 32-byte point (bit count 263).
 */
export function ed25519Key(created: number, seed: number | Uint8Array): TestKey {
  const s = typeof seed === 'number' ? createHash('sha256').update(`openpgp-builder seed ${seed}`).digest() : Buffer.from(seed);
  // PKCS#8 for Ed25519 is a fixed 16-byte prefix and the 32-byte seed (RFC 8410).
  const privateKey = createPrivateKey({ key: Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), s]), format: 'der', type: 'pkcs8' });
  const point = Buffer.from(privateKey.export({ format: 'jwk' }).x!, 'base64url');
  const material = concat(new Uint8Array([ED25519_OID.length]), ED25519_OID, mpi(concat(new Uint8Array([0x40]), point)));
  return makeKey(22, created, material, { q: hex(point) }, privateKey);
}

/** An RSA key (random; generation takes a moment). Key material: MPI n, MPI e. */
export function rsaKey(created: number, bits = 2048): TestKey {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: bits });
  const jwk = privateKey.export({ format: 'jwk' });
  const n = Buffer.from(jwk.n!, 'base64url');
  const e = Buffer.from(jwk.e!, 'base64url');
  return makeKey(1, created, concat(mpi(n), mpi(e)), { e: hex(e), n: hex(n) }, privateKey);
}

// ---------------------------------------------------------------------------------------------------------
// What signatures hash (§5.2.4)

/** A key as signatures over it hash it: 0x99, two-octet length, body (subkeys too). */
export function keyFrame(key: Pick<TestKey, 'body'>): Uint8Array {
  return concat(new Uint8Array([0x99]), u16(key.body.length), key.body);
}

/** A user id as certifications hash it: 0xB4, four-octet length, the UTF-8 text. */
export function uidFrame(uid: string): Uint8Array {
  const b = utf8(uid);
  return concat(new Uint8Array([0xb4]), u32(b.length), b);
}

export const userIdPacket = (uid: string) => packet(TAG.USER_ID, utf8(uid));
export const keyPacket = (key: TestKey, format: 'new' | 'old' = 'new') => packet(TAG.PUBLIC_KEY, key.body, format);
export const subkeyPacket = (key: TestKey, format: 'new' | 'old' = 'new') => packet(TAG.PUBLIC_SUBKEY, key.body, format);

// ---------------------------------------------------------------------------------------------------------
// Signatures

export interface SignatureOptions {
  /** Hash algorithm id (default SHA-256). Any id node:crypto knows a name for. */
  hash?: number;
  /** Creation time for the default hashed subpackets (default: the signer's creation time). */
  created?: number;
  /** The hashed subpackets, exactly (default: creation time and issuer fingerprint). */
  hashed?: Uint8Array[];
  /** Added after `hashed` (or after the defaults). */
  extraHashed?: Uint8Array[];
  /** The unhashed subpackets, exactly (default: the issuer key id). */
  unhashed?: Uint8Array[];
  /** Flip a bit of the signature value after signing, so it no longer verifies. */
  corrupt?: boolean;
  /** Octets appended to the hashed part after the hashed subpackets, and signed (malformed on purpose). */
  junkAfterHashed?: Uint8Array;
}

export interface BuiltSignature {
  /** The signature packet body (tag 2). */
  readonly body: Uint8Array;
  /** The whole packet. */
  readonly packet: Uint8Array;
  /** Version through the end of the hashed subpackets (the reference's `other_headers`). */
  readonly hashedPart: Uint8Array;
  /** EdDSA: r || s (64 octets); RSA: s without leading zeros. As the reference's `signature` field. */
  readonly value: Uint8Array;
}

/**
 * A v4 signature (§5.2.3) of `type` by `signer` over `framed` (the data, or the framed key/user id, §5.2.4).
 * Hashed: framed || version..hashed subpackets || 0x04 0xFF || four-octet length of that hashed part.
 */
export function signature(signer: TestKey, type: number, framed: Uint8Array, opts: SignatureOptions = {}): BuiltSignature {
  const hashId = opts.hash ?? HASH.SHA256;
  const hashName = HASH_NAME[hashId];
  if (!hashName) throw new Error(`no hash name for id ${hashId}`);
  const hashed = concat(...(opts.hashed ?? [sp.created(opts.created ?? signer.created), sp.issuerFpr(signer)]), ...(opts.extraHashed ?? []));
  const unhashed = concat(...(opts.unhashed ?? [sp.issuer(signer)]));
  const hashedPart = concat(new Uint8Array([4, type, signer.algorithm, hashId]), u16(hashed.length), hashed, opts.junkAfterHashed ?? new Uint8Array());
  const data = concat(framed, hashedPart, new Uint8Array([0x04, 0xff]), u32(hashedPart.length));
  const digest = createHash(hashName).update(data).digest();
  let value: Uint8Array;
  let mpis: Uint8Array;
  if (signer.algorithm === 22) {
    // EdDSA in OpenPGP signs the digest (not the data); the 64-octet result is r || s, written as two MPIs.
    value = new Uint8Array(nodeSign(null, digest, signer.privateKey));
    if (opts.corrupt) value[40] ^= 0x01;
    mpis = concat(mpi(value.subarray(0, 32)), mpi(value.subarray(32)));
  } else {
    // RSA: PKCS#1 v1.5 over the data with the hash (DigestInfo inside), one MPI.
    const s = new Uint8Array(nodeSign(hashName, data, signer.privateKey));
    if (opts.corrupt) s[s.length - 1] ^= 0x01;
    mpis = mpi(s);
    value = mpis.subarray(2);
  }
  // Version..hashed, unhashed length and subpackets, the digest's left 16 bits, the MPIs.
  const body = concat(hashedPart, u16(unhashed.length), unhashed, digest.subarray(0, 2), mpis);
  return { body, packet: packet(TAG.SIGNATURE, body), hashedPart, value };
}

export interface CertifyOptions extends SignatureOptions {
  /** Key expiration subpacket (seconds after the key's creation); in the hashed area. */
  expires?: number;
  primaryUid?: boolean;
  /** Key flags (default certify + sign); null: no key flags subpacket. */
  flags?: number | null;
  type?: number;
  /** Sign with this key instead (a third-party certification, or a forgery). */
  signer?: TestKey;
}

/** A self-certification (default 0x13 positive) of `uid` on `primary`, as gpg makes them. */
export function certify(primary: TestKey, uid: string, opts: CertifyOptions = {}): Uint8Array {
  const signer = opts.signer ?? primary;
  return signature(signer, opts.type ?? SIG.CERT_POSITIVE, concat(keyFrame(primary), uidFrame(uid)), {
    ...opts,
    extraHashed: [
      ...(opts.flags === null ? [] : [sp.keyFlags(opts.flags ?? FLAG.CERTIFY | FLAG.SIGN)]),
      ...(opts.expires !== undefined ? [sp.keyExpires(opts.expires)] : []),
      ...(opts.primaryUid ? [sp.primaryUid()] : []),
      ...(opts.extraHashed ?? []),
    ],
  }).packet;
}

export interface BindOptions extends SignatureOptions {
  /** Key flags (default sign); null: no key flags subpacket. */
  flags?: number | null;
  expires?: number;
  /**
   * The back-signature (0x19 by the subkey over primary || subkey), embedded in the hashed area:
   * 'ok' (default when the flags include sign), 'none', 'corrupt' (does not verify), 'by-primary' (made by the
   * primary key instead), 'unhashed' (valid, but in the unhashed area).
   */
  backsig?: 'ok' | 'none' | 'corrupt' | 'by-primary' | 'unhashed';
  /** Sign the binding with this key instead of the primary. */
  signer?: TestKey;
}

/** A subkey binding signature (0x18) by the primary over primary || subkey. */
export function bindSubkey(primary: TestKey, sub: TestKey, opts: BindOptions = {}): Uint8Array {
  const framed = concat(keyFrame(primary), keyFrame(sub));
  const flags = opts.flags === undefined ? FLAG.SIGN : opts.flags;
  const mode = opts.backsig ?? (flags !== null && flags & FLAG.SIGN ? 'ok' : 'none');
  let embedded: Uint8Array[] = [];
  if (mode !== 'none') {
    const backSigner = mode === 'by-primary' ? primary : sub;
    const back = signature(backSigner, SIG.PRIMARY_KEY_BINDING, framed, { created: opts.created ?? sub.created, corrupt: mode === 'corrupt' });
    embedded = [sp.embedded(back.body)];
  }
  const inHashed = mode === 'unhashed' ? [] : embedded;
  return signature(opts.signer ?? primary, SIG.SUBKEY_BINDING, framed, {
    created: sub.created,
    ...opts,
    extraHashed: [
      ...(flags === null ? [] : [sp.keyFlags(flags)]),
      ...(opts.expires !== undefined ? [sp.keyExpires(opts.expires)] : []),
      ...inHashed,
      ...(opts.extraHashed ?? []),
    ],
    unhashed: [...(opts.unhashed ?? [sp.issuer(opts.signer ?? primary)]), ...(mode === 'unhashed' ? embedded : [])],
  }).packet;
}

/** A key revocation (0x20) over the primary key, by `opts.signer` or the key itself. */
export function revokeKey(primary: TestKey, opts: SignatureOptions & { signer?: TestKey } = {}): Uint8Array {
  return signature(opts.signer ?? primary, SIG.KEY_REVOCATION, keyFrame(primary), { ...opts, extraHashed: [sp.reason(0, 'test'), ...(opts.extraHashed ?? [])] }).packet;
}

/** A subkey revocation (0x28) by the primary over primary || subkey. */
export function revokeSubkey(primary: TestKey, sub: TestKey, opts: SignatureOptions = {}): Uint8Array {
  return signature(primary, SIG.SUBKEY_REVOCATION, concat(keyFrame(primary), keyFrame(sub)), { ...opts, extraHashed: [sp.reason(0), ...(opts.extraHashed ?? [])] }).packet;
}

/** The reference's `{keyid, other_headers, signature}` signature entry. */
export interface SignatureEntry {
  keyid: string;
  other_headers: string;
  signature: string;
}

/**
 * A detached signature over `data` (default type 0x00, binary; 0x01 text hashes the data with CRLF line ends,
 * §5.2.1), as a packet (what `gpg --detach-sign` writes) and as the reference's signature entry.
 */
export function detachedSignature(signer: TestKey, data: Uint8Array, opts: SignatureOptions & { type?: number } = {}): BuiltSignature & { entry: SignatureEntry } {
  const type = opts.type ?? SIG.BINARY;
  const signed = type === SIG.TEXT ? utf8(Buffer.from(data).toString('utf8').replace(/\r?\n/g, '\r\n')) : data;
  const sig = signature(signer, type, signed, opts);
  return { ...sig, entry: { keyid: signer.fingerprint, other_headers: hex(sig.hashedPart), signature: hex(sig.value) } };
}

// ---------------------------------------------------------------------------------------------------------
// Armor (§6)

/** CRC-24 (§6.1): init 0xB704CE, generator 0x1864CFB. */
export function crc24(bytes: Uint8Array): number {
  let crc = 0xb704ce;
  for (const b of bytes) {
    crc ^= b << 16;
    for (let i = 0; i < 8; i++) {
      crc <<= 1;
      if (crc & 0x1000000) crc ^= 0x1864cfb;
    }
  }
  return crc & 0xffffff;
}

/** ASCII armor: header line, an armor header, blank line, base64 in 64-column lines, `=` CRC-24 (or `crc` given), tail. */
export function armor(bytes: Uint8Array, label = 'PGP PUBLIC KEY BLOCK', crc = crc24(bytes)): string {
  const b64 = Buffer.from(bytes).toString('base64');
  const lines = b64.match(/.{1,64}/g) ?? [];
  const sum = Buffer.from([crc >> 16, (crc >> 8) & 0xff, crc & 0xff]).toString('base64');
  return [`-----BEGIN ${label}-----`, 'Comment: openpgp-builder', '', ...lines, `=${sum}`, `-----END ${label}-----`, ''].join('\n');
}
