/**
 * Merkle inclusion proofs (RFC 9162) and signed checkpoints, on trees built here: every leaf of trees of 1 to 33
 * leaves proves its inclusion, and any change to the leaf, the index, the size or a proof hash does not.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { describe, expect, it } from 'vitest';
import { leafHash, readCheckpoint, rootFromInclusionProof } from '../../bindings/sigstore/tlog.js';

const node = (l: Uint8Array, r: Uint8Array) => sha256(new Uint8Array([1, ...l, ...r]));
/** RFC 9162 §2.1.1: the root of leaves [lo, hi), split at the largest power of two below the count. */
function mth(leaves: Uint8Array[]): Uint8Array {
  if (leaves.length === 1) return leaves[0]!;
  let k = 1;
  while (k * 2 < leaves.length) k *= 2;
  return node(mth(leaves.slice(0, k)), mth(leaves.slice(k)));
}
/** RFC 9162 §2.1.3.1: the audit path of leaf m in leaves. */
function path(m: number, leaves: Uint8Array[]): Uint8Array[] {
  if (leaves.length === 1) return [];
  let k = 1;
  while (k * 2 < leaves.length) k *= 2;
  return m < k ? [...path(m, leaves.slice(0, k)), mth(leaves.slice(k))] : [...path(m - k, leaves.slice(k)), mth(leaves.slice(0, k))];
}

describe('inclusion proofs', () => {
  // (The tree size is bound by the signed checkpoint, which names both the size and the root: a proof read under
  // another size may give the same root, and the checkpoint's size then differs.)
  it('every leaf of trees of 1 to 33 leaves: its proof gives the root; another leaf, index or hash does not', () => {
    for (let size = 1; size <= 33; size++) {
      const leaves = Array.from({ length: size }, (_, i) => leafHash(new TextEncoder().encode(`entry ${i}`)));
      const root = mth(leaves);
      for (let m = 0; m < size; m++) {
        const proof = path(m, leaves);
        expect(rootFromInclusionProof(BigInt(m), BigInt(size), leaves[m]!, proof)).toEqual(root);
        const other = rootFromInclusionProof(BigInt(m), BigInt(size), leafHash(new TextEncoder().encode('forged')), proof);
        expect(other).not.toEqual(root);
        if (size > 1) {
          expect(rootFromInclusionProof(BigInt((m + 1) % size), BigInt(size), leaves[m]!, proof) ?? new Uint8Array()).not.toEqual(root);
          const bent = proof.map((h, i) => (i === 0 ? h.map((b, j) => (j === 0 ? b ^ 1 : b)) : h));
          expect(rootFromInclusionProof(BigInt(m), BigInt(size), leaves[m]!, bent) ?? new Uint8Array()).not.toEqual(root);
        }
      }
    }
  });

  it('refuses an index outside the tree, a proof too long, and hashes that are not 32 bytes', () => {
    const leaf = leafHash(new Uint8Array([1]));
    expect(rootFromInclusionProof(3n, 3n, leaf, [])).toBeUndefined();
    expect(rootFromInclusionProof(0n, 1n, leaf, [leaf])).toBeUndefined();
    expect(rootFromInclusionProof(0n, 2n, leaf, [new Uint8Array(31)])).toBeUndefined();
  });
});

describe('signed checkpoints', () => {
  const root = Buffer.from(new Uint8Array(32).fill(7)).toString('base64');
  const sig = Buffer.from(new Uint8Array(20).fill(9)).toString('base64');
  it('reads origin, size, root and each signature line (its 4-byte hint apart); the body is what was signed', () => {
    const c = readCheckpoint(`rekor.example - 123\n42\n${root}\nextra line\n\n\u2014 rekor.example ${sig}\n\u2014 witness ${sig}\n`);
    expect(c).toMatchObject({ origin: 'rekor.example - 123', size: 42n });
    expect(c.signatures.map((s) => [s.name, s.hint.length, s.signature.length])).toEqual([['rekor.example', 4, 16], ['witness', 4, 16]]);
    expect(new TextDecoder().decode(c.body)).toBe(`rekor.example - 123\n42\n${root}\nextra line\n`);
  });

  it.each([
    ['no blank line', `o\n1\n${root}\n\u2014 o ${sig}\n`, /no blank line/],
    ['no root hash', `o\n1\n\n\u2014 o ${sig}\n`, /needs an origin, a tree size and a root hash/],
    ['a size that is not a number', `o\nten\n${root}\n\n\u2014 o ${sig}\n`, /tree size/],
    ['a signature line with an ASCII hyphen', `o\n1\n${root}\n\n- o ${sig}\n`, /malformed/],
    ['no signature', `o\n1\n${root}\n\n`, /no signature/],
  ])('refuses %s', (_name, note, message) => {
    expect(() => readCheckpoint(note)).toThrow(message);
  });
});

