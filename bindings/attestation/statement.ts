/**
 * The attestation wing: in-toto Statements (the Attestation Framework, ITE-6) in DSSE envelopes (ITE-5), their
 * ResourceDescriptors and DigestSets, and the vetted predicates (`predicates.ts`). It reads, validates, writes and
 * verifies Statements; classic layouts take a Statement whose predicate is a link v0.3 as a step's link
 * (`verify/`). It builds on `metadata/` (envelopes) and `keys/` and knows nothing of verify, record or layout.
 *
 * Reading is strict where the specification speaks and stricter where it is silent (docs/attestations.md lists
 * each choice against the Go and Python bindings):
 * - `_type` is `https://in-toto.io/Statement/v1` or `/v0.1`, spelled `_type` (not protojson's `type`);
 * - `subject` is a non-empty list of ResourceDescriptors, each with a non-empty `digest` (subjects are matched by
 *   digest); v0.1 subjects also need a non-empty, unique `name`;
 * - `predicateType` is a non-empty string; `predicate`, when present, is an object (the spec: "unset is treated
 *   the same as set-but-empty", so a Statement without one reads, with `{}`);
 * - digests of known algorithms are lower-case hex of the algorithm's length; unknown algorithms are kept, and
 *   never trusted by `digestsMatch` unless the caller accepts them;
 * - unknown fields are kept (the spec's parsing rules ask consumers to ignore them), never interpreted.
 */
import { InTotoError } from '../errors.js';
import { fromBase64, toBase64 } from '../encoding.js';
import { parseOrdinaryJson } from './json.js';

export const STATEMENT_V1 = 'https://in-toto.io/Statement/v1';
export const STATEMENT_V01 = 'https://in-toto.io/Statement/v0.1';
/** DSSE payload types of a Statement: the generic one, or (spec v1.2) one naming the predicate. */
export const STATEMENT_PAYLOAD_TYPE = 'application/vnd.in-toto+json';
const PREDICATE_PAYLOAD_TYPE = /^application\/vnd\.in-toto\.[A-Za-z0-9._-]+\+json$/;

/** Algorithm -> digest value, lower-case hex for the known algorithms (spec/v1/digest_set.md). */
export type DigestSet = Readonly<Record<string, string>>;

export interface ResourceDescriptor {
  readonly name?: string;
  readonly uri?: string;
  readonly digest?: DigestSet;
  /** `content`, decoded from base64. */
  readonly content?: Uint8Array;
  readonly downloadLocation?: string;
  readonly mediaType?: string;
  readonly annotations?: Readonly<Record<string, unknown>>;
}

export interface Statement {
  readonly type: typeof STATEMENT_V1 | typeof STATEMENT_V01;
  readonly subject: readonly ResourceDescriptor[];
  readonly predicateType: string;
  /** The predicate as read (`{}` when the Statement has none); typed by `readPredicate`. */
  readonly predicate: Readonly<Record<string, unknown>>;
  /** The Statement exactly as parsed, unknown fields included. */
  readonly raw: Readonly<Record<string, unknown>>;
}

/**
 * Hex lengths (in characters) of the algorithms the spec and the Go binding know; a digest of one of these must
 * be lower-case hex of one of its lengths.
 */
const HEX_LENGTHS: Readonly<Record<string, readonly number[]>> = {
  md5: [32],
  sha1: [40],
  sha224: [56],
  sha512_224: [56],
  sha3_224: [56],
  sha256: [64],
  sha512_256: [64],
  sha3_256: [64],
  dirHash: [64],
  sha384: [96],
  sha3_384: [96],
  sha512: [128],
  sha3_512: [128],
  gitBlob: [40, 64],
  gitCommit: [40, 64],
  gitTag: [40, 64],
  gitTree: [40, 64],
};

/**
 * Algorithms whose agreement `digestsMatch` trusts by default: the cryptographic ones of HEX_LENGTHS and git's
 * object ids (hardened SHA-1 or SHA-256). md5 and sha1 are never trusted alone.
 */
