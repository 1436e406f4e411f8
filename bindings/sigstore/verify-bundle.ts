/**
 * Verifies a Sigstore bundle offline, as sigstore-go and sigstore-js do and stricter where they are lax:
 *  1. the content: a message signature over the artifact (its bytes, or only its SHA-256: prehashed ECDSA), or a
 *     DSSE envelope's signature over PAE, whose in-toto Statement must have the artifact among its subjects;
 *  2. every transparency log entry: a log of the trusted root (its key valid then), the entry's body the bundle's
 *     (kind hashedrekord 0.0.1/0.0.2, dsse 0.0.1, intoto 0.0.2: signature, certificate or key, digest), its signed
 *     entry timestamp and its inclusion proof (required from bundle v0.2, bound to a signed checkpoint);
 *  3. the signing times: integrated times promised by a verified SET, and RFC 3161 timestamps from the trusted
 *     root's authorities; a certificate bundle needs at least one;
 *  4. the certificate (certificate bundles): a chain to a Fulcio authority of the trusted root at every signing
 *     time, an SCT from a trusted CT log, and the identity policy; or the key (public-key bundles): the caller's.
 * Any failure throws an `InTotoError` naming what failed (`SIGNATURE`, `KEY`, `FORMAT`, `UNSUPPORTED`).
 */
import { p256, p384 } from '@noble/curves/nist.js';
import { sha256, sha512 } from '@noble/hashes/sha2.js';
import { fromBase64, fromHex, pae, toHex } from '../encoding.js';
import { InTotoError } from '../errors.js';
import { verify } from '../keys/crypto/index.js';
import { DerReader, TAG } from '../keys/der.js';
import { ecdsaCurve, publicKeyFromSpkiDer, type PublicKey } from '../keys/keys.js';
import { parseCertificate, type Certificate } from '../keys/x509.js';
import { parseOrdinaryJson } from '../attestation/json.js';
import { digestsMatch, isStatementPayloadType, readStatement, type Statement } from '../attestation/statement.js';
import type { SigstoreBundle, TlogEntry } from './bundle.js';
import { verifyFulcioChain } from './certificate.js';
import { identityMismatches, signerIdentity, type IdentityPolicy, type SignerIdentity } from './identity.js';
import { verifyScts } from './sct.js';
import { verifyTimestamp } from './timestamp.js';
import { rootFromInclusionProof, leafHash, verifyInclusion, verifySignedEntryTimestamp } from './tlog.js';
import { isValidAt, type TrustedRoot, type ValidFor } from './trusted-root.js';

/**
 * The artifact a bundle is for: its bytes, its SHA-256, or (DSSE bundles, whose subjects may name other algorithms:
 * npm's are sha512) its digests as an in-toto DigestSet of hex values.
 */
export type Artifact =
  | { readonly bytes: Uint8Array }
  | { readonly sha256: Uint8Array }
  | { readonly digests: Readonly<Record<string, string>> }
  /**
   * No artifact: a DSSE bundle's Statement is returned for the caller to judge its subjects (an attestation layout
   * matches them against its rules). A message-signature bundle cannot be verified this way.
   */
  | { readonly anySubject: true };

/**
 * Who must have signed: a certificate identity (certificate bundles) or a key (public-key bundles), optionally
 * valid only within a window (e.g. an npm registry key's `validFor`): then the bundle needs a verified signing time,
 * and every one must fall in the window.
 */
export type SignerPolicy = { readonly identity: IdentityPolicy } | { readonly key: PublicKey; readonly validFor?: ValidFor };

export interface VerifiedBundle {
  readonly signer: { readonly kind: 'certificate'; readonly certificate: Certificate; readonly identity: SignerIdentity } | { readonly kind: 'key'; readonly key: PublicKey };
  /** Verified signing times (milliseconds), with where each comes from. */
  readonly times: readonly { readonly source: 'transparency log' | 'timestamp authority'; readonly time: number }[];
  /** The in-toto Statement of a DSSE bundle. */
  readonly statement?: Statement;
}

/** Most log entries, and most timestamps, a bundle may carry. */
const MAX_ENTRIES = 16;

const fail = (message: string, field?: string) => new InTotoError('SIGNATURE', message, field ? { field } : {});
const sameBytes = (a: Uint8Array, b: Uint8Array) => a.length === b.length && a.every((x, i) => x === b[i]);
/** A time for messages; never throws (a time beyond what Date holds is shown as its number). */
const iso = (ms: number) => (Number.isFinite(ms) && Math.abs(ms) <= 8.64e15 ? new Date(ms).toISOString() : `${ms} ms after 1970`);

