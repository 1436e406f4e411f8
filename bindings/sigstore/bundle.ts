/**
 * The Sigstore wing (issue 18), its first part: reading Sigstore bundles and trusted roots strictly into typed
 * forms, each refusal a `FORMAT` (or `JSON`) error naming the field. Nothing here verifies anything yet: the
 * certificate chain, SCTs, Rekor entries and proofs, timestamps and identity policy are the next parts, built on
 * these readers. It builds on `metadata/` (DSSE) and `keys/`, and knows nothing of verify, record or layout.
 *
 * Bundles are protobuf JSON (sigstore/protobuf-specs): fields in lowerCamelCase (protojson's original snake_case
 * names are refused: one spelling, one meaning), bytes in base64, 64-bit integers as decimal strings or numbers.
 */
import { fromBase64 } from '../encoding.js';
import { InTotoError } from '../errors.js';
import { parseOrdinaryJson } from '../attestation/json.js';

/** The bundle versions this package reads, by media type. */
const MEDIA_TYPES: Readonly<Record<string, '0.1' | '0.2' | '0.3'>> = {
  'application/vnd.dev.sigstore.bundle+json;version=0.1': '0.1',
  'application/vnd.dev.sigstore.bundle+json;version=0.2': '0.2',
  'application/vnd.dev.sigstore.bundle+json;version=0.3': '0.3',
  'application/vnd.dev.sigstore.bundle.v0.3+json': '0.3',
};

export interface TlogEntry {
  readonly logIndex: bigint;
  /** The log's id: SHA-256 of its public key (DER SubjectPublicKeyInfo). */
  readonly logId: Uint8Array;
  readonly kind: string;
  readonly version: string;
  /** Absent in Rekor v2 entries (their time comes from RFC 3161 timestamps). */
  readonly integratedTime?: bigint;
  /** The signed entry timestamp (v1 logs). */
  readonly inclusionPromise?: Uint8Array;
  readonly inclusionProof?: {
    readonly logIndex: bigint;
    readonly rootHash: Uint8Array;
    readonly treeSize: bigint;
    readonly hashes: readonly Uint8Array[];
    /** The signed checkpoint (note) text, when the bundle carries one. */
    readonly checkpoint?: string;
  };
  readonly canonicalizedBody: Uint8Array;
}

export type VerificationMaterial =
  | { readonly kind: 'certificate'; readonly certificate: Uint8Array; readonly chain: readonly Uint8Array[] }
  | { readonly kind: 'publicKey'; readonly hint: string };

export type BundleContent =
  | { readonly kind: 'messageSignature'; readonly digest?: { readonly algorithm: string; readonly value: Uint8Array }; readonly signature: Uint8Array }
  | { readonly kind: 'dsse'; readonly payloadType: string; readonly payload: Uint8Array; readonly signatures: readonly { readonly keyid: string; readonly sig: Uint8Array }[] };

export interface SigstoreBundle {
  readonly mediaType: string;
  readonly version: '0.1' | '0.2' | '0.3';
  readonly material: VerificationMaterial;
  readonly tlogEntries: readonly TlogEntry[];
  /** RFC 3161 signed timestamps (DER), from `timestampVerificationData.rfc3161Timestamps`. */
  readonly timestamps: readonly Uint8Array[];
  readonly content: BundleContent;
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
export const formatError = (message: string, field: string) => new InTotoError('FORMAT', `${field}: ${message}`, { field });

/** An object with only `known` fields (protojson names), each failure naming its path. */
export function record(value: unknown, field: string, known: readonly string[]): Record<string, unknown> {
  if (!isRecord(value)) throw formatError('must be an object', field);
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) {
    if (!known.includes(key)) throw formatError(`unknown field "${key}" (known: ${known.join(', ')})`, field);
    // protojson: null is the field left unset.
    if (v !== null) out[key] = v;
  }
  return out;
}

export function bytes(value: unknown, field: string, required = true): Uint8Array | undefined {
  if (value === undefined && !required) return undefined;
  if (typeof value !== 'string') throw formatError('must be base64 bytes (a string)', field);
  // Line breaks are ignored, as Go's and protobuf's base64 decoders ignore them (DER blobs are often wrapped).
  const decoded = fromBase64(value.replace(/[\r\n]/g, ''));
  if (!decoded) throw formatError('is not valid base64', field);
  return decoded;
}

export function text(value: unknown, field: string, required = true): string | undefined {
  if (value === undefined && !required) return undefined;
  if (typeof value !== 'string' || (required && value === '')) throw formatError(required ? 'is required: a non-empty string' : 'must be a string', field);
  return value;
}

