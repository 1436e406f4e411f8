/**
 * in-toto attestations (issue 17): Statements and ResourceDescriptors read strictly, ordinary-JSON payloads
 * (fractions kept exact, duplicate keys refused), DigestSet matching, the vetted predicates, the link v0.3
 * conversion both ways, DSSE and JSON Lines, and classic layouts fed by attestation links, from the library and
 * from the command-line tools (`--attestation`).
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { readAttestation, readAttestationBundle } from '../../bindings/attestation/envelope.js';
import { JsonNumber, parseOrdinaryJson } from '../../bindings/attestation/json.js';
import { LINK_V03, linkToStatement, readPredicate, statementToLink, TEST_RESULT_V01, VSA_V1 } from '../../bindings/attestation/predicates.js';
import { createStatement, digestsMatch, matchingSubjects, parseStatement, readStatement, STATEMENT_V01, STATEMENT_V1 } from '../../bindings/attestation/statement.js';
import { pae } from '../../bindings/encoding.js';
import { initEngine } from '../../bindings/engine.js';
import { generateKeyPair } from '../../bindings/keys/crypto/index.js';
import { keyToDict, type PrivateKey } from '../../bindings/keys/keys.js';
import { createDsse, createMetablock, serializeEnvelope, signEnvelope, verifySignatureBy } from '../../bindings/metadata/envelope.js';
import { linkFileName } from '../../bindings/verify/link-source.js';
import { verify } from '../../bindings/verify/verify.js';
import { makeTempDir } from '../helpers/reference.js';

const SHA = (c: string) => ({ sha256: c.repeat(64) });
const statement = (extra: Record<string, unknown> = {}) => ({
  _type: STATEMENT_V1,
  subject: [{ name: 'app', digest: SHA('a') }],
  predicateType: 'https://example.com/predicate/v1',
  predicate: { ok: true },
  ...extra,
});
const code = (f: () => unknown) => {
  try {
    f();
  } catch (error) {
    return { code: (error as { code?: string }).code, field: (error as { field?: string }).field };
  }
  return undefined;
};

beforeAll(async () => {
  await initEngine();
});

describe('Statements', () => {
  it('reads v1 and v0.1, keeps unknown fields, and gives {} for a Statement without a predicate (the spec: unset is set-but-empty)', () => {
    expect(readStatement(statement()).predicateType).toBe('https://example.com/predicate/v1');
    expect(readStatement(statement({ _type: STATEMENT_V01 })).type).toBe(STATEMENT_V01);
    expect(readStatement(statement({ extra: [1] })).raw.extra).toEqual([1]);
    const { predicate: _, ...none } = statement();
    expect(readStatement(none).predicate).toEqual({});
  });

  it.each([
    ['another _type', { _type: 'https://in-toto.io/Statement/v2' }, '_type'],
    ['"type" for "_type"', { _type: undefined, type: STATEMENT_V1 }, 'type'],
    ['no subject', { subject: [] }, 'subject'],
    ['a subject without a digest', { subject: [{ name: 'app', uri: 'https://x' }] }, 'subject[0].digest'],
    ['a subject with only a name', { subject: [{ name: 'app' }] }, 'subject[0]'],
    ['an upper-case sha256', { subject: [{ name: 'app', digest: { sha256: 'A'.repeat(64) } }] }, 'subject[0].digest.sha256'],
    ['a short sha256', { subject: [{ name: 'app', digest: { sha256: 'ab' } }] }, 'subject[0].digest.sha256'],
    ['a gitCommit of 39 digits', { subject: [{ name: 'app', digest: { gitCommit: 'a'.repeat(39) } }] }, 'subject[0].digest.gitCommit'],
    ['a digest that is not a string', { subject: [{ name: 'app', digest: { sha256: 1 } }] }, 'subject[0].digest.sha256'],
    ['an empty predicateType', { predicateType: '' }, 'predicateType'],
    ['a predicate that is a list', { predicate: [] }, 'predicate'],
    ['content that is not base64', { subject: [{ name: 'app', digest: SHA('a'), content: '%%' }] }, 'subject[0].content'],
  ])('refuses %s, naming the field', (_name, change, field) => {
    expect(code(() => readStatement(statement(change)))).toEqual({ code: 'FORMAT', field });
  });

  it('v0.1 subjects need unique names', () => {
    const v01 = (subject: unknown[]) => statement({ _type: STATEMENT_V01, subject });
    expect(code(() => readStatement(v01([{ digest: SHA('a') }])))).toEqual({ code: 'FORMAT', field: 'subject[0].name' });
    expect(code(() => readStatement(v01([{ name: 'a', digest: SHA('a') }, { name: 'a', digest: SHA('b') }])))).toEqual({ code: 'FORMAT', field: 'subject[1].name' });
  });

  it('keeps digests of algorithms it does not know (values unchecked), and never trusts them alone', () => {
    const s = readStatement(statement({ subject: [{ name: 'app', digest: { md5: 'a'.repeat(32), blake9: 'XYZ', sha256: 'a'.repeat(64) } }] }));
    expect(s.subject[0]!.digest).toEqual({ md5: 'a'.repeat(32), blake9: 'XYZ', sha256: 'a'.repeat(64) });
    expect(digestsMatch({ md5: 'a'.repeat(32) }, { md5: 'a'.repeat(32) })).toBe(false);
    expect(digestsMatch({ blake9: 'x' }, { blake9: 'x' })).toBe(false);
    expect(digestsMatch({ md5: 'b'.repeat(32), sha256: 'a'.repeat(64) }, { md5: 'c'.repeat(32), sha256: 'a'.repeat(64) })).toBe(true);
    // Any shared, accepted algorithm that disagrees is a mismatch, whatever else agrees.
    expect(digestsMatch({ sha256: 'a'.repeat(64), sha512: 'b'.repeat(128) }, { sha256: 'a'.repeat(64), sha512: 'c'.repeat(128) })).toBe(false);
    expect(digestsMatch({ gitCommit: 'a'.repeat(40) }, { gitCommit: 'a'.repeat(40) })).toBe(true);
    expect(matchingSubjects(s, { sha256: 'a'.repeat(64) })).toHaveLength(1);
    expect(matchingSubjects(s, { md5: 'a'.repeat(32) })).toHaveLength(0);
  });
});

describe('ordinary JSON payloads', () => {
  it('reads fractions and exponents, keeping them exact; integers stay numbers', () => {
    const value = parseOrdinaryJson('{"a": 0.1, "b": 1e400, "c": 12, "d": 12345678901234567890, "e": [-2.50]}') as Record<string, unknown>;
    expect(value.a).toEqual(new JsonNumber('0.1'));
    expect((value.b as JsonNumber).text).toBe('1e400');
    expect(value.c).toBe(12);
    expect((value.d as JsonNumber).text).toBe('12345678901234567890');
    expect(((value.e as unknown[])[0] as JsonNumber).text).toBe('-2.50');
    expect(parseStatement(JSON.stringify(statement({ predicate: { score: 0.5 } }))).predicate.score).toEqual(new JsonNumber('0.5'));
  });

  it.each([
    ['a duplicate key (a parser-differential attack on a signed payload)', '{"a": 1, "a": 2}', 'JSON'],
    ['a lone surrogate', '{"a": "\\ud800"}', 'JSON'],
    ['a malformed fraction', '{"a": 1.}', 'JSON'],
    ['a malformed exponent', '{"a": 1e}', 'JSON'],
    ['NaN', '{"a": NaN}', 'JSON'],
  ])('refuses %s', (_name, text, expected) => {
    expect(code(() => parseOrdinaryJson(text))?.code).toBe(expected);
  });

  it('invalid UTF-8 is refused; canonical JSON (links, layouts) still refuses floats', async () => {
    expect(code(() => parseOrdinaryJson(new Uint8Array([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xff, 0x22, 0x7d])))?.code).toBe('JSON');
    const { parseJson } = await import('../../bindings/engine.js');
    expect(code(() => parseJson('{"a": 0.5}'))?.code).toBe('JSON');
  });
});

describe('predicates', () => {
  const read = (predicateType: string, predicate: unknown) => readPredicate(readStatement(statement({ predicateType, predicate })));

  it('types the vetted predicates and carries an unknown one untouched', () => {
    expect(read(TEST_RESULT_V01, { result: 'PASSED', configuration: [{ name: 'ci.yml', digest: SHA('c') }], passedTests: ['t1'] }).kind).toBe('test-result-v0.1');
    expect(read('https://slsa.dev/provenance/v1', { buildDefinition: { buildType: 'https://b', externalParameters: {} }, runDetails: { builder: { id: 'https://builder' } } }).kind).toBe('slsa-provenance-v1');
    expect(read('https://slsa.dev/provenance/v0.2', { builder: { id: 'https://builder' }, buildType: 'https://b', materials: [{ uri: 'git+https://x', digest: { sha1: 'a'.repeat(40) } }] }).kind).toBe('slsa-provenance-v0.2');
    expect(read('https://github.com/npm/attestation/tree/main/specs/publish/v0.1', { name: 'pkg', version: '1.0.0', registry: 'https://registry.npmjs.org' }).kind).toBe('npm-publish-v0.1');
    expect(read(VSA_V1, { verifier: { id: 'https://v' }, timeVerified: '2026-12-07T10:00:00Z', resourceUri: 'pkg:npm/x@1', policy: { uri: 'https://p' }, verificationResult: 'PASSED', verifiedLevels: ['SLSA_BUILD_LEVEL_2'] }).kind).toBe('vsa-v1');
    expect(read('https://example.com/mine', { anything: [1, 2] })).toEqual({ kind: 'unknown', value: { anything: [1, 2] } });
  });

  it.each([
    [TEST_RESULT_V01, { result: 'MAYBE' }, 'predicate.result'],
    ['https://slsa.dev/provenance/v1', { runDetails: { builder: { id: 'x' } } }, 'predicate.buildDefinition'],
    ['https://slsa.dev/provenance/v1', { buildDefinition: { buildType: 'b', externalParameters: {} }, runDetails: { builder: {} } }, 'predicate.runDetails.builder.id'],
    ['https://slsa.dev/provenance/v0.2', { buildType: 'b' }, 'predicate.builder'],
    [VSA_V1, { verifier: { id: 'v' }, resourceUri: 'r', policy: {}, verificationResult: 'OK', verifiedLevels: [] }, 'predicate.verificationResult'],
    [VSA_V1, { verifier: { id: 'v' }, resourceUri: 'r', policy: {}, verificationResult: 'PASSED', verifiedLevels: [], timeVerified: 'yesterday' }, 'predicate.timeVerified'],
    [LINK_V03, { command: [] }, 'predicate.name'],
    [LINK_V03, { name: 'build', materials: [{ name: 'src' }] }, 'predicate.materials[0]'],
  ])('refuses an invalid %s predicate, naming the field', (type, predicate, field) => {
    expect(code(() => read(type, predicate))).toEqual({ code: 'FORMAT', field });
  });

  it('converts a link v0.3 Statement to the classic link and back (subjects are the products)', () => {
    const link = {
      _type: 'link' as const,
      name: 'build',
      command: ['make'],
      materials: { 'src/a.c': SHA('1') },
      products: { app: SHA('2'), 'lib.so': SHA('3') },
      byproducts: { 'return-value': 0, stdout: '' },
      environment: {},
    };
    const s = linkToStatement(link);
    expect(s).toMatchObject({ _type: STATEMENT_V1, predicateType: LINK_V03, subject: [{ name: 'app', digest: SHA('2') }, { name: 'lib.so', digest: SHA('3') }] });
    expect(statementToLink(readStatement(s))).toEqual(link);
    // A link without products has no subject to be a Statement.
    expect(code(() => linkToStatement({ ...link, products: {} }))).toEqual({ code: 'FORMAT', field: 'products' });
    // Subjects must be named and unique to be artifacts.
    expect(code(() => statementToLink(readStatement({ ...s, subject: [{ digest: SHA('2') }] })))).toEqual({ code: 'FORMAT', field: 'subject[0].name' });
  });
});

describe('DSSE and JSON Lines', () => {
  let alice: PrivateKey;
  beforeAll(async () => {
    alice = await generateKeyPair('ed25519');
  });

  it('reads an attestation, verifies its signature, accepts the predicate payload type, refuses a foreign one', async () => {
    const envelope = await signEnvelope(createDsse(createStatement({ subject: [{ name: 'app', digest: SHA('a') }], predicateType: TEST_RESULT_V01, predicate: { result: 'PASSED' } })), alice);
    const bytes = serializeEnvelope(envelope);
    const read = readAttestation(bytes);
    await expect(verifySignatureBy(read.envelope, alice.publicKey)).resolves.toBeUndefined();
    const doc = JSON.parse(new TextDecoder().decode(bytes));
    expect(readAttestation(JSON.stringify({ ...doc, payloadType: 'application/vnd.in-toto.test-result+json' })).statement.predicateType).toBe(TEST_RESULT_V01);
    expect(code(() => readAttestation(JSON.stringify({ ...doc, payloadType: 'application/json' })))).toEqual({ code: 'FORMAT', field: 'payloadType' });
  });

  it('a JSON Lines bundle: each line on its own, a bad line reported without hiding the others', async () => {
    const good = new TextDecoder().decode(serializeEnvelope(await signEnvelope(createDsse(statement()), alice))).replace(/\n\s*/g, '');
    const lines = readAttestationBundle(`${good}\n\n{"payload": "e30=", "payloadType": "application/vnd.in-toto+json", "signatures": []}\n${good}\n`);
    expect(lines.map((l) => [l.line, 'attestation' in l])).toEqual([[1, true], [3, false], [4, true]]);
    expect('error' in lines[1]! && lines[1].error.message).toMatch(/^line 3: DSSE payload: /);
  });
});

