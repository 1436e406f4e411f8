#!/usr/bin/env node
/**
 * in-toto-attestation-verify: attestations (DSSE envelopes named `<step>.<anything>.json`) in a directory, against an
 * attestation layout (ITE-10/11), with attestation-verifier's -l/-a flags (bindings/verify/attestation-layout.ts):
 *
 *   in-toto-attestation-verify -l LAYOUT -a DIR [--parameters FILE] (--layout-keys KEY... | --allow-unsigned-layout) [--json]
 *
 * Exits 0 when verified, 1 when not, 2 on wrong arguments.
 */
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { initEngine } from '../engine.js';
import { InTotoError } from '../errors.js';
import { parseOrdinaryJson } from '../attestation/json.js';
import { loadVerificationKey, type VerificationKey } from '../keys/verification-key.js';
import { verifyAttestationLayout } from '../verify/attestation-layout.js';
import { UsageError, type OptionSpec } from './args.js';
import { readTrustedRoot } from '../sigstore/trusted-root.js';
import { Log, packageDataFile, parseCommandLine, readInputFile, runTool, single } from './common.js';
import { exitCodeOf } from './exit-code.js';
import { nowWarning, readNow, readVsaRequest, VSA_OPTIONS } from './vsa-output.js';
import { loadVsaKey, removeOldVsa, writeVsa } from './vsa-write.js';

const OPTIONS: readonly OptionSpec[] = [
  { name: 'layout', short: 'l', kind: 'one', metavar: 'FILE', help: 'the attestation layout: signed (a Metablock or DSSE envelope of its JSON), or YAML/JSON with --allow-unsigned-layout' },
  { name: 'attestations-directory', short: 'a', kind: 'one', metavar: 'DIR', help: 'the directory of attestations, named <step>.<anything>.json (a DSSE envelope or a Sigstore bundle) or <step>[.<anything>].intoto.jsonl (DSSE envelopes, one a line)' },
  { name: 'trusted-root', kind: 'one', metavar: 'FILE', help: 'the Sigstore trusted root Sigstore bundles are verified against (default: the public-good production root shipped in this package)' },
  { name: 'parameters', kind: 'one', metavar: 'FILE', help: 'values for {NAME} placeholders in the layout\'s rules: a JSON object of strings' },
  { name: 'layout-keys', short: 'k', kind: 'many', extend: true, metavar: 'FILE', help: "the layout owner's public keys (PEM, securesystemslib JSON, OpenPGP export); each must have signed" },
  { name: 'allow-unsigned-layout', kind: 'flag', help: 'verify an unsigned layout (the verdict says so): whoever can change the layout chooses what passes' },
  { name: 'json', kind: 'flag', help: 'the verdict as JSON on stdout' },
  ...VSA_OPTIONS,
];

const CLI = {
  tool: 'in-toto-attestation-verify',
  usage: 'in-toto-attestation-verify [-h] -l FILE -a DIR [--parameters FILE] (--layout-keys FILE [FILE ...] | --allow-unsigned-layout) [--json] [--vsa FILE --vsa-key FILE [--vsa-key-type TYPE] --resource-uri URI [--verifier-id URI] [--verified-level LEVEL ...]] [--now TIME]',
  description:
    "Verifies a directory of attestations against an attestation layout: for each step, Statements of the expected\n" +
    "predicate types from enough of its functionaries, each Statement's attributes (CEL rules), and the artifact rules\n" +
    'across steps over their materials and subjects. Exits 0 when verified, 1 when not, 2 on wrong arguments.',
  options: OPTIONS,
  examples: [
    { does: 'a signed layout, its owner\'s key, the attestations in att/', command: 'in-toto-attestation-verify -l layout.json --layout-keys owner.pub -a att/' },
    { does: "attestation-verifier's unsigned YAML layouts, with parameters", command: 'in-toto-attestation-verify -l layout-npm.yml -a test-data-npm --parameters npm-sigstore.json --allow-unsigned-layout' },
    { does: 'and a signed VSA of the verdict', command: 'in-toto-attestation-verify -l layout.json --layout-keys owner.pub -a att/ --vsa app.vsa.json --vsa-key verifier --vsa-key-type ed25519 --resource-uri pkg:npm/app@1.0.0' },
  ],
};

