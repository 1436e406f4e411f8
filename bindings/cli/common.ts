/**
 * What the recording tools (in-toto-run, -record, -sign, -keygen, -mock, -match-products) share, so each stays
 * a thin layer over `bindings/record/link.ts` (and what every tool shares: `runTool`, the way each one ends):
 * - `-h` and `--version` answered on stdout, usage errors printed as argparse prints them and exit code 2
 *   (the parsing itself is `args.ts`, shared with in-toto-verify and in-toto-layout);
 * - the reference's user settings, read from `IN_TOTO_*` variables and rc files as `in_toto.user_settings` does;
 * - private keys loaded with `--key-type` and a password given or prompted for (`getpass` on the terminal);
 * - messages at the reference's log levels (`-v` info, default warnings and errors, `-q` nothing);
 * - a progress line on a terminal while artifacts are recorded for more than a second.
 */
import { closeSync, existsSync, openSync, readFileSync, readSync } from 'node:fs';
import { open, readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isatty, ReadStream } from 'node:tty';
import { InTotoError } from '../errors.js';
import type { KeyType, PrivateKey } from '../keys/keys.js';
import { loadPrivateKey } from '../keys/load-private-key.js';
import type { SigningKey, StepPhase } from '../record/link.js';
import { gpgSigner } from '../keys/openpgp/gpg-node.js';
import type { SkipReason } from '../record/record.js';
import { readCommandLine, UsageError, type CommandLine, type OptionSpec, type Parsed } from './args.js';
import { withKeyTypeHint } from './hints.js';

export { VERSION, type CommandLine } from './args.js';
export const KEY_TYPES: readonly KeyType[] = ['rsa', 'ed25519', 'ecdsa'];

// ---- command lines ----------------------------------------------------------------------------------------

/**
 * Parses `argv` with the one parser every tool shares ({@link readCommandLine}). Returns `undefined` when `-h`
 * or `--version` was answered (exit 0); throws `UsageError` (exit 2, see {@link runTool}) for anything
 * argparse refuses, including `-v` with `-q`.
 */
export function parseCommandLine(cli: CommandLine, argv: readonly string[]): Parsed | undefined {
  const invocation = readCommandLine(cli, argv);
  if (invocation.kind === 'run') return invocation.parsed;
  process.stdout.write(invocation.text);
  return undefined;
}

export { runTool, usageError } from './run-tool.js';

/** The one value of a `kind: 'one'` option, if given. */
export function single(parsed: Parsed, name: string): string | undefined {
  return parsed.values.get(name)?.[0];
}

// ---- messages ---------------------------------------------------------------------------------------------

/** The reference's log levels: info with `-v`, warnings and errors by default, nothing with `-q`. */
export class Log {
  constructor(
    private readonly tool: string,
    private readonly level: 'quiet' | 'normal' | 'verbose',
    private readonly progress?: Progress,
  ) {}

  static fromArgs(tool: string, parsed: Parsed, progress?: Progress): Log {
    return new Log(tool, parsed.values.has('verbose') ? 'verbose' : parsed.values.has('quiet') ? 'quiet' : 'normal', progress);
  }

  info(message: string): void {
    if (this.level === 'verbose') this.write(`${message}\n`);
  }

  /** A warning or error message, shown unless `-q`. */
  say(message: string): void {
    if (this.level !== 'quiet') this.write(`${message}\n`);
  }

  /** An error as the reference logs it: `(<tool>) <kind>: <message>`. */
  error(error: unknown): void {
    if (this.level === 'quiet') return;
    const kind = error instanceof InTotoError ? error.code : error instanceof Error ? error.name : 'Error';
    this.write(`(${this.tool}) ${kind}: ${error instanceof Error ? error.message : String(error)}\n`);
  }

  private write(text: string): void {
    this.progress?.clear();
    process.stderr.write(text);
  }
}

/**
 * A progress line on stderr while a long stage runs: the stage, a spinner and the seconds spent, drawn only
 * when stderr is a terminal and only once the stage has taken more than `delayMs` (short runs print nothing).
 * The recorder reports stages, not files, so the line shows time spent, not a fraction done.
 */
