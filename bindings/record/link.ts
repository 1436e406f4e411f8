/**
 * The record wing (`bindings/record/`, Node only) owns making evidence: recording artifacts (`record.ts`),
 * running a command (`run.ts`), links made, signed and written (this file), and the Node inspection runner
 * (`inspect-node.ts`), which records an inspection for verify through verify's `InspectionRunner` interface. It
 * sits above verify (it names link files with verify's `linkFileName` and implements that interface) and beside
 * layout, which it does not import.
 * Wing order, lowest first: root (engine, errors, encoding, bigint) < keys < metadata < verify < record, layout
 * < cli, index < entry; test/architecture.test.ts holds the tree to it.
 */
/**
 * Recording links (Node only): what in-toto 1.3.1's `runlib` does for its tools (`in_toto_run`,
 * `in_toto_record_start` / `in_toto_record_stop`, `in_toto_mock`) and what in-toto 2.x adds
 * (`in_toto_match_products`, DSSE envelopes on request), so that the command-line tools stay thin.
 *
 * Each function records, signs and writes the way the reference does, in its order (materials, command,
 * products, signature, file), with three deliberate differences:
 * - files are written atomically (a temporary file beside the target, then a rename): a failure at any point
 *   leaves no partial or corrupt link on disk, and an existing link is replaced whole or not at all;
 * - nothing changes the process's working directory: `cwd` says where the command runs, what relative
 *   artifact paths and `basePath` are relative to, and where links are written;
 * - `matchProducts` follows symlinked directories, as the links it compares against were recorded (the
 *   reference's `in_toto_match_products` does not, so it reports files below them as missing).
 */
import { randomBytes } from 'node:crypto';
import { open, readdir, readFile, rename, unlink, type FileHandle } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join } from 'node:path';
import { createDsse, createMetablock, readEnvelope, serializeEnvelope, signEnvelope, verifySignatureBy, type Envelope } from '../metadata/envelope.js';
import { InTotoError } from '../errors.js';
import type { PrivateKey } from '../keys/keys.js';
import { linkFileName } from '../verify/link-source.js';
import { gpgExportKey, gpgSign, isGpgSigner, type GpgSigner } from '../keys/openpgp/gpg-node.js';
import { layoutToJSON, linkToJSON, parseLink, parseSigned, type Link, type LinkJSON } from '../metadata/models.js';
import { compareCodePoints } from '../metadata/reference-json.js';
import { recordArtifacts, type ArtifactDict, type RecordOptions } from './record.js';
import { executeCommand } from './run.js';
import { linkToStatement } from '../attestation/predicates.js';
import { STATEMENT_V01, STATEMENT_V1 } from '../attestation/statement.js';

/** Whether a parsed payload is an in-toto Statement (v1 or v0.1). */
function isStatement(value: unknown): boolean {
  const type = (value as { _type?: unknown } | null)?._type;
  return type === STATEMENT_V1 || type === STATEMENT_V01;
}

// Signing with a key in a GnuPG keyring (through the gpg binary), and reading one from it.
export { gpgExportKey, gpgExportKeys, gpgSigner, type GpgSigner } from '../keys/openpgp/gpg-node.js';

/** Metablock (in-toto 1.x, the default) or DSSE (in-toto >= 1.4's `--use-dsse`). */
/**
 * Metablock (in-toto 1.x, the default), DSSE (in-toto >= 1.4's `--use-dsse`), or an attestation: a Statement v1
 * whose predicate is a link v0.3 (subjects the products, materials ResourceDescriptors), in DSSE.
 */
export type MetadataFormat = 'metablock' | 'dsse' | 'attestation';

/** How artifacts are recorded; see {@link RecordOptions} for each field. */
export interface ArtifactOptions {
  /** Default: the reference's `*.link*`, `.git`, `*.pyc`, `*~` (an empty list means those too). */
  excludePatterns?: readonly string[];
  /** Relative to `cwd` when relative. */
  basePath?: string;
  lstripPaths?: readonly string[];
  normalizeLineEndings?: boolean;
  /** Default true: the reference's tools always follow symlinked directories. */
  followSymlinkDirs?: boolean;
  /** Default `['sha256']`, the only one the reference's tools record. */
  algorithms?: RecordOptions['algorithms'];
  threads?: number;
  onSkip?: RecordOptions['onSkip'];
  /** Where relative paths start, the command runs and links are written (default: this process's). */
  cwd?: string;
}

