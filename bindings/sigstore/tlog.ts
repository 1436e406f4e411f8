/**
 * A transparency log entry's inclusion: the RFC 9162 (RFC 6962) Merkle inclusion proof of the entry's body under
 * the proof's root, and the signed checkpoint (a signed note: origin, tree size, root hash) that commits the log to
 * that root, signed by the log's key. One piece of Sigstore bundle verification (issue 18); the rest (the key's
 * validity at the entry's time, the entry's body against the bundle, signed entry timestamps) is built on it.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { fromBase64, toBase64 } from '../encoding.js';
import { InTotoError } from '../errors.js';
import { verify } from '../keys/crypto/index.js';
import type { PublicKey } from '../keys/keys.js';
import type { TlogEntry } from './bundle.js';

const fail = (message: string, field = 'inclusionProof') => new InTotoError('SIGNATURE', message, { field });

const concat = (...parts: Uint8Array[]) => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) (out.set(p, at), (at += p.length));
  return out;
};
const sameBytes = (a: Uint8Array, b: Uint8Array) => a.length === b.length && a.every((x, i) => x === b[i]);

/** RFC 9162 §2.1.1: a leaf's hash is SHA-256(0x00 || leaf). */
export function leafHash(leaf: Uint8Array): Uint8Array {
  return sha256(concat(new Uint8Array([0]), leaf));
}

/**
 * The root an inclusion proof gives for `leaf` at `index` of a tree of `size` leaves (RFC 9162 §2.1.3.2), or
 * undefined when the proof has the wrong length for that position.
 */
export function rootFromInclusionProof(index: bigint, size: bigint, leaf: Uint8Array, proof: readonly Uint8Array[]): Uint8Array | undefined {
  if (index < 0n || index >= size) return undefined;
  let fn = index;
  let sn = size - 1n;
  let r = leaf;
  for (const p of proof) {
    if (p.length !== 32 || sn === 0n) return undefined;
    if ((fn & 1n) === 1n || fn === sn) {
      r = sha256(concat(new Uint8Array([1]), p, r));
      if ((fn & 1n) === 0n) {
        while ((fn & 1n) === 0n && fn !== 0n) {
          fn >>= 1n;
          sn >>= 1n;
        }
      }
    } else {
      r = sha256(concat(new Uint8Array([1]), r, p));
    }
    fn >>= 1n;
    sn >>= 1n;
  }
  return sn === 0n ? r : undefined;
}

export interface Checkpoint {
  readonly origin: string;
  readonly size: bigint;
  readonly rootHash: Uint8Array;
  /** The signed text: every body line, each with its newline. */
  readonly body: Uint8Array;
  readonly signatures: readonly { readonly name: string; readonly hint: Uint8Array; readonly signature: Uint8Array }[];
}

/**
 * Reads a signed note (transparency-dev/formats log checkpoint): body lines (origin, decimal tree size, base64 root
 * hash, optional extension lines), a blank line, then signature lines `— <name> <base64(4-byte key hint || sig)>`.
 */
export function readCheckpoint(note: string): Checkpoint {
  const split = note.indexOf('\n\n');
  if (split < 0) throw fail('the checkpoint has no blank line between its body and its signatures', 'checkpoint');
  const bodyText = note.slice(0, split + 1);
  const lines = bodyText.slice(0, -1).split('\n');
  if (lines.length < 3) throw fail('the checkpoint body needs an origin, a tree size and a root hash', 'checkpoint');
  const [origin, sizeText, rootText] = lines as [string, string, string];
  if (origin === '') throw fail('the checkpoint has no origin', 'checkpoint');
  if (!/^(0|[1-9]\d{0,19})$/.test(sizeText)) throw fail(`the checkpoint's tree size "${sizeText}" is not a decimal number`, 'checkpoint');
  const rootHash = fromBase64(rootText);
  if (!rootHash || rootHash.length !== 32) throw fail("the checkpoint's root hash is not 32 bytes of base64", 'checkpoint');
  const signatures = note
    .slice(split + 2)
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => {
      const m = /^\u2014 (\S+) (\S+)$/.exec(line);
      const raw = m ? fromBase64(m[2]!) : undefined;
      if (!m || !raw || raw.length < 5) throw fail(`a checkpoint signature line is malformed: ${JSON.stringify(line.slice(0, 80))}`, 'checkpoint');
      return { name: m[1]!, hint: raw.subarray(0, 4), signature: raw.subarray(4) };
    });
  if (signatures.length === 0) throw fail('the checkpoint carries no signature', 'checkpoint');
  return { origin, size: BigInt(sizeText), rootHash, body: new TextEncoder().encode(bodyText), signatures };
}

