/**
 * OpenPGP public keys as in-toto uses them: the reference's key dict (securesystemslib `GPG_PUBKEY_SCHEMA`,
 * what a layout's `keys` holds), and the import of a key exported by gpg (`gpg --export`, binary or armored),
 * whose self-signatures and subkey bindings are checked here as RFC 4880 says.
 *
 * Semantics (securesystemslib 0.26 / in-toto 1.3.1, and where we are stricter):
 * - Key ids are v4 fingerprints, 40 lowercase hex (§12.2: SHA-1 over 0x99, a two-byte length and the key body).
 * - A key dict lists the master key with its `subkeys`; a signature by a subkey counts for the master.
 * - Expiry: `creation_time` + `validity_period` (seconds; absent or 0: never). On import it comes from the
 *   most recent valid self-signature, the primary user id's first (§5.2.3.6, §5.2.3.19); the reference instead
 *   keeps the newest self-signature that carries an expiration, so a key later made non-expiring still expires.
 * - Subkeys: a subkey is listed only if its newest valid binding signature (0x18) gives it the signing flag
 *   and carries a valid back-signature by the subkey (0x19, §11.1); the reference lists every bound subkey.
 * - Revocation (0x20 on the key, 0x28 on a subkey, issued by the key itself) refuses the key or drops the
 *   subkey; the reference ignores revocations. Revocations by a designated revoker cannot be checked without
 *   that key and are not considered.
 * - From a dict with `creation_time`, the fingerprint is recomputed and must be the dict's `keyid` (and each
 *   subkey's id); without it (older layouts) the declared id is taken as the reference takes it.
 */
import { sha1 } from '@noble/hashes/legacy.js';
import { concatBytes as concat, toHex } from '../../encoding.js';
import { InTotoError } from '../../errors.js';
import { ALGORITHM_ID, HASHES, KEY_ALGORITHMS, algorithmName, readPublicParams, verifyHashed, writePublicParams, type GpgKeyType, type PublicParams } from './algorithms.js';
import { BodyReader, PgpFormatError, SUBPACKET, TAG, dearmor, readPackets, readUint32, uint32, type Packet } from './packets.js';
import { SIG_TYPE, hashedSubpacket, isoSeconds, readSignaturePacket, signedSuffix, unknownCritical, type SignaturePacket } from './signature.js';
import type { GpgPublicKey } from './key-types.js';

export type { GpgPublicKey } from './key-types.js';

/** The reference's key dict. */
export interface GpgKeyDict {
  method: string;
  type: GpgKeyType;
  hashes: string[];
  creation_time?: number;
  keyid: string;
  keyval: { private: ''; public: Record<string, string> };
  validity_period?: number;
  subkeys?: Record<string, GpgKeyDict>;
}

export function isGpgKey(key: unknown): key is GpgPublicKey {
  return typeof key === 'object' && key !== null && (key as { kind?: unknown }).kind === 'openpgp';
}

/** Whether a key dict is an OpenPGP one (`type` and a `pgp+` method) rather than securesystemslib's. */
export function isGpgKeyDict(obj: unknown): boolean {
  return typeof obj === 'object' && obj !== null && typeof (obj as { method?: unknown }).method === 'string' && (obj as { method: string }).method.startsWith('pgp+');
}

const HASHES_FIELD = 'pgp+SHA2';

// ---------------------------------------------------------------------------------------------------------
// Key dicts

/** Reads the reference's key dict, checking what it can (see the file comment). Throws `KEY` naming the field. */
export function gpgKeyFromDict(obj: unknown, field = 'key'): GpgPublicKey {
  return readDict(obj, field, undefined);
}