/** The stages of recording a step, in order, for logging and progress display. */
export type StepPhase = 'materials' | 'command' | 'products';

export interface StepOptions extends ArtifactOptions {
  /** The step name: the link's `name` and the first part of its file name. */
  name: string;
  /** Paths recorded before the command runs. */
  materials?: readonly string[];
  /** Paths recorded after it ran. */
  products?: readonly string[];
  /** The command (no shell). None or empty: nothing runs and `byproducts` is `{}` (`--no-command`). */
  command?: readonly string[];
  /** Record the command's stdout and stderr (otherwise both go to /dev/null and are recorded as ''). */
  recordStreams?: boolean;
  /** Copy recorded streams to this process's stdout and stderr while the command runs, as the tools do. */
  echo?: boolean;
  /** Seconds before the command is killed and recording fails (default 10, `LINK_CMD_EXEC_TIMEOUT`). */
  timeoutSeconds?: number;
  /** Record `environment.workdir` (the working directory), as the reference's `record_environment`. */
  recordEnvironment?: boolean;
  /** Told when each stage starts, with the paths or command it concerns. */
  onPhase?: (phase: StepPhase, detail: readonly string[]) => void;
}

/** A private key, or a key in a GnuPG keyring signed with through `gpg` (`gpgSigner()`; Metablocks only). */
export type SigningKey = PrivateKey | GpgSigner;

export interface SigningOptions {
  key: SigningKey;
  /** Default `metablock`. */
  format?: MetadataFormat;
}

/** What a recording function wrote: the file, the envelope in it and the link it carries. */
export interface Recorded {
  path: string;
  envelope: Envelope;
  link: LinkJSON;
}

/**
 * Records a step without signing it (`in_toto_run` before its signature): materials, then the command,
 * then products. A command that cannot be started, fails to finish in time, or writes streams that are not
 * UTF-8 (when recorded) is an error; a command that fails is not (its return value is recorded).
 */
export async function recordStep(options: StepOptions): Promise<LinkJSON> {
  const cwd = options.cwd ?? process.cwd();
  options.onPhase?.('materials', options.materials ?? []);
  const materials = await recordPaths(options.materials, options);
  const command = [...(options.command ?? [])];
  let byproducts: LinkJSON['byproducts'] = {};
  if (command.length > 0) {
    options.onPhase?.('command', command);
    byproducts = { ...(await executeCommand(command, { cwd, recordStreams: options.recordStreams, echo: options.echo, timeoutSeconds: options.timeoutSeconds })) };
  }
  options.onPhase?.('products', options.products ?? []);
  const products = await recordPaths(options.products, options);
  return {
    _type: 'link',
    name: options.name,
    materials,
    products,
    byproducts,
    command,
    environment: environmentOf(cwd, options.recordEnvironment),
  };
}

/** Records a step, signs its link and writes it to `<metadataDirectory>/<name>.<keyid8>.link` (`in-toto-run`). */
export async function runStep(options: StepOptions & SigningOptions & { metadataDirectory?: string }): Promise<Recorded> {
  const link = await recordStep(options);
  const envelope = await signMetadata(link, [options.key], options.format);
  const path = resolveIn(options.cwd, inDirectory(options.metadataDirectory, linkFileName(options.name, signerId(envelope))));
  await writeMetadataFile(path, envelope);
  return { path, envelope, link };
}

/** The id of the envelope's last signature: the key a link file is named after (a gpg key's: the subkey's that signed). */
function signerId(envelope: Envelope): string {
  return envelope.signatures.at(-1)!.keyid;
}

/** The file `in-toto-record start` writes, in the working directory: `.<name>.<keyid8>.link-unfinished`. */
export function unfinishedLinkFileName(name: string, keyid: string): string {
  return `.${name}.${keyid.slice(0, 8)}.link-unfinished`;
}

export interface RecordStartOptions extends ArtifactOptions, SigningOptions {
  name: string;
  materials?: readonly string[];
  recordEnvironment?: boolean;
}

