/**
 * Attestation layouts (bindings/verify/attestation-layout.ts) over Statements signed here: the layout's signature,
 * expiry, thresholds over distinct functionaries, CEL attributes (false, absent, warn, allowIfNoClaim), artifact
 * rules across steps from predicate materials and subjects, disagreeing claims, and the parts refused rather than
 * ignored. The upstream layouts and data are in test/interop/attestation-layouts.test.ts.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { LINK_V03, SLSA_PROVENANCE_V1 } from '../../bindings/attestation/predicates.js';
import { createStatement } from '../../bindings/attestation/statement.js';
import { initEngine } from '../../bindings/engine.js';
import { generateKeyPair } from '../../bindings/keys/crypto/index.js';
import { keyToDict, keyToPrivateFile, keyToPublicFile, publicKeyFromDict, type PrivateKey, type PublicKey } from '../../bindings/keys/keys.js';
import { pae } from '../../bindings/encoding.js';
import { createVsa, signVsa, verifyVsa } from '../../bindings/attestation/vsa.js';
import { createDsse, createMetablock, serializeEnvelope, signEnvelope } from '../../bindings/metadata/envelope.js';
import { readAttestationLayout, verifyAttestationLayout, type AttestationVerdict } from '../../bindings/verify/attestation-layout.js';
import { makeTempDir } from '../helpers/reference.js';

const SHA = (c: string) => ({ sha256: c.repeat(64) });
const TEST_RESULT = 'https://in-toto.io/attestation/test-result/v0.1';

let owner: PrivateKey;
let alice: PrivateKey;
let bob: PrivateKey;
let mallory: PrivateKey;

const functionary = (k: PublicKey) => {
  const d = keyToDict(k);
  return { keyType: d.keytype, scheme: d.scheme, keyVal: { public: d.keyval.public }, ...(d.keyid_hash_algorithms ? { keyIDHashAlgorithms: d.keyid_hash_algorithms } : {}) };
};

/** A two-step layout: build (SLSA v1 by alice or bob, threshold as given) makes app; test (test results by bob) tests it. */
function layoutDoc(overrides: { threshold?: number; attributes?: unknown[]; expires?: string; extra?: Record<string, unknown> } = {}) {
  return {
    expires: overrides.expires ?? '2100-01-01T00:00:00Z',
    functionaries: { [alice.keyid]: functionary(alice.publicKey), [bob.keyid]: functionary(bob.publicKey) },
    steps: [
      {
        name: 'build',
        expectedMaterials: ['ALLOW git+https://example.com/app@*', 'DISALLOW *'],
        expectedProducts: ['CREATE app', 'DISALLOW *'],
        expectedPredicates: [{
          predicateType: SLSA_PROVENANCE_V1,
          functionaries: [alice.keyid, bob.keyid],
          threshold: overrides.threshold ?? 1,
          expectedAttributes: overrides.attributes ?? [{ rule: "predicate.runDetails.builder.id == 'https://builder.example/{builder}'" }],
        }],
      },
      {
        name: 'test',
        expectedMaterials: ['MATCH app WITH products FROM build', 'DISALLOW *'],
        expectedPredicates: [{ predicateType: TEST_RESULT, functionaries: [bob.keyid], expectedAttributes: [{ rule: "predicate.result == 'PASSED'" }] }],
      },
    ],
    ...overrides.extra,
  };
}

const provenance = (app = 'a', builder = 'https://builder.example/v1') => createStatement({
  subject: [{ name: 'app', digest: SHA(app) }],
  predicateType: SLSA_PROVENANCE_V1,
  predicate: {
    buildDefinition: { buildType: 'https://example.com/build', externalParameters: {}, resolvedDependencies: [{ uri: 'git+https://example.com/app@refs/heads/main', digest: { gitCommit: 'c'.repeat(40) } }] },
    runDetails: { builder: { id: builder } },
  },
});
const testResult = (app = 'a', result = 'PASSED') => createStatement({ subject: [{ name: 'app', digest: SHA(app) }], predicateType: TEST_RESULT, predicate: { result, url: 'https://ci.example/1' } });

async function envelope(statement: Record<string, unknown>, key: PrivateKey): Promise<Uint8Array> {
  return serializeEnvelope(await signEnvelope(createDsse(statement), key));
}

async function signedLayout(doc: Record<string, unknown>, kind: 'metablock' | 'dsse' = 'metablock', key = owner): Promise<Uint8Array> {
  return serializeEnvelope(await signEnvelope(kind === 'metablock' ? createMetablock(doc) : createDsse(doc), key));
}

async function chain(over: { build?: Uint8Array; buildByBob?: Uint8Array; test?: Uint8Array } = {}): Promise<Map<string, Uint8Array>> {
  const files = new Map<string, Uint8Array>([
    [`build.${alice.keyid.slice(0, 8)}.json`, over.build ?? (await envelope(provenance(), alice))],
    [`test.${bob.keyid.slice(0, 8)}.json`, over.test ?? (await envelope(testResult(), bob))],
  ]);
  if (over.buildByBob) files.set(`build.${bob.keyid.slice(0, 8)}.json`, over.buildByBob);
  return files;
}

async function run(layout: Uint8Array, attestations: Map<string, Uint8Array>, extra: { parameters?: Record<string, string>; keys?: PublicKey[]; allowUnsignedLayout?: boolean } = {}): Promise<AttestationVerdict> {
  return verifyAttestationLayout({ layout, layoutKeys: extra.keys ?? [owner.publicKey], attestations, parameters: extra.parameters ?? { builder: 'v1' }, ...(extra.allowUnsignedLayout ? { allowUnsignedLayout: true } : {}) });
}

const codes = (v: AttestationVerdict) => v.failures.map((f) => `${f.code}${f.step ? `:${f.step}` : ''}`);

beforeAll(async () => {
  await initEngine();
  [owner, alice, bob, mallory] = await Promise.all([generateKeyPair('ed25519'), generateKeyPair('ed25519'), generateKeyPair('ecdsa'), generateKeyPair('ed25519')]);
});

