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
 * prototype reads them. Not yet: `subjects`, `inspections` (refused when present, not ignored), Sigstore-identity
 * functionaries, VSAs.
 */
import { parse as parseYaml } from 'yaml';
import { evaluateCel } from '../attestation/cel.js';
import { toUtf8 } from '../engine.js';
import { InTotoError } from '../errors.js';
import { parseOrdinaryJson } from '../attestation/json.js';
import { LINK_V03, readPredicate, SLSA_PROVENANCE_V02, SLSA_PROVENANCE_V1 } from '../attestation/predicates.js';
import { ACCEPTED_ALGORITHMS, readStatement, type Statement } from '../attestation/statement.js';
import { publicKeyFromDict, type PublicKey } from '../keys/keys.js';
import type { VerificationKey } from '../keys/verification-key.js';
import { readDsseEnvelope, readEnvelope, verifyDsse, verifySignatureBy } from '../metadata/envelope.js';
import { parseRule, ruleToString, type ArtifactRule } from '../metadata/rules.js';
import { RuleEngine, type LinkHandle } from './rule-engine.js';

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

export interface AttestationLayout {
  readonly expires: string;
  readonly functionaries: ReadonlyMap<string, PublicKey>;
  readonly steps: readonly AttestationStep[];
}

export interface AttestationFailure {
  readonly code: 'LAYOUT' | 'EXPIRED' | 'NO_CLAIMS' | 'THRESHOLD' | 'ATTRIBUTE' | 'RULE' | 'DISAGREE';
  readonly message: string;
  readonly step?: string;
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
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const layoutError = (message: string, field: string) => new InTotoError('FORMAT', `attestation layout: ${field}: ${message}`, { field });

function fields(value: unknown, at: string, known: readonly string[]): Record<string, unknown> {
  if (!isRecord(value)) throw layoutError('must be an object', at);
  for (const key of Object.keys(value)) if (!known.includes(key)) throw layoutError(`unknown field "${key}" (known: ${known.join(', ')})`, at);
  return value;
}

/** `{name}` replaced by the parameters, again until nothing changes (values may use other parameters). */
function substitute(text: string, parameters: Readonly<Record<string, string>> | undefined): string {
  if (!parameters) return text;
  let out = text;
  for (let round = 0; round < 16; round++) {
    const next = out.replace(/\{([a-zA-Z0-9_-]+)\}/g, (whole, name: string) => (Object.hasOwn(parameters, name) ? parameters[name]! : whole));
    if (next === out) return out;
    out = next;
  }
  throw new InTotoError('FORMAT', 'attestation layout parameters refer to each other without end', { field: 'parameters' });
}

/** Reads a layout's value (after any envelope), strictly; `parameters` substituted in rules and attribute rules. */
export function readAttestationLayout(value: unknown, parameters?: Readonly<Record<string, string>>): AttestationLayout {
  if (parameters) for (const name of Object.keys(parameters)) if (!/^[a-zA-Z0-9_-]+$/.test(name)) throw layoutError(`parameter name "${name}" must match [a-zA-Z0-9_-]+`, 'parameters');
  const doc = fields(value, 'layout', ['expires', 'functionaries', 'steps', 'subjects', 'inspections']);
  for (const part of ['subjects', 'inspections'] as const) {
    if (doc[part] !== undefined && !(Array.isArray(doc[part]) && (doc[part] as unknown[]).length === 0)) {
      throw layoutError('is not verified by this version yet: refused rather than ignored', part);
    }
  }
  if (typeof doc.expires !== 'string' || Number.isNaN(Date.parse(doc.expires))) throw layoutError('must be an RFC 3339 time', 'expires');
  const functionaries = new Map<string, PublicKey>();
  for (const [keyid, key] of Object.entries(fields(doc.functionaries, 'functionaries', Object.keys(isRecord(doc.functionaries) ? doc.functionaries : {})))) {
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
    functionaries.set(keyid, publicKey);
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
    const expectedPredicates = s.expectedPredicates.map((p, k): ExpectedPredicate => {
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
          for (const flag of ['allowIfNoClaim', 'warn'] as const) if (x[flag] !== undefined && typeof x[flag] !== 'boolean') throw layoutError('must be true or false', `${aat}.${flag}`);
          return { rule: substitute(x.rule, parameters), allowIfNoClaim: x.allowIfNoClaim === true, warn: x.warn === true };
        }),
      };
    });
    return { name: s.name, expectedMaterials: rules(s.expectedMaterials, 'expectedMaterials'), expectedProducts: rules(s.expectedProducts, 'expectedProducts'), expectedPredicates };
  });
  return { expires: doc.expires, functionaries, steps };
}