/**
 * The DER inside a PEM block (a certificate or a public key), or undefined. Parsed by string search, in linear time:
 * the text is a log entry body's, chosen by whoever made the bundle.
 */
function pemDer(text: string): Uint8Array | undefined {
  const begin = /^-----BEGIN ([A-Z ]{1,40})-----/.exec(text);
  if (!begin) return undefined;
  const footer = `-----END ${begin[1]}-----`;
  const end = text.indexOf(footer, begin[0].length);
  if (end < 0 || text.slice(end + footer.length).trim() !== '') return undefined;
  const body = text.slice(begin[0].length, end).replace(/[ \t\r\n]/g, '');
  return /^[A-Za-z0-9+/]*={0,2}$/.test(body) ? fromBase64(body) : undefined;
}

/** A base64 string field of a log entry body, decoded. */
function b64(value: unknown, what: string): Uint8Array {
  const decoded = typeof value === 'string' ? fromBase64(value) : undefined;
  if (!decoded) throw fail(`the log entry's ${what} is not base64`, 'tlogEntries');
  return decoded;
}

const get = (value: unknown, ...path: string[]): unknown => path.reduce<unknown>((v, k) => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>)[k] : undefined), value);

/** What the bundle says was signed, for comparing with log entries. */
interface Signed {
  readonly signature: Uint8Array;
  /** The SHA-256 a hashedrekord entry records: of the artifact (message signature) or of PAE (DSSE, Rekor v2). */
  readonly digest: Uint8Array;
  readonly dsse?: { readonly payload: Uint8Array; readonly payloadType: string };
}

/** Whether a verifier in a log entry (PEM or DER, certificate or key) is the bundle's. */
function sameVerifier(der: Uint8Array | undefined, signer: { certificate?: Certificate; key: PublicKey }): boolean {
  if (!der) return false;
  return signer.certificate ? sameBytes(der, signer.certificate.der) : sameBytes(der, signer.key.spki);
}

/** Checks that a log entry's body records exactly what the bundle holds. */
function checkBody(entry: TlogEntry, signed: Signed, signer: { certificate?: Certificate; key: PublicKey }): void {
  let body: unknown;
  try {
    body = parseOrdinaryJson(entry.canonicalizedBody);
  } catch (error) {
    throw fail(`the log entry's body is not JSON: ${(error as Error).message}`, 'tlogEntries');
  }
  const kind = get(body, 'kind');
  const version = get(body, 'apiVersion');
  if (kind !== entry.kind || version !== entry.version) throw fail(`the log entry says ${entry.kind} ${entry.version} but its body is ${String(kind)} ${String(version)}`, 'tlogEntries');
  const mismatch = (what: string) => fail(`the log entry (${entry.kind} ${entry.version}, index ${entry.logIndex}) records another ${what} than the bundle's`, 'tlogEntries');
  const spec = get(body, 'spec');
  if (kind === 'hashedrekord' && version === '0.0.1') {
    if (get(spec, 'data', 'hash', 'algorithm') !== 'sha256' || get(spec, 'data', 'hash', 'value') !== toHex(signed.digest)) throw mismatch('artifact digest');
    if (!sameBytes(b64(get(spec, 'signature', 'content'), 'signature'), signed.signature)) throw mismatch('signature');
    const key = new TextDecoder().decode(b64(get(spec, 'signature', 'publicKey', 'content'), 'public key'));
    if (!sameVerifier(pemDer(key), signer)) throw mismatch(signer.certificate ? 'certificate' : 'key');
    return;
  }
  if (kind === 'hashedrekord' && version === '0.0.2') {
    const v2 = get(spec, 'hashedRekordV002');
    if (get(v2, 'data', 'algorithm') !== 'SHA2_256' || !sameBytes(b64(get(v2, 'data', 'digest'), 'digest'), signed.digest)) throw mismatch('digest');
    if (!sameBytes(b64(get(v2, 'signature', 'content'), 'signature'), signed.signature)) throw mismatch('signature');
    const verifier = get(v2, 'signature', 'verifier');
    const der = get(verifier, 'x509Certificate', 'rawBytes') ?? get(verifier, 'publicKey', 'rawBytes');
    if (!sameVerifier(b64(der, 'verifier'), signer)) throw mismatch(signer.certificate ? 'certificate' : 'key');
    return;
  }
  if (!signed.dsse) throw fail(`a ${String(kind)} log entry is for a DSSE envelope, and this bundle holds a message signature`, 'tlogEntries');
  const payloadHash = toHex(sha256(signed.dsse.payload));
  if (kind === 'dsse' && version === '0.0.1') {
    if (get(spec, 'payloadHash', 'algorithm') !== 'sha256' || get(spec, 'payloadHash', 'value') !== payloadHash) throw mismatch('payload');
    const signatures = get(spec, 'signatures');
    if (!Array.isArray(signatures) || signatures.length !== 1) throw mismatch('set of signatures');
    const [only] = signatures;
    if (!sameBytes(b64(get(only, 'signature'), 'signature'), signed.signature)) throw mismatch('signature');
    if (!sameVerifier(pemDer(new TextDecoder().decode(b64(get(only, 'verifier'), 'verifier'))), signer)) throw mismatch(signer.certificate ? 'certificate' : 'key');
    return;
  }
  if (kind === 'intoto' && version === '0.0.2') {
    const content = get(spec, 'content');
    if (get(content, 'payloadHash', 'algorithm') !== 'sha256' || get(content, 'payloadHash', 'value') !== payloadHash) throw mismatch('payload');
    if (get(content, 'envelope', 'payloadType') !== signed.dsse.payloadType) throw mismatch('payload type');
    const signatures = get(content, 'envelope', 'signatures');
    if (!Array.isArray(signatures) || signatures.length !== 1) throw mismatch('set of signatures');
    const [only] = signatures;
    // Rekor's intoto 0.0.2 stores the envelope's base64 signature base64-encoded again.
    const once = b64(get(only, 'sig'), 'signature');
    const sig = fromBase64(new TextDecoder().decode(once));
    if (!sig || !sameBytes(sig, signed.signature)) throw mismatch('signature');
    if (!sameVerifier(pemDer(new TextDecoder().decode(b64(get(only, 'publicKey'), 'public key'))), signer)) throw mismatch(signer.certificate ? 'certificate' : 'key');
    return;
  }
  throw new InTotoError('UNSUPPORTED', `log entries of kind ${String(kind)} ${String(version)} are not supported (hashedrekord 0.0.1 and 0.0.2, dsse 0.0.1, intoto 0.0.2 are)`, { field: 'tlogEntries' });
}

