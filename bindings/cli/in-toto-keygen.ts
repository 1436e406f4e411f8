#!/usr/bin/env node
/**
 * in-toto-keygen with the reference's flags and exit codes (0 written, 1 failed, 2 usage): writes a new key pair
 * to `<filename>` (private, mode 0600) and `<filename>.pub`, in the formats securesystemslib 0.26 writes and
 * reads (RSA as PEM; ed25519 and ecdsa as its JSON). With `-p` it asks for a password (twice) and encrypts the
 * private key as the reference does: RSA as OpenSSL's traditional encrypted PEM (AES-256-CBC), ed25519 and
 * ecdsa in securesystemslib's format (PBKDF2-HMAC-SHA256, 100,000 rounds; AES-256-CTR; HMAC-SHA256).
 */
import { createCipheriv, createHmac, createPrivateKey, pbkdf2Sync, randomBytes } from 'node:crypto';
import { mkdir, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { generateKeyPair } from '../keys/crypto/index.js';
import { initEngine } from '../engine.js';
import { InTotoError } from '../errors.js';
import { keyToPrivateFile, keyToPublicFile, type KeyType, type PrivateKey } from '../keys/keys.js';
import { writeFileAtomic } from '../record/link.js';
import { UsageError, type OptionSpec } from './args.js';
import { askPassword, KEY_TYPES, Log, parseCommandLine, runTool, single } from './common.js';
import { exitCodeOf } from './exit-code.js';

const OPTIONS: readonly OptionSpec[] = [
  { name: 'prompt', short: 'p', kind: 'flag', help: 'ask for a password to encrypt the private key with (none entered: not encrypted)' },
  { name: 'type', short: 't', kind: 'one', choices: KEY_TYPES, metavar: '{rsa,ed25519,ecdsa}', help: "type of the key: 'rsa' (PEM files, the default), 'ed25519' or 'ecdsa' (securesystemslib JSON files)" },
  { name: 'bits', short: 'b', kind: 'one', metavar: '<bits>', help: 'size of an RSA key, 3072 by default (at least 2048)' },
];

const CLI = {
  tool: 'in-toto-keygen',
  usage: 'in-toto-keygen [-h] [-p] [-t {rsa,ed25519,ecdsa}] [-b <bits>] [--version] <filename>',
  description:
    "Generates a key pair and writes it to '<filename>' (private key) and '<filename>.pub' (public key), for\n" +
    'signing and verifying links and layouts. Exits 0 when both are written, 1 on failure, 2 on wrong arguments.',
  options: OPTIONS,
  examples: [
    { does: 'an Ed25519 key pair, alice and alice.pub', command: 'in-toto-keygen -t ed25519 alice' },
    { does: 'a 3072-bit RSA key pair whose private key is encrypted with a password you are asked for', command: 'in-toto-keygen -t rsa -b 3072 -p carol' },
  ],
};

/** securesystemslib's `PBKDF2_ITERATIONS` and salt size. */
const PBKDF2_ITERATIONS = 100_000;
const SALT_BYTES = 16;

async function main(argv: readonly string[]): Promise<number> {
  const parsed = parseCommandLine(CLI, argv);
  if (!parsed) return 0;
  if (parsed.rest.length === 0) throw new UsageError('the following arguments are required: <filename>');
  if (parsed.rest.length > 1) throw new UsageError(`unrecognized arguments: ${parsed.rest.slice(1).join(' ')}`);
  const bitsText = single(parsed, 'bits');
  // python's int(): spaces around, '_' between digits, a sign.
  if (bitsText !== undefined && !/^\s*[+-]?\d(?:_?\d)*\s*$/.test(bitsText)) throw new UsageError(`argument -b/--bits: invalid int value: '${bitsText}'`);
  const type = (single(parsed, 'type') ?? 'rsa') as KeyType;
  const path = parsed.rest[0]!;

  const log = new Log(CLI.tool, 'normal');
  return exitCodeOf(log, async () => {
    await initEngine();
    const bits = bitsText === undefined ? undefined : Number(bitsText.trim().replaceAll('_', ''));
    let key: PrivateKey;
    try {
      key = await generateKeyPair(type, type === 'rsa' ? { bits } : {});
    } catch (error) {
      if (error instanceof RangeError) throw new InTotoError('FORMAT', error.message, { field: 'bits' }, { cause: error });
      throw error;
    }
    const password = parsed.values.has('prompt') ? await askNewPassword(path) : undefined;
    const privateText = password === undefined ? keyToPrivateFile(key) : encryptPrivateKey(key, password);
    await ensureParentDirectory(path);
    await writeFileAtomic(`${path}.pub`, keyToPublicFile(key), 0o644);
    await writeFileAtomic(path, privateText, 0o600);
    return 0;
  });
}

/**
 * securesystemslib's `ensure_parent_dir`: creates the missing directories above `path`, one at a time (Node's
 * recursive mkdir retries forever where a parent refuses new entries with ENOENT, as /proc does).
 */
async function ensureParentDirectory(path: string): Promise<void> {
  const missing: string[] = [];
  for (let dir = dirname(path); ; dir = dirname(dir)) {
    try {
      await stat(dir);
      break;
    } catch {
      if (dirname(dir) === dir) break;
      missing.unshift(dir);
    }
  }
  for (const dir of missing) {
    await mkdir(dir).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== 'EEXIST') throw new InTotoError('IO', `cannot create the directory ${dir} for ${path}: ${error.message}`, { path: dir }, { cause: error });
    });
  }
}

/** securesystemslib's encryption prompt: asked twice until both agree; nothing entered means no encryption. */
async function askNewPassword(path: string): Promise<string | undefined> {
  for (;;) {
    const password = await askPassword(`enter password to encrypt private key file '${path}' (leave empty if key should not be encrypted): `);
    const again = await askPassword('Confirm: ');
    if (password === again) return password === '' ? undefined : password;
    process.stdout.write('Mismatch; try again.\n');
  }
}

/** The encrypted private key file the reference writes (see the module comment); what `loadPrivateKey` decrypts. */
function encryptPrivateKey(key: PrivateKey, password: string): string {
  if (key.keytype === 'rsa') {
    const pem = createPrivateKey({ key: Buffer.from(key.pkcs8), format: 'der', type: 'pkcs8' });
    return pem.export({ format: 'pem', type: 'pkcs1', cipher: 'aes-256-cbc', passphrase: password }) as string;
  }
  // securesystemslib's rsa_keys._encrypt: one derived key for both AES-256-CTR (a 128-bit counter from a
  // random IV) and the HMAC over the ciphertext; the plaintext is the unencrypted key file's JSON.
  const salt = randomBytes(SALT_BYTES);
  const derived = pbkdf2Sync(password, salt, PBKDF2_ITERATIONS, 32, 'sha256');
  const iv = randomBytes(16);
  const cipher = createCipheriv('aes-256-ctr', derived, iv);
  const ciphertext = Buffer.concat([cipher.update(keyToPrivateFile(key), 'utf8'), cipher.final()]);
  const mac = createHmac('sha256', derived).update(ciphertext).digest('hex');
  return [salt.toString('hex'), String(PBKDF2_ITERATIONS), mac, iv.toString('hex'), ciphertext.toString('hex')].join('@@@@');
}

runTool(CLI, main);