export const ACCEPTED_ALGORITHMS: ReadonlySet<string> = new Set([
  'sha224', 'sha256', 'sha384', 'sha512', 'sha512_224', 'sha512_256', 'sha3_224', 'sha3_256', 'sha3_384', 'sha3_512',
  'dirHash', 'gitBlob', 'gitCommit', 'gitTag', 'gitTree',
]);

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function formatError(message: string, field: string): InTotoError {
  return new InTotoError('FORMAT', message, { field });
}

/** A DigestSet: an object of strings; the known algorithms' values lower-case hex of their length. */
export function readDigestSet(value: unknown, field: string): DigestSet {
  if (!isRecord(value)) throw formatError(`${field} must be an object of algorithm: digest`, field);
  const out: Record<string, string> = {};
  for (const [alg, digest] of Object.entries(value)) {
    const at = `${field}.${alg}`;
    if (typeof digest !== 'string') throw formatError(`${at} must be a string`, at);
    // Own properties only: an algorithm named `constructor` or `__proto__` is just an unknown algorithm.
    const lengths = Object.hasOwn(HEX_LENGTHS, alg) ? HEX_LENGTHS[alg] : undefined;
    if (lengths) {
      if (!/^[0-9a-f]*$/.test(digest)) throw formatError(`${at} must be lower-case hex`, at);
      if (!lengths.includes(digest.length)) throw formatError(`${at} has ${digest.length} hex digits, ${alg} has ${lengths.join(' or ')}`, at);
    }
    Object.defineProperty(out, alg, { value: digest, enumerable: true, writable: true, configurable: true });
  }
  return out;
}

function optionalString(doc: Record<string, unknown>, key: string, field: string): string | undefined {
  const value = doc[key];
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw formatError(`${field}.${key} must be a string`, `${field}.${key}`);
  return value;
}

/**
 * A ResourceDescriptor (spec/v1/resource_descriptor.md). At least one of `uri`, `digest` and `content` must be
 * set (the spec's rule; the bindings accept `name` alone instead, which names nothing checkable).
 */
export function readResourceDescriptor(value: unknown, field = 'resourceDescriptor'): ResourceDescriptor {
  if (!isRecord(value)) throw formatError(`${field} must be an object`, field);
  const name = optionalString(value, 'name', field);
  const uri = optionalString(value, 'uri', field);
  const downloadLocation = optionalString(value, 'downloadLocation', field);
  const mediaType = optionalString(value, 'mediaType', field);
  const digest = value.digest === undefined ? undefined : readDigestSet(value.digest, `${field}.digest`);
  let content: Uint8Array | undefined;
  if (value.content !== undefined) {
    const decoded = typeof value.content === 'string' ? fromBase64(value.content) : undefined;
    if (!decoded) throw formatError(`${field}.content must be base64`, `${field}.content`);
    content = decoded;
  }
  if (value.annotations !== undefined && !isRecord(value.annotations)) throw formatError(`${field}.annotations must be an object`, `${field}.annotations`);
  if (!uri && (!content || content.length === 0) && (!digest || Object.keys(digest).length === 0)) {
    throw formatError(`${field} needs at least one of uri, digest or content${name ? ` (name alone, "${name}", identifies nothing)` : ''}`, field);
  }
  return {
    ...(name !== undefined ? { name } : {}),
    ...(uri !== undefined ? { uri } : {}),
    ...(digest !== undefined ? { digest } : {}),
    ...(content !== undefined ? { content } : {}),
    ...(downloadLocation !== undefined ? { downloadLocation } : {}),
    ...(mediaType !== undefined ? { mediaType } : {}),
    ...(value.annotations !== undefined ? { annotations: value.annotations as Record<string, unknown> } : {}),
  };
}

/**
 * Validates a parsed Statement (v1 or v0.1). Throws `FORMAT` naming the field. With `subjectRead`, an empty
 * `subject` stands for subjects read elsewhere (the engine's link attestations, `verify/`): every other field is
 * checked as usual.
 */