/** The raw EC point of an ECDSA SPKI. */
function ecPoint(spki: Uint8Array): Uint8Array {
  const r = new DerReader(spki).sequence('SubjectPublicKeyInfo');
  r.sequence('algorithm');
  const bits = r.read(TAG.BIT_STRING, 'subjectPublicKey');
  return bits.subarray(1);
}

/** Verifies a message signature when only the artifact's SHA-256 is known: ECDSA over a prehashed message. */
function verifyPrehashed(key: PublicKey, digest: Uint8Array, signature: Uint8Array): boolean {
  if (key.keytype !== 'ecdsa') {
    throw new InTotoError('UNSUPPORTED', `a ${key.keytype} signature can only be checked against the artifact itself, not its digest: pass the file`);
  }
  const curve = ecdsaCurve(key);
  const impl = curve.size === 32 ? p256 : curve.size === 48 ? p384 : undefined;
  // A P-384 key signs SHA-384 digests: a SHA-256 digest alone cannot be checked against it.
  if (impl !== p256) throw new InTotoError('UNSUPPORTED', 'only P-256 signatures can be checked against a SHA-256 digest: pass the file');
  try {
    return impl.verify(signature, digest, ecPoint(key.spki), { prehash: false, format: 'der', lowS: false });
  } catch {
    return false;
  }
}

/** Verifies `bundle` for `artifact` against `root` and `policy`. See the module comment. */
export interface VerifyBundleOptions {
  /** The time verification happens at (default: now): no signing time may be later than it (plus a minute of clock skew). */
  readonly now?: Date;
}

/** Clock skew tolerated between a log or timestamp authority and the verifier. */
const SKEW_MS = 60_000;

