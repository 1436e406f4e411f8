/**
 * Sigstore bundle verification against the sigstore-conformance suite's bundle-verify cases (read in place from
 * IN_TOTO_SIGSTORE_VECTORS; CI: ../shared/vectors/sigstore-conformance):
 *  - the client protocol, through `in-toto-sigstore verify-bundle`: 70 cases x (path, digest) = 140 runs, every
 *    `_fail` case refused for its own reason (the case README's), every other one verified; the cases without a
 *    trusted root also with the shipped production root passed explicitly;
 *  - mutants of every verified bundle, one signed or bound field changed at a time: none verifies.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { initEngine } from '../../bindings/engine.js';
import { InTotoError } from '../../bindings/errors.js';
import { loadPublicKey } from '../../bindings/keys/keys.js';
import { readSigstoreBundle } from '../../bindings/sigstore/bundle.js';
import { readTimestamp } from '../../bindings/sigstore/timestamp.js';
import { readTrustedRoot } from '../../bindings/sigstore/trusted-root.js';
import { verifySigstoreBundle, type SignerPolicy } from '../../bindings/sigstore/verify-bundle.js';
import { sigstoreVectors } from './vectors.js';

const vectorsDir = sigstoreVectors;

const IDENTITY = 'https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main';
const ISSUER = 'https://token.actions.githubusercontent.com';
const TOOL = fileURLToPath(new URL('../../dist/cli/in-toto-sigstore.js', import.meta.url));
const PRODUCTION_ROOT = fileURLToPath(new URL('../../data/sigstore/production-trusted-root.json', import.meta.url));

/** Why each `_fail` case must be refused (its README), as our message says it. */
const REASONS: Record<string, RegExp> = {
  'bundle-empty-certificate-chain_fail': /x509CertificateChain\.certificates: is empty/,
  'bundle-from-wrong-instance_fail': /in a log the trusted root does not know/,
  'bundle-invalid-base64-signature_fail': /messageSignature\.signature: is not valid base64/,
  'bundle-malformed-json_fail': /invalid JSON/,
  'bundle-negative-log-index_fail': /logIndex: must not be negative/,
  'bundle-unknown-version_fail': /unknown bundle media type/,
  // By digest, its P-384 signature cannot be checked against a SHA-256 alone: refused as unsupported.
  'bundle-with-root-cert_fail': /message signature does not verify|not the one expected|not trusted|only P-256 signatures can be checked against a SHA-256 digest/,
  'checkpoint-bad-keyhint_fail': /no signature by the log .* under its key's hint/,
  'checkpoint-wrong-roothash_fail': /checkpoint is for a tree of|checkpoint's root hash is not the proof's/,
  'dsse-invalid-sig_fail': /DSSE envelope's signature does not verify/,
  'dsse-mismatch-envelope_fail': /records another payload/,
  'dsse-mismatch-sig_fail': /records another signature/,
  'inclusion-proof-corrupted-hash_fail': /inclusion proof does not lead to/,
  // The body was changed after logging: its SET no longer verifies (checked before the body is read).
  'incorrect-public-key_fail': /records another certificate|signed entry timestamp of entry \d+ does not verify/,
  'integrated-time-in-future_fail': /\(from the transparency log\).*expired/,
  'intoto-expired-certificate_fail': /not valid before 2030/,
  'intoto-log-entry-mismatch_fail': /records another (signature|payload)/,
  'intoto-missing-inclusion-proof_fail': /has no inclusion proof/,
  'intoto-set-outside-signing-cert-validity_fail': /\(from the transparency log\).*expired/,
  'intoto-tsa-timestamp-outside-cert-validity_fail': /\(from the timestamp authority\).*expired/,
  'invalid-checkpoint-signature_fail': /checkpoint's signature by .* does not verify/,
  'invalid-ct-key_fail': /signed certificate timestamps do not hold/,
  'invalid-inclusion-proof_fail': /inclusion proof (has no signed checkpoint|does not lead)/,
  'managed-key-no-key_fail': /signed with a key, not a certificate/,
  'managed-key-wrong-key_fail': /KEY: .*(cannot use|not a valid)|message signature does not verify/,
  'message-digest-mismatch_fail': /message digest .* is not the artifact's/,
  'rekor2-checkpoint-missing-log-signature_fail': /checkpoint carries no signature/,
  'rekor2-checkpoint-missing-origin_fail': /checkpoint body needs an origin/,
  'rekor2-checkpoint-missing-root-hash_fail': /checkpoint body needs an origin/,
  'rekor2-checkpoint-missing-size_fail': /checkpoint body needs an origin/,
  'rekor2-checkpoint-no-matching-signature_fail': /no signature by the log/,
  'rekor2-dsse-invalid-sig_fail': /DSSE envelope's signature does not verify/,
  'rekor2-dsse-mismatch-envelope_fail': /records another digest/,
  'rekor2-dsse-mismatch-sig_fail': /records another signature/,
  'rekor2-no-inclusion-proof_fail': /has no inclusion proof/,
  'rekor2-no-timestamp_fail': /no verified signing time/,
  'rekor2-timestamp-outside-trust-root-tsa-validity_fail': /no timestamp authority of the trusted root was valid/,
  'rekor2-timestamp-outside-tsa-cert-validity_fail': /not from a trusted timestamp authority.*expired/,
  'rekor2-timestamp-payload-mismatch_fail': /stamps another message/,
  'rekor2-timestamp-untrusted-tsa-with-embedded-cert_fail': /not from a trusted timestamp authority/,
  'rekor2-timestamp-untrusted-tsa-without-embedded-cert_fail': /not from a trusted timestamp authority/,
  'rekor2-timestamp-with-incorrect-time_fail': /\(from the timestamp authority\).*expired/,
  'set-invalid-signature_fail': /signed entry timestamp of entry .* does not verify/,
  'signature-mismatch_fail': /message signature does not verify/,
  'trust-root-tlog-missing-validity-start_fail': /validFor\.start: has no start/,
  'wrong-hashedrekord-artifact_fail': /records another artifact digest/,
  'wrong-hashedrekord-cert-and-sig_fail': /records another (signature|certificate)/,
  'wrong-hashedrekord-entry_fail': /records another (artifact digest|signature|certificate)/,
  'wrong-material_fail': /message digest .* is not the artifact's|does not verify/,
};

