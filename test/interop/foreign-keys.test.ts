/**
 * Keys from in-toto-golang, in-toto-rs, in-toto python >= 2 and the DSSE spec: every key id expected.json lists
 * (K1, K2, K3, golang's ECDSA labels) computed here, every key file read (or refused with a typed error, where
 * the file is malformed or its curve unsupported), and each private key signing what its public half verifies.
 * Read in place from IN_TOTO_FOREIGN_VECTORS (npm run test:interop).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { sign, verify } from '../../bindings/keys/crypto/index.js';
import { initEngine } from '../../bindings/engine.js';
import { InTotoError } from '../../bindings/errors.js';
import {
  type PrivateKey,
  type PublicKey,
  type Scheme,
  keyIds,
  keyidCandidates,
  loadPublicKey,
  publicKeyFromDict,
} from '../../bindings/keys/keys.js';
import { loadPrivateKey } from '../../bindings/keys/load-private-key.js';
import { foreignVectors } from './vectors.js';

const FOREIGN = foreignVectors();
const read = (path: string): Buffer => readFileSync(join(FOREIGN, path));
const expected = JSON.parse(read('expected.json').toString()) as {
  keyids: Record<string, KeyidEntry>;
  encrypted_pem_password: { password: string };
};

interface KeyidEntry {
  key: string;
  keytype: string;
  scheme: Scheme;
  K1_sslib_legacy: string;
  K2_no_hash_algorithms: string;
  K3_no_hash_algorithms_pem_with_newline?: string;
  K1_with_curve_scheme?: { scheme: Scheme; keyid: string };
  asserted_upstream: Record<string, string>;
}

beforeAll(async () => {
  await initEngine();
});

async function error(promise: Promise<unknown> | (() => unknown)): Promise<InTotoError> {
  try {
    await (typeof promise === 'function' ? promise() : promise);
  } catch (e) {
    if (e instanceof InTotoError) return e;
    throw e;
  }
  throw new Error('did not throw');
}

/** Curves we cannot verify with (no securesystemslib scheme, no WebCrypto): their ids are computed from the PEM. */
const UNSUPPORTED_CURVE = new Set(['in-toto-golang/test/data/heidi.pub', 'in-toto-golang/test/data/erin.pub']);

/** The public key of each expected.json entry, read as its file is. */
async function keyOf(path: string): Promise<PublicKey> {
  if (path.endsWith('owner.der')) return (await loadPrivateKey(read(path))).publicKey;
  return loadPublicKey(read(path));
}

