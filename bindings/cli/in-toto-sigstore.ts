#!/usr/bin/env node
/**
 * in-toto-sigstore verify-bundle: verifies a Sigstore bundle offline, speaking the sigstore-conformance client
 * protocol (exit 0 verified, 1 not, 2 wrong arguments):
 *
 *   in-toto-sigstore verify-bundle --bundle FILE (--certificate-identity ID --certificate-oidc-issuer URL | --key FILE)
 *                                  [--trusted-root FILE] FILE_OR_DIGEST
 *
 * FILE_OR_DIGEST is the artifact, or `sha256:<64 hex digits>` naming its digest (when no such file exists); for a
 * DSSE bundle it is the in-toto Statement's subject. Without `--trusted-root`, the Sigstore public-good production
 * trusted root shipped in the package (data/sigstore/) is used.
 */
import { stat } from 'node:fs/promises';
import { fromHex } from '../encoding.js';
import { initEngine } from '../engine.js';
import { InTotoError } from '../errors.js';
import { loadPublicKey } from '../keys/keys.js';
import { readSigstoreBundle } from '../sigstore/bundle.js';
import { readTrustedRoot } from '../sigstore/trusted-root.js';
import { verifySigstoreBundle, type Artifact, type SignerPolicy } from '../sigstore/verify-bundle.js';
import { UsageError, type OptionSpec } from './args.js';
import { Log, packageDataFile, parseCommandLine, readInputFile, runTool, single } from './common.js';
import { exitCodeOf } from './exit-code.js';
import { IDENTITY_OPTIONS, readIdentityPolicy } from './identity-args.js';

const OPTIONS: readonly OptionSpec[] = [
  { name: 'bundle', kind: 'one', metavar: 'FILE', help: 'the Sigstore bundle (.sigstore.json)' },
  ...IDENTITY_OPTIONS,
  { name: 'key', kind: 'one', metavar: 'FILE', help: 'verify a bundle signed with a key (PEM) instead of a certificate identity' },
  { name: 'trusted-root', kind: 'one', metavar: 'FILE', help: 'the Sigstore trusted root (default: the public-good production root shipped in this package)' },
  { name: 'staging', kind: 'flag', help: "Sigstore's staging instance (not shipped: pass its trusted root with --trusted-root)" },
];

const CLI = {
  tool: 'in-toto-sigstore',
  usage: 'in-toto-sigstore verify-bundle [-h] --bundle FILE (--certificate-identity[-regexp] ID --certificate-oidc-issuer[-regexp] URL [--certificate-github-workflow-{repository,ref,sha,trigger,name} VALUE] | --key FILE) [--trusted-root FILE] FILE_OR_DIGEST',
  description:
    'Verifies a Sigstore bundle offline for an artifact (a file, or sha256:<hex> for its digest; for a DSSE bundle, the\n' +
    "in-toto Statement's subject): the signature, the transparency log entries and proofs, the timestamps, the\n" +
    'certificate chain and its SCT, and the signer. Exits 0 when verified, 1 when not, 2 on wrong arguments.',
  options: OPTIONS,
  examples: [
    {
      does: 'a bundle signed in GitHub Actions, for the file it signed',
      command: 'in-toto-sigstore verify-bundle --bundle app.sigstore.json --certificate-identity https://github.com/acme/app/.github/workflows/release.yml@refs/heads/main --certificate-oidc-issuer https://token.actions.githubusercontent.com app.tar.gz',
    },
    { does: 'a bundle signed with a key, for a digest', command: 'in-toto-sigstore verify-bundle --bundle b.json --key cosign.pub --trusted-root trusted_root.json sha256:<hex>' },
  ],
};

const DEFAULT_ROOT = packageDataFile('data/sigstore/production-trusted-root.json');

async function exists(path: string): Promise<boolean> {
  return stat(path).then(() => true, () => false);
}

async function main(argv: readonly string[]): Promise<number> {
  if (argv[0] === '-h' || argv[0] === '--help' || argv[0] === '--version') {
    parseCommandLine(CLI, argv);
    return 0;
  }
  if (argv[0] !== 'verify-bundle') throw new UsageError(argv.length === 0 ? 'a command is required: verify-bundle' : `unknown command '${argv[0]}' (the command is verify-bundle)`);
  const parsed = parseCommandLine(CLI, argv.slice(1));
  if (!parsed) return 0;
  if (parsed.rest.length !== 1) throw new UsageError(parsed.rest.length === 0 ? 'the following arguments are required: FILE_OR_DIGEST' : `unrecognized arguments: ${parsed.rest.slice(1).join(' ')}`);
  const bundlePath = single(parsed, 'bundle');
  if (bundlePath === undefined) throw new UsageError('the following arguments are required: --bundle');
  const keyPath = single(parsed, 'key');
  const identity = readIdentityPolicy(parsed, 'key', true);
  const target = parsed.rest[0]!;
  const log = new Log(CLI.tool, 'normal');
  return exitCodeOf(log, async () => {
    if (parsed.values.has('staging') && single(parsed, 'trusted-root') === undefined) {
      throw new InTotoError('UNSUPPORTED', "the staging trusted root is not shipped: pass it with --trusted-root");
    }
    await initEngine();
    const bundle = readSigstoreBundle(await readInputFile(bundlePath, 'the bundle'));
    const rootPath = single(parsed, 'trusted-root');
    const root = readTrustedRoot(await readInputFile(rootPath ?? DEFAULT_ROOT, 'the trusted root'));
    // The protocol: a digest when it looks like one and names no file.
    const digest = /^sha256:([0-9a-f]{64})$/.exec(target);
    const artifact: Artifact = digest && !(await exists(target)) ? { sha256: fromHex(digest[1]!)! } : { bytes: await readInputFile(target, 'the artifact') };
    const policy: SignerPolicy = identity ? { identity } : { key: loadPublicKey(new TextDecoder().decode(await readInputFile(keyPath!, 'the key'))) };
    const verified = await verifySigstoreBundle(bundle, root, artifact, policy);
    const who = verified.signer.kind === 'key' ? `key ${verified.signer.key.keyid}` : `${[...verified.signer.identity.uris, ...verified.signer.identity.emails].join(', ')} (${verified.signer.identity.issuer})`;
    process.stdout.write(`verified: signed by ${who} at ${verified.times.map((t) => `${new Date(t.time).toISOString()} (${t.source})`).join(', ') || 'an unstated time'}\n`);
    return 0;
  });
}

runTool(CLI, main);