interface Case {
  readonly name: string;
  readonly dir: string;
  readonly artifact: string;
  readonly root?: string;
  readonly key?: string;
  readonly identity: string;
  readonly issuer: string;
}

let cases: Case[];
beforeAll(async () => {
  await initEngine();
  const base = join(vectorsDir(), 'test/assets/bundle-verify');
  const at = (dir: string, file: string) => (existsSync(join(dir, file)) ? join(dir, file) : undefined);
  cases = readdirSync(base, { withFileTypes: true })
    .filter((e) => e.isDirectory())
    .map(({ name }) => {
      const dir = join(base, name);
      return {
        name,
        dir,
        artifact: at(dir, 'artifact') ?? join(base, 'a.txt'),
        ...(at(dir, 'trusted_root.json') ? { root: at(dir, 'trusted_root.json') } : {}),
        ...(at(dir, 'key.pub') ? { key: at(dir, 'key.pub') } : {}),
        identity: at(dir, 'identity') ? readFileSync(join(dir, 'identity'), 'utf8').trim() : IDENTITY,
        issuer: at(dir, 'issuer') ? readFileSync(join(dir, 'issuer'), 'utf8').trim() : ISSUER,
      };
    });
});

function run(c: Case, form: 'PATH' | 'DIGEST', root = c.root) {
  const args = ['verify-bundle', '--bundle', join(c.dir, 'bundle.sigstore.json')];
  args.push(...(c.key ? ['--key', c.key] : ['--certificate-identity', c.identity, '--certificate-oidc-issuer', c.issuer]));
  if (root) args.push('--trusted-root', root);
  args.push(form === 'PATH' ? c.artifact : `sha256:${createHash('sha256').update(readFileSync(c.artifact)).digest('hex')}`);
  return spawnSync(process.execPath, [TOOL, ...args], { encoding: 'utf8' });
}