export class Progress {
  private label: string | undefined;
  private since = 0;
  private shown = false;
  private frame = 0;
  private readonly timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly tool: string,
    private readonly stream: NodeJS.WriteStream = process.stderr,
    private readonly delayMs = 1000,
  ) {
    // unref: the display never keeps the process alive.
    if (stream.isTTY) this.timer = setInterval(() => this.draw(), 100).unref();
  }

  /** Starts showing `label` (after the delay); `undefined` hides the line, e.g. while a command runs. */
  stage(label: string | undefined): void {
    this.clear();
    this.label = label;
    this.since = performance.now();
  }

  clear(): void {
    if (!this.shown) return;
    this.stream.write('\r\x1b[2K');
    this.shown = false;
  }

  stop(): void {
    clearInterval(this.timer);
    this.clear();
    this.label = undefined;
  }

  private draw(): void {
    const elapsed = performance.now() - this.since;
    if (this.label === undefined || elapsed < this.delayMs) return;
    const spinner = '|/-\\'[this.frame++ % 4];
    this.stream.write(`\r\x1b[2K${this.tool}: ${this.label} ${spinner} ${(elapsed / 1000).toFixed(1)} s`);
    this.shown = true;
  }
}

// ---- settings ---------------------------------------------------------------------------------------------

/** The settings in-toto-run and in-toto-record read, as raw strings (python keeps them as str or list). */
export interface UserSettings {
  ARTIFACT_EXCLUDE_PATTERNS?: string;
  ARTIFACT_BASE_PATH?: string;
  LINK_CMD_EXEC_TIMEOUT?: string;
}

const SETTING_NAMES = ['ARTIFACT_EXCLUDE_PATTERNS', 'ARTIFACT_BASE_PATH', 'LINK_CMD_EXEC_TIMEOUT'] as const;

/** `user_settings.RC_PATHS`, in the order read: a later file overrides an earlier one. */
export function rcPaths(home = homedir()): string[] {
  return ['/etc/in_toto/config', '/etc/in_totorc', join(home, '.config', 'in_toto', 'config'), join(home, '.config', 'in_toto'), join(home, '.in_toto', 'config'), join(home, '.in_totorc'), '.in_totorc'];
}

/**
 * `user_settings.set_settings()`: `IN_TOTO_<NAME>` environment variables, overridden by the rc files
 * (relative paths from `cwd`); empty values do not count. Only the three settings the reference knows.
 */
export function readUserSettings(env: NodeJS.ProcessEnv = process.env, cwd = process.cwd(), home = homedir()): UserSettings {
  const settings: UserSettings = {};
  const rc = readRcFiles(rcPaths(home).map((path) => (path.startsWith('/') ? path : join(cwd, path))));
  for (const name of SETTING_NAMES) {
    const value = rc.get(name) ?? env[`IN_TOTO_${name}`];
    // python's truthiness after `_colon_split`: '' is unset, ':' (a list of two '') is set.
    if (value) settings[name] = value;
  }
  return settings;
}

/**
 * The exclude patterns a setting gives: split at colons, as the reference does. Deliberate difference: a
 * single pattern (no colon) is a list of one here; the reference keeps it a string and then fails to record
 * ("Expected object of type list but got type str").
 */
export function excludePatternsSetting(settings: UserSettings): string[] | undefined {
  return settings.ARTIFACT_EXCLUDE_PATTERNS?.split(':');
}

/**
 * `float(LINK_CMD_EXEC_TIMEOUT)` as python reads it (spaces around, `_` between digits, `inf`); a value with a
 * colon is a list to the reference, which then fails when it runs a command, and so do we.
 */
export function timeoutSetting(settings: UserSettings): number | undefined {
  const raw = settings.LINK_CMD_EXEC_TIMEOUT;
  if (raw === undefined) return undefined;
  const text = raw.trim().toLowerCase();
  const digits = String.raw`\d(?:_?\d)*`;
  const number = new RegExp(`^[+-]?(?:${digits}(?:\\.(?:${digits})?)?|\\.${digits})(?:e[+-]?${digits})?$`);
  let seconds: number;
  if (/^[+-]?(?:inf|infinity)$/.test(text)) seconds = text.startsWith('-') ? -Infinity : Infinity;
  else if (number.test(text)) seconds = Number(text.replaceAll('_', ''));
  else seconds = NaN;
  if (!(seconds >= 0)) {
    // Deliberate difference: python's subprocess takes a negative timeout (and then may or may not time out).
    throw new InTotoError('FORMAT', `LINK_CMD_EXEC_TIMEOUT must be a number of seconds (0 or more), got ${JSON.stringify(raw)}`, { field: 'LINK_CMD_EXEC_TIMEOUT' });
  }
  return seconds;
}

