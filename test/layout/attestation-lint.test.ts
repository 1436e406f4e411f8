/**
 * Linting and drawing attestation layouts (bindings/layout/attestation-lint.ts, attestation-graph.ts, and
 * `in-toto-layout lint|graph` on them): each finding code from a layout that has the flaw, none from one that does
 * not; the graph's boxes, arrows and a verdict painted onto it.
 */
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { LINK_V03, SLSA_PROVENANCE_V1, TEST_RESULT_V01 } from '../../bindings/attestation/predicates.js';
import { initEngine } from '../../bindings/engine.js';
import { generateKeyPair } from '../../bindings/keys/crypto/index.js';
import { keyToDict, type PrivateKey } from '../../bindings/keys/keys.js';
import { attestationChainGraph } from '../../bindings/layout/attestation-graph.js';
import { lintAttestationLayout, predicateSelections } from '../../bindings/layout/attestation-lint.js';
import { renderChainSvg } from '../../bindings/layout/graph.js';
import { createMetablock, serializeEnvelope, signEnvelope } from '../../bindings/metadata/envelope.js';
import { readAttestationLayout } from '../../bindings/verify/attestation-layout.js';
import { makeTempDir } from '../helpers/reference.js';

const CLI = fileURLToPath(new URL('../../dist/cli/in-toto-layout.js', import.meta.url));
const NOW = new Date('2026-06-01T00:00:00Z');
let alice: PrivateKey;
let bob: PrivateKey;

const functionary = (k: PrivateKey) => {
  const d = keyToDict(k.publicKey);
  return { keyType: d.keytype, scheme: d.scheme, keyVal: { public: d.keyval.public } };
};

/** A sound two-step layout; `change` edits it before it is linted. */
function layout(change: (doc: any) => void = () => {}): any {
  const doc = {
    expires: '2100-01-01T00:00:00Z',
    functionaries: { [alice.keyid]: functionary(alice), [bob.keyid]: functionary(bob) },
    steps: [
      {
        name: 'build',
        expectedMaterials: ['DISALLOW *'],
        expectedProducts: ['CREATE app', 'DISALLOW *'],
        expectedPredicates: [{ predicateType: SLSA_PROVENANCE_V1, functionaries: [alice.keyid, bob.keyid], threshold: 2, expectedAttributes: [{ rule: "predicate.runDetails.builder.id == 'https://builder.example'" }, { rule: 'predicate.buildDefinition.externalParameters.workflow.ref.startsWith("refs/tags/")' }] }],
      },
      {
        name: 'test',
        expectedMaterials: ['MATCH app WITH products FROM build', 'DISALLOW *'],
        expectedPredicates: [{ predicateType: TEST_RESULT_V01, functionaries: [bob.keyid], expectedAttributes: [{ rule: "predicate.result == 'PASSED' && size(predicate.failedTests) == 0" }] }],
      },
    ],
  };
  change(doc);
  return doc;
}

const codes = (doc: unknown) => lintAttestationLayout(doc, { now: NOW }).map((f) => f.code);

beforeAll(async () => {
  await initEngine();
  [alice, bob] = await Promise.all([generateKeyPair('ed25519'), generateKeyPair('ed25519')]);
});