describe('in-toto-sigstore verify-bundle: the sigstore-conformance client protocol (IN_TOTO_SIGSTORE_VECTORS)', () => {
  it('all 140 runs (70 cases, by path and by digest) give the expected verdict, each failure for its reason', () => {
    expect(cases).toHaveLength(70);
    const wrong: string[] = [];
    let verified = 0;
    for (const c of cases) {
      const fails = c.name.endsWith('fail');
      if (fails && !REASONS[c.name]) wrong.push(`${c.name}: no expected reason in this test`);
      for (const form of ['PATH', 'DIGEST'] as const) {
        const r = run(c, form);
        const said = `${r.stdout}${r.stderr}`.trim();
        if (fails ? r.status !== 1 || !REASONS[c.name]?.test(said) : r.status !== 0) wrong.push(`${form}-${c.name}: exit ${r.status}: ${said.slice(0, 300)}`);
        if (r.status === 0) verified++;
      }
    }
    expect(wrong).toEqual([]);
    expect(verified).toBe(2 * 21);
  });

  it('the cases without a trusted root give the same verdicts with the shipped production root passed explicitly', () => {
    const wrong = cases
      .filter((c) => !c.root && existsSync(join(c.dir, 'bundle.sigstore.json')))
      .flatMap((c) => {
        const r = run(c, 'PATH', PRODUCTION_ROOT);
        return (c.name.endsWith('fail') ? r.status === 1 : r.status === 0) ? [] : [`${c.name}: exit ${r.status}: ${r.stderr.slice(0, 200)}`];
      });
    expect(wrong).toEqual([]);
  });
});

/** Every base64 value of a bundle's JSON, by path, for mutation (the fields that carry signed or bound bytes). */
function base64Paths(value: unknown, path: (string | number)[] = []): (string | number)[][] {
  if (typeof value === 'string') return /^[A-Za-z0-9+/]{16,}={0,2}$/.test(value) ? [path] : [];
  if (Array.isArray(value)) return value.flatMap((v, i) => base64Paths(v, [...path, i]));
  if (value && typeof value === 'object') return Object.entries(value).flatMap(([k, v]) => base64Paths(v, [...path, k]));
  return [];
}

const getAt = (doc: unknown, path: (string | number)[]): unknown => path.reduce<unknown>((v, k) => (v as Record<string | number, unknown>)[k], doc);
const setAt = (doc: unknown, path: (string | number)[], value: unknown) => {
  const parent = getAt(doc, path.slice(0, -1)) as Record<string | number, unknown>;
  parent[path[path.length - 1]!] = value;
};

