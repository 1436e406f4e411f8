#!/usr/bin/env node
/**
 * in-toto-sign with the reference's flags and exit codes: signs a link or layout (replacing its signatures, or
 * adding to a layout's with `-a`) and writes it to `-o`, else a layout back to its file and a link to
 * `<name>.<keyid prefix>.link`; or, with `--verify`, checks that every key given signed it. Exit codes as the
 * reference's: 0 done or verified, 1 a signature that does not verify, 2 wrong arguments and any other error.
 */
import { readFile } from 'node:fs/promises';
import { initEngine } from '../engine.js';
import { readEnvelope, verifySignatureBy, type Envelope, type VerificationKey } from '../metadata/envelope.js';
import { InTotoError } from '../errors.js';
import type { KeyType } from '../keys/keys.js';
import { loadVerificationKey } from '../keys/verification-key.js';
import { linkFileName } from '../verify/link-source.js';
import { LINK_V03, statementToLink } from '../attestation/predicates.js';
import { readAttestation, type Attestation } from '../attestation/envelope.js';
import { resignMetadata, writeMetadataFile, type SigningKey } from '../record/link.js';
import { gpgSigner } from '../keys/openpgp/gpg-node.js';
import { parseSigned } from '../metadata/models.js';
import { UsageError, type OptionSpec, type Parsed } from './args.js';
import { askPassword, KEY_TYPES, loadSigningKey, Log, parseCommandLine, RECORDING_OPTIONS as O, runTool, single } from './common.js';

const OPTIONS: readonly OptionSpec[] = [
  { name: 'file', short: 'f', kind: 'one', metavar: '<path>', help: 'the link or layout file to sign or verify' },
  { name: 'key', short: 'k', kind: 'many', once: true, metavar: '<path>', help: 'private key files to sign with, or public key files to verify with' },
  { name: 'key-type', short: 't', kind: 'many', once: true, choices: KEY_TYPES, metavar: '{rsa,ed25519,ecdsa}', help: "types of the '--key' files, by position ('rsa' PEM for all by default; 'ed25519' and 'ecdsa' securesystemslib JSON)" },
  { name: 'prompt', short: 'p', kind: 'flag', help: 'ask for the password of each signing key' },
  { name: 'gpg', short: 'g', kind: 'any', metavar: '<id>', help: "OpenPGP key ids to sign with through gpg (its default key when none is given), or to verify with (at least one; exported from the keyring, checked here)" },
  O.gpgHome,
  { name: 'output', short: 'o', kind: 'one', metavar: '<path>', help: "where to write the signed file (default: a layout's own file, '<name>.<keyid prefix>.link' for a link)" },
  { name: 'append', short: 'a', kind: 'flag', help: "add signatures to the existing ones instead of replacing them (layouts only)" },
  { name: 'verify', kind: 'flag', help: "verify that every '--key' signed the file, instead of signing it" },
  O.attestation,
  O.verbose,
  O.quiet,
];

const CLI = {
  tool: 'in-toto-sign',
  usage: 'in-toto-sign [-h] -f <path> [-k <path> [<path> ...]] [-t {rsa,ed25519,ecdsa} ...] [-p] [-g [<id>]] [--gpg-home <path>] [-o <path>] [-a] [--verify] [-v | -q] [--version]',
  description:
    'Signs in-toto link or layout metadata, or verifies its signatures. Signing replaces the signatures (or adds\n' +
    'to a layout\'s with --append; a link has one signer) and writes a layout back to its file, a link to\n' +
    "'<name>.<keyid prefix>.link', or either to --output. Exits 0 on success, 1 when a signature does not verify,\n" +
    '2 on wrong arguments and any other error.',
  options: OPTIONS,
  required: ['file'],
  examples: [
    { does: "sign a layout with the owner's key (replacing its signatures; -a adds one)", command: 'in-toto-sign -f root.layout -k owner -t ed25519' },
    { does: "check that a link is signed by alice's key", command: 'in-toto-sign -f package.1a2b3c4d.link -k alice.pub -t ed25519 --verify' },
  ],
};

const LINK_IS_SINGLE = "link metadata is associated with a single functionary and is usually namespaced accordingly: '<name>.<keyid prefix>.link'.";

