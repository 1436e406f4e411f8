/**
 * Attestation layouts (ITE-10, ITE-11), as in-toto/attestation-verifier reads them, verified strictly:
 *
 *   expires: "2100-01-01T00:00:00Z"
 *   functionaries: { <keyid>: { keyType, scheme, keyVal: { public }, ... } }
 *   steps:
 *     - name: build
 *       expectedMaterials: ["MATCH foo WITH products FROM clone", "DISALLOW *"]
 *       expectedProducts: ["CREATE bin/foo", "DISALLOW *"]
 *       expectedPredicates:
 *         - predicateType: https://slsa.dev/provenance/v1
 *           functionaries: [<keyid>]
 *           threshold: 1
 *           expectedAttributes: [{ rule: "<CEL over predicate, subject, predicateType>", allowIfNoClaim, warn }]
 *
 * What the prototype leaves out is done here: the layout is signed (a Metablock or DSSE envelope by the owner's keys;
 * a plain YAML/JSON layout only with `allowUnsignedLayout`, which the verdict records); every authorized Statement of a
 * step is considered (thresholds count distinct functionaries; every such Statement's attributes are checked, and
 * their artifacts must agree); a missing field is skipped only with `allowIfNoClaim` (there is no blanket skip).
 * Attestations are DSSE envelopes named `<step>.<anything>.json` (the step is the name up to its last dot), as the
 * prototype reads them. Not yet: `subjects`, `inspections` (refused when present, not ignored).
 */
import { parseDocument } from 'yaml';
import { evaluateCel, evaluateCelMany } from '../attestation/cel.js';
import { toHex } from '../encoding.js';
import { toUtf8 } from '../engine.js';
import { InTotoError } from '../errors.js';
import { parseOrdinaryJson } from '../attestation/json.js';
import { LINK_V03, readPredicate, SLSA_PROVENANCE_V02, SLSA_PROVENANCE_V1 } from '../attestation/predicates.js';
import { ACCEPTED_ALGORITHMS, digestsMatch, isStatementPayloadType, readResourceDescriptor, readStatement, type Statement } from '../attestation/statement.js';
import { publicKeyFromDict, type PublicKey } from '../keys/keys.js';
import type { VerificationKey } from '../keys/verification-key.js';
import { readDsseEnvelope, readEnvelope, verifyDsse, verifySignatureBy } from '../metadata/envelope.js';
import { parseRule, ruleToString, type ArtifactRule } from '../metadata/rules.js';
import { matchGlob, RuleEngine, type LinkHandle } from './rule-engine.js';
import { readAttestationBundle } from '../attestation/envelope.js';
import { readSigstoreBundle, type SigstoreBundle } from '../sigstore/bundle.js';
import { FULCIO_OIDS, type IdentityPolicy } from '../sigstore/identity.js';
import type { TrustedRoot } from '../sigstore/trusted-root.js';
import { verifySigstoreBundle } from '../sigstore/verify-bundle.js';

export interface ExpectedAttribute {
  readonly rule: string;
  readonly allowIfNoClaim: boolean;
  readonly warn: boolean;
}

export interface ExpectedPredicate {
  readonly predicateType: string;
  readonly functionaries: readonly string[];
  readonly threshold: number;
  readonly expectedAttributes: readonly ExpectedAttribute[];
}

export interface AttestationStep {
  readonly name: string;
  readonly expectedMaterials: readonly ArtifactRule[];
  readonly expectedProducts: readonly ArtifactRule[];
  readonly expectedPredicates: readonly ExpectedPredicate[];
}

/** A functionary: a key (its id is the key's), or a Sigstore identity (any id) whose Statements come in bundles. */
export type Functionary = { readonly kind: 'key'; readonly key: PublicKey } | { readonly kind: 'sigstore'; readonly identity: IdentityPolicy; readonly says: string };

/**
 * `subjects[]`: attestations the chain's products must have, beyond the steps' (a VSA, a vulnerability scan): the
 * products (of any step) whose names match `patterns` (fnmatch), each needing the expected predicates from Statements
 * whose subjects carry its digest.
 */
export interface AttestationSubject {
  readonly patterns: readonly string[];
  readonly expectedPredicates: readonly ExpectedPredicate[];
}

export interface AttestationLayout {
  readonly expires: string;
  readonly functionaries: ReadonlyMap<string, Functionary>;
  readonly steps: readonly AttestationStep[];
  readonly subjects: readonly AttestationSubject[];
}

export interface AttestationFailure {
  readonly code: 'LAYOUT' | 'EXPIRED' | 'NO_CLAIMS' | 'THRESHOLD' | 'ATTRIBUTE' | 'RULE' | 'DISAGREE' | 'MISFILED' | 'ARTIFACT' | 'LIMIT' | 'SUBJECT';
  readonly message: string;
  readonly step?: string;
  /** For `subjects` failures: the product (name) whose attestations fell short. */
  readonly subject?: string;
  readonly predicateType?: string;
  readonly functionary?: string;
  readonly rule?: string;
}

