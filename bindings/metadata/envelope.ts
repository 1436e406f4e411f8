/**
 * The two envelopes in-toto metadata travels in, read strictly, signed and verified:
 * - Metablock (in-toto 1.x): `{"signed": {...}, "signatures": [{"keyid", "sig": hex}]}`; the signed bytes
 *   are the canonical JSON of `signed` exactly as received (unknown fields included: that is what was signed).
 * - DSSE: `{"payload": base64, "payloadType", "signatures": [{"keyid", "sig": base64}]}`; the signed bytes
 *   are PAE(payloadType, payload), the payload used exactly as received.
 *
 * A key names its signature by any of its ids (`keyidCandidates`: other implementations compute them
 * differently); callers that know the one id that counts (a layout's `keys` map) pass it. ECDSA signatures are
 * DER, as every in-toto implementation writes them; in DSSE envelopes raw r||s (IEEE P1363, what the DSSE
 * specification's own test vector uses) is accepted too. OpenPGP keys verify the reference's OpenPGP signature
 * entries (`openpgp/`), in Metablocks only.
 */
import { getEngine, parseJson } from '../engine.js';
import { fromBase64, fromHex, pae, toBase64, toHex } from '../encoding.js';
import { InTotoError } from '../errors.js';
import { dumpCompactJson, dumpReferenceJson, NOT_STRINGIFIABLE, writeJson } from './reference-json.js';
import { sign, verify } from '../keys/crypto/index.js';
import { ecdsaRawToDer } from '../keys/crypto/webcrypto.js';
import { ecdsaCurve, keyidCandidates, type PrivateKey, type PublicKey } from '../keys/keys.js';
import { isGpgKey, type GpgPublicKey } from '../keys/openpgp/key.js';
import { isGpgSignature, verifyGpgSignature, type GpgSignature, type GpgVerifyOptions } from '../keys/openpgp/signature.js';
import type { VerificationKey } from '../keys/verification-key.js';

/** The payload type in-toto's DSSE envelopes carry; anything else is not in-toto metadata. */
export const IN_TOTO_PAYLOAD_TYPE = 'application/vnd.in-toto+json';
/** Attestation framework v1.2: a Statement's payload type may name its predicate, `application/vnd.in-toto.<predicate>+json`. */
const IN_TOTO_PREDICATE_PAYLOAD_TYPE = /^application\/vnd\.in-toto\.[A-Za-z0-9._-]+\+json$/;

/** Whether a DSSE payload type is in-toto's: the generic one, or one naming a Statement's predicate. */
export function isInTotoPayloadType(payloadType: string): boolean {
  return payloadType === IN_TOTO_PAYLOAD_TYPE || IN_TOTO_PREDICATE_PAYLOAD_TYPE.test(payloadType);
}

/**
 * One entry of `signatures`, as written: `{keyid, sig}` (securesystemslib; hex in a Metablock, base64 in DSSE),
 * or in a Metablock the reference's OpenPGP form `{keyid, other_headers, signature}` (no `sig`; see
 * `openpgp/signature.ts`). Other fields (golang's `cert`) are kept.
 */
export interface SignatureEntry {
  keyid: string;
  sig?: string;
  [field: string]: unknown;
}

/** A key that verifies signatures (defined with the keys, in keys/verification-key.ts). */
export type { VerificationKey };

interface EnvelopeBase {
  /** The signed metadata as a plain JSON value (`signed`, or the parsed DSSE payload). */
  readonly signed: Record<string, unknown>;
  /** The exact bytes the signatures are over. */
  readonly signedBytes: Uint8Array;
  readonly signatures: readonly SignatureEntry[];
}

export interface Metablock extends EnvelopeBase {
  readonly kind: 'metablock';
}

export interface DsseEnvelope extends EnvelopeBase {
  readonly kind: 'dsse';
  readonly payloadType: string;
  /** The payload bytes exactly as received (base64-decoded). */
  readonly payload: Uint8Array;
}

export type Envelope = Metablock | DsseEnvelope;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** securesystemslib's HEX_SCHEMA, without the trailing newline python's `$` lets through. */
const HEX = /^[0-9a-fA-F]+$/;

