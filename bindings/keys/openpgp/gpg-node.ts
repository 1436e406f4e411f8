/**
 * Signing with, and exporting keys from, a GnuPG keyring through the `gpg` binary, as the reference does
 * (securesystemslib `gpg.functions.create_signature`, `export_pubkey`). Node only; verification never needs
 * gpg (see `signature.ts`, `key.ts`).
 *
 * The binary is `$GNUPG` when set, else `gpg2` or `gpg`, whichever runs first (the reference's order).
 */
import { spawn } from 'node:child_process';
import { InTotoError } from '../../errors.js';
import { gpgKeyFromExport, type GpgPublicKey } from './key.js';
import { signatureFromPacket, type GpgSignature } from './signature.js';

/** A key in a GnuPG keyring, to sign with through `gpg`. */
export interface GpgSigner {
  readonly kind: 'gpg';
  /** The key's id (fingerprint or its end); gpg's default key when absent. A subkey is chosen by gpg unless it ends in `!`. */
  readonly keyid?: string;
  /** `--homedir`: the keyring's directory; gpg's default (`$GNUPGHOME`, `~/.gnupg`) when absent. */
  readonly homedir?: string;
}

export function isGpgSigner(key: unknown): key is GpgSigner {
  return typeof key === 'object' && key !== null && (key as { kind?: unknown }).kind === 'gpg';
}

/** The reference's `KEYID_SCHEMA` (hex), and gpg's `!` suffix that picks exactly that (sub)key. */
const KEYID = /^[0-9a-fA-F]+!?$/;

/** A signer for `keyid` in the keyring at `homedir`; checks the id's form (the reference's `KEYID_SCHEMA`). */
export function gpgSigner(keyid?: string, homedir?: string): GpgSigner {
  if (keyid !== undefined && !KEYID.test(keyid)) throw new InTotoError('KEY', `${JSON.stringify(keyid)} is not an OpenPGP key id (hex digits)`);
  return { kind: 'gpg', ...(keyid !== undefined ? { keyid } : {}), ...(homedir !== undefined ? { homedir } : {}) };
}

/**
 * Signs `data` with `gpg --detach-sign --digest-algo SHA256` and returns the reference's signature entry.
 * gpg older than 2.1 names only the 8-byte issuer id: the full id is then found by exporting the key.
 */
export async function gpgSign(data: Uint8Array, signer: GpgSigner): Promise<GpgSignature> {
  const args = ['--detach-sign', '--digest-algo', 'SHA256', ...(signer.keyid ? ['--local-user', signer.keyid] : []), ...homeArgs(signer.homedir)];
  const out = await runGpg(args, data);
  const { shortKeyid, ...signature } = signatureFromPacket(out);
  if (signature.keyid) return signature;
  if (!shortKeyid) throw new InTotoError('SIGNATURE', 'gpg wrote a signature that names no issuer key');
  const key = await gpgExportKey(shortKeyid, signer.homedir);
  const full = [key.keyid, ...key.subkeys.keys()].find((id) => id.endsWith(shortKeyid));
  if (!full) throw new InTotoError('KEY', `the full id of signing key ${shortKeyid} could not be found in its exported key`, { keyid: shortKeyid });
  return { ...signature, keyid: full };
}

/** `gpg --export KEYID`, read as the reference's `export_pubkey` (the master key with its signing subkeys). */
export async function gpgExportKey(keyid: string, homedir?: string): Promise<GpgPublicKey> {
  if (!KEYID.test(keyid) || keyid.endsWith('!')) throw new InTotoError('KEY', `${JSON.stringify(keyid)} is not an OpenPGP key id (hex digits)`);
  const out = await runGpg([...homeArgs(homedir), '--export', keyid]);
  if (out.length === 0) throw new InTotoError('KEY', `no OpenPGP key ${keyid} in ${homedir ? `the keyring at ${homedir}` : "gpg's default keyring"}`, { keyid });
  return gpgKeyFromExport(out, keyid);
}

/** Several keys, by their fingerprints (the reference's `export_pubkeys`). */
export async function gpgExportKeys(keyids: readonly string[], homedir?: string): Promise<GpgPublicKey[]> {
  const keys: GpgPublicKey[] = [];
  for (const keyid of keyids) keys.push(await gpgExportKey(keyid, homedir));
  return keys;
}

function homeArgs(homedir: string | undefined): string[] {
  return homedir !== undefined ? ['--homedir', homedir] : [];
}

let gpgCommand: Promise<string> | undefined;

/** `$GNUPG`, else the first of `gpg2` and `gpg` that runs. */
function findGpg(): Promise<string> {
  return (gpgCommand ??= (async () => {
    const candidates = process.env.GNUPG ? [process.env.GNUPG] : ['gpg2', 'gpg'];
    for (const command of candidates) {
      if (await runs(command)) return command;
    }
    throw new InTotoError('UNSUPPORTED', `signing with OpenPGP keys needs GnuPG: none of ${candidates.join(', ')} could be run`);
  })());
}

function runs(command: string): Promise<boolean> {
  return new Promise((resolve) => {
    const child = spawn(command, ['--version'], { stdio: 'ignore' });
    child.on('error', () => resolve(false));
    child.on('close', (code) => resolve(code === 0));
  });
}

/** Runs gpg with `args` (and `--batch`-free, as the reference: a passphrase may be asked by its agent), stdin `input`. */
async function runGpg(args: readonly string[], input?: Uint8Array): Promise<Uint8Array> {
  const command = await findGpg();
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => err.push(chunk));
    child.on('error', (cause) => reject(new InTotoError('IO', `cannot run ${command}: ${cause.message}`, {}, { cause })));
    child.on('close', (code) => {
      if (code === 0) resolve(new Uint8Array(Buffer.concat(out)));
      else {
        const stderr = Buffer.concat(err).toString('utf8').trim();
        reject(new InTotoError('KEY', `'${[command, ...args].join(' ')}' exited with ${code}${stderr ? `: ${stderr}` : ''}`));
      }
    });
    child.stdin.on('error', () => {}); // gpg may exit before reading everything; its exit code says why
    child.stdin.end(input ?? new Uint8Array(0));
  });
}
