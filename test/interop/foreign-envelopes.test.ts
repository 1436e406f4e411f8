/**
 * Envelopes and signatures from in-toto-golang, in-toto-rs, in-toto python >= 2 and the DSSE specification:
 * every signed file checked with the key the vectors' README names (metablocks over the canonical form of
 * `signed` as received, unknown fields included; DSSE over the payload bytes as received), the DSSE protocol
 * vector in its raw r||s and DER forms, and the canonical JSON vector. Read in place from IN_TOTO_FOREIGN_VECTORS.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ecdsaDerToRaw } from '../../bindings/keys/crypto/webcrypto.js';
import { fromBase64, pae, toBase64, toHex } from '../../bindings/encoding.js';
import { canonicalize, initEngine } from '../../bindings/engine.js';
import { readDsseEnvelope, readEnvelope, verifyDsse, verifySignatureBy } from '../../bindings/metadata/envelope.js';
import { InTotoError } from '../../bindings/errors.js';
import { type PublicKey, keyidCandidates, loadPublicKey, publicKeyFromDict } from '../../bindings/keys/keys.js';
import { loadPrivateKey } from '../../bindings/keys/load-private-key.js';
import { parseLayout, parseLink } from '../../bindings/metadata/models.js';
import { foreignVectors } from './vectors.js';

const FOREIGN = foreignVectors();
const read = (path: string): Buffer => readFileSync(join(FOREIGN, path));
const expected = JSON.parse(read('expected.json').toString()) as {
  canonical_json: { file: string; signed_canonical_hex: string };
  dsse_pae: { payloadType: string; payload: string; pae: string };
  artifact_hashes: Record<string, string>;
};

beforeAll(async () => {
  await initEngine();
});

async function rejection(promise: Promise<unknown>): Promise<InTotoError> {
  try {
    await promise;
  } catch (e) {
    if (e instanceof InTotoError) return e;
    throw e;
  }
  throw new Error('did not reject');
}

const GO = 'in-toto-golang/test/data';
const PY = 'in-toto-python/tests';
const RS = 'in-toto-rs';

/** The signers the README names, as public keys. */
const keys: Record<string, () => Promise<PublicKey> | PublicKey> = {
  goAlice: () => loadPublicKey(read(`${GO}/alice.pub`)),
  dan: () => loadPublicKey(read(`${GO}/dan.pub`)),
  // d3ffd108's private half is not published: its public key is the one golang's demo.layout lists.
  d3ffd108: () => publicKeyFromDict((JSON.parse(read(`${GO}/demo.layout`).toString()).signed.keys as Record<string, unknown>)['d3ffd1086938b3698618adf088bf14b13db4c8ae19e4e78d73da49ee88492710']),
  pyAlice: () => loadPublicKey(read(`${PY}/demo_files/alice.pub`)),
  bob: () => loadPublicKey(read(`${PY}/demo_files/bob.pub`)),
  carl: () => loadPublicKey(read(`${PY}/demo_files/carl.pub`)),
  ed25519_1: () => loadPublicKey(read(`${RS}/tests/ed25519/ed25519-1.pub`)),
  owner: async () => (await loadPrivateKey(read(`${RS}/tests/test_metadata/owner.der`))).publicKey,
};

/** Every signed in-toto file, its signer, and whether the signature holds (README "sig ok"). */
const SIGNED: readonly { file: string; signer: keyof typeof keys; kind: 'metablock' | 'dsse'; valid: boolean }[] = [
  { file: `${GO}/demo.layout`, signer: 'goAlice', kind: 'metablock', valid: true },
  { file: `${GO}/demo.dsse.layout`, signer: 'goAlice', kind: 'dsse', valid: true },
  { file: `${GO}/dsse-only.root.layout`, signer: 'goAlice', kind: 'dsse', valid: true },
  { file: `${GO}/sub_layout.70ca5750.link`, signer: 'goAlice', kind: 'metablock', valid: true },
  { file: `${GO}/clone-dsse.776a00e2.link`, signer: 'bob', kind: 'dsse', valid: true },
  { file: `${GO}/update-version-dsse.776a00e2.link`, signer: 'bob', kind: 'dsse', valid: true },
  { file: `${GO}/package-dsse.2f89b927.link`, signer: 'carl', kind: 'dsse', valid: true },
  { file: `${GO}/write-code.b7d643de.link`, signer: 'dan', kind: 'metablock', valid: true },
  { file: `${GO}/package.d3ffd108.link`, signer: 'd3ffd108', kind: 'metablock', valid: true },
  { file: `${GO}/foo.b7d643de.link`, signer: 'dan', kind: 'metablock', valid: true },
  { file: `${GO}/foo.d3ffd108.link`, signer: 'd3ffd108', kind: 'metablock', valid: true },
  { file: `${PY}/demo_files/write-code.776a00e2.link`, signer: 'bob', kind: 'metablock', valid: true },
  { file: `${PY}/demo_files/package.2f89b927.link`, signer: 'carl', kind: 'metablock', valid: true },
  { file: `${PY}/demo_dsse_files/write-code.776a00e2.link`, signer: 'bob', kind: 'dsse', valid: true },
  { file: `${PY}/demo_dsse_files/package.2f89b927.link`, signer: 'carl', kind: 'dsse', valid: true },
  { file: `${RS}/tests/test_verifylib/workdir/root.layout`, signer: 'pyAlice', kind: 'metablock', valid: true },
  { file: `${RS}/tests/test_verifylib/links/clone.776a00e2.link`, signer: 'bob', kind: 'metablock', valid: true },
  { file: `${RS}/tests/test_verifylib/links/update-version.776a00e2.link`, signer: 'bob', kind: 'metablock', valid: true },
  { file: `${RS}/tests/test_verifylib/links/package.2f89b927.link`, signer: 'carl', kind: 'metablock', valid: true },
  { file: `${RS}/examples/example_link.json`, signer: 'ed25519_1', kind: 'metablock', valid: true },
  // Upstream only parses it; its signature holds under no canonical form (README).
  { file: `${RS}/tests/test_metadata/demo.layout`, signer: 'owner', kind: 'metablock', valid: false },
];

