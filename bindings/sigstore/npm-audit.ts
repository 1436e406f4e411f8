/**
 * `in-toto-npm audit`: every package a lockfile installs, checked against the registry and a policy, by the
 * integrity the lockfile records (no tarball is downloaded):
 *  - the lockfile's integrity is the registry's; the registry's signature over `NAME@VERSION:INTEGRITY` verifies
 *    (with an `npm:signatures` key valid at the publish time) when the version has one;
 *  - the version's attestations, when it has them, verify as npm provenance (`verifyNpmPackage`), against the
 *    policy rule's source and builder when one matches;
 *  - the policy: rules by package name (exact, `@scope/*`, `*`) that require provenance, a source (`github.com/OWNER/
 *    REPO` or `github.com/OWNER/*`) or a builder; and `noProvenanceDowngrade`: a version without provenance fails when
 *    an earlier version of the package had provenance that verifies (proved by verifying it, not by trusting the
 *    registry's metadata).
 * Fetching is the caller's (`fetch` returns the bytes, or undefined for a 404), so this runs in any runtime.
 */
import { InTotoError } from '../errors.js';
import { fromBase64 } from '../encoding.js';
import { parseOrdinaryJson } from '../attestation/json.js';
import { formatError, record } from './bundle.js';
import { readNpmAttestations, readNpmDist, verifyNpmPackage, verifyRegistrySignature, type NpmDist, type NpmExpectations, type NpmRegistryKey } from './npm.js';
import type { TrustedRoot } from './trusted-root.js';

export interface LockedPackage {
  /** The package's real name (an alias's target: `npm:real@1` installed as `alias`). */
  readonly name: string;
  readonly version: string;
  /** Where it is installed (`node_modules/...`): the name it is used by. */
  readonly path: string;
  readonly integrity?: string;
  /** Not a registry package (git, a file, a link), or an entry this reader cannot read: why. */
  readonly notFromRegistry?: string;
}

/**
 * Every package entry of a package-lock.json (lockfile version 2 or 3), one per installed copy: registry packages
 * with their name, version and integrity; the others (git, files, links, malformed entries) with why they are not
 * registry packages, so that an audit reports them rather than passes over them.
 */
