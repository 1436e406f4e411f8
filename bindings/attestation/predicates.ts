/**
 * The vetted predicates this package types and validates (in-toto/attestation spec/predicates and SLSA), and the
 * link v0.3 predicate's conversion to and from a classic link. An unknown predicate type is carried through
 * untouched: `readPredicate` returns it as `{ kind: 'unknown' }`, never an error by itself.
 */
import { InTotoError } from '../errors.js';
import type { LinkJSON } from '../metadata/models.js';
import { ACCEPTED_ALGORITHMS, createStatement, readResourceDescriptor, readStatement, resourceDescriptorToJSON, type DigestSet, type ResourceDescriptor, type Statement } from './statement.js';

export const LINK_V03 = 'https://in-toto.io/attestation/link/v0.3';
export const SLSA_PROVENANCE_V1 = 'https://slsa.dev/provenance/v1';
export const SLSA_PROVENANCE_V02 = 'https://slsa.dev/provenance/v0.2';
export const NPM_PUBLISH_V01 = 'https://github.com/npm/attestation/tree/main/specs/publish/v0.1';
export const TEST_RESULT_V01 = 'https://in-toto.io/attestation/test-result/v0.1';
export const VSA_V1 = 'https://slsa.dev/verification_summary/v1';

export interface LinkPredicate {
  readonly name: string;
  readonly command: readonly string[];
  readonly materials: readonly ResourceDescriptor[];
  readonly byproducts: Readonly<Record<string, unknown>>;
  readonly environment: Readonly<Record<string, unknown>>;
}

export interface SlsaProvenanceV1 {
  readonly buildDefinition: {
    readonly buildType: string;
    readonly externalParameters: Readonly<Record<string, unknown>>;
    readonly internalParameters?: Readonly<Record<string, unknown>>;
    readonly resolvedDependencies: readonly ResourceDescriptor[];
  };
  readonly runDetails: {
    readonly builder: { readonly id: string; readonly version?: Readonly<Record<string, string>>; readonly builderDependencies: readonly ResourceDescriptor[] };
    readonly metadata?: { readonly invocationId?: string; readonly startedOn?: string; readonly finishedOn?: string };
    readonly byproducts: readonly ResourceDescriptor[];
  };
}

export interface SlsaProvenanceV02 {
  readonly builder: { readonly id: string };
  readonly buildType: string;
  readonly invocation?: Readonly<Record<string, unknown>>;
  readonly buildConfig?: unknown;
  readonly metadata?: Readonly<Record<string, unknown>>;
  readonly materials: readonly { readonly uri?: string; readonly digest?: DigestSet }[];
}

export interface NpmPublishV01 {
  readonly name: string;
  readonly version: string;
  readonly registry: string;
}

export interface TestResultV01 {
  readonly result: 'PASSED' | 'WARNED' | 'FAILED';
  readonly configuration: readonly ResourceDescriptor[];
  readonly url?: string;
  readonly passedTests: readonly string[];
  readonly warnedTests: readonly string[];
  readonly failedTests: readonly string[];
}

export interface VsaV1 {
  readonly verifier: { readonly id: string; readonly version?: Readonly<Record<string, string>> };
  readonly timeVerified?: string;
  readonly resourceUri: string;
  readonly policy: { readonly uri?: string; readonly digest?: DigestSet };
  readonly inputAttestations: readonly ResourceDescriptor[];
  readonly verificationResult: 'PASSED' | 'FAILED';
  readonly verifiedLevels: readonly string[];
  readonly dependencyLevels?: Readonly<Record<string, number>>;
  readonly slsaVersion?: string;
}

export type Predicate =
  | { readonly kind: 'link'; readonly value: LinkPredicate }
  | { readonly kind: 'slsa-provenance-v1'; readonly value: SlsaProvenanceV1 }
  | { readonly kind: 'slsa-provenance-v0.2'; readonly value: SlsaProvenanceV02 }
  | { readonly kind: 'npm-publish-v0.1'; readonly value: NpmPublishV01 }
  | { readonly kind: 'test-result-v0.1'; readonly value: TestResultV01 }
  | { readonly kind: 'vsa-v1'; readonly value: VsaV1 }
  | { readonly kind: 'unknown'; readonly value: Readonly<Record<string, unknown>> };

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const fail = (message: string, field: string) => new InTotoError('FORMAT', `predicate.${field}: ${message}`, { field: `predicate.${field}` });