function readSignatures(value: unknown, field: string, kind: Envelope['kind']): SignatureEntry[] {
  if (!Array.isArray(value)) throw new InTotoError('FORMAT', `${field} must be a list of signatures`, { field });
  return value.map((entry, i) => {
    const at = `${field}[${i}]`;
    if (!isRecord(entry)) throw new InTotoError('FORMAT', `${at} must be an object with "keyid" and "sig"`, { field: at });
    if (typeof entry.keyid !== 'string') throw new InTotoError('FORMAT', `${at}.keyid must be a string`, { field: `${at}.keyid` });
    // A Metablock's entries are all checked, used or not, as the reference's Metablock does on load
    // (securesystemslib ANY_SIGNATURE_SCHEMA): hex key id and hex signature, or the OpenPGP form, all hex.
    const hex = (name: string) => {
      if (kind === 'metablock' && !HEX.test(entry[name] as string)) throw new InTotoError('FORMAT', `${at}.${name} must be hex digits`, { field: `${at}.${name}` });
    };
    hex('keyid');
    // The reference's OpenPGP signatures exist in Metablocks only (securesystemslib GPG_SIGNATURE_SCHEMA).
    if (kind === 'metablock' && isGpgSignature(entry)) {
      hex('other_headers');
      hex('signature');
      return { ...entry, keyid: entry.keyid };
    }
    if (typeof entry.sig !== 'string') throw new InTotoError('FORMAT', `${at}.sig must be a string`, { field: `${at}.sig` });
    hex('sig');
    return { ...entry, keyid: entry.keyid, sig: entry.sig };
  });
}

/**
 * Reads a Metablock or DSSE envelope from its file bytes. Strict JSON (no duplicate keys anywhere, so the
 * bytes we verify and the values we read cannot disagree); the envelope's shape is checked, the metadata's
 * own schema is left to the models.
 */
export function readEnvelope(bytes: Uint8Array | string): Envelope {
  return envelopeFromDocument(parseJson(bytes), {
    signedBytes: () => getEngine().canonicalize(bytes, 'signed'),
    readPayload: parseJson,
  });
}

/** How `envelopeFromDocument` gets what only the file's bytes hold. */
export interface EnvelopeParts {
  /** A Metablock's signed bytes: the canonical JSON of `signed` as the file spells it. */
  signedBytes(): Uint8Array;
  /** The value of a DSSE payload (strict JSON), from the payload's bytes. */
  readPayload(payload: Uint8Array, payloadType: string): unknown;
  /**
   * A DSSE payload the engine has already decoded, with its signed bytes (PAE): the document's `payload` is then
   * `""` (the engine checked it was base64) and `readPayload` gets these bytes.
   */
  decoded?: { readonly payload: Uint8Array; readonly signedBytes: Uint8Array };
}

/**
 * Marks a payload value that `readPayload` converted from a Statement (a link attestation read as the classic link
 * it stands for): a payload type naming a predicate is a Statement's, and this one was.
 */
export const FROM_STATEMENT: unique symbol = Symbol('converted from an in-toto Statement');

/**
 * The envelope a strictly parsed document describes, for readers that parse files their own way (the
 * verifier reads links through the engine, keeping their artifacts there). Same checks as `readEnvelope`.
 */
export function envelopeFromDocument(doc: unknown, parts: EnvelopeParts): Envelope {
  if (!isRecord(doc)) throw new InTotoError('FORMAT', 'metadata must be a JSON object (a Metablock or a DSSE envelope)');
  if ('payload' in doc || 'payloadType' in doc) return readDsse(doc, parts);
  if (!isRecord(doc.signed)) throw new InTotoError('FORMAT', 'a Metablock needs a "signed" object', { field: 'signed' });
  for (const key of Object.keys(doc)) {
    if (key !== 'signed' && key !== 'signatures') {
      throw new InTotoError('FORMAT', `unknown Metablock field "${key}" (only "signed" and "signatures" exist)`, { field: key });
    }
  }
  // The reference reads a missing "signatures" as none; so do we (verification then fails for want of one).
  const signatures = readSignatures(doc.signatures ?? [], 'signatures', 'metablock');
  return { kind: 'metablock', signed: doc.signed, signedBytes: parts.signedBytes(), signatures };
}