describe('classic layouts fed by attestation links', () => {
  let owner: PrivateKey;
  let alice: PrivateKey;
  let bob: PrivateKey;
  let carol: PrivateKey;
  beforeAll(async () => {
    [owner, alice, bob, carol] = await Promise.all([generateKeyPair('ed25519'), generateKeyPair('ed25519'), generateKeyPair('ecdsa'), generateKeyPair('ed25519')]);
  });

  const layout = () =>
    signEnvelope(
      createMetablock({
        _type: 'layout',
        expires: '2100-01-01T00:00:00Z',
        readme: '',
        keys: Object.fromEntries([alice, bob, carol].map((k) => [k.keyid, keyToDict(k.publicKey)])),
        steps: [
          { _type: 'step', name: 'write', threshold: 1, pubkeys: [alice.keyid], expected_command: [], expected_materials: [], expected_products: [['CREATE', 'src.c'], ['DISALLOW', '*']] },
          { _type: 'step', name: 'build', threshold: 1, pubkeys: [bob.keyid], expected_command: [], expected_materials: [['MATCH', 'src.c', 'WITH', 'PRODUCTS', 'FROM', 'write'], ['DISALLOW', '*']], expected_products: [['CREATE', 'app'], ['DISALLOW', '*']] },
          { _type: 'step', name: 'package', threshold: 1, pubkeys: [carol.keyid], expected_command: [], expected_materials: [['MATCH', 'app', 'WITH', 'PRODUCTS', 'FROM', 'build'], ['DISALLOW', '*']], expected_products: [['CREATE', 'app.tar'], ['DISALLOW', '*']] },
        ],
        inspect: [],
      }),
      owner,
    );
  const link = (name: string, materials: Record<string, object>, products: Record<string, object>) =>
    ({ _type: 'link' as const, name, command: [], materials, products, byproducts: {}, environment: {} }) as Parameters<typeof linkToStatement>[0];

  async function chain(form: (step: string) => 'attestation' | 'classic', tamper = false) {
    const steps: [string, PrivateKey, ReturnType<typeof link>][] = [
      ['write', alice, link('write', {}, { 'src.c': SHA('1') })],
      ['build', bob, link('build', { 'src.c': SHA(tamper ? '9' : '1') }, { app: SHA('2') })],
      ['package', carol, link('package', { app: SHA('2') }, { 'app.tar': SHA('3') })],
    ];
    const links = new Map<string, Uint8Array>();
    for (const [name, key, l] of steps) {
      const envelope = form(name) === 'attestation' ? createDsse(linkToStatement(l)) : createMetablock(l as unknown as Record<string, unknown>);
      links.set(linkFileName(name, key.keyid), serializeEnvelope(await signEnvelope(envelope, key)));
    }
    return verify({ layout: serializeEnvelope(await layout()), layoutKeys: [owner.publicKey], links });
  }

  it("a chain of attestation links verifies, with the classic links' summary", async () => {
    const verdict = await chain(() => 'attestation');
    expect(verdict.failures).toEqual([]);
    expect(verdict.summary).toMatchObject({ materials: {}, products: { 'app.tar': SHA('3') } });
  });

  it('attestation and classic links mixed in one chain', async () => {
    expect((await chain((s) => (s === 'build' ? 'classic' : 'attestation'))).failures).toEqual([]);
  });

  it('a tampered material in an attestation link breaks the hash chain, named as for a classic link', async () => {
    const verdict = await chain(() => 'attestation', true);
    expect(verdict.failures).toEqual([expect.objectContaining({ code: 'RULE_DISALLOW', step: 'build', artifacts: ['src.c'] })]);
  });

  it("an attestation link signed by a key the step does not authorize, or for another step, is refused", async () => {
    const wrongKey = serializeEnvelope(await signEnvelope(createDsse(linkToStatement(link('write', {}, { 'src.c': SHA('1') }))), bob));
    const otherStep = serializeEnvelope(await signEnvelope(createDsse(linkToStatement(link('build', {}, { 'src.c': SHA('1') }))), alice));
    for (const [bytes, expected] of [[wrongKey, 'SIGNATURE'], [otherStep, 'FORMAT']] as const) {
      const verdict = await verify({ layout: serializeEnvelope(await layout()), layoutKeys: [owner.publicKey], links: new Map([[linkFileName('write', alice.keyid), bytes]]) });
      expect(verdict.failures.map((f) => f.code)).toContain(expected);
    }
  });
});