function readDict(obj: unknown, field: string, master: GpgKeyType | undefined): GpgPublicKey {
  const bad = (sub: string, why: string) => new InTotoError('KEY', `${field}${sub ? `.${sub}` : ''} ${why}`, { field: sub ? `${field}.${sub}` : field });
  if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) throw bad('', 'must be an OpenPGP key object');
  const d = obj as Record<string, unknown>;
  const type = d.type;
  const algorithm = Object.values(KEY_ALGORITHMS).find((a) => a.type === type);
  if (!algorithm) throw bad('type', `must be "rsa", "dsa" or "eddsa", got ${JSON.stringify(type)}`);
  if (master !== undefined && type !== master) throw bad('type', `must be "${master}" like its master key`);
  if (d.method !== algorithm.method) throw bad('method', `must be "${algorithm.method}" for a ${algorithm.type} key`);
  if (!Array.isArray(d.hashes) || d.hashes.some((h) => h !== HASHES_FIELD)) throw bad('hashes', `must be an array of "${HASHES_FIELD}"`);
  if (typeof d.keyid !== 'string' || !/^[0-9a-fA-F]+$/.test(d.keyid)) throw bad('keyid', 'must be a hex key id');
  const keyid = d.keyid.toLowerCase();
  const seconds = (name: string) => {
    const v = d[name];
    if (v === undefined) return undefined;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 0xffffffff) throw bad(name, 'must be a whole number of seconds');
    return v;
  };
  const creationTime = seconds('creation_time');
  const validityPeriod = seconds('validity_period');
  const keyval = d.keyval as Record<string, unknown> | undefined;
  if (typeof keyval !== 'object' || keyval === null || keyval.private !== '' || typeof keyval.public !== 'object' || keyval.public === null) {
    throw bad('keyval', 'must be {"private": "", "public": {...}}');
  }
  const pub = keyval.public as Record<string, unknown>;
  const names = algorithm.type === 'rsa' ? ['e', 'n'] : algorithm.type === 'dsa' ? ['p', 'q', 'g', 'y'] : ['q'];
  const params: Record<string, string> = {};
  for (const name of names) {
    if (typeof pub[name] !== 'string') throw bad(`keyval.public.${name}`, 'must be a hex string');
    params[name] = (pub[name] as string).toLowerCase();
  }
  // Also validates the numbers' encoding.
  const body = keyBody(algorithm.type, creationTime ?? 0, params, `${field}.keyval.public`);
  if (creationTime !== undefined) {
    const computed = fingerprint(body);
    if (computed !== keyid) throw new InTotoError('KEY', `${field}: the key with id ${keyid} is a different key (its fingerprint is ${computed})`, { keyid, field });
  }
  const subkeys = new Map<string, GpgPublicKey>();
  if (d.subkeys !== undefined) {
    if (master !== undefined) throw bad('subkeys', 'is not allowed in a subkey');
    if (typeof d.subkeys !== 'object' || d.subkeys === null || Array.isArray(d.subkeys)) throw bad('subkeys', 'must map key ids to subkeys');
    for (const [id, sub] of Object.entries(d.subkeys)) {
      const subkey = readDict(sub, `${field}.subkeys.${id}`, algorithm.type);
      if (subkey.keyid !== id.toLowerCase()) throw bad(`subkeys.${id}`, `is listed under another id than its own (${subkey.keyid})`);
      subkeys.set(subkey.keyid, subkey);
    }
  }
  return {
    kind: 'openpgp',
    keyid,
    type: algorithm.type,
    method: algorithm.method,
    public: params,
    ...(creationTime !== undefined ? { creationTime } : {}),
    ...(validityPeriod !== undefined ? { validityPeriod } : {}),
    subkeys,
  };
}

/** The reference's key dict for a key (what `in-toto-layout` puts in `keys`, what `--json` shows). */
export function gpgKeyToDict(key: GpgPublicKey): GpgKeyDict {
  const dict: GpgKeyDict = {
    method: key.method,
    type: key.type,
    hashes: [HASHES_FIELD],
    ...(key.creationTime !== undefined ? { creation_time: key.creationTime } : {}),
    keyid: key.keyid,
    keyval: { private: '', public: { ...key.public } },
    ...(key.validityPeriod !== undefined ? { validity_period: key.validityPeriod } : {}),
  };
  if (key.subkeys.size > 0) dict.subkeys = Object.fromEntries([...key.subkeys].map(([id, sub]) => [id, gpgKeyToDict(sub)]));
  return dict;
}

