#!/usr/bin/env node
/**
 * in-toto-npm verify-npm-package: npm provenance checked offline with slsa-verifier's flags (so a pipeline can
 * switch), exit 0 verified, 1 not (which check failed, in plain words), 2 wrong arguments:
 *
 *   in-toto-npm verify-npm-package TARBALL --attestations-path FILE --source-uri github.com/OWNER/REPO [--builder-id ID]
 *     [--package-name NAME] [--package-version VERSION] [--source-tag TAG] [--source-versioned-tag TAG]
 *     [--source-branch BRANCH] [--print-provenance] [--trusted-root FILE] [--registry-keys FILE]
 *
 * TARBALL is the package tarball, or its integrity `sha512-<base64>` (as a lockfile holds it). The trusted root and
 * the npm registry's keys default to the ones shipped in data/sigstore/ (from @sigstore/tuf).
 *
 *   in-toto-npm verify NAME@VERSION --source-uri github.com/OWNER/REPO [the same flags] [--registry URL]
 *
 * fetches the version's tarball, the registry's signature over `NAME@VERSION:INTEGRITY` (checked with the registry's
 * `npm:signatures` key valid when it was published) and its attestations, then checks them as above.
 */
import { fromBase64, toBase64 } from '../encoding.js';
import { initEngine } from '../engine.js';
import { InTotoError } from '../errors.js';
import { readNpmAttestations, readNpmDist, readNpmRegistryKeys, verifyNpmPackage, verifyRegistrySignature, type NpmExpectations, type NpmVerified } from '../sigstore/npm.js';
import { auditPackages, readAuditPolicy, readLockfile, readPackument, type AuditEntry } from '../sigstore/npm-audit.js';
import { readTrustedRoot } from '../sigstore/trusted-root.js';
import { UsageError, type OptionSpec } from './args.js';
import { Log, packageDataFile, parseCommandLine, readInputFile, runTool, single } from './common.js';
import { exitCodeOf } from './exit-code.js';

const OPTIONS: readonly OptionSpec[] = [
  { name: 'attestations-path', kind: 'one', metavar: 'FILE', help: "the package version's attestations, as the npm registry serves them ({\"attestations\": [...]})" },
  { name: 'source-uri', kind: 'one', metavar: 'github.com/OWNER/REPO', help: 'the repository the package must be built from' },
  { name: 'builder-id', kind: 'one', metavar: 'ID', help: 'the builder the provenance must name (default: a GitHub-hosted runner, as npm publishes)' },
  { name: 'package-name', kind: 'one', metavar: 'NAME', help: 'the package name the attestations must name' },
  { name: 'package-version', kind: 'one', metavar: 'VERSION', help: 'the version they must name' },
  { name: 'source-tag', kind: 'one', metavar: 'TAG', help: 'the tag it must be built from (refs/tags/TAG)' },
  { name: 'source-versioned-tag', kind: 'one', metavar: 'TAG', help: 'a tag of this major (and minor) version, e.g. v1 or v1.2' },
  { name: 'source-branch', kind: 'one', metavar: 'BRANCH', help: 'the branch it must be built from (refs/heads/BRANCH)' },
  { name: 'print-provenance', kind: 'flag', help: 'print the verified provenance Statement (JSON) on stdout' },
  { name: 'trusted-root', kind: 'one', metavar: 'FILE', help: 'the Sigstore trusted root (default: the shipped production root)' },
  { name: 'registry-keys', kind: 'one', metavar: 'FILE', help: "the npm registry's keys (default: the shipped registry.npmjs.org keys)" },
  { name: 'registry', kind: 'one', metavar: 'URL', help: 'verify, audit: the registry to fetch from (default https://registry.npmjs.org)' },
  { name: 'lockfile', kind: 'one', metavar: 'FILE', help: 'audit: the lockfile (default package-lock.json)' },
  { name: 'policy', kind: 'one', metavar: 'FILE', help: 'audit: the policy ({"rules": [{"packages", "requireProvenance", "sourceUri", "builderId"}], "noProvenanceDowngrade"})' },
  { name: 'json', kind: 'flag', help: 'audit: the report as JSON on stdout' },
];