function readDsse(doc: Record<string, unknown>, parts: EnvelopeParts): DsseEnvelope {
  if (typeof doc.payloadType !== 'string') throw new InTotoError('FORMAT', 'DSSE payloadType must be a string', { field: 'payloadType' });
  if (!isInTotoPayloadType(doc.payloadType)) {
    throw new InTotoError('FORMAT', `DSSE payloadType is "${doc.payloadType}", not in-toto's "${IN_TOTO_PAYLOAD_TYPE}" (or "application/vnd.in-toto.<predicate>+json")`, { field: 'payloadType' });
  }
  if (typeof doc.payload !== 'string') throw new InTotoError('FORMAT', 'DSSE payload must be a base64 string', { field: 'payload' });
  const payload = parts.decoded?.payload ?? fromBase64(doc.payload);
  if (!payload) throw new InTotoError('FORMAT', 'DSSE payload is not valid base64', { field: 'payload' });
  for (const key of Object.keys(doc)) {
    if (key !== 'payload' && key !== 'payloadType' && key !== 'signatures') {
      throw new InTotoError('FORMAT', `unknown DSSE envelope field "${key}"`, { field: key });
    }
  }
  const signatures = readSignatures(doc.signatures, 'signatures', 'dsse');
  let signed: unknown;
  try {
    signed = parts.readPayload(payload, doc.payloadType);
  } catch (error) {
    if (error instanceof InTotoError) {
      throw new InTotoError(error.code, `DSSE payload: ${error.message}`, { ...error, field: 'payload' }, { cause: error });
    }
    throw error;
  }
  if (!isRecord(signed)) throw new InTotoError('FORMAT', 'the DSSE payload must be a JSON object', { field: 'payload' });
  // The predicate-naming payload type is a Statement's (attestation framework v1.2), not a classic link's or layout's.
  const statement = (signed as { [FROM_STATEMENT]?: boolean })[FROM_STATEMENT] === true || (typeof signed._type === 'string' && signed._type.startsWith('https://in-toto.io/Statement/'));
  if (doc.payloadType !== IN_TOTO_PAYLOAD_TYPE && !statement) {
    throw new InTotoError('FORMAT', `DSSE payloadType "${doc.payloadType}" names a predicate, but the payload is not a Statement (its _type is ${JSON.stringify(signed._type)}): a classic link or layout is "${IN_TOTO_PAYLOAD_TYPE}"`, { field: 'payloadType' });
  }
  return { kind: 'dsse', signed, signedBytes: parts.decoded?.signedBytes ?? pae(doc.payloadType, payload), signatures, payloadType: doc.payloadType, payload };
}

/** What signature checks need of an envelope (any DSSE envelope has it, whatever its payload type). */
export type Signed = Pick<Envelope, 'kind' | 'signatures' | 'signedBytes'>;

/** Decodes a signature's bytes per envelope kind; undefined when malformed (which then fails verification). */
function signatureBytes(envelope: Signed, entry: SignatureEntry): Uint8Array | undefined {
  if (entry.sig === undefined) return undefined;
  return envelope.kind === 'metablock' ? fromHex(entry.sig) : fromBase64(entry.sig);
}

/** Whether `sig` is `key`'s signature over the envelope: DER ECDSA everywhere, raw r||s ECDSA in DSSE too. */
async function signatureHolds(envelope: Signed, key: PublicKey, sig: Uint8Array): Promise<boolean> {
  if (await verify(key, envelope.signedBytes, sig)) return true;
  if (envelope.kind !== 'dsse' || key.keytype !== 'ecdsa' || sig.length !== 2 * ecdsaCurve(key).size) return false;
  return verify(key, envelope.signedBytes, ecdsaRawToDer(sig));
}

/**
 * Verifies the envelope's signature by `key`, as the reference does: the FIRST signature carrying one of
 * `keyids` is the one checked. By default those are all the ids the key is known by (`keyidCandidates`, its
 * own first); a layout's `keys` map names the one id that counts. Throws `SIGNATURE` (naming the keyid)
 * when there is no such signature or it does not verify.
 */
export async function verifySignatureBy(
  envelope: Signed,
  key: VerificationKey,
  keyids: readonly string[] = isGpgKey(key) ? [key.keyid, ...key.subkeys.keys()] : keyidCandidates(key),
  options: GpgVerifyOptions = {},
): Promise<void> {
  const entry = signatureEntry(envelope, key, keyids);
  if (isGpgKey(key)) {
    // Only the reference's OpenPGP form can hold an OpenPGP signature, and only in a Metablock.
    if (envelope.kind !== 'metablock' || !isGpgSignature(entry)) {
      throw new InTotoError('SIGNATURE', `the signature by key ${entry.keyid} is not an OpenPGP signature ({keyid, other_headers, signature} in a Metablock)`, { keyid: entry.keyid });
    }
    return verifyGpgSignature(entry as unknown as GpgSignature, key, envelope.signedBytes, options);
  }
  const sig = signatureBytes(envelope, entry);
  if (!sig || !(await signatureHolds(envelope, key, sig))) {
    throw new InTotoError('SIGNATURE', `the signature by key ${entry.keyid} does not verify`, { keyid: entry.keyid });
  }
}

