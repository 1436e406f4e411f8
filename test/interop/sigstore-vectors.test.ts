/**
 * The sigstore-conformance suite's bundle-verify cases (read in place from IN_TOTO_SIGSTORE_VECTORS; CI:
 * ../shared/vectors/sigstore-conformance): every bundle and trusted root read by this package's strict readers.
 * Only what reading decides is checked here (verification is not built yet): the cases whose failure lies in the
 * bundle's or the root's structure are refused, naming the field; every other bundle and root reads.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { initEngine } from '../../bindings/engine.js';
import { InTotoError } from '../../bindings/errors.js';
import { readSigstoreBundle } from '../../bindings/sigstore/bundle.js';
import { isValidAt, readTrustedRoot } from '../../bindings/sigstore/trusted-root.js';
import { sigstoreVectors } from './vectors.js';

const vectorsDir = sigstoreVectors;

/** The cases whose failure is in the structure a reader sees, and the field it names. */
const REFUSED_WHEN_READ: Record<string, { file: 'bundle' | 'root'; code: string; field: RegExp }> = {
  'bundle-malformed-json_fail': { file: 'bundle', code: 'JSON', field: /.*/ },
  'bundle-unknown-version_fail': { file: 'bundle', code: 'FORMAT', field: /^mediaType$/ },
  'bundle-empty-certificate-chain_fail': { file: 'bundle', code: 'FORMAT', field: /x509CertificateChain\.certificates$/ },
  'bundle-negative-log-index_fail': { file: 'bundle', code: 'FORMAT', field: /tlogEntries\[0\]\.logIndex$/ },
  'bundle-invalid-base64-signature_fail': { file: 'bundle', code: 'FORMAT', field: /signature$/ },
  'trust-root-tlog-missing-validity-start_fail': { file: 'root', code: 'FORMAT', field: /^tlogs\[\d+\]\.publicKey\.validFor\.start$/ },
};

let dir: string;
beforeAll(async () => {
  await initEngine();
  dir = join(vectorsDir(), 'test/assets/bundle-verify');
});

const refusal = (read: () => unknown): InTotoError | undefined => {
  try {
    read();
    return undefined;
  } catch (error) {
    if (!(error instanceof InTotoError)) throw error;
    return error;
  }
};

describe('sigstore-conformance bundles and trusted roots, read (IN_TOTO_SIGSTORE_VECTORS)', () => {
  it('every case: structural failures refused naming the field, every other bundle and root read', () => {
    const cases = readdirSync(dir, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name);
    expect(cases).toHaveLength(70);
    const wrong: string[] = [];
    for (const name of cases) {
      const bundle = refusal(() => readSigstoreBundle(readFileSync(join(dir, name, 'bundle.sigstore.json'))));
      const rootFile = join(dir, name, 'trusted_root.json');
      const root = existsSync(rootFile) ? refusal(() => readTrustedRoot(readFileSync(rootFile))) : undefined;
      const expected = REFUSED_WHEN_READ[name];
      const got = expected?.file === 'root' ? root : bundle;
      if (expected) {
        if (!got || got.code !== expected.code || !expected.field.test(got.field ?? '')) wrong.push(`${name}: expected ${expected.code} at ${expected.field}, got ${got ? `${got.code} at ${got.field}: ${got.message}` : 'nothing'}`);
        if (expected.file === 'root' && bundle) wrong.push(`${name}: bundle refused: ${bundle.message}`);
      } else {
        if (bundle) wrong.push(`${name}: bundle refused: ${bundle.message}`);
        if (root) wrong.push(`${name}: trusted root refused: ${root.message}`);
      }
    }
    expect(wrong).toEqual([]);
  });

  it('the production trusted root reads, and its keys are valid only within their windows', () => {
    const root = readTrustedRoot(readFileSync(join(vectorsDir(), 'production_trusted_root.json')));
    expect(root.tlogs.length).toBeGreaterThan(0);
    expect(root.certificateAuthorities.length).toBeGreaterThan(0);
    const first = root.certificateAuthorities[0]!;
    expect(isValidAt(first.validFor, first.validFor.start)).toBe(true);
    expect(isValidAt(first.validFor, first.validFor.start - 1)).toBe(false);
    if (first.validFor.end !== undefined) {
      expect(isValidAt(first.validFor, first.validFor.end)).toBe(true);
      expect(isValidAt(first.validFor, first.validFor.end + 1)).toBe(false);
    }
  });
});