const CLI = {
  tool: 'in-toto-npm',
  usage: 'in-toto-npm {audit [--lockfile FILE] [--policy FILE] [--json] | verify-npm-package TARBALL --attestations-path FILE | verify NAME@VERSION} [--registry URL] --source-uri github.com/OWNER/REPO [--builder-id ID] [--package-name NAME] [--package-version VERSION] [--source-tag TAG | --source-versioned-tag TAG | --source-branch BRANCH] [--print-provenance]',
  description:
    "Verifies an npm package's provenance and publish attestations offline: both Sigstore bundles, the tarball as their\n" +
    "subject, the package name and version, and the builder, source repository and ref against the flags and against the\n" +
    "provenance certificate. TARBALL is the file or its integrity (sha512-<base64>). `verify NAME@VERSION` fetches the\n" +
    "tarball, the registry's signature and the attestations from the registry, and checks the signature too.\n" +
    'Exits 0 when verified, 1 when not, 2 on wrong arguments.',
  options: OPTIONS,
  examples: [
    {
      does: 'a tarball built from acme/app at tag v1.2.3',
      command: 'in-toto-npm verify-npm-package app-1.2.3.tgz --attestations-path app-1.2.3.json --source-uri github.com/acme/app --source-tag v1.2.3',
    },
    { does: 'a published version, fetched from the registry', command: 'in-toto-npm verify sigstore@2.3.1 --source-uri github.com/sigstore/sigstore-js' },
    { does: "a project's lockfile against a policy", command: 'in-toto-npm audit --lockfile package-lock.json --policy provenance-policy.json' },
    {
      does: 'by the integrity a lockfile records',
      command: 'in-toto-npm verify-npm-package sha512-<base64> --attestations-path att.json --source-uri github.com/acme/app --package-name app --package-version 1.2.3',
    },
  ],
};

const DATA = (file: string) => packageDataFile(`data/sigstore/${file}`);

/** The expectations the flags give (slsa-verifier's). */
function expectations(parsed: NonNullable<ReturnType<typeof parseCommandLine>>, sourceUri: string): NpmExpectations {
  const opt = (name: string) => single(parsed, name);
  return {
    sourceUri,
    ...(opt('builder-id') !== undefined ? { builderId: opt('builder-id')! } : {}),
    ...(opt('package-name') !== undefined ? { packageName: opt('package-name')! } : {}),
    ...(opt('package-version') !== undefined ? { packageVersion: opt('package-version')! } : {}),
    ...(opt('source-tag') !== undefined ? { sourceTag: opt('source-tag')! } : {}),
    ...(opt('source-versioned-tag') !== undefined ? { sourceVersionedTag: opt('source-versioned-tag')! } : {}),
    ...(opt('source-branch') !== undefined ? { sourceBranch: opt('source-branch')! } : {}),
  };
}

/** Largest registry response read (a packument, attestations, a tarball). */
const MAX_FETCH = 256 << 20;

async function fetchBytes(url: string, what: string): Promise<Uint8Array | undefined> {
  let response: Response;
  try {
    response = await fetch(url, { redirect: 'follow' });
  } catch (error) {
    throw new InTotoError('IO', `cannot fetch ${what} from ${url}: ${(error as Error).message}`, { path: url }, { cause: error });
  }
  if (response.status === 404) return undefined;
  if (!response.ok) throw new InTotoError('IO', `cannot fetch ${what} from ${url}: HTTP ${response.status}`, { path: url });
  const length = Number(response.headers.get('content-length') ?? 0);
  if (length > MAX_FETCH) throw new InTotoError('LIMIT', `${what} at ${url} is ${length} bytes, more than ${MAX_FETCH}`, { path: url });
  const bytes = new Uint8Array(await response.arrayBuffer());
  if (bytes.length > MAX_FETCH) throw new InTotoError('LIMIT', `${what} at ${url} is more than ${MAX_FETCH} bytes`, { path: url });
  return bytes;
}

async function trustOf(parsed: NonNullable<ReturnType<typeof parseCommandLine>>) {
  const trustedRoot = single(parsed, 'trusted-root');
  const registryKeys = single(parsed, 'registry-keys');
  return {
    root: readTrustedRoot(await readInputFile(trustedRoot ?? DATA('production-trusted-root.json'), 'the trusted root')),
    registryKeys: readNpmRegistryKeys(await readInputFile(registryKeys ?? DATA('npm-registry-keys.json'), "the registry's keys")),
  };
}