describe('lintAttestationLayout', () => {
  it('finds nothing in a sound layout', () => {
    expect(lintAttestationLayout(layout(), { now: NOW })).toEqual([]);
  });

  it.each([
    ['a predicate with no functionaries', (d: any) => (d.steps[1].expectedPredicates[0].functionaries = []), ['PREDICATE_NO_FUNCTIONARIES']],
    ['a threshold above the functionaries', (d: any) => (d.steps[0].expectedPredicates[0].threshold = 3), ['THRESHOLD_UNREACHABLE']],
    ['a functionary listed twice counts once', (d: any) => (d.steps[0].expectedPredicates[0].functionaries = [alice.keyid, alice.keyid]), ['THRESHOLD_UNREACHABLE']],
    ['a functionary the layout does not list', (d: any) => d.steps[1].expectedPredicates[0].functionaries.push('f'.repeat(64)), ['PUBKEY_NOT_IN_KEYS']],
    ['a functionary no step names', (d: any) => (d.functionaries.c = d.functionaries[alice.keyid]), ['KEY_UNUSED', 'ATTESTATION_LAYOUT_INVALID']],
    ['a predicate type nobody produces (misspelt)', (d: any) => (d.steps[1].expectedPredicates[0].predicateType = 'https://in-toto.io/attestation/test-results/v0.1'), ['PREDICATE_TYPE_UNKNOWN']],
    ['a CEL rule that does not parse', (d: any) => (d.steps[1].expectedPredicates[0].expectedAttributes[0].rule = "predicate.result == 'PASSED' &&"), ['CEL_SYNTAX']],
    ['a CEL rule selecting a field the type lacks', (d: any) => (d.steps[0].expectedPredicates[0].expectedAttributes[0].rule = "predicate.runDetails.buildr.id == 'x'"), ['CEL_UNKNOWN_FIELD']],
    ['a MATCH from no step', (d: any) => (d.steps[1].expectedMaterials[0] = 'MATCH app WITH products FROM biuld'), ['MATCH_UNKNOWN_STEP']],
    ['products not closed', (d: any) => d.steps[0].expectedProducts.pop(), ['PRODUCTS_NOT_CLOSED']],
    ['an expired layout', (d: any) => (d.expires = '2026-01-01T00:00:00Z'), ['LAYOUT_EXPIRED']],
    ['a layout expiring soon', (d: any) => (d.expires = '2026-06-10T00:00:00Z'), ['LAYOUT_EXPIRES_SOON']],
    ['a subject entry with a threshold above its functionaries', (d: any) => (d.subjects = [{ subject: ['app'], expectedPredicates: [{ predicateType: 'https://slsa.dev/verification_summary/v1', functionaries: [alice.keyid], threshold: 2 }] }]), ['THRESHOLD_UNREACHABLE']],
    ['a subject entry whose CEL rule selects an unknown field', (d: any) => (d.subjects = [{ subject: ['app'], expectedPredicates: [{ predicateType: 'https://slsa.dev/verification_summary/v1', functionaries: [alice.keyid], expectedAttributes: [{ rule: "predicate.result == 'PASSED'" }] }] }]), ['CEL_UNKNOWN_FIELD']],
    ['a rule that reads nothing (always true)', (d: any) => (d.steps[1].expectedPredicates[0].expectedAttributes[0].rule = 'true'), ['CEL_CONSTANT']],
    ['a rule that is never true', (d: any) => (d.steps[1].expectedPredicates[0].expectedAttributes[0].rule = '1 + 1'), ['CEL_CONSTANT']],
    ['a rule reading a misspelt variable', (d: any) => (d.steps[1].expectedPredicates[0].expectedAttributes[0].rule = "predicte.result == 'PASSED'"), ['CEL_UNKNOWN_VARIABLE']],
    ['a rule matching an invalid pattern', (d: any) => (d.steps[0].expectedPredicates[0].expectedAttributes[0].rule = "predicate.runDetails.builder.id.matches('(')"), ['CEL_SYNTAX']],
    ['a step name no file can carry', (d: any) => ((d.steps[0].name = 'ci/build'), (d.steps[1].expectedMaterials[0] = 'MATCH app WITH products FROM ci/build')), ['STEP_NAME_UNFILEABLE']],
    ['a predicate type named like an Object property', (d: any) => ((d.steps[1].expectedPredicates[0].predicateType = '__proto__'), (d.steps[1].expectedPredicates[0].expectedAttributes[0].rule = 'predicate.__proto__.x == 1')), ['PREDICATE_TYPE_UNKNOWN']],
    ['a rule holding a NUL (the engine takes rules NUL-separated)', (d: any) => (d.steps[1].expectedPredicates[0].expectedAttributes[0].rule = "predicate.result == 'PA\u0000SSED'"), ['ATTESTATION_LAYOUT_INVALID']],
    ['what the verifier refuses otherwise', (d: any) => (d.steps[0].expectedPredicates[0].surprise = 1), ['ATTESTATION_LAYOUT_INVALID']],
  ])('finds %s', (_, change, expected) => {
    expect(codes(layout(change))).toEqual(expected);
  });

  it('does not mistake macro variables, functions or literals for unknown names', () => {
    const doc = layout((d) => (d.steps[1].expectedPredicates[0].expectedAttributes = [
      { rule: "subject.all(s, s.name != '' && 'sha256' in s.digest) && predicate.failedTests.exists(t, t.startsWith(r'x'))" },
      { rule: "type(predicate.result) == string && int(size(predicate.passedTests)) >= 0 && predicateType == 'x'" },
    ]));
    expect(lintAttestationLayout(doc, { now: NOW })).toEqual([]);
  });

  it('stays cheap on rules that compute much before reading anything: past a few, rules are only parsed', () => {
    const heavy = '[1,2,3,4,5,6,7,8,9,10].all(a, [1,2,3,4,5,6,7,8,9,10].all(b, [1,2,3,4,5,6,7,8,9,10].all(c, [1,2,3,4,5,6,7,8,9,10].all(d, [1,2,3,4,5,6,7,8,9,10].all(e, [1,2,3,4,5,6,7,8,9,10].all(f, a + b + c + d + e + f > 0)))))) && predicate.result == "PASSED"';
    const rules = Array.from({ length: 30 }, () => ({ rule: heavy }));
    rules.push({ rule: 'predicate.result ==' });
    const found = lintAttestationLayout(layout((d) => (d.steps[1].expectedPredicates[0].expectedAttributes = rules)), { now: NOW });
    // The syntax error after the heavy rules is still found.
    expect(found.map((f) => f.code)).toEqual(['CEL_SYNTAX']);
    expect(found[0]!.field).toBe('steps[1].expectedPredicates[0].expectedAttributes[30].rule');
  });

  it('names the step, field and rule; ignores codes on request', () => {
    const doc = layout((d) => (d.steps[0].expectedPredicates[0].expectedAttributes[0].rule = "predicate.runDetails.buildr.id == 'x'"));
    const [finding] = lintAttestationLayout(doc, { now: NOW });
    expect(finding).toMatchObject({ code: 'CEL_UNKNOWN_FIELD', severity: 'warning', step: 'build', field: 'steps[0].expectedPredicates[0].expectedAttributes[0].rule', rule: "predicate.runDetails.buildr.id == 'x'" });
    expect(finding!.message).toContain('predicate.runDetails.buildr');
    expect(finding!.message).toContain('builder, metadata, byproducts');
    expect(lintAttestationLayout(doc, { now: NOW, ignore: ['CEL_UNKNOWN_FIELD'] })).toEqual([]);
  });

  it('checks fields only where the schema is closed, and never inside string literals', () => {
    expect(predicateSelections("predicate.a.b == 'predicate.x.y' && has(predicate.c) && x.predicate.d && predicate.e.all(v, v.f)")).toEqual([['a', 'b'], ['c'], ['e']]);
    expect(predicateSelections('r"predicate.q" + """predicate.z""" + predicate["k"].z')).toEqual([[]]);
    // Open objects (externalParameters), lists (resolvedDependencies) and link environments take any field.
    const open = layout((d) => {
      d.steps[0].expectedPredicates[0].expectedAttributes = [{ rule: "predicate.buildDefinition.externalParameters.anything.deep == 1 && size(predicate.buildDefinition.resolvedDependencies) > 0" }];
      d.steps[1].expectedPredicates.push({ predicateType: LINK_V03, functionaries: [bob.keyid], expectedAttributes: [{ rule: "predicate.environment.CI == 'true'" }, { rule: "predicate.comand == []", allowIfNoClaim: true }] });
    });
    const found = lintAttestationLayout(open, { now: NOW });
    expect(found.map((f) => f.code)).toEqual(['CEL_UNKNOWN_FIELD']);
    expect(found[0]!.risk).toMatch(/allowIfNoClaim .* checks nothing/);
  });
});

