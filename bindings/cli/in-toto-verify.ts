#!/usr/bin/env node
/**
 * in-toto-verify with the reference's flags and exit codes (0 verified, 1 verification failed, 2 usage),
 * plus `--json` (the verdict on stdout) and `--parameters NAME=VALUE ...` (layout parameter substitution).
 * When verification fails it says in plain words what failed: which step, rule, file, digests and key.
 */
import { writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { initEngine } from '../engine.js';
import { InTotoError } from '../errors.js';
import { readEnvelope, type Envelope, type VerificationKey } from '../metadata/envelope.js';
import type { KeyType, PrivateKey } from '../keys/keys.js';
import type { ResourceDescriptor } from '../attestation/statement.js';
import { loadVerificationKey } from '../keys/verification-key.js';
import { getBackend } from '../keys/crypto/index.js';
import { verify, type Verdict } from '../verify/verify.js';
import { runTool } from './run-tool.js';
import { readFileBounded } from './input-file.js';
import { descriptionHint, withKeyTypeHint } from './hints.js';
import { readCommandLine, UsageError, type CommandLine, type OptionSpec, type Parsed } from './args.js';
import { nowWarning, readNow, readVsaRequest, VSA_OPTIONS, type VsaRequest } from './vsa-output.js';

const KEY_TYPES = ['rsa', 'ed25519', 'ecdsa'] as const;

const OPTIONS: readonly OptionSpec[] = [
  { name: 'layout', short: 'l', kind: 'one', metavar: '<path>', help: 'path to the root layout to verify' },
  { name: 'layout-keys', short: 'k', kind: 'many', once: true, metavar: '<path>', help: 'public key files the layout must be signed with (each must have signed); OpenPGP keys as exported by gpg (binary or armored) too' },
  { name: 'key-types', short: 't', kind: 'many', once: true, choices: KEY_TYPES, metavar: '{rsa,ed25519,ecdsa}', help: "types of the --layout-keys, by position ('rsa' PEM by default; 'ed25519' and 'ecdsa' securesystemslib JSON)" },
  { name: 'gpg', short: 'g', kind: 'many', once: true, metavar: '<id>', help: "OpenPGP key ids (fingerprints) the layout must be signed with, exported from the gpg keyring (each must have signed; a subkey's signature counts for its key)" },
  { name: 'gpg-home', kind: 'one', metavar: '<path>', help: "GnuPG home directory of the '--gpg' keys (default: gpg's own)" },
  { name: 'link-dir', kind: 'one', metavar: '<path>', help: 'directory to load link files from (default: the current directory)' },
  { name: 'parameters', kind: 'many', extend: true, metavar: 'NAME=VALUE', help: 'values for {NAME} placeholders in the layout (each NAME once; may be given more than once)' },
  { name: 'owner-inspections-only', kind: 'flag', help: "run only inspections the root layout's owner wrote: a sublayout's inspections (written by the functionary who signed it) fail verification with INSPECTION_REFUSED instead of running on this host" },
  { name: 'json', kind: 'flag', help: 'print the verdict as JSON on stdout' },
  { name: 'graph', kind: 'one', metavar: '<path>', help: 'write an SVG picture of the supply chain, failed steps and rules marked' },
  { name: 'verbose', short: 'v', kind: 'flag', help: 'show more output' },
  { name: 'quiet', short: 'q', kind: 'flag', help: 'suppress all output' },
  ...VSA_OPTIONS,
];

const USAGE = 'in-toto-verify <named arguments> [options]';
const DESCRIPTION =
  'Verifies that the supply chain of the delivered product was carried out as the in-toto layout says:\n' +
  'the layout is signed by the given keys and not expired, each step has enough links signed by its\n' +
  'functionaries, and the artifacts flow between steps as the rules require. Inspections are run in the\n' +
  'current directory, and only when every check before them passed. Exits 0 when verification passes, 1\n' +
  'when it fails, 2 on wrong arguments.';

const CLI: CommandLine = {
  tool: 'in-toto-verify',
  usage: USAGE,
  description: DESCRIPTION,
  options: OPTIONS,
  required: ['layout'],
  examples: [
    { does: 'verify the final product against root.layout, signed by the owner, with the links in the current directory', command: 'in-toto-verify --layout root.layout --layout-keys owner.pub --key-types ed25519' },
    { does: 'the same with links elsewhere, the verdict as JSON, and a picture of what failed', command: 'in-toto-verify -l root.layout -k owner.pub -t ed25519 --link-dir links --json --graph chain.svg' },
    { does: 'a layout signed by a key in the gpg keyring; no inspection from a sublayout may run', command: 'in-toto-verify -l root.layout -g 8465A1E2E0FB2B40ADB2478E18FB3F537E0C8A17 --owner-inspections-only' },
    { does: 'and a signed SLSA VSA of the verdict, pass or fail (in-toto-vsa verify checks it)', command: 'in-toto-verify -l root.layout -k owner.pub -t ed25519 --vsa app.vsa.json --vsa-key verifier --vsa-key-type ed25519 --resource-uri pkg:npm/app@1.0.0' },
  ],
};

export function explain(verdict: Verdict, verbose: boolean): string {
  const lines: string[] = [];
  if (verdict.passed) lines.push('in-toto-verify: verification PASSED');
  else lines.push(`in-toto-verify: verification FAILED (${verdict.failures.length} problem${verdict.failures.length === 1 ? '' : 's'})`);
  for (const f of verdict.failures) {
    lines.push(`  [${f.code}] ${f.message}`);
    for (const d of f.digests ?? []) {
      const show = (set: Record<string, string>) => Object.entries(set).map(([alg, hex]) => `${alg}:${hex}`).join(' ');
      lines.push(`      ${d.artifact}`);
      if (d.expected) lines.push(`        expected ${show(d.expected)} (${d.source})`);
      else lines.push(`        not found in ${d.source}`);
      lines.push(`        found    ${show(d.found)}${d.foundIn ? ` (${d.foundIn})` : ''}`);
    }
  }
  for (const w of verdict.warnings) lines.push(`  warning [${w.code}] ${w.message}`);
  if (verbose) {
    for (const t of verdict.trace) {
      const at = t.layout.length > 0 ? `[${t.layout.join(' > ')}] ` : '';
      const rule = t.implicit ? 'the implicit ALLOW *' : `rule ${t.ruleIndex + 1}`;
      lines.push(`  trace ${at}${t.kind ?? 'step'} '${t.item}' ${t.side} ${rule} consumed ${t.consumed.length === 0 ? 'nothing' : t.consumed.join(', ')}`);
    }
  }
  return lines.join('\n') + '\n';
}

/**
 * The command line as the reference's argparse reads it (see args.ts), then the checks the reference makes
 * after argparse: at least one key, and no positional arguments. `undefined`: `-h` or `--version` answered.
 */
function readArguments(argv: readonly string[]): { parsed: Parsed; parameters: Record<string, string>; vsa: VsaRequest | undefined; now: Date | undefined } | undefined {
  const invocation = readCommandLine(CLI, argv);
  if (invocation.kind !== 'run') {
    process.stdout.write(invocation.text);
    return undefined;
  }
  const { parsed } = invocation;
  if (parsed.rest.length > 0) throw new UsageError(`unrecognized arguments: ${parsed.rest.join(' ')}`);
  if (!parsed.values.has('layout-keys') && !parsed.values.has('gpg')) {
    throw new UsageError("wrong arguments: specify at least one of '--layout-keys path [path ...]' or '--gpg id [id ...]'");
  }
  return { parsed, parameters: readParameters(parsed.values.get('parameters') ?? []), vsa: readVsaRequest(parsed, CLI.tool), now: readNow(parsed) };
}

/**
 * `--parameters` (ours; in-toto 1.3.1 has no such flag): every group given, `NAME=VALUE` split at the first
 * `=`. A name given twice is refused rather than one value silently winning: the layout would be verified
 * with a value the caller may not have meant.
 */
function readParameters(pairs: readonly string[]): Record<string, string> {
  const parameters = new Map<string, string>();
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new UsageError(`argument --parameters: expected NAME=VALUE, got '${pair}'`);
    const name = pair.slice(0, eq);
    const earlier = parameters.get(name);
    if (earlier !== undefined) {
      throw new UsageError(`argument --parameters: '${name}' given twice (${name}=${earlier} and ${pair}); give each NAME once`);
    }
    parameters.set(name, pair.slice(eq + 1));
  }
  return Object.fromEntries(parameters);
}