describe('sigstore-conformance log entries: inclusion proofs and signed checkpoints', () => {
  /** Cases whose entry must fail inclusion, and why (the rest of these cases fail for reasons not checked here). */
  const FAILS: Record<string, RegExp> = {
    'checkpoint-bad-keyhint_fail': /no signature by the log .* under its key's hint/,
    'checkpoint-wrong-roothash_fail': /checkpoint is for a tree of|checkpoint's root hash is not the proof's/,
    'inclusion-proof-corrupted-hash_fail': /does not lead to the proof's root hash/,
    'invalid-inclusion-proof_fail': /does not lead to the proof's root hash/,
    'incorrect-public-key_fail': /does not lead to the proof's root hash/,
    'invalid-checkpoint-signature_fail': /signature by .* does not verify/,
    'rekor2-checkpoint-missing-log-signature_fail': /carries no signature|no signature by the log/,
    'rekor2-checkpoint-missing-origin_fail': /body needs an origin|no origin/,
    'rekor2-checkpoint-missing-root-hash_fail': /body needs|root hash/,
    'rekor2-checkpoint-missing-size_fail': /body needs|tree size/,
    'rekor2-checkpoint-no-matching-signature_fail': /no signature by the log/,
    'bundle-with-root-cert_fail': /no signed checkpoint/,
  };

  it('every entry with a proof and a known log key: included (v1 ECDSA and v2 Ed25519 logs, cosigned checkpoints), or refused for its case\'s reason', async () => {
    const { publicKeyFromSpkiDer } = await import('../../bindings/keys/keys.js');
    const { verifyInclusion } = await import('../../bindings/sigstore/tlog.js');
    const production = readTrustedRoot(readFileSync(join(vectorsDir(), 'production_trusted_root.json')));
    const eq = (a: Uint8Array, b: Uint8Array) => a.length === b.length && a.every((x, i) => x === b[i]);
    const wrong: string[] = [];
    let included = 0;
    for (const name of readdirSync(dir)) {
      let bundle;
      let root = production;
      try {
        bundle = readSigstoreBundle(readFileSync(join(dir, name, 'bundle.sigstore.json')));
        if (existsSync(join(dir, name, 'trusted_root.json'))) root = readTrustedRoot(readFileSync(join(dir, name, 'trusted_root.json')));
      } catch {
        continue; // refused when read: the first test's subject
      }
      for (const entry of bundle.tlogEntries) {
        const log = root.tlogs.find((l) => eq(l.logId, entry.logId));
        if (!entry.inclusionProof || !log) continue;
        const outcome = await verifyInclusion(entry, publicKeyFromSpkiDer(log.publicKey)).then(() => undefined, (error: InTotoError) => error);
        const expected = FAILS[name];
        if (expected && !(outcome && expected.test(outcome.message))) wrong.push(`${name}: expected a failure like ${expected}, got ${outcome?.message ?? 'included'}`);
        if (!expected && outcome) wrong.push(`${name}: ${outcome.message}`);
        if (!outcome) included++;
      }
    }
    expect(wrong).toEqual([]);
    expect(included).toBeGreaterThan(45);
  });
});

describe('sigstore-conformance log entries: signed entry timestamps (Rekor v1)', () => {
  it('every inclusion promise with a known log key verifies, but for the cases whose promise or body was changed', async () => {
    const { publicKeyFromSpkiDer } = await import('../../bindings/keys/keys.js');
    const { verifySignedEntryTimestamp } = await import('../../bindings/sigstore/tlog.js');
    const production = readTrustedRoot(readFileSync(join(vectorsDir(), 'production_trusted_root.json')));
    const eq = (a: Uint8Array, b: Uint8Array) => a.length === b.length && a.every((x, i) => x === b[i]);
    const failing = new Set(['set-invalid-signature_fail', 'incorrect-public-key_fail']);
    const wrong: string[] = [];
    let verified = 0;
    for (const name of readdirSync(dir)) {
      let bundle;
      let root = production;
      try {
        bundle = readSigstoreBundle(readFileSync(join(dir, name, 'bundle.sigstore.json')));
        if (existsSync(join(dir, name, 'trusted_root.json'))) root = readTrustedRoot(readFileSync(join(dir, name, 'trusted_root.json')));
      } catch {
        continue;
      }
      for (const entry of bundle.tlogEntries) {
        const log = root.tlogs.find((l) => eq(l.logId, entry.logId));
        if (!entry.inclusionPromise || !log) continue;
        const error = await verifySignedEntryTimestamp(entry, publicKeyFromSpkiDer(log.publicKey)).then(() => undefined, (e: InTotoError) => e);
        if (failing.has(name) !== (error !== undefined)) wrong.push(`${name}: ${error?.message ?? 'verified'}`);
        if (!error) verified++;
      }
    }
    expect(wrong).toEqual([]);
    expect(verified).toBeGreaterThan(30);
  });
});