describe('key ids of every collected key', () => {
  const entries = Object.entries(expected.keyids);

  it('covers every key expected.json lists', () => {
    expect(entries.length).toBe(20);
  });

  it.each(entries)('%s: K1, K2, K3 and the upstream ids', async (path, entry) => {
    let ids: ReturnType<typeof keyIds>;
    let candidates: string[];
    if (UNSUPPORTED_CURVE.has(path)) {
      const refused = await error(() => loadPublicKey(read(path)));
      expect(refused.code).toBe('KEY');
      expect(refused.message).toMatch(/unsupported elliptic curve 1\.3\.132\.0\.(33|10), (P-224|secp256k1)/);
      const fields = { keytype: 'ecdsa', scheme: entry.scheme, public: read(path).toString().trim() };
      ids = keyIds(fields);
      candidates = keyidCandidates(fields);
      if (entry.K1_with_curve_scheme) expect(keyIds(fields, entry.K1_with_curve_scheme.scheme).legacy).toBe(entry.K1_with_curve_scheme.keyid);
    } else {
      const key = await keyOf(path);
      expect(key.keytype).toBe(entry.keytype);
      ids = keyIds(key, entry.scheme);
      candidates = keyidCandidates(key);
      if (entry.K1_with_curve_scheme) {
        // The key's own label is its curve's; golang's default label gives golang's default id.
        expect(key.scheme).toBe(entry.K1_with_curve_scheme.scheme);
        expect(key.keyid).toBe(entry.K1_with_curve_scheme.keyid);
        expect(loadPublicKey(read(path), { scheme: 'ecdsa-sha2-nistp256' }).keyid).toBe(entry.K1_sslib_legacy);
      }
    }
    expect(ids.legacy).toBe(entry.K1_sslib_legacy);
    expect(ids.noHashAlgorithms).toBe(entry.K2_no_hash_algorithms);
    if (entry.K3_no_hash_algorithms_pem_with_newline) expect(ids.pemWithNewline).toBe(entry.K3_no_hash_algorithms_pem_with_newline);
    // Whichever id an implementation gave the key, a signature carrying it names this key.
    // (P-224 has no scheme of its own here: its curve-labelled id is computed above, not a candidate.)
    const curveId = UNSUPPORTED_CURVE.has(path) ? undefined : entry.K1_with_curve_scheme?.keyid;
    for (const id of [entry.K1_sslib_legacy, entry.K2_no_hash_algorithms, entry.K3_no_hash_algorithms_pem_with_newline, curveId]) {
      if (id) expect(candidates).toContain(id);
    }
    if (entry.K1_with_curve_scheme) candidates.push(entry.K1_with_curve_scheme.keyid); // checked above either way
    for (const [source, id] of Object.entries(entry.asserted_upstream)) {
      if (/^[0-9a-f]{8,64}$/.test(id)) expect(candidates.some((c) => c.startsWith(id)), source).toBe(true);
    }
  });

  it('gives a PEM public key, read as 1.3.1 reads it, the id 1.3.1 gives it (K1)', () => {
    expect(loadPublicKey(read('in-toto-python/tests/demo_files/alice.pub')).keyid).toBe(expected.keyids['in-toto-python/tests/demo_files/alice.pub']!.K1_sslib_legacy);
    expect(loadPublicKey(read('in-toto-python/tests/pems/rsa_public.pem')).keyid).toBe(expected.keyids['in-toto-python/tests/pems/rsa_public.pem']!.K1_sslib_legacy);
  });

  it("reads in-toto-rs's layout key dicts (no keyid field, K2 ids) with their ids", () => {
    const layout = JSON.parse(read('in-toto-rs/tests/test_metadata/demo.layout').toString()).signed as { keys: Record<string, unknown> };
    const ed = Object.entries(layout.keys).find(([id]) => id.startsWith('e0294a3f'))!;
    const key = publicKeyFromDict(ed[1]);
    expect(keyidCandidates({ ...key, keyid: undefined })).toContain(ed[0]);
    // Another key of that layout is the RSA-4096 of tests/rsa: its K1.
    const rsa = loadPublicKey(read('in-toto-rs/tests/rsa/rsa-4096.spki.der'));
    expect(Object.keys(layout.keys).some((id) => keyidCandidates(rsa).includes(id) && id.startsWith('59d12f31'))).toBe(true);
  });
});

