/**
 * npm provenance, the parts that need no real attestation: reading the registry's attestations document, its keys,
 * lockfiles and audit policies (each refusal a typed error naming the field, never a crash), and which tags a
 * versioned tag accepts. Verification over real attestations: test/interop/npm-provenance.test.ts.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { initEngine } from '../../bindings/engine.js';
import { InTotoError } from '../../bindings/errors.js';
import { readAuditPolicy, readLockfile } from '../../bindings/sigstore/npm-audit.js';
import { isVersionedTag, readNpmAttestations, readNpmRegistryKeys } from '../../bindings/sigstore/npm.js';

beforeAll(async () => {
  await initEngine();
});

const refusal = (fn: () => unknown) => {
  try {
    fn();
  } catch (error) {
    if (error instanceof InTotoError) return `${error.code} ${error.field ?? ''}: ${error.message}`;
    return `untyped ${String(error)}`;
  }
  return 'read';
};

/** A structurally valid public-key bundle holding a DSSE envelope with `payload` (nothing here verifies). */
const bundleWith = (payload: unknown) => ({
  mediaType: 'application/vnd.dev.sigstore.bundle.v0.3+json',
  verificationMaterial: { publicKey: { hint: 'k' }, tlogEntries: [] },
  dsseEnvelope: { payload: Buffer.from(JSON.stringify(payload)).toString('base64'), payloadType: 'application/vnd.in-toto+json', signatures: [{ sig: 'c2ln', keyid: '' }] },
});
const PUBLISH = 'https://github.com/npm/attestation/tree/main/specs/publish/v0.1';
const PROVENANCE = 'https://slsa.dev/provenance/v1';
const entry = (predicateType: string, payload: unknown = { predicateType }) => ({ predicateType, bundle: bundleWith(payload) });