function report(verified: NpmVerified, parsed: NonNullable<ReturnType<typeof parseCommandLine>>): number {
  if (parsed.values.has('print-provenance')) process.stdout.write(`${JSON.stringify(verified.provenance.raw)}\n`);
  process.stderr.write(`Verified ${verified.name}@${verified.version}: built by ${verified.builderId} from ${verified.sourceRepository} at ${verified.sourceRef}${verified.sourceCommit ? ` (${verified.sourceCommit})` : ''}\nPASSED: SLSA verification passed\n`);
  return 0;
}

async function verifyPackage(argv: readonly string[]): Promise<number> {
  const parsed = parseCommandLine(CLI, argv);
  if (!parsed) return 0;
  if (parsed.rest.length !== 1) throw new UsageError(parsed.rest.length === 0 ? 'the following arguments are required: TARBALL' : `unrecognized arguments: ${parsed.rest.slice(1).join(' ')}`);
  const attestationsPath = single(parsed, 'attestations-path');
  const sourceUri = single(parsed, 'source-uri');
  if (attestationsPath === undefined || sourceUri === undefined) throw new UsageError('the following arguments are required: --attestations-path, --source-uri');
  checkRefs(parsed);
  const target = parsed.rest[0]!;
  return exitCodeOf(new Log(CLI.tool, 'normal'), async () => {
    await initEngine();
    const integrity = /^sha512-([A-Za-z0-9+/]{86}==)$/.exec(target);
    const sha512 = integrity ? fromBase64(integrity[1]!) : undefined;
    const tarball = sha512 ? { sha512 } : { bytes: await readInputFile(target, 'the tarball') };
    const attestations = readNpmAttestations(await readInputFile(attestationsPath, 'the attestations'));
    return report(await verifyNpmPackage(attestations, tarball, await trustOf(parsed), expectations(parsed, sourceUri)), parsed);
  });
}

/** `verify NAME@VERSION`: the version's tarball, registry signature and attestations fetched from the registry. */
async function verifyFromRegistry(argv: readonly string[]): Promise<number> {
  const parsed = parseCommandLine(CLI, argv);
  if (!parsed) return 0;
  if (parsed.rest.length !== 1) throw new UsageError(parsed.rest.length === 0 ? 'the following arguments are required: NAME@VERSION' : `unrecognized arguments: ${parsed.rest.slice(1).join(' ')}`);
  const sourceUri = single(parsed, 'source-uri');
  if (sourceUri === undefined) throw new UsageError('the following arguments are required: --source-uri');
  checkRefs(parsed);
  const spec = /^((?:@[^/@\s]+\/)?[^/@\s]+)@([^@\s]+)$/.exec(parsed.rest[0]!);
  if (!spec) throw new UsageError(`'${parsed.rest[0]}' is not NAME@VERSION`);
  const [, name, version] = spec as unknown as [string, string, string];
  const registry = (single(parsed, 'registry') ?? 'https://registry.npmjs.org').replace(/\/+$/, '');
  return exitCodeOf(new Log(CLI.tool, 'normal'), async () => {
    await initEngine();
    const trust = await trustOf(parsed);
    const packumentBytes = await fetchBytes(`${registry}/${name.replace('/', '%2f')}`, `the package ${name}`);
    if (!packumentBytes) throw new InTotoError('IO', `the registry ${registry} has no package ${name}`);
    const packument = readPackument(packumentBytes, name);
    const entry = packument.versions[version];
    if (!entry || typeof entry !== 'object') throw new InTotoError('IO', `the registry ${registry} has no ${name}@${version}`);
    const dist = readNpmDist(entry.dist, `versions["${version}"].dist`);
    const timeText = packument.time[version];
    const published = Date.parse(typeof timeText === 'string' ? timeText : '');
    if (Number.isNaN(published)) throw new InTotoError('FORMAT', `the registry gives no publish time for ${name}@${version}`);
    if (dist.tarball === undefined) throw new InTotoError('FORMAT', `the registry gives no tarball for ${name}@${version}`);
    const tarball = await fetchBytes(dist.tarball, 'the tarball');
    if (!tarball) throw new InTotoError('IO', `the tarball ${dist.tarball} is not there`);
    // The registry's integrity must be the tarball's, and the registry's signature must cover it.
    const { sha512 } = await import('@noble/hashes/sha2.js');
    const integrity = `sha512-${toBase64(sha512(tarball))}`;
    if (integrity !== dist.integrity) throw new InTotoError('SIGNATURE', `the tarball's integrity is ${integrity}, the registry says ${dist.integrity}`);
    const keyid = await verifyRegistrySignature(name, version, dist, trust.registryKeys, published);
    process.stderr.write(`Registry signature of ${name}@${version} verified (${keyid})\n`);
    const url = dist.attestations?.url ?? `${registry}/-/npm/v1/attestations/${name}@${version}`;
    const attestationBytes = await fetchBytes(url, 'the attestations');
    if (!attestationBytes) throw new InTotoError('SIGNATURE', `${name}@${version} has no provenance (no attestations at ${url})`);
    return report(await verifyNpmPackage(readNpmAttestations(attestationBytes), { bytes: tarball }, trust, expectations(parsed, sourceUri)), parsed);
  });
}