/** When a key (or its primary) stops being valid, in seconds since the epoch; undefined: never. */
export function expiresAt(key: GpgPublicKey): number | undefined {
  return key.validityPeriod && key.creationTime !== undefined ? key.creationTime + key.validityPeriod : undefined;
}

// ---------------------------------------------------------------------------------------------------------
// Import from gpg's export

/** A key found in exported data: the usable key, or why it cannot be used. */
export interface ExportedKey {
  readonly fingerprint: string;
  readonly key?: GpgPublicKey;
  /** Why the key is refused (revoked, no valid self-signature, unsupported algorithm). */
  readonly refused?: string;
  /** Subkeys left out, by fingerprint, with the reason (not for signing, revoked, bad binding, ...). */
  readonly leftOut: ReadonlyMap<string, string>;
}

/**
 * Every key (transferable public key, RFC 4880 §11.1) in `gpg --export` output, binary or armored: each
 * self-signature and binding signature is verified (so this is async). Keyring files (`pubring.gpg`) work too:
 * their trust packets are skipped.
 */
export async function readExportedKeys(data: Uint8Array | string): Promise<ExportedKey[]> {
  let packets: Packet[];
  try {
    packets = readPackets(dearmor(data));
  } catch (error) {
    throw keyError(error);
  }
  const groups: Packet[][] = [];
  for (const packet of packets) {
    if (packet.tag === TAG.PUBLIC_KEY) groups.push([packet]);
    else if (groups.length === 0) throw new InTotoError('KEY', `OpenPGP data does not start with a public key packet (found tag ${packet.tag} at byte ${packet.offset})`);
    else groups[groups.length - 1]!.push(packet);
  }
  if (groups.length === 0) throw new InTotoError('KEY', 'no OpenPGP public key found');
  const out: ExportedKey[] = [];
  for (const group of groups) out.push(await readTransferableKey(group));
  return out;
}

/**
 * The key `keyid` (a fingerprint, or its last 16 or 8 hex digits; a subkey's names its master) from gpg's
 * export, as the reference's `export_pubkey` returns it: the master key with its signing subkeys. Throws `KEY`
 * when it is absent, revoked, or the subkey named was left out (saying why).
 */
export async function gpgKeyFromExport(data: Uint8Array | string, keyid?: string): Promise<GpgPublicKey> {
  const keys = await readExportedKeys(data);
  const wanted = keyid?.toLowerCase();
  if (wanted !== undefined && !/^[0-9a-f]{8,40}$/.test(wanted)) throw new InTotoError('KEY', `${JSON.stringify(keyid)} is not an OpenPGP key id (8 to 40 hex digits)`);
  const matches = (fpr: string) => wanted === undefined || fpr.endsWith(wanted);
  for (const found of keys) {
    const subkeyMatch = found.key && [...found.key.subkeys.keys()].some(matches);
    if (matches(found.fingerprint) || subkeyMatch) {
      if (!found.key) throw new InTotoError('KEY', `OpenPGP key ${found.fingerprint}: ${found.refused}`, { keyid: found.fingerprint });
      return found.key;
    }
    for (const [fpr, why] of found.leftOut) {
      if (matches(fpr)) throw new InTotoError('KEY', `OpenPGP subkey ${fpr} of key ${found.fingerprint} cannot be used: ${why}`, { keyid: fpr });
    }
  }
  throw new InTotoError('KEY', wanted === undefined ? 'no OpenPGP key found' : `no OpenPGP key or subkey ${wanted} in the exported keys`, wanted ? { keyid: wanted } : {});
}

/** A part of a key (the key itself, a user id, a subkey) with the signatures over it. */
interface Component {
  readonly sigs: SignaturePacket[];
  /** A revocation signature that could not be read is among them. */
  unreadableRevocation: boolean;
}