/**
 * `verifySignatureBy` for a key that is not OpenPGP, with a synchronous `verify` (a backend's `verifySync`): the
 * envelope's signed bytes are read during the call only, so they may be a view of the engine's memory (no copy).
 * Same checks, same errors.
 */
export function verifySignatureBySync(
  envelope: Signed,
  key: PublicKey,
  keyids: readonly string[],
  verify: (key: PublicKey, data: Uint8Array, signature: Uint8Array) => boolean,
): void {
  const entry = signatureEntry(envelope, key, keyids);
  const sig = signatureBytes(envelope, entry);
  const holds = (bytes: Uint8Array) => verify(key, envelope.signedBytes, bytes);
  const ok = sig !== undefined && (holds(sig) || (envelope.kind === 'dsse' && key.keytype === 'ecdsa' && sig.length === 2 * ecdsaCurve(key).size && holds(ecdsaRawToDer(sig))));
  if (!ok) throw new InTotoError('SIGNATURE', `the signature by key ${entry.keyid} does not verify`, { keyid: entry.keyid });
}

/** The signature `verifySignatureBy` checks: the first carrying one of `keyids`; `SIGNATURE` when there is none. */
function signatureEntry(envelope: Signed, key: VerificationKey, keyids: readonly string[]): SignatureEntry {
  const entry = envelope.signatures.find((s) => keyids.includes(s.keyid));
  if (!entry) {
    if (isGpgKey(key) && keyids.length === 1 && keyids[0] !== key.keyid) {
      throw new InTotoError('SIGNATURE', `no signature by subkey ${keyids[0]} of key ${key.keyid}`, { keyid: keyids[0] });
    }
    const also = keyids.length > 1 ? ` (nor under any of its ${keyids.length - 1} other ids${isGpgKey(key) ? ': its subkeys' : ''})` : '';
    throw new InTotoError('SIGNATURE', `no signature by key ${key.keyid}${also}`, { keyid: key.keyid });
  }
  return entry;
}

/** Verifies that every one of `keys` signed the envelope (the reference's rule for layouts). */
export async function verifyEnvelope(envelope: Envelope, keys: readonly VerificationKey[], options: GpgVerifyOptions = {}): Promise<void> {
  if (keys.length === 0) throw new InTotoError('SIGNATURE', 'no verification key given');
  for (const key of keys) await verifySignatureBy(envelope, key, undefined, options);
}

/** A DSSE envelope of any payload type, its payload not interpreted (DSSE protocol v1.0). */
export interface RawDsseEnvelope {
  readonly kind: 'dsse';
  readonly payloadType: string;
  readonly payload: Uint8Array;
  /** PAE(payloadType, payload): what the signatures are over. */
  readonly signedBytes: Uint8Array;
  /** `keyid` is optional in DSSE; a signature without one has `keyid` `''`. */
  readonly signatures: readonly SignatureEntry[];
}

/**
 * Reads any DSSE envelope (strict JSON, the three fields only), for payloads that are not in-toto metadata.
 * In-toto metadata goes through `readEnvelope`, which also checks the payload type and parses the payload.
 */
export function readDsseEnvelope(bytes: Uint8Array | string): RawDsseEnvelope {
  const doc = parseJson(bytes);
  if (!isRecord(doc)) throw new InTotoError('FORMAT', 'a DSSE envelope must be a JSON object');
  for (const key of Object.keys(doc)) {
    if (key !== 'payload' && key !== 'payloadType' && key !== 'signatures') throw new InTotoError('FORMAT', `unknown DSSE envelope field "${key}"`, { field: key });
  }
  if (typeof doc.payloadType !== 'string') throw new InTotoError('FORMAT', 'DSSE payloadType must be a string', { field: 'payloadType' });
  if (typeof doc.payload !== 'string') throw new InTotoError('FORMAT', 'DSSE payload must be a base64 string', { field: 'payload' });
  const payload = fromBase64(doc.payload);
  if (!payload) throw new InTotoError('FORMAT', 'DSSE payload is not valid base64', { field: 'payload' });
  if (!Array.isArray(doc.signatures)) throw new InTotoError('FORMAT', 'signatures must be a list of signatures', { field: 'signatures' });
  const signatures = readSignatures(
    doc.signatures.map((s: unknown) => (isRecord(s) && s.keyid === undefined ? { ...s, keyid: '' } : s)),
    'signatures',
    'dsse',
  );
  return { kind: 'dsse', payloadType: doc.payloadType, payload, signedBytes: pae(doc.payloadType, payload), signatures };
}