/** A Statement and who signed it: one attestation file. */
interface Claim {
  readonly file: string;
  readonly step: string;
  readonly statement: Statement;
  readonly signers: ReadonlySet<string>;
}

export type Artifacts = Record<string, Record<string, string>>;

/** A descriptor list as artifacts: `name` (else `uri`) to its digests of accepted algorithms; the rest noted. */
function artifactsOf(list: unknown, notes: string[], where: string): Artifacts {
  const out: Artifacts = Object.create(null) as Artifacts;
  if (!Array.isArray(list)) return out;
  list.forEach((rd, i) => {
    const r = isRecord(rd) ? rd : {};
    const name = typeof r.name === 'string' && r.name !== '' ? r.name : typeof r.uri === 'string' ? r.uri : undefined;
    const given = isRecord(r.digest) ? Object.entries(r.digest).filter((e): e is [string, string] => typeof e[1] === 'string' && e[1] !== '') : [];
    const strong = given.filter(([alg]) => ACCEPTED_ALGORITHMS.has(alg));
    if (name === undefined || given.length === 0) {
      notes.push(`${where}[${i}] is no artifact (it needs a name or uri and a digest)`);
      return;
    }
    // A digest by an algorithm we do not accept (sha1 for a git commit, in npm's provenance) still names an
    // artifact for ALLOW, CREATE, DISALLOW and REQUIRE; MATCH then compares those digests, which the note says.
    if (strong.length === 0) notes.push(`${where}[${i}] (${name}) has digests only by ${given.map(([alg]) => alg).join(', ')}: a MATCH on it compares those`);
    const digest = Object.fromEntries(strong.length > 0 ? strong : given) as Record<string, string>;
    if (Object.hasOwn(out, name)) notes.push(`${where}[${i}] repeats the artifact ${name}: the first counts`);
    else out[name] = digest;
  });
  return out;
}