async function main(argv: readonly string[]): Promise<number> {
  const parsed = parseCommandLine(CLI, argv);
  if (!parsed) return 0;
  if (parsed.rest.length > 0) throw new UsageError(`unrecognized arguments: ${parsed.rest.join(' ')}`);
  const { values } = parsed;
  if (values.has('verify') && (values.has('append') || values.has('output'))) {
    throw new UsageError("conflicting arguments: don't specify any of 'append' or 'output' when verifying signatures");
  }
  if (values.has('key') === values.has('gpg')) throw new UsageError("wrong arguments: specify either '--key PATH [PATH ...]' or '--gpg [KEYID [KEYID ...]]'");
  if (values.has('verify') && values.get('gpg')?.length === 0) {
    throw new UsageError("missing arguments: specify at least one keyid for GPG signature verification ('--gpg KEYID ...')");
  }

  const log = Log.fromArgs(CLI.tool, parsed);
  const file = single(parsed, 'file')!;
  let envelope: Envelope;
  let type: 'link' | 'layout';
  let name: string;
  try {
    await initEngine();
    const bytes = await readFile(file);
    // An attestation (a Statement in DSSE; its payload ordinary JSON) is read as one; anything else as the reference reads it.
    const attestation = attestationOf(bytes);
    envelope = attestation?.envelope ?? readEnvelope(bytes);
    if (attestation) {
      // A link when its predicate is one (its file named after its step); any other Statement needs --output.
      const { statement } = attestation;
      if (statement.predicateType !== LINK_V03 && !values.has('output')) {
        throw new InTotoError('FORMAT', `it is an attestation of ${statement.predicateType}, not of a link: there is no link file name for it, give one with --output`);
      }
      type = 'link';
      name = statement.predicateType === LINK_V03 ? statementToLink(statement).name : '';
    } else {
      const model = parseSigned(envelope.signed, { root: envelope.kind === 'metablock' ? 'signed' : 'payload' });
      type = model.type;
      name = model.type === 'link' ? model.name : '';
    }
  } catch (error) {
    log.say(`The following error occurred while loading the file '${file}': ${(error as Error).message}`);
    return 2;
  }
  if (type === 'link') {
    if ((values.get('key')?.length ?? 0) > 1 || (values.get('gpg')?.length ?? 0) > 1) throw new UsageError(`too many arguments: ${LINK_IS_SINGLE} Hence signing Link metadata with multiple keys is not allowed.`);
    if (values.has('append')) throw new UsageError(`wrong arguments: ${LINK_IS_SINGLE}. Hence adding signatures to existing signatures on link metadata is not allowed.`);
  }
  return values.has('verify') ? verifyFile(envelope, parsed, log) : signFile(envelope, { type, name, file }, parsed, log);
}

/** `_verify_metadata`: 0 when every key signed, 1 when one did not, 2 for any other error. */
async function verifyFile(envelope: Envelope, parsed: Parsed, log: Log): Promise<number> {
  let keys: VerificationKey[];
  try {
    if (parsed.values.has('gpg')) {
      const { gpgExportKeys } = await import('../keys/openpgp/gpg-node.js');
      keys = await gpgExportKeys(parsed.values.get('gpg')!, single(parsed, 'gpg-home'));
    } else keys = await keysFromFiles(parsed);
  } catch (error) {
    log.say(`The following error occurred while verifying signatures: ${(error as Error).message}`);
    return 2;
  }
  for (const key of keys) {
    try {
      await verifySignatureBy(envelope, key);
    } catch (error) {
      if (error instanceof InTotoError && (error.code === 'SIGNATURE' || error.code === 'KEY_EXPIRED')) {
        log.say(`Signature verification failed: ${error.message}`);
        return 1;
      }
      log.say(`The following error occurred while verifying signatures: ${(error as Error).message}`);
      return 2;
    }
    log.info(`Signature verification passed for keyid '${key.keyid}'`);
  }
  return 0;
}

/** The `--key` public key files, by their `--key-type`. */
async function keysFromFiles(parsed: Parsed): Promise<VerificationKey[]> {
  const paths = parsed.values.get('key')!;
  const types = keyTypes(parsed, paths.length);
  return Promise.all(
    paths.map(async (path, i) => {
      try {
        return await loadVerificationKey(await readFile(path), { keyType: types[i] });
      } catch (error) {
        throw new InTotoError(error instanceof InTotoError ? error.code : 'IO', `key file ${path}: ${(error as Error).message}`, { path }, { cause: error });
      }
    }),
  );
}

/** `_sign_and_dump_metadata`: 0 when written, 2 for any error. */
async function signFile(envelope: Envelope, metadata: { type: 'link' | 'layout'; name: string; file: string }, parsed: Parsed, log: Log): Promise<number> {
  try {
    const keys: SigningKey[] = [];
    const home = single(parsed, 'gpg-home');
    const ids = parsed.values.get('gpg');
    if (ids) keys.push(...(ids.length === 0 ? [gpgSigner(undefined, home)] : ids.map((id) => gpgSigner(id, home))));
    const paths = parsed.values.get('key') ?? [];
    const types = ids ? [] : keyTypes(parsed, paths.length);
    for (const [i, path] of paths.entries()) {
      const password = parsed.values.has('prompt') ? (await askPassword(`enter password to decrypt private key file '${path}' (leave empty if key not encrypted): `)) || undefined : undefined;
      keys.push(await loadSigningKey(path, types[i]!, password));
    }
    const signed = await resignMetadata(envelope, keys, { append: parsed.values.has('append'), attestation: parsed.values.has('attestation') });
    const output = single(parsed, 'output') ?? (metadata.type === 'link' ? linkFileName(metadata.name, signed.signatures.at(-1)!.keyid) : metadata.file);
    log.info(`Dumping ${metadata.type} to '${output}'...`);
    await writeMetadataFile(output, signed);
    return 0;
  } catch (error) {
    log.say(`The following error occurred while signing: ${(error as Error).message}`);
    return 2;
  }
}

/** `--key-type` by position, `rsa` for all keys when absent; a count that differs is an error (exit 2). */
function keyTypes(parsed: Parsed, count: number): KeyType[] {
  const types = (parsed.values.get('key-type') ?? Array<string>(count).fill('rsa')) as KeyType[];
  if (types.length !== count) throw new InTotoError('FORMAT', 'number of key_types should match with the number of keys specified', { field: 'key-type' });
  return types;
}

runTool(CLI, main);

/** The attestation in `bytes`, when they are a DSSE envelope of a Statement; undefined for anything else. */
function attestationOf(bytes: Uint8Array): Attestation | undefined {
  try {
    return readAttestation(bytes);
  } catch {
    return undefined;
  }
}