/** Records materials into a signed preliminary link, `.<name>.<keyid8>.link-unfinished` in `cwd`. */
export async function recordStart(options: RecordStartOptions): Promise<Recorded> {
  const link: LinkJSON = {
    _type: 'link',
    name: options.name,
    materials: await recordPaths(options.materials, options),
    products: {},
    byproducts: {},
    command: [],
    environment: environmentOf(options.cwd ?? process.cwd(), options.recordEnvironment),
  };
  // The preliminary link has no products yet, so it cannot be a Statement (which needs a subject): DSSE instead.
  const envelope = await signMetadata(link, [options.key], options.format === 'attestation' ? 'dsse' : options.format);
  const path = resolveIn(options.cwd, unfinishedLinkFileName(options.name, signerId(envelope)));
  await writeMetadataFile(path, envelope);
  return { path, envelope, link };
}

export interface RecordStopOptions extends ArtifactOptions, SigningOptions {
  name: string;
  products?: readonly string[];
  metadataDirectory?: string;
}

/**
 * Completes the preliminary link of `recordStart`: checks that `key` signed it, records products, signs the
 * link again and writes `<metadataDirectory>/<name>.<keyid8>.link`, then removes the preliminary file. The
 * preliminary link is read as the reference reads it (unknown fields dropped); either format is accepted,
 * `format` decides the one written.
 */
export async function recordStop(options: RecordStopOptions): Promise<Recorded> {
  const key = options.key;
  const unfinished = resolveIn(options.cwd, isGpgSigner(key) ? await findUnfinished(options.name, options.cwd) : unfinishedLinkFileName(options.name, key.keyid));
  let bytes: Uint8Array;
  try {
    bytes = await readFile(unfinished);
  } catch (error) {
    const missing = (error as NodeJS.ErrnoException).code === 'ENOENT';
    const why = missing ? `no preliminary link for step '${options.name}' signed by key ${isGpgSigner(key) ? '' : key.keyid.slice(0, 8)}... (run 'in-toto-record start' first)` : (error as Error).message;
    throw new InTotoError('IO', `cannot read ${unfinished}: ${why}`, { path: unfinished, step: options.name }, { cause: error });
  }
  const envelope = readEnvelope(bytes);
  if (isGpgSigner(key)) {
    // As the reference: the keyring's key (the one named, else the preliminary link's signer) must have signed it.
    const id = key.keyid?.replace(/!$/, '') ?? envelope.signatures[0]?.keyid;
    if (!id) throw new InTotoError('SIGNATURE', `the preliminary link ${unfinished} is not signed`, { path: unfinished });
    await verifySignatureBy(envelope, await gpgExportKey(id, key.homedir));
  } else {
    await verifySignatureBy(envelope, key);
  }
  const link: LinkJSON = { ...linkToJSON(parseLink(envelope.signed, { root: 'signed' })), products: await recordPaths(options.products, options) };
  const signed = await signMetadata(link, [options.key], options.format);
  const path = resolveIn(options.cwd, inDirectory(options.metadataDirectory, linkFileName(options.name, signerId(signed))));
  await writeMetadataFile(path, signed);
  try {
    await unlink(unfinished);
  } catch (error) {
    throw new InTotoError('IO', `wrote ${path} but cannot remove ${unfinished}: ${(error as Error).message}`, { path: unfinished }, { cause: error });
  }
  return { path, envelope: signed, link };
}

/**
 * The one preliminary link of step `name` in `cwd` (`.<name>.*.link-unfinished`), for a gpg key, whose file
 * name's id is only known once gpg has signed (the reference globs the same way).
 */
async function findUnfinished(name: string, cwd: string | undefined): Promise<string> {
  const prefix = `.${name}.`;
  const found = (await readdir(cwd ?? process.cwd()).catch(() => [])).filter((f) => f.startsWith(prefix) && f.endsWith('.link-unfinished')).sort();
  if (found.length === 0) throw new InTotoError('IO', `could not find a preliminary link for step '${name}' in ${cwd ?? 'the current directory'} (run 'in-toto-record start' first)`, { step: name });
  if (found.length > 1) {
    throw new InTotoError('IO', `found more than one preliminary link for step '${name}': ${found.join(', ')}; exactly one is needed to stop recording`, { step: name });
  }
  return found[0]!;
}

