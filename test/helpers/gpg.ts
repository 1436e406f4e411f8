/**
 * Throwaway GnuPG home directories with keys of controlled shapes, made by the real `gpg` binary.
 *
 * Every call runs gpg non-interactively against an explicit `--homedir` (and GNUPGHOME, so helpers gpg
 * spawns itself, like gpg-agent, agree), never against ~/.gnupg. Keys have no passphrase. Each gpg call
 * is killed after 60 s, and every failure throws an Error carrying the command line and gpg's stderr.
 *
 * Calls on the same home are serialized: gpg locks its keyring anyway, and generateKey/addSubkey find
 * the new key by diffing the key list before and after, which only works one at a time.
 *
 * Written against GnuPG 2.2.40. Quirks worth knowing:
 *  - `--generate-revocation` refuses to run under `--batch` ("can't do this in batch mode"), so
 *    revokeKey prefers the certificate gpg pre-made at key generation and otherwise drives the command
 *    without `--batch` (but with `--no-tty` and `--command-fd`).
 *  - A bare number as an expiry means *days* to gpg; here a string of digits means seconds and is
 *    passed as `seconds=N`.
 *  - `--faked-system-time N` lets the clock run on from N; `N!` freezes it there.
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const GPG = 'gpg';
const GPGCONF = 'gpgconf';
const TIMEOUT_MS = 60_000;

export interface GpgHome {
  /** The GnuPG home directory (used as both --homedir and GNUPGHOME). */
  readonly dir: string;
  /** Stops this home's gpg-agent and deletes the directory. Safe to call twice. */
  close(): Promise<void>;
}

/** Anything with a home directory: a GpgHome, or a hand-made `{ dir }`. */
export type GpgHomeLike = Pick<GpgHome, 'dir'>;

export type PrimaryAlgo = 'rsa2048' | 'rsa3072' | 'dsa2048' | 'ed25519';
export type SubkeyAlgo = PrimaryAlgo | 'cv25519';

export interface GenerateKeyOptions {
  algo: PrimaryAlgo;
  /** User id; a unique `in-toto test N <test-N@example.invalid>` when omitted. */
  uid?: string;
  /** quick-gen-key usage list, e.g. 'sign,cert' or 'cert' (the primary then cannot sign data). Default: 'default' (sign,cert). */
  usage?: string;
  /** '1d', '2y', 'never', an ISO date, or a string of digits meaning seconds. Default 'never'. */
  expire?: string;
  /** Unix seconds: create the key as if the clock read this (and stood still), e.g. to make it already expired. */
  fakedSystemTime?: number;
}

export interface AddSubkeyOptions {
  algo: SubkeyAlgo;
  usage: 'sign' | 'encr' | 'auth';
  /** As for GenerateKeyOptions.expire. Default 'never'. */
  expire?: string;
  fakedSystemTime?: number;
}

/** One `pub` or `sub` record of `--with-colons` output with the fingerprint that follows it. */
export interface ColonKey {
  /** Field 2: 'u' ultimate, 'r' revoked, 'e' expired, 'i' invalid, ... */
  validity: string;
  keyid: string;
  /** 40 lowercase hex digits. */
  fpr: string;
  /** Field 12: key capabilities, e.g. 'scSC' (upper case = of the whole key). */
  capabilities: string;
  /** Unix seconds. */
  created: number;
  /** Unix seconds, or undefined when the key does not expire. */
  expires: number | undefined;
}

export interface ColonPrimary extends ColonKey {
  uids: string[];
  subkeys: ColonKey[];
}

// ---------------------------------------------------------------------------------------------------
// Running gpg

interface RunOptions {
  /** Bytes fed to gpg's stdin (then closed). */
  input?: Uint8Array | string;
  /**
   * Answers gpg's prompts: gpg is run with `--command-fd 0 --status-fd 3`, and for every GET_LINE /
   * GET_BOOL / GET_HIDDEN status line the keyword (e.g. 'keyedit.prompt') is passed here; the returned
   * line is written to stdin. Returning undefined aborts: gpg asked something we did not expect.
   */
  respond?: (keyword: string) => string | undefined;
  /** Pass --batch (default true). Turned off only for commands that refuse to run in batch mode. */
  batch?: boolean;
}

interface RunResult {
  stdout: Buffer;
  stderr: string;
}