describe('readNpmAttestations', () => {
  it('reads one publish attestation and one provenance, in either order', () => {
    expect(refusal(() => readNpmAttestations(JSON.stringify({ attestations: [entry(PROVENANCE), entry(PUBLISH)] })))).toBe('read');
  });

  it.each([
    ['a missing bundle', { attestations: [{ predicateType: PUBLISH }, entry(PROVENANCE)] }, /attestations\[0\]\.bundle: must be a Sigstore bundle/],
    ['a null bundle', { attestations: [{ predicateType: PUBLISH, bundle: null }, entry(PROVENANCE)] }, /attestations\[0\]\.bundle: must be a Sigstore bundle/],
    ['a payload that is null', { attestations: [entry(PUBLISH, null), entry(PROVENANCE)] }, /says .*publish\/v0\.1, its Statement undefined/],
    ['a label the Statement contradicts', { attestations: [entry(PUBLISH, { predicateType: PROVENANCE }), entry(PROVENANCE)] }, /its Statement https:\/\/slsa\.dev\/provenance\/v1/],
    ['two publish attestations', { attestations: [entry(PUBLISH), entry(PUBLISH), entry(PROVENANCE)] }, /a second publish attestation/],
    ['no provenance', { attestations: [entry(PUBLISH)] }, /has no SLSA provenance/],
    ['another predicate type', { attestations: [entry('https://example.com/p'), entry(PUBLISH), entry(PROVENANCE)] }, /neither npm's publish attestation nor SLSA provenance/],
    ['an extra field', { attestations: [], extra: 1 }, /unknown field "extra"/],
    ['attestations that are not a list', { attestations: null }, /attestations: must be a list/],
  ])('refuses %s, naming it', (_, doc, reason) => {
    const said = refusal(() => readNpmAttestations(JSON.stringify(doc)));
    expect(said).toMatch(/^FORMAT /);
    expect(said).toMatch(reason);
  });
});

describe('readNpmRegistryKeys', () => {
  const key = { keyId: 'SHA256:x', keyUsage: 'npm:signatures', publicKey: { rawBytes: 'AAAA', keyDetails: 'PKIX_ECDSA_P256_SHA_256', validFor: { start: '2024-01-01T00:00:00Z' } } };
  it('reads keys with their windows, and refuses one without a start or with a malformed field', () => {
    expect(readNpmRegistryKeys(JSON.stringify({ keys: [key] }))[0]).toMatchObject({ keyId: 'SHA256:x', validFor: { start: Date.parse('2024-01-01T00:00:00Z') } });
    expect(refusal(() => readNpmRegistryKeys(JSON.stringify({ keys: [{ ...key, publicKey: { ...key.publicKey, validFor: {} } }] })))).toMatch(/validFor\.start: has no start/);
    expect(refusal(() => readNpmRegistryKeys(JSON.stringify({ keys: [null] })))).toMatch(/^FORMAT keys\[0\]/);
    expect(refusal(() => readNpmRegistryKeys(JSON.stringify({ keys: [{ ...key, publicKey: { ...key.publicKey, validFor: { start: 'yesterday' } } }] })))).toMatch(/must be an RFC 3339 time/);
  });
});

describe('isVersionedTag', () => {
  it.each([
    ['refs/tags/v1.0.1', 'v1', true],
    ['refs/tags/v1.0.1', 'v1.0', true],
    ['refs/tags/v1.0.1', 'v1.0.1', true],
    ['refs/tags/v1.0.1+build.5', 'v1.0.1', true],
    ['refs/tags/v10.0.0', 'v1', false],
    ['refs/tags/v1.0.1-rc1', 'v1.0.1', false],
    ['refs/tags/v1.0.1', 'v1.0.1-rc1', false],
    ['refs/tags/v1.0.1', '1', false],
    ['refs/tags/v01.0.1', 'v1', false],
    ['refs/heads/v1.0.1', 'v1', false],
  ])('%s against %s: %s', (ref, expected, result) => {
    expect(isVersionedTag(ref, expected)).toBe(result);
  });
});

describe('readLockfile and readAuditPolicy', () => {
  it('reads a v3 lockfile: every installed copy, aliases by their real name, the rest with why they are not registry packages', () => {
    const lock = {
      lockfileVersion: 3,
      packages: {
        '': { name: 'app' },
        'node_modules/a': { version: '1.0.0', resolved: 'https://registry.npmjs.org/a/-/a-1.0.0.tgz', integrity: 'sha512-x' },
        'node_modules/b/node_modules/a': { version: '1.0.0', resolved: 'https://evil.example/a.tgz', integrity: 'sha512-y' },
        'node_modules/@s/c': { version: '2.0.0', resolved: 'HTTPS://registry.npmjs.org/@s/c/-/c-2.0.0.tgz' },
        'node_modules/@acme/lib': { name: 'evil-lib', version: '1.0.0', resolved: 'https://registry.npmjs.org/evil-lib/-/evil-lib-1.0.0.tgz', integrity: 'sha512-z' },
        'node_modules/local': { version: '0.0.1', resolved: 'file:../local' },
        'node_modules/git': { version: '0.0.1', resolved: 'git+ssh://git@github.com/x/y.git#abc' },
        'node_modules/linked': { link: true, resolved: '../x' },
        'node_modules/odd': { version: 1 },
      },
    };
    expect(readLockfile(JSON.stringify(lock))).toEqual([
      { name: 'evil-lib', version: '1.0.0', path: 'node_modules/@acme/lib', integrity: 'sha512-z' },
      { name: '@s/c', version: '2.0.0', path: 'node_modules/@s/c' },
      { name: 'a', version: '1.0.0', path: 'node_modules/a', integrity: 'sha512-x' },
      { name: 'a', version: '1.0.0', path: 'node_modules/b/node_modules/a', integrity: 'sha512-y' },
      { name: 'git', version: '0.0.1', path: 'node_modules/git', notFromRegistry: 'resolved from git+ssh://git@github.com/x/y.git#abc' },
      { name: 'linked', version: '?', path: 'node_modules/linked', notFromRegistry: 'a link to ../x' },
      { name: 'local', version: '0.0.1', path: 'node_modules/local', notFromRegistry: 'resolved from file:../local' },
      { name: 'odd', version: '?', path: 'node_modules/odd', notFromRegistry: 'an entry without a version' },
    ]);
    expect(refusal(() => readLockfile(JSON.stringify({ lockfileVersion: 1, dependencies: {} })))).toMatch(/lockfileVersion 1 is not read/);
  });

  it('reads a policy and refuses a malformed one, naming the field', () => {
    expect(readAuditPolicy(JSON.stringify({ rules: [{ packages: '@acme/*', sourceUri: 'github.com/acme/*', requireProvenance: true }], noProvenanceDowngrade: true }))).toEqual({
      rules: [{ packages: '@acme/*', sourceUri: 'github.com/acme/*', requireProvenance: true }],
      noProvenanceDowngrade: true,
    });
    expect(refusal(() => readAuditPolicy(JSON.stringify({ rules: [{ packages: 'a/b/c' }] })))).toMatch(/rules\[0\]\.packages/);
    expect(refusal(() => readAuditPolicy(JSON.stringify({ rules: [{ packages: '*', requireProvenance: 'yes' }] })))).toMatch(/rules\[0\]\.requireProvenance/);
    expect(refusal(() => readAuditPolicy(JSON.stringify({ rules: {} })))).toMatch(/rules: must be a list/);
    // A rule that names nothing to check would check nothing (found by review).
    expect(refusal(() => readAuditPolicy(JSON.stringify({ rules: [{ packages: 'x', sourceUri: '' }] })))).toMatch(/rules\[0\]\.sourceUri: must be a non-empty string/);
    expect(refusal(() => readAuditPolicy(JSON.stringify({ rules: [{ packages: 'x', sourceUri: 'gitlab.com/a/b' }] })))).toMatch(/must be github\.com\/OWNER\/REPO/);
    expect(refusal(() => readAuditPolicy(JSON.stringify({ downgrade: true })))).toMatch(/unknown field "downgrade"/);
  });
});
