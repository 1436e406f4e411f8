/**
 * VSAs out of in-toto-verify (`--vsa`), over a chain the reference recorded, and VSAs in Sigstore bundles checked by
 * in-toto-vsa verify. (in-toto-attestation-verify --vsa and DSSE VSAs: test/attestation/attestation-layout.test.ts.)
 * Runs the built CLIs (`dist/`, made by `npm run build`).
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { createVsa } from '../../bindings/attestation/vsa.js';
import { TEST_RESULT_V01 } from '../../bindings/attestation/predicates.js';
import { createStatement } from '../../bindings/attestation/statement.js';
import { assertReferenceInstalled, makeTempDir } from '../helpers/reference.js';
import { copyInto, makeKeySet, referenceRun, write, writeLayout } from '../helpers/scenario.js';
import { makeBundleSigner, makeKeyBundle, makeTestLog } from '../helpers/sigstore-bundle.js';

const VERIFY = fileURLToPath(new URL('../../dist/cli/in-toto-verify.js', import.meta.url));
const VSA = fileURLToPath(new URL('../../dist/cli/in-toto-vsa.js', import.meta.url));
const VERIFIER = 'https://github.com/in-toto/in-toto-wasm/in-toto-verify';
const sha256 = (bytes: Uint8Array | string) => createHash('sha256').update(bytes).digest('hex');

const run = (cwd: string, tool: string, args: string[]) => spawnSync(process.execPath, [tool, ...args], { cwd, encoding: 'utf8' });
const statementOf = (file: string) => JSON.parse(Buffer.from((JSON.parse(readFileSync(file, 'utf8')) as { payload: string }).payload, 'base64').toString()) as { subject: { name: string; digest: Record<string, string> }[]; predicate: Record<string, any> };

describe('in-toto-verify --vsa', () => {
  let keys: ReturnType<typeof makeKeySet>;
  let dir: string;
  const linkOf = (step: string, key: { keyid: string }) => `${step}.${key.keyid.slice(0, 8)}.link`;

  beforeAll(() => {
    assertReferenceInstalled();
    keys = makeKeySet();
    dir = makeTempDir('in-toto-verify-vsa-');
    writeLayout(join(dir, 'root.layout'), {
      steps: [
        { name: 'build', pubkeys: [keys.alice], expected_products: [['CREATE', 'app.bin'], ['DISALLOW', '*']] },
        { name: 'package', pubkeys: [keys.bob], expected_materials: [['MATCH', 'app.bin', 'WITH', 'PRODUCTS', 'FROM', 'build'], ['DISALLOW', '*']], expected_products: [['CREATE', 'app.tar'], ['DISALLOW', '*']] },
      ],
      signers: [keys.owner],
    });
    write(dir, 'app.bin', 'binary v1');
    referenceRun(dir, 'build', keys.alice, { products: ['app.bin'] });
    write(dir, 'app.tar', 'the package');
    referenceRun(dir, 'package', keys.bob, { materials: ['app.bin'], products: ['app.tar'] });
    // The verifier's own key (any key this package signs with).
    copyInto(keys.erin.path, join(dir, 'verifier'));
    copyInto(`${keys.erin.path}.pub`, join(dir, 'verifier.pub'));
  });

  const verifyWithVsa = (cwd: string, out: string, ...extra: string[]) =>
    run(cwd, VERIFY, ['-l', 'root.layout', '-k', `${keys.owner.path}.pub`, '-t', keys.owner.type, '--vsa', out, '--vsa-key', 'verifier', '--vsa-key-type', keys.erin.type, '--resource-uri', 'pkg:generic/app@1', '--now', '2026-12-07T12:00:00Z', ...extra]);

  it('writes a PASSED VSA about the final products, listing every link read; the same bytes for the same inputs', () => {
    const result = verifyWithVsa(dir, 'pass.vsa.json', '--verified-level', 'SLSA_BUILD_LEVEL_1');
    expect(result.stderr).toContain('VSA (PASSED) written to pass.vsa.json');
    expect(result.status).toBe(0);
    expect(verifyWithVsa(dir, 'again.vsa.json', '--verified-level', 'SLSA_BUILD_LEVEL_1').status).toBe(0);
    expect(readFileSync(join(dir, 'again.vsa.json'))).toEqual(readFileSync(join(dir, 'pass.vsa.json')));
    const { subject, predicate } = statementOf(join(dir, 'pass.vsa.json'));
    // The summary link's products: what the last step made.
    expect(subject).toEqual([{ name: 'app.tar', digest: { sha256: sha256('the package') } }]);
    expect(predicate).toMatchObject({
      verifier: { id: VERIFIER },
      timeVerified: '2026-12-07T12:00:00Z',
      resourceUri: 'pkg:generic/app@1',
      policy: { uri: 'root.layout', digest: { sha256: sha256(readFileSync(join(dir, 'root.layout'))) }, annotations: { layoutSignedBy: [keys.owner.keyid] } },
      verificationResult: 'PASSED',
      verifiedLevels: ['SLSA_BUILD_LEVEL_1'],
    });
    const links = [linkOf('build', keys.alice), linkOf('package', keys.bob)].sort();
    expect(predicate.inputAttestations).toEqual(links.map((name) => ({ name, digest: { sha256: sha256(readFileSync(join(dir, name))) } })));
    // ... and in-toto-vsa verify takes it, for the product's digest.
    const checked = run(dir, VSA, ['verify', '--attestation-path', 'pass.vsa.json', '--subject-digest', `sha256:${sha256('the package')}`, '--verifier-id', VERIFIER, '--resource-uri', 'pkg:generic/app@1', '--verified-level', 'SLSA_BUILD_LEVEL_1', '--public-key-path', 'verifier.pub']);
    expect(checked.stderr).toContain('PASSED');
    expect(checked.status).toBe(0);
  });

  it('writes a FAILED VSA about the layout when the chain was tampered with, and when the layout cannot be read', () => {
    const tampered = makeTempDir('in-toto-verify-vsa-bad-');
    copyInto(dir, tampered);
    write(tampered, 'app.bin', 'binary v2 (evil)');
    referenceRun(tampered, 'package', keys.bob, { materials: ['app.bin'], products: ['app.tar'] });
    const result = verifyWithVsa(tampered, 'fail.vsa.json');
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('VSA (FAILED) written to fail.vsa.json');
    const { subject, predicate } = statementOf(join(tampered, 'fail.vsa.json'));
    expect(subject).toEqual([{ name: 'root.layout', digest: { sha256: sha256(readFileSync(join(tampered, 'root.layout'))) } }]);
    expect(predicate).toMatchObject({ verificationResult: 'FAILED', verifiedLevels: [], policy: { annotations: { layoutSignedBy: [] } } });
    const checked = run(tampered, VSA, ['verify', '--attestation-path', 'fail.vsa.json', '--subject-digest', `sha256:${subject[0]!.digest.sha256}`, '--verifier-id', VERIFIER, '--resource-uri', 'pkg:generic/app@1', '--public-key-path', 'verifier.pub']);
    expect(checked.status).toBe(1);
    expect(checked.stderr).toContain('the verification result is FAILED');

    writeFileSync(join(tampered, 'root.layout'), '{"signed": ');
    const unreadable = verifyWithVsa(tampered, 'broken.vsa.json');
    expect(unreadable.status).toBe(1);
    expect(statementOf(join(tampered, 'broken.vsa.json')).predicate).toMatchObject({ verificationResult: 'FAILED', inputAttestations: [] });
  });

  it('writes no PASSED VSA about nothing: a chain whose last step records no products passes, and the VSA is refused', () => {
    const bare = makeTempDir('in-toto-verify-vsa-bare-');
    copyInto(dir, bare);
    writeLayout(join(bare, 'root.layout'), {
      steps: [
        { name: 'build', pubkeys: [keys.alice], expected_products: [['CREATE', 'app.bin'], ['DISALLOW', '*']] },
        { name: 'test', pubkeys: [keys.bob], expected_materials: [['MATCH', 'app.bin', 'WITH', 'PRODUCTS', 'FROM', 'build'], ['DISALLOW', '*']] },
      ],
      signers: [keys.owner],
    });
    referenceRun(bare, 'test', keys.bob, { materials: ['app.bin'] });
    const result = verifyWithVsa(bare, 'none.vsa.json');
    expect(result.stderr).toMatch(/the VSA was not written: .*records no products/);
    expect(result.status).toBe(1);
    expect(() => readFileSync(join(bare, 'none.vsa.json'))).toThrow();
  });

  it('removes a VSA left by an earlier run when this run cannot write one; --now must be a real date, and a clock override is said', () => {
    const again = makeTempDir('in-toto-verify-vsa-stale-');
    copyInto(dir, again);
    expect(verifyWithVsa(again, 'stale.vsa.json').status).toBe(0);
    const noKey = run(again, VERIFY, ['-l', 'root.layout', '-k', `${keys.owner.path}.pub`, '-t', keys.owner.type, '--vsa', 'stale.vsa.json', '--vsa-key', 'no-such-key', '--resource-uri', 'r']);
    expect(noKey.status).toBe(1);
    expect(() => readFileSync(join(again, 'stale.vsa.json'))).toThrow();
    const base = ['-l', 'root.layout', '-k', `${keys.owner.path}.pub`, '-t', keys.owner.type];
    expect(run(again, VERIFY, [...base, '--now', '2026-02-30T00:00:00Z']).status).toBe(2);
    expect(run(again, VERIFY, [...base, '--now', '2026-12-07T24:00:00Z']).status).toBe(2);
    const past = run(again, VERIFY, [...base, '--now', '2020-06-01T00:00:00Z']);
    expect(past.stderr).toMatch(/verifying as of 2020-06-01T00:00:00\.000Z \(--now\), not the clock's/);
  });

  it('refuses a repeated -k (it would require only the last key), as a usage error', () => {
    const result = run(dir, VERIFY, ['-l', 'root.layout', '-k', `${keys.alice.path}.pub`, '-k', `${keys.owner.path}.pub`, '-t', keys.owner.type]);
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(/--layout-keys: given twice/);
  });

  it('refuses VSA flags without --vsa, and --vsa without its key or resource (exit 2, nothing verified)', () => {
    const base = ['-l', 'root.layout', '-k', `${keys.owner.path}.pub`, '-t', keys.owner.type];
    for (const extra of [['--vsa', 'x.json', '--vsa-key', 'verifier'], ['--vsa', 'x.json', '--resource-uri', 'r'], ['--resource-uri', 'r'], ['--vsa-key', 'verifier'], ['--now', 'yesterday']]) {
      const result = run(dir, VERIFY, [...base, ...extra]);
      expect(result.status, extra.join(' ')).toBe(2);
    }
  });

  it('fails before verifying when the VSA key cannot be read, and writes no VSA', () => {
    const result = run(dir, VERIFY, ['-l', 'root.layout', '-k', `${keys.owner.path}.pub`, '-t', keys.owner.type, '--vsa', 'nokey.vsa.json', '--vsa-key', 'no-such-key', '--resource-uri', 'r']);
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/no-such-key/);
    expect(() => readFileSync(join(dir, 'nokey.vsa.json'))).toThrow();
  });
});

describe('in-toto-vsa verify: a VSA in a Sigstore bundle', () => {
  const log = makeTestLog();
  const signer = makeBundleSigner();
  const other = makeBundleSigner();
  const digest = { sha256: 'c'.repeat(64) };
  const vsa = (passed = true) =>
    createVsa({ verifierId: 'https://verifier.example', timeVerified: new Date('2026-01-01T00:00:00Z'), resourceUri: 'pkg:generic/app@1', subject: [{ name: 'app', digest }], policy: { uri: 'layout', bytes: new Uint8Array([1]), signedBy: [] }, inputs: [], passed, verifiedLevels: passed ? ['SLSA_BUILD_LEVEL_2'] : [] });
  let dir: string;

  beforeAll(() => {
    dir = makeTempDir('in-toto-vsa-bundle-');
    writeFileSync(join(dir, 'root.json'), log.trustedRoot);
    writeFileSync(join(dir, 'signer.pem'), signer.publicPem);
    writeFileSync(join(dir, 'other.pem'), other.publicPem);
  });

  const check = (bundle: unknown, ...over: string[]) => {
    writeFileSync(join(dir, 'vsa.sigstore.json'), JSON.stringify(bundle));
    const args: Record<string, string> = { '--attestation-path': 'vsa.sigstore.json', '--subject-digest': `sha256:${digest.sha256}`, '--verifier-id': 'https://verifier.example', '--resource-uri': 'pkg:generic/app@1', '--public-key-path': 'signer.pem', '--trusted-root': 'root.json' };
    for (let i = 0; i < over.length; i += 2) {
      if (over[i + 1] === undefined) delete args[over[i]!];
      else args[over[i]!] = over[i + 1]!;
    }
    return run(dir, VSA, ['verify', ...Object.entries(args).flat()]);
  };

  it('verifies the bundle whole (signature, the log entry and its promise) and then the VSA', () => {
    const ok = check(makeKeyBundle(vsa(), signer, log), '--verified-level', 'SLSA_BUILD_LEVEL_2');
    expect(ok.stderr).toContain('PASSED');
    expect(ok.status).toBe(0);
  });

  it('a repeated --verified-level requires every level; a repeated --subject-digest accepts any', () => {
    const good = makeKeyBundle(vsa(), signer, log);
    writeFileSync(join(dir, 'vsa.sigstore.json'), JSON.stringify(good));
    const levels = run(dir, VSA, ['verify', '--attestation-path', 'vsa.sigstore.json', '--subject-digest', `sha256:${'d'.repeat(64)}`, '--subject-digest', `sha256:${digest.sha256}`, '--verifier-id', 'https://verifier.example', '--resource-uri', 'pkg:generic/app@1', '--public-key-path', 'signer.pem', '--trusted-root', 'root.json', '--verified-level', 'SLSA_BUILD_LEVEL_3', '--verified-level', 'SLSA_BUILD_LEVEL_1']);
    expect(levels.stderr).toMatch(/not SLSA_BUILD_LEVEL_3/);
    expect(levels.status).toBe(1);
    const digests = run(dir, VSA, ['verify', '--attestation-path', 'vsa.sigstore.json', '--subject-digest', `sha256:${digest.sha256}`, '--subject-digest', `sha256:${'d'.repeat(64)}`, '--verifier-id', 'https://verifier.example', '--resource-uri', 'pkg:generic/app@1', '--public-key-path', 'signer.pem', '--trusted-root', 'root.json']);
    expect(digests.status).toBe(0);
  });

  it('refuses each thing that does not hold, saying which', () => {
    const good = makeKeyBundle(vsa(), signer, log);
    expect(check(good, '--public-key-path', 'other.pem').stderr).toMatch(/signature does not verify/);
    const forged = structuredClone(good);
    forged.verificationMaterial.tlogEntries[0].integratedTime = '1767225601';
    expect(check(forged).stderr).toMatch(/signed entry timestamp .* does not verify/);
    expect(check(good, '--trusted-root', undefined!).stderr).toMatch(/log the trusted root does not know/);
    expect(check(good, '--subject-digest', `sha256:${'d'.repeat(64)}`).stderr).toMatch(/no subject has the digest/);
    expect(check(good, '--verified-level', 'SLSA_BUILD_LEVEL_3').stderr).toMatch(/not SLSA_BUILD_LEVEL_3/);
    expect(check(makeKeyBundle(vsa(false), signer, log)).stderr).toMatch(/the verification result is FAILED/);
    const notVsa = makeKeyBundle(createStatement({ subject: [{ name: 'app', digest }], predicateType: TEST_RESULT_V01, predicate: { result: 'PASSED', configuration: [] } }), signer, log);
    expect(check(notVsa).stderr).toMatch(/not a VSA/);
    for (const bad of [forged, notVsa]) expect(check(bad).status).toBe(1);
    // A key-signed bundle checked for a certificate identity: the bundle says which it needs.
    const asIdentity = check(good, '--public-key-path', undefined!, '--certificate-identity', 'https://id.example', '--certificate-oidc-issuer', 'https://issuer.example');
    expect(asIdentity.status).toBe(1);
    expect(asIdentity.stderr).toMatch(/signed with a key, not a certificate/);
  });

  it('reads at most 64 MiB of a VSA: /dev/zero is refused, not read forever', () => {
    const result = run(dir, VSA, ['verify', '--attestation-path', '/dev/zero', '--subject-digest', `sha256:${digest.sha256}`, '--verifier-id', 'https://verifier.example', '--resource-uri', 'pkg:generic/app@1', '--public-key-path', 'signer.pem']);
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/the VSA \/dev\/zero is larger than 67108864 bytes/);
  });

  it('refuses contradictory flags (exit 2): a key and an identity, no signer, --trusted-root for a DSSE envelope', () => {
    expect(check(makeKeyBundle(vsa(), signer, log), '--certificate-identity', 'x', '--certificate-oidc-issuer', 'y').status).toBe(2);
    expect(check(makeKeyBundle(vsa(), signer, log), '--public-key-path', undefined!).status).toBe(2);
    const envelope = makeKeyBundle(vsa(), signer, log).dsseEnvelope;
    const result = check(envelope);
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(/--trusted-root is for bundles/);
  });
});