/**
 * The 4-byte key hints a log key may sign a note under: SHA-256 of its DER SubjectPublicKeyInfo (Rekor v1's
 * ECDSA keys), and for Ed25519 the signed-note form SHA-256(name || "\n" || 0x01 || raw key).
 */
function keyHints(key: PublicKey, name: string): Uint8Array[] {
  const hints = [sha256(key.spki).subarray(0, 4)];
  if (key.keytype === 'ed25519') {
    const raw = key.spki.subarray(key.spki.length - 32);
    hints.push(sha256(concat(new TextEncoder().encode(`${name}\n`), new Uint8Array([1]), raw)).subarray(0, 4));
  }
  return hints;
}

/**
 * Verifies that `entry` is included in the log whose key is `logKey`: its body's leaf hash, through the inclusion
 * proof, gives the proof's root; the checkpoint names that root and tree size; and a checkpoint signature under the
 * log's key hint verifies with the log's key. Throws `SIGNATURE` naming what did not hold.
 */
export async function verifyInclusion(entry: TlogEntry, logKey: PublicKey): Promise<Checkpoint> {
  const proof = entry.inclusionProof;
  if (!proof) throw fail('the log entry has no inclusion proof');
  const root = rootFromInclusionProof(proof.logIndex, proof.treeSize, leafHash(entry.canonicalizedBody), proof.hashes);
  if (!root) throw fail(`the inclusion proof has the wrong shape for entry ${proof.logIndex} of a tree of ${proof.treeSize}`);
  if (!sameBytes(root, proof.rootHash)) throw fail("the inclusion proof does not lead to the proof's root hash: the entry is not in that tree");
  if (proof.checkpoint === undefined) throw fail('the inclusion proof has no signed checkpoint', 'checkpoint');
  const checkpoint = readCheckpoint(proof.checkpoint);
  if (checkpoint.size !== proof.treeSize) throw fail(`the checkpoint is for a tree of ${checkpoint.size}, the proof for ${proof.treeSize}`, 'checkpoint');
  if (!sameBytes(checkpoint.rootHash, proof.rootHash)) throw fail("the checkpoint's root hash is not the proof's", 'checkpoint');
  const name = checkpoint.origin.split(' ')[0]!;
  const hints = keyHints(logKey, name);
  const candidates = checkpoint.signatures.filter((s) => s.name === name && hints.some((h) => sameBytes(h, s.hint)));
  if (candidates.length === 0) throw fail(`the checkpoint has no signature by the log (${name}) under its key's hint`, 'checkpoint');
  for (const candidate of candidates) {
    if (await verify(logKey, checkpoint.body, candidate.signature)) return checkpoint;
  }
  throw fail(`the checkpoint's signature by ${name} does not verify with the log's key`, 'checkpoint');
}

/**
 * Verifies a Rekor v1 entry's signed entry timestamp (its inclusion promise): the log's signature over the
 * canonical JSON of `{body, integratedTime, logID, logIndex}` (body in base64, the log id in hex), so that the
 * entry's time and index are the log's word. Throws `SIGNATURE` when it is missing or does not verify.
 */
export async function verifySignedEntryTimestamp(entry: TlogEntry, logKey: PublicKey): Promise<void> {
  if (!entry.inclusionPromise) throw fail('the log entry has no signed entry timestamp (inclusion promise)', 'inclusionPromise');
  if (entry.integratedTime === undefined) throw fail('the log entry has no integrated time to promise', 'integratedTime');
  const hex = Array.from(entry.logId, (b) => b.toString(16).padStart(2, '0')).join('');
  // Sorted keys, no white space: every value is ASCII or an integer, so this is the canonical form.
  const payload = `{"body":"${toBase64(entry.canonicalizedBody)}","integratedTime":${entry.integratedTime},"logID":"${hex}","logIndex":${entry.logIndex}}`;
  if (!(await verify(logKey, new TextEncoder().encode(payload), entry.inclusionPromise))) {
    throw fail(`the signed entry timestamp of entry ${entry.logIndex} does not verify with the log's key`, 'inclusionPromise');
  }
}
