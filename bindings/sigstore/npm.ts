/**
 * npm provenance, checked as slsa-verifier's `verify-npm-package` checks it, and more: a package version's two
 * attestations (the npm registry's attestations document: `{"attestations": [{predicateType, bundle}]}`):
 *  - the publish attestation (npm's `publish/v0.1`), a bundle signed by the registry's key (`npm:attestations`, valid
 *    at the signing time), whose Statement names the package (`pkg:npm/<name>@<version>`) and the tarball's sha512;
 *  - the SLSA provenance (v0.2 or v1), a bundle signed by a GitHub Actions workflow's Fulcio certificate, for the
 *    same subject, whose builder, source repository, ref and commit are checked against the expectations AND against
 *    the certificate's extensions (a predicate that claims another repository than its certificate fails).
 * Every failure throws an `InTotoError` saying which check failed.
 */
import { InTotoError } from '../errors.js';
import { fromBase64, toHex } from '../encoding.js';
import { verify } from '../keys/crypto/index.js';
import { publicKeyFromSpkiDer } from '../keys/keys.js';
import { parseOrdinaryJson } from '../attestation/json.js';
import { NPM_PUBLISH_V01, SLSA_PROVENANCE_V02, SLSA_PROVENANCE_V1 } from '../attestation/predicates.js';
import type { Statement } from '../attestation/statement.js';
import { bytes, formatError, readSigstoreBundle, record, text, type SigstoreBundle } from './bundle.js';
import type { SignerIdentity } from './identity.js';
import { isValidAt, type TrustedRoot, type ValidFor } from './trusted-root.js';
import { verifySigstoreBundle } from './verify-bundle.js';

/** A key of the npm registry (`registry.npmjs.org/keys.json` as Sigstore's TUF repository serves it). */
export interface NpmRegistryKey {
  readonly keyId: string;
  readonly keyUsage: string;
  /** DER SubjectPublicKeyInfo. */
  readonly publicKey: Uint8Array;
  readonly validFor: ValidFor;
}

const RFC3339 = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?(Z|[+-]\d\d:\d\d)$/;
function time(value: unknown, field: string): number {
  if (typeof value !== 'string' || !RFC3339.test(value) || Number.isNaN(Date.parse(value))) throw formatError('must be an RFC 3339 time', field);
  return Date.parse(value);
}

/** Reads the registry's keys (`{"keys": [{keyId, keyUsage, publicKey: {rawBytes, keyDetails, validFor}}]}`). */
export function readNpmRegistryKeys(json: Uint8Array | string): NpmRegistryKey[] {
  const doc = record(parseOrdinaryJson(json), 'keys', ['keys']);
  if (!Array.isArray(doc.keys)) throw formatError('must be a list', 'keys');
  return doc.keys.map((k, i) => {
    const at = `keys[${i}]`;
    const key = record(k, at, ['keyId', 'keyUsage', 'publicKey']);
    const pk = record(key.publicKey, `${at}.publicKey`, ['rawBytes', 'keyDetails', 'validFor']);
    const window = record(pk.validFor, `${at}.publicKey.validFor`, ['start', 'end']);
    if (window.start === undefined) throw formatError('has no start (refused, not guessed)', `${at}.publicKey.validFor.start`);
    return {
      keyId: text(key.keyId, `${at}.keyId`)!,
      keyUsage: text(key.keyUsage, `${at}.keyUsage`)!,
      publicKey: bytes(pk.rawBytes, `${at}.publicKey.rawBytes`)!,
      validFor: { start: time(window.start, `${at}.publicKey.validFor.start`), ...(window.end !== undefined ? { end: time(window.end, `${at}.publicKey.validFor.end`) } : {}) },
    };
  });
}

export interface NpmAttestations {
  readonly publish: SigstoreBundle;
  readonly provenance: SigstoreBundle;
}