/**
 * `in-toto-mock`: runs `command` recording its streams, with `.` as materials and products and the
 * reference's defaults for everything else, and writes the link unsigned to `<name>.link` in `cwd`.
 */
export async function mockStep(options: { name: string; command: readonly string[]; cwd?: string; echo?: boolean; onPhase?: StepOptions['onPhase']; onSkip?: RecordOptions['onSkip'] }): Promise<Recorded> {
  const link = await recordStep({ ...options, materials: ['.'], products: ['.'], recordStreams: true });
  const envelope = createMetablock(link as unknown as Record<string, unknown>);
  const path = resolveIn(options.cwd, `${options.name}.link`);
  await writeMetadataFile(path, envelope);
  return { path, envelope, link };
}

/** How local artifacts differ from a link's products; each list sorted by code point. */
export interface ProductsMatch {
  /** In the link's products, not found here. */
  onlyInProducts: string[];
  /** Found here, not in the link's products. */
  notInProducts: string[];
  /** In both, with other digests (whole digest sets are compared, as in the reference). */
  differ: string[];
}

/**
 * Records `paths` (default `.`) and compares them with `link`'s products, as in-toto 2.x's
 * `in_toto_match_products`. It does not check the link's signature: that is the caller's business.
 */
export async function matchProducts(link: Link, options: ArtifactOptions & { paths?: readonly string[] } = {}): Promise<ProductsMatch> {
  const local = await recordPaths(options.paths ?? ['.'], options);
  const here = new Map(Object.entries(local));
  const sameDigests = (a: Readonly<Record<string, string>>, b: Readonly<Record<string, string>>) => {
    const keys = Object.keys(a);
    return keys.length === Object.keys(b).length && keys.every((k) => Object.hasOwn(b, k) && a[k] === b[k]);
  };
  const onlyInProducts: string[] = [];
  const differ: string[] = [];
  for (const [path, digests] of link.products) {
    const found = here.get(path);
    if (found === undefined) onlyInProducts.push(path);
    else if (!sameDigests(digests, found)) differ.push(path);
  }
  const notInProducts = [...here.keys()].filter((path) => !link.products.has(path));
  return { onlyInProducts: onlyInProducts.sort(compareCodePoints), notInProducts: notInProducts.sort(compareCodePoints), differ: differ.sort(compareCodePoints) };
}

/** A new envelope around `signed` (a link or layout as plain JSON), signed by each key in turn. */
export async function signMetadata(signed: LinkJSON | Record<string, unknown>, keys: readonly SigningKey[], format: MetadataFormat = 'metablock'): Promise<Envelope> {
  const plain = signed as Record<string, unknown>;
  if (format === 'attestation' && plain._type !== 'link') {
    throw new InTotoError('FORMAT', `only a link can be written as an attestation (a Statement with a link predicate), not a ${JSON.stringify(plain._type)}`, { field: '_type' });
  }
  let envelope: Envelope =
    format === 'attestation' ? createDsse(linkToStatement(plain as unknown as LinkJSON)) : format === 'dsse' ? createDsse(plain) : createMetablock(plain);
  for (const key of keys) envelope = await addSignature(envelope, key);
  return envelope;
}

/** The envelope with a signature by `key` (one by the same key id replaced). */
async function addSignature(envelope: Envelope, key: SigningKey): Promise<Envelope> {
  if (!isGpgSigner(key)) return signEnvelope(envelope, key);
  if (envelope.kind !== 'metablock') {
    throw new InTotoError('UNSUPPORTED', 'OpenPGP signatures exist in Metablocks only (the reference has no OpenPGP form for DSSE): sign DSSE envelopes with a key file');
  }
  const entry = await gpgSign(envelope.signedBytes, key);
  return { ...envelope, signatures: [...envelope.signatures.filter((s) => s.keyid !== entry.keyid), { ...entry }] };
}

/**
 * `in-toto-sign`: the envelope signed again by `keys`, earlier signatures kept only with `append`. A
 * Metablock's `signed` is read and written back as the reference's models do (unknown fields dropped, so
 * earlier signatures over them no longer verify, as there); a DSSE payload is kept byte for byte.
 */