/**
 * What python's `ConfigParser` (with `optionxform = str`) reads from these files, for the reference's
 * `get_rc()`: every option of every section (DEFAULT's options included in each), later ones overriding
 * earlier ones. Files that cannot be read are skipped, as `config.read` skips them. Handled: `[section]`,
 * `key = value` and `key: value`, `#` and `;` comment lines, indented continuation lines, and the basic
 * interpolation `%%` and `%(name)s`; lines python would refuse are skipped.
 */
function readRcFiles(paths: readonly string[]): Map<string, string> {
  const sections = new Map<string, Map<string, string>>();
  for (const path of paths) {
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch {
      continue;
    }
    let section: Map<string, string> | undefined;
    let last: string | undefined;
    for (const line of text.split(/\r\n|\r|\n/)) {
      const trimmed = line.trim();
      if (trimmed.startsWith('#') || trimmed.startsWith(';')) continue;
      if (/^\s/.test(line) && trimmed !== '' && section && last !== undefined) {
        section.set(last, `${section.get(last)}\n${trimmed}`);
        continue;
      }
      if (trimmed === '') {
        last = undefined;
        continue;
      }
      const header = /^\[(.+)\]$/.exec(trimmed);
      if (header) {
        if (!sections.has(header[1]!)) sections.set(header[1]!, new Map());
        section = sections.get(header[1]!);
        last = undefined;
        continue;
      }
      const option = /^(.*?)\s*[=:]\s*(.*)$/.exec(trimmed);
      if (option && section && option[1] !== '') {
        last = option[1]!;
        section.set(last, option[2]!);
      }
    }
  }
  const defaults = sections.get('DEFAULT') ?? new Map<string, string>();
  const merged = new Map<string, string>();
  for (const [name, options] of sections) {
    if (name === 'DEFAULT') continue;
    const scope = new Map([...defaults, ...options]);
    for (const [key, value] of scope) merged.set(key, interpolate(value, scope));
  }
  return merged;
}

/** ConfigParser's BasicInterpolation, one level deep: `%%` is `%`, `%(name)s` another option's value. */
function interpolate(value: string, scope: ReadonlyMap<string, string>): string {
  return value.replace(/%%|%\(([^)]*)\)s/g, (match, name: string | undefined) => (match === '%%' ? '%' : (scope.get(name!) ?? match)));
}

// ---- keys and passwords -----------------------------------------------------------------------------------

/**
 * Loads the private key in `path` as `--key-type` says it is, decrypting it with `password` when given.
 * Errors name the file.
 */
export async function loadSigningKey(path: string, keyType: KeyType, password: string | undefined): Promise<PrivateKey> {
  let data: Uint8Array;
  try {
    data = await readFile(path);
  } catch (error) {
    throw new InTotoError('IO', `cannot read key file ${path}: ${(error as Error).message}`, { path }, { cause: error });
  }
  try {
    return await loadPrivateKey(data, { keyType, password });
  } catch (error) {
    if (error instanceof InTotoError) throw new InTotoError(error.code, `key file ${path}: ${withKeyTypeHint(error.message, '--key-type')}`, { ...error, path }, { cause: error });
    throw error;
  }
}


/**
 * The password `-P/--password` gives, as `parse_password_and_prompt_args` and securesystemslib read it: absent,
 * none; with a value, that value; alone, asked for on the terminal, where nothing entered means none.
 */
export async function passwordOption(parsed: Parsed, keyPath: string, name = 'password'): Promise<string | undefined> {
  const value = parsed.values.get(name);
  if (value === undefined) return undefined;
  if (value.length > 0) return value[0];
  return (await askPassword(`enter password to decrypt private key file '${keyPath}' (leave empty if key not encrypted): `)) || undefined;
}