describe('in-toto-layout lint and graph on attestation layouts', () => {
  const run = (cwd: string, args: string[]) => spawnSync(process.execPath, [CLI, ...args], { cwd, encoding: 'utf8' });

  it('lint: signed or not, exit 1 on findings, --json', async () => {
    const dir = makeTempDir('in-toto-att-lint-');
    writeFileSync(join(dir, 'good.json'), JSON.stringify(layout()));
    writeFileSync(join(dir, 'good.signed.json'), serializeEnvelope(await signEnvelope(createMetablock(layout()), alice)));
    writeFileSync(join(dir, 'bad.json'), JSON.stringify(layout((d) => (d.steps[0].expectedPredicates[0].threshold = 3))));
    for (const file of ['good.json', 'good.signed.json']) {
      const result = run(dir, ['lint', file, '--now', '2026-06-01T00:00:00Z']);
      expect(result.stderr).toContain('no findings');
      expect(result.status).toBe(0);
    }
    const bad = run(dir, ['lint', 'bad.json', '--json', '--now', '2026-06-01T00:00:00Z']);
    expect(bad.status).toBe(1);
    expect(JSON.parse(bad.stdout)).toMatchObject([{ code: 'THRESHOLD_UNREACHABLE', step: 'build', field: 'steps[0].expectedPredicates[0].threshold' }]);
  });

  // The verdict's failures as in-toto-attestation-verify --json prints them (a RULE failure names the rule as written).
  it('graph: a box per step with its predicates and rules, MATCH rules as arrows, a verdict painted on', () => {
    const dir = makeTempDir('in-toto-att-graph-');
    writeFileSync(join(dir, 'layout.json'), JSON.stringify(layout()));
    const plain = run(dir, ['graph', 'layout.json', '--key-name', `${alice.keyid.slice(0, 6)}=alice`]);
    expect(plain.status).toBe(0);
    expect(plain.stdout).toMatch(/<g class="node step unverified"[^>]*data-name="build"/);
    expect(plain.stdout).toMatch(/<g class="edge"[^>]*data-from="build" data-to="test"/);
    expect(plain.stdout).toContain('expects provenance/v1 from 2 of alice, ');
    expect(plain.stdout).toContain('rule: predicate.result == &#39;PASSED&#39;');
    const verdict = { passed: false, failures: [{ code: 'THRESHOLD', step: 'build', message: 'threshold not met for step build' }, { code: 'RULE', step: 'test', rule: 'MATCH app WITH products FROM build', message: 'materials rule failed' }], warnings: [], unsignedLayout: false, layoutSignedBy: [], artifacts: [] };
    writeFileSync(join(dir, 'verdict.json'), JSON.stringify(verdict));
    const painted = run(dir, ['graph', 'layout.json', '--verdict', 'verdict.json']);
    expect(painted.status).toBe(0);
    expect(painted.stdout).toMatch(/data-name="build" data-kind="step" data-status="failed"/);
    expect(painted.stdout).toContain('[THRESHOLD] threshold not met');
    expect(painted.stdout).toMatch(/data-from="build" data-to="test" data-status="failed"/);
    writeFileSync(join(dir, 'not-a-verdict.json'), JSON.stringify({ passed: 'yes' }));
    expect(run(dir, ['graph', 'layout.json', '--verdict', 'not-a-verdict.json']).status).toBe(1);
  });

  it('lint reads unsigned YAML as the verifier does: an unknown tag fails lint too', () => {
    const dir = makeTempDir('in-toto-att-lint-yaml-');
    writeFileSync(join(dir, 'tagged.yml'), `expires: !foo 2100-01-01T00:00:00Z\nfunctionaries: {}\nsteps: [{name: a, expectedPredicates: [{predicateType: x, functionaries: [k]}]}]\n`);
    const result = run(dir, ['lint', 'tagged.yml']);
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/is not YAML this verifier reads/);
  });

  it('draws a step with 200,000 rules (no argument-spread overflow)', () => {
    const big = layout((d) => (d.steps[0].expectedMaterials = [...Array.from({ length: 200_000 }, (_, i) => `ALLOW f${i}`), 'DISALLOW *']));
    const svg = renderChainSvg(attestationChainGraph(readAttestationLayout(big)));
    expect(svg).toContain('ALLOW f199999');
  });

  it('the graph model marks what a verdict blames, and nothing without one', () => {
    const model = attestationChainGraph(readAttestationLayout(layout()));
    expect(model.nodes.map((n) => [n.name, n.status, n.layer])).toEqual([['build', 'unverified', 0], ['test', 'unverified', 1]]);
    expect(model.edges).toHaveLength(1);
    const svg = renderChainSvg(model);
    expect(svg.startsWith('<svg') || svg.startsWith('<?xml')).toBe(true);
  });
});