/** At most this many signatures are tried per key when key ids do not pick one (a bound on the work a file can cause). */
const MAX_DSSE_TRIES = 16;

/**
 * DSSE's own verification rule (protocol.md): a key accepts the envelope when one of its signatures verifies
 * with the key. The `keyid` is only an unauthenticated hint: signatures naming one of the key's ids are tried
 * first, then those naming none, then the rest. Throws `SIGNATURE` when some key has no valid signature.
 */
export async function verifyDsse(envelope: RawDsseEnvelope | DsseEnvelope, keys: readonly PublicKey[]): Promise<void> {
  if (keys.length === 0) throw new InTotoError('SIGNATURE', 'no verification key given');
  for (const key of keys) {
    const ids = keyidCandidates(key);
    const rank = (s: SignatureEntry) => (ids.includes(s.keyid) ? 0 : s.keyid === '' ? 1 : 2);
    const ordered = [...envelope.signatures].sort((a, b) => rank(a) - rank(b)).slice(0, MAX_DSSE_TRIES);
    let ok = false;
    for (const entry of ordered) {
      const sig = entry.sig === undefined ? undefined : fromBase64(entry.sig);
      if (sig && (await signatureHolds(envelope, key, sig))) {
        ok = true;
        break;
      }
    }
    if (!ok) throw new InTotoError('SIGNATURE', `no signature in the DSSE envelope verifies with key ${key.keyid}`, { keyid: key.keyid });
  }
}

/** An unsigned Metablock around `signed` (a plain JSON value: a layout or a link). */
export function createMetablock(signed: Record<string, unknown>): Metablock {
  // Written here when the document is plain (integers, strings without control characters or lone surrogates):
  // a link of 100,000 artifacts is neither stringified nor parsed again. Otherwise the engine canonicalizes
  // (and refuses what canonical JSON cannot hold).
  const engine = getEngine();
  // The engine's own depth limit applies to both paths (a caller may have lowered it).
  const written = writeJson(signed, 'canonical', engine.limits.maxDepth);
  const asIs = written === NOT_STRINGIFIABLE ? undefined : written;
  const signedBytes = asIs && asIs.length <= engine.limits.maxInputBytes ? asIs : engine.canonicalize(JSON.stringify(signed));
  return { kind: 'metablock', signed, signedBytes, signatures: [] };
}

/**
 * An unsigned DSSE envelope whose payload is `signed` as compact JSON with sorted keys. Not canonical JSON:
 * its raw control characters (newlines in PEM keys) would make the payload invalid JSON for its readers.
 */
export function createDsse(signed: Record<string, unknown>): DsseEnvelope {
  const payload = dumpCompactJson(signed);
  return { kind: 'dsse', signed, payload, payloadType: IN_TOTO_PAYLOAD_TYPE, signedBytes: pae(IN_TOTO_PAYLOAD_TYPE, payload), signatures: [] };
}

/** Returns the envelope with a signature by `key` added (a key that already signed is replaced, as in-toto-sign does). */
export async function signEnvelope<E extends Envelope>(envelope: E, key: PrivateKey): Promise<E> {
  const raw = await sign(key, envelope.signedBytes);
  const entry: SignatureEntry = { keyid: key.keyid, sig: envelope.kind === 'metablock' ? toHex(raw) : toBase64(raw) };
  return { ...envelope, signatures: [...envelope.signatures.filter((s) => s.keyid !== key.keyid), entry] };
}

/** The file bytes, written as the reference writes them (indent 1, sorted keys, ASCII only). */
export function serializeEnvelope(envelope: Envelope): Uint8Array {
  if (envelope.kind === 'metablock') {
    return dumpReferenceJson({ signatures: envelope.signatures, signed: envelope.signed });
  }
  return dumpReferenceJson({ payload: toBase64(envelope.payload), payloadType: envelope.payloadType, signatures: envelope.signatures });
}