/** A protobuf int64: a decimal string or a safe integer; `signed` false refuses negatives. */
export function int64(value: unknown, field: string, required = true, signed = false): bigint | undefined {
  if (value === undefined && !required) return undefined;
  const textual = typeof value === 'string' ? value : typeof value === 'number' && Number.isSafeInteger(value) ? String(value) : undefined;
  if (textual === undefined || !/^-?(0|[1-9]\d{0,18})$/.test(textual)) throw formatError('must be an integer (a decimal string)', field);
  const n = BigInt(textual);
  if (!signed && n < 0n) throw formatError(`must not be negative, found ${textual}`, field);
  if (n > 0x7fffffffffffffffn || n < -0x8000000000000000n) throw formatError('is out of the int64 range', field);
  return n;
}

function list(value: unknown, field: string, required = false): unknown[] {
  if (value === undefined && !required) return [];
  if (!Array.isArray(value)) throw formatError('must be a list', field);
  return value;
}

function readTlogEntry(value: unknown, field: string): TlogEntry {
  const e = record(value, field, ['logIndex', 'logId', 'kindVersion', 'integratedTime', 'inclusionPromise', 'inclusionProof', 'canonicalizedBody']);
  const logId = record(e.logId, `${field}.logId`, ['keyId']);
  const kv = record(e.kindVersion, `${field}.kindVersion`, ['kind', 'version']);
  const promise = e.inclusionPromise === undefined ? undefined : record(e.inclusionPromise, `${field}.inclusionPromise`, ['signedEntryTimestamp']);
  let inclusionProof: TlogEntry['inclusionProof'];
  if (e.inclusionProof !== undefined) {
    const p = record(e.inclusionProof, `${field}.inclusionProof`, ['logIndex', 'rootHash', 'treeSize', 'hashes', 'checkpoint']);
    const checkpoint = p.checkpoint === undefined ? undefined : record(p.checkpoint, `${field}.inclusionProof.checkpoint`, ['envelope']);
    inclusionProof = {
      logIndex: int64(p.logIndex, `${field}.inclusionProof.logIndex`)!,
      rootHash: bytes(p.rootHash, `${field}.inclusionProof.rootHash`)!,
      treeSize: int64(p.treeSize, `${field}.inclusionProof.treeSize`)!,
      hashes: list(p.hashes, `${field}.inclusionProof.hashes`).map((h, i) => bytes(h, `${field}.inclusionProof.hashes[${i}]`)!),
      ...(checkpoint ? { checkpoint: text(checkpoint.envelope, `${field}.inclusionProof.checkpoint.envelope`)! } : {}),
    };
  }
  const integratedTime = int64(e.integratedTime, `${field}.integratedTime`, false);
  // Seconds since 1970: beyond the year 9999 it is no time any log kept.
  if (integratedTime !== undefined && integratedTime > 253402300799n) throw formatError('is beyond the year 9999', `${field}.integratedTime`);
  return {
    logIndex: int64(e.logIndex, `${field}.logIndex`)!,
    logId: bytes(logId.keyId, `${field}.logId.keyId`)!,
    kind: text(kv.kind, `${field}.kindVersion.kind`)!,
    version: text(kv.version, `${field}.kindVersion.version`)!,
    ...(integratedTime !== undefined && integratedTime !== 0n ? { integratedTime } : {}),
    ...(promise ? { inclusionPromise: bytes(promise.signedEntryTimestamp, `${field}.inclusionPromise.signedEntryTimestamp`)! } : {}),
    ...(inclusionProof ? { inclusionProof } : {}),
    canonicalizedBody: bytes(e.canonicalizedBody, `${field}.canonicalizedBody`)!,
  };
}

function readMaterial(m: Record<string, unknown>, version: SigstoreBundle['version']): VerificationMaterial {
  const present = ['certificate', 'x509CertificateChain', 'publicKey'].filter((k) => m[k] !== undefined);
  if (present.length !== 1) throw formatError(`needs exactly one of certificate, x509CertificateChain, publicKey (found ${present.length === 0 ? 'none' : present.join(', ')})`, 'verificationMaterial');
  if (m.publicKey !== undefined) {
    const key = record(m.publicKey, 'verificationMaterial.publicKey', ['hint']);
    return { kind: 'publicKey', hint: text(key.hint, 'verificationMaterial.publicKey.hint', false) ?? '' };
  }
  if (m.certificate !== undefined) {
    if (version !== '0.3') throw formatError(`a single certificate is a v0.3 form; a v${version} bundle carries x509CertificateChain`, 'verificationMaterial.certificate');
    const cert = record(m.certificate, 'verificationMaterial.certificate', ['rawBytes']);
    return { kind: 'certificate', certificate: bytes(cert.rawBytes, 'verificationMaterial.certificate.rawBytes')!, chain: [] };
  }
  const chain = record(m.x509CertificateChain, 'verificationMaterial.x509CertificateChain', ['certificates']);
  const certs = list(chain.certificates, 'verificationMaterial.x509CertificateChain.certificates', true).map((c, i) => {
    const at = `verificationMaterial.x509CertificateChain.certificates[${i}]`;
    return bytes(record(c, at, ['rawBytes']).rawBytes, `${at}.rawBytes`)!;
  });
  if (certs.length === 0) throw formatError('is empty: the signing certificate is missing', 'verificationMaterial.x509CertificateChain.certificates');
  return { kind: 'certificate', certificate: certs[0]!, chain: certs.slice(1) };
}

