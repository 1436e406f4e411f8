/**
 * The two envelopes in-toto metadata travels in, read strictly, signed and verified:
 * - Metablock (in-toto 1.x): `{"signed": {...}, "signatures": [{"keyid", "sig": hex}]}`; the signed bytes
 *   are the canonical JSON of `signed` exactly as received (unknown fields included: that is what was signed).
 * - DSSE: `{"payload": base64, "payloadType", "signatures": [{"keyid", "sig": base64}]}`; the signed bytes
 *   are PAE(payloadType, payload), the payload used exactly as received.
 */
import { getEngine, parseJson } from './engine.js';
import { fromBase64, fromHex, pae, toBase64, toHex } from './encoding.js';
import { InTotoError } from './errors.js';
import { dumpCompactJson, dumpReferenceJson } from './reference-json.js';
import { sign, verify } from './crypto/index.js';
import type { PrivateKey, PublicKey } from './keys.js';

/** The payload type in-toto's DSSE envelopes carry; anything else is not in-toto metadata. */
export const IN_TOTO_PAYLOAD_TYPE = 'application/vnd.in-toto+json';

/** One entry of `signatures`, as written. GPG signatures carry `other_headers` too: kept, not interpreted here. */
export interface SignatureEntry {
  keyid: string;
  sig: string;
  [field: string]: unknown;
}

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

function readSignatures(value: unknown, field: string): SignatureEntry[] {
  if (!Array.isArray(value)) throw new InTotoError('FORMAT', `${field} must be a list of signatures`, { field });
  return value.map((entry, i) => {
    const at = `${field}[${i}]`;
    if (!isRecord(entry)) throw new InTotoError('FORMAT', `${at} must be an object with "keyid" and "sig"`, { field: at });
    if (typeof entry.keyid !== 'string') throw new InTotoError('FORMAT', `${at}.keyid must be a string`, { field: `${at}.keyid` });
    if (typeof entry.sig !== 'string') throw new InTotoError('FORMAT', `${at}.sig must be a string`, { field: `${at}.sig` });
    return { ...entry, keyid: entry.keyid, sig: entry.sig };
  });
}

/**
 * Reads a Metablock or DSSE envelope from its file bytes. Strict JSON (no duplicate keys anywhere, so the
 * bytes we verify and the values we read cannot disagree); the envelope's shape is checked, the metadata's
 * own schema is left to the models.
 */
export function readEnvelope(bytes: Uint8Array | string): Envelope {
  const doc = parseJson(bytes);
  if (!isRecord(doc)) throw new InTotoError('FORMAT', 'metadata must be a JSON object (a Metablock or a DSSE envelope)');
  if ('payload' in doc || 'payloadType' in doc) return readDsse(doc);
  if (!isRecord(doc.signed)) throw new InTotoError('FORMAT', 'a Metablock needs a "signed" object', { field: 'signed' });
  for (const key of Object.keys(doc)) {
    if (key !== 'signed' && key !== 'signatures') {
      throw new InTotoError('FORMAT', `unknown Metablock field "${key}" (only "signed" and "signatures" exist)`, { field: key });
    }
  }
  // The reference reads a missing "signatures" as none; so do we (verification then fails for want of one).
  const signatures = readSignatures(doc.signatures ?? [], 'signatures');
  const signedBytes = getEngine().canonicalize(bytes, 'signed');
  return { kind: 'metablock', signed: doc.signed, signedBytes, signatures };
}

function readDsse(doc: Record<string, unknown>): DsseEnvelope {
  if (typeof doc.payloadType !== 'string') throw new InTotoError('FORMAT', 'DSSE payloadType must be a string', { field: 'payloadType' });
  if (doc.payloadType !== IN_TOTO_PAYLOAD_TYPE) {
    throw new InTotoError('FORMAT', `DSSE payloadType is "${doc.payloadType}", not in-toto's "${IN_TOTO_PAYLOAD_TYPE}"`, { field: 'payloadType' });
  }
  if (typeof doc.payload !== 'string') throw new InTotoError('FORMAT', 'DSSE payload must be a base64 string', { field: 'payload' });
  const payload = fromBase64(doc.payload);
  if (!payload) throw new InTotoError('FORMAT', 'DSSE payload is not valid base64', { field: 'payload' });
  for (const key of Object.keys(doc)) {
    if (key !== 'payload' && key !== 'payloadType' && key !== 'signatures') {
      throw new InTotoError('FORMAT', `unknown DSSE envelope field "${key}"`, { field: key });
    }
  }
  const signatures = readSignatures(doc.signatures, 'signatures');
  let signed: unknown;
  try {
    signed = parseJson(payload);
  } catch (error) {
    if (error instanceof InTotoError) {
      throw new InTotoError(error.code, `DSSE payload: ${error.message}`, { ...error, field: 'payload' }, { cause: error });
    }
    throw error;
  }
  if (!isRecord(signed)) throw new InTotoError('FORMAT', 'the DSSE payload must be a JSON object', { field: 'payload' });
  return { kind: 'dsse', signed, signedBytes: pae(doc.payloadType, payload), signatures, payloadType: doc.payloadType, payload };
}

/** Decodes a signature's bytes per envelope kind; undefined when malformed (which then fails verification). */
function signatureBytes(envelope: Envelope, entry: SignatureEntry): Uint8Array | undefined {
  return envelope.kind === 'metablock' ? fromHex(entry.sig) : fromBase64(entry.sig);
}

/**
 * Verifies the envelope's signature by `key`, as the reference does: the FIRST signature carrying the key's
 * keyid is the one checked. Throws `SIGNATURE` (naming the keyid) when there is none or it does not verify.
 */
export async function verifySignatureBy(envelope: Envelope, key: PublicKey): Promise<void> {
  const entry = envelope.signatures.find((s) => s.keyid === key.keyid);
  if (!entry) {
    throw new InTotoError('SIGNATURE', `no signature by key ${key.keyid}`, { keyid: key.keyid });
  }
  const sig = signatureBytes(envelope, entry);
  if (!sig || !(await verify(key, envelope.signedBytes, sig))) {
    throw new InTotoError('SIGNATURE', `the signature by key ${key.keyid} does not verify`, { keyid: key.keyid });
  }
}

/** Verifies that every one of `keys` signed the envelope (the reference's rule for layouts). */
export async function verifyEnvelope(envelope: Envelope, keys: readonly PublicKey[]): Promise<void> {
  if (keys.length === 0) throw new InTotoError('SIGNATURE', 'no verification key given');
  for (const key of keys) await verifySignatureBy(envelope, key);
}

/** An unsigned Metablock around `signed` (a plain JSON value: a layout or a link). */
export function createMetablock(signed: Record<string, unknown>): Metablock {
  const signedBytes = getEngine().canonicalize(JSON.stringify(signed));
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