describe('mutants of the verified conformance bundles (IN_TOTO_SIGSTORE_VECTORS)', () => {
  it('one bit of any signed or bound base64 field, or an integer field, changed: never verifies (or a typed refusal)', async () => {
    const accepted: string[] = [];
    let tried = 0;
    for (const c of cases.filter((k) => !k.name.endsWith('fail'))) {
      const text = readFileSync(join(c.dir, 'bundle.sigstore.json'), 'utf8');
      const root = readTrustedRoot(readFileSync(c.root ?? PRODUCTION_ROOT));
      const policy: SignerPolicy = c.key ? { key: loadPublicKey(readFileSync(c.key, 'utf8')) } : { identity: { san: c.identity, issuer: c.issuer } };
      const artifact = { bytes: new Uint8Array(readFileSync(c.artifact)) };
      // The original verifies (else the mutants prove nothing).
      await verifySigstoreBundle(readSigstoreBundle(text), root, artifact, policy);
      const doc = JSON.parse(text);
      const mutants: { what: string; doc: unknown }[] = [];
      for (const path of base64Paths(doc)) {
        // A public key's hint only names the key (the caller's key is the one used): not bound, by design.
        if (path[path.length - 1] === 'hint') continue;
        const original = getAt(doc, path) as string;
        const bytes = Buffer.from(original, 'base64');
        let positions = [0, Math.floor(bytes.length / 2), bytes.length - 1];
        if (path[path.length - 1] === 'signedTimestamp') {
          // Certificates embedded in a timestamp token are not signed (CMS): the signer comes from the trusted root.
          // So the bits flipped are in what is signed: the TSTInfo, the signed attributes, the signature.
          const token = readTimestamp(bytes);
          const middle = (part: Uint8Array) => bytes.indexOf(Buffer.from(part.subarray(1))) - 1 + Math.floor(part.length / 2);
          positions = [0, middle(token.tstInfo), middle(token.signedBytes), bytes.length - 1];
        }
        for (const at of positions) {
          const copy = structuredClone(doc);
          const flipped = Buffer.from(bytes);
          flipped[at]! ^= 0x01;
          setAt(copy, path, flipped.toString('base64'));
          mutants.push({ what: `${path.join('.')} byte ${at}`, doc: copy });
        }
      }
      for (const entry of (doc.verificationMaterial.tlogEntries as Record<string, unknown>[]).keys()) {
        for (const field of ['integratedTime']) {
          const value = doc.verificationMaterial.tlogEntries[entry][field];
          if (value === undefined) continue;
          const copy = structuredClone(doc);
          copy.verificationMaterial.tlogEntries[entry][field] = String(BigInt(value) + 1n);
          mutants.push({ what: `tlogEntries.${entry}.${field} + 1`, doc: copy });
        }
        const proof = doc.verificationMaterial.tlogEntries[entry].inclusionProof;
        for (const field of proof ? ['logIndex', 'treeSize'] : []) {
          const copy = structuredClone(doc);
          copy.verificationMaterial.tlogEntries[entry].inclusionProof[field] = String(BigInt(proof[field]) + 1n);
          mutants.push({ what: `tlogEntries.${entry}.inclusionProof.${field} + 1`, doc: copy });
        }
      }
      for (const m of mutants) {
        tried++;
        try {
          await verifySigstoreBundle(readSigstoreBundle(JSON.stringify(m.doc)), root, artifact, policy);
          accepted.push(`${c.name}: ${m.what}`);
        } catch (error) {
          if (!(error instanceof InTotoError)) accepted.push(`${c.name}: ${m.what}: untyped ${String(error)}`);
        }
      }
    }
    expect(accepted).toEqual([]);
    expect(tried).toBeGreaterThan(1000);
  }, 600_000);
});