/** Most bytes the signatures of one key may cover in all (each signature hashes the key and its part). */
const MAX_SIGNED_BYTES = 64 << 20;

interface ParsedKey {
  readonly fingerprint: string;
  readonly type: GpgKeyType;
  readonly params: PublicParams;
  readonly creationTime: number;
  /** What signatures over this key hash: 0x99, two-byte length, body (§5.2.4). */
  readonly hashed: Uint8Array;
}

async function readTransferableKey(group: Packet[]): Promise<ExportedKey> {
  const primaryPacket = group[0]!;
  let primary: ParsedKey;
  try {
    primary = parseKeyPacket(primaryPacket.body, 'public key packet');
  } catch (error) {
    const fingerprint = fingerprintOf(primaryPacket.body);
    if (error instanceof PgpFormatError || (error instanceof InTotoError && error.code === 'UNSUPPORTED')) {
      return { fingerprint, refused: (error as Error).message, leftOut: new Map() };
    }
    throw error;
  }
  // Group the packets: signatures directly on the key, then user ids and subkeys, each with their signatures.
  // A revocation we cannot read (another signature version) is remembered: it cannot be checked, so it is
  // taken to hold (below), never ignored.
  const direct: Component = { sigs: [], unreadableRevocation: false };
  const userIds: (Component & { hashed: Uint8Array })[] = [];
  const subkeys: (Component & { packet: Packet })[] = [];
  let current: Component | undefined = direct;
  for (const packet of group.slice(1)) {
    switch (packet.tag) {
      case TAG.SIGNATURE: {
        if (!current) break;
        try {
          current.sigs.push(readSignaturePacket(packet.body, `signature packet at byte ${packet.offset}`));
        } catch (error) {
          if (!(error instanceof PgpFormatError)) throw error;
          // A signature we cannot read certifies nothing; the others still count. A revocation type in it
          // (v3: byte 2; v5 and v6: byte 1, RFC 9580 §5.2) still revokes.
          const type = packet.body[0] === 3 ? packet.body[2] : packet.body[1];
          if (type === SIG_TYPE.KEY_REVOCATION || type === SIG_TYPE.SUBKEY_REVOCATION || type === SIG_TYPE.CERT_REVOCATION) current.unreadableRevocation = true;
        }
        break;
      }
      case TAG.USER_ID:
      case TAG.USER_ATTRIBUTE: {
        // §5.2.4: 0xB4 (user id) or 0xD1 (attribute), a four-byte length, the body.
        const entry = { hashed: concat(new Uint8Array([packet.tag === TAG.USER_ID ? 0xb4 : 0xd1]), uint32(packet.body.length), packet.body), sigs: [], unreadableRevocation: false };
        userIds.push(entry);
        current = entry;
        break;
      }
      case TAG.PUBLIC_SUBKEY: {
        const entry = { packet, sigs: [], unreadableRevocation: false };
        subkeys.push(entry);
        current = entry;
        break;
      }
      case TAG.MARKER:
      case TAG.TRUST:
        // Keyrings (pubring.gpg) put a trust packet after the key, each user id and each signature: not signed,
        // not part of the key, and no reason to lose the signatures that follow.
        break;
      default:
        // Anything else: what follows it is not attributed to the component before it.
        current = undefined;
    }
  }

  // What each signature over the key's parts costs to check is bounded: a file of many signatures over a huge
  // user id would otherwise cost its size squared.
  let budget = MAX_SIGNED_BYTES;
  /**
   * Whether `sig` is `signer`'s valid signature over `signed`: a signature naming another issuer, or carrying a
   * critical subpacket we do not know (RFC 4880 §5.2.3.1), is `invalid`; one whose hash or algorithm this runtime
   * cannot check is `unchecked` (a revocation is then taken to hold).
   */
  const check = async (sig: SignaturePacket, signer: ParsedKey, ...signed: Uint8Array[]): Promise<'valid' | 'invalid' | 'unchecked'> => {
    if (!issuedBy(sig, signer.fingerprint) || unknownCritical(sig)) return 'invalid';
    if (!HASHES[sig.hashAlgorithm]) return 'unchecked';
    const data = concat(...signed, signedSuffix(sig.hashedPart));
    budget -= data.length;
    if (budget < 0) throw new InTotoError('KEY', `OpenPGP key ${primary.fingerprint}: its signatures cover more than ${MAX_SIGNED_BYTES >> 20} MiB; refusing to check them`, { keyid: primary.fingerprint });
    try {
      return (await verifyHashed(signer.type, signer.params, sig.hashAlgorithm, data, sig.values)) ? 'valid' : 'invalid';
    } catch (error) {
      if (error instanceof InTotoError && (error.code === 'UNSUPPORTED' || error.code === 'KEY')) return 'unchecked';
      throw error;
    }
  };
  const bySelf = async (sig: SignaturePacket, signer: ParsedKey, ...signed: Uint8Array[]) => (await check(sig, signer, ...signed)) === 'valid';

  // Revocation of the whole key (0x20), by the key itself.
  if (direct.unreadableRevocation) {
    return { fingerprint: primary.fingerprint, refused: 'the key carries a revocation signature that cannot be read (another signature version)', leftOut: new Map() };
  }
  // A revocation holds when valid, and when this runtime cannot check it (fail closed).
  for (const sig of direct.sigs) {
    if (sig.type !== SIG_TYPE.KEY_REVOCATION) continue;
    const verdict = await check(sig, primary, primary.hashed);
    if (verdict === 'invalid') continue;
    const refused = verdict === 'valid' ? `the key is revoked${revocationReason(sig)}` : `the key carries a revocation signature this runtime cannot check (${HASHES[sig.hashAlgorithm]?.name ?? `hash algorithm ${sig.hashAlgorithm}`})`;
    return { fingerprint: primary.fingerprint, refused, leftOut: new Map() };
  }

  // Self-signatures: certifications of user ids not revoked since, and direct-key signatures.
  const selfSigs: { sig: SignaturePacket; primaryUserId: boolean }[] = [];
  for (const uid of userIds) {
    const valid: SignaturePacket[] = [];
    let revokedAt = Infinity;
    // A revocation we cannot read or check revokes for good: no certification of this user id counts.
    let revokedForGood = uid.unreadableRevocation;
    for (const sig of uid.sigs) {
      const isCert = sig.type >= SIG_TYPE.CERT_GENERIC && sig.type <= SIG_TYPE.CERT_POSITIVE;
      if (isCert && (await bySelf(sig, primary, primary.hashed, uid.hashed))) valid.push(sig);
      else if (sig.type === SIG_TYPE.CERT_REVOCATION) {
        const verdict = await check(sig, primary, primary.hashed, uid.hashed);
        if (verdict === 'unchecked') revokedForGood = true;
        else if (verdict === 'valid') revokedAt = Math.min(revokedAt, sig.creationTime ?? 0);
      }
    }
    if (revokedForGood) continue;
    // Only a user id's newest certification is in force (it supersedes the older ones, flags included); a
    // revoked user id's certification no longer counts, one made after the revocation does.
    const current = newest(valid);
    if (current && !((current.creationTime ?? 0) <= revokedAt && revokedAt !== Infinity)) {
      selfSigs.push({ sig: current, primaryUserId: (hashedSubpacket(current, SUBPACKET.PRIMARY_USER_ID)?.[0] ?? 0) !== 0 });
    }
  }
  for (const sig of direct.sigs) {
    if (sig.type === SIG_TYPE.DIRECT_KEY && (await bySelf(sig, primary, primary.hashed))) selfSigs.push({ sig, primaryUserId: false });
  }
  if (selfSigs.length === 0) {
    return { fingerprint: primary.fingerprint, refused: 'the key has no valid self-signature (on a user id, or directly on the key)', leftOut: new Map() };
  }
  // The most recent self-signature decides, the primary user id's first (RFC 4880 §5.2.3.19).
  const preferred = selfSigs.some((s) => s.primaryUserId) ? selfSigs.filter((s) => s.primaryUserId || s.sig.type === SIG_TYPE.DIRECT_KEY) : selfSigs;
  const latest = newest(preferred.map((s) => s.sig))!;
  const validityPeriod = expiration(latest);

  const usable = new Map<string, GpgPublicKey>();
  const leftOut = new Map<string, string>();
  for (const { packet, sigs, unreadableRevocation } of subkeys) {
    let sub: ParsedKey;
    try {
      sub = parseKeyPacket(packet.body, `subkey packet at byte ${packet.offset}`);
    } catch (error) {
      if (!(error instanceof PgpFormatError || (error instanceof InTotoError && error.code === 'UNSUPPORTED'))) throw error;
      leftOut.set(fingerprintOf(packet.body), (error as Error).message);
      continue;
    }
    if (sub.type !== primary.type) {
      // The reference's key format gives a key and its subkeys one type: a dict holding this one could not be read.
      leftOut.set(sub.fingerprint, `its algorithm (${sub.type}) is not its primary key's (${primary.type}), which the reference's key format cannot hold`);
      continue;
    }
    if (unreadableRevocation) {
      leftOut.set(sub.fingerprint, 'it carries a revocation signature that cannot be read (another signature version)');
      continue;
    }
    const why = await subkeyProblem(primary, sub, sigs, check);
    if (typeof why === 'string') {
      leftOut.set(sub.fingerprint, why);
      continue;
    }
    usable.set(sub.fingerprint, gpgKey(sub, expiration(why), new Map()));
  }
  return { fingerprint: primary.fingerprint, key: gpgKey(primary, validityPeriod, usable), leftOut };
}