describe('verifyInclusion', () => {
  it('an entry in a tree whose checkpoint the log signed is included; a wrong key, root, size, hint or body is not', async () => {
    const { initEngine } = await import('../../bindings/engine.js');
    const { generateKeyPair, sign } = await import('../../bindings/keys/crypto/index.js');
    const { verifyInclusion } = await import('../../bindings/sigstore/tlog.js');
    await initEngine();
    const [log, other] = await Promise.all([generateKeyPair('ed25519'), generateKeyPair('ed25519')]);
    const bodies = Array.from({ length: 6 }, (_, i) => new TextEncoder().encode(`{"entry":${i}}`));
    const leaves = bodies.map(leafHash);
    const root = mth(leaves);
    const b64 = (b: Uint8Array) => Buffer.from(b).toString('base64');
    const note = async (key: typeof log, size = 6, rootHash = root, hint = sha256(key.publicKey.spki).subarray(0, 4)) => {
      const body = `log.example - 1\n${size}\n${b64(rootHash)}\n`;
      const signature = await sign(key, new TextEncoder().encode(body));
      return `${body}\n\u2014 log.example ${b64(new Uint8Array([...hint, ...signature]))}\n`;
    };
    const entry = async (i: number, checkpoint: string, body = bodies[i]!) => ({
      logIndex: BigInt(i), logId: new Uint8Array(32), kind: 'hashedrekord', version: '0.0.1', canonicalizedBody: body,
      inclusionProof: { logIndex: BigInt(i), rootHash: root, treeSize: 6n, hashes: path(i, leaves), checkpoint },
    });
    for (let i = 0; i < 6; i++) await expect(verifyInclusion(await entry(i, await note(log)), log.publicKey)).resolves.toMatchObject({ size: 6n });
    const refused = async (e: Awaited<ReturnType<typeof entry>>) => (await verifyInclusion(e, log.publicKey).then(() => 'included', (error: Error) => error.message));
    expect(await refused(await entry(2, await note(other)))).toMatch(/no signature by the log .* under its key's hint/);
    expect(await refused(await entry(2, await note(other, 6, root, sha256(log.publicKey.spki).subarray(0, 4))))).toMatch(/does not verify/);
    expect(await refused(await entry(2, await note(log, 7)))).toMatch(/checkpoint is for a tree of 7/);
    expect(await refused(await entry(2, await note(log, 6, new Uint8Array(32))))).toMatch(/root hash is not the proof's/);
    expect(await refused(await entry(2, await note(log), new TextEncoder().encode('{"entry":"forged"}')))).toMatch(/does not lead to the proof's root hash/);
  });
});

describe('verifySignedEntryTimestamp', () => {
  it("verifies the log's ECDSA signature over the canonical {body, integratedTime, logID, logIndex}; any changed field fails", async () => {
    const { initEngine } = await import('../../bindings/engine.js');
    const { generateKeyPair, sign } = await import('../../bindings/keys/crypto/index.js');
    const { verifySignedEntryTimestamp } = await import('../../bindings/sigstore/tlog.js');
    await initEngine();
    const log = await generateKeyPair('ecdsa');
    const body = new TextEncoder().encode('{"kind":"hashedrekord"}');
    const logId = new Uint8Array(32).fill(0xab);
    const payload = `{"body":"${Buffer.from(body).toString('base64')}","integratedTime":1700000000,"logID":"${'ab'.repeat(32)}","logIndex":42}`;
    const promise = await sign(log, new TextEncoder().encode(payload));
    const entry = { logIndex: 42n, logId, kind: 'hashedrekord', version: '0.0.1', integratedTime: 1700000000n, inclusionPromise: promise, canonicalizedBody: body };
    await expect(verifySignedEntryTimestamp(entry, log.publicKey)).resolves.toBeUndefined();
    for (const changed of [{ integratedTime: 1700000001n }, { logIndex: 43n }, { logId: new Uint8Array(32) }, { canonicalizedBody: new TextEncoder().encode('{}') }]) {
      await expect(verifySignedEntryTimestamp({ ...entry, ...changed }, log.publicKey)).rejects.toMatchObject({ code: 'SIGNATURE' });
    }
    await expect(verifySignedEntryTimestamp({ ...entry, inclusionPromise: undefined } as never, log.publicKey)).rejects.toThrow(/no signed entry timestamp/);
  });
});
