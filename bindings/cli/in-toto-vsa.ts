#!/usr/bin/env node
/**
 * in-toto-vsa verify: checks a SLSA Verification Summary Attestation with slsa-verifier `verify-vsa`'s flags
 * (bindings/attestation/vsa.ts), in a DSSE envelope or in a Sigstore bundle (which slsa-verifier cannot read):
 *
 *   in-toto-vsa verify --attestation-path FILE --subject-digest ALG:HEX... --verifier-id URI --resource-uri URI
 *                      [--verified-level LEVEL...] (--public-key-path FILE | --certificate-identity[-regexp] ID
 *                      --certificate-oidc-issuer[-regexp] URL) [--trusted-root FILE] [--print-attestation]
 *
 * Exits 0 when verified, 1 when not, 2 on wrong arguments.
 */
import { initEngine } from '../engine.js';
import { InTotoError } from '../errors.js';
import { loadPublicKey, type PublicKey } from '../keys/keys.js';
import type { VsaV1 } from '../attestation/predicates.js';
import type { Statement } from '../attestation/statement.js';
import { checkVsa, verifyVsa } from '../attestation/vsa.js';
import { readSigstoreBundle } from '../sigstore/bundle.js';
import { readTrustedRoot } from '../sigstore/trusted-root.js';
import { verifySigstoreBundle } from '../sigstore/verify-bundle.js';
import { UsageError, type OptionSpec } from './args.js';
import { Log, packageDataFile, parseCommandLine, readInputFile, runTool, single } from './common.js';
import { exitCodeOf } from './exit-code.js';
import { IDENTITY_OPTIONS, readIdentityPolicy } from './identity-args.js';

/** A Sigstore bundle (JSON with a Sigstore bundle media type) rather than a DSSE envelope. */
function isSigstoreBundle(bytes: Uint8Array): boolean {
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    return false; // not JSON at all: the envelope reader says why
  }
  const mediaType = (value as { mediaType?: unknown } | null)?.mediaType;
  return typeof mediaType === 'string' && mediaType.startsWith('application/vnd.dev.sigstore.bundle');
}

const OPTIONS: readonly OptionSpec[] = [
  { name: 'attestation-path', kind: 'one', metavar: 'FILE', help: 'the VSA: a DSSE envelope of its Statement, or a Sigstore bundle of one' },
  { name: 'subject-digest', kind: 'many', extend: true, metavar: 'ALG:HEX', help: 'a digest a subject of the VSA must have (e.g. sha256:<hex>); may be given more than once (any one suffices)' },
  { name: 'verifier-id', kind: 'one', metavar: 'URI', help: 'the verifier the VSA must name' },
  { name: 'resource-uri', kind: 'one', metavar: 'URI', help: 'the resource it must be about' },
  { name: 'verified-level', kind: 'many', extend: true, metavar: 'LEVEL', help: 'a level it must claim (SLSA_BUILD_LEVEL_3 also stands for lower build levels); may be given more than once' },
  { name: 'public-key-path', kind: 'one', metavar: 'FILE', help: 'the public key it must be signed by (PEM, or securesystemslib JSON); for a Sigstore bundle signed with a key, PEM' },
  ...IDENTITY_OPTIONS.map((o) => ({ ...o, help: `${o.help}; for a Sigstore bundle signed with a certificate` })),
  { name: 'trusted-root', kind: 'one', metavar: 'FILE', help: 'the Sigstore trusted root a bundle is verified against (default: the public-good production root shipped in this package)' },
  { name: 'print-attestation', kind: 'flag', help: 'print the verified Statement (JSON) on stdout' },
];

