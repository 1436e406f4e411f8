/**
 * in-toto/attestation-verifier's two layouts and their data, read in place from IN_TOTO_ATTESTATION_VECTORS (CI:
 * ../shared/vectors/attestations), verified by bindings/verify/attestation-layout.ts against every case of kind
 * "layout" in its expected.json: both upstream runs pass, and each failing case fails for the reason it states.
 * The layouts are unsigned YAML, as upstream writes them: verified with allowUnsignedLayout, which the verdict records.
 */
import { existsSync, readFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { initEngine } from '../../bindings/engine.js';
import { parse } from 'yaml';
import { lintAttestationLayout } from '../../bindings/layout/attestation-lint.js';
import { verifyAttestationLayout, type AttestationFailure, type AttestationVerdict } from '../../bindings/verify/attestation-layout.js';

interface LayoutCase {
  id: string;
  kind: string;
  layout: string;
  attestations: string[];
  parameters: { file?: string; values: Record<string, string> } | null;
  expected: { result: 'pass' | 'fail'; reason?: string };
}

function vectorsDir(): string {
  const dir = process.env.IN_TOTO_ATTESTATION_VECTORS;
  if (!dir) throw new Error('set IN_TOTO_ATTESTATION_VECTORS to the attestation vectors folder (e.g. ../shared/vectors/attestations)');
  const path = resolve(dir);
  if (!existsSync(join(path, 'expected.json'))) throw new Error(`${path} does not hold the attestation vectors (no expected.json)`);
  return path;
}

/** What each failing case's stated reason means as failures of ours (the reason text is expected.json's). */
const REASONS: Record<string, (failures: readonly AttestationFailure[]) => boolean> = {
  'attestation-verifier/layout-npm-without-parameters': (f) =>
    f.some((x) => x.code === 'RULE' && x.step === 'build' && x.message.includes('materials rule') && x.message.includes('git+https://github.com/sigstore/sigstore-js@refs/heads/main')),
  'attestation-verifier/layout-npm-wrong-version': (f) =>
    f.some((x) => x.code === 'RULE' && x.step === 'build' && x.message.includes('products rule') && x.message.includes('"pkg:npm/sigstore@1.2.0"')),
  'attestation-verifier/layout-standard-on-npm-data': (f) => f.some((x) => x.code === 'NO_CLAIMS' && x.message === 'no claims found for step clone'),
  'attestation-verifier/layout-npm-on-standard-data': (f) =>
    f.some((x) => x.code === 'THRESHOLD' && x.step === 'build' && x.predicateType === 'https://slsa.dev/provenance/v0.2' && x.message.startsWith('threshold not met for step build')),
  'attestation-verifier/layout-standard-missing-test-step': (f) => f.some((x) => x.code === 'NO_CLAIMS' && x.message === 'no claims found for step test'),
};

let dir: string;
let cases: LayoutCase[];
beforeAll(async () => {
  await initEngine();
  dir = vectorsDir();
  cases = (JSON.parse(readFileSync(join(dir, 'expected.json'), 'utf8')) as { cases: LayoutCase[] }).cases.filter((c) => c.kind === 'layout');
});

async function verdictOf(c: LayoutCase): Promise<AttestationVerdict> {
  return verifyAttestationLayout({
    layout: readFileSync(join(dir, c.layout)),
    allowUnsignedLayout: true,
    attestations: new Map(c.attestations.map((f) => [basename(f), readFileSync(join(dir, f))])),
    ...(c.parameters ? { parameters: c.parameters.values } : {}),
  });
}

describe('attestation-verifier layouts (IN_TOTO_ATTESTATION_VECTORS)', () => {
  it('reads the seven layout cases, two passing and five failing', () => {
    expect(cases.map((c) => c.expected.result).sort()).toEqual(['fail', 'fail', 'fail', 'fail', 'fail', 'pass', 'pass']);
    for (const c of cases.filter((x) => x.expected.result === 'fail')) expect(Object.keys(REASONS), c.id).toContain(c.id);
  });

  it('each case: the verdict expected.json gives, failing for its stated reason', async () => {
    for (const c of cases) {
      const v = await verdictOf(c);
      expect(v.unsignedLayout, c.id).toBe(true);
      if (c.expected.result === 'pass') {
        expect(v.failures, c.id).toEqual([]);
        expect(v.passed, c.id).toBe(true);
      } else {
        expect(v.passed, c.id).toBe(false);
        expect(REASONS[c.id]!(v.failures), `${c.id}: ${c.expected.reason}\n got: ${JSON.stringify(v.failures, null, 1)}`).toBe(true);
      }
    }
  });

  it('the parameters file gives the values the case lists', () => {
    const npm = cases.find((c) => c.id === 'attestation-verifier/layout-npm')!;
    expect(JSON.parse(readFileSync(join(dir, npm.parameters!.file!), 'utf8'))).toEqual(npm.parameters!.values);
  });

  it("the three files a strict reader would refuse are read, each deviation reported (docs/attestation-layouts.md)", async () => {
    const v = await verdictOf(cases.find((c) => c.id === 'attestation-verifier/layout-standard')!);
    const text = v.warnings.join('\n');
    expect(text).toMatch(/clone\.fe1c6281\.json: the Statement spells "_type" as "type"/);
    expect(text).toMatch(/build\.fe1c6281\.json: its https:\/\/slsa\.dev\/provenance\/v1 predicate does not follow.*externalParameters/);
    expect(text).toMatch(/test\.fe1c6281\.json: .*sha256 has 6 hex digits/);
  });

  it('in-toto-layout lint finds nothing in either upstream layout (bindings/layout/attestation-lint.ts)', () => {
    for (const c of cases.filter((x) => x.expected.result === 'pass')) {
      const doc = parse(readFileSync(join(dir, c.layout), 'utf8'));
      expect(lintAttestationLayout(doc, { now: new Date('2026-06-01T00:00:00Z'), ...(c.parameters ? { parameters: c.parameters.values } : {}) }), c.id).toEqual([]);
    }
  });
});