/** Lets gpg use secret keys without ever asking: no passphrase, and no pinentry (answered by gpg itself). */
const NO_PASSPHRASE = ['--pinentry-mode', 'loopback', '--passphrase', ''];

function quote(arg: string): string {
  return /^[\w@%+=:,./!-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}

function commandLine(program: string, args: readonly string[]): string {
  return [program, ...args].map(quote).join(' ');
}

/** Runs a program with GNUPGHOME=dir, a 60 s timeout, and rejects with command line + stderr on failure. */
function run(program: string, dir: string, args: string[], opts: RunOptions = {}): Promise<RunResult> {
  const cmd = commandLine(program, args);
  return new Promise((resolve, reject) => {
    const child = spawn(program, args, {
      env: { ...process.env, GNUPGHOME: dir },
      // fd 3 carries gpg's status lines when we answer prompts, so they never mix with data or messages.
      stdio: opts.respond ? ['pipe', 'pipe', 'pipe', 'pipe'] : ['pipe', 'pipe', 'pipe'],
    });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    const status: string[] = [];
    let failure: string | undefined;
    const fail = (why: string) => {
      failure ??= why;
      child.kill('SIGKILL');
    };
    const timer = setTimeout(() => fail(`timed out after ${TIMEOUT_MS / 1000} s`), TIMEOUT_MS);

    child.stdout!.on('data', (b: Buffer) => stdout.push(b));
    child.stderr!.on('data', (b: Buffer) => stderr.push(b));
    // gpg may exit before reading all of stdin; the exit code tells what happened, not EPIPE.
    child.stdin!.on('error', () => {});

    if (opts.respond) {
      const respond = opts.respond;
      let pending = '';
      (child.stdio[3] as NodeJS.ReadableStream).on('data', (b: Buffer) => {
        pending += b.toString('utf8');
        let nl: number;
        while ((nl = pending.indexOf('\n')) >= 0) {
          const line = pending.slice(0, nl);
          pending = pending.slice(nl + 1);
          status.push(line);
          const m = /^\[GNUPG:\] GET_(?:LINE|BOOL|HIDDEN) (\S+)/.exec(line);
          if (!m) continue;
          const answer = respond(m[1]!);
          if (answer === undefined) fail(`unexpected prompt ${m[1]}`);
          else child.stdin!.write(`${answer}\n`);
        }
      });
    } else {
      child.stdin!.end(opts.input ?? '');
    }

    child.on('error', (err) => {
      clearTimeout(timer);
      reject(new Error(`${cmd}: ${err.message}`));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const err = Buffer.concat(stderr).toString('utf8');
      if (failure === undefined && code === 0) {
        resolve({ stdout: Buffer.concat(stdout), stderr: err });
        return;
      }
      const why = failure ?? (signal ? `killed by ${signal}` : `exit code ${code}`);
      const transcript = status.length ? `\nstatus:\n${status.slice(-20).join('\n')}` : '';
      reject(new Error(`${cmd} failed (${why})\nstderr:\n${err.trim()}${transcript}`));
    });
  });
}

/** gpg against `dir`, with the options every call wants. */
function gpg(dir: string, args: string[], opts: RunOptions = {}): Promise<RunResult> {
  const base = [
    '--homedir', dir,
    // Never open /dev/tty, even when --batch must be left off.
    '--no-tty',
    ...(opts.batch === false ? [] : ['--batch']),
    ...(opts.respond ? ['--command-fd', '0', '--status-fd', '3'] : []),
  ];
  return run(GPG, dir, [...base, ...args], opts);
}

/** Serializes the exported operations per home directory (see the module comment). */
const queues = new Map<string, Promise<void>>();

async function exclusive<T>(dir: string, fn: () => Promise<T>): Promise<T> {
  const previous = queues.get(dir) ?? Promise.resolve();
  let release!: () => void;
  const tail = previous.then(() => new Promise<void>((r) => (release = r)));
  queues.set(dir, tail);
  await previous;
  try {
    return await fn();
  } finally {
    release();
    if (queues.get(dir) === tail) queues.delete(dir);
  }
}

// ---------------------------------------------------------------------------------------------------
// Parsing --with-colons output

/** Parses `--with-colons --list-keys --with-subkey-fingerprints` output into primaries and subkeys. */
export function parseKeyList(text: string): ColonPrimary[] {
  const keys: ColonPrimary[] = [];
  let awaitingFpr: ColonKey | undefined;
  for (const line of text.split('\n')) {
    const f = line.split(':');
    if (f[0] === 'pub' || f[0] === 'sub') {
      const key: ColonKey = {
        validity: f[1] ?? '',
        keyid: (f[4] ?? '').toLowerCase(),
        fpr: '',
        capabilities: f[11] ?? '',
        created: Number(f[5]),
        expires: f[6] ? Number(f[6]) : undefined,
      };
      if (f[0] === 'pub') {
        const pub: ColonPrimary = { ...key, uids: [], subkeys: [] };
        keys.push(pub);
        awaitingFpr = pub;
      } else {
        awaitingFpr = key;
        keys.at(-1)?.subkeys.push(key);
      }
    } else if (f[0] === 'fpr' && awaitingFpr) {
      // A key's fingerprint record follows its pub/sub record directly.
      awaitingFpr.fpr = (f[9] ?? '').toLowerCase();
      awaitingFpr = undefined;
    } else if (f[0] === 'uid') {
      keys.at(-1)?.uids.push(f[9] ?? '');
    }
  }
  return keys;
}

async function listKeysRaw(dir: string, ...selectors: string[]): Promise<string> {
  const { stdout } = await gpg(dir, ['--with-colons', '--list-keys', '--with-subkey-fingerprints', ...selectors]);
  return stdout.toString('utf8');
}

async function primaries(dir: string): Promise<ColonPrimary[]> {
  return parseKeyList(await listKeysRaw(dir));
}

async function primary(dir: string, fpr: string): Promise<ColonPrimary> {
  const found = (await primaries(dir)).find((k) => k.fpr === fpr.toLowerCase());
  if (!found) throw new Error(`no key ${fpr} in ${dir}\n${await listKeysRaw(dir)}`);
  return found;
}

// ---------------------------------------------------------------------------------------------------
// Option helpers

function expireArg(expire: string | undefined): string {
  if (expire === undefined) return 'never';
  // gpg reads a bare number as days; callers here mean seconds.
  return /^\d+$/.test(expire) ? `seconds=${expire}` : expire;
}

function fakedTimeArgs(seconds: number | undefined): string[] {
  if (seconds === undefined) return [];
  if (!Number.isSafeInteger(seconds) || seconds <= 0) throw new Error(`fakedSystemTime must be positive unix seconds, got ${seconds}`);
  // The trailing '!' freezes the clock at that instant instead of letting it run on from there.
  return ['--faked-system-time', `${seconds}!`];
}

let uidCounter = 0;

// ---------------------------------------------------------------------------------------------------
// Exports

/** True when a `gpg` binary runs. */
export function hasGpg(): boolean {
  try {
    execFileSync(GPG, ['--version'], { stdio: 'ignore', timeout: 10_000 });
    return true;
  } catch {
    return false;
  }
}

/** Creates a fresh, empty GnuPG home (mode 0700) configured for batch use. */
export async function makeGpgHome(): Promise<GpgHome> {
  // gpg-agent listens on a unix socket inside the home when /run/user/UID is absent, and socket paths
  // are limited to ~107 bytes, so keep the path short even where os.tmpdir() is long (macOS).
  const base = tmpdir().length <= 64 || !existsSync('/tmp') ? tmpdir() : '/tmp';
  const dir = await mkdtemp(join(base, 'itg-'));
  await chmod(dir, 0o700); // gpg warns about (and may distrust) a group/world-readable home.
  await writeFile(
    join(dir, 'gpg.conf'),
    [
      '# Tests must be hermetic: never fetch keys from keyservers, WKD or DNS, and do not start dirmngr.',
      'no-auto-key-retrieve',
      'no-auto-key-locate',
      'disable-dirmngr',
      'no-greeting',
      '',
    ].join('\n'),
  );
  await writeFile(
    join(dir, 'gpg-agent.conf'),
    [
      '# Let gpg supply the (empty) passphrase itself with --pinentry-mode loopback; never run a pinentry.',
      'allow-loopback-pinentry',
      '# No smartcards here; do not start scdaemon.',
      'disable-scdaemon',
      '',
    ].join('\n'),
  );
  let closed = false;
  return {
    dir,
    async close() {
      if (closed) return;
      closed = true;
      let killError: unknown;
      try {
        // Stops the gpg-agent (and anything else) started for this home; otherwise it lingers.
        await run(GPGCONF, dir, ['--homedir', dir, '--kill', 'all']);
      } catch (err) {
        killError = err;
      }
      await rm(dir, { recursive: true, force: true });
      queues.delete(dir);
      if (killError) throw killError;
    },
  };
}

/** Generates a primary key (no subkeys) and returns its fingerprint, 40 lowercase hex digits. */
export function generateKey(home: GpgHomeLike, opts: GenerateKeyOptions): Promise<string> {
  return exclusive(home.dir, async () => {
    const uid = opts.uid ?? `in-toto test ${++uidCounter} <test-${uidCounter}@example.invalid>`;
    const before = new Set((await primaries(home.dir)).map((k) => k.fpr));
    await gpg(home.dir, [
      ...NO_PASSPHRASE,
      ...fakedTimeArgs(opts.fakedSystemTime),
      // Without --yes, a second key for an existing uid is refused in batch mode.
      '--yes',
      '--quick-generate-key', uid, opts.algo, opts.usage ?? 'default', expireArg(opts.expire),
    ]);
    const created = (await primaries(home.dir)).filter((k) => !before.has(k.fpr));
    if (created.length !== 1) {
      throw new Error(`expected exactly one new key after generating ${opts.algo}, found ${created.length}\n${await listKeysRaw(home.dir)}`);
    }
    return created[0]!.fpr;
  });
}

/**
 * Adds a subkey to `primaryFpr` and returns the subkey's fingerprint. A fakedSystemTime before the
 * primary's creation fails ("Time conflict"): back-date the primary further (e.g. 3 years for a subkey
 * created 2 years ago).
 */
export function addSubkey(home: GpgHomeLike, primaryFpr: string, opts: AddSubkeyOptions): Promise<string> {
  return exclusive(home.dir, async () => {
    const before = new Set((await primary(home.dir, primaryFpr)).subkeys.map((k) => k.fpr));
    await gpg(home.dir, [
      ...NO_PASSPHRASE,
      ...fakedTimeArgs(opts.fakedSystemTime),
      '--quick-add-key', primaryFpr, opts.algo, opts.usage, expireArg(opts.expire),
    ]);
    const created = (await primary(home.dir, primaryFpr)).subkeys.filter((k) => !before.has(k.fpr));
    if (created.length !== 1) {
      throw new Error(`expected exactly one new subkey on ${primaryFpr}, found ${created.length}\n${await listKeysRaw(home.dir)}`);
    }
    return created[0]!.fpr;
  });
}

/** Revokes the primary key `fpr` (reason: none given), and checks gpg now lists it as revoked. */
export function revokeKey(home: GpgHomeLike, fpr: string): Promise<void> {
  return exclusive(home.dir, async () => {
    const premade = join(home.dir, 'openpgp-revocs.d', `${fpr.toUpperCase()}.rev`);
    let cert: string;
    if (existsSync(premade)) {
      // gpg writes one at key generation, with the armor header prefixed by ':' so that an accidental
      // import does nothing; dropping the ':' makes it importable.
      cert = (await readFile(premade, 'utf8')).replace(/^:(-----BEGIN PGP PUBLIC KEY BLOCK-----)$/m, '$1');
    } else {
      // Not made here (e.g. an imported key): generate one. --generate-revocation refuses --batch.
      const answers: Record<string, string> = {
        'gen_revoke.okay': 'y',
        'ask_revocation_reason.code': '0', // no reason specified
        'ask_revocation_reason.text': '', // empty line ends the description
        'ask_revocation_reason.okay': 'y',
      };
      const { stdout } = await gpg(home.dir, [...NO_PASSPHRASE, '--armor', '--generate-revocation', fpr], {
        batch: false,
        respond: (keyword) => answers[keyword],
      });
      cert = stdout.toString('utf8');
    }
    await gpg(home.dir, ['--import'], { input: cert });
    const key = await primary(home.dir, fpr);
    if (key.validity !== 'r') {
      throw new Error(`key ${fpr} is not listed as revoked (validity '${key.validity}')\n${await listKeysRaw(home.dir, fpr)}`);
    }
  });
}

/** Revokes one subkey of `primaryFpr` (reason: none given), and checks gpg now lists it as revoked. */
export function revokeSubkey(home: GpgHomeLike, primaryFpr: string, subkeyFpr: string): Promise<void> {
  return exclusive(home.dir, async () => {
    const sub = subkeyFpr.toLowerCase();
    if (!(await primary(home.dir, primaryFpr)).subkeys.some((k) => k.fpr === sub)) {
      throw new Error(`${subkeyFpr} is not a subkey of ${primaryFpr}\n${await listKeysRaw(home.dir, primaryFpr)}`);
    }
    // --quick-revoke-uid covers uids only; subkeys need the --edit-key menu. `key <fingerprint>` selects
    // exactly that subkey (safer than an index); without a selection, revkey would revoke the whole key,
    // and its prompt (keyedit.revoke.okay rather than keyedit.revoke.subkey.okay) would fail below.
    const commands = [`key ${subkeyFpr}`, 'revkey', 'save'];
    const answers: Record<string, string> = {
      'keyedit.revoke.subkey.okay': 'y',
      'ask_revocation_reason.code': '0',
      'ask_revocation_reason.text': '',
      'ask_revocation_reason.okay': 'y',
    };
    await gpg(home.dir, [...NO_PASSPHRASE, '--edit-key', primaryFpr], {
      respond: (keyword) => (keyword === 'keyedit.prompt' ? commands.shift() : answers[keyword]),
    });
    const after = (await primary(home.dir, primaryFpr)).subkeys.find((k) => k.fpr === sub);
    if (after?.validity !== 'r') {
      throw new Error(`subkey ${subkeyFpr} is not listed as revoked (validity '${after?.validity}')\n${await listKeysRaw(home.dir, primaryFpr)}`);
    }
  });
}

/**
 * Sets the expiry of the primary key `fpr`, or, when `subkeyFprs` is given, of those subkeys only
 * (`['*']` means all subkeys). `expire` as for GenerateKeyOptions.expire.
 */
export function setExpiry(home: GpgHomeLike, fpr: string, expire: string, subkeyFprs?: string[]): Promise<void> {
  return exclusive(home.dir, async () => {
    await gpg(home.dir, [...NO_PASSPHRASE, '--quick-set-expire', fpr, expireArg(expire), ...(subkeyFprs ?? [])]);
  });
}

/** The public key `fpr` with its uids and subkeys, binary or ASCII-armored. */
export function exportKey(home: GpgHomeLike, fpr: string, opts: { armor?: boolean } = {}): Promise<Uint8Array> {
  return exclusive(home.dir, async () => {
    const args = [...(opts.armor ? ['--armor'] : []), '--export', fpr];
    const { stdout, stderr } = await gpg(home.dir, args);
    // gpg exits 0 with nothing on stdout when nothing matched ("nothing exported").
    if (stdout.length === 0) throw new Error(`${commandLine(GPG, args)} exported nothing\nstderr:\n${stderr.trim()}`);
    return new Uint8Array(stdout);
  });
}

/**
 * A binary detached signature over `data` by `keyid` (fingerprint, key id or uid). gpg picks the
 * newest usable signing (sub)key of that key; append '!' (e.g. `${subkeyFpr}!`) to force one key.
 */
export function detachSign(
  home: GpgHomeLike,
  keyid: string,
  data: Uint8Array,
  opts: { digestAlgo?: string; fakedSystemTime?: number } = {},
): Promise<Uint8Array> {
  return exclusive(home.dir, async () => {
    const { stdout } = await gpg(
      home.dir,
      [
        ...NO_PASSPHRASE,
        ...fakedTimeArgs(opts.fakedSystemTime),
        '--detach-sign',
        '--digest-algo', opts.digestAlgo ?? 'SHA256',
        '--local-user', keyid,
        // Binary output even if someone sets `armor` in a gpg.conf.
        '--no-armor',
        '--output', '-',
      ],
      { input: data },
    );
    if (stdout.length === 0) throw new Error(`gpg produced no signature for ${keyid}`);
    return new Uint8Array(stdout);
  });
}

/** `--with-colons --list-keys --with-subkey-fingerprints` for the whole home (see parseKeyList). */
export function listKeys(home: GpgHomeLike): Promise<string> {
  return exclusive(home.dir, () => listKeysRaw(home.dir));
}