/** Materials and products a Statement records, by its predicate type (as the prototype reads them). */
function artifactsOfStatement(s: Statement, notes: string[]): { materials: Artifacts; products: Artifacts } {
  const subject = s.subject.map((rd) => ({ ...rd }));
  const p = s.predicate as Record<string, unknown>;
  if (s.predicateType === LINK_V03) return { materials: artifactsOf(p.materials, notes, 'predicate.materials'), products: artifactsOf(subject, notes, 'subject') };
  if (s.predicateType === SLSA_PROVENANCE_V1) {
    const deps = isRecord(p.buildDefinition) ? p.buildDefinition.resolvedDependencies : undefined;
    return { materials: artifactsOf(deps, notes, 'predicate.buildDefinition.resolvedDependencies'), products: artifactsOf(subject, notes, 'subject') };
  }
  if (s.predicateType === SLSA_PROVENANCE_V02) return { materials: artifactsOf(p.materials, notes, 'predicate.materials'), products: artifactsOf(subject, notes, 'subject') };
  return { materials: artifactsOf(subject, notes, 'subject'), products: {} };
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

export interface AttestationVerifyOptions {
  /** The layout file: a signed envelope (Metablock or DSSE) of its JSON, or, with `allowUnsignedLayout`, YAML or JSON. */
  readonly layout: Uint8Array;
  readonly layoutKeys?: readonly VerificationKey[];
  readonly allowUnsignedLayout?: boolean;
  /** Attestation files by name (`<step>.<keyid8>.json`). */
  readonly attestations: ReadonlyMap<string, Uint8Array>;
  readonly parameters?: Readonly<Record<string, string>>;
  readonly now?: Date;
}

/** Verifies attestations against an attestation layout (see the module comment). Never throws for bad input. */
export async function verifyAttestationLayout(options: AttestationVerifyOptions): Promise<AttestationVerdict> {
  const failures: AttestationFailure[] = [];
  const warnings: string[] = [];
  let unsignedLayout = false;
  const layoutSignedBy: string[] = [];
  const artifacts: { step: string; materials: Artifacts; products: Artifacts }[] = [];
  const done = (): AttestationVerdict => ({ passed: failures.length === 0, failures, warnings, unsignedLayout, layoutSignedBy, artifacts });

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
      if (keys.length === 0) throw new InTotoError('SIGNATURE', 'the layout is signed: give the keys it must be signed by (--layout-keys)');
      for (const key of keys) await verifySignatureBy(envelope, key);
      layoutSignedBy.push(...keys.map((k) => k.keyid));
      value = envelope.signed;
    } else {
      if (!options.allowUnsignedLayout) {
        throw new InTotoError('SIGNATURE', 'the layout is not signed: sign it (a Metablock or DSSE envelope of its JSON), or verify it with --allow-unsigned-layout, which the verdict records');
      }
      unsignedLayout = true;
      warnings.push('the layout is not signed: anyone who can change it chooses what passes');
      value = parseYaml(new TextDecoder('utf-8', { fatal: true }).decode(options.layout), { uniqueKeys: true, strict: true });
    }
    layout = readAttestationLayout(value, options.parameters);
    const unresolved = new Set<string>();
    for (const step of layout.steps) {
      const texts = [...step.expectedMaterials, ...step.expectedProducts].map(ruleToString).concat(step.expectedPredicates.flatMap((p) => p.expectedAttributes.map((a) => a.rule)));
      for (const text of texts) for (const m of text.matchAll(/\{([a-zA-Z0-9_-]+)\}/g)) unresolved.add(m[1]!);
    }
    if (unresolved.size > 0) warnings.push(`the layout's rules use parameters no value was given for: ${[...unresolved].map((n) => `{${n}}`).join(', ')} (they stay as written)`);
  } catch (error) {
    failures.push({ code: 'LAYOUT', message: error instanceof Error ? error.message : String(error) });
    return done();
  }
  const now = options.now ?? new Date();
  if (Date.parse(layout.expires) <= now.getTime()) failures.push({ code: 'EXPIRED', message: `the layout expired at ${layout.expires}` });

  // 2. The attestations: each envelope's signers among the functionaries; the unsigned and unreadable noted.
  const claims: Claim[] = [];
  for (const [file, bytes] of [...options.attestations].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const base = file.endsWith('.json') ? file.slice(0, -5) : file;
    const step = base.includes('.') ? base.slice(0, base.lastIndexOf('.')) : base;
    try {
      const envelope = readDsseEnvelope(bytes);
      const signers = new Set<string>();
      for (const [keyid, key] of layout.functionaries) {
        try {
          await verifyDsse(envelope, [key]);
          signers.add(keyid);
        } catch (error) {
          if (!(error instanceof InTotoError)) throw error;
        }
      }
      if (signers.size === 0) {
        warnings.push(`${file}: signed by no functionary of the layout: not a claim`);
        continue;
      }
      let value = parseOrdinaryJson(envelope.payload);
      if (isRecord(value) && Object.hasOwn(value, '_type') && Object.hasOwn(value, 'type')) {
        throw new InTotoError('FORMAT', 'the Statement has both "_type" and "type" (one field, spelled twice)', { field: 'type' });
      }
      if (isRecord(value) && !Object.hasOwn(value, '_type') && typeof value.type === 'string') {
        // Go protojson also reads a Statement's proto field name, "type"; so does this verifier, and says so.
        const { type, ...rest } = value;
        value = { _type: type, ...rest };
        warnings.push(`${file}: the Statement spells "_type" as "type" (its protobuf field name): read as "_type"`);
      }
      const statement = readStatement(value);
      try {
        readPredicate(statement); // a known predicate type read by its schema; a deviation is reported, not fatal
      } catch (error) {
        if (!(error instanceof InTotoError)) throw error;
        warnings.push(`${file}: its ${statement.predicateType} predicate does not follow that type's schema (${error.message}): only the layout's rules judge it`);
      }
      claims.push({ file, step, statement, signers });
    } catch (error) {
      if (!(error instanceof InTotoError)) throw error;
      warnings.push(`${file}: ${error.message}: not a claim`);
    }
  }

  // 3. Each step: its claims, the expected predicates (thresholds, attributes), its artifacts.
  const rules = new RuleEngine();
  const handles = new Map<string, LinkHandle>();
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
        const by = new Set(matching.flatMap((c) => expected.functionaries.filter((f) => c.signers.has(f))));
        if (by.size < expected.threshold) {
          failures.push({ code: 'THRESHOLD', step: step.name, predicateType: expected.predicateType, message: `threshold not met for step ${step.name}: ${expected.predicateType} by ${by.size} of the ${expected.threshold} functionaries needed (${stepClaims.length} claim${stepClaims.length === 1 ? '' : 's'} of the step, of types ${[...new Set(stepClaims.map((c) => c.statement.predicateType))].join(', ')})` });
          continue;
        }
        for (const claim of matching) {
          counted.push(claim);
          const signer = expected.functionaries.find((f) => claim.signers.has(f))!;
          const variables = {
            predicate: { json: claim.statement.raw.predicate ?? {} },
            subject: { json: claim.statement.raw.subject },
            predicateType: { type: 'string' as const, value: claim.statement.predicateType },
          };
          for (const attribute of expected.expectedAttributes) {
            const where = { step: step.name, predicateType: expected.predicateType, functionary: signer, rule: attribute.rule };
            let result;
            try {
              result = evaluateCel(attribute.rule, variables);
            } catch (error) {
              failures.push({ code: 'ATTRIBUTE', ...where, message: `step ${step.name}, ${claim.file}: the rule \`${attribute.rule}\` cannot be evaluated: ${(error as Error).message}` });
              continue;
            }
            if ('error' in result) {
              if (result.error.startsWith('no such key') && attribute.allowIfNoClaim) {
                warnings.push(`step ${step.name}, ${claim.file}: \`${attribute.rule}\`: the claim has no such attribute (${result.error}), allowed`);
              } else {
                failures.push({ code: 'ATTRIBUTE', ...where, message: `step ${step.name}, ${claim.file} (signed by ${signer}): the rule \`${attribute.rule}\` failed: ${result.error}${result.error.startsWith('no such key') ? ' (the attribute is absent; allowIfNoClaim would allow that)' : ''}` });
              }
            } else if (result.value.type !== 'bool') {
              failures.push({ code: 'ATTRIBUTE', ...where, message: `step ${step.name}, ${claim.file}: the rule \`${attribute.rule}\` gives a ${result.value.type}, not true or false` });
            } else if (!result.value.value) {
              const message = `step ${step.name}, ${claim.file} (signed by ${signer}): the rule \`${attribute.rule}\` is false${operandOf(attribute.rule, variables)}`;
              if (attribute.warn) warnings.push(message);
              else failures.push({ code: 'ATTRIBUTE', ...where, message });
            }
          }
        }
      }
      // The step's artifacts: every counted claim must record the same (the first in file order stands for them).
      const notes: string[] = [];
      const records = [...new Set(counted)].map((c) => ({ claim: c, artifacts: artifactsOfStatement(c.statement, notes) }));
      for (const note of new Set(notes)) warnings.push(`step ${step.name}: ${note}`);
      if (records.length === 0) continue;
      const first = JSON.stringify(records[0]!.artifacts);
      for (const other of records.slice(1)) {
        if (JSON.stringify(other.artifacts) !== first) failures.push({ code: 'DISAGREE', step: step.name, message: `step ${step.name}: ${records[0]!.claim.file} and ${other.claim.file} record different materials or products` });
      }
      const link = { _type: 'link', name: step.name, materials: records[0]!.artifacts.materials, products: records[0]!.artifacts.products };
      artifacts.push({ step: step.name, ...records[0]!.artifacts });
      handles.set(step.name, rules.load(toUtf8(JSON.stringify(link)), 'whole'));
    }

    // 4. Artifact rules across steps, once every step has its claims (as classic verification: a rule referring to a
    // step without claims would only add failures that say less than the missing claims do).
    const missing = layout.steps.filter((s) => !handles.has(s.name) || failures.some((f) => f.step === s.name && (f.code === 'THRESHOLD' || f.code === 'NO_CLAIMS')));
    if (missing.length > 0) {
      warnings.push(`artifact rules not evaluated: step${missing.length === 1 ? '' : 's'} ${missing.map((s) => s.name).join(', ')} lack${missing.length === 1 ? 's' : ''} the claims the layout requires`);
    } else {
      const items = layout.steps.map((s) => ({ name: s.name, kind: 'step' as const, materials: s.expectedMaterials, products: s.expectedProducts }));
      const result = rules.apply(items, handles, { trace: false });
      for (const f of result.failures) {
        failures.push({ code: 'RULE', step: f.item, rule: ruleToString(f.rule), message: `step ${f.item}: ${f.side} rule "${f.ruleText}": ${f.message}` });
      }
    }
  } catch (error) {
    if (!(error instanceof InTotoError)) throw error;
    failures.push({ code: 'LAYOUT', message: error.message });
  } finally {
    rules.close();
  }
  return done();
}