/** Reads fields of one object, each failure naming its path under `predicate`. */
class Fields {
  constructor(readonly doc: Record<string, unknown>, readonly at: string) {}
  static of(value: unknown, at: string): Fields {
    if (!isRecord(value)) throw fail('must be an object', at);
    return new Fields(value, at);
  }
  #path(key: string) {
    return this.at ? `${this.at}.${key}` : key;
  }
  string(key: string, required: true): string;
  string(key: string, required?: false): string | undefined;
  string(key: string, required = false): string | undefined {
    const v = this.doc[key];
    if (v === undefined && !required) return undefined;
    if (typeof v !== 'string' || (required && v === '')) throw fail(required ? 'is required: a non-empty string' : 'must be a string', this.#path(key));
    return v;
  }
  object(key: string, required: true): Record<string, unknown>;
  object(key: string, required?: false): Record<string, unknown> | undefined;
  object(key: string, required = false): Record<string, unknown> | undefined {
    const v = this.doc[key];
    if (v === undefined && !required) return undefined;
    if (!isRecord(v)) throw fail(required ? 'is required: an object' : 'must be an object', this.#path(key));
    return v;
  }
  sub(key: string, required = false): Fields | undefined {
    const v = this.object(key, required as false);
    return v === undefined ? undefined : new Fields(v, this.#path(key));
  }
  strings(key: string): string[] {
    const v = this.doc[key];
    if (v === undefined) return [];
    if (!Array.isArray(v) || v.some((s) => typeof s !== 'string')) throw fail('must be a list of strings', this.#path(key));
    return v as string[];
  }
  descriptors(key: string): ResourceDescriptor[] {
    const v = this.doc[key];
    if (v === undefined) return [];
    if (!Array.isArray(v)) throw fail('must be a list of ResourceDescriptors', this.#path(key));
    return v.map((rd, i) => readResourceDescriptor(rd, `predicate.${this.#path(key)}[${i}]`));
  }
  timestamp(key: string): string | undefined {
    const v = this.string(key);
    if (v !== undefined && !/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/.test(v)) throw fail('must be an RFC 3339 timestamp', this.#path(key));
    return v;
  }
}

function readLink(p: Fields): LinkPredicate {
  return {
    name: p.string('name', true),
    command: p.strings('command'),
    materials: p.descriptors('materials'),
    byproducts: p.object('byproducts') ?? {},
    environment: p.object('environment') ?? {},
  };
}

function readSlsaV1(p: Fields): SlsaProvenanceV1 {
  const def = p.sub('buildDefinition', true)!;
  const run = p.sub('runDetails', true)!;
  const builder = run.sub('builder', true)!;
  const metadata = run.sub('metadata');
  return {
    buildDefinition: {
      buildType: def.string('buildType', true),
      externalParameters: def.object('externalParameters', true),
      ...(def.object('internalParameters') ? { internalParameters: def.object('internalParameters')! } : {}),
      resolvedDependencies: def.descriptors('resolvedDependencies'),
    },
    runDetails: {
      builder: {
        id: builder.string('id', true),
        ...(builder.object('version') ? { version: builder.object('version') as Record<string, string> } : {}),
        builderDependencies: builder.descriptors('builderDependencies'),
      },
      ...(metadata
        ? { metadata: { ...(metadata.string('invocationId') !== undefined ? { invocationId: metadata.string('invocationId')! } : {}), ...(metadata.timestamp('startedOn') ? { startedOn: metadata.timestamp('startedOn')! } : {}), ...(metadata.timestamp('finishedOn') ? { finishedOn: metadata.timestamp('finishedOn')! } : {}) } }
        : {}),
      byproducts: run.descriptors('byproducts'),
    },
  };
}

function readSlsaV02(p: Fields): SlsaProvenanceV02 {
  const builder = p.sub('builder', true)!;
  const materials = p.doc.materials;
  if (materials !== undefined && !Array.isArray(materials)) throw fail('must be a list', 'materials');
  return {
    builder: { id: builder.string('id', true) },
    buildType: p.string('buildType', true),
    ...(p.object('invocation') ? { invocation: p.object('invocation')! } : {}),
    ...(p.doc.buildConfig !== undefined ? { buildConfig: p.doc.buildConfig } : {}),
    ...(p.object('metadata') ? { metadata: p.object('metadata')! } : {}),
    materials: ((materials as unknown[] | undefined) ?? []).map((m, i) => {
      const f = Fields.of(m, `materials[${i}]`);
      const digest = f.doc.digest === undefined ? undefined : readResourceDescriptor({ digest: f.doc.digest }, `predicate.materials[${i}]`).digest;
      return { ...(f.string('uri') !== undefined ? { uri: f.string('uri')! } : {}), ...(digest ? { digest } : {}) };
    }),
  };
}

function readNpmPublish(p: Fields): NpmPublishV01 {
  return { name: p.string('name', true), version: p.string('version', true), registry: p.string('registry', true) };
}

function readTestResult(p: Fields): TestResultV01 {
  const result = p.string('result', true);
  if (result !== 'PASSED' && result !== 'WARNED' && result !== 'FAILED') throw fail('must be PASSED, WARNED or FAILED', 'result');
  return {
    result,
    configuration: p.descriptors('configuration'),
    ...(p.string('url') !== undefined ? { url: p.string('url')! } : {}),
    passedTests: p.strings('passedTests'),
    warnedTests: p.strings('warnedTests'),
    failedTests: p.strings('failedTests'),
  };
}

function readVsa(p: Fields): VsaV1 {
  const verifier = p.sub('verifier', true)!;
  const policy = p.sub('policy', true)!;
  const result = p.string('verificationResult', true);
  if (result !== 'PASSED' && result !== 'FAILED') throw fail('must be PASSED or FAILED', 'verificationResult');
  const levels = p.doc.verifiedLevels;
  if (!Array.isArray(levels) || levels.some((l) => typeof l !== 'string')) throw fail('is required: a list of strings', 'verifiedLevels');
  const dependencyLevels = p.object('dependencyLevels');
  if (dependencyLevels && Object.values(dependencyLevels).some((n) => !Number.isInteger(n) || (n as number) < 0)) throw fail('must map levels to counts', 'dependencyLevels');
  const policyDigest = policy.doc.digest === undefined ? undefined : readResourceDescriptor({ digest: policy.doc.digest }, 'predicate.policy').digest;
  return {
    verifier: { id: verifier.string('id', true), ...(verifier.object('version') ? { version: verifier.object('version') as Record<string, string> } : {}) },
    ...(p.timestamp('timeVerified') ? { timeVerified: p.timestamp('timeVerified')! } : {}),
    resourceUri: p.string('resourceUri', true),
    policy: { ...(policy.string('uri') !== undefined ? { uri: policy.string('uri')! } : {}), ...(policyDigest ? { digest: policyDigest } : {}) },
    inputAttestations: p.descriptors('inputAttestations'),
    verificationResult: result,
    verifiedLevels: levels as string[],
    ...(dependencyLevels ? { dependencyLevels: dependencyLevels as Record<string, number> } : {}),
    ...(p.string('slsaVersion') !== undefined ? { slsaVersion: p.string('slsaVersion')! } : {}),
  };
}

/** The Statement's predicate, typed and validated when its type is one this package knows; carried untouched otherwise. */
export function readPredicate(statement: Statement): Predicate {
  const p = new Fields(statement.predicate as Record<string, unknown>, '');
  switch (statement.predicateType) {
    case LINK_V03:
      return { kind: 'link', value: readLink(p) };
    case SLSA_PROVENANCE_V1:
      return { kind: 'slsa-provenance-v1', value: readSlsaV1(p) };
    case SLSA_PROVENANCE_V02:
      return { kind: 'slsa-provenance-v0.2', value: readSlsaV02(p) };
    case NPM_PUBLISH_V01:
      return { kind: 'npm-publish-v0.1', value: readNpmPublish(p) };
    case TEST_RESULT_V01:
      return { kind: 'test-result-v0.1', value: readTestResult(p) };
    case VSA_V1:
      return { kind: 'vsa-v1', value: readVsa(p) };
    default:
      return { kind: 'unknown', value: statement.predicate };
  }
}

/**
 * Artifacts keyed by name, from ResourceDescriptors: each needs a unique name, and a digest by an algorithm the
 * verifier accepts, to be a classic artifact. Only accepted algorithms are kept (md5, sha1 and unknown ones are
 * dropped: never trusted, never compared), so artifact rules compare what `digestsMatch` would.
 */
function artifactsOf(descriptors: readonly ResourceDescriptor[], field: string, accepted: ReadonlySet<string>): Record<string, DigestSet> {
  // No prototype: a path named `__proto__` is an artifact like any other, set by plain assignment.
  const out: Record<string, DigestSet> = Object.create(null) as Record<string, DigestSet>;
  descriptors.forEach((rd, i) => {
    if (!rd.name) throw new InTotoError('FORMAT', `${field}[${i}] needs a name to be a classic link's artifact (its path)`, { field: `${field}[${i}].name` });
    if (Object.hasOwn(out, rd.name)) throw new InTotoError('FORMAT', `${field}[${i}] repeats the artifact "${rd.name}"`, { field: `${field}[${i}].name`, artifact: rd.name });
    const given = rd.digest ?? {};
    let digest: DigestSet = given;
    for (const alg in given) {
      if (!accepted.has(alg)) {
        digest = Object.fromEntries(Object.entries(given).filter(([a]) => accepted.has(a)));
        break;
      }
    }
    if (Object.keys(digest).length === 0) {
      const names = Object.keys(rd.digest ?? {});
      throw new InTotoError('FORMAT', `${field}[${i}] ("${rd.name}") has no digest by an algorithm this verifier accepts${names.length > 0 ? ` (only ${names.join(', ')}: md5, sha1 and unknown algorithms are never trusted alone)` : ''}`, { field: `${field}[${i}].digest`, artifact: rd.name });
    }
    out[rd.name] = digest;
  });
  return out;
}

/** A Statement of another predicate where a link was expected (`FORMAT`; readers of mixed bundles pass over it). */
export class NotALinkError extends InTotoError {
  constructor(readonly predicateType: string) {
    super('FORMAT', `a Statement with predicate ${predicateType} is not a link (expected ${LINK_V03})`, { field: 'predicateType' });
  }
}

function linkPredicateOf(statement: Statement): LinkPredicate {
  if (statement.predicateType !== LINK_V03) throw new NotALinkError(statement.predicateType);
  return readLink(new Fields(statement.predicate as Record<string, unknown>, ''));
}

/**
 * The classic link a link v0.3 Statement stands for (the predicate's conversion rule): its name, command,
 * byproducts and environment; materials from the predicate's ResourceDescriptors; products from the subjects.
 */
export function statementToLink(statement: Statement, accepted: ReadonlySet<string> = ACCEPTED_ALGORITHMS): LinkJSON {
  const link = linkPredicateOf(statement);
  return {
    _type: 'link',
    name: link.name,
    command: [...link.command],
    materials: artifactsOf(link.materials, 'predicate.materials', accepted),
    products: artifactsOf(statement.subject, 'subject', accepted),
    byproducts: { ...link.byproducts },
    environment: { ...link.environment },
  } as LinkJSON;
}

/**
 * The classic link of a link v0.3 Statement whose subjects and materials the engine has read into its artifact
 * tables (`verify/`): `lean` is the parsed Statement with `subject` and `predicate.materials` emptied, and
 * everything else is checked as `statementToLink` checks it. The link's `materials` and `products` are `{}`.
 */
export function leanStatementToLink(lean: unknown): LinkJSON {
  const link = linkPredicateOf(readStatement(lean, { subjectRead: true }));
  return { _type: 'link', name: link.name, command: [...link.command], materials: {}, products: {}, byproducts: { ...link.byproducts }, environment: { ...link.environment } } as LinkJSON;
}

/** The Statement v1 (as JSON) a classic link becomes: subjects from products, materials as ResourceDescriptors. */
export function linkToStatement(link: LinkJSON): Record<string, unknown> {
  const descriptors = (artifacts: Readonly<Record<string, Readonly<Record<string, string>>>>) =>
    Object.entries(artifacts).map(([name, digest]) => ({ name, digest }));
  if (Object.keys(link.products).length === 0) {
    throw new InTotoError('FORMAT', `link '${link.name}' has no products, so it cannot be an attestation: a Statement needs at least one subject (its products); record products, or write a classic link`, { field: 'products', step: link.name });
  }
  return createStatement({
    subject: descriptors(link.products),
    predicateType: LINK_V03,
    predicate: {
      name: link.name,
      command: [...link.command],
      materials: descriptors(link.materials).map(resourceDescriptorToJSON),
      byproducts: link.byproducts,
      environment: link.environment,
    },
  });
}