describe('signatures of every signed foreign file', () => {
  it.each(SIGNED)('$file ($signer, $kind)', async ({ file, signer, kind, valid }) => {
    const envelope = readEnvelope(read(file));
    expect(envelope.kind).toBe(kind);
    const key = await keys[signer]!();
    // The signature's keyid is one of the ids the key is known by (K1 for golang and python 1.x, K2 for rs ed25519).
    expect(keyidCandidates(key)).toContain(envelope.signatures[0]!.keyid);
    if (valid) await verifySignatureBy(envelope, key);
    else expect((await rejection(verifySignatureBy(envelope, key))).code).toBe('SIGNATURE');
    // Any other signer's key finds no signature of its own, or one that does not verify.
    const other = await keys[signer === 'bob' ? 'carl' : 'bob']!();
    expect((await rejection(verifySignatureBy(envelope, other))).code).toBe('SIGNATURE');
  });

  it("checks golang's demo.layout over `signed` as received: the fields 1.3.1 drops are part of what was signed", async () => {
    const envelope = readEnvelope(read(`${GO}/demo.layout`));
    const signed = JSON.parse(read(`${GO}/demo.layout`).toString()).signed as Record<string, unknown>;
    expect(Object.keys(signed)).toEqual(expect.arrayContaining(['rootcas', 'intermediatecas']));
    await verifySignatureBy(envelope, await keys.goAlice!());
    // Without them (what 1.3.1 checks), the same signature does not hold.
    const { rootcas: _r, intermediatecas: _i, ...rest } = signed;
    const stripped = readEnvelope(JSON.stringify({ signed: rest, signatures: envelope.signatures }));
    expect((await rejection(verifySignatureBy(stripped, await keys.goAlice!()))).code).toBe('SIGNATURE');
  });

  it('checks DSSE payloads as the bytes received (golang writes spaces, python compact JSON, one has a trailing newline)', () => {
    const payloads = SIGNED.filter((s) => s.kind === 'dsse').map((s) => readEnvelope(read(s.file)));
    let notCanonical = 0;
    for (const envelope of payloads) {
      if (envelope.kind !== 'dsse') throw new Error('not DSSE');
      expect(envelope.signedBytes).toEqual(pae('application/vnd.in-toto+json', envelope.payload));
      if (toHex(canonicalize(envelope.payload)) !== toHex(envelope.payload)) notCanonical++;
    }
    expect(notCanonical).toBeGreaterThanOrEqual(payloads.length - 1);
    const root = readEnvelope(read(`${GO}/dsse-only.root.layout`));
    if (root.kind !== 'dsse') throw new Error('not DSSE');
    expect(root.payload[root.payload.length - 1]).toBe(0x0a);
  });

  it("reads rs's example_link.json: a valid signature over a document that is not a link", async () => {
    const envelope = readEnvelope(read(`${RS}/examples/example_link.json`));
    await verifySignatureBy(envelope, await keys.ed25519_1!());
    expect(() => parseLink(envelope.signed)).toThrow(InTotoError);
  });

  it("refuses rs's test_metadata/demo.link (environment null) and parses demo.layout, whose step names a key it does not list", () => {
    const link = readEnvelope(read(`${RS}/tests/test_metadata/demo.link`));
    expect(() => parseLink(link.signed)).toThrow(expect.objectContaining({ code: 'FORMAT', field: 'environment' }));
    const layout = parseLayout(readEnvelope(read(`${RS}/tests/test_metadata/demo.layout`)).signed);
    const listed = new Set(Object.keys(layout.keys));
    expect(layout.steps.flatMap((s) => s.pubkeys).some((id) => id.startsWith('3e26343b') && !listed.has(id))).toBe(true);
  });

  it("writes golang's canonical-test.link exactly as golang and securesystemslib do", () => {
    const bytes = readEnvelope(read(`${GO}/canonical-test.link`)).signedBytes;
    expect(toHex(bytes)).toBe(expected.canonical_json.signed_canonical_hex);
  });

  it('finds the tarballs with the hashes expected.json gives', async () => {
    const { createHash } = await import('node:crypto');
    const sha = (path: string) => createHash('sha256').update(read(path)).digest('hex');
    for (const path of [`${GO}/foo.tar.gz`, `${PY}/demo_files/foo.tar.gz`, `${PY}/demo_files_gpg/foo.tar.gz`, `${RS}/tests/test_link/foo.tar.gz`]) {
      expect(sha(path)).toBe(expected.artifact_hashes['foo.tar.gz (all four copies)']);
    }
    expect(sha(`${RS}/tests/test_verifylib/workdir/demo-project.tar.gz`)).toBe(expected.artifact_hashes['in-toto-rs/tests/test_verifylib/workdir/demo-project.tar.gz']);
  });
});