describe('attestation layouts: signed by the owner', () => {
  it('a signed layout (Metablock or DSSE) over a good chain passes; parameters substituted', async () => {
    for (const kind of ['metablock', 'dsse'] as const) {
      const v = await run(await signedLayout(layoutDoc(), kind), await chain());
      expect(v.failures).toEqual([]);
      expect(v.passed).toBe(true);
      expect(v.unsignedLayout).toBe(false);
    }
  });

  it('refuses a layout signed by another key, and an unsigned one unless allowed (then says so)', async () => {
    const forged = await run(await signedLayout(layoutDoc(), 'metablock', mallory), await chain());
    expect(forged.passed).toBe(false);
    expect(codes(forged)).toEqual(['LAYOUT']);
    expect(forged.failures[0]!.message).toContain(owner.keyid);
    const plain = new TextEncoder().encode(JSON.stringify(layoutDoc()));
    const refused = await run(plain, await chain(), { keys: [] });
    expect(codes(refused)).toEqual(['LAYOUT']);
    expect(refused.failures[0]!.message).toMatch(/not signed.*--allow-unsigned-layout/);
    const allowed = await run(plain, await chain(), { allowUnsignedLayout: true, keys: [] });
    expect(allowed.passed).toBe(true);
    expect(allowed.unsignedLayout).toBe(true);
    expect(allowed.warnings.join('\n')).toMatch(/not signed/);
  });

  it('a signed layout needs keys; a broken envelope is not read as YAML', async () => {
    const signed = await signedLayout(layoutDoc());
    expect((await run(signed, await chain(), { keys: [] })).failures[0]!.message).toMatch(/give the keys/);
    const doc = JSON.parse(new TextDecoder().decode(signed)) as { signatures: { sig: string }[] };
    doc.signatures[0]!.sig = 'zz';
    const broken = await run(new TextEncoder().encode(JSON.stringify(doc)), await chain(), { allowUnsignedLayout: true, keys: [] });
    expect(codes(broken)).toEqual(['LAYOUT']);
    expect(broken.unsignedLayout).toBe(false);
  });

  it('an expired layout fails', async () => {
    const v = await run(await signedLayout(layoutDoc({ expires: '2020-01-01T00:00:00Z' })), await chain());
    expect(codes(v)).toEqual(['EXPIRED']);
  });
});

describe('attestation layouts: claims, thresholds, attributes', () => {
  it('thresholds count distinct functionaries: 2 of 2 fails with one, passes with both (and both must agree)', async () => {
    const layout = await signedLayout(layoutDoc({ threshold: 2 }));
    const one = await run(layout, await chain());
    expect(codes(one)).toEqual(['THRESHOLD:build']);
    expect(one.failures[0]!.message).toMatch(/by 1 of the 2/);
    // The same functionary twice does not make two.
    const twice = await run(layout, new Map([...(await chain()), ['build.again.json', await envelope(provenance(), alice)]]));
    expect(codes(twice)).toEqual(['THRESHOLD:build']);
    expect((await run(layout, await chain({ buildByBob: await envelope(provenance(), bob) }))).passed).toBe(true);
    const disagree = await run(layout, await chain({ buildByBob: await envelope(provenance('b'), bob) }));
    expect(codes(disagree)).toContain('DISAGREE:build');
  });

  it("every authorized Statement's attributes are checked, not one per key and type", async () => {
    const files = new Map([...(await chain()), ['build.second.json', await envelope(provenance('a', 'https://evil.example/x'), alice)]]);
    const v = await run(await signedLayout(layoutDoc()), files);
    expect(codes(v)).toContain('ATTRIBUTE:build');
    expect(v.failures.find((f) => f.code === 'ATTRIBUTE')!.message).toContain('"https://evil.example/x"');
  });

  it('a false attribute names the rule, the file, the signer and the value; warn: true only warns', async () => {
    const layout = await signedLayout(layoutDoc());
    const v = await run(layout, await chain({ build: await envelope(provenance('a', 'https://other.example/v1'), alice) }));
    expect(codes(v)).toEqual(['ATTRIBUTE:build']);
    const f = v.failures[0]!;
    expect(f).toMatchObject({ step: 'build', predicateType: SLSA_PROVENANCE_V1, functionary: alice.keyid, rule: "predicate.runDetails.builder.id == 'https://builder.example/v1'" });
    expect(f.message).toContain('(predicate.runDetails.builder.id is "https://other.example/v1")');
    const warned = await run(await signedLayout(layoutDoc({ attributes: [{ rule: "predicate.runDetails.builder.id == 'x'", warn: true }] })), await chain());
    expect(warned.passed).toBe(true);
    expect(warned.warnings.join('\n')).toMatch(/is false/);
  });

  it('an absent attribute fails unless allowIfNoClaim; a rule that does not parse, or is not boolean, fails', async () => {
    const absent = [{ rule: "predicate.runDetails.metadata.invocationId == 'x'" }];
    const failed = await run(await signedLayout(layoutDoc({ attributes: absent })), await chain());
    expect(codes(failed)).toEqual(['ATTRIBUTE:build']);
    expect(failed.failures[0]!.message).toMatch(/no such key.*allowIfNoClaim would allow/);
    const allowed = await run(await signedLayout(layoutDoc({ attributes: [{ ...absent[0], allowIfNoClaim: true }] })), await chain());
    expect(allowed.passed).toBe(true);
    expect(allowed.warnings.join('\n')).toMatch(/the claim has no predicate\.runDetails\.metadata\.invocationId/);
    // allowIfNoClaim does not excuse a false rule or a type error.
    const typeError = await run(await signedLayout(layoutDoc({ attributes: [{ rule: 'predicate.runDetails.builder.id + 1 == 2', allowIfNoClaim: true }] })), await chain());
    expect(codes(typeError)).toEqual(['ATTRIBUTE:build']);
    expect(codes(await run(await signedLayout(layoutDoc({ attributes: [{ rule: 'predicate.(' }] })), await chain()))).toEqual(['ATTRIBUTE:build']);
    const notBool = await run(await signedLayout(layoutDoc({ attributes: [{ rule: 'predicate.runDetails.builder.id' }] })), await chain());
    expect(notBool.failures[0]!.message).toMatch(/gives a string, not true or false/);
  });

  it('envelopes signed by no functionary are no claims; a step without claims fails by name', async () => {
    const v = await run(await signedLayout(layoutDoc()), await chain({ test: await envelope(testResult(), mallory) }));
    expect(codes(v)).toEqual(['NO_CLAIMS:test']);
    expect(v.failures[0]!.message).toBe('no claims found for step test');
    expect(v.warnings.join('\n')).toMatch(/test\.\w+\.json: signed by no functionary/);
    // Bob signed a test result, but the build step wants SLSA provenance from alice or bob: another type does not count.
    const wrongType = await run(await signedLayout(layoutDoc()), await chain({ build: await envelope(testResult(), alice) }));
    expect(codes(wrongType)).toContain('THRESHOLD:build');
  });

  it('artifact rules across steps: a tested app that is not the built one fails MATCH; an extra product fails DISALLOW', async () => {
    const swapped = await run(await signedLayout(layoutDoc()), await chain({ test: await envelope(testResult('b'), bob) }));
    expect(codes(swapped)).toEqual(['RULE:test']);
    expect(swapped.failures[0]!.message).toMatch(/DISALLOW.*"app"/);
    const extra = createStatement({ ...(provenance() as never), subject: [{ name: 'app', digest: SHA('a') }, { name: 'backdoor', digest: SHA('d') }] } as never);
    const v = await run(await signedLayout(layoutDoc()), await chain({ build: await envelope(extra, alice) }));
    expect(codes(v)).toEqual(['RULE:build']);
    expect(v.failures[0]!.message).toContain('"backdoor"');
  });
});

