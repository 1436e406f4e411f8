/**
 * Sigstore trusted roots (sigstore/protobuf-specs `TrustedRoot`): the transparency logs, certificate authorities,
 * CT logs and timestamp authorities a verifier trusts, each only within its `validFor` window. Read strictly: a
 * malformed root (a key without `validFor.start`, an unparsable time, an empty chain) is refused, never guessed.
 */
import { InTotoError } from '../errors.js';
import { parseOrdinaryJson } from '../attestation/json.js';
import { bytes, formatError, record, text } from './bundle.js';

const MEDIA_TYPES = ['application/vnd.dev.sigstore.trustedroot+json;version=0.1', 'application/vnd.dev.sigstore.trustedroot.v0.2+json'];

/** A validity window in milliseconds since the epoch; `end` absent: open-ended. Both bounds inclusive. */
export interface ValidFor {
  readonly start: number;
  readonly end?: number;
}

export interface TransparencyLog {
  readonly baseUrl: string;
  readonly hashAlgorithm: string;
  /** DER SubjectPublicKeyInfo. */
  readonly publicKey: Uint8Array;
  readonly keyDetails: string;
  readonly validFor: ValidFor;
  readonly logId: Uint8Array;
}

export interface CertificateAuthority {
  readonly subject: { readonly organization?: string; readonly commonName?: string };
  readonly uri: string;
  /** DER certificates, leaf-most first, as listed. */
  readonly chain: readonly Uint8Array[];
  readonly validFor: ValidFor;
}

export interface TrustedRoot {
  readonly mediaType: string;
  readonly tlogs: readonly TransparencyLog[];
  readonly certificateAuthorities: readonly CertificateAuthority[];
  readonly ctlogs: readonly TransparencyLog[];
  readonly timestampAuthorities: readonly CertificateAuthority[];
}

/** Whether `time` (ms) lies in the window, both ends included. */
export function isValidAt(window: ValidFor, time: number): boolean {
  return time >= window.start && (window.end === undefined || time <= window.end);
}

const RFC3339 = /^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(\.\d{1,9})?(Z|[+-]\d\d:\d\d)$/;

function time(value: unknown, field: string): number {
  if (typeof value !== 'string' || !RFC3339.test(value)) throw formatError('must be an RFC 3339 time (e.g. 2021-01-12T11:53:27Z)', field);
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) throw formatError(`is not a valid time: ${value}`, field);
  return ms;
}

function readValidFor(value: unknown, field: string): ValidFor {
  const v = record(value, field, ['start', 'end']);
  // A window without a start is malformed: it is not "valid since forever".
  if (v.start === undefined) throw formatError('has no start: the key or authority is valid from no known time (refused, not guessed)', `${field}.start`);
  const start = time(v.start, `${field}.start`);
  const end = v.end === undefined ? undefined : time(v.end, `${field}.end`);
  if (end !== undefined && end < start) throw formatError('ends before it starts', field);
  return { start, ...(end !== undefined ? { end } : {}) };
}

function readLog(value: unknown, field: string): TransparencyLog {
  const l = record(value, field, ['baseUrl', 'hashAlgorithm', 'publicKey', 'logId', 'checkpointKeyId', 'operator']);
  const key = record(l.publicKey, `${field}.publicKey`, ['rawBytes', 'keyDetails', 'validFor']);
  const logId = record(l.logId, `${field}.logId`, ['keyId']);
  return {
    baseUrl: text(l.baseUrl, `${field}.baseUrl`)!,
    hashAlgorithm: text(l.hashAlgorithm, `${field}.hashAlgorithm`)!,
    publicKey: bytes(key.rawBytes, `${field}.publicKey.rawBytes`)!,
    keyDetails: text(key.keyDetails, `${field}.publicKey.keyDetails`)!,
    validFor: readValidFor(key.validFor, `${field}.publicKey.validFor`),
    logId: bytes(logId.keyId, `${field}.logId.keyId`)!,
  };
}

function readAuthority(value: unknown, field: string): CertificateAuthority {
  const a = record(value, field, ['subject', 'uri', 'certChain', 'validFor', 'operator']);
  const subject = a.subject === undefined ? {} : record(a.subject, `${field}.subject`, ['organization', 'commonName']);
  const chain = record(a.certChain, `${field}.certChain`, ['certificates']);
  if (!Array.isArray(chain.certificates) || chain.certificates.length === 0) throw formatError('must list at least one certificate', `${field}.certChain.certificates`);
  return {
    subject: {
      ...(subject.organization !== undefined ? { organization: text(subject.organization, `${field}.subject.organization`, false)! } : {}),
      ...(subject.commonName !== undefined ? { commonName: text(subject.commonName, `${field}.subject.commonName`, false)! } : {}),
    },
    uri: text(a.uri, `${field}.uri`, false) ?? '',
    chain: chain.certificates.map((c, i) => bytes(record(c, `${field}.certChain.certificates[${i}]`, ['rawBytes']).rawBytes, `${field}.certChain.certificates[${i}].rawBytes`)!),
    validFor: readValidFor(a.validFor, `${field}.validFor`),
  };
}

/** Reads a trusted root; throws `FORMAT` (or `JSON`) naming the field for anything malformed. */
export function readTrustedRoot(json: Uint8Array | string): TrustedRoot {
  const r = record(parseOrdinaryJson(json), 'trustedRoot', ['mediaType', 'tlogs', 'certificateAuthorities', 'ctlogs', 'timestampAuthorities']);
  const mediaType = text(r.mediaType, 'mediaType')!;
  if (!MEDIA_TYPES.includes(mediaType)) throw formatError(`unknown trusted root media type "${mediaType}"`, 'mediaType');
  const many = <T>(key: string, read: (v: unknown, field: string) => T): T[] => {
    const value = r[key];
    if (value === undefined) return [];
    if (!Array.isArray(value)) throw new InTotoError('FORMAT', `${key}: must be a list`, { field: key });
    return value.map((v, i) => read(v, `${key}[${i}]`));
  };
  return {
    mediaType,
    tlogs: many('tlogs', readLog),
    certificateAuthorities: many('certificateAuthorities', readAuthority),
    ctlogs: many('ctlogs', readLog),
    timestampAuthorities: many('timestampAuthorities', readAuthority),
  };
}