/**
 * python's `getpass.getpass(prompt, sys.stderr)`: the prompt on stderr, the answer read from the controlling
 * terminal without echo; without a terminal, a line from stdin (with python's warning).
 */
export async function askPassword(prompt: string): Promise<string> {
  const terminal = openTerminal();
  if (terminal !== undefined) return readFromTerminal(terminal, prompt);
  process.stderr.write(`Warning: Password input may be echoed.\n${prompt}`);
  const line = readStdinLine();
  if (line === undefined) throw new InTotoError('KEY_PASSWORD', 'no password entered: the input ended');
  return line;
}

function openTerminal(): number | undefined {
  let fd: number | undefined;
  try {
    fd = openSync('/dev/tty', 'r+');
    if (isatty(fd)) return fd;
  } catch {
    // No controlling terminal (ENXIO): fall back to stdin, as getpass does.
  }
  if (fd !== undefined) closeSync(fd);
  return undefined;
}

function readFromTerminal(fd: number, prompt: string): Promise<string> {
  process.stderr.write(prompt);
  const input = new ReadStream(fd);
  input.setRawMode(true);
  return new Promise((resolve, reject) => {
    let text = '';
    const finish = () => {
      input.setRawMode(false);
      input.off('data', onData);
      input.destroy();
      process.stderr.write('\n');
    };
    const onData = (chunk: Buffer) => {
      for (const ch of chunk.toString('utf8')) {
        if (ch === '\r' || ch === '\n') {
          finish();
          resolve(text);
          return;
        }
        if (ch === '\u0003' || (ch === '\u0004' && text === '')) {
          finish();
          reject(new InTotoError('KEY_PASSWORD', ch === '\u0003' ? 'interrupted while asking for a password' : 'no password entered: the input ended'));
          return;
        }
        if (ch === '\u007f' || ch === '\b') text = Array.from(text).slice(0, -1).join('');
        else text += ch;
      }
    };
    input.on('data', onData);
  });
}

let stdinPending = Buffer.alloc(0);
let stdinEnded = false;

/**
 * One line from stdin without its '\n' (python's fallback getpass strips nothing else), or `undefined` at the
 * end of input. Reads synchronously and keeps what follows the line for the next call (a confirmation).
 */
function readStdinLine(): string | undefined {
  const chunk = Buffer.alloc(4096);
  for (;;) {
    const newline = stdinPending.indexOf(0x0a);
    if (newline >= 0 || stdinEnded) {
      const end = newline >= 0 ? newline : stdinPending.length;
      if (end === 0 && newline < 0) return undefined;
      const line = stdinPending.subarray(0, end).toString('utf8');
      stdinPending = stdinPending.subarray(newline >= 0 ? end + 1 : end);
      return line;
    }
    let n: number;
    try {
      n = readSync(0, chunk, 0, chunk.length, null);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'EOF') n = 0;
      else if (code === 'EAGAIN') {
        // A non-blocking stdin with nothing yet: wait a little, without spinning.
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10);
        continue;
      } else throw new InTotoError('IO', `cannot read a password from stdin: ${(error as Error).message}`, {}, { cause: error });
    }
    if (n === 0) stdinEnded = true;
    else stdinPending = Buffer.concat([stdinPending, chunk.subarray(0, n)]);
  }
}

// ---- what in-toto-run and in-toto-record share ------------------------------------------------------------