describe('in-toto-run, -record and -sign --attestation', () => {
  const tool = (name: string) => fileURLToPath(new URL(`../../dist/cli/${name}.js`, import.meta.url));
  const run = (name: string, args: string[], cwd: string) => spawnSync(process.execPath, [tool(name), ...args], { cwd, encoding: 'utf8' });

  it('a 3-step chain recorded as attestations verifies with in-toto-verify, and fails when tampered', async () => {
    const dir = makeTempDir('in-toto-attest-cli-');
    for (const who of ['owner', 'alice', 'bob', 'carol']) expect(run('in-toto-keygen', ['-t', 'ed25519', who], dir).status).toBe(0);
    writeFileSync(join(dir, 'src.c'), 'int main;\n');
    expect(run('in-toto-run', ['-n', 'write', '-k', 'alice', '-t', 'ed25519', '-p', 'src.c', '--attestation', '-x'], dir).status).toBe(0);
    // build: two commands, recorded with in-toto-record start/stop.
    expect(run('in-toto-record', ['start', '-n', 'build', '-k', 'bob', '-t', 'ed25519', '-m', 'src.c', '--attestation'], dir).status).toBe(0);
    writeFileSync(join(dir, 'app'), 'binary\n');
    expect(run('in-toto-record', ['stop', '-n', 'build', '-k', 'bob', '-t', 'ed25519', '-p', 'app', '--attestation'], dir).status).toBe(0);
    // package: recorded as a classic link, then re-signed as an attestation by in-toto-sign.
    expect(run('in-toto-run', ['-n', 'package', '-k', 'carol', '-t', 'ed25519', '-m', 'app', '-p', 'app.tar', '--', 'tar', 'cf', 'app.tar', 'app'], dir).status).toBe(0);
    const packageLink = readdirSync(dir).find((f) => f.startsWith('package.') && f.endsWith('.link'))!;
    expect(run('in-toto-sign', ['-f', packageLink, '-k', 'carol', '-t', 'ed25519', '--attestation', '-o', packageLink], dir).status).toBe(0);
    for (const f of readdirSync(dir).filter((f) => f.endsWith('.link'))) {
      const read = readAttestation(readFileSync(join(dir, f)));
      expect(read.statement.predicateType, f).toBe(LINK_V03);
    }
    writeFileSync(
      join(dir, 'layout.yml'),
      [
        'expires: 2100-01-01T00:00:00Z',
        'keys: { alice: alice.pub, bob: bob.pub, carol: carol.pub }',
        'steps:',
        '  - { name: write, functionaries: [alice], products: [CREATE src.c, DISALLOW *] }',
        '  - { name: build, functionaries: [bob], materials: [MATCH src.c WITH PRODUCTS FROM write, DISALLOW *], products: [CREATE app, DISALLOW *] }',
        '  - { name: package, functionaries: [carol], materials: [MATCH app WITH PRODUCTS FROM build, DISALLOW *], products: [CREATE app.tar, DISALLOW *] }',
        'inspect:',
        '  - { name: check, run: "true", materials: [MATCH app.tar WITH PRODUCTS FROM package, DISALLOW app.tar, ALLOW *] }',
      ].join('\n'),
    );
    const created = run('in-toto-layout', ['create', 'layout.yml', '-o', 'root.layout', '-k', 'owner'], dir);
    expect(created.status, created.stderr).toBe(0);
    const verified = run('in-toto-verify', ['-l', 'root.layout', '-k', 'owner.pub', '-t', 'ed25519'], dir);
    expect(verified.status, verified.stderr).toBe(0);
    // The delivered tarball replaced: the inspection's MATCH catches it.
    writeFileSync(join(dir, 'app.tar'), 'evil');
    const tampered = run('in-toto-verify', ['-l', 'root.layout', '-k', 'owner.pub', '-t', 'ed25519'], dir);
    expect(tampered.status).toBe(1);
    expect(tampered.stderr).toContain("inspection 'check'");
  });
});