/** Reads the registry's attestations document: exactly one publish attestation and one SLSA provenance. */
export function readNpmAttestations(json: Uint8Array | string): NpmAttestations {
  const doc = record(parseOrdinaryJson(json), 'attestations document', ['attestations']);
  if (!Array.isArray(doc.attestations)) throw formatError('must be a list', 'attestations');
  const found: Partial<Record<'publish' | 'provenance', SigstoreBundle>> = {};
  doc.attestations.forEach((entry, i) => {
    const at = `attestations[${i}]`;
    const a = record(entry, at, ['predicateType', 'bundle']);
    const predicateType = text(a.predicateType, `${at}.predicateType`)!;
    const kind = predicateType === NPM_PUBLISH_V01 ? 'publish' : predicateType === SLSA_PROVENANCE_V1 || predicateType === SLSA_PROVENANCE_V02 ? 'provenance' : undefined;
    if (!kind) throw formatError(`is ${predicateType}, neither npm's publish attestation nor SLSA provenance`, `${at}.predicateType`);
    if (found[kind]) throw formatError(`a second ${kind} attestation`, at);
    if (typeof a.bundle !== 'object' || a.bundle === null || Array.isArray(a.bundle)) throw formatError('must be a Sigstore bundle (an object)', `${at}.bundle`);
    let bundle: SigstoreBundle;
    try {
      bundle = readSigstoreBundle(JSON.stringify(a.bundle));
    } catch (error) {
      if (!(error instanceof InTotoError)) throw error;
      throw new InTotoError(error.code, `${at}.bundle: ${error.message}`, { field: `${at}.bundle` }, { cause: error });
    }
    if (bundle.content.kind !== 'dsse') throw formatError('must hold a DSSE envelope (an in-toto Statement)', `${at}.bundle`);
    // The document's label must be what the signed Statement says (checked again once verified).
    const statementType = get(parseOrdinaryJson(bundle.content.payload), 'predicateType');
    if (statementType !== predicateType) throw formatError(`says ${predicateType}, its Statement ${String(statementType)}`, `${at}.predicateType`);
    found[kind] = bundle;
  });
  if (!found.publish) throw formatError('has no npm publish attestation', 'attestations');
  if (!found.provenance) throw formatError('has no SLSA provenance', 'attestations');
  return { publish: found.publish, provenance: found.provenance };
}

/** What a package must be (slsa-verifier's flags). */
export interface NpmExpectations {
  /** `github.com/OWNER/REPO`. */
  /** `github.com/OWNER/REPO`, or `github.com/OWNER/*` for any repository of the owner (absent: any repository). */
  readonly sourceUri?: string;
  readonly builderId?: string;
  readonly packageName?: string;
  readonly packageVersion?: string;
  /** `vX.Y.Z`: the ref must be exactly `refs/tags/<tag>`. */
  readonly sourceTag?: string;
  /** `vX`, `vX.Y`: a tag of that major (and minor) version. */
  readonly sourceVersionedTag?: string;
  readonly sourceBranch?: string;
}

export interface NpmVerified {
  readonly name: string;
  readonly version: string;
  readonly builderId: string;
  readonly sourceRepository: string;
  readonly sourceRef: string;
  readonly sourceCommit?: string;
  readonly signer: SignerIdentity;
  readonly provenance: Statement;
  readonly publish: Statement;
}

/** GitHub-hosted runners as npm's provenance names them (v1, v0.2): slsa-verifier's default builders for npm. */
const NPM_BUILDERS = ['https://github.com/actions/runner/github-hosted', 'https://github.com/actions/runner'];
const GITHUB_ISSUER = 'https://token.actions.githubusercontent.com';
/** The SLSA GitHub generator's reusable workflows (trusted builders of slsa-verifier). */
const SLSA_GENERATOR = 'https://github.com/slsa-framework/slsa-github-generator/.github/workflows/';
/** The one generator workflow that signs npm provenance for the generator's builders (as slsa-verifier pins it). */
const SLSA_DELEGATOR = `${SLSA_GENERATOR}delegator_lowperms-generic_slsa3.yml`;
/**
 * Builders a provenance signed by the source repository's own workflow may name: the runner it ran on (and npm's CLI,
 * as its first provenance named itself). Any other builder would be the repository's own claim: code in its workflows
 * could make it, so it cannot stand for a builder the repository does not control.
 */