export function readStatement(value: unknown, options: { readonly subjectRead?: boolean } = {}): Statement {
  if (!isRecord(value)) throw formatError('a Statement must be a JSON object', '');
  const type = value._type;
  if (type === undefined && typeof value.type === 'string') {
    throw formatError('the Statement spells its type "type", not "_type" (protojson accepts both; the spec says _type)', 'type');
  }
  if (type !== STATEMENT_V1 && type !== STATEMENT_V01) {
    throw formatError(`_type must be "${STATEMENT_V1}" or "${STATEMENT_V01}", found ${JSON.stringify(type)}`, '_type');
  }
  if (!Array.isArray(value.subject) || (value.subject.length === 0 && !options.subjectRead)) throw formatError('subject must be a non-empty list', 'subject');
  const names = new Set<string>();
  const subject = value.subject.map((s, i) => {
    const rd = readResourceDescriptor(s, `subject[${i}]`);
    if (!rd.digest || Object.keys(rd.digest).length === 0) throw formatError(`subject[${i}] needs a digest: subjects are matched by digest`, `subject[${i}].digest`);
    if (type === STATEMENT_V01) {
      if (!rd.name) throw formatError(`subject[${i}] needs a name (Statement v0.1)`, `subject[${i}].name`);
      if (names.has(rd.name)) throw formatError(`subject[${i}] repeats the name "${rd.name}" (Statement v0.1)`, `subject[${i}].name`);
      names.add(rd.name);
    }
    return rd;
  });
  if (typeof value.predicateType !== 'string' || value.predicateType === '') throw formatError('predicateType must be a non-empty string', 'predicateType');
  if (value.predicate !== undefined && !isRecord(value.predicate)) throw formatError('predicate must be an object', 'predicate');
  return { type, subject, predicateType: value.predicateType, predicate: (value.predicate as Record<string, unknown> | undefined) ?? {}, raw: value };
}

/** Parses and validates a Statement from its JSON (ordinary JSON: fractions read, duplicates refused). */
export function parseStatement(json: Uint8Array | string): Statement {
  return readStatement(parseOrdinaryJson(json));
}

/** Whether a DSSE payload type is a Statement's (`application/vnd.in-toto+json` or `application/vnd.in-toto.<predicate>+json`). */
export function isStatementPayloadType(payloadType: string): boolean {
  return payloadType === STATEMENT_PAYLOAD_TYPE || PREDICATE_PAYLOAD_TYPE.test(payloadType);
}

/**
 * Whether two DigestSets name the same content: some algorithm both have and `accepted` trusts agrees, and none
 * they share (accepted) disagrees. Algorithms not accepted (md5, sha1, unknown ones) are ignored, never trusted alone.
 */
export function digestsMatch(a: DigestSet, b: DigestSet, accepted: ReadonlySet<string> = ACCEPTED_ALGORITHMS): boolean {
  let agreed = false;
  for (const [alg, value] of Object.entries(a)) {
    if (!accepted.has(alg) || !Object.hasOwn(b, alg)) continue;
    if (b[alg] !== value) return false;
    agreed = true;
  }
  return agreed;
}

/** The subjects of `statement` whose digest matches `digest` (subjects are matched by digest, never by name). */
export function matchingSubjects(statement: Statement, digest: DigestSet, accepted?: ReadonlySet<string>): ResourceDescriptor[] {
  return statement.subject.filter((s) => s.digest !== undefined && digestsMatch(s.digest, digest, accepted));
}

export interface StatementInput {
  readonly subject: readonly ResourceDescriptor[];
  readonly predicateType: string;
  readonly predicate?: Readonly<Record<string, unknown>>;
}

/**
 * A Statement v1 as a JSON object, validated (what `createDsse` then wraps): fields in the spec's order, a
 * ResourceDescriptor's `content` written as base64.
 */
export function createStatement(input: StatementInput): Record<string, unknown> {
  const subject = input.subject.map((rd) => resourceDescriptorToJSON(rd));
  const doc = { _type: STATEMENT_V1, subject, predicateType: input.predicateType, predicate: input.predicate ?? {} };
  readStatement(doc);
  return doc;
}

export function resourceDescriptorToJSON(rd: ResourceDescriptor): Record<string, unknown> {
  const { content, ...rest } = rd;
  return { ...rest, ...(content !== undefined ? { content: toBase64(content) } : {}) };
}