describe('sigstore-conformance signing certificates: the signer identity', () => {
  it("every certificate's SAN and OIDC issuer meet the case's expected identity, but the one whose identity is wrong", async () => {
    const { parseCertificate } = await import('../../bindings/keys/x509.js');
    const { identityMismatches, signerIdentity } = await import('../../bindings/sigstore/identity.js');
    const SAN = 'https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main';
    const ISSUER = 'https://token.actions.githubusercontent.com';
    const wrong: string[] = [];
    let met = 0;
    for (const name of readdirSync(dir)) {
      let bundle;
      try {
        bundle = readSigstoreBundle(readFileSync(join(dir, name, 'bundle.sigstore.json')));
      } catch {
        continue;
      }
      if (bundle.material.kind !== 'certificate') continue;
      const read = (file: string, fallback: string) => (existsSync(join(dir, name, file)) ? readFileSync(join(dir, name, file), 'utf8').trim() : fallback);
      const identity = signerIdentity(parseCertificate(bundle.material.certificate));
      const mismatches = identityMismatches(identity, { san: read('identity', SAN), issuer: read('issuer', ISSUER) });
      if ((name === 'bundle-with-root-cert_fail') !== (mismatches.length > 0)) wrong.push(`${name}: ${mismatches.join('; ') || 'met'}`);
      if (mismatches.length === 0) met++;
    }
    expect(wrong).toEqual([]);
    expect(met).toBeGreaterThan(50);
  });
});

describe('sigstore-conformance signing certificates: the Fulcio chain at the signing time', () => {
  it('every certificate chains to a CA of its trusted root valid at the log time, but those issued elsewhere or used outside their validity', async () => {
    const { parseCertificate } = await import('../../bindings/keys/x509.js');
    const { verifyFulcioChain } = await import('../../bindings/sigstore/certificate.js');
    const production = readTrustedRoot(readFileSync(join(vectorsDir(), 'production_trusted_root.json')));
    const failing: Record<string, RegExp> = {
      'bundle-from-wrong-instance_fail': /did not sign/,
      'integrated-time-in-future_fail': /expired at/,
      'intoto-expired-certificate_fail': /not valid before/,
      'intoto-set-outside-signing-cert-validity_fail': /expired at/,
    };
    const wrong: string[] = [];
    let chained = 0;
    for (const name of readdirSync(dir)) {
      let bundle;
      let root = production;
      try {
        bundle = readSigstoreBundle(readFileSync(join(dir, name, 'bundle.sigstore.json')));
        if (existsSync(join(dir, name, 'trusted_root.json'))) root = readTrustedRoot(readFileSync(join(dir, name, 'trusted_root.json')));
      } catch {
        continue;
      }
      if (bundle.material.kind !== 'certificate') continue;
      const leaf = parseCertificate(bundle.material.certificate);
      // The log's time where the entry has one; else (Rekor v2: RFC 3161 timestamps, not read yet) a moment the certificate was valid.
      const integrated = bundle.tlogEntries[0]?.integratedTime;
      const time = integrated !== undefined ? Number(integrated) * 1000 : leaf.notBefore + 1000;
      const error = await verifyFulcioChain(leaf, root, time).then(() => undefined, (e: InTotoError) => e);
      const expected = failing[name];
      if (expected ? !error || !expected.test(error.message) : error) wrong.push(`${name}: ${error?.message ?? 'chained'}`);
      if (!error) chained++;
    }
    expect(wrong).toEqual([]);
    expect(chained).toBeGreaterThan(50);
  });
});
