#!/usr/bin/env node
/**
 * in-toto-vsa verify: checks a SLSA Verification Summary Attestation (a DSSE envelope) with slsa-verifier
 * `verify-vsa`'s flags (bindings/attestation/vsa.ts):
 *
 *   in-toto-vsa verify --attestation-path FILE --subject-digest ALG:HEX... --verifier-id URI --resource-uri URI
 *                      [--verified-level LEVEL...] --public-key-path FILE [--print-attestation]
 *
 * Exits 0 when verified, 1 when not, 2 on wrong arguments.
 */
import { initEngine } from '../engine.js';
import { InTotoError } from '../errors.js';
import { loadPublicKey } from '../keys/keys.js';
import { verifyVsa } from '../attestation/vsa.js';
import { UsageError, type OptionSpec } from './args.js';
import { Log, parseCommandLine, readInputFile, runTool, single } from './common.js';
import { exitCodeOf } from './exit-code.js';

const OPTIONS: readonly OptionSpec[] = [
  { name: 'attestation-path', kind: 'one', metavar: 'FILE', help: 'the VSA: a DSSE envelope of its Statement' },
  { name: 'subject-digest', kind: 'many', metavar: 'ALG:HEX', help: 'a digest a subject of the VSA must have (e.g. sha256:<hex>); may be given more than once (any one suffices)' },
  { name: 'verifier-id', kind: 'one', metavar: 'URI', help: 'the verifier the VSA must name' },
  { name: 'resource-uri', kind: 'one', metavar: 'URI', help: 'the resource it must be about' },
  { name: 'verified-level', kind: 'many', metavar: 'LEVEL', help: 'a level it must claim (SLSA_BUILD_LEVEL_3 also stands for lower build levels); may be given more than once' },
  { name: 'public-key-path', kind: 'one', metavar: 'FILE', help: 'the public key it must be signed by (PEM, or securesystemslib JSON)' },
  { name: 'print-attestation', kind: 'flag', help: 'print the verified Statement (JSON) on stdout' },
];

const CLI = {
  tool: 'in-toto-vsa',
  usage: 'in-toto-vsa verify [-h] --attestation-path FILE --subject-digest ALG:HEX [...] --verifier-id URI --resource-uri URI [--verified-level LEVEL ...] --public-key-path FILE [--print-attestation]',
  description:
    "Verifies a SLSA VSA (v1) in DSSE as slsa-verifier's verify-vsa does: signed by the key, a subject with the digest,\n" +
    'the verifier, the resource, PASSED, and the levels. Exits 0 when verified, 1 when not, 2 on wrong arguments.',
  options: OPTIONS,
  examples: [
    {
      does: 'a VSA written by in-toto-attestation-verify --vsa',
      command: 'in-toto-vsa verify --attestation-path app.vsa.json --subject-digest sha256:<hex> --verifier-id https://github.com/in-toto/in-toto-wasm/in-toto-attestation-verify --resource-uri pkg:npm/app@1.0.0 --public-key-path verifier.pub',
    },
  ],
};

async function main(argv: readonly string[]): Promise<number> {
  if (argv[0] === '-h' || argv[0] === '--help' || argv[0] === '--version') {
    parseCommandLine(CLI, argv);
    return 0;
  }
  if (argv[0] !== 'verify') throw new UsageError(argv.length === 0 ? 'a command is required: verify' : `unknown command '${argv[0]}' (the command is verify)`);
  const parsed = parseCommandLine(CLI, argv.slice(1));
  if (!parsed) return 0;
  if (parsed.rest.length > 0) throw new UsageError(`unrecognized arguments: ${parsed.rest.join(' ')}`);
  const required = ['attestation-path', 'subject-digest', 'verifier-id', 'resource-uri', 'public-key-path'].filter((n) => !parsed.values.has(n));
  if (required.length > 0) throw new UsageError(`the following arguments are required: ${required.map((n) => `--${n}`).join(', ')}`);
  const subjectDigests = parsed.values.get('subject-digest')!.map((text) => {
    const m = /^([a-z0-9_]+):([0-9a-f]+)$/.exec(text);
    if (!m) throw new UsageError(`--subject-digest: '${text}' is not ALG:HEX (e.g. sha256:<64 hex digits>)`);
    return { [m[1]!]: m[2]! };
  });
  return exitCodeOf(new Log(CLI.tool, 'normal'), async () => {
    await initEngine();
    const keyPath = single(parsed, 'public-key-path')!;
    let key;
    try {
      key = loadPublicKey(new TextDecoder().decode(await readInputFile(keyPath, 'the public key')));
    } catch (error) {
      if (!(error instanceof InTotoError)) throw error;
      throw new InTotoError(error.code, `public key ${keyPath}: ${error.message}`, { path: keyPath }, { cause: error });
    }
    const { statement, vsa } = await verifyVsa(await readInputFile(single(parsed, 'attestation-path')!, 'the VSA'), [key], {
      subjectDigests,
      verifierId: single(parsed, 'verifier-id')!,
      resourceUri: single(parsed, 'resource-uri')!,
      verifiedLevels: parsed.values.get('verified-level') ?? [],
    });
    if (parsed.values.has('print-attestation')) process.stdout.write(`${JSON.stringify(statement.raw)}\n`);
    process.stderr.write(`Verified VSA: ${vsa.resourceUri} ${vsa.verificationResult} by ${vsa.verifier.id}${vsa.timeVerified ? ` at ${vsa.timeVerified}` : ''}, levels ${JSON.stringify(vsa.verifiedLevels)}\nPASSED: SLSA verification passed\n`);
    return 0;
  });
}

runTool(CLI, main);