/**
 * The root layout's signature failures name the key file given as well as the key id, and the ids that did sign:
 * a wrong --layout-keys file is then plain to see.
 */
function withKeyFiles(verdict: Verdict, keys: readonly VerificationKey[], paths: readonly string[]): Verdict {
  const fileOf = new Map(keys.slice(0, paths.length).map((key, i) => [key.keyid, paths[i]!] as const));
  const failures = verdict.failures.map((f) => {
    const file = f.layout.length === 0 && f.step === undefined && f.keyid !== undefined ? fileOf.get(f.keyid) : undefined;
    return file === undefined ? f : { ...f, message: f.message.replace(f.keyid!, `${f.keyid} (the key given in ${file})`) };
  });
  return { ...verdict, failures };
}

async function main(argv: readonly string[]): Promise<number> {
  let args;
  try {
    args = readArguments(argv);
    if (args === undefined) return 0;
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(`usage: ${USAGE}\nin-toto-verify: error: ${error.message}\n`);
    return 2;
  }
  const { parsed: { values }, parameters, vsa, now } = args;
  const quiet = values.has('quiet');
  const say = (text: string) => {
    if (!quiet) process.stderr.write(text);
  };
  const layoutPath = values.get('layout')![0]!;
  let layoutBytes: Uint8Array | undefined;
  let vsaKey: PrivateKey | undefined;
  /** Writes the VSA, when asked for and its key is loaded; false when it could not be written (said why). */
  const emitVsa = async (passed: boolean, products: readonly ResourceDescriptor[], inputs: readonly { name: string; digest: { sha256: string } }[], signedBy: readonly string[]) => {
    if (!vsa) return true;
    if (!vsaKey || !layoutBytes) {
      say(`in-toto-verify: no VSA written: ${vsaKey ? 'the layout could not be read' : 'the VSA key was not loaded'}\n`);
      return false;
    }
    try {
      const { writeVsa } = await import('./vsa-write.js');
      await writeVsa(vsa, vsaKey, { passed, timeVerified: now ?? new Date(), products, layoutPath, layoutBytes, layoutSignedBy: signedBy, inputs });
    } catch (error) {
      if (!(error instanceof InTotoError)) throw error;
      say(`in-toto-verify: the VSA was not written: [${error.code}] ${error.message}\n`);
      return false;
    }
    say(`in-toto-verify: VSA (${passed ? 'PASSED' : 'FAILED'}) written to ${vsa.path}\n`);
    return true;
  };
  try {
    const keyPaths = values.get('layout-keys') ?? [];
    const keyTypes = (values.get('key-types') ?? keyPaths.map(() => 'rsa')) as KeyType[];
    if (keyTypes.length !== keyPaths.length) {
      // The reference notices this only when it loads the keys, and fails verification (exit 1).
      throw new InTotoError('KEY', `the number of --key-types (${keyTypes.length}) must match the number of --layout-keys (${keyPaths.length})`);
    }
    // The crypto backend (a module of its own) loads while the engine compiles: every verification needs both.
    void getBackend();
    await initEngine();
    if (vsa) {
      const { loadVsaKey, removeOldVsa } = await import('./vsa-write.js');
      await removeOldVsa(vsa);
      vsaKey = await loadVsaKey(vsa);
    }
    const clock = nowWarning(now, 'in-toto-verify');
    if (clock) say(clock);
    const layoutKeys: VerificationKey[] = await Promise.all(
      keyPaths.map(async (path, i) => {
        try {
          // An OpenPGP export (binary or armored) is read as such, whatever --key-types says: no gpg needed.
          // Small files, read synchronously: a tool's start is spent waiting on the thread pool otherwise.
          return await loadVerificationKey(readFileBounded(path, 'key file'), { keyType: keyTypes[i] });
        } catch (error) {
          if (error instanceof InTotoError) throw new InTotoError(error.code, `layout key ${path}: ${withKeyTypeHint(error.message, '--key-types')}`, { path }, { cause: error });
          throw new InTotoError('KEY', `cannot read layout key ${path}: ${(error as Error).message}`, { path }, { cause: error });
        }
      }),
    );
    // The keyring is read through gpg (as the reference); the keys it exports are checked and used here.
    if (values.has('gpg')) {
      const { gpgExportKeys } = await import('../keys/openpgp/gpg-node.js');
      layoutKeys.push(...(await gpgExportKeys(values.get('gpg')!, values.get('gpg-home')?.[0])));
    }
    try {
      layoutBytes = readFileBounded(layoutPath, 'layout');
    } catch (error) {
      if (error instanceof InTotoError) throw error;
      // The file could not be read, which says nothing about its format: IO, as for any other file.
      throw new InTotoError('IO', `cannot read layout ${layoutPath}: ${(error as Error).message} (check the --layout path)`, { path: layoutPath }, { cause: error });
    }
    // Read here, not in verify(), so that an unreadable layout's error names the file (and the line and column).
    let layout: Envelope;
    try {
      layout = readEnvelope(layoutBytes);
    } catch (error) {
      if (!(error instanceof InTotoError)) throw error;
      const hint = error.code === 'JSON' ? descriptionHint(layoutPath, layoutBytes) : '';
      throw new InTotoError(error.code, `layout ${layoutPath}: ${error.message}${hint}`, { ...error, path: layoutPath }, { cause: error });
    }
    const verdict = await verify({
      layout,
      layoutKeys,
      links: { directory: resolve(values.get('link-dir')?.[0] ?? '.') },
      // Loaded only when the layout has inspections: most verifications never need the recording code.
      inspections: { run: async (inspection, origin) => (await import('../record/inspect-node.js')).nodeInspectionRunner({ cwd: process.cwd() })(inspection, origin) },
      sublayoutInspections: values.has('owner-inspections-only') ? 'refuse' : 'run',
      // The trace and the summary are printed only with --json or -v: on large chains they cost time.
      trace: values.has('json') || values.has('verbose'),
      summary: values.has('json') || vsa !== undefined,
      inputs: vsa !== undefined,
      ...(now ? { now } : {}),
      ...(values.has('parameters') ? { parameters } : {}),
    });
    const graphPath = values.get('graph')?.[0];
    if (graphPath !== undefined) {
      // Loaded only for --graph: most verifications draw nothing.
      const { verdictToSvg } = await import('../layout/graph.js');
      await writeFile(graphPath, verdictToSvg(layoutBytes, verdict)).catch((error: Error) => {
        throw new InTotoError('IO', `cannot write ${graphPath}: ${error.message}`, { path: graphPath });
      });
    }
    if (values.has('json')) process.stdout.write(JSON.stringify(verdict, null, 2) + '\n');
    if (!verdict.passed || verdict.warnings.length > 0 || values.has('verbose')) say(explain(withKeyFiles(verdict, layoutKeys, keyPaths), values.has('verbose')));
    // The subject: the chain's final products (the summary link's); the layout when verification failed. The
    // layout's signers: every key given, which all had to sign for the verification to pass.
    const products = verdict.passed && verdict.summary ? Object.entries(verdict.summary.products).map(([name, digest]) => ({ name, digest: { ...digest } })) : [];
    if (!(await emitVsa(verdict.passed, products, verdict.inputs ?? [], verdict.passed ? layoutKeys.map((k) => k.keyid) : []))) return 1;
    return verdict.passed ? 0 : 1;
  } catch (error) {
    if (!(error instanceof InTotoError)) throw error;
    if (values.has('json')) {
      process.stdout.write(JSON.stringify({ passed: false, failures: [{ code: error.code, message: error.message, layout: [] }], warnings: [], trace: [] }, null, 2) + '\n');
    }
    say(`in-toto-verify: verification FAILED\n  [${error.code}] ${error.message}\n`);
    // A layout that could not be verified at all (unreadable, malformed) still gets its FAILED summary.
    await emitVsa(false, [], [], []);
    return 1;
  }
}

runTool(CLI, main);