/** The subkey's newest valid binding signature, or why the subkey cannot sign for its key. */
async function subkeyProblem(
  primary: ParsedKey,
  sub: ParsedKey,
  sigs: readonly SignaturePacket[],
  check: (sig: SignaturePacket, signer: ParsedKey, ...signed: Uint8Array[]) => Promise<'valid' | 'invalid' | 'unchecked'>,
): Promise<string | SignaturePacket> {
  const bindings: SignaturePacket[] = [];
  for (const sig of sigs) {
    if (sig.type !== SIG_TYPE.SUBKEY_REVOCATION && sig.type !== SIG_TYPE.SUBKEY_BINDING) continue;
    const verdict = await check(sig, primary, primary.hashed, sub.hashed);
    if (sig.type === SIG_TYPE.SUBKEY_REVOCATION && verdict !== 'invalid') {
      return verdict === 'valid' ? `it is revoked${revocationReason(sig)}` : 'it carries a revocation signature this runtime cannot check';
    }
    if (sig.type === SIG_TYPE.SUBKEY_BINDING && verdict === 'valid') bindings.push(sig);
  }
  const bySelf = async (sig: SignaturePacket, signer: ParsedKey, ...signed: Uint8Array[]) => (await check(sig, signer, ...signed)) === 'valid';
  const binding = newest(bindings);
  if (!binding) return 'it has no valid binding signature by its primary key';
  const flags = hashedSubpacket(binding, SUBPACKET.KEY_FLAGS);
  if (!flags || !(flags[0]! & 0x02)) return 'its binding signature does not give it the signing flag (key flags 0x02)';
  // A signing subkey must also sign its primary key (the "back-signature", 0x19, embedded in the binding,
  // §11.1): otherwise anyone could bind another person's signing key to their own primary key.
  for (const embedded of [...binding.hashed, ...binding.unhashed].filter((s) => s.type === SUBPACKET.EMBEDDED_SIGNATURE)) {
    let back: SignaturePacket;
    try {
      back = readSignaturePacket(embedded.data, 'embedded signature');
    } catch {
      continue;
    }
    if (back.type === SIG_TYPE.PRIMARY_KEY_BINDING && (await bySelf(back, sub, primary.hashed, sub.hashed))) return binding;
  }
  return 'its binding signature has no valid back-signature by the subkey (0x19)';
}