function readContent(b: Record<string, unknown>): BundleContent {
  const present = ['messageSignature', 'dsseEnvelope'].filter((k) => b[k] !== undefined);
  if (present.length !== 1) throw formatError(`needs exactly one of messageSignature, dsseEnvelope (found ${present.length === 0 ? 'none' : present.join(', ')})`, 'content');
  if (b.messageSignature !== undefined) {
    const m = record(b.messageSignature, 'messageSignature', ['messageDigest', 'signature']);
    let digest: { algorithm: string; value: Uint8Array } | undefined;
    if (m.messageDigest !== undefined) {
      const d = record(m.messageDigest, 'messageSignature.messageDigest', ['algorithm', 'digest']);
      digest = { algorithm: text(d.algorithm, 'messageSignature.messageDigest.algorithm')!, value: bytes(d.digest, 'messageSignature.messageDigest.digest')! };
    }
    return { kind: 'messageSignature', ...(digest ? { digest } : {}), signature: bytes(m.signature, 'messageSignature.signature')! };
  }
  const d = record(b.dsseEnvelope, 'dsseEnvelope', ['payload', 'payloadType', 'signatures']);
  const signatures = list(d.signatures, 'dsseEnvelope.signatures', true).map((s, i) => {
    const at = `dsseEnvelope.signatures[${i}]`;
    const sig = record(s, at, ['sig', 'keyid']);
    return { keyid: text(sig.keyid, `${at}.keyid`, false) ?? '', sig: bytes(sig.sig, `${at}.sig`)! };
  });
  if (signatures.length !== 1) throw formatError(`a Sigstore bundle's DSSE envelope carries exactly one signature, found ${signatures.length}`, 'dsseEnvelope.signatures');
  return { kind: 'dsse', payloadType: text(d.payloadType, 'dsseEnvelope.payloadType')!, payload: bytes(d.payload, 'dsseEnvelope.payload')!, signatures };
}

/**
 * Reads a Sigstore bundle (v0.1, v0.2, v0.3): its JSON strictly (no duplicate keys), every field typed. Structure
 * only: that it verifies is another matter (not yet in this package).
 */
export function readSigstoreBundle(json: Uint8Array | string): SigstoreBundle {
  const b = record(parseOrdinaryJson(json), 'bundle', ['mediaType', 'verificationMaterial', 'messageSignature', 'dsseEnvelope']);
  const mediaType = text(b.mediaType, 'mediaType')!;
  const version = MEDIA_TYPES[mediaType];
  if (!version) throw formatError(`unknown bundle media type "${mediaType}" (this package reads ${Object.keys(MEDIA_TYPES).join(', ')})`, 'mediaType');
  const m = record(b.verificationMaterial, 'verificationMaterial', ['certificate', 'x509CertificateChain', 'publicKey', 'tlogEntries', 'timestampVerificationData']);
  const material = readMaterial(m, version);
  const tlogEntries = list(m.tlogEntries, 'verificationMaterial.tlogEntries').map((e, i) => readTlogEntry(e, `verificationMaterial.tlogEntries[${i}]`));
  let timestamps: Uint8Array[] = [];
  if (m.timestampVerificationData !== undefined) {
    const t = record(m.timestampVerificationData, 'verificationMaterial.timestampVerificationData', ['rfc3161Timestamps']);
    timestamps = list(t.rfc3161Timestamps, 'verificationMaterial.timestampVerificationData.rfc3161Timestamps').map((ts, i) => {
      const at = `verificationMaterial.timestampVerificationData.rfc3161Timestamps[${i}]`;
      return bytes(record(ts, at, ['signedTimestamp']).signedTimestamp, `${at}.signedTimestamp`)!;
    });
  }
  return { mediaType, version, material, tlogEntries, timestamps, content: readContent(b) };
}
