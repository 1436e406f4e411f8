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
import { readNpmAttestations, verifyNpmPackage, verifyRegistrySignature, type NpmDist, type NpmExpectations, type NpmRegistryKey } from './npm.js';
import type { TrustedRoot } from './trusted-root.js';

export interface LockedPackage {
  readonly name: string;
  readonly version: string;
  readonly integrity?: string;
}

/** The registry packages a package-lock.json (lockfile version 2 or 3) installs; links and local paths are skipped. */
export function readLockfile(json: Uint8Array | string): LockedPackage[] {
  const doc = parseOrdinaryJson(json) as { lockfileVersion?: unknown; packages?: Record<string, unknown> };
  if (typeof doc !== 'object' || doc === null) throw formatError('must be a JSON object', 'lockfile');
  if (doc.lockfileVersion !== 2 && doc.lockfileVersion !== 3) {
    throw formatError(`lockfileVersion ${String(doc.lockfileVersion)} is not read (2 and 3 are: npm 7 and later write them)`, 'lockfileVersion');
  }
  const out: LockedPackage[] = [];
  const seen = new Set<string>();
  for (const [path, value] of Object.entries(doc.packages ?? {})) {
    if (path === '' || typeof value !== 'object' || value === null) continue;
    const entry = value as { version?: unknown; integrity?: unknown; resolved?: unknown; link?: unknown; name?: unknown };
    if (entry.link === true || typeof entry.version !== 'string') continue;
    if (typeof entry.resolved === 'string' && !/^https?:\/\//.test(entry.resolved)) continue;
    const name = typeof entry.name === 'string' ? entry.name : path.slice(path.lastIndexOf('node_modules/') + 'node_modules/'.length);
    const key = `${name}@${entry.version}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push({ name, version: entry.version, ...(typeof entry.integrity === 'string' ? { integrity: entry.integrity } : {}) });
  }
  return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
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
    for (const k of ['sourceUri', 'builderId'] as const) if (rule[k] !== undefined && typeof rule[k] !== 'string') throw formatError('must be a string', `${at}.${k}`);
    return rule as unknown as AuditRule;
  });
  return { rules, ...(doc.noProvenanceDowngrade !== undefined ? { noProvenanceDowngrade: doc.noProvenanceDowngrade as boolean } : {}) };
}

const matches = (rule: AuditRule, name: string) => rule.packages === '*' || rule.packages === name || (rule.packages.endsWith('/*') && name.startsWith(rule.packages.slice(0, -1)));

export interface AuditEntry {
  readonly name: string;
  readonly version: string;
  readonly registrySignature: 'verified' | 'absent' | 'failed';
  readonly provenance: 'verified' | 'absent' | 'failed';
  /** Where a verified provenance says it was built: `<repository>@<ref>`. */
  readonly source?: string;
  /** Why this package fails the audit (empty: it passes). */
  readonly problems: readonly string[];
}

interface Packument {
  readonly versions?: Record<string, { readonly dist?: NpmDist }>;
  readonly time?: Record<string, string>;
}

export interface AuditOptions {
  readonly registry: string;
  readonly fetch: (url: string, what: string) => Promise<Uint8Array | undefined>;
  readonly trust: { readonly root: TrustedRoot; readonly registryKeys: readonly NpmRegistryKey[] };
  readonly policy?: AuditPolicy;
}

const sha512Of = (integrity: string | undefined) => {
  const m = integrity === undefined ? null : /^sha512-([A-Za-z0-9+/]{86}==)$/.exec(integrity.split(/\s+/).find((i) => i.startsWith('sha512-')) ?? '');
  return m ? fromBase64(m[1]!) : undefined;
};

/** Audits `packages` (see the module comment); one entry per package, in the order given. */
export async function auditPackages(packages: readonly LockedPackage[], options: AuditOptions): Promise<AuditEntry[]> {
  const registry = options.registry.replace(/\/+$/, '');
  const packuments = new Map<string, Promise<Packument | undefined>>();
  const packumentOf = (name: string) => {
    let p = packuments.get(name);
    if (!p) {
      p = options.fetch(`${registry}/${name.replace('/', '%2f')}`, `the package ${name}`).then((bytes) => (bytes ? (JSON.parse(new TextDecoder().decode(bytes)) as Packument) : undefined));
      packuments.set(name, p);
    }
    return p;
  };
  /** Verifies a version's provenance: the source it names, or why it does not verify (undefined: it has none). */
  const provenanceOf = async (name: string, version: string, dist: NpmDist, expect: NpmExpectations): Promise<{ source: string } | { error: string } | undefined> => {
    const url = dist.attestations?.url ?? (dist.attestations ? `${registry}/-/npm/v1/attestations/${name}@${version}` : undefined);
    if (!url) return undefined;
    try {
      const bytes = await options.fetch(url, `the attestations of ${name}@${version}`);
      if (!bytes) return { error: `its attestations are announced but not served (${url})` };
      const sha512 = sha512Of(dist.integrity);
      if (!sha512) return { error: `the registry's integrity is not a sha512 (${dist.integrity})` };
      const verified = await verifyNpmPackage(readNpmAttestations(bytes), { sha512 }, options.trust, { ...expect, packageName: name, packageVersion: version });
      return { source: `${verified.sourceRepository}@${verified.sourceRef}` };
    } catch (error) {
      if (!(error instanceof InTotoError)) throw error;
      return { error: error.message };
    }
  };

  const out: AuditEntry[] = [];
  for (const pkg of packages) {
    const problems: string[] = [];
    const rules = options.policy?.rules.filter((r) => matches(r, pkg.name)) ?? [];
    const expect: NpmExpectations = {
      ...(rules.find((r) => r.sourceUri)?.sourceUri ? { sourceUri: rules.find((r) => r.sourceUri)!.sourceUri! } : {}),
      ...(rules.find((r) => r.builderId)?.builderId ? { builderId: rules.find((r) => r.builderId)!.builderId! } : {}),
    };
    let registrySignature: AuditEntry['registrySignature'] = 'absent';
    let provenance: AuditEntry['provenance'] = 'absent';
    let source: string | undefined;
    const packument = await packumentOf(pkg.name).catch((error: unknown) => {
      if (error instanceof InTotoError || error instanceof SyntaxError) {
        problems.push(`the registry's record of ${pkg.name} cannot be read: ${(error as Error).message}`);
        return undefined;
      }
      throw error;
    });
    const dist = packument?.versions?.[pkg.version]?.dist;
    if (packument && !dist) problems.push(`the registry has no ${pkg.name}@${pkg.version}`);
    if (!packument && problems.length === 0) problems.push(`the registry has no package ${pkg.name}`);
    if (dist) {
      if (pkg.integrity !== undefined && pkg.integrity !== dist.integrity) problems.push(`the lockfile's integrity ${pkg.integrity} is not the registry's ${dist.integrity}`);
      const published = Date.parse(packument?.time?.[pkg.version] ?? '');
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
        const why = rules.find((r) => r.requireProvenance || r.sourceUri || r.builderId);
        if (why) problems.push(`it has no provenance, which the policy requires of ${why.packages}`);
        if (options.policy?.noProvenanceDowngrade && packument?.versions && !Number.isNaN(published)) {
          // The newest earlier version whose provenance verifies proves the downgrade.
          const earlier = Object.entries(packument.versions)
            .filter(([v, meta]) => v !== pkg.version && meta.dist?.attestations && Date.parse(packument.time?.[v] ?? '') < published)
            .sort(([a], [b]) => Date.parse(packument.time![b]!) - Date.parse(packument.time![a]!));
          for (const [v, meta] of earlier) {
            const proof = await provenanceOf(pkg.name, v, meta.dist!, {});
            if (proof && 'source' in proof) {
              problems.push(`it lost the provenance ${pkg.name}@${v} had (built from ${proof.source}): a downgrade the policy forbids`);
              break;
            }
          }
        }
      }
    }
    out.push({ name: pkg.name, version: pkg.version, registrySignature, provenance, ...(source ? { source } : {}), problems });
  }
  return out;
}