/** Each private key file, how to read it, and the public key file that is its other half. */
const PRIVATE: readonly { file: string; public?: string; password?: string; keytype: string }[] = [
  { file: 'in-toto-python/tests/demo_files/alice', public: 'in-toto-python/tests/demo_files/alice.pub', keytype: 'rsa' },
  { file: 'in-toto-python/tests/demo_files/bob', public: 'in-toto-python/tests/demo_files/bob.pub', keytype: 'rsa' },
  { file: 'in-toto-python/tests/demo_files/carl', public: 'in-toto-python/tests/demo_files/carl.pub', keytype: 'rsa' },
  { file: 'in-toto-python/tests/demo_files/danny', public: 'in-toto-python/tests/demo_files/danny.pub', keytype: 'ed25519' },
  { file: 'in-toto-python/tests/pems/rsa_private_unencrypted.pem', public: 'in-toto-python/tests/pems/rsa_public.pem', keytype: 'rsa' },
  { file: 'in-toto-python/tests/pems/rsa_private_encrypted.pem', public: 'in-toto-python/tests/pems/rsa_public.pem', password: 'hunter2', keytype: 'rsa' },
  { file: 'in-toto-python/tests/pems/ecdsa_private_unencrypted.pem', public: 'in-toto-python/tests/pems/ecdsa_public.pem', keytype: 'ecdsa' },
  { file: 'in-toto-python/tests/pems/ecdsa_private_encrypted.pem', public: 'in-toto-python/tests/pems/ecdsa_public.pem', password: 'hunter2', keytype: 'ecdsa' },
  { file: 'in-toto-python/tests/pems/ed25519_private_unencrypted.pem', public: 'in-toto-python/tests/pems/ed25519_public.pem', keytype: 'ed25519' },
  { file: 'in-toto-python/tests/pems/ed25519_private_encrypted.pem', public: 'in-toto-python/tests/pems/ed25519_public.pem', password: 'hunter2', keytype: 'ed25519' },
  { file: 'in-toto-golang/test/data/alice', public: 'in-toto-golang/test/data/alice.pub', keytype: 'rsa' },
  { file: 'in-toto-golang/test/data/dan', public: 'in-toto-golang/test/data/dan.pub', keytype: 'rsa' },
  { file: 'in-toto-golang/test/data/carol', public: 'in-toto-golang/test/data/carol.pub', keytype: 'ed25519' },
  { file: 'in-toto-golang/test/data/frank', public: 'in-toto-golang/test/data/frank.pub', keytype: 'ecdsa' },
  { file: 'in-toto-golang/test/data/grace', public: 'in-toto-golang/test/data/grace.pub', keytype: 'ecdsa' },
  { file: 'in-toto-golang/test/data/root.key.pem', public: 'in-toto-golang/test/data/root.cert.pem', keytype: 'rsa' },
  { file: 'in-toto-golang/test/data/example.com.intermediate.key.pem', public: 'in-toto-golang/test/data/example.com.intermediate.cert.pem', keytype: 'rsa' },
  { file: 'in-toto-golang/test/data/example.com.write-code.key.pem', public: 'in-toto-golang/test/data/example.com.write-code.cert.pem', keytype: 'rsa' },
  { file: 'in-toto-rs/tests/ed25519/ed25519-1', public: 'in-toto-rs/tests/ed25519/ed25519-1.pub', keytype: 'ed25519' },
  { file: 'in-toto-rs/tests/test_metadata/owner.der', keytype: 'ed25519' },
  { file: 'in-toto-rs/tests/ecdsa/ec', public: 'in-toto-rs/tests/ecdsa/ec.pub', keytype: 'ecdsa' },
  { file: 'in-toto-rs/tests/ecdsa/ec.pk8.der', public: 'in-toto-rs/tests/ecdsa/ec.spki.der', keytype: 'ecdsa' },
  { file: 'in-toto-rs/tests/rsa/rsa-2048.der', public: 'in-toto-rs/tests/rsa/rsa-2048.spki.der', keytype: 'rsa' },
  { file: 'in-toto-rs/tests/rsa/rsa-2048.pk8.der', public: 'in-toto-rs/tests/rsa/rsa-2048.pkcs1.der', keytype: 'rsa' },
  { file: 'in-toto-rs/tests/rsa/rsa-4096.der', public: 'in-toto-rs/tests/rsa/rsa-4096.spki.der', keytype: 'rsa' },
  { file: 'in-toto-rs/tests/rsa/rsa-4096.pk8.der', public: 'in-toto-rs/tests/rsa/rsa-4096.pkcs1.der', keytype: 'rsa' },
  { file: 'in-toto-rs/tests/rsa/rsa-2048', keytype: 'rsa' },
];

/** Files that must not load, and why (the typed error and the words that say what is wrong). */
const REFUSED: readonly { file: string; load: 'public' | 'private'; code: string; message: RegExp }[] = [
  // ring's PKCS#8 v2: the public key in a constructed [1] (OpenSSL refuses these too).
  ...[1, 2, 3, 4, 5, 6].map((n) => ({
    file: `in-toto-rs/tests/ed25519/ed25519-${n}.pk8.der`,
    load: 'private' as const,
    code: 'KEY',
    message: /constructed \[1\].*RFC 5958/,
  })),
  // An Ed25519 SPKI whose AlgorithmIdentifier carries NULL parameters (RFC 8410 §3: absent).
  { file: 'in-toto-rs/tests/ed25519/ed25519-1.spki.der', load: 'public', code: 'KEY', message: /Ed25519 AlgorithmIdentifier has parameters \(NULL\).*RFC 8410/ },
  // golang expects erin (SEC1, secp256k1) to fail to load; heidi is P-224.
  { file: 'in-toto-golang/test/data/erin', load: 'private', code: 'KEY', message: /unsupported elliptic curve 1\.3\.132\.0\.10, secp256k1/ },
  { file: 'in-toto-golang/test/data/heidi', load: 'private', code: 'KEY', message: /unsupported elliptic curve 1\.3\.132\.0\.33, P-224/ },
  // 64 raw bytes are a private key.
  { file: 'in-toto-rs/tests/ed25519/ed25519-1', load: 'public', code: 'KEY', message: /private key.*loadPrivateKey/ },
  { file: 'in-toto-rs/tests/test_metadata/owner.der', load: 'public', code: 'KEY', message: /private key.*loadPrivateKey/ },
];