/** The options `in_toto.common_args` gives both recording tools, by name. */
export const RECORDING_OPTIONS = {
  stepName: { name: 'step-name', short: 'n', kind: 'one', metavar: '<name>', help: "name of the step: the link is written to '<name>.<keyid prefix>.link' and matched with the layout's step of that name" },
  key: { name: 'key', short: 'k', kind: 'one', metavar: '<path>', help: "private key file to sign the link with; its keyid prefix is part of the link's file name. One of '--key' or '--gpg' is required" },
  keyType: { name: 'key-type', short: 't', kind: 'one', choices: KEY_TYPES, metavar: '{rsa,ed25519,ecdsa}', help: "type of the '--key': 'rsa' (PEM, the default), 'ed25519' or 'ecdsa' (securesystemslib JSON)" },
  password: { name: 'password', short: 'P', kind: 'optional', metavar: '<password>', help: "password of an encrypted '--key'; '-P' alone asks for it. Without one, the key is read as unencrypted (not '-p/--products')" },
  gpg: { name: 'gpg', short: 'g', kind: 'optional', metavar: '<id>', help: "OpenPGP key id to sign with through gpg (its default key when no id is given); the signing (sub)key's id prefix is part of the link's file name" },
  gpgHome: { name: 'gpg-home', kind: 'one', metavar: '<path>', help: "GnuPG home directory of the '--gpg' key (default: gpg's own)" },
  exclude: { name: 'exclude', kind: 'many', metavar: '<pattern>', help: 'gitignore-style patterns of paths not to record; override the IN_TOTO_ARTIFACT_EXCLUDE_PATTERNS setting' },
  basePath: { name: 'base-path', kind: 'one', metavar: '<path>', help: 'directory the artifact paths are relative to, not part of the recorded paths (default: the current directory)' },
  lstripPaths: { name: 'lstrip-paths', kind: 'many', metavar: '<path>', help: 'path prefixes to strip from recorded artifact paths; none may be a prefix of another' },
  metadataDirectory: { name: 'metadata-directory', short: 'd', kind: 'one', metavar: '<directory>', help: 'directory to write the link to (default: the current directory)' },
  useDsse: { name: 'use-dsse', kind: 'flag', help: 'write the link as a DSSE envelope instead of a Metablock' },
  attestation: { name: 'attestation', kind: 'flag', help: 'write the link as an in-toto attestation: a Statement v1 (subjects: the products) with a link v0.3 predicate, in DSSE (in-toto 1.3.1 does not read attestations)' },
  verbose: { name: 'verbose', short: 'v', kind: 'flag', help: 'show more output' },
  quiet: { name: 'quiet', short: 'q', kind: 'flag', help: 'suppress all output' },
} as const satisfies Record<string, OptionSpec>;

/** The reference's check, made before anything is loaded: exactly one of `--key` and `--gpg`. */
export function requireKeyOrGpg(parsed: Parsed): void {
  if (parsed.values.has('key') === parsed.values.has('gpg')) throw new UsageError("Specify either '--key <key path>' or '--gpg [<keyid>]'");
}

/** The `--key` with its `--key-type` (default rsa, as the reference) and `-P` password, or the `--gpg` key in `--gpg-home`. */
export async function signingKeyFromArgs(parsed: Parsed): Promise<SigningKey> {
  if (parsed.values.has('gpg')) return gpgSigner(parsed.values.get('gpg')![0], single(parsed, 'gpg-home'));
  const path = single(parsed, 'key')!;
  return loadSigningKey(path, (single(parsed, 'key-type') ?? 'rsa') as KeyType, await passwordOption(parsed, path));
}

/** Artifact options from the command line, then the user settings, as `record_artifacts_as_dict` picks them. */
export function artifactOptionsFromArgs(parsed: Parsed, settings: UserSettings, log: Log) {
  return {
    excludePatterns: parsed.values.get('exclude') ?? excludePatternsSetting(settings),
    basePath: single(parsed, 'base-path') || settings.ARTIFACT_BASE_PATH,
    lstripPaths: parsed.values.get('lstrip-paths'),
    onSkip: skipLogger(log),
  };
}

/** The reference's info messages for paths it leaves out. */
export function skipLogger(log: Log): (path: string, reason: SkipReason) => void {
  return (path, reason) => {
    if (reason === 'missing') log.info(`path: ${path} does not exist, skipping..`);
    else if (reason === 'not-a-file') log.info(`File '${path}' appears to be a broken symlink. Skipping...`);
    else if (reason === 'unlistable') log.info(`Directory '${path}' cannot be listed. Skipping...`);
    else log.info(`Directory '${path}' leads back to a directory being recorded. Skipping...`);
  };
}

/**
 * Runs a recording tool's work, which returns the path of the link it wrote, and ends as the reference's tools
 * do: the link's path logged and exit 0, or the error logged and exit 1 (nothing is written then). The
 * progress line is cleared either way; errors that are not the library's are bugs and propagate.
 */