export async function resignMetadata(envelope: Envelope, keys: readonly SigningKey[], options: { append?: boolean; attestation?: boolean } = {}): Promise<Envelope> {
  const signatures = options.append ? envelope.signatures : [];
  // An attestation (a Statement in DSSE) is signed as it is: its payload is kept byte for byte.
  if (envelope.kind === 'dsse' && isStatement(envelope.signed)) {
    let signed: Envelope = { ...envelope, signatures };
    for (const key of keys) signed = await addSignature(signed, key);
    return signed;
  }
  const model = parseSigned(envelope.signed, { root: envelope.kind === 'metablock' ? 'signed' : 'payload' });
  if (options.attestation && model.type !== 'link') throw new InTotoError('FORMAT', 'only a link can be written as an attestation (a Statement with a link predicate), not a layout', { field: '_type' });
  let signed: Envelope = options.attestation
    ? { ...createDsse(linkToStatement(linkToJSON(model as Link))), signatures: [] }
    : envelope.kind === 'dsse'
      ? { ...envelope, signatures }
      : { ...createMetablock((model.type === 'link' ? linkToJSON(model) : layoutToJSON(model)) as unknown as Record<string, unknown>), signatures };
  for (const key of keys) signed = await addSignature(signed, key);
  return signed;
}

/** Writes an envelope as the reference writes metadata (see `serializeEnvelope`), atomically. */
export async function writeMetadataFile(path: string, envelope: Envelope): Promise<void> {
  await writeFileAtomic(path, serializeEnvelope(envelope));
}

/**
 * Writes `data` to `path` through a temporary file in the same directory, flushed, then renamed over `path`:
 * readers see the old file or the new one, never a part, and on any failure the temporary file is removed.
 * `mode` is applied to a new file under the umask, as open(2) does (0o666 gives what python's `open` gives).
 */
export async function writeFileAtomic(path: string, data: Uint8Array | string, mode = 0o666): Promise<void> {
  const temp = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
  let handle: FileHandle | undefined;
  try {
    handle = await open(temp, 'wx', mode);
    await handle.writeFile(data);
    await handle.sync();
    await handle.close();
    handle = undefined;
    await rename(temp, path);
  } catch (error) {
    await handle?.close().catch(() => {});
    await unlink(temp).catch(() => {});
    // Node's message names the call and the temporary file (", open '/dir/.x.link.1a2b.tmp'"): the path is ours.
    const reason = (error as Error).message.replace(/, \w+ '.*'$/, '');
    const missing = (error as NodeJS.ErrnoException).code === 'ENOENT' ? `; the directory ${dirname(path)} does not exist: create it, or write elsewhere (-d)` : '';
    throw new InTotoError('IO', `cannot write ${path}: ${reason}${missing}`, { path }, { cause: error });
  }
}

async function recordPaths(paths: readonly string[] | undefined, options: ArtifactOptions): Promise<ArtifactDict> {
  const cwd = options.cwd ?? process.cwd();
  return recordArtifacts(paths ?? [], {
    excludePatterns: options.excludePatterns,
    // As after the reference's chdir(base_path): relative to the working directory, not normalized.
    basePath: options.basePath ? resolveIn(cwd, options.basePath) : cwd,
    lstripPaths: options.lstripPaths,
    normalizeLineEndings: options.normalizeLineEndings,
    followSymlinkDirs: options.followSymlinkDirs ?? true,
    algorithms: options.algorithms,
    threads: options.threads,
    onSkip: options.onSkip,
  });
}

function environmentOf(cwd: string, record: boolean | undefined): LinkJSON['environment'] {
  return record ? { workdir: cwd.replaceAll('\\', '/') } : {};
}

/** os.path.join(directory, file), without normalizing (`--metadata-directory`). */
function inDirectory(directory: string | undefined, file: string): string {
  return directory ? `${directory.replace(/\/+$/, '')}/${file}` : file;
}

/** `path` under `cwd` unless absolute, concatenated so that `..` resolves as the kernel resolves it. */
function resolveIn(cwd: string | undefined, path: string): string {
  return isAbsolute(path) ? path : `${cwd ?? process.cwd()}/${path}`;
}