describe('key formats', () => {
  it.each(PRIVATE)('$file', async (item) => {
    const key: PrivateKey = await loadPrivateKey(read(item.file), item.password ? { password: item.password } : {});
    expect(key.keytype).toBe(item.keytype);
    if (item.public) expect(key.publicKey.spki).toEqual(loadPublicKey(read(item.public)).spki);
    const data = new TextEncoder().encode(`signed by ${item.file}`);
    const signature = await sign(key, data);
    expect(await verify(key.publicKey, data, signature)).toBe(true);
    if (item.public) expect(await verify(loadPublicKey(read(item.public)), data, signature)).toBe(true);
    expect(await verify(key.publicKey, new TextEncoder().encode('something else'), signature)).toBe(false);
  });

  it('asks for the password of an encrypted PEM, and refuses a wrong one', async () => {
    const file = read('in-toto-python/tests/pems/rsa_private_encrypted.pem');
    expect((await error(loadPrivateKey(file))).code).toBe('KEY_PASSWORD');
    expect((await error(loadPrivateKey(file, { password: 'hunter3' }))).code).toBe('KEY_PASSWORD');
    expect(expected.encrypted_pem_password.password).toBe('hunter2');
  });

  it.each(REFUSED)('refuses $file with a typed error', async ({ file, load, code, message }) => {
    const e = await error(load === 'public' ? () => loadPublicKey(read(file)) : loadPrivateKey(read(file)));
    expect(e).toBeInstanceOf(InTotoError);
    expect(e.code).toBe(code);
    expect(e.message).toMatch(message);
  });

  it("reads the same key in each of the rs forms (raw, DER, PEM) to one key", async () => {
    const raw = loadPublicKey(read('in-toto-rs/tests/ed25519/ed25519-1.pub'));
    const fromSeed = (await loadPrivateKey(read('in-toto-rs/tests/ed25519/ed25519-1'))).publicKey;
    expect(fromSeed.spki).toEqual(raw.spki);
    expect(raw.public).toMatch(/^[0-9a-f]{64}$/);
    const pem = loadPublicKey(read('in-toto-rs/tests/ecdsa/ec.pub'));
    const der = loadPublicKey(read('in-toto-rs/tests/ecdsa/ec.spki.der'));
    const sec1 = await loadPrivateKey(read('in-toto-rs/tests/ecdsa/ec'));
    expect(der.spki).toEqual(pem.spki);
    expect(sec1.publicKey.spki).toEqual(pem.spki);
    // A key read from DER gets the PEM golang writes, which here is the file's: the same ids.
    expect(keyIds(der)).toEqual(keyIds(pem));
    const pkcs1 = loadPublicKey(read('in-toto-rs/tests/rsa/rsa-2048.pkcs1.der'));
    expect(pkcs1.spki).toEqual(loadPublicKey(read('in-toto-rs/tests/rsa/rsa-2048.spki.der')).spki);
    // tests/rsa/rsa-2048 is another key than rsa-2048.der.
    expect((await loadPrivateKey(read('in-toto-rs/tests/rsa/rsa-2048'))).publicKey.spki).not.toEqual(pkcs1.spki);
  });

  it('verifies P-521 and P-384 (golang frank, grace) with the hash of the curve, whatever the label', async () => {
    for (const [name, hash] of [['frank', 'SHA-512'], ['grace', 'SHA-384']] as const) {
      const priv = await loadPrivateKey(read(`in-toto-golang/test/data/${name}`));
      const data = new TextEncoder().encode(name);
      const sig = await sign(priv, data);
      const labelled = loadPublicKey(read(`in-toto-golang/test/data/${name}.pub`), { scheme: 'ecdsa-sha2-nistp256' });
      expect(labelled.scheme).toBe('ecdsa-sha2-nistp256');
      expect(await verify(labelled, data, sig)).toBe(true);
      // Node's own check with the curve's hash agrees.
      const { createVerify } = await import('node:crypto');
      const v = createVerify(hash.replace('-', '').toLowerCase());
      v.update(data);
      expect(v.verify(read(`in-toto-golang/test/data/${name}.pub`).toString(), Buffer.from(sig))).toBe(true);
      // Never sign under a label that names another hash.
      const mislabelled = await loadPrivateKey(read(`in-toto-golang/test/data/${name}`), { scheme: 'ecdsa-sha2-nistp256' });
      expect((await error(sign(mislabelled, data))).code).toBe('KEY');
    }
    // A label naming another curve than golang's default is refused.
    expect((await error(() => loadPublicKey(read('in-toto-golang/test/data/grace.pub'), { scheme: 'ecdsa-sha2-nistp521' }))).code).toBe('KEY');
  });
});