export async function verifySigstoreBundle(bundle: SigstoreBundle, root: TrustedRoot, artifact: Artifact, policy: SignerPolicy, options: VerifyBundleOptions = {}): Promise<VerifiedBundle> {
  const now = (options.now ?? new Date()).getTime();
  // The signing key.
  let certificate: Certificate | undefined;
  let key: PublicKey;
  if (bundle.material.kind === 'certificate') {
    if (!('identity' in policy)) throw new InTotoError('KEY', 'the bundle is signed with a certificate, not a key: verify it with a certificate identity and issuer');
    certificate = parseCertificate(bundle.material.certificate);
    key = publicKeyFromSpkiDer(certificate.spki);
  } else {
    if (!('key' in policy)) throw new InTotoError('KEY', 'the bundle is signed with a key, not a certificate: verify it with that key (--key)');
    key = policy.key;
  }
  const signer = { ...(certificate ? { certificate } : {}), key };
  // The artifact's digests: its SHA-256 (what message signatures and hashedrekord entries use) and, for matching
  // a Statement's subjects, every digest known of it.
  let digests: Record<string, string>;
  if ('bytes' in artifact) digests = { sha256: toHex(sha256(artifact.bytes)), sha512: toHex(sha512(artifact.bytes)) };
  else if ('sha256' in artifact) digests = { sha256: toHex(artifact.sha256) };
  else if ('digests' in artifact) digests = { ...artifact.digests };
  else digests = {};
  const artifactDigest = digests.sha256 === undefined ? undefined : fromHex(digests.sha256);
  if (artifactDigest !== undefined && artifactDigest?.length !== 32) throw new InTotoError('FORMAT', 'the artifact digest must be a SHA-256 (32 bytes, 64 hex digits)');

  // 1. The content.
  let signed: Signed;
  let statement: Statement | undefined;
  const content = bundle.content;
  if (content.kind === 'messageSignature') {
    if (!artifactDigest) throw new InTotoError('FORMAT', 'a message signature is checked against the artifact or its SHA-256: give one of them');
    if (content.digest && (content.digest.algorithm !== 'SHA2_256' || !sameBytes(content.digest.value, artifactDigest))) {
      throw fail(`the bundle's message digest (${content.digest.algorithm} ${toHex(content.digest.value)}) is not the artifact's (SHA2_256 ${toHex(artifactDigest)})`, 'messageSignature.messageDigest');
    }
    const ok = 'bytes' in artifact ? await verify(key, artifact.bytes, content.signature) : verifyPrehashed(key, artifactDigest, content.signature);
    if (!ok) throw fail('the message signature does not verify over the artifact with the signing key', 'messageSignature.signature');
    signed = { signature: content.signature, digest: artifactDigest };
  } else {
    const signedBytes = pae(content.payloadType, content.payload);
    const sig = content.signatures[0]!.sig;
    if (!(await verify(key, signedBytes, sig))) throw fail('the DSSE envelope\'s signature does not verify with the signing key', 'dsseEnvelope.signatures');
    if (!isStatementPayloadType(content.payloadType)) throw new InTotoError('FORMAT', `the DSSE payload type is ${content.payloadType}, not an in-toto Statement's`, { field: 'dsseEnvelope.payloadType' });
    statement = readStatement(parseOrdinaryJson(content.payload));
    if (!('anySubject' in artifact) && !statement.subject.some((s) => s.digest !== undefined && digestsMatch(s.digest, digests))) {
      throw fail(`the artifact (${Object.entries(digests).map(([alg, hex]) => `${alg} ${hex}`).join(', ')}) is not a subject of the bundle's Statement`, 'dsseEnvelope.payload');
    }
    signed = { signature: sig, digest: sha256(signedBytes), dsse: { payload: content.payload, payloadType: content.payloadType } };
  }

  // 3a. RFC 3161 timestamps over the signature.
  const times: { source: 'transparency log' | 'timestamp authority'; time: number }[] = [];
  for (const [i, ts] of bundle.timestamps.entries()) {
    try {
      times.push({ source: 'timestamp authority', time: await verifyTimestamp(ts, signed.signature, root) });
    } catch (error) {
      if (!(error instanceof InTotoError)) throw error;
      throw new InTotoError(error.code, `timestamp ${i + 1}: ${error.message}`, { field: 'timestampVerificationData' }, { cause: error });
    }
  }

  // 2. Transparency log entries.
  if (bundle.tlogEntries.length === 0) throw fail('the bundle has no transparency log entry', 'tlogEntries');
  if (bundle.tlogEntries.length > MAX_ENTRIES || bundle.timestamps.length > MAX_ENTRIES) {
    throw new InTotoError('LIMIT', `the bundle has ${bundle.tlogEntries.length} log entries and ${bundle.timestamps.length} timestamps: more than ${MAX_ENTRIES} of either is refused (a signing is logged and stamped a few times, not thousands)`, { field: 'verificationMaterial' });
  }
  for (const entry of bundle.tlogEntries) {
    const at = `log entry ${entry.logIndex}`;
    const log = root.tlogs.find((l) => sameBytes(l.logId, entry.logId));
    if (!log) throw fail(`${at} is in a log the trusted root does not know (id ${toHex(entry.logId)})`, 'tlogEntries');
    const logKey = publicKeyFromSpkiDer(log.publicKey);
    const integrated = entry.integratedTime === undefined ? undefined : Number(entry.integratedTime) * 1000;
    let promised = false;
    if (entry.inclusionPromise) {
      await verifySignedEntryTimestamp(entry, logKey);
      promised = true;
    } else if (bundle.version === '0.1') {
      throw fail(`${at} has no signed entry timestamp, which a v0.1 bundle must carry`, 'tlogEntries');
    }
    const proof = entry.inclusionProof;
    if (!proof && bundle.version !== '0.1') throw fail(`${at} has no inclusion proof, which a v${bundle.version} bundle must carry (no online lookup here)`, 'tlogEntries');
    if (proof && proof.checkpoint !== undefined) await verifyInclusion(entry, logKey);
    else if (proof) {
      if (bundle.version !== '0.1') throw fail(`${at}: the inclusion proof has no signed checkpoint`, 'tlogEntries');
      const computed = rootFromInclusionProof(proof.logIndex, proof.treeSize, leafHash(entry.canonicalizedBody), proof.hashes);
      if (!computed || !sameBytes(computed, proof.rootHash)) throw fail(`${at}: the inclusion proof does not lead to its root hash`, 'tlogEntries');
    }
    // The body is read once the log has vouched for it (its SET or its inclusion proof).
    checkBody(entry, signed, signer);
    // The log's key must have been valid when it signed: at the integrated time its SET promises, else at the
    // verified timestamps. With neither, only a log key valid forever will do.
    const keyTimes = integrated !== undefined && promised ? [integrated] : times.filter((t) => t.source === 'timestamp authority').map((t) => t.time);
    if (keyTimes.length === 0 && log.validFor.end !== undefined) throw fail(`${at}: no verified time tells that the log's key (valid until ${iso(log.validFor.end)}) was valid when it logged the entry`, 'tlogEntries');
    for (const t of keyTimes) {
      if (!isValidAt(log.validFor, t)) throw fail(`${at}: the log's key was not valid at ${iso(t)}`, 'tlogEntries');
    }
    // An integrated time is a signing time only when the log signed it (the SET).
    if (integrated !== undefined && promised) times.push({ source: 'transparency log', time: integrated });
  }

  // A signing time from the future is a lie or a broken clock: neither dates a signature.
  const future = times.find((t) => t.time > now + SKEW_MS);
  if (future) throw fail(`the ${future.source} dates the signature ${iso(future.time)}, later than now (${iso(now)})`, 'verificationMaterial');

  // 4. The signer.
  if (!certificate) {
    const window = (policy as { readonly validFor?: ValidFor }).validFor;
    if (window) {
      if (times.length === 0) throw fail('the bundle has no verified signing time, and the key is valid only within a window');
      const outside = times.find((t) => !isValidAt(window, t.time));
      if (outside) throw new InTotoError('KEY', `the key was not valid at ${iso(outside.time)} (from the ${outside.source}): it is valid from ${iso(window.start)}${window.end !== undefined ? ` to ${iso(window.end)}` : ''}`, { field: 'verificationMaterial' });
    }
    return { signer: { kind: 'key', key }, times, ...(statement ? { statement } : {}) };
  }
  if (times.length === 0) throw fail('the bundle has no verified signing time (neither a log-promised integrated time nor a trusted RFC 3161 timestamp): the certificate cannot be checked at the time it signed');
  let issuer: Certificate | undefined;
  for (const { source, time } of times) {
    try {
      const chain = await verifyFulcioChain(certificate, root, time);
      issuer ??= chain[1];
    } catch (error) {
      if (!(error instanceof InTotoError)) throw error;
      throw new InTotoError(error.code, `at ${iso(time)} (from the ${source}): ${error.message}`, { field: 'verificationMaterial' }, { cause: error });
    }
  }
  if (!issuer) throw fail('the signing certificate is itself a root of the trusted root: a Fulcio certificate is issued by an authority', 'verificationMaterial');
  await verifyScts(certificate, issuer, root);
  const identity = signerIdentity(certificate);
  const mismatches = identityMismatches(identity, (policy as { readonly identity: IdentityPolicy }).identity);
  if (mismatches.length > 0) throw new InTotoError('KEY', `the signer is not the one expected: ${mismatches.join('; ')}`, { field: 'verificationMaterial' });
  return { signer: { kind: 'certificate', certificate, identity }, times, ...(statement ? { statement } : {}) };
}