describe('attestation layouts: read strictly', () => {
  it('refuses inspections (commands), malformed subjects, unknown fields, unknown functionaries, bad thresholds', async () => {
    const bad = (doc: unknown, pattern: RegExp) => expect(() => readAttestationLayout(doc)).toThrow(pattern);
    bad(layoutDoc({ extra: { inspections: [{ name: 'x' }] } }), /inspections: are commands for the verifier to run/);
    bad(layoutDoc({ extra: { subjects: [{ subject: ['x'] }] } }), /subjects\[0\]\.expectedPredicates: must be a non-empty list/);
    bad(layoutDoc({ extra: { subjects: [{ subject: [], expectedPredicates: [{ predicateType: 'x', functionaries: [alice.keyid] }] }] } }), /subjects\[0\]\.subject: must be a non-empty list/);
    bad(layoutDoc({ extra: { subjects: [{ subject: ['app'], expectedPredicates: [{ predicateType: 'x', functionaries: [mallory.keyid] }] }] } }), /subjects\[0\]\.expectedPredicates\[0\]\.functionaries: names/);
    bad(layoutDoc({ extra: { subjects: { app: [] } } }), /subjects: must be a list/);
    bad(layoutDoc({ extra: { stepz: [] } }), /unknown field "stepz"/);
    bad(layoutDoc({ threshold: 3 }), /threshold: must be an integer from 1 to the number of functionaries \(2\)/);
    const doc = layoutDoc();
    (doc.steps[1]!.expectedPredicates[0] as { functionaries: string[] }).functionaries = [mallory.keyid];
    bad(doc, /not among the layout's functionaries/);
    const mislabeled = layoutDoc();
    mislabeled.functionaries = { [mallory.keyid]: functionary(alice.publicKey) } as never;
    bad(mislabeled, /the key's id is/);
    bad({ ...layoutDoc(), steps: [] }, /steps: must be a non-empty list/);
    expect(() => readAttestationLayout(layoutDoc(), { 'a b': 'x' })).toThrow(/parameter name/);
  });

  it('parameters refer to each other, not without end; unresolved ones are reported', async () => {
    const v = await run(await signedLayout(layoutDoc()), await chain(), { parameters: { builder: '{version}', version: 'v1' } });
    expect(v.passed).toBe(true);
    expect(() => readAttestationLayout(layoutDoc(), { builder: '{builder}x' })).toThrow(/refers to itself/);
    const none = await run(await signedLayout(layoutDoc()), await chain(), { parameters: {} });
    expect(none.passed).toBe(false);
    expect(none.warnings.join('\n')).toMatch(/no value was given for: \{builder\}/);
  });

  it('a Statement spelling "_type" as "type" (protojson reads both) is read, and the reading is reported', async () => {
    const statement = testResult() as Record<string, unknown>;
    const { _type, ...rest } = statement;
    const v = await run(await signedLayout(layoutDoc()), await chain({ test: await envelope({ type: _type, ...rest }, bob) }));
    expect(v.passed).toBe(true);
    expect(v.warnings.join('\n')).toMatch(/spells "_type" as "type"/);
    const both = await run(await signedLayout(layoutDoc()), await chain({ test: await envelope({ ...statement, type: _type }, bob) }));
    expect(codes(both)).toEqual(['NO_CLAIMS:test']);
    expect(both.warnings.join('\n')).toMatch(/both "_type" and "type"/);
  });
});

describe('in-toto-attestation-verify', () => {
  const TOOL = fileURLToPath(new URL('../../dist/cli/in-toto-attestation-verify.js', import.meta.url));
  it('verifies a directory, exits 1 with the failure on stderr, 2 on wrong arguments; --json gives the verdict', async () => {
    const dir = makeTempDir('in-toto-att-layout-');
    const att = join(dir, 'att');
    mkdirSync(att);
    for (const [name, bytes] of await chain()) writeFileSync(join(att, name), bytes);
    writeFileSync(join(dir, 'layout.json'), await signedLayout(layoutDoc()));
    writeFileSync(join(dir, 'owner.pub'), JSON.stringify(keyToDict(owner.publicKey)));
    writeFileSync(join(dir, 'params.json'), JSON.stringify({ builder: 'v1' }));
    const cli = (...args: string[]) => spawnSync(process.execPath, [TOOL, ...args], { cwd: dir, encoding: 'utf8' });
    const ok = cli('-l', 'layout.json', '-a', 'att', '--layout-keys', 'owner.pub', '--parameters', 'params.json');
    expect(ok.stderr).toMatch(/PASSED: 2 attestations verified/);
    expect(ok.status).toBe(0);
    writeFileSync(join(dir, 'params.json'), JSON.stringify({ builder: 'v2' }));
    const bad = cli('-l', 'layout.json', '-a', 'att', '--layout-keys', 'owner.pub', '--parameters', 'params.json', '--json');
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(/FAIL \[ATTRIBUTE\] step build/);
    expect(JSON.parse(bad.stdout)).toMatchObject({ passed: false, failures: [{ code: 'ATTRIBUTE', step: 'build' }] });
    expect(cli('-l', 'layout.json', '-a', 'att').status).toBe(2);
    expect(cli('-a', 'att', '--allow-unsigned-layout').status).toBe(2);
  });
});

describe('VSAs: in-toto-attestation-verify --vsa, in-toto-vsa verify, verifyVsa', () => {
  const VERIFY = fileURLToPath(new URL('../../dist/cli/in-toto-attestation-verify.js', import.meta.url));
  const VSA = fileURLToPath(new URL('../../dist/cli/in-toto-vsa.js', import.meta.url));
  const VERIFIER = 'https://github.com/in-toto/in-toto-wasm/in-toto-attestation-verify';

  it('writes a signed VSA after a pass and after a fail, the same bytes for the same inputs and --now; ours verifies it', async () => {
    const dir = makeTempDir('in-toto-vsa-');
    const att = join(dir, 'att');
    mkdirSync(att);
    for (const [name, bytes] of await chain()) writeFileSync(join(att, name), bytes);
    writeFileSync(join(dir, 'layout.json'), await signedLayout(layoutDoc()));
    writeFileSync(join(dir, 'owner.pub'), JSON.stringify(keyToDict(owner.publicKey)));
    writeFileSync(join(dir, 'verifier'), keyToPrivateFile(alice));
    writeFileSync(join(dir, 'verifier.pub'), keyToPublicFile(alice.publicKey));
    const tool = (file: string, ...args: string[]) => spawnSync(process.execPath, [file, ...args], { cwd: dir, encoding: 'utf8' });
    const verify = (builder: string, out: string) => {
      writeFileSync(join(dir, 'params.json'), JSON.stringify({ builder }));
      return tool(VERIFY, '-l', 'layout.json', '-a', 'att', '--layout-keys', 'owner.pub', '--parameters', 'params.json', '--vsa', out, '--vsa-key', 'verifier', '--vsa-key-type', 'ed25519', '--resource-uri', 'pkg:generic/app@1', '--verified-level', 'SLSA_BUILD_LEVEL_2', '--now', '2026-12-07T12:00:00Z');
    };
    expect(verify('v1', 'pass.json').status).toBe(0);
    expect(verify('v1', 'pass2.json').status).toBe(0);
    expect(readFileSync(join(dir, 'pass.json'))).toEqual(readFileSync(join(dir, 'pass2.json')));
    const failed = verify('v2', 'fail.json');
    expect(failed.status).toBe(1);
    expect(failed.stderr).toMatch(/VSA \(FAILED\) written to fail\.json/);

    const statement = JSON.parse(Buffer.from((JSON.parse(readFileSync(join(dir, 'pass.json'), 'utf8')) as { payload: string }).payload, 'base64').toString()) as { subject: unknown; predicate: Record<string, unknown> };
    // The last step (test) makes nothing: the subject is what the last step with products (build) made.
    expect(statement.subject).toEqual([{ name: 'app', digest: SHA('a') }]);
    const failedStatement = JSON.parse(Buffer.from((JSON.parse(readFileSync(join(dir, 'fail.json'), 'utf8')) as { payload: string }).payload, 'base64').toString()) as { subject: unknown };
    // A failure is about the layout that was not met.
    expect(failedStatement.subject).toEqual([{ name: 'layout.json', digest: { sha256: createHash('sha256').update(readFileSync(join(dir, 'layout.json'))).digest('hex') } }]);
    expect(statement.predicate).toMatchObject({
      verifier: { id: VERIFIER, version: { 'in-toto-wasm': expect.any(String) } },
      timeVerified: '2026-12-07T12:00:00Z',
      resourceUri: 'pkg:generic/app@1',
      policy: { uri: 'layout.json', digest: { sha256: expect.stringMatching(/^[0-9a-f]{64}$/) }, annotations: { layoutSignedBy: [owner.keyid] } },
      verificationResult: 'PASSED',
      verifiedLevels: ['SLSA_BUILD_LEVEL_2'],
    });
    expect((statement.predicate.inputAttestations as { name: string }[]).map((i) => i.name)).toEqual([...(await chain()).keys()].sort());

    const check = (file: string, ...over: string[]) => {
      const args = { '--attestation-path': file, '--subject-digest': file === 'fail.json' ? `sha256:${createHash('sha256').update(readFileSync(join(dir, 'layout.json'))).digest('hex')}` : `sha256:${'a'.repeat(64)}`, '--verifier-id': VERIFIER, '--resource-uri': 'pkg:generic/app@1', '--public-key-path': 'verifier.pub' } as Record<string, string>;
      for (let i = 0; i < over.length; i += 2) args[over[i]!] = over[i + 1]!;
      return tool(VSA, 'verify', ...Object.entries(args).flat());
    };
    const ok = check('pass.json', '--verified-level', 'SLSA_BUILD_LEVEL_1');
    expect(ok.stderr).toMatch(/PASSED/);
    expect(ok.status).toBe(0);
    expect(check('fail.json').stderr).toMatch(/verification result is FAILED/);
    expect(check('pass.json', '--resource-uri', 'pkg:generic/other@1').stderr).toMatch(/the resource is pkg:generic\/app@1, not pkg:generic\/other@1/);
    expect(check('pass.json', '--verifier-id', 'https://else').status).toBe(1);
    expect(check('pass.json', '--subject-digest', `sha256:${'b'.repeat(64)}`).stderr).toMatch(/no subject has the digest/);
    expect(check('pass.json', '--verified-level', 'SLSA_BUILD_LEVEL_3').stderr).toMatch(/not SLSA_BUILD_LEVEL_3/);
    writeFileSync(join(dir, 'other.pub'), keyToPublicFile(mallory.publicKey));
    expect(check('pass.json', '--public-key-path', 'other.pub').stderr).toMatch(/not signed by the key given/);
    expect(check('pass.json', '--subject-digest', 'nope').status).toBe(2);
  });

  it('verifyVsa refuses a changed payload, another predicate type, and no keys', async () => {
    const statement = createVsa({ verifierId: 'https://v.example', timeVerified: new Date('2026-01-01T00:00:00Z'), resourceUri: 'r', subject: [{ name: 'x', digest: SHA('c') }], policy: { uri: 'l', bytes: new Uint8Array([1]), signedBy: [] }, inputs: [], passed: true });
    const expectation = { subjectDigests: [SHA('c')], verifierId: 'https://v.example', resourceUri: 'r' };
    const bytes = await signVsa(statement, alice);
    await expect(verifyVsa(bytes, [alice.publicKey], expectation)).resolves.toMatchObject({ vsa: { verificationResult: 'PASSED', policy: { uri: 'l' } } });
    const doc = JSON.parse(new TextDecoder().decode(bytes)) as { payload: string };
    const changed = JSON.stringify({ ...doc, payload: Buffer.from(Buffer.from(doc.payload, 'base64').toString().replace('"PASSED"', '"PASSED" ')).toString('base64') });
    await expect(verifyVsa(new TextEncoder().encode(changed), [alice.publicKey], expectation)).rejects.toThrow(/not signed by the key given/);
    await expect(verifyVsa(await envelope(testResult(), alice), [alice.publicKey], expectation)).rejects.toThrow(/not a VSA/);
    await expect(verifyVsa(bytes, [], expectation)).rejects.toThrow(/give the key/);
    expect(() => createVsa({ ...{ verifierId: 'not a uri', timeVerified: new Date(), resourceUri: 'r', subject: [], policy: { uri: 'l', bytes: new Uint8Array(), signedBy: [] }, inputs: [], passed: false } })).toThrow(/must be a URI/);
  });
});

describe('attestation layouts: what an adversarial review found (each a false PASS, cost or leniency before)', () => {
  const withBuildAttributes = (attributes: unknown[]) => signedLayout(layoutDoc({ attributes }));

  it('one key under two ids is refused (it would meet a threshold of 2 alone)', async () => {
    const d = keyToDict(alice.publicKey);
    const upper = publicKeyFromDict({ keytype: d.keytype, scheme: d.scheme, keyval: { public: d.keyval.public.toUpperCase() }, keyid_hash_algorithms: d.keyid_hash_algorithms });
    expect(upper.keyid).not.toBe(alice.keyid);
    const doc = layoutDoc({ threshold: 2 });
    doc.functionaries = { [alice.keyid]: functionary(alice.publicKey), [upper.keyid]: { ...functionary(alice.publicKey), keyVal: { public: d.keyval.public.toUpperCase() } } } as never;
    (doc.steps[0]!.expectedPredicates[0] as { functionaries: string[] }).functionaries = [alice.keyid, upper.keyid];
    (doc.steps[1]!.expectedPredicates[0] as { functionaries: string[] }).functionaries = [alice.keyid];
    expect(() => readAttestationLayout(doc, { builder: 'v1' })).toThrow(/is the same key as/);
  });

  it("allowIfNoClaim excuses a field the claim lacks, not a key missing from the rule's own map", async () => {
    const allowlist = [{ rule: "{'https://builder.example/trusted': true}[predicate.runDetails.builder.id]", allowIfNoClaim: true }];
    const v = await run(await withBuildAttributes(allowlist), await chain({ build: await envelope(provenance('a', 'https://evil.example'), alice) }));
    expect(codes(v)).toEqual(['ATTRIBUTE:build']);
    expect(v.failures[0]!.message).toMatch(/no such key/);
  });

  it('layout keys given and an unsigned layout: fails even with allowUnsignedLayout; the CLI refuses both flags', async () => {
    const plain = new TextEncoder().encode(JSON.stringify(layoutDoc()));
    const v = await verifyAttestationLayout({ layout: plain, layoutKeys: [owner.publicKey], allowUnsignedLayout: true, attestations: await chain(), parameters: { builder: 'v1' } });
    expect(codes(v)).toEqual(['LAYOUT']);
    expect(v.failures[0]!.message).toMatch(/layout keys were given/);
    const tool = fileURLToPath(new URL('../../dist/cli/in-toto-attestation-verify.js', import.meta.url));
    const r = spawnSync(process.execPath, [tool, '-l', 'x', '-a', 'y', '--layout-keys', 'k', '--allow-unsigned-layout'], { encoding: 'utf8' });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/alternatives/);
  });

  it("an envelope whose payloadType is not a Statement's is no claim", async () => {
    const signed = await signEnvelope({ ...createDsse(testResult()), payloadType: 'application/vnd.example+json', signedBytes: pae('application/vnd.example+json', createDsse(testResult()).payload) }, bob);
    const v = await run(await signedLayout(layoutDoc()), await chain({ test: serializeEnvelope(signed) }));
    expect(codes(v)).toEqual(['NO_CLAIMS:test']);
    expect(v.warnings.join('\n')).toMatch(/payloadType is "application\/vnd.example\+json"/);
  });

  it("a link filed under another step's name fails (file names are not signed; a link's name is)", async () => {
    const link = (name: string) => createStatement({ subject: [{ name: 'app', digest: SHA('a') }], predicateType: LINK_V03, predicate: { name, command: [], materials: [], byproducts: {}, environment: {} } });
    const doc = layoutDoc();
    doc.steps[1]!.expectedPredicates = [{ predicateType: LINK_V03, functionaries: [bob.keyid], expectedAttributes: [] }] as never;
    const layout = await signedLayout(doc);
    const misfiled = await run(layout, await chain({ test: await envelope(link('clone'), bob) }));
    expect(codes(misfiled)).toContain('MISFILED:test');
    expect(misfiled.passed).toBe(false);
    expect((await run(layout, await chain({ test: await envelope(link('test'), bob) }))).passed).toBe(true);
  });

  it('parameter values that would change the rule they land in are refused; references resolve; blow-ups stop', async () => {
    for (const value of ["v1' || true || '", 'v1 WITH', 'a\\b', 'x"y', '{builder}']) {
      const v = await run(await signedLayout(layoutDoc()), await chain(), { parameters: { builder: value } });
      expect(codes(v), value).toEqual(['LAYOUT']);
    }
    expect(() => readAttestationLayout(layoutDoc(), { a: '{b}', b: '{a}' })).toThrow(/refers to itself/);
    expect(() => readAttestationLayout(layoutDoc(), { a: '{b}'.repeat(100), b: '{c}'.repeat(100), c: 'x'.repeat(100) })).toThrow(/longer than 4096/);
  });

  it("a step expecting two predicate types passes with one honest claim of each; each type's artifacts meet the step's rules", async () => {
    const doc = layoutDoc();
    doc.steps[0]!.expectedMaterials = ['ALLOW git+https://example.com/app@*', 'ALLOW app', 'DISALLOW *'];
    doc.steps[0]!.expectedPredicates.push({ predicateType: TEST_RESULT, functionaries: [bob.keyid], threshold: 1, expectedAttributes: [] } as never);
    const files = await chain();
    files.set('build.tested.json', await envelope(testResult(), bob));
    const v = await run(await signedLayout(doc), files);
    expect(v.failures).toEqual([]);
    // The second type's artifacts meet the step's rules too: a test result about something else is disallowed.
    files.set('build.tested.json', await envelope(createStatement({ subject: [{ name: 'other', digest: SHA('e') }], predicateType: TEST_RESULT, predicate: { result: 'PASSED' } }), bob));
    const other = await run(await signedLayout(doc), files);
    expect(other.failures).toMatchObject([{ code: 'RULE', step: 'build', predicateType: TEST_RESULT }]);
    expect(other.failures[0]!.message).toMatch(/its https:\/\/in-toto.io\/attestation\/test-result\/v0.1 claims.*"other"/);
  });

  it('strict expiry, zero-signature envelopes, out-of-range numbers, unknown YAML tags, many signatures', async () => {
    for (const expires of ['2100', 'foo 2100-01-01T00:00:00Z', '2100-02-31T00:00:00Z', '2100-01-01T00:00:00']) {
      expect(() => readAttestationLayout(layoutDoc({ expires })), expires).toThrow(/RFC 3339/);
    }
    const empty = await run(serializeEnvelope(createMetablock(layoutDoc())), await chain());
    expect(empty.failures[0]!.message).toMatch(/no signature/);
    const huge = createStatement({ subject: [{ name: 'app', digest: SHA('a') }], predicateType: TEST_RESULT, predicate: { result: 'PASSED' } });
    const hugeBytes = new TextEncoder().encode(JSON.stringify(huge).replace('"result":"PASSED"', '"result":"PASSED","x":1e400'));
    const hugeEnv = await signEnvelope({ ...createDsse(testResult()), payload: hugeBytes, signedBytes: pae('application/vnd.in-toto+json', hugeBytes) }, bob);
    const v = await run(await signedLayout(layoutDoc()), await chain({ test: serializeEnvelope(hugeEnv) }));
    expect(codes(v)).toEqual(['ATTRIBUTE:test']);
    expect(v.failures[0]!.message).toMatch(/outside what JSON and CEL doubles carry/);
    const tagged = await verifyAttestationLayout({ layout: new TextEncoder().encode('expires: !!js/function "x"\n'), allowUnsignedLayout: true, attestations: new Map() });
    expect(tagged.failures[0]!.message).toMatch(/not YAML this verifier reads/);
    const many = JSON.parse(new TextDecoder().decode(await envelope(testResult(), bob))) as { signatures: unknown[] };
    many.signatures = Array.from({ length: 17 }, () => many.signatures[0]);
    const crowded = await run(await signedLayout(layoutDoc()), await chain({ test: new TextEncoder().encode(JSON.stringify(many)) }));
    expect(crowded.warnings.join('\n')).toMatch(/17 signatures, more than 16/);
  });

  it('a file naming no step is not tried against any key; the CLI follows symlinks and names what it skips', async () => {
    const files = await chain();
    files.set('nostep.x.json', await envelope(testResult(), bob));
    const v = await run(await signedLayout(layoutDoc()), files);
    expect(v.passed).toBe(true);
    expect(v.warnings.join('\n')).toMatch(/nostep\.x\.json: names no step/);
    const dir = makeTempDir('in-toto-att-links-');
    mkdirSync(join(dir, 'att'));
    mkdirSync(join(dir, 'store'));
    for (const [name, bytes] of await chain()) {
      writeFileSync(join(dir, 'store', name), bytes);
      symlinkSync(join(dir, 'store', name), join(dir, 'att', name));
    }
    writeFileSync(join(dir, 'att', 'README.txt'), 'notes');
    writeFileSync(join(dir, 'layout.json'), await signedLayout(layoutDoc()));
    writeFileSync(join(dir, 'owner.pub'), JSON.stringify(keyToDict(owner.publicKey)));
    writeFileSync(join(dir, 'p.json'), JSON.stringify({ builder: 'v1' }));
    const tool = fileURLToPath(new URL('../../dist/cli/in-toto-attestation-verify.js', import.meta.url));
    const r = spawnSync(process.execPath, [tool, '-l', 'layout.json', '-a', 'att', '--layout-keys', 'owner.pub', '--parameters', 'p.json'], { cwd: dir, encoding: 'utf8' });
    expect(r.stderr).toMatch(/not named \*\.json or \*\.intoto\.jsonl, not read: README\.txt/);
    expect(r.status).toBe(0);
  });
});

describe('attestation layouts: JSON Lines bundles and Sigstore bundles as inputs', () => {
  it('each line of <step>.intoto.jsonl is a claim of its step; a bad line is reported, not fatal', async () => {
    const line = (bytes: Uint8Array) => new TextDecoder().decode(bytes).replace(/\n\s*/g, '');
    const files = await chain();
    const build = [...files].find(([n]) => n.startsWith('build.'))!;
    files.delete(build[0]);
    files.set('build.intoto.jsonl', new TextEncoder().encode(`${line(build[1])}\n{"payload": "e30=", "payloadType": "application/vnd.in-toto+json", "signatures": []}\n${line(await envelope(provenance(), bob))}\n`));
    const v = await run(await signedLayout(layoutDoc({ threshold: 2 })), files);
    expect(v.failures).toEqual([]);
    expect(v.warnings.join('\n')).toMatch(/build\.intoto\.jsonl line 2: .*not a claim/);
  });

  it('a Sigstore bundle without a trusted root is no claim (and says why); a message-signature bundle is refused', async () => {
    const bundle = { mediaType: 'application/vnd.dev.sigstore.bundle.v0.3+json', verificationMaterial: { publicKey: { hint: 'k' }, tlogEntries: [] }, dsseEnvelope: { payload: Buffer.from(JSON.stringify(testResult())).toString('base64'), payloadType: 'application/vnd.in-toto+json', signatures: [{ sig: 'c2ln', keyid: '' }] } };
    const v = await run(await signedLayout(layoutDoc()), await chain({ test: new TextEncoder().encode(JSON.stringify(bundle)) }));
    expect(codes(v)).toEqual(['NO_CLAIMS:test']);
    expect(v.warnings.join('\n')).toMatch(/a Sigstore bundle, and no trusted root/);
    expect(() => readAttestationLayout({ ...layoutDoc(), functionaries: { ...layoutDoc().functionaries, gha: { sigstore: { issuer: 'https://token.actions.githubusercontent.com' } } } })).toThrow(/give identity or identityRegexp/);
    expect(() => readAttestationLayout({ ...layoutDoc(), functionaries: { ...layoutDoc().functionaries, a: { sigstore: { issuer: 'https://i', identity: 'x' } }, b: { sigstore: { issuer: 'https://i', identity: 'x' } } } })).toThrow(/same Sigstore identity as a/);
    // Certificate extensions: known names only, non-empty string values; they make the identity a different functionary.
    const withExtensions = (extensions: unknown) => readAttestationLayout({ ...layoutDoc(), functionaries: { ...layoutDoc().functionaries, a: { sigstore: { issuer: 'https://i', identity: 'x', extensions } } } });
    expect(() => withExtensions({ sourceRepo: 'x' })).toThrow(/extensions: unknown field "sourceRepo"/);
    expect(() => withExtensions({ sourceRepositoryURI: 1 })).toThrow(/extensions\.sourceRepositoryURI: must be the value/);
    expect(() => withExtensions({})).toThrow(/must name at least one extension/);
    expect(() => withExtensions({ issuer: 'https://i' })).toThrow(/unknown field "issuer"/);
    expect(withExtensions({ sourceRepositoryRef: 'refs/heads/main' }).functionaries.get('a')).toMatchObject({ kind: 'sigstore', identity: { san: 'x', issuer: 'https://i', extensions: { sourceRepositoryRef: 'refs/heads/main' } } });
    expect(() => readAttestationLayout({ ...layoutDoc(), functionaries: { ...layoutDoc().functionaries, a: { sigstore: { issuer: 'https://i', identity: 'x' } }, b: { sigstore: { issuer: 'https://i', identity: 'x', extensions: { sourceRepositoryRef: 'refs/heads/main' } } } } })).not.toThrow();
  });
});

describe('attestation layouts: what a second adversarial review found', () => {
  it('a material or subject the rules cannot see (no digest, bad hex) fails the claim instead of passing unseen', async () => {
    const sneaky = provenance() as { predicate: { buildDefinition: { resolvedDependencies: unknown[] } } };
    sneaky.predicate.buildDefinition.resolvedDependencies.push({ uri: 'https://evil.example/payload.sh' });
    const v = await run(await signedLayout(layoutDoc()), await chain({ build: await envelope(sneaky as never, alice) }));
    expect(codes(v)).toEqual(['ARTIFACT:build']);
    expect(v.failures[0]!.message).toMatch(/resolvedDependencies\[1\] \(https:\/\/evil\.example\/payload\.sh\) has no digest/);
    const badHex = provenance() as { predicate: { buildDefinition: { resolvedDependencies: { digest: unknown }[] } } };
    badHex.predicate.buildDefinition.resolvedDependencies[0]!.digest = { sha256: 'ZZ' };
    expect(codes(await run(await signedLayout(layoutDoc()), await chain({ build: await envelope(badHex as never, alice) })))).toContain('ARTIFACT:build');
  });

  it('a parameter outside a string literal of a CEL rule is refused (its value would be code)', () => {
    const doc = layoutDoc({ attributes: [{ rule: 'size(subject) == {count}' }] });
    expect(() => readAttestationLayout(doc, { count: '1||true' })).toThrow(/outside a string literal/);
    expect(() => readAttestationLayout(layoutDoc({ attributes: [{ rule: "predicate.x == 'a' + {s}" }] }), { s: 'b' })).toThrow(/outside a string literal/);
    expect(() => readAttestationLayout(layoutDoc({ attributes: [{ rule: "predicate.x == \"{s}\" && predicate.y == r'{s}' && predicate.z == '''{s}'''" }] }), { s: 'b' })).not.toThrow();
  });

  it('JSON Lines files are bounded (lines, warnings), and so are signature checks overall', async () => {
    const bad = '{"payload": "e30=", "payloadType": "application/vnd.in-toto+json", "signatures": []}\n';
    const files = await chain();
    files.set('build.many.intoto.jsonl', new TextEncoder().encode(bad.repeat(1001)));
    expect(codes(await run(await signedLayout(layoutDoc()), files))).toContain('LIMIT:build');
    files.set('build.many.intoto.jsonl', new TextEncoder().encode(bad.repeat(50)));
    const folded = await run(await signedLayout(layoutDoc()), files);
    expect(folded.warnings.filter((w) => w.includes('build.many.intoto.jsonl'))).toHaveLength(11);
    expect(folded.warnings.join('\n')).toMatch(/40 more warnings like those/);
    // 16 signatures x 2 keys, on 700 lines: past the budget of 20,000 checks.
    const crowded = JSON.parse(new TextDecoder().decode(await envelope(provenance(), mallory))) as { signatures: unknown[] };
    crowded.signatures = Array.from({ length: 16 }, () => crowded.signatures[0]);
    files.set('build.many.intoto.jsonl', new TextEncoder().encode(`${JSON.stringify(crowded)}\n`.repeat(700)));
    const spent = await run(await signedLayout(layoutDoc()), files);
    expect(spent.failures).toMatchObject([{ code: 'LIMIT', message: expect.stringMatching(/more than 20000 signature checks/) }]);
  }, 120_000);

  it('VSA levels: only SLSA levels that exist; a keyid-less signature verifies', async () => {
    const base = { verifierId: 'https://v.example', timeVerified: new Date('2026-01-01T00:00:00Z'), resourceUri: 'r', subject: [{ name: 'x', digest: SHA('c') }], policy: { uri: 'l', bytes: new Uint8Array([1]), signedBy: [] }, inputs: [], passed: true };
    expect(() => createVsa({ ...base, verifiedLevels: ['SLSA_BUILD_LEVEL_9'] })).toThrow(/is no SLSA level/);
    expect(() => createVsa({ ...base, verifiedLevels: ['SLSA_BUILDX_LEVEL_1'] })).toThrow(/is no SLSA level/);
    const expectation = { subjectDigests: [SHA('c')], verifierId: 'https://v.example', resourceUri: 'r' };
    const l3 = await signVsa(createVsa({ ...base, verifiedLevels: ['SLSA_BUILD_LEVEL_3', 'ACME_LEVEL_2'] }), alice);
    await expect(verifyVsa(l3, [alice.publicKey], { ...expectation, verifiedLevels: ['SLSA_BUILD_LEVEL_2', 'ACME_LEVEL_2'] })).resolves.toBeDefined();
    await expect(verifyVsa(l3, [alice.publicKey], { ...expectation, verifiedLevels: ['ACME_LEVEL_1'] })).rejects.toThrow(/not ACME_LEVEL_1/);
    await expect(verifyVsa(l3, [alice.publicKey], { ...expectation, verifiedLevels: ['SLSA_BUILD_LEVEL_4'] })).rejects.toThrow(/is no SLSA level/);
    const doc = JSON.parse(new TextDecoder().decode(l3)) as { signatures: { keyid: string }[] };
    doc.signatures[0]!.keyid = '';
    await expect(verifyVsa(new TextEncoder().encode(JSON.stringify(doc)), [alice.publicKey], expectation)).resolves.toBeDefined();
  });
});

describe('attestation layouts: subjects (attestations the products must have)', () => {
  const VSA = 'https://slsa.dev/verification_summary/v1';
  const vsaAbout = (digest: Record<string, string>, result = 'PASSED') => createStatement({
    subject: [{ name: 'app', digest }],
    predicateType: VSA,
    predicate: { verifier: { id: 'https://verifier.example' }, timeVerified: '2026-01-01T00:00:00Z', resourceUri: 'pkg:generic/app', policy: { uri: 'p' }, inputAttestations: [], verificationResult: result, verifiedLevels: ['SLSA_BUILD_LEVEL_2'] },
  });
  const withSubjects = (subjects: unknown[]) => layoutDoc({ extra: { subjects } });
  const entry = (over: Record<string, unknown> = {}) => ({ subject: ['app'], expectedPredicates: [{ predicateType: VSA, functionaries: [alice.keyid], expectedAttributes: [{ rule: "predicate.verificationResult == 'PASSED'" }], ...over }] });
  const chainWith = async (extra: Record<string, Uint8Array>) => {
    const files = await chain();
    for (const [name, bytes] of Object.entries(extra)) files.set(name, bytes);
    return files;
  };

  it('passes when each matched product has the expected Statements about its digest (a file naming no step)', async () => {
    const v = await run(await signedLayout(withSubjects([entry()])), await chainWith({ 'app.vsa.json': await envelope(vsaAbout(SHA('a')), alice) }));
    expect(v.failures).toEqual([]);
    expect(v.passed).toBe(true);
  });

  it('fails naming the product when the Statement is missing, about another digest, by the wrong signer, or below the threshold', async () => {
    const cases: [string, Record<string, Uint8Array>, unknown[], RegExp][] = [
      ['no Statement', {}, [entry()], /subject app \(sha256:a{64}\): https:\/\/slsa\.dev\/verification_summary\/v1 by 0 of the 1/],
      ['another digest', { 'app.vsa.json': await envelope(vsaAbout(SHA('b')), alice) }, [entry()], /subject app .* by 0 of the 1/],
      ['another signer', { 'app.vsa.json': await envelope(vsaAbout(SHA('a')), mallory) }, [entry()], /subject app .* by 0 of the 1/],
      ['one of two', { 'app.vsa.json': await envelope(vsaAbout(SHA('a')), alice) }, [entry({ functionaries: [alice.keyid, bob.keyid], threshold: 2 })], /by 1 of the 2/],
      ['a pattern no product matches', {}, [{ ...entry(), subject: ['*.tar.gz'] }], /subjects\[0\]: no product of the chain matches "\*\.tar\.gz" \(products: app\)/],
    ];
    for (const [label, files, subjects, reason] of cases) {
      const v = await run(await signedLayout(withSubjects(subjects)), await chainWith(files));
      expect(v.passed, label).toBe(false);
      expect(v.failures.map((f) => f.code), label).toEqual(['SUBJECT']);
      expect(v.failures[0]!.message, label).toMatch(reason);
    }
  });

  it("evaluates each such Statement's attributes, and reports a subject claim no functionary signed", async () => {
    const failed = await run(await signedLayout(withSubjects([entry()])), await chainWith({ 'app.vsa.json': await envelope(vsaAbout(SHA('a'), 'FAILED'), alice) }));
    expect(codes(failed)).toEqual(['ATTRIBUTE']);
    expect(failed.failures[0]).toMatchObject({ subject: 'app', predicateType: VSA });
    expect(failed.failures[0]!.message).toMatch(/subject app, app\.vsa\.json .* is false/);
    const stranger = await run(await signedLayout(withSubjects([entry()])), await chainWith({ 'app.vsa.json': await envelope(vsaAbout(SHA('a')), mallory), 'app.ok.json': await envelope(vsaAbout(SHA('a')), alice) }));
    expect(stranger.passed).toBe(true);
    expect(stranger.warnings.join('\n')).toMatch(/app\.vsa\.json: signed by no functionary of the layout's subjects: not a claim/);
  });

  it("covers every predicate type's products, whatever the order the step lists its types in (helper-21: a false PASS)", async () => {
    // Two predicate types that both record products (their subjects): SLSA provenance and a link.
    const A = SLSA_PROVENANCE_V1;
    const B = LINK_V03;
    const doc = (types: string[]) => ({
      expires: '2100-01-01T00:00:00Z',
      functionaries: { [alice.keyid]: functionary(alice.publicKey) },
      steps: [{ name: 'build', expectedMaterials: ['ALLOW *'], expectedProducts: ['ALLOW *'], expectedPredicates: types.map((predicateType) => ({ predicateType, functionaries: [alice.keyid] })) }],
      subjects: [{ subject: ['*.tar'], expectedPredicates: [{ predicateType: VSA, functionaries: [alice.keyid] }] }],
    });
    const claim = (type: string, subject: { name: string; digest: Record<string, string> }[]) =>
      envelope(type === A ? createStatement({ ...(provenance() as never), subject } as never) : createStatement({ subject, predicateType: type, predicate: { name: 'build', command: [], materials: [], byproducts: {}, environment: {} } }), alice);
    const files = new Map([
      ['build.a.json', await claim(A, [{ name: 'app.tar', digest: SHA('a') }])],
      ['build.b.json', await claim(B, [{ name: 'app.tar', digest: SHA('a') }, { name: 'evil.tar', digest: SHA('e') }])],
      ['app.vsa.json', await envelope(vsaAbout(SHA('a')), alice)],
    ]);
    for (const order of [[A, B], [B, A]]) {
      const v = await run(await signedLayout(doc(order)), files);
      expect(v.passed, order.join(' then ')).toBe(false);
      expect(v.failures.map((f) => f.message).join('\n'), order.join(' then ')).toMatch(/subject evil\.tar \(sha256:e{64}\)/);
    }
  });

  it('each pattern must match a product; a rule failing on a Statement about many products is reported once', async () => {
    const twoNames = await run(await signedLayout(withSubjects([{ ...entry(), subject: ['app', 'lib'] }])), await chainWith({ 'app.vsa.json': await envelope(vsaAbout(SHA('a')), alice) }));
    expect(codes(twoNames)).toEqual(['SUBJECT']);
    expect(twoNames.failures[0]!.message).toMatch(/no product of the chain matches "lib"/);
    // One VSA about 2,000 products, all of them the chain's, and its result FAILED: one ATTRIBUTE failure, not 2,000.
    const names = Array.from({ length: 2000 }, (_, i) => ({ name: `f${i}`, digest: { sha256: i.toString(16).padStart(64, '0') } }));
    const build = await envelope(createStatement({ ...(provenance() as never), subject: names } as never), alice);
    const many = createStatement({ subject: names, predicateType: VSA, predicate: (vsaAbout(SHA('a'), 'FAILED') as { predicate: unknown }).predicate });
    const doc = layoutDoc({ extra: { subjects: [{ ...entry(), subject: ['f*'] }] } });
    (doc.steps[0] as { expectedProducts: string[] }).expectedProducts = ['ALLOW f*', 'DISALLOW *'];
    (doc.steps[1] as { expectedMaterials: string[] }).expectedMaterials = ['ALLOW *'];
    const v = await run(await signedLayout(doc), await chain({ build, test: await envelope(createStatement({ subject: names, predicateType: TEST_RESULT, predicate: { result: 'PASSED' } }), bob) }).then(async (f) => f.set('all.vsa.json', await envelope(many, alice))));
    expect(codes(v)).toEqual(['ATTRIBUTE']);
  });

  it('warns about parameters left unresolved in subject patterns and rules', async () => {
    const doc = withSubjects([{ subject: ['app'], expectedPredicates: [{ predicateType: VSA, functionaries: [alice.keyid], expectedAttributes: [{ rule: "predicate.verificationResult != '{bad}'" }] }] }]);
    const v = await run(await signedLayout(doc), await chainWith({ 'app.vsa.json': await envelope(vsaAbout(SHA('a')), alice) }));
    expect(v.warnings.join('\n')).toMatch(/no value was given for: \{bad\}/);
  });

  it('is not evaluated when a step lacks its claims (the products are unknown), which fails on its own', async () => {
    const files = await chain();
    files.delete(`test.${bob.keyid.slice(0, 8)}.json`);
    const v = await run(await signedLayout(withSubjects([entry()])), files);
    expect(codes(v)).toEqual(['NO_CLAIMS:test']);
    expect(v.warnings.join('\n')).toMatch(/subjects not evaluated/);
  });
});