describe('the DSSE protocol test vector', () => {
  const vector = JSON.parse(read('dsse/protocol_test_vector.json').toString()) as {
    payloadType: string;
    payload_b64: string;
    pae_hex: string;
    key: { public_pem_derived: string; private_pkcs8_pem_derived: string };
    signature: { sig_b64: string; sig_der_hex_derived: string };
    envelope_protocol_md: unknown;
  };
  const key = () => loadPublicKey(read('dsse/ecdsa_p256.pub.pem'));

  it('computes the PAE', () => {
    const payload = fromBase64(vector.payload_b64)!;
    expect(toHex(pae(vector.payloadType, payload))).toBe(vector.pae_hex);
    expect(new TextDecoder().decode(pae(expected.dsse_pae.payloadType, new TextEncoder().encode(expected.dsse_pae.payload)))).toBe(expected.dsse_pae.pae);
  });

  it('verifies the envelope with its raw r||s signature, the keyid a hint only', async () => {
    const envelope = readDsseEnvelope(read('dsse/hello_world.envelope.json'));
    expect(envelope.payloadType).toBe('http://example.com/HelloWorld');
    // "66301bbf" is the demo's own fingerprint, not an id of the key under any in-toto scheme.
    expect(keyidCandidates(key())).not.toContain('66301bbf');
    await verifyDsse(envelope, [key()]);
    // protocol.md prints it without a keyid.
    await verifyDsse(readDsseEnvelope(JSON.stringify(vector.envelope_protocol_md)), [key()]);
    // In-toto's reader refuses it: not in-toto's payload type.
    expect(() => readEnvelope(read('dsse/hello_world.envelope.json'))).toThrow(expect.objectContaining({ code: 'FORMAT', field: 'payloadType' }));
  });

  it('verifies the DER form of the same signature, and neither form over other bytes', async () => {
    const der = Uint8Array.from(Buffer.from(vector.signature.sig_der_hex_derived, 'hex'));
    expect(ecdsaDerToRaw(der, 32)).toEqual(fromBase64(vector.signature.sig_b64));
    const envelope = (payload: string, sig: string) => readDsseEnvelope(JSON.stringify({ payload, payloadType: vector.payloadType, signatures: [{ sig }] }));
    await verifyDsse(envelope(vector.payload_b64, toBase64(der)), [key()]);
    const tampered = toBase64(new TextEncoder().encode('hello world!'));
    expect((await rejection(verifyDsse(envelope(tampered, vector.signature.sig_b64), [key()]))).code).toBe('SIGNATURE');
    expect((await rejection(verifyDsse(envelope(tampered, toBase64(der)), [key()]))).code).toBe('SIGNATURE');
    // Under another payload type the PAE differs.
    const other = readDsseEnvelope(JSON.stringify({ payload: vector.payload_b64, payloadType: 'text/plain', signatures: [{ sig: vector.signature.sig_b64 }] }));
    expect((await rejection(verifyDsse(other, [key()]))).code).toBe('SIGNATURE');
  });

  it('reads the derived keys as the published key', async () => {
    expect(loadPublicKey(vector.key.public_pem_derived).spki).toEqual(key().spki);
    expect((await loadPrivateKey(vector.key.private_pkcs8_pem_derived)).publicKey.spki).toEqual(key().spki);
  });
});