export interface AttestationVerdict {
  readonly passed: boolean;
  readonly failures: readonly AttestationFailure[];
  readonly warnings: readonly string[];
  /** The layout was not signed, and verification went ahead because the caller allowed it. */
  readonly unsignedLayout: boolean;
  /** The key ids whose signatures on the layout were verified (none for an unsigned layout, or one not read). */
  readonly layoutSignedBy: readonly string[];
  /** Each step's materials and products as its claims record them, in the layout's order (steps whose claims were read). */
  readonly artifacts: readonly { readonly step: string; readonly materials: Artifacts; readonly products: Artifacts }[];
  /** The layout's last step (what the chain makes is its products), when the layout was read. */
  readonly lastStep?: string;
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const layoutError = (message: string, field: string) => new InTotoError('FORMAT', `attestation layout: ${field}: ${message}`, { field });

function fields(value: unknown, at: string, known: readonly string[]): Record<string, unknown> {
  if (!isRecord(value)) throw layoutError('must be an object', at);
  for (const key of Object.keys(value)) if (!known.includes(key)) throw layoutError(`unknown field "${key}" (known: ${known.join(', ')})`, at);
  return value;
}

/** Most signatures an attestation may carry: each is tried against the step's functionaries. */
const MAX_SIGNATURES = 16;
/** Most signature checks (signatures x keys tried) and Sigstore bundles one verification does. */
const MAX_SIGNATURE_CHECKS = 20_000;
/** Most lines of one JSON Lines file, and most warnings one file gives before they are counted instead. */
const MAX_LINES = 1_000;
const MAX_WARNINGS_PER_FILE = 10;

/** Thrown when the signature-check budget is spent: verification stops with a LIMIT failure. */
class BudgetSpent extends Error {}

/** Longest a parameter's value may be once its references are resolved. */
const MAX_PARAMETER_LENGTH = 4096;

/**
 * The parameters with their references to each other (`{name}`) resolved. A resolved value may not hold what would
 * change the meaning of the text it lands in: quotes and backslashes (CEL string literals), whitespace (rule tokens
 * are split at spaces), braces, control characters. Glob characters stay allowed: a parameter may be a pattern.
 */
function resolveParameters(parameters: Readonly<Record<string, string>>): Record<string, string> {
  const out: Record<string, string> = Object.create(null) as Record<string, string>;
  const resolving = new Set<string>();
  const resolve = (name: string): string => {
    if (Object.hasOwn(out, name)) return out[name]!;
    if (resolving.has(name)) throw layoutError(`"${name}" refers to itself through other parameters`, 'parameters');
    resolving.add(name);
    const value = parameters[name]!.replace(/\{([a-zA-Z0-9_-]+)\}/g, (whole, ref: string) => (Object.hasOwn(parameters, ref) ? resolve(ref) : whole));
    resolving.delete(name);
    if (value.length > MAX_PARAMETER_LENGTH) throw layoutError(`"${name}" is longer than ${MAX_PARAMETER_LENGTH} characters once resolved`, 'parameters');
    const bad = /['"\\{}\s\u0000-\u001f\u007f]/.exec(value);
    if (bad) throw layoutError(`"${name}" holds ${JSON.stringify(bad[0])}, which would change the rule it is put in (${value.length > 80 ? `${value.slice(0, 80)}...` : value})`, 'parameters');
    out[name] = value;
    return value;
  };
  for (const name of Object.keys(parameters)) {
    if (!/^[a-zA-Z0-9_-]+$/.test(name)) throw layoutError(`parameter name "${name}" must match [a-zA-Z0-9_-]+`, 'parameters');
    if (typeof parameters[name] !== 'string') throw layoutError(`"${name}" must be a string`, 'parameters');
  }
  for (const name of Object.keys(parameters)) resolve(name);
  return out;
}

/**
 * The `{name}` placeholders of a CEL rule that stand outside its string literals ('...', "...", triple-quoted, raw):
 * there a value would be code, not text.
 */
function placeholdersOutsideStrings(rule: string): string[] {
  const out: string[] = [];
  let i = 0;
  while (i < rule.length) {
    const c = rule[i]!;
    if (c === "'" || c === '"') {
      const raw = i > 0 && /[rR]/.test(rule[i - 1]!) && (i < 2 || !/[A-Za-z0-9_]/.test(rule[i - 2]!));
      const quote = rule.startsWith(c.repeat(3), i) ? c.repeat(3) : c;
      i += quote.length;
      while (i < rule.length && !rule.startsWith(quote, i)) i += !raw && rule[i] === '\\' ? 2 : 1;
      i += quote.length;
      continue;
    }
    const m = /^\{([a-zA-Z0-9_-]+)\}/.exec(rule.slice(i));
    if (m) {
      out.push(m[1]!);
      i += m[0].length;
      continue;
    }
    i++;
  }
  return out;
}

/** `{name}` replaced once by its resolved value; unknown names stay as written. */
function substitute(text: string, resolved: Readonly<Record<string, string>> | undefined): string {
  if (!resolved) return text;
  return text.replace(/\{([a-zA-Z0-9_-]+)\}/g, (whole, name: string) => (Object.hasOwn(resolved, name) ? resolved[name]! : whole));
}

/** RFC 3339 with a zone, a real calendar date, as Go's time.Parse(time.RFC3339) reads it. */
function rfc3339(text: string): number | undefined {
  const m = /^(\d{4})-(\d\d)-(\d\d)[Tt](\d\d):(\d\d):(\d\d)(\.\d+)?([Zz]|[+-]\d\d:\d\d)$/.exec(text);
  if (!m) return undefined;
  const [y, mo, d, h, mi, sec] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  const date = new Date(Date.UTC(y, mo - 1, d));
  if (date.getUTCFullYear() !== y || date.getUTCMonth() !== mo - 1 || date.getUTCDate() !== d || h > 23 || mi > 59 || sec > 59) return undefined;
  const t = Date.parse(text.toUpperCase());
  return Number.isNaN(t) ? undefined : t;
}

/** An unsigned layout's YAML (or JSON), strictly: a warning (an unknown tag, say) is an error, not a guess. */
export function readAttestationLayoutYaml(bytes: Uint8Array): unknown {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw layoutError('is not UTF-8', 'layout');
  }
  const doc = parseDocument(text, { uniqueKeys: true, strict: true, prettyErrors: false, logLevel: 'silent' });
  const problem = doc.errors[0] ?? doc.warnings[0];
  if (problem) throw layoutError(`is not YAML this verifier reads: ${problem.message.split('\n')[0]}`, 'layout');
  return doc.toJS({ maxAliasCount: 100 });
}

/**
 * `sigstore: { issuer, identity | identityRegexp, extensions? }`: certificates issued for this OIDC issuer (exactly)
 * and this subject (the certificate's SAN: a workflow URI, an email), exactly or as a regular expression matched whole,
 * and carrying each Fulcio extension given with exactly its value (e.g. `sourceRepositoryURI`, `sourceRepositoryRef`,
 * `buildSignerURI`, `runnerEnvironment`: the names of `FULCIO_OIDS`).
 */
function readSigstoreFunctionary(value: unknown, at: string): Functionary {
  const f = fields(value, at, ['issuer', 'identity', 'identityRegexp', 'extensions']);
  if (typeof f.issuer !== 'string' || !/^https:\/\/[^\s]+$/.test(f.issuer)) throw layoutError('must be the OIDC issuer URL (https://...)', `${at}.issuer`);
  if ((f.identity === undefined) === (f.identityRegexp === undefined)) throw layoutError('give identity or identityRegexp (one of them)', at);
  const names = Object.keys(FULCIO_OIDS).filter((n) => n !== 'issuer' && n !== 'issuerV1');
  const extensions: Record<string, string> = {};
  if (f.extensions !== undefined) {
    const given = fields(f.extensions, `${at}.extensions`, names);
    if (Object.keys(given).length === 0) throw layoutError('must name at least one extension (or be left out)', `${at}.extensions`);
    for (const [name, v] of Object.entries(given)) {
      if (typeof v !== 'string' || v === '') throw layoutError('must be the value the certificate must carry (a non-empty string)', `${at}.extensions.${name}`);
      extensions[name] = v;
    }
  }
  const constraints = Object.keys(extensions).sort().map((n) => ` ${n}=${extensions[n]}`).join('');
  const withExtensions = Object.keys(extensions).length > 0 ? { extensions: extensions as IdentityPolicy['extensions'] } : {};
  if (f.identity !== undefined) {
    if (typeof f.identity !== 'string' || f.identity === '') throw layoutError('must be the certificate subject (SAN), e.g. a workflow URI', `${at}.identity`);
    return { kind: 'sigstore', identity: { san: f.identity, issuer: f.issuer, ...withExtensions }, says: `${f.issuer} ${f.identity}${constraints}` };
  }
  if (typeof f.identityRegexp !== 'string' || f.identityRegexp === '') throw layoutError('must be a regular expression', `${at}.identityRegexp`);
  let pattern: RegExp;
  try {
    pattern = new RegExp(f.identityRegexp, 'u');
  } catch (error) {
    throw layoutError(`is not a regular expression: ${(error as Error).message}`, `${at}.identityRegexp`);
  }
  return { kind: 'sigstore', identity: { sanPattern: pattern, issuer: f.issuer, ...withExtensions }, says: `${f.issuer} /${f.identityRegexp}/${constraints}` };
}

/** Reads a layout's value (after any envelope), strictly; `parameters` substituted in rules and attribute rules. */
export function readAttestationLayout(value: unknown, rawParameters?: Readonly<Record<string, string>>): AttestationLayout {
  const parameters = rawParameters ? resolveParameters(rawParameters) : undefined;
  const doc = fields(value, 'layout', ['expires', 'functionaries', 'steps', 'subjects', 'inspections']);
  if (doc.inspections !== undefined && !(Array.isArray(doc.inspections) && doc.inspections.length === 0)) {
    throw layoutError('are commands for the verifier to run, which this verifier does not do: refused rather than ignored', 'inspections');
  }
  if (typeof doc.expires !== 'string' || rfc3339(doc.expires) === undefined) throw layoutError(`must be an RFC 3339 time with a zone (e.g. 2030-01-01T00:00:00Z), not ${JSON.stringify(doc.expires)}`, 'expires');
  const sameKey = new Map<string, string>();
  const functionaries = new Map<string, Functionary>();
  for (const [keyid, key] of Object.entries(fields(doc.functionaries, 'functionaries', Object.keys(isRecord(doc.functionaries) ? doc.functionaries : {})))) {
    if (isRecord(key) && Object.hasOwn(key, 'sigstore')) {
      functionaries.set(keyid, readSigstoreFunctionary(fields(key, `functionaries.${keyid}`, ['sigstore']).sigstore, `functionaries.${keyid}.sigstore`));
      continue;
    }
    const k = fields(key, `functionaries.${keyid}`, ['keyType', 'scheme', 'keyIDHashAlgorithms', 'keyVal', 'keyID']);
    const keyVal = fields(k.keyVal, `functionaries.${keyid}.keyVal`, ['public', 'certificate']);
    let publicKey: PublicKey;
    try {
      publicKey = publicKeyFromDict({ keytype: k.keyType, scheme: k.scheme, keyval: { public: keyVal.public }, ...(k.keyIDHashAlgorithms ? { keyid_hash_algorithms: k.keyIDHashAlgorithms } : {}) });
    } catch (error) {
      if (!(error instanceof InTotoError)) throw error;
      throw layoutError(error.message, `functionaries.${keyid}`);
    }
    if (k.keyID !== undefined && k.keyID !== keyid) throw layoutError(`names the key ${String(k.keyID)}, not ${keyid}`, `functionaries.${keyid}.keyID`);
    if (publicKey.keyid !== keyid) throw layoutError(`is listed as ${keyid}, but the key's id is ${publicKey.keyid}`, `functionaries.${keyid}`);
    // One key under two ids would count twice towards a threshold.
    const spki = toHex(publicKey.spki);
    const twin = sameKey.get(spki);
    if (twin !== undefined) throw layoutError(`is the same key as ${twin}: a key is one functionary`, `functionaries.${keyid}`);
    sameKey.set(spki, keyid);
    functionaries.set(keyid, { kind: 'key', key: publicKey });
  }
  const sameIdentity = new Map<string, string>();
  for (const [id, f] of functionaries) {
    if (f.kind !== 'sigstore') continue;
    const twin = sameIdentity.get(f.says);
    if (twin !== undefined) throw layoutError(`is the same Sigstore identity as ${twin}: an identity is one functionary`, `functionaries.${id}`);
    sameIdentity.set(f.says, id);
  }
  if (!Array.isArray(doc.steps) || doc.steps.length === 0) throw layoutError('must be a non-empty list', 'steps');
  const names = new Set<string>();
  const steps = doc.steps.map((raw, i): AttestationStep => {
    const at = `steps[${i}]`;
    const s = fields(raw, at, ['name', 'expectedMaterials', 'expectedProducts', 'expectedPredicates']);
    if (typeof s.name !== 'string' || s.name === '') throw layoutError('must be a non-empty string', `${at}.name`);
    if (names.has(s.name)) throw layoutError(`repeats the step "${s.name}"`, `${at}.name`);
    names.add(s.name);
    const rules = (list: unknown, field: string): ArtifactRule[] => {
      if (list === undefined) return [];
      if (!Array.isArray(list)) throw layoutError('must be a list of rules', `${at}.${field}`);
      return list.map((r, k) => {
        if (typeof r !== 'string') throw layoutError('must be a rule string, e.g. "CREATE foo"', `${at}.${field}[${k}]`);
        return parseRule(substitute(r, parameters).split(' '), { field: `${at}.${field}[${k}]`, step: s.name as string });
      });
    };
    if (!Array.isArray(s.expectedPredicates) || s.expectedPredicates.length === 0) throw layoutError('must be a non-empty list: a step with no expected predicate accepts nothing', `${at}.expectedPredicates`);
    const expectedPredicates = readExpectedPredicates(s.expectedPredicates, at, functionaries, parameters);
    return { name: s.name, expectedMaterials: rules(s.expectedMaterials, 'expectedMaterials'), expectedProducts: rules(s.expectedProducts, 'expectedProducts'), expectedPredicates };
  });
  if (doc.subjects !== undefined && !Array.isArray(doc.subjects)) throw layoutError('must be a list', 'subjects');
  const subjects = ((doc.subjects ?? []) as unknown[]).map((raw, i): AttestationSubject => {
    const at = `subjects[${i}]`;
    const x = fields(raw, at, ['subject', 'expectedPredicates']);
    if (!Array.isArray(x.subject) || x.subject.length === 0 || x.subject.some((p) => typeof p !== 'string' || p === '')) throw layoutError('must be a non-empty list of artifact names or patterns', `${at}.subject`);
    if (!Array.isArray(x.expectedPredicates) || x.expectedPredicates.length === 0) throw layoutError('must be a non-empty list: a subject entry expecting nothing checks nothing', `${at}.expectedPredicates`);
    return { patterns: (x.subject as string[]).map((p) => substitute(p, parameters)), expectedPredicates: readExpectedPredicates(x.expectedPredicates, at, functionaries, parameters) };
  });
  return { expires: doc.expires, functionaries, steps, subjects };
}

/** A step's or a subject entry's `expectedPredicates`, strictly. */
function readExpectedPredicates(list: unknown[], at: string, functionaries: ReadonlyMap<string, Functionary>, parameters: Record<string, string> | undefined): ExpectedPredicate[] {
  return list.map((p, k): ExpectedPredicate => {
    const pat = `${at}.expectedPredicates[${k}]`;
    const e = fields(p, pat, ['predicateType', 'functionaries', 'threshold', 'expectedAttributes']);
    if (typeof e.predicateType !== 'string' || e.predicateType === '') throw layoutError('must be a non-empty string', `${pat}.predicateType`);
    if (!Array.isArray(e.functionaries) || e.functionaries.length === 0 || e.functionaries.some((f) => typeof f !== 'string')) throw layoutError('must be a non-empty list of key ids', `${pat}.functionaries`);
    for (const f of e.functionaries as string[]) if (!functionaries.has(f)) throw layoutError(`names ${f}, which is not among the layout's functionaries`, `${pat}.functionaries`);
    const threshold = e.threshold === undefined ? 1 : e.threshold;
    if (typeof threshold !== 'number' || !Number.isInteger(threshold) || threshold < 1 || threshold > (e.functionaries as string[]).length) {
      throw layoutError(`must be an integer from 1 to the number of functionaries (${(e.functionaries as string[]).length})`, `${pat}.threshold`);
    }
    const attributes = e.expectedAttributes === undefined ? [] : e.expectedAttributes;
    if (!Array.isArray(attributes)) throw layoutError('must be a list', `${pat}.expectedAttributes`);
    return {
      predicateType: e.predicateType,
      functionaries: e.functionaries as string[],
      threshold,
      expectedAttributes: attributes.map((a, n) => {
        const aat = `${pat}.expectedAttributes[${n}]`;
        const x = fields(a, aat, ['rule', 'allowIfNoClaim', 'warn', 'debug']);
        if (typeof x.rule !== 'string' || x.rule === '') throw layoutError('must be a CEL expression', `${aat}.rule`);
        // The engine takes a claim's rules NUL-separated: a NUL inside one would split it.
        if (x.rule.includes('\u0000')) throw layoutError('holds a NUL character, which no CEL expression may', `${aat}.rule`);
        for (const flag of ['allowIfNoClaim', 'warn'] as const) if (x[flag] !== undefined && typeof x[flag] !== 'boolean') throw layoutError('must be true or false', `${aat}.${flag}`);
        if (parameters) {
          const outside = placeholdersOutsideStrings(x.rule).filter((n) => Object.hasOwn(parameters, n));
          if (outside.length > 0) throw layoutError(`puts the parameter {${outside[0]}} outside a string literal, where its value would be CEL code: quote it ('{${outside[0]}}')`, `${aat}.rule`);
        }
        return { rule: substitute(x.rule, parameters), allowIfNoClaim: x.allowIfNoClaim === true, warn: x.warn === true };
      }),
    };
  });
}


/** A Statement and who signed it: one attestation file. */
interface Claim {
  readonly file: string;
  readonly step: string;
  readonly statement: Statement;
  readonly signers: ReadonlySet<string>;
  /**
   * Who actually signed, for each functionary it counts for: a key's SPKI, or a certificate's issuer and subject.
   * Thresholds count these, so one signature never counts twice (two identity patterns matching one certificate).
   */
  readonly principals: ReadonlyMap<string, string>;
}

export type Artifacts = Record<string, Record<string, string>>;

/** A descriptor list as artifacts: `name` (else `uri`) to its digests of accepted algorithms; the rest noted. */
function artifactsOf(list: unknown, notes: string[], problems: string[], where: string): Artifacts {
  const out: Artifacts = Object.create(null) as Artifacts;
  if (list === undefined) return out;
  if (!Array.isArray(list)) {
    problems.push(`${where} is not a list of resource descriptors`);
    return out;
  }
  list.forEach((raw, i) => {
    // Every descriptor is an artifact: one the rules cannot see (no name, no digest) fails the claim, not ignored.
    let rd;
    try {
      rd = readResourceDescriptor(raw, `${where}[${i}]`);
    } catch (error) {
      if (!(error instanceof InTotoError)) throw error;
      problems.push(error.message);
      return;
    }
    const name = rd.name !== undefined && rd.name !== '' ? rd.name : rd.uri;
    const given = Object.entries(rd.digest ?? {}).filter(([, v]) => v !== '' && /^[0-9a-f]+$/.test(v));
    if (name === undefined || given.length === 0 || given.length !== Object.keys(rd.digest ?? {}).length) {
      problems.push(`${where}[${i}]${name !== undefined ? ` (${name})` : ''} has no ${name === undefined ? 'name or uri' : 'digest of lower-case hex'}: artifact rules cannot judge it`);
      return;
    }
    const strong = given.filter(([alg]) => ACCEPTED_ALGORITHMS.has(alg));
    // A digest by an algorithm we do not accept (sha1 for a git commit, in npm's provenance) still names an
    // artifact for ALLOW, CREATE, DISALLOW and REQUIRE; MATCH then compares those digests, which the note says.
    if (strong.length === 0) notes.push(`${where}[${i}] (${name}) has digests only by ${given.map(([alg]) => alg).join(', ')}: a MATCH on it compares those`);
    const digest = Object.fromEntries(strong.length > 0 ? strong : given) as Record<string, string>;
    if (!Object.hasOwn(out, name)) out[name] = digest;
    else if (!sameArtifacts({ x: out[name]! }, { x: digest })) problems.push(`${where}[${i}] repeats the artifact ${name} with another digest`);
  });
  return out;
}

/** Materials and products a Statement records, by its predicate type (as the prototype reads them). */
function artifactsOfStatement(s: Statement, notes: string[], problems: string[]): { materials: Artifacts; products: Artifacts } {
  const subject = (s.raw as { subject?: unknown }).subject;
  const p = s.predicate as Record<string, unknown>;
  if (s.predicateType === LINK_V03) return { materials: artifactsOf(p.materials, notes, problems, 'predicate.materials'), products: artifactsOf(subject, notes, problems, 'subject') };
  if (s.predicateType === SLSA_PROVENANCE_V1) {
    const deps = isRecord(p.buildDefinition) ? p.buildDefinition.resolvedDependencies : undefined;
    return { materials: artifactsOf(deps, notes, problems, 'predicate.buildDefinition.resolvedDependencies'), products: artifactsOf(subject, notes, problems, 'subject') };
  }
  if (s.predicateType === SLSA_PROVENANCE_V02) return { materials: artifactsOf(p.materials, notes, problems, 'predicate.materials'), products: artifactsOf(subject, notes, problems, 'subject') };
  return { materials: artifactsOf(subject, notes, problems, 'subject'), products: {} };
}

/** The signer behind functionary `f`'s signature on claim `c`: a key, or a certificate identity. */
function principalOf(c: Claim, f: string): string {
  return c.principals.get(f)!;
}

/** Whether two artifact sets are the same: the same names, each with the same digests (in any order). */
function sameArtifacts(a: Artifacts, b: Artifacts): boolean {
  const names = Object.keys(a);
  if (names.length !== Object.keys(b).length) return false;
  return names.every((name) => {
    const x = a[name]!;
    const y = Object.hasOwn(b, name) ? b[name]! : undefined;
    return y !== undefined && Object.keys(x).length === Object.keys(y).length && Object.entries(x).every(([alg, v]) => Object.hasOwn(y, alg) && y[alg] === v);
  });
}

/**
 * The claim's field a rule reads that is absent, if one is: `allowIfNoClaim` excuses a rule that failed because the
 * claim lacks a field it reads (`predicate.a.b`, `subject[0].name`), not a key missing from a map the rule itself
 * wrote, nor a missing field of a value a macro bound.
 */
function absentClaim(rule: string, variables: Parameters<typeof evaluateCel>[1]): string | undefined {
  for (const m of rule.matchAll(/(?<![\w.])((?:predicate|subject)(?:\.[A-Za-z_][A-Za-z0-9_]*|\[\d+\])+)/g)) {
    try {
      const result = evaluateCel(m[1]!, variables);
      if ('error' in result && result.error.startsWith('no such key')) return m[1];
    } catch {
      // not a path this can evaluate on its own
    }
  }
  return undefined;
}

/** For a rule `<field path> <comparison> ...`, what the field held (or that it was absent), to say why it was false. */
function operandOf(rule: string, variables: Parameters<typeof evaluateCel>[1]): string {
  const m = /^\s*((?:predicate|subject|predicateType)(?:\.[A-Za-z_][A-Za-z0-9_]*|\[\d+\])*)\s*(?:==|!=|<=|>=|<|>|in\b)/.exec(rule);
  if (!m) return '';
  try {
    const result = evaluateCel(m[1]!, variables);
    if ('error' in result) return ` (${m[1]} is absent: ${result.error})`;
    const shown = JSON.stringify('value' in result.value ? result.value.value : result.value, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
    return ` (${m[1]} is ${shown === undefined ? result.value.type : shown.length > 200 ? `${shown.slice(0, 200)}...` : shown})`;
  } catch {
    return '';
  }
}

/** The Sigstore bundle `bytes` hold, if they are one (a JSON object with a Sigstore bundle media type). */
function asSigstoreBundle(bytes: Uint8Array): SigstoreBundle | undefined {
  let doc: unknown;
  try {
    doc = JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    return undefined;
  }
  if (!isRecord(doc) || typeof doc.mediaType !== 'string' || !doc.mediaType.startsWith('application/vnd.dev.sigstore.bundle')) return undefined;
  return readSigstoreBundle(bytes);
}

/** A DSSE envelope's signers among the step's key functionaries (Sigstore identities sign bundles, not bare envelopes). */
async function dsseSigners(payloadType: string, payload: Uint8Array, signatures: number, verifyWith: (key: PublicKey) => Promise<void>, ofStep: readonly (readonly [string, Functionary])[], budget: { left: number }) {
  if (!isStatementPayloadType(payloadType)) throw new InTotoError('FORMAT', `its payloadType is ${JSON.stringify(payloadType)}, not an in-toto Statement's`, { field: 'payloadType' });
  if (signatures > MAX_SIGNATURES) throw new InTotoError('LIMIT', `it carries ${signatures} signatures, more than ${MAX_SIGNATURES}`, { field: 'signatures' });
  budget.left -= signatures * ofStep.filter(([, f]) => f.kind === 'key').length;
  if (budget.left < 0) throw new BudgetSpent();
  const signers = new Map<string, string>();
  for (const [id, f] of ofStep) {
    if (f.kind !== 'key') continue;
    try {
      await verifyWith(f.key);
      signers.set(id, `key ${toHex(f.key.spki)}`);
    } catch (error) {
      if (!(error instanceof InTotoError)) throw error;
    }
  }
  return { statementBytes: payload, signers };
}

/**
 * A Sigstore bundle's signer among the step's functionaries: verified whole (log entries, proofs, timestamps, the
 * Fulcio chain at the signing time, the identity) against the trusted root, with no artifact: its Statement's
 * subjects are judged by the layout's rules.
 */
async function bundleSigners(bundle: SigstoreBundle, ofStep: readonly (readonly [string, Functionary])[], root: TrustedRoot | undefined, now: Date | undefined) {
  if (!root) throw new InTotoError('KEY', 'a Sigstore bundle, and no trusted root to verify it against (--trusted-root)');
  const signers = new Map<string, string>();
  const problems: string[] = [];
  let statementBytes: Uint8Array | undefined;
  for (const [id, f] of ofStep) {
    const certificate = bundle.material.kind === 'certificate';
    if (certificate !== (f.kind === 'sigstore')) continue;
    try {
      const verified = await verifySigstoreBundle(bundle, root, { anySubject: true }, f.kind === 'sigstore' ? { identity: f.identity } : { key: f.key }, now ? { now } : {});
      if (bundle.content.kind !== 'dsse' || !verified.statement) throw new InTotoError('FORMAT', 'the bundle holds a message signature, not an in-toto Statement');
      statementBytes = bundle.content.payload;
      // One signer, whichever functionaries it verifies for: the certificate's identity, or the key.
      const who = verified.signer.kind === 'certificate' ? `identity ${verified.signer.identity.issuer} ${[...verified.signer.identity.uris, ...verified.signer.identity.emails].join(' ')}` : `key ${toHex(verified.signer.key.spki)}`;
      signers.set(id, who);
    } catch (error) {
      if (!(error instanceof InTotoError)) throw error;
      problems.push(`${id}: ${error.message}`);
    }
  }
  if (signers.size === 0 && problems.length > 0) throw new InTotoError('SIGNATURE', `the Sigstore bundle verifies for none of the functionaries it was tried against (${problems.join('; ')})`);
  return { statementBytes: statementBytes ?? new Uint8Array(), signers };
}

/** The Statement of a verified claim (protojson's "type" spelling read, a known predicate's schema checked, noted). */
function readClaimStatement(bytes: Uint8Array, label: string, warnings: string[]): Statement {
  let value = parseOrdinaryJson(bytes);
  if (isRecord(value) && Object.hasOwn(value, '_type') && Object.hasOwn(value, 'type')) {
    throw new InTotoError('FORMAT', 'the Statement has both "_type" and "type" (one field, spelled twice)', { field: 'type' });
  }
  if (isRecord(value) && !Object.hasOwn(value, '_type') && typeof value.type === 'string') {
    // Go protojson also reads a Statement's proto field name, "type"; so does this verifier, and says so.
    const { type, ...rest } = value;
    value = { _type: type, ...rest };
    warnings.push(`${label}: the Statement spells "_type" as "type" (its protobuf field name): read as "_type"`);
  }
  const statement = readStatement(value);
  try {
    readPredicate(statement); // a known predicate type read by its schema; a deviation is reported, not fatal
  } catch (error) {
    if (!(error instanceof InTotoError)) throw error;
    warnings.push(`${label}: its ${statement.predicateType} predicate does not follow that type's schema (${error.message}): only the layout's rules judge it`);
  }
  return statement;
}

export interface AttestationVerifyOptions {
  /** The layout file: a signed envelope (Metablock or DSSE) of its JSON, or, with `allowUnsignedLayout`, YAML or JSON. */
  readonly layout: Uint8Array;
  readonly layoutKeys?: readonly VerificationKey[];
  readonly allowUnsignedLayout?: boolean;
  /** Attestation files by name (`<step>.<keyid8>.json`). */
  readonly attestations: ReadonlyMap<string, Uint8Array>;
  readonly parameters?: Readonly<Record<string, string>>;
  readonly now?: Date;
  /** The Sigstore trusted root Sigstore bundles are verified against (needed when the directory holds any). */
  readonly trustedRoot?: TrustedRoot;
}

/** Verifies attestations against an attestation layout (see the module comment). Never throws for bad input. */
export async function verifyAttestationLayout(options: AttestationVerifyOptions): Promise<AttestationVerdict> {
  const failures: AttestationFailure[] = [];
  const warnings: string[] = [];
  let unsignedLayout = false;
  const layoutSignedBy: string[] = [];
  const artifacts: { step: string; materials: Artifacts; products: Artifacts }[] = [];
  let lastStep: string | undefined;
  const done = (): AttestationVerdict => ({ passed: failures.length === 0, failures, warnings, unsignedLayout, layoutSignedBy, artifacts, ...(lastStep !== undefined ? { lastStep } : {}) });

  // 1. The layout, and its signature.
  let layout: AttestationLayout;
  try {
    let value: unknown;
    let envelope;
    try {
      envelope = readEnvelope(options.layout);
    } catch (error) {
      // A JSON document shaped as an envelope that does not read as one is a broken signed layout, not YAML.
      let doc: unknown;
      try {
        doc = JSON.parse(new TextDecoder().decode(options.layout));
      } catch {
        doc = undefined;
      }
      if (isRecord(doc) && ('signatures' in doc || 'payload' in doc || 'signed' in doc)) throw error;
      envelope = undefined;
    }
    if (envelope) {
      const keys = options.layoutKeys ?? [];
      if (envelope.signatures.length === 0) throw new InTotoError('SIGNATURE', 'the layout is an envelope with no signature: sign it with the owner\'s key');
      if (keys.length === 0) throw new InTotoError('SIGNATURE', 'the layout is signed: give the keys it must be signed by (--layout-keys)');
      for (const key of keys) await verifySignatureBy(envelope, key);
      layoutSignedBy.push(...keys.map((k) => k.keyid));
      value = envelope.signed;
    } else {
      if ((options.layoutKeys ?? []).length > 0) {
        // Keys given say the layout must be signed by them: an unsigned file then fails, whatever else was allowed.
        throw new InTotoError('SIGNATURE', 'the layout is not signed, but layout keys were given: it must be signed by them');
      }
      if (!options.allowUnsignedLayout) {
        throw new InTotoError('SIGNATURE', 'the layout is not signed: sign it (a Metablock or DSSE envelope of its JSON), or verify it with --allow-unsigned-layout, which the verdict records');
      }
      unsignedLayout = true;
      warnings.push('the layout is not signed: anyone who can change it chooses what passes');
      value = readAttestationLayoutYaml(options.layout);
    }
    layout = readAttestationLayout(value, options.parameters);
    const unresolved = new Set<string>();
    const attributeRules = (predicates: readonly ExpectedPredicate[]) => predicates.flatMap((p) => p.expectedAttributes.map((a) => a.rule));
    const texts = [
      ...layout.steps.flatMap((step) => [...step.expectedMaterials, ...step.expectedProducts].map(ruleToString).concat(attributeRules(step.expectedPredicates))),
      ...layout.subjects.flatMap((entry) => [...entry.patterns, ...attributeRules(entry.expectedPredicates)]),
    ];
    for (const text of texts) for (const m of text.matchAll(/\{([a-zA-Z0-9_-]+)\}/g)) unresolved.add(m[1]!);
    if (unresolved.size > 0) warnings.push(`the layout's rules use parameters no value was given for: ${[...unresolved].map((n) => `{${n}}`).join(', ')} (they stay as written)`);
  } catch (error) {
    failures.push({ code: 'LAYOUT', message: error instanceof Error ? error.message : String(error) });
    return done();
  }
  lastStep = layout.steps.at(-1)!.name;
  const now = options.now ?? new Date();
  if (rfc3339(layout.expires)! <= now.getTime()) failures.push({ code: 'EXPIRED', message: `the layout expired at ${layout.expires}` });

  // 2. The attestations: each envelope's signers among the functionaries; the unsigned and unreadable noted.
  const claims: Claim[] = [];
  const stepKeys = new Map(layout.steps.map((s) => [s.name, new Set(s.expectedPredicates.flatMap((p) => p.functionaries))]));
  const subjectKeys = new Set(layout.subjects.flatMap((s) => s.expectedPredicates.flatMap((p) => p.functionaries)));
  const budget = { left: MAX_SIGNATURE_CHECKS };
  let spent = false;
  for (const [file, bytes] of [...options.attestations].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const jsonl = file.endsWith('.intoto.jsonl');
    const base = jsonl ? file.slice(0, -'.intoto.jsonl'.length) : file.endsWith('.json') ? file.slice(0, -5) : file;
    const step = base.includes('.') ? base.slice(0, base.lastIndexOf('.')) : base;
    // The file name is not signed: it only says which step's functionaries to try (a link's signed name must agree).
    // A file naming no step is a claim about the products (`subjects`), when the layout expects any.
    const keysOfStep = stepKeys.get(step) ?? (subjectKeys.size > 0 ? subjectKeys : undefined);
    if (!keysOfStep) {
      warnings.push(`${file}: names no step of the layout (the step is the file name up to its last dot): not a claim`);
      continue;
    }
    const aboutSubjects = !stepKeys.has(step);
    const ofStep = [...layout.functionaries].filter(([id]) => keysOfStep.has(id));
    // The file's envelopes: one DSSE envelope or Sigstore bundle, or a line each of a JSON Lines bundle.
    const parts: { label: string; read: () => Promise<{ statementBytes: Uint8Array; signers: Map<string, string> }> }[] = [];
    if (jsonl) {
      const lines = readAttestationBundle(bytes);
      if (lines.length > MAX_LINES) {
        failures.push({ code: 'LIMIT', step, message: `${file} holds ${lines.length} envelopes, more than ${MAX_LINES}` });
        continue;
      }
      for (const line of lines) {
        const label = `${file} line ${line.line}`;
        if ('error' in line) parts.push({ label, read: () => Promise.reject(line.error) });
        else parts.push({ label, read: () => dsseSigners(line.attestation.envelope.payloadType, line.attestation.envelope.payload, line.attestation.envelope.signatures.length, async (key) => verifyDsse(line.attestation.envelope, [key]), ofStep, budget) });
      }
    } else {
      parts.push({
        label: file,
        read: async () => {
          const bundle = asSigstoreBundle(bytes);
          if (bundle) {
            budget.left -= ofStep.length;
            if (budget.left < 0) throw new BudgetSpent();
            return bundleSigners(bundle, ofStep, options.trustedRoot, options.now);
          }
          const envelope = readDsseEnvelope(bytes);
          return dsseSigners(envelope.payloadType, envelope.payload, envelope.signatures.length, async (key) => verifyDsse(envelope, [key]), ofStep, budget);
        },
      });
    }
    let fileWarnings = 0;
    const warn = (text: string) => {
      if (++fileWarnings <= MAX_WARNINGS_PER_FILE) warnings.push(text);
    };
    for (const part of parts) {
      if (spent) break;
      try {
        const { statementBytes, signers } = await part.read();
        if (signers.size === 0) {
          warn(`${part.label}: signed by no functionary of ${aboutSubjects ? "the layout's subjects" : `step ${step}`}: not a claim`);
          continue;
        }
        const statement = readClaimStatement(statementBytes, part.label, warnings);
        if (!aboutSubjects && statement.predicateType === LINK_V03 && (statement.predicate as Record<string, unknown>).name !== step) {
          failures.push({ code: 'MISFILED', step, message: `${part.label}: a link for step ${JSON.stringify((statement.predicate as Record<string, unknown>).name)}, filed as a claim of step ${step}` });
          continue;
        }
        claims.push({ file: part.label, step: aboutSubjects ? '' : step, statement, signers: new Set(signers.keys()), principals: signers });
      } catch (error) {
        if (error instanceof BudgetSpent) {
          failures.push({ code: 'LIMIT', message: `more than ${MAX_SIGNATURE_CHECKS} signature checks (signatures x keys tried, and bundles): verification stopped at ${part.label}` });
          spent = true;
          break;
        }
        if (!(error instanceof InTotoError)) throw error;
        warn(`${part.label}: ${error.message}: not a claim`);
      }
    }
    if (fileWarnings > MAX_WARNINGS_PER_FILE) warnings.push(`${file}: ${fileWarnings - MAX_WARNINGS_PER_FILE} more warnings like those`);
    if (spent) break;
  }
  if (spent) return done();

  /** A claim's CEL attributes: each false or failing rule a failure (or a warning: `warn`, `allowIfNoClaim`). */
  const checkAttributes = (claim: Claim, expected: ExpectedPredicate, about: { step?: string; subject?: string }, label: string) => {
    const signer = expected.functionaries.find((f) => claim.signers.has(f))!;
    const variables = {
      predicate: { json: claim.statement.raw.predicate ?? {} },
      subject: { json: claim.statement.raw.subject },
      predicateType: { type: 'string' as const, value: claim.statement.predicateType },
    };
    // All of the claim's rules in one engine call: the Statement is copied in once.
    let results: ReturnType<typeof evaluateCelMany>;
    try {
      results = evaluateCelMany(expected.expectedAttributes.map((a) => a.rule), variables);
    } catch (error) {
      if (!(error instanceof InTotoError)) throw error;
      results = expected.expectedAttributes.map(() => error);
    }
    for (const [n, attribute] of expected.expectedAttributes.entries()) {
      const where = { ...about, predicateType: expected.predicateType, functionary: signer, rule: attribute.rule };
      const result = results[n]!;
      if (result instanceof InTotoError) {
        failures.push({ code: 'ATTRIBUTE', ...where, message: `${label}, ${claim.file}: the rule \`${attribute.rule}\` cannot be evaluated: ${result.message}` });
        continue;
      }
      if ('error' in result) {
        const absent = result.error.startsWith('no such key') ? absentClaim(attribute.rule, variables) : undefined;
        if (absent !== undefined && attribute.allowIfNoClaim) {
          warnings.push(`${label}, ${claim.file}: \`${attribute.rule}\`: the claim has no ${absent} (${result.error}), allowed`);
        } else {
          failures.push({ code: 'ATTRIBUTE', ...where, message: `${label}, ${claim.file} (signed by ${signer}): the rule \`${attribute.rule}\` failed: ${result.error}${absent !== undefined ? ` (the claim has no ${absent}; allowIfNoClaim would allow that)` : ''}` });
        }
      } else if (result.value.type !== 'bool') {
        failures.push({ code: 'ATTRIBUTE', ...where, message: `${label}, ${claim.file}: the rule \`${attribute.rule}\` gives a ${result.value.type}, not true or false` });
      } else if (!result.value.value) {
        const message = `${label}, ${claim.file} (signed by ${signer}): the rule \`${attribute.rule}\` is false${operandOf(attribute.rule, variables)}`;
        if (attribute.warn) warnings.push(message);
        else failures.push({ code: 'ATTRIBUTE', ...where, message });
      }
    }
  };

  /**
   * `subjects`: every product (of any step, as its claims record it) whose name matches an entry's patterns needs the
   * entry's expected predicates from Statements naming its digest among their subjects, by enough distinct signers,
   * each such Statement's attributes holding. An entry matching no product fails: it names what must exist.
   */
  const checkSubjects = () => {
    const products = new Map<string, { name: string; digest: Record<string, string> }>();
    for (const record of allProducts) for (const [name, digest] of Object.entries(record)) products.set(`${name}\u0000${JSON.stringify(digest)}`, { name, digest });
    // The claims about each digest (accepted algorithms), found once: a product then looks up its own, in linear
    // time however many subjects the claims list (a VSA may name thousands).
    const about = new Map<string, Claim[]>();
    for (const claim of claims) {
      const keys = new Set<string>();
      for (const d of claim.statement.subject) for (const [alg, hex] of Object.entries(d.digest ?? {})) if (ACCEPTED_ALGORITHMS.has(alg)) keys.add(`${alg}:${hex}`);
      for (const key of keys) about.set(key, [...(about.get(key) ?? []), claim]);
    }
    const claimsAbout = (digest: Record<string, string>) => {
      const found = new Set<Claim>();
      for (const [alg, hex] of Object.entries(digest)) for (const c of about.get(`${alg}:${hex}`) ?? []) found.add(c);
      return [...found].filter((c) => c.statement.subject.some((d) => d.digest !== undefined && digestsMatch(d.digest, digest)));
    };
    // A claim's attributes are checked once per expected predicate, however many products it is about.
    const checked = new Set<string>();
    const indexOf = new Map(claims.map((c, n) => [c, n] as const));
    for (const [i, entry] of layout.subjects.entries()) {
      // Each pattern names something that must exist: one matching no product fails the entry.
      const unmatched = entry.patterns.filter((pattern) => ![...products.values()].some((p) => matchGlob(pattern, p.name)));
      if (unmatched.length > 0) {
        failures.push({ code: 'SUBJECT', message: `subjects[${i}]: no product of the chain matches ${unmatched.map((p) => JSON.stringify(p)).join(', ')} (products: ${[...new Set([...products.values()].map((p) => p.name))].slice(0, 10).join(', ') || 'none'})` });
        continue;
      }
      const matched = [...products.values()].filter((p) => entry.patterns.some((pattern) => matchGlob(pattern, p.name)));
      for (const product of matched) {
        const label = `subject ${product.name}`;
        const candidates = claimsAbout(product.digest);
        for (const [e, expected] of entry.expectedPredicates.entries()) {
          const matching = candidates.filter((c) => c.statement.predicateType === expected.predicateType && expected.functionaries.some((f) => c.signers.has(f)));
          const by = new Set(matching.flatMap((c) => [...new Set(expected.functionaries.filter((f) => c.signers.has(f)).map((f) => principalOf(c, f)))]));
          if (by.size < expected.threshold) {
            const digest = Object.entries(product.digest).map(([a, h]) => `${a}:${h}`).join(' ');
            failures.push({ code: 'SUBJECT', subject: product.name, predicateType: expected.predicateType, message: `${label} (${digest}): ${expected.predicateType} by ${by.size} of the ${expected.threshold} functionaries needed, from Statements about that digest` });
            continue;
          }
          for (const claim of matching) {
            const key = `${indexOf.get(claim)}|${i}|${e}`;
            if (checked.has(key)) continue;
            checked.add(key);
            checkAttributes(claim, expected, { subject: product.name }, label);
          }
        }
      }
    }
  };

  // 3. Each step: its claims, the expected predicates (thresholds, attributes), its artifacts.
  const rules = new RuleEngine();
  const handles = new Map<string, LinkHandle>();
  const extra: { step: AttestationStep; type: string; handle: LinkHandle }[] = [];
  const allProducts: Artifacts[] = [];
  try {
    for (const step of layout.steps) {
      const stepClaims = claims.filter((c) => c.step === step.name);
      if (stepClaims.length === 0) {
        failures.push({ code: 'NO_CLAIMS', step: step.name, message: `no claims found for step ${step.name}` });
        continue;
      }
      const counted: Claim[] = [];
      for (const expected of step.expectedPredicates) {
        const matching = stepClaims.filter((c) => c.statement.predicateType === expected.predicateType && expected.functionaries.some((f) => c.signers.has(f)));
        // Distinct signers, not functionary ids: a key or a bundle's signature counts once whatever ids it matches.
        const by = new Set(matching.flatMap((c) => [...new Set(expected.functionaries.filter((f) => c.signers.has(f)).map((f) => principalOf(c, f)))]));
        if (by.size < expected.threshold) {
          failures.push({ code: 'THRESHOLD', step: step.name, predicateType: expected.predicateType, message: `threshold not met for step ${step.name}: ${expected.predicateType} by ${by.size} of the ${expected.threshold} functionaries needed (${stepClaims.length} claim${stepClaims.length === 1 ? '' : 's'} of the step, of types ${[...new Set(stepClaims.map((c) => c.statement.predicateType))].join(', ')})` });
          continue;
        }
        for (const claim of matching) {
          counted.push(claim);
          checkAttributes(claim, expected, { step: step.name }, `step ${step.name}`);
        }
      }
      // The step's artifacts, per predicate type (claims of one type must record the same): the step's rules are
      // applied to each type's artifacts, as upstream applies them to each claim; the first expected type's stand
      // for the step in other steps' MATCH rules (and in the verdict).
      const notes: string[] = [];
      const records = [...new Set(counted)].map((c) => {
        const problems: string[] = [];
        const artifacts = artifactsOfStatement(c.statement, notes, problems);
        for (const problem of problems) failures.push({ code: 'ARTIFACT', step: step.name, predicateType: c.statement.predicateType, message: `step ${step.name}, ${c.file}: ${problem}` });
        return { claim: c, artifacts };
      });
      for (const note of new Set(notes)) warnings.push(`step ${step.name}: ${note}`);
      const firstOfType = new Map<string, (typeof records)[number]>();
      for (const record of records) {
        const type = record.claim.statement.predicateType;
        const first = firstOfType.get(type);
        if (!first) firstOfType.set(type, record);
        else if (!sameArtifacts(first.artifacts.materials, record.artifacts.materials) || !sameArtifacts(first.artifacts.products, record.artifacts.products)) {
          failures.push({ code: 'DISAGREE', step: step.name, predicateType: type, message: `step ${step.name}: ${first.claim.file} and ${record.claim.file} (both ${type}) record different materials or products` });
        }
      }
      const byType = step.expectedPredicates.map((e) => firstOfType.get(e.predicateType)).filter((r) => r !== undefined);
      if (byType.length === 0) continue;
      const load = (a: { materials: Artifacts; products: Artifacts }) => rules.load(toUtf8(JSON.stringify({ _type: 'link', name: step.name, materials: a.materials, products: a.products })), 'whole');
      artifacts.push({ step: step.name, ...byType[0]!.artifacts });
      // Every predicate type's products: `subjects` are about all of them, not only the first type's.
      for (const record of byType) allProducts.push(record.artifacts.products);
      handles.set(step.name, load(byType[0]!.artifacts));
      for (const other of byType.slice(1)) extra.push({ step, type: other.claim.statement.predicateType, handle: load(other.artifacts) });
    }

    // 4. Artifact rules across steps, once every step has its claims (as classic verification: a rule referring to a
    // step without claims would only add failures that say less than the missing claims do).
    const missing = layout.steps.filter((s) => !handles.has(s.name) || failures.some((f) => f.step === s.name && (f.code === 'THRESHOLD' || f.code === 'NO_CLAIMS')));
    if (missing.length > 0) {
      warnings.push(`artifact rules not evaluated: step${missing.length === 1 ? '' : 's'} ${missing.map((s) => s.name).join(', ')} lack${missing.length === 1 ? 's' : ''} the claims the layout requires`);
    } else {
      const itemOf = (s: AttestationStep) => ({ name: s.name, kind: 'step' as const, materials: s.expectedMaterials, products: s.expectedProducts });
      const report = (result: ReturnType<RuleEngine['apply']>, type?: string) => {
        for (const f of result.failures) {
          failures.push({ code: 'RULE', step: f.item, rule: ruleToString(f.rule), ...(type ? { predicateType: type } : {}), message: `step ${f.item}${type ? ` (its ${type} claims)` : ''}: ${f.side} rule "${f.ruleText}": ${f.message}` });
        }
      };
      report(rules.apply(layout.steps.map(itemOf), handles, { trace: false }));
      for (const { step, type, handle } of extra) report(rules.apply([itemOf(step)], new Map([...handles, [step.name, handle]]), { trace: false }), type);
    }

    // 5. Subjects: the products named, each with the attestations expected about it (by digest).
    if (layout.subjects.length > 0) {
      if (missing.length > 0) warnings.push('subjects not evaluated: the steps above lack claims, so the products are not known');
      else checkSubjects();
    }
  } catch (error) {
    if (!(error instanceof InTotoError)) throw error;
    failures.push({ code: 'LAYOUT', message: error.message });
  } finally {
    rules.close();
  }
  return done();
}