describe('found by review', () => {
  let owner: PrivateKey;
  let alice: PrivateKey;
  let bob: PrivateKey;
  beforeAll(async () => {
    [owner, alice, bob] = await Promise.all([generateKeyPair('ed25519'), generateKeyPair('ed25519'), generateKeyPair('ed25519')]);
  });
  const twoSteps = () =>
    signEnvelope(
      createMetablock({
        _type: 'layout', expires: '2100-01-01T00:00:00Z', readme: '', inspect: [],
        keys: { [alice.keyid]: keyToDict(alice.publicKey), [bob.keyid]: keyToDict(bob.publicKey) },
        steps: [
          { _type: 'step', name: 'write', threshold: 1, pubkeys: [alice.keyid], expected_command: [], expected_materials: [], expected_products: [['CREATE', 'src.c'], ['DISALLOW', '*']] },
          { _type: 'step', name: 'build', threshold: 1, pubkeys: [bob.keyid], expected_command: [], expected_materials: [['MATCH', 'src.c', 'WITH', 'PRODUCTS', 'FROM', 'write'], ['DISALLOW', '*']], expected_products: [['ALLOW', '*']] },
        ],
      }),
      owner,
    );
  /** A link attestation of `name` by `key` with subjects/materials as given, unconverted (any digests). */
  const attest = async (key: PrivateKey, name: string, subject: unknown[], materials: unknown[], extra: Record<string, unknown> = {}) =>
    serializeEnvelope(await signEnvelope(createDsse({ _type: STATEMENT_V1, subject, predicateType: LINK_V03, predicate: { name, command: [], materials, byproducts: {}, environment: {}, ...extra } }), key));
  const run = async (write: Uint8Array, build: Uint8Array) =>
    verify({ layout: serializeEnvelope(await twoSteps()), layoutKeys: [owner.publicKey], links: new Map([[linkFileName('write', alice.keyid), write], [linkFileName('build', bob.keyid), build]]) });

  it('digest algorithms named like Object.prototype members are unknown algorithms, not a crash', () => {
    for (const alg of ['constructor', '__proto__', 'toString', 'valueOf', 'hasOwnProperty']) {
      const digest = JSON.parse(`{"sha256": "${'a'.repeat(64)}", "${alg}": "00"}`);
      expect(readStatement(statement({ subject: [{ name: 'app', digest }] })).subject[0]!.digest![alg]).toBe('00');
    }
  });

  it('in a layout, attestation digests follow the attestation rules: md5/sha1/unknown alone are refused, and only accepted algorithms are compared', async () => {
    const src = (digest: object) => [{ name: 'src.c', digest }];
    const md5Only = await run(await attest(alice, 'write', src({ md5: 'a'.repeat(32) }), []), await attest(bob, 'build', [{ name: 'app', digest: SHA('2') }], src({ md5: 'a'.repeat(32) })));
    expect(md5Only.failures).toContainEqual(expect.objectContaining({ code: 'FORMAT', step: 'write' }));
    expect(md5Only.failures.find((f) => f.step === 'write')!.message).toContain('never trusted alone');
    // An extra md5 beside an agreeing sha256 is ignored, not compared.
    const extra = await run(await attest(alice, 'write', src({ sha256: 'a'.repeat(64), md5: 'b'.repeat(32) }), []), await attest(bob, 'build', [{ name: 'app', digest: SHA('2') }], src({ sha256: 'a'.repeat(64) })));
    expect(extra.failures).toEqual([]);
  });

  it('a fraction in a link attestation\'s environment is kept exactly, not refused or rounded', async () => {
    // Written by hand: our own writer (canonical JSON) has no fractions; other producers' payloads do.
    const text = `{"_type":"${STATEMENT_V1}","subject":[{"name":"src.c","digest":{"sha256":"${'a'.repeat(64)}"}}],"predicateType":"${LINK_V03}","predicate":{"name":"write","environment":{"load":0.5,"big":12345678901234567890}}}`;
    const payload = new TextEncoder().encode(text);
    const handMade = { kind: 'dsse' as const, signed: {}, payload, payloadType: 'application/vnd.in-toto+json', signedBytes: pae('application/vnd.in-toto+json', payload), signatures: [] };
    const verdict = await run(
      serializeEnvelope(await signEnvelope(handMade, alice)),
      await attest(bob, 'build', [{ name: 'app', digest: SHA('2') }], [{ name: 'src.c', digest: SHA('a') }]),
    );
    expect(verdict.failures).toEqual([]);
  });

  it('a caller that raises the depth limit can read deep ordinary JSON with fractions (no JavaScript stack overflow)', async () => {
    const { getEngine } = await import('../../bindings/engine.js');
    const engine = getEngine();
    const before = engine.limits;
    engine.setLimits({ maxDepth: 10_000 });
    try {
      let value = parseOrdinaryJson('['.repeat(9_000) + '0.5' + ']'.repeat(9_000));
      let depth = 0;
      while (Array.isArray(value)) (value = value[0]), depth++;
      expect([depth, (value as JsonNumber).text]).toEqual([9_000, '0.5']);
    } finally {
      engine.setLimits(before);
    }
  });

  it('a bundle that is not UTF-8 is a JSON error, not a crash', () => {
    expect(code(() => readAttestationBundle(new Uint8Array([0x7b, 0xff, 0x7d])))).toEqual({ code: 'JSON', field: undefined });
  });

  it('the predicate-naming payload type is for Statements only: a classic link under it is refused', async () => {
    const classic = await signEnvelope(createDsse({ _type: 'link', name: 'write', command: [], materials: {}, products: { 'src.c': SHA('a') }, byproducts: {}, environment: {} }), alice);
    const doc = JSON.parse(new TextDecoder().decode(serializeEnvelope(classic)));
    const renamed = new TextEncoder().encode(JSON.stringify({ ...doc, payloadType: 'application/vnd.in-toto.link+json' }));
    const verdict = await run(renamed, await attest(bob, 'build', [{ name: 'app', digest: SHA('2') }], [{ name: 'src.c', digest: SHA('a') }]));
    expect(verdict.failures).toContainEqual(expect.objectContaining({ code: 'FORMAT', step: 'write' }));
  });
});