/** Largest attestation file read, and most files: a directory is input, not trusted. */
const MAX_FILE = 64 << 20;
const MAX_FILES = 10_000;
const MAX_TOTAL = 512 << 20;

/** Control characters (a file name's, a message's) shown escaped: a terminal must not take them as commands. */
const safe = (text: string) => text.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);

function readParameters(bytes: Uint8Array, path: string): Record<string, string> {
  const value = parseOrdinaryJson(bytes);
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new InTotoError('FORMAT', `${path}: the parameters must be a JSON object of strings`, { path });
  for (const [name, v] of Object.entries(value)) {
    if (typeof v !== 'string') throw new InTotoError('FORMAT', `${path}: the parameter "${name}" must be a string`, { path, field: name });
  }
  return value as Record<string, string>;
}

async function main(argv: readonly string[]): Promise<number> {
  const parsed = parseCommandLine(CLI, argv);
  if (!parsed) return 0;
  if (parsed.rest.length > 0) throw new UsageError(`unrecognized arguments: ${parsed.rest.join(' ')}`);
  const layoutPath = single(parsed, 'layout');
  const dir = single(parsed, 'attestations-directory');
  if (layoutPath === undefined || dir === undefined) throw new UsageError('the following arguments are required: -l/--layout, -a/--attestations-directory');
  const keyPaths = parsed.values.get('layout-keys') ?? [];
  const allowUnsigned = parsed.values.has('allow-unsigned-layout');
  if (keyPaths.length === 0 && !allowUnsigned) throw new UsageError("give the layout owner's keys (--layout-keys), or --allow-unsigned-layout for an unsigned layout");
  if (keyPaths.length > 0 && allowUnsigned) throw new UsageError('--layout-keys and --allow-unsigned-layout are alternatives: keys given mean the layout must be signed by them');
  const json = parsed.values.has('json');
  const vsaRequest = readVsaRequest(parsed, CLI.tool);
  const given = readNow(parsed);
  const now = given ?? new Date();
  const log = new Log(CLI.tool, 'normal');
  return exitCodeOf(log, async () => {
    await initEngine();
    const layoutKeys: VerificationKey[] = [];
    for (const path of keyPaths) {
      try {
        layoutKeys.push(await loadVerificationKey(await readInputFile(path, 'a layout key')));
      } catch (error) {
        if (!(error instanceof InTotoError)) throw error;
        throw new InTotoError(error.code, `layout key ${path}: ${error.message}`, { path }, { cause: error });
      }
    }
    const parametersPath = single(parsed, 'parameters');
    const parameters = parametersPath === undefined ? undefined : readParameters(await readInputFile(parametersPath, 'the parameters'), parametersPath);
    // Each entry's size is known before it is read (a symlink is followed); the total is bounded too.
    let entries;
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch (error) {
      throw new InTotoError('IO', `cannot read the attestations directory ${dir}: ${(error as Error).message}`, { path: dir }, { cause: error });
    }
    const names = entries.map((e) => e.name).sort();
    const isInput = (n: string) => n.endsWith('.json') || n.endsWith('.intoto.jsonl');
    const skipped = names.filter((n) => !isInput(n));
    if (skipped.length > 0) log.say(`warning: ${skipped.length} entr${skipped.length === 1 ? 'y' : 'ies'} of ${safe(dir)} not named *.json or *.intoto.jsonl, not read: ${skipped.slice(0, 5).map(safe).join(', ')}${skipped.length > 5 ? ', ...' : ''}`);
    const jsonNames = names.filter(isInput);
    if (jsonNames.length > MAX_FILES) throw new InTotoError('LIMIT', `${dir} holds ${jsonNames.length} .json and .intoto.jsonl files, more than ${MAX_FILES}`, { path: dir });
    const attestations = new Map<string, Uint8Array>();
    let total = 0;
    for (const name of jsonNames) {
      const path = join(dir, name);
      const info = await stat(path).catch((error: Error) => {
        throw new InTotoError('IO', `cannot read ${path}: ${error.message}`, { path }, { cause: error });
      });
      if (!info.isFile()) {
        log.say(`warning: ${safe(path)} is not a file: not read`);
        continue;
      }
      if (info.size > MAX_FILE) throw new InTotoError('LIMIT', `${path} is ${info.size} bytes, more than ${MAX_FILE}`, { path });
      total += info.size;
      if (total > MAX_TOTAL) throw new InTotoError('LIMIT', `the attestations in ${dir} are more than ${MAX_TOTAL} bytes together`, { path: dir });
      const bytes = await readInputFile(path, 'an attestation');
      if (bytes.length > MAX_FILE) throw new InTotoError('LIMIT', `${path} grew past ${MAX_FILE} bytes while read`, { path });
      attestations.set(name, bytes);
    }
    // The VSA's key is loaded before anything is verified: a wrong key file is a usage problem, not a verdict.
    if (vsaRequest) await removeOldVsa(vsaRequest);
    const clock = nowWarning(given, CLI.tool);
    if (clock) log.say(clock.trimEnd());
    const vsaKey = vsaRequest && (await loadVsaKey(vsaRequest));
    const layoutBytes = await readInputFile(layoutPath, 'the layout');
    const rootPath = single(parsed, 'trusted-root');
    const trustedRoot = readTrustedRoot(await readInputFile(rootPath ?? packageDataFile('data/sigstore/production-trusted-root.json'), 'the trusted root'));
    const verdict = await verifyAttestationLayout({
      layout: layoutBytes,
      trustedRoot,
      now,
      layoutKeys,
      allowUnsignedLayout: allowUnsigned,
      attestations,
      ...(parameters ? { parameters } : {}),
    });
    if (json) process.stdout.write(`${JSON.stringify(verdict, null, 2)}\n`);
    for (const warning of verdict.warnings) process.stderr.write(`warning: ${safe(warning)}\n`);
    for (const failure of verdict.failures) process.stderr.write(`FAIL [${failure.code}] ${safe(failure.message)}\n`);
    process.stderr.write(verdict.passed ? `PASSED: ${attestations.size} attestations verified against ${safe(layoutPath)}${verdict.unsignedLayout ? ' (an UNSIGNED layout)' : ''}\n` : `FAILED: ${verdict.failures.length} failure${verdict.failures.length === 1 ? '' : 's'}\n`);
    if (vsaRequest) {
      // The subject: what the chain makes, the products of the last step that records any (a final test step
      // makes nothing); a failure's subject is the layout.
      const products = [...verdict.artifacts].reverse().find((a) => Object.keys(a.products).length > 0)?.products ?? {};
      try {
        await writeVsa(vsaRequest, vsaKey!, {
          passed: verdict.passed,
          timeVerified: now,
          products: Object.entries(products).map(([name, digest]) => ({ name, digest })),
          layoutPath,
          layoutBytes,
          layoutSignedBy: verdict.layoutSignedBy,
          inputs: [...attestations].map(([name, bytes]) => ({ name, bytes })),
        });
      } catch (error) {
        if (!(error instanceof InTotoError)) throw error;
        process.stderr.write(`the VSA was not written: ${safe(error.message)}\n`);
        return 1;
      }
      process.stderr.write(`VSA (${verdict.passed ? 'PASSED' : 'FAILED'}) written to ${safe(vsaRequest.path)}\n`);
    }
    return verdict.passed ? 0 : 1;
  });
}

runTool(CLI, main);