/** `audit`: every registry package of a lockfile (see bindings/sigstore/npm-audit.ts). */
async function audit(argv: readonly string[]): Promise<number> {
  const parsed = parseCommandLine(CLI, argv);
  if (!parsed) return 0;
  if (parsed.rest.length > 0) throw new UsageError(`unrecognized arguments: ${parsed.rest.join(' ')}`);
  const registry = single(parsed, 'registry') ?? 'https://registry.npmjs.org';
  return exitCodeOf(new Log(CLI.tool, 'normal'), async () => {
    await initEngine();
    const packages = readLockfile(await readInputFile(single(parsed, 'lockfile') ?? 'package-lock.json', 'the lockfile'));
    const policyPath = single(parsed, 'policy');
    const policy = policyPath === undefined ? undefined : readAuditPolicy(await readInputFile(policyPath, 'the policy'));
    const entries = await auditPackages(packages, { registry, fetch: fetchBytes, trust: await trustOf(parsed), ...(policy ? { policy } : {}) });
    const failing = entries.filter((e) => e.problems.length > 0);
    if (parsed.values.has('json')) process.stdout.write(`${JSON.stringify({ passed: failing.length === 0, packages: entries }, null, 2)}\n`);
    else {
      const count = (f: (e: AuditEntry) => boolean) => entries.filter(f).length;
      // Names come from the lockfile: control characters are shown escaped, never printed (a newline could fake a line).
      const safe = (text: string) => text.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
      const lines = entries.map((e) => `${e.problems.length > 0 ? 'FAIL' : 'ok  '} ${safe(e.name)}@${safe(e.version)}: provenance ${e.provenance}${e.source ? ` (${e.source})` : ''}, registry signature ${e.registrySignature}${[...e.notes.map((n) => `\n       note: ${safe(n)}`), ...e.problems.map((p) => `\n       ${safe(p)}`)].join('')}`);
      process.stdout.write(`${lines.join('\n')}\n${entries.length} packages: ${count((e) => e.provenance === 'verified')} with verified provenance, ${count((e) => e.provenance === 'absent')} without, ${count((e) => e.registrySignature === 'verified')} with a verified registry signature, ${count((e) => e.registrySignature === 'absent')} without; ${failing.length} failing\n`);
    }
    return failing.length === 0 ? 0 : 1;
  });
}

function checkRefs(parsed: NonNullable<ReturnType<typeof parseCommandLine>>): void {
  const refs = ['source-tag', 'source-versioned-tag', 'source-branch'].filter((n) => single(parsed, n) !== undefined);
  if (refs.length > 1) throw new UsageError(`--${refs.join(' and --')} are alternatives: give one`);
}

async function main(argv: readonly string[]): Promise<number> {
  if (argv[0] === '-h' || argv[0] === '--help' || argv[0] === '--version') {
    parseCommandLine(CLI, argv);
    return 0;
  }
  if (argv[0] === 'verify-npm-package') return verifyPackage(argv.slice(1));
  if (argv[0] === 'verify') return verifyFromRegistry(argv.slice(1));
  if (argv[0] === 'audit') return audit(argv.slice(1));
  throw new UsageError(argv.length === 0 ? 'a command is required: verify-npm-package, verify or audit' : `unknown command '${argv[0]}' (the commands are verify-npm-package, verify and audit)`);
}

runTool(CLI, main);