function parseKeyPacket(body: Uint8Array, what: string): ParsedKey {
  const reader = new BodyReader(body, what);
  const version = reader.byte('version');
  if (version !== 4) throw new PgpFormatError(`${what}: version ${version} keys are not supported (only version 4, as the reference)`);
  const creationTime = reader.uint32('creation time');
  const algorithmId = reader.byte('algorithm');
  const algorithm = KEY_ALGORITHMS[algorithmId];
  if (!algorithm) throw new InTotoError('UNSUPPORTED', `${algorithmName(algorithmId)} keys are not supported (RSA, DSA and EdDSA are)`);
  const params = readPublicParams(algorithm.type, reader);
  if (reader.remaining !== 0) throw new PgpFormatError(`${what}: ${reader.remaining} bytes after the key material`);
  return { fingerprint: fingerprint(body), type: algorithm.type, params, creationTime, hashed: keyHashed(body) };
}

function gpgKey(k: ParsedKey, validityPeriod: number | undefined, subkeys: ReadonlyMap<string, GpgPublicKey>): GpgPublicKey {
  const algorithm = KEY_ALGORITHMS[ALGORITHM_ID[k.type]]!;
  return {
    kind: 'openpgp',
    keyid: k.fingerprint,
    type: k.type,
    method: algorithm.method,
    public: k.params,
    creationTime: k.creationTime,
    ...(validityPeriod !== undefined ? { validityPeriod } : {}),
    subkeys,
  };
}