describe('link attestations found by listing (attestation bundles, *.intoto.jsonl)', () => {
  let owner: PrivateKey;
  let alice: PrivateKey;
  let bob: PrivateKey;
  let carol: PrivateKey;
  beforeAll(async () => {
    [owner, alice, bob, carol] = await Promise.all([generateKeyPair('ed25519'), generateKeyPair('ed25519'), generateKeyPair('ed25519'), generateKeyPair('ed25519')]);
  });
  /** write (alice) -> build (bob and carol, threshold `threshold`). */
  const layout = (threshold = 1) =>
    signEnvelope(
      createMetablock({
        _type: 'layout', expires: '2100-01-01T00:00:00Z', readme: '', inspect: [],
        keys: Object.fromEntries([alice, bob, carol].map((k) => [k.keyid, keyToDict(k.publicKey)])),
        steps: [
          { _type: 'step', name: 'write', threshold: 1, pubkeys: [alice.keyid], expected_command: [], expected_materials: [], expected_products: [['CREATE', 'src.c'], ['DISALLOW', '*']] },
          { _type: 'step', name: 'build', threshold, pubkeys: [bob.keyid, carol.keyid], expected_command: [], expected_materials: [['MATCH', 'src.c', 'WITH', 'PRODUCTS', 'FROM', 'write'], ['DISALLOW', '*']], expected_products: [['CREATE', 'app'], ['DISALLOW', '*']] },
        ],
      }),
      owner,
    );
  const statement = (name: string, subject: unknown[], materials: unknown[]) =>
    createDsse({ _type: STATEMENT_V1, subject, predicateType: LINK_V03, predicate: { name, command: [], materials, byproducts: {}, environment: {} } });
  /** One line of a bundle: the envelope as compact JSON (serializeEnvelope indents). */
  const oneLine = (bytes: Uint8Array) => JSON.stringify(JSON.parse(new TextDecoder().decode(bytes)));
  const line = async (key: PrivateKey, name: string, subject: unknown[], materials: unknown[]) => oneLine(serializeEnvelope(await signEnvelope(statement(name, subject, materials), key)));
  const src = [{ name: 'src.c', digest: SHA('a') }];
  const app = [{ name: 'app', digest: SHA('b') }];
  const verifyWith = async (files: Record<string, string | Uint8Array>, threshold = 1) =>
    verify({ layout: serializeEnvelope(await layout(threshold)), layoutKeys: [owner.publicKey], links: new Map(Object.entries(files)) });

  it('a chain whose links are all in one bundle verifies; a changed line fails with its signature', async () => {
    const bundle = [await line(alice, 'write', src, []), await line(bob, 'build', app, src)].join('\n') + '\n';
    const passed = await verifyWith({ 'chain.intoto.jsonl': bundle });
    expect(passed.failures).toEqual([]);
    expect(passed.passed).toBe(true);
    // The build line with another digest for app, under bob's original signature.
    const [w, b] = bundle.trim().split('\n');
    const doc = JSON.parse(b!);
    const payload = Buffer.from(doc.payload, 'base64').toString().replace('b'.repeat(64), 'c'.repeat(64));
    const forged = JSON.stringify({ ...doc, payload: Buffer.from(payload).toString('base64') });
    const failed = await verifyWith({ 'chain.intoto.jsonl': `${w}\n${forged}\n` });
    expect(failed.passed).toBe(false);
    expect(failed.failures).toContainEqual(expect.objectContaining({ code: 'SIGNATURE', step: 'build', file: 'chain.intoto.jsonl:2' }));
  });

  it('mixes with link files; other predicates are passed over, an unreadable line is a warning naming it', async () => {
    const provenance = oneLine(serializeEnvelope(await signEnvelope(createDsse({ _type: STATEMENT_V1, subject: app, predicateType: 'https://slsa.dev/provenance/v1', predicate: {} }), bob)));
    const verdict = await verifyWith({
      [linkFileName('write', alice.keyid)]: serializeEnvelope(await signEnvelope(statement('write', src, []), alice)),
      'build.intoto.jsonl': `${provenance}\r\n\n{"not": "an envelope"}\n${await line(bob, 'build', app, src)}`,
    });
    expect(verdict.failures).toEqual([]);
    expect(verdict.warnings).toEqual([expect.objectContaining({ code: 'LINK_IGNORED', message: expect.stringContaining('attestation bundle build.intoto.jsonl, line 3') })]);
  });

  it('a bundled link by a key the step does not authorize does not count, and the failure says where it was', async () => {
    const verdict = await verifyWith({ 'chain.intoto.jsonl': [await line(alice, 'write', src, []), await line(alice, 'build', app, src)].join('\n') });
    expect(verdict.failures).toContainEqual(expect.objectContaining({ code: 'LINK_MISSING', step: 'build', message: expect.stringContaining('signed by no key the step authorizes: chain.intoto.jsonl:2') }));
  });

  it('thresholds count distinct functionaries: one envelope signed by bob and carol counts for both; two by bob count once and must agree', async () => {
    const both = await signEnvelope(await signEnvelope(statement('build', app, src), bob), carol);
    const write = await line(alice, 'write', src, []);
    const two = await verifyWith({ 'chain.intoto.jsonl': `${write}\n${oneLine(serializeEnvelope(both))}\n` }, 2);
    expect(two.failures).toEqual([]);
    const twice = await verifyWith({ 'chain.intoto.jsonl': `${write}\n${await line(bob, 'build', app, src)}\n${await line(bob, 'build', app, src)}\n` }, 2);
    expect(twice.failures).toContainEqual(expect.objectContaining({ code: 'THRESHOLD', step: 'build' }));
    const disagree = await verifyWith({ 'chain.intoto.jsonl': `${write}\n${await line(bob, 'build', app, src)}\n${await line(bob, 'build', [{ name: 'app', digest: SHA('c') }], src)}\n` });
    expect(disagree.failures).toContainEqual(expect.objectContaining({ code: 'LINKS_DISAGREE', step: 'build' }));
  });

  it('found by review: junk lines cost a bounded budget, warnings are capped, an unreadable bundle is a warning', async () => {
    const chain = [await line(alice, 'write', src, []), await line(bob, 'build', app, src)].join('\n');
    // Lines count like link files (maxLinkFiles): a bundle of junk stops verification instead of costing without end.
    const junk = Array.from({ length: 50 }, () => '{"signed":{"_type":"link","name":"x"}}').join('\n');
    const limited = await verify({ layout: serializeEnvelope(await layout()), layoutKeys: [owner.publicKey], links: new Map([['chain.intoto.jsonl', chain], ['junk.intoto.jsonl', junk]]), maxLinkFiles: 20 });
    expect(limited.failures).toEqual([expect.objectContaining({ code: 'LIMIT', message: expect.stringContaining('attestation bundles hold more than 20 lines') })]);
    // Unreadable lines: ten warnings listed, the rest counted in one.
    const noise = Array.from({ length: 40 }, () => '{}').join('\n');
    const warned = await verify({ layout: serializeEnvelope(await layout()), layoutKeys: [owner.publicKey], links: new Map([['chain.intoto.jsonl', chain], ['noise.intoto.jsonl', noise]]) });
    expect(warned.failures).toEqual([]);
    expect(warned.warnings).toHaveLength(11);
    expect(warned.warnings[10]!.message).toContain('noise.intoto.jsonl: 30 more lines ignored');
    // A bundle name that leads to a directory: a warning, and the chain still verifies from the other bundle.
    const dir = makeTempDir('in-toto-bundle-dir-');
    writeFileSync(join(dir, 'chain.intoto.jsonl'), chain);
    mkdirSync(join(dir, 'sub'));
    symlinkSync('sub', join(dir, 'odd.intoto.jsonl'));
    const tolerant = await verify({ layout: serializeEnvelope(await layout()), layoutKeys: [owner.publicKey], links: { directory: dir } });
    expect(tolerant.failures).toEqual([]);
    expect(tolerant.warnings).toEqual([expect.objectContaining({ code: 'LINK_IGNORED', message: expect.stringContaining('odd.intoto.jsonl') })]);
  });

  it('a directory: in-toto-verify finds the bundle by listing', async () => {
    const dir = makeTempDir('in-toto-bundle-');
    writeFileSync(join(dir, 'root.layout'), serializeEnvelope(await layout()));
    writeFileSync(join(dir, 'owner.pub'), JSON.stringify(keyToDict(owner.publicKey)));
    writeFileSync(join(dir, 'chain.intoto.jsonl'), [await line(alice, 'write', src, []), await line(bob, 'build', app, src)].join('\n'));
    const tool = fileURLToPath(new URL('../../dist/cli/in-toto-verify.js', import.meta.url));
    const ok = spawnSync(process.execPath, [tool, '-l', 'root.layout', '-k', 'owner.pub', '-t', 'ed25519'], { cwd: dir, encoding: 'utf8' });
    expect(ok.status, ok.stderr).toBe(0);
    writeFileSync(join(dir, 'chain.intoto.jsonl'), await line(alice, 'write', src, []));
    const missing = spawnSync(process.execPath, [tool, '-l', 'root.layout', '-k', 'owner.pub', '-t', 'ed25519'], { cwd: dir, encoding: 'utf8' });
    expect(missing.status).toBe(1);
    expect(missing.stderr).toContain("step 'build'");
  });
});