describe('found by review (adversarial, on conformance bundles)', () => {
  const base = () => join(vectorsDir(), 'test/assets/bundle-verify');
  const load = (name: string) => JSON.parse(readFileSync(join(base(), name, 'bundle.sigstore.json'), 'utf8'));
  const rootText = (name: string) => (existsSync(join(base(), name, 'trusted_root.json')) ? readFileSync(join(base(), name, 'trusted_root.json'), 'utf8') : readFileSync(PRODUCTION_ROOT, 'utf8'));
  const outcome = async (doc: unknown, rootJson: string, policy: SignerPolicy = { identity: { san: IDENTITY, issuer: ISSUER } }) => {
    const a = { bytes: new Uint8Array(readFileSync(join(base(), 'a.txt'))) };
    try {
      await verifySigstoreBundle(readSigstoreBundle(JSON.stringify(doc)), readTrustedRoot(rootJson), a, policy);
      return 'verified';
    } catch (error) {
      if (!(error instanceof InTotoError)) return `crash: ${String(error)}`;
      return `${error.code}: ${error.message}`;
    }
  };

  it('a PEM in a log entry body padded with thousands of spaces is refused at once (the body is read only once the log vouched for it, by a linear PEM reader; a regex took cubic time)', async () => {
    const doc = load('happy-path-v0.3');
    const entry = doc.verificationMaterial.tlogEntries[0];
    const body = JSON.parse(Buffer.from(entry.canonicalizedBody, 'base64').toString());
    body.spec.signature.publicKey.content = Buffer.from(`-----BEGIN CERTIFICATE-----${' '.repeat(20_000)}x`).toString('base64');
    entry.canonicalizedBody = Buffer.from(JSON.stringify(body)).toString('base64');
    const started = performance.now();
    expect(await outcome(doc, rootText('happy-path-v0.3'))).toMatch(/^SIGNATURE/);
    // Generous: the regex took minutes at this size.
    expect(performance.now() - started).toBeLessThan(5_000);
  });

  it("a Rekor v2 log key retired before the entry's timestamp stays refused when an unsigned integrated time is added", async () => {
    const root = JSON.parse(rootText('rekor2-happy-path'));
    root.tlogs.find((l: { baseUrl: string }) => l.baseUrl.includes('log2025-alpha1')).publicKey.validFor.end = '2025-06-01T00:00:00Z';
    const doc = load('rekor2-happy-path');
    expect(await outcome(doc, JSON.stringify(root))).toMatch(/the log's key was not valid at 2025-06-12/);
    doc.verificationMaterial.tlogEntries[0].integratedTime = '1745000000';
    expect(await outcome(doc, JSON.stringify(root))).toMatch(/the log's key was not valid at 2025-06-12/);
  });

  it('a key bundle without SET or timestamp cannot show that a log key with an end date was valid: refused', async () => {
    const name = 'managed-key-happy-path';
    const root = JSON.parse(rootText(name));
    for (const log of root.tlogs) log.publicKey.validFor.end = '2030-01-01T00:00:00Z';
    const doc = load(name);
    delete doc.verificationMaterial.tlogEntries[0].inclusionPromise;
    delete doc.verificationMaterial.timestampVerificationData;
    const policy = { key: loadPublicKey(readFileSync(join(base(), name, 'key.pub'), 'utf8')) };
    expect(await outcome(doc, JSON.stringify(root), policy)).toMatch(/no verified time tells that the log's key/);
  });

  it('times beyond what a date holds are refused as such, never a crash (integrated time, certificate validity)', async () => {
    const doc = load('trust-root-tlog-validity-end-inclusive');
    doc.verificationMaterial.tlogEntries[0].integratedTime = '9000000000000';
    expect(await outcome(doc, rootText('trust-root-tlog-validity-end-inclusive'))).toMatch(/^FORMAT: .*integratedTime: is beyond the year 9999/);
    // A certificate whose UTCTime is 300,000 bytes (String.fromCharCode(...bytes) overflowed the stack).
    const { derTlv, TAG } = await import('../../bindings/keys/der.js');
    const seq = (...parts: Uint8Array[]) => derTlv(TAG.SEQUENCE, Buffer.concat(parts));
    const alg = seq(derTlv(TAG.OID, Uint8Array.from([0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02])));
    const validity = seq(derTlv(0x17, new Uint8Array(300_000).fill(0x30)), derTlv(0x17, Buffer.from('300101000000Z')));
    const tbs = seq(derTlv(0xa0, derTlv(TAG.INTEGER, Uint8Array.from([2]))), derTlv(TAG.INTEGER, Uint8Array.from([1])), alg, seq(), validity, seq(), seq());
    const cert = seq(tbs, alg, derTlv(TAG.BIT_STRING, Uint8Array.from([0, 1, 2])));
    const bad = load('happy-path-v0.3');
    bad.verificationMaterial.certificate.rawBytes = Buffer.from(cert).toString('base64');
    expect(await outcome(bad, rootText('happy-path-v0.3'))).toMatch(/^KEY: malformed X\.509 certificate/);
  });

  it('more than 16 log entries or timestamps are refused before any is checked', async () => {
    const doc = load('happy-path-v0.3');
    doc.verificationMaterial.tlogEntries = Array.from({ length: 17 }, () => doc.verificationMaterial.tlogEntries[0]);
    expect(await outcome(doc, rootText('happy-path-v0.3'))).toMatch(/^LIMIT/);
  });
});

describe('signing times from the future (IN_TOTO_SIGSTORE_VECTORS)', () => {
  it('a bundle is refused when verified at a time before its log or timestamp dates it', async () => {
    const base = join(vectorsDir(), 'test/assets/bundle-verify');
    const artifact = { bytes: new Uint8Array(readFileSync(join(base, 'a.txt'))) };
    const policy = { identity: { san: IDENTITY, issuer: ISSUER } };
    for (const [name, root] of [['happy-path-v0.3', PRODUCTION_ROOT], ['rekor2-happy-path', join(base, 'rekor2-happy-path', 'trusted_root.json')]] as const) {
      const bundle = readSigstoreBundle(readFileSync(join(base, name, 'bundle.sigstore.json')));
      const trusted = readTrustedRoot(readFileSync(root));
      await verifySigstoreBundle(bundle, trusted, artifact, policy);
      await expect(verifySigstoreBundle(bundle, trusted, artifact, policy, { now: new Date('2023-01-01T00:00:00Z') })).rejects.toThrow(/dates the signature .*later than now/);
    }
  });
});

describe('in-toto-sigstore identity flags (IN_TOTO_SIGSTORE_VECTORS)', () => {
  it('a SAN or issuer pattern matches whole, and the GitHub workflow extensions are checked', () => {
    const base = join(vectorsDir(), 'test/assets/bundle-verify');
    const run = (flags: string[]) => spawnSync(process.execPath, [TOOL, 'verify-bundle', '--bundle', join(base, 'happy-path-v0.3', 'bundle.sigstore.json'), ...flags, join(base, 'a.txt')], { encoding: 'utf8' });
    const ok = run(['--certificate-identity-regexp', 'https://github\\.com/sigstore-conformance/.+', '--certificate-oidc-issuer-regexp', 'https://token\\.actions\\.githubusercontent\\.com', '--certificate-github-workflow-repository', 'sigstore-conformance/extremely-dangerous-public-oidc-beacon', '--certificate-github-workflow-ref', 'refs/heads/main']);
    expect(ok.status, ok.stderr).toBe(0);
    // Matched whole: a pattern that only occurs inside the SAN does not match it (cosign's regexps search; ours do not).
    expect(run(['--certificate-identity-regexp', 'github\\.com/sigstore-conformance', '--certificate-oidc-issuer', ISSUER]).stderr).toMatch(/not one matching/);
    expect(run(['--certificate-identity', IDENTITY, '--certificate-oidc-issuer', ISSUER, '--certificate-github-workflow-repository', 'acme/app']).stderr).toMatch(/githubWorkflowRepository is sigstore-conformance\/extremely-dangerous-public-oidc-beacon, not acme\/app/);
    expect(run(['--certificate-identity', IDENTITY, '--certificate-oidc-issuer', ISSUER, '--certificate-github-workflow-ref', 'refs/heads/evil']).status).toBe(1);
    // Wrong arguments: exit 2.
    expect(run(['--certificate-identity', IDENTITY, '--certificate-identity-regexp', '.*', '--certificate-oidc-issuer', ISSUER]).status).toBe(2);
    expect(run(['--certificate-identity-regexp', '(', '--certificate-oidc-issuer', ISSUER]).status).toBe(2);
  });
});