export async function recordingOutcome(log: Log, progress: Progress, what: string, work: () => Promise<string>): Promise<number> {
  try {
    const path = await work();
    progress.stop();
    log.info(`Storing ${what} to '${relative(process.cwd(), path)}'...`);
    return 0;
  } catch (error) {
    progress.stop();
    if (!(error instanceof InTotoError)) throw error;
    log.error(error);
    return 1;
  }
}

/** Logs each stage as the reference does at info level, and shows it on the progress line. */
export function phaseReporter(log: Log, progress: Progress): (phase: StepPhase, detail: readonly string[]) => void {
  return (phase, detail) => {
    if (phase === 'command') {
      log.info(`Running command '${detail.join(' ')}'...`);
      // The command may write to the terminal: no progress line over it.
      progress.stage(undefined);
      return;
    }
    if (detail.length > 0) log.info(`Recording ${phase} '${detail.join(', ')}'...`);
    progress.stage(`recording ${phase}`);
  };
}

/** The metadata format the recording flags ask for (`--attestation` wins over `--use-dsse`). */
export function formatOf(parsed: Parsed): 'metablock' | 'dsse' | 'attestation' {
  return parsed.values.has('attestation') ? 'attestation' : parsed.values.has('use-dsse') ? 'dsse' : 'metablock';
}

/**
 * A data file shipped in the package (`data/...`, such as the Sigstore trusted root a verification trusts), found
 * from the tool that runs (`dist/cli/common.js`, or a bundle in `bin/`) in the package's own directory: the nearest
 * directory above it whose package.json names this package. Never a directory beside the package: from `bin/`,
 * `../../data` is `node_modules/data`, which anyone who can add a package can fill.
 */
export function packageDataFile(relative: string): URL {
  let dir = new URL('./', import.meta.url);
  for (let up = 0; up < 3; up++, dir = new URL('../', dir)) {
    const manifest = new URL('package.json', dir);
    if (existsSync(manifest) && packageName(manifest) === PACKAGE_NAME) return new URL(relative, dir);
  }
  throw new InTotoError('IO', `cannot find the directory of the ${PACKAGE_NAME} package (its package.json) above ${fileURLToPath(import.meta.url)}, to read its ${relative}`);
}

const PACKAGE_NAME = 'in-toto-wasm';

function packageName(manifest: URL): unknown {
  try {
    return (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: unknown }).name;
  } catch {
    return undefined;
  }
}

/** A file a tool reads, whole; an `IO` error naming what it is and why it cannot be read. */
/** Largest input file a tool reads whole (a key, a layout, a bundle, a VSA): /dev/zero must not fill the memory. */
const MAX_INPUT_FILE = 64 << 20;

export async function readInputFile(path: string | URL, what: string): Promise<Uint8Array> {
  let handle;
  try {
    handle = await open(path, 'r');
  } catch (error) {
    throw new InTotoError('IO', `cannot read ${what} ${String(path)}: ${(error as Error).message}`, { path: String(path) }, { cause: error });
  }
  try {
    // Read in chunks up to the limit: a device or a pipe has no size to check first.
    const chunks: Uint8Array[] = [];
    let total = 0;
    for (;;) {
      const chunk = new Uint8Array(Math.min(1 << 20, MAX_INPUT_FILE + 1 - total));
      const { bytesRead } = await handle.read(chunk, 0, chunk.length, null);
      if (bytesRead === 0) break;
      chunks.push(chunk.subarray(0, bytesRead));
      total += bytesRead;
      if (total > MAX_INPUT_FILE) throw new InTotoError('LIMIT', `${what} ${String(path)} is larger than ${MAX_INPUT_FILE} bytes`, { path: String(path) });
    }
    if (chunks.length === 1) return chunks[0]!;
    const out = new Uint8Array(total);
    let at = 0;
    for (const chunk of chunks) {
      out.set(chunk, at);
      at += chunk.length;
    }
    return out;
  } catch (error) {
    if (error instanceof InTotoError) throw error;
    throw new InTotoError('IO', `cannot read ${what} ${String(path)}: ${(error as Error).message}`, { path: String(path) }, { cause: error });
  } finally {
    await handle.close();
  }
}