const CLI = {
  tool: 'in-toto-vsa',
  usage: 'in-toto-vsa verify [-h] --attestation-path FILE --subject-digest ALG:HEX [...] --verifier-id URI --resource-uri URI [--verified-level LEVEL ...] (--public-key-path FILE | --certificate-identity[-regexp] ID --certificate-oidc-issuer[-regexp] URL) [--trusted-root FILE] [--print-attestation]',
  description:
    "Verifies a SLSA VSA (v1) as slsa-verifier's verify-vsa does: signed by the key, a subject with the digest, the\n" +
    'verifier, the resource, PASSED, and the levels. The VSA is a DSSE envelope, or a Sigstore bundle verified whole\n' +
    '(log entries, timestamps, certificate chain) for its signer: a key, or a certificate identity and issuer.\n' +
    'Exits 0 when verified, 1 when not, 2 on wrong arguments.',
  options: OPTIONS,
  examples: [
    {
      does: 'a VSA written by in-toto-attestation-verify --vsa',
      command: 'in-toto-vsa verify --attestation-path app.vsa.json --subject-digest sha256:<hex> --verifier-id https://github.com/in-toto/in-toto-wasm/in-toto-attestation-verify --resource-uri pkg:npm/app@1.0.0 --public-key-path verifier.pub',
    },
    {
      does: 'a VSA in a Sigstore bundle, signed in GitHub Actions',
      command: 'in-toto-vsa verify --attestation-path app.vsa.sigstore.json --subject-digest sha256:<hex> --verifier-id https://example.com/verifier --resource-uri pkg:npm/app@1.0.0 --certificate-identity https://github.com/acme/verify/.github/workflows/vsa.yml@refs/heads/main --certificate-oidc-issuer https://token.actions.githubusercontent.com',
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
  const required = ['attestation-path', 'subject-digest', 'verifier-id', 'resource-uri'].filter((n) => !parsed.values.has(n));
  if (required.length > 0) throw new UsageError(`the following arguments are required: ${required.map((n) => `--${n}`).join(', ')}`);
  const identity = readIdentityPolicy(parsed, 'public-key-path', !parsed.values.has('public-key-path'));
  const subjectDigests = parsed.values.get('subject-digest')!.map((text) => {
    const m = /^([a-z0-9_]+):([0-9a-f]+)$/.exec(text);
    if (!m) throw new UsageError(`--subject-digest: '${text}' is not ALG:HEX (e.g. sha256:<64 hex digits>)`);
    return { [m[1]!]: m[2]! };
  });
  return exitCodeOf(new Log(CLI.tool, 'normal'), async () => {
    await initEngine();
    const keyPath = single(parsed, 'public-key-path');
    let key: PublicKey | undefined;
    if (keyPath !== undefined) {
      try {
        key = loadPublicKey(new TextDecoder().decode(await readInputFile(keyPath, 'the public key')));
      } catch (error) {
        if (!(error instanceof InTotoError)) throw error;
        throw new InTotoError(error.code, `public key ${keyPath}: ${error.message}`, { path: keyPath }, { cause: error });
      }
    }
    const expect = {
      subjectDigests,
      verifierId: single(parsed, 'verifier-id')!,
      resourceUri: single(parsed, 'resource-uri')!,
      verifiedLevels: parsed.values.get('verified-level') ?? [],
    };
    const path = single(parsed, 'attestation-path')!;
    const bytes = await readInputFile(path, 'the VSA');
    let statement: Statement;
    let vsa: VsaV1;
    if (isSigstoreBundle(bytes)) {
      // Verified whole for its signer with no artifact: the VSA's subjects are checked against --subject-digest.
      const rootPath = single(parsed, 'trusted-root');
      const root = readTrustedRoot(await readInputFile(rootPath ?? packageDataFile('data/sigstore/production-trusted-root.json'), 'the trusted root'));
      const verified = await verifySigstoreBundle(readSigstoreBundle(bytes), root, { anySubject: true }, identity ? { identity } : { key: key! });
      if (!verified.statement) throw new InTotoError('FORMAT', `${path}: the bundle holds a message signature, not a VSA Statement`, { path });
      statement = verified.statement;
      vsa = checkVsa(statement, expect);
    } else {
      if (identity || !key) throw new UsageError(`${path} is a DSSE envelope, not a Sigstore bundle: give the key it must be signed by (--public-key-path)`);
      if (parsed.values.has('trusted-root')) throw new UsageError(`${path} is a DSSE envelope, not a Sigstore bundle: --trusted-root is for bundles`);
      ({ statement, vsa } = await verifyVsa(bytes, [key], expect));
    }
    if (parsed.values.has('print-attestation')) process.stdout.write(`${JSON.stringify(statement.raw)}\n`);
    process.stderr.write(`Verified VSA: ${vsa.resourceUri} ${vsa.verificationResult} by ${vsa.verifier.id}${vsa.timeVerified ? ` at ${vsa.timeVerified}` : ''}, levels ${JSON.stringify(vsa.verifiedLevels)}\nPASSED: SLSA verification passed\n`);
    return 0;
  });
}

runTool(CLI, main);