const REPOSITORY_BUILDERS = [...NPM_BUILDERS, 'https://github.com/npm/cli'];
const escapeRe = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

const check = (ok: boolean, message: string) => {
  if (!ok) throw new InTotoError('SIGNATURE', message);
};
const get = (value: unknown, ...path: string[]): unknown => path.reduce<unknown>((v, k) => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>)[k] : undefined), value);

/** `pkg:npm/<name>@<version>` (a scope's `@` written `%40`, as npm writes it in some versions). */
function purlOf(name: string, version: string): string[] {
  return [`pkg:npm/${name}@${version}`, `pkg:npm/${name.replace(/^@/, '%40')}@${version}`];
}

/**
 * A `v`-prefixed semantic version, as far as it goes (`v1`, `v1.2`, `v1.2.3`, `v1.2.3-rc.1`): its numbers (no leading
 * zeros) and, after a patch, its pre-release (compared too, as slsa-verifier does; build metadata ignored).
 */
function versionParts(tag: string): (number | string)[] | undefined {
  const m = /^v(0|[1-9]\d*)(?:\.(0|[1-9]\d*)(?:\.(0|[1-9]\d*)(-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?)?)?$/.exec(tag);
  if (!m) return undefined;
  const parts: (number | string)[] = [m[1], m[2], m[3]].filter((p) => p !== undefined).map(Number);
  if (m[3] !== undefined) parts.push(m[4] ?? '');
  return parts;
}

/**
 * Whether `ref` is a tag of the version `expected` (`v1`: any v1.x.y; `v1.2`: any v1.2.y; `v1.2.3`: exactly it,
 * pre-release included, build metadata ignored), both `v`-prefixed semantic versions.
 */
export function isVersionedTag(ref: string, expected: string): boolean {
  const want = versionParts(expected);
  const got = ref.startsWith('refs/tags/') ? versionParts(ref.slice('refs/tags/'.length)) : undefined;
  return want !== undefined && got !== undefined && want.every((p, i) => got[i] === p);
}

/**
 * Verifies a package version's attestations for its tarball (its bytes, or its sha512 when only the lockfile's
 * integrity is at hand), against the trusted root and the registry's keys. See the module comment.
 */
export async function verifyNpmPackage(
  attestations: NpmAttestations,
  tarball: { readonly bytes: Uint8Array } | { readonly sha512: Uint8Array },
  trust: { readonly root: TrustedRoot; readonly registryKeys: readonly NpmRegistryKey[] },
  expect: NpmExpectations,
): Promise<NpmVerified> {
  const artifact = 'bytes' in tarball ? { bytes: tarball.bytes } : { digests: { sha512: toHex(tarball.sha512) } };
  if (expect.sourceUri !== undefined && !/^github\.com\/[A-Za-z0-9_.-]+\/(\*|[A-Za-z0-9_.-]+)$/.test(expect.sourceUri)) {
    throw new InTotoError('FORMAT', `the source URI must be github.com/OWNER/REPO (or github.com/OWNER/*), not ${expect.sourceUri}`, { field: 'sourceUri' });
  }

  // The publish attestation: the registry's key, valid when it signed.
  const { publish, provenance } = attestations;
  if (publish.material.kind !== 'publicKey') throw new InTotoError('SIGNATURE', 'the publish attestation is not signed by a registry key');
  const hint = publish.material.hint;
  const keys = trust.registryKeys.filter((k) => k.keyId === hint && k.keyUsage === 'npm:attestations');
  if (keys.length === 0) throw new InTotoError('KEY', `the publish attestation is signed by ${hint || 'an unnamed key'}, which is not an npm registry key for attestations`);
  let published: Statement | undefined;
  const problems: string[] = [];
  for (const key of keys) {
    try {
      published = (await verifySigstoreBundle(publish, trust.root, artifact, { key: publicKeyFromSpkiDer(key.publicKey), validFor: key.validFor })).statement;
      break;
    } catch (error) {
      if (!(error instanceof InTotoError)) throw error;
      problems.push(error.message);
    }
  }
  if (!published) throw new InTotoError('SIGNATURE', `the publish attestation does not verify: ${problems.join('; ')}`);
  check(published.predicateType === NPM_PUBLISH_V01, `the publish attestation's Statement is a ${published.predicateType}`);
  const name = get(published.predicate, 'name');
  const version = get(published.predicate, 'version');
  check(typeof name === 'string' && typeof version === 'string', 'the publish attestation names no package name and version');
  const purls = purlOf(name as string, version as string);
  const tarballDigest = 'bytes' in tarball ? undefined : toHex(tarball.sha512);
  const subjectOk = (s: Statement) => s.subject.length === 1 && purls.includes(s.subject[0]!.name ?? '') && (tarballDigest === undefined || s.subject[0]!.digest?.sha512 === tarballDigest);
  check(subjectOk(published), `the publish attestation's subject is not ${purls[0]} with the tarball's sha512`);
  check(expect.packageName === undefined || expect.packageName === name, `the package is ${String(name)}, not ${expect.packageName}`);
  check(expect.packageVersion === undefined || expect.packageVersion === version, `the package version is ${String(version)}, not ${expect.packageVersion}`);

  // The provenance: signed by a GitHub Actions workflow of the source repository (npm's own provenance), or by the
  // SLSA generator's reusable workflows at a release tag when the expected builder is one of them.
  const repoPattern =
    expect.sourceUri === undefined ? 'https://github\\.com/[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+'
    : expect.sourceUri.endsWith('/*') ? `${escapeRe(`https://${expect.sourceUri.slice(0, -1)}`)}[A-Za-z0-9_.-]+`
    : escapeRe(`https://${expect.sourceUri}`);
  const wanted = expect.sourceUri === undefined ? 'any GitHub repository' : `https://${expect.sourceUri}`;
  const generator = expect.builderId?.startsWith(SLSA_GENERATOR) ?? false;
  // A generator builder is vouched for only by the generator's delegator at a release tag; any other builder only by
  // the repository's own workflow (and then it must be one of REPOSITORY_BUILDERS).
  const san = generator ? `${escapeRe(SLSA_DELEGATOR)}@refs/tags/v\\d+\\.\\d+\\.\\d+` : `${repoPattern}/.+`;
  const verified = await verifySigstoreBundle(provenance, trust.root, artifact, { identity: { sanPattern: new RegExp(san), issuer: GITHUB_ISSUER } }).catch((error: unknown) => {
    if (error instanceof InTotoError) throw new InTotoError(error.code, `the provenance does not verify: ${error.message}`, { ...error }, { cause: error });
    throw error;
  });
  if (verified.signer.kind !== 'certificate' || !verified.statement) throw new InTotoError('SIGNATURE', 'the provenance is not signed by a workflow certificate');
  const statement = verified.statement;
  const identity = verified.signer.identity;
  check(subjectOk(statement), `the provenance's subject is not ${purls[0]} with the tarball's sha512`);
  // The source, from the certificate's extensions (the deprecated GitHub ones in certificates older than the
  // .12-.14 ones; both must agree when both are there).
  const ext = identity.extensions;
  const either = (what: string, current: string | undefined, deprecated: string | undefined) => {
    check(current === undefined || deprecated === undefined || current === deprecated, `the certificate's ${what} extensions disagree: ${current} and ${deprecated}`);
    return current ?? deprecated;
  };
  const certRepository = either('source repository', ext.sourceRepositoryURI, ext.githubWorkflowRepository === undefined ? undefined : `https://github.com/${ext.githubWorkflowRepository}`);
  check(certRepository !== undefined && new RegExp(`^${repoPattern}$`).test(certRepository), `the certificate's source repository is ${certRepository ?? 'absent'}, not ${wanted}`);
  const repository = certRepository!;
  // npm's own provenance is signed by a workflow of the source repository itself (the generator signs as itself).
  const signerUri = identity.uris[0] ?? '';
  check(generator ? signerUri.startsWith(`${SLSA_DELEGATOR}@`) : signerUri.startsWith(`${repository}/`), `the provenance is signed by ${signerUri}, ${generator ? "not the SLSA generator's delegator" : `a workflow outside its source repository ${repository}`}`);
  const ref = either('source ref', ext.sourceRepositoryRef, ext.githubWorkflowRef);
  check(ref !== undefined, 'the certificate names no source ref');
  const commit = either('source commit', ext.sourceRepositoryDigest, ext.githubWorkflowSha);

  // The predicate must say what the certificate says.
  let builderId: string;
  if (statement.predicateType === SLSA_PROVENANCE_V1) {
    const workflow = get(statement.predicate, 'buildDefinition', 'externalParameters', 'workflow');
    check(get(workflow, 'repository') === repository, `the provenance's workflow repository is ${String(get(workflow, 'repository'))}, its certificate's ${repository}`);
    check(get(workflow, 'ref') === ref, `the provenance's workflow ref is ${String(get(workflow, 'ref'))}, its certificate's ${ref}`);
    const deps = get(statement.predicate, 'buildDefinition', 'resolvedDependencies');
    const source = Array.isArray(deps) ? deps.find((d) => typeof get(d, 'uri') === 'string' && (get(d, 'uri') as string).startsWith(`git+${repository}@`)) : undefined;
    check(source !== undefined && get(source, 'uri') === `git+${repository}@${ref}`, `the provenance's source dependency is not git+${repository}@${ref}`);
    check(commit === undefined || get(source, 'digest', 'gitCommit') === commit, `the provenance's source commit is ${String(get(source, 'digest', 'gitCommit'))}, its certificate's ${commit}`);
    builderId = String(get(statement.predicate, 'runDetails', 'builder', 'id'));
  } else if (statement.predicateType === SLSA_PROVENANCE_V02) {
    const config = get(statement.predicate, 'invocation', 'configSource');
    check(get(config, 'uri') === `git+${repository}@${ref}`, `the provenance's config source is ${String(get(config, 'uri'))}, its certificate's git+${repository}@${ref}`);
    check(commit === undefined || get(config, 'digest', 'sha1') === commit, `the provenance's source commit is ${String(get(config, 'digest', 'sha1'))}, its certificate's ${commit}`);
    builderId = String(get(statement.predicate, 'builder', 'id'));
  } else {
    throw new InTotoError('SIGNATURE', `the provenance's Statement is a ${statement.predicateType}, not SLSA provenance`);
  }
  if (expect.builderId !== undefined) {
    check(builderId === expect.builderId || builderId.split('@')[0] === expect.builderId, `the builder is ${builderId}, not ${expect.builderId}`);
    if (generator) {
      // Signed by the generator itself: the builder must be of the very release that signed.
      check(builderId.split('@')[1] === signerUri.split('@')[1], `the builder ${builderId} is not of the generator release that signed (${signerUri})`);
    } else {
      check(REPOSITORY_BUILDERS.includes(builderId.split('@')[0]!), `the provenance names the builder ${builderId}, but it is signed by the repository's own workflow (${signerUri}), which can claim any builder: only ${REPOSITORY_BUILDERS.join(', ')} are taken from it`);
    }
  } else {
    check(NPM_BUILDERS.includes(builderId), `the builder is ${builderId}, not a GitHub-hosted runner (${NPM_BUILDERS.join(', ')}): name it with --builder-id to accept it`);
  }

  // The source ref.
  if (expect.sourceBranch !== undefined) check(ref === `refs/heads/${expect.sourceBranch}`, `the source ref is ${ref}, not the branch ${expect.sourceBranch}`);
  if (expect.sourceTag !== undefined) check(ref === `refs/tags/${expect.sourceTag}`, `the source ref is ${ref}, not the tag ${expect.sourceTag}`);
  if (expect.sourceVersionedTag !== undefined) {
    check(isVersionedTag(ref!, expect.sourceVersionedTag), `the source ref is ${ref}, not a tag of version ${expect.sourceVersionedTag}`);
  }
  return {
    name: name as string,
    version: version as string,
    builderId,
    sourceRepository: repository,
    sourceRef: ref!,
    ...(commit ? { sourceCommit: commit } : {}),
    signer: identity,
    provenance: statement,
    publish: published,
  };
}

/** Whether `key` could have signed at `time` (for callers listing keys). */
export const registryKeyValidAt = (key: NpmRegistryKey, time: number): boolean => isValidAt(key.validFor, time);

/** A version's `dist` as the registry serves it (the fields verification reads). */
export interface NpmDist {
  /** Where the tarball is (an audit does not download it, so a registry may leave it out there). */
  readonly tarball?: string;
  readonly integrity: string;
  readonly signatures?: readonly { readonly keyid: string; readonly sig: string }[];
  readonly attestations?: { readonly url: string };
}

/**
 * A version's `dist` from a registry's JSON (a packument's `versions[v].dist`), checked for the fields verification
 * reads: `FORMAT` naming the field when one is malformed, never a crash on what a registry serves.
 */
export function readNpmDist(value: unknown, at: string): NpmDist {
  const d = value as Record<string, unknown> | null;
  if (typeof d !== 'object' || d === null || Array.isArray(d)) throw formatError('must be an object', at);
  if (d.tarball !== undefined && typeof d.tarball !== 'string') throw formatError('must be a string', `${at}.tarball`);
  if (typeof d.integrity !== 'string') throw formatError('must be a string', `${at}.integrity`);
  let signatures: { keyid: string; sig: string }[] | undefined;
  if (d.signatures !== undefined) {
    if (!Array.isArray(d.signatures)) throw formatError('must be a list', `${at}.signatures`);
    signatures = d.signatures.map((e, i) => {
      const entry = e as Record<string, unknown> | null;
      if (typeof entry !== 'object' || entry === null || typeof entry.keyid !== 'string' || typeof entry.sig !== 'string') throw formatError('must be {keyid, sig} strings', `${at}.signatures[${i}]`);
      return { keyid: entry.keyid, sig: entry.sig };
    });
  }
  let attestations: { url: string } | undefined;
  if (d.attestations !== undefined) {
    const a = d.attestations as Record<string, unknown> | null;
    if (typeof a !== 'object' || a === null || typeof a.url !== 'string') throw formatError('must be {url}', `${at}.attestations`);
    attestations = { url: a.url };
  }
  return { ...(d.tarball !== undefined ? { tarball: d.tarball as string } : {}), integrity: d.integrity, ...(signatures ? { signatures } : {}), ...(attestations ? { attestations } : {}) };
}

/**
 * The registry's signature over `<name>@<version>:<integrity>` (ECDSA P-256, DER, base64), by one of its
 * `npm:signatures` keys valid at `time` (the version's publish time). Throws `SIGNATURE`/`KEY` saying why not.
 */
export async function verifyRegistrySignature(name: string, version: string, dist: NpmDist, keys: readonly NpmRegistryKey[], time: number): Promise<string> {
  const signatures = dist.signatures ?? [];
  if (signatures.length === 0) throw new InTotoError('SIGNATURE', `${name}@${version} carries no registry signature (dist.signatures)`);
  const message = new TextEncoder().encode(`${name}@${version}:${dist.integrity}`);
  const problems: string[] = [];
  for (const { keyid, sig } of signatures) {
    const key = keys.find((k) => k.keyId === keyid && k.keyUsage === 'npm:signatures');
    if (!key) {
      problems.push(`signed by ${keyid}, not a registry key for signatures`);
      continue;
    }
    if (!isValidAt(key.validFor, time)) {
      problems.push(`the key ${keyid} was not valid at ${new Date(time).toISOString()}, when the version was published`);
      continue;
    }
    const bytes = fromBase64(sig);
    if (bytes && (await verify(publicKeyFromSpkiDer(key.publicKey), message, bytes))) return keyid;
    problems.push(`the signature by ${keyid} does not verify over ${name}@${version}:${dist.integrity}`);
  }
  throw new InTotoError('SIGNATURE', `the registry's signature of ${name}@${version} does not hold: ${problems.join('; ')}`);
}
