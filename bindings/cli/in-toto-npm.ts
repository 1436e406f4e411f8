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
 */
import { readFile } from 'node:fs/promises';
import { fromBase64 } from '../encoding.js';
import { initEngine } from '../engine.js';
import { InTotoError } from '../errors.js';
import { readNpmAttestations, readNpmRegistryKeys, verifyNpmPackage } from '../sigstore/npm.js';
import { readTrustedRoot } from '../sigstore/trusted-root.js';
import { UsageError, type OptionSpec } from './args.js';
import { Log, parseCommandLine, runTool, single } from './common.js';
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
];

const CLI = {
  tool: 'in-toto-npm',
  usage: 'in-toto-npm verify-npm-package [-h] TARBALL --attestations-path FILE --source-uri github.com/OWNER/REPO [--builder-id ID] [--package-name NAME] [--package-version VERSION] [--source-tag TAG | --source-versioned-tag TAG | --source-branch BRANCH] [--print-provenance]',
  description:
    "Verifies an npm package's provenance and publish attestations offline: both Sigstore bundles, the tarball as their\n" +
    "subject, the package name and version, and the builder, source repository and ref against the flags and against the\n" +
    "provenance certificate. TARBALL is the file or its integrity (sha512-<base64>). Exits 0 when verified, 1 when not, 2 on wrong arguments.",
  options: OPTIONS,
  examples: [
    {
      does: 'a tarball built from acme/app at tag v1.2.3',
      command: 'in-toto-npm verify-npm-package app-1.2.3.tgz --attestations-path app-1.2.3.json --source-uri github.com/acme/app --source-tag v1.2.3',
    },
    {
      does: 'by the integrity a lockfile records',
      command: 'in-toto-npm verify-npm-package sha512-<base64> --attestations-path att.json --source-uri github.com/acme/app --package-name app --package-version 1.2.3',
    },
  ],
};

const DATA = (file: string) => new URL(`../../data/sigstore/${file}`, import.meta.url);

async function readInput(path: string | URL, what: string): Promise<Uint8Array> {
  try {
    return new Uint8Array(await readFile(path));
  } catch (error) {
    throw new InTotoError('IO', `cannot read ${what} ${String(path)}: ${(error as Error).message}`, { path: String(path) }, { cause: error });
  }
}

async function main(argv: readonly string[]): Promise<number> {
  if (argv[0] === '-h' || argv[0] === '--help' || argv[0] === '--version') {
    parseCommandLine(CLI, argv);
    return 0;
  }
  if (argv[0] !== 'verify-npm-package') throw new UsageError(argv.length === 0 ? 'a command is required: verify-npm-package' : `unknown command '${argv[0]}' (the command is verify-npm-package)`);
  const parsed = parseCommandLine(CLI, argv.slice(1));
  if (!parsed) return 0;
  if (parsed.rest.length !== 1) throw new UsageError(parsed.rest.length === 0 ? 'the following arguments are required: TARBALL' : `unrecognized arguments: ${parsed.rest.slice(1).join(' ')}`);
  const attestationsPath = single(parsed, 'attestations-path');
  const sourceUri = single(parsed, 'source-uri');
  if (attestationsPath === undefined || sourceUri === undefined) throw new UsageError('the following arguments are required: --attestations-path, --source-uri');
  const refs = ['source-tag', 'source-versioned-tag', 'source-branch'].filter((n) => single(parsed, n) !== undefined);
  if (refs.length > 1) throw new UsageError(`--${refs.join(' and --')} are alternatives: give one`);
  const target = parsed.rest[0]!;
  const log = new Log(CLI.tool, 'normal');
  return exitCodeOf(log, async () => {
    await initEngine();
    const integrity = /^sha512-([A-Za-z0-9+/]{86}==)$/.exec(target);
    const sha512 = integrity ? fromBase64(integrity[1]!) : undefined;
    const tarball = sha512 ? { sha512 } : { bytes: await readInput(target, 'the tarball') };
    const attestations = readNpmAttestations(await readInput(attestationsPath, 'the attestations'));
    const trustedRoot = single(parsed, 'trusted-root');
    const registryKeys = single(parsed, 'registry-keys');
    const root = readTrustedRoot(await readInput(trustedRoot ?? DATA('production-trusted-root.json'), 'the trusted root'));
    const keys = readNpmRegistryKeys(await readInput(registryKeys ?? DATA('npm-registry-keys.json'), "the registry's keys"));
    const opt = (name: string) => single(parsed, name);
    const verified = await verifyNpmPackage(attestations, tarball, { root, registryKeys: keys }, {
      sourceUri,
      ...(opt('builder-id') !== undefined ? { builderId: opt('builder-id')! } : {}),
      ...(opt('package-name') !== undefined ? { packageName: opt('package-name')! } : {}),
      ...(opt('package-version') !== undefined ? { packageVersion: opt('package-version')! } : {}),
      ...(opt('source-tag') !== undefined ? { sourceTag: opt('source-tag')! } : {}),
      ...(opt('source-versioned-tag') !== undefined ? { sourceVersionedTag: opt('source-versioned-tag')! } : {}),
      ...(opt('source-branch') !== undefined ? { sourceBranch: opt('source-branch')! } : {}),
    });
    if (parsed.values.has('print-provenance')) process.stdout.write(`${JSON.stringify(verified.provenance.raw)}\n`);
    process.stderr.write(`Verified ${verified.name}@${verified.version}: built by ${verified.builderId} from ${verified.sourceRepository} at ${verified.sourceRef}${verified.sourceCommit ? ` (${verified.sourceCommit})` : ''}\nPASSED: SLSA verification passed\n`);
    return 0;
  });
}

runTool(CLI, main);