export function readLockfile(json: Uint8Array | string): LockedPackage[] {
  const doc = parseOrdinaryJson(json) as { lockfileVersion?: unknown; packages?: unknown };
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw formatError('must be a JSON object', 'lockfile');
  if (doc.lockfileVersion !== 2 && doc.lockfileVersion !== 3) {
    throw formatError(`lockfileVersion ${String(doc.lockfileVersion)} is not read (2 and 3 are: npm 7 and later write them)`, 'lockfileVersion');
  }
  if (typeof doc.packages !== 'object' || doc.packages === null || Array.isArray(doc.packages)) throw formatError('must be an object', 'packages');
  const out: LockedPackage[] = [];
  for (const [path, value] of Object.entries(doc.packages as Record<string, unknown>)) {
    if (path === '') continue;
    const installedAs = path.slice(path.lastIndexOf('node_modules/') + 'node_modules/'.length);
    const entry = value as { version?: unknown; integrity?: unknown; resolved?: unknown; link?: unknown; name?: unknown } | null;
    if (typeof entry !== 'object' || entry === null) {
      out.push({ name: installedAs, version: '?', path, notFromRegistry: 'a lockfile entry that is not an object' });
      continue;
    }
    const name = typeof entry.name === 'string' ? entry.name : installedAs;
    const version = typeof entry.version === 'string' ? entry.version : '?';
    const resolved = typeof entry.resolved === 'string' ? entry.resolved : undefined;
    let why: string | undefined;
    if (entry.link === true) why = `a link to ${resolved ?? 'a local folder'}`;
    else if (typeof entry.version !== 'string') why = 'an entry without a version';
    else if (resolved !== undefined && !/^https?:\/\//i.test(resolved)) why = `resolved from ${resolved}`;
    out.push({ name, version, path, ...(typeof entry.integrity === 'string' ? { integrity: entry.integrity } : {}), ...(why ? { notFromRegistry: why } : {}) });
  }
  return out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/** A registry's packument, as far as an audit reads it: `versions` and `time`. `FORMAT` when it is not JSON. */
export function readPackument(bytes: Uint8Array, name: string): Packument {
  let doc: unknown;
  try {
    doc = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch (error) {
    throw new InTotoError('FORMAT', `the registry's record of ${name} is not JSON: ${(error as Error).message}`);
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw new InTotoError('FORMAT', `the registry's record of ${name} is not an object`);
  const p = doc as { versions?: unknown; time?: unknown };
  const versions = typeof p.versions === 'object' && p.versions !== null && !Array.isArray(p.versions) ? (p.versions as Record<string, { dist?: unknown } | null>) : {};
  const time = typeof p.time === 'object' && p.time !== null && !Array.isArray(p.time) ? (p.time as Record<string, unknown>) : {};
  return { versions, time };
}

export interface AuditRule {
  /** A package name, `@scope/*`, or `*`. */
  readonly packages: string;
  readonly requireProvenance?: boolean;
  readonly sourceUri?: string;
  readonly builderId?: string;
}

export interface AuditPolicy {
  readonly rules: readonly AuditRule[];
  readonly noProvenanceDowngrade?: boolean;
}

/** Reads a policy file: `{"rules": [{packages, requireProvenance?, sourceUri?, builderId?}], "noProvenanceDowngrade"?}`. */
export function readAuditPolicy(json: Uint8Array | string): AuditPolicy {
  const doc = record(parseOrdinaryJson(json), 'policy', ['rules', 'noProvenanceDowngrade']);
  if (doc.noProvenanceDowngrade !== undefined && typeof doc.noProvenanceDowngrade !== 'boolean') throw formatError('must be true or false', 'noProvenanceDowngrade');
  if (doc.rules !== undefined && !Array.isArray(doc.rules)) throw formatError('must be a list', 'rules');
  const rules = ((doc.rules as unknown[] | undefined) ?? []).map((r, i) => {
    const at = `rules[${i}]`;
    const rule = record(r, at, ['packages', 'requireProvenance', 'sourceUri', 'builderId']);
    if (typeof rule.packages !== 'string' || !/^(\*|@[^/\s]+\/\*|(@[^/\s]+\/)?[^/\s@*]+)$/.test(rule.packages)) throw formatError('must be a package name, @scope/* or *', `${at}.packages`);
    if (rule.requireProvenance !== undefined && typeof rule.requireProvenance !== 'boolean') throw formatError('must be true or false', `${at}.requireProvenance`);
    for (const k of ['sourceUri', 'builderId'] as const) if (rule[k] !== undefined && (typeof rule[k] !== 'string' || rule[k] === '')) throw formatError('must be a non-empty string', `${at}.${k}`);
    if (rule.sourceUri !== undefined && !/^github\.com\/[A-Za-z0-9_.-]+\/(\*|[A-Za-z0-9_.-]+)$/.test(rule.sourceUri as string)) throw formatError('must be github.com/OWNER/REPO or github.com/OWNER/*', `${at}.sourceUri`);
    return rule as unknown as AuditRule;
  });
  return { rules, ...(doc.noProvenanceDowngrade !== undefined ? { noProvenanceDowngrade: doc.noProvenanceDowngrade as boolean } : {}) };
}

const matches = (rule: AuditRule, name: string) => rule.packages === '*' || rule.packages === name || (rule.packages.endsWith('/*') && name.startsWith(rule.packages.slice(0, -1)));

export interface AuditEntry {
  readonly name: string;
  readonly version: string;
  /** Where the lockfile installs it (`node_modules/...`). */
  readonly path: string;
  readonly registrySignature: 'verified' | 'absent' | 'failed';
  readonly provenance: 'verified' | 'absent' | 'failed';
  /** Where a verified provenance says it was built: `<repository>@<ref>`. */
  readonly source?: string;
  /** Why this package fails the audit (empty: it passes). */
  readonly problems: readonly string[];
  /** What the audit noticed without failing it (a package not from the registry, with no rule about it). */
  readonly notes: readonly string[];
}

interface Packument {
  readonly versions: Record<string, { readonly dist?: unknown } | null>;
  readonly time: Record<string, unknown>;
}

export interface AuditOptions {
  readonly registry: string;
  readonly fetch: (url: string, what: string) => Promise<Uint8Array | undefined>;
  readonly trust: { readonly root: TrustedRoot; readonly registryKeys: readonly NpmRegistryKey[] };
  readonly policy?: AuditPolicy;
}

/** Earlier versions looked at, at most, to prove a provenance downgrade (the newest first). */
const MAX_DOWNGRADE_PROOFS = 5;

const sha512Of = (integrity: string | undefined) => {
  const m = typeof integrity !== 'string' ? null : /^sha512-([A-Za-z0-9+/]{86}==)$/.exec(integrity.split(/\s+/).find((i) => i.startsWith('sha512-')) ?? '');
  return m ? fromBase64(m[1]!) : undefined;
};

const isIo = (error: InTotoError) => error.code === 'IO' || error.code === 'LIMIT';

/** Audits `packages` (see the module comment); one entry per lockfile entry, in the order given. */
export async function auditPackages(packages: readonly LockedPackage[], options: AuditOptions): Promise<AuditEntry[]> {
  const registry = options.registry.replace(/\/+$/, '');
  const signingKeys = options.trust.registryKeys.some((k) => k.keyUsage === 'npm:signatures');
  const memo = new Map<string, Promise<unknown>>();
  const once = <T>(key: string, make: () => Promise<T>): Promise<T> => {
    let p = memo.get(key) as Promise<T> | undefined;
    if (!p) memo.set(key, (p = make()));
    return p;
  };
  const packumentOf = (name: string) =>
    once(`packument:${name}`, async () => {
      const bytes = await options.fetch(`${registry}/${name.replace('/', '%2f')}`, `the package ${name}`);
      return bytes ? readPackument(bytes, name) : undefined;
    });
  type Proof = { source: string } | { error: string; io: boolean } | undefined;
  /** Verifies a version's provenance: the source it names, why it does not verify, or undefined: it has none. */
  const provenanceOf = (name: string, version: string, dist: NpmDist, expect: NpmExpectations): Promise<Proof> =>
    once(`provenance:${name}@${version}:${JSON.stringify(expect)}`, async (): Promise<Proof> => {
      if (!dist.attestations) return undefined;
      try {
        const bytes = await options.fetch(dist.attestations.url, `the attestations of ${name}@${version}`);
        if (!bytes) return { error: `its attestations are announced but not served (${dist.attestations.url})`, io: true };
        const sha512 = sha512Of(dist.integrity);
        if (!sha512) return { error: `the registry's integrity is not a sha512 (${dist.integrity})`, io: false };
        const attestations = readNpmAttestations(bytes);
        const verified = await verifyNpmPackage(attestations, { sha512 }, options.trust, { ...expect, packageName: name, packageVersion: version });
        return { source: `${verified.sourceRepository}@${verified.sourceRef}` };
      } catch (error) {
        if (!(error instanceof InTotoError)) throw error;
        return { error: error.message, io: isIo(error) };
      }
    });
  /** The builder an attestations document's provenance names (unverified: verification then holds it to its signer). */
  const claimedBuilder = async (dist: NpmDist): Promise<string | undefined> => {
    try {
      const bytes = await options.fetch(dist.attestations!.url, 'attestations');
      const doc = bytes ? (JSON.parse(new TextDecoder().decode(bytes)) as { attestations?: { predicateType?: string; bundle?: { dsseEnvelope?: { payload?: string } } }[] }) : undefined;
      const entry = doc?.attestations?.find((a) => a.predicateType?.startsWith('https://slsa.dev/provenance/'));
      const statement = entry?.bundle?.dsseEnvelope?.payload ? JSON.parse(new TextDecoder().decode(fromBase64(entry.bundle.dsseEnvelope.payload) ?? new Uint8Array())) : undefined;
      const id = statement?.predicate?.runDetails?.builder?.id ?? statement?.predicate?.builder?.id;
      return typeof id === 'string' ? id.split('@')[0] : undefined;
    } catch {
      return undefined;
    }
  };
  /** Whether an earlier version had provenance that verifies: a problem when it did (or when that cannot be told). */
  const downgradeProblem = (name: string, version: string, packument: Packument, published: number): Promise<string | undefined> =>
    once(`downgrade:${name}@${version}`, async () => {
      const earlier = Object.entries(packument.versions)
        .flatMap(([v, meta]) => {
          if (v === version || meta === null || typeof meta !== 'object') return [];
          const t = Date.parse(typeof packument.time[v] === 'string' ? (packument.time[v] as string) : '');
          try {
            const dist = readNpmDist(meta.dist, `versions["${v}"].dist`);
            return dist.attestations && !Number.isNaN(t) && t < published ? [{ v, dist, t }] : [];
          } catch {
            return [];
          }
        })
        .sort((a, b) => b.t - a.t);
      for (const { v, dist } of earlier.slice(0, MAX_DOWNGRADE_PROOFS)) {
        // Proved with the builder its provenance names: verification holds that claim to who signed it.
        const builder = await claimedBuilder(dist);
        const proof = await provenanceOf(name, v, dist, builder ? { builderId: builder } : {});
        if (proof && 'source' in proof) return `it lost the provenance ${name}@${v} had (built from ${proof.source}): a downgrade the policy forbids`;
        if (proof && proof.io) return `the downgrade check could not complete: ${name}@${v}: ${proof.error}`;
      }
      if (earlier.length > MAX_DOWNGRADE_PROOFS) return `the downgrade check is inconclusive: the ${MAX_DOWNGRADE_PROOFS} newest of ${earlier.length} earlier versions announcing provenance do not verify`;
      return undefined;
    });

  const out: AuditEntry[] = [];
  for (const pkg of packages) {
    const problems: string[] = [];
    const notes: string[] = [];
    const installedAs = pkg.path.slice(pkg.path.lastIndexOf('node_modules/') + 'node_modules/'.length);
    // A rule applies by the name the package is installed as and by its real name (an alias must not escape it).
    const rules = options.policy?.rules.filter((r) => matches(r, pkg.name) || matches(r, installedAs)) ?? [];
    const ruled = rules.find((r) => r.requireProvenance || r.sourceUri || r.builderId);
    if (installedAs !== pkg.name) notes.push(`installed as ${installedAs}`);
    let registrySignature: AuditEntry['registrySignature'] = 'absent';
    let provenance: AuditEntry['provenance'] = 'absent';
    let source: string | undefined;
    const finish = () => out.push({ name: pkg.name, version: pkg.version, path: pkg.path, registrySignature, provenance, ...(source ? { source } : {}), problems, notes });
    if (pkg.notFromRegistry !== undefined) {
      if (ruled) problems.push(`it is not from the registry (${pkg.notFromRegistry}): no provenance, which the policy requires of ${ruled.packages}`);
      else notes.push(`not from the registry: ${pkg.notFromRegistry}`);
      finish();
      continue;
    }
    if (pkg.integrity === undefined) problems.push('the lockfile records no integrity for it: whatever is downloaded would be installed');
    const expect: NpmExpectations = {
      ...(rules.find((r) => r.sourceUri)?.sourceUri ? { sourceUri: rules.find((r) => r.sourceUri)!.sourceUri! } : {}),
      ...(rules.find((r) => r.builderId)?.builderId ? { builderId: rules.find((r) => r.builderId)!.builderId! } : {}),
    };
    let packument: Packument | undefined;
    let dist: NpmDist | undefined;
    try {
      packument = await packumentOf(pkg.name);
      if (!packument) problems.push(`the registry has no package ${pkg.name}`);
      else {
        const entry = packument.versions[pkg.version];
        if (entry === undefined || entry === null || typeof entry !== 'object') problems.push(`the registry has no ${pkg.name}@${pkg.version}`);
        else dist = readNpmDist(entry.dist, `versions["${pkg.version}"].dist`);
      }
    } catch (error) {
      if (!(error instanceof InTotoError)) throw error;
      problems.push(`the registry's record of ${pkg.name}@${pkg.version} cannot be read: ${error.message}`);
    }
    if (dist && packument) {
      if (pkg.integrity !== undefined && pkg.integrity !== dist.integrity) problems.push(`the lockfile's integrity ${pkg.integrity} is not the registry's ${dist.integrity}`);
      const timeText = packument.time[pkg.version];
      const published = Date.parse(typeof timeText === 'string' ? timeText : '');
      if ((dist.signatures ?? []).length > 0) {
        try {
          if (Number.isNaN(published)) throw new InTotoError('FORMAT', 'the registry gives no publish time');
          await verifyRegistrySignature(pkg.name, pkg.version, dist, options.trust.registryKeys, published);
          registrySignature = 'verified';
        } catch (error) {
          if (!(error instanceof InTotoError)) throw error;
          registrySignature = 'failed';
          problems.push(error.message);
        }
      } else if (signingKeys) {
        problems.push("it carries no registry signature, and the registry signs with the keys given: a mirror or proxy may have stripped it");
      }
      const found = await provenanceOf(pkg.name, pkg.version, dist, expect);
      if (found && 'source' in found) {
        provenance = 'verified';
        source = found.source;
      } else if (found) {
        provenance = 'failed';
        problems.push(`its provenance does not verify: ${found.error}`);
      }
      if (provenance === 'absent') {
        if (ruled) problems.push(`it has no provenance, which the policy requires of ${ruled.packages}`);
        if (options.policy?.noProvenanceDowngrade) {
          if (Number.isNaN(published)) problems.push('the registry gives no publish time for it: the downgrade check cannot tell which versions are earlier');
          else {
            const problem = await downgradeProblem(pkg.name, pkg.version, packument, published);
            if (problem) problems.push(problem);
          }
        }
      }
    }
    finish();
  }
  return out;
}