/** Whether a signature names `fingerprint` as its issuer, or names none (the math then decides). */
function issuedBy(sig: SignaturePacket, fpr: string): boolean {
  if (sig.issuerFingerprint !== undefined) return sig.issuerFingerprint === fpr;
  if (sig.issuerKeyId !== undefined) return fpr.endsWith(sig.issuerKeyId);
  return true;
}

function newest(sigs: readonly SignaturePacket[]): SignaturePacket | undefined {
  let best: SignaturePacket | undefined;
  for (const sig of sigs) if (!best || (sig.creationTime ?? 0) >= (best.creationTime ?? 0)) best = sig;
  return best;
}

/** The key expiration time a self-signature gives (hashed subpacket 9, §5.2.3.6), in seconds after creation. */
function expiration(sig: SignaturePacket): number | undefined {
  const data = hashedSubpacket(sig, SUBPACKET.KEY_EXPIRATION);
  return data?.length === 4 ? readUint32(data, 0) : undefined;
}

function revocationReason(sig: SignaturePacket): string {
  const at = sig.creationTime !== undefined ? ` since ${isoSeconds(sig.creationTime)}` : '';
  const reason = hashedSubpacket(sig, 29);
  const text = reason && reason.length > 1 ? new TextDecoder().decode(reason.subarray(1)).trim() : '';
  return `${at}${text ? ` (${JSON.stringify(text)})` : ''}`;
}

function keyBody(type: GpgKeyType, creationTime: number, params: PublicParams, field: string): Uint8Array {
  return concat(new Uint8Array([4]), uint32(creationTime), new Uint8Array([ALGORITHM_ID[type]]), writePublicParams(type, params, field));
}

function keyHashed(body: Uint8Array): Uint8Array {
  return concat(new Uint8Array([0x99, body.length >> 8, body.length & 0xff]), body);
}

/** The v4 fingerprint (RFC 4880 §12.2). */
function fingerprint(body: Uint8Array): string {
  return toHex(sha1(keyHashed(body)));
}

/** A key packet's fingerprint even when its contents cannot be used (for messages); `?` if not v4. */
function fingerprintOf(body: Uint8Array): string {
  return body[0] === 4 && body.length < 0x10000 ? fingerprint(body) : '(not a version 4 key)';
}

function keyError(error: unknown): unknown {
  return error instanceof PgpFormatError ? new InTotoError('KEY', `malformed OpenPGP key data: ${error.message}`, {}, { cause: error }) : error;
}
