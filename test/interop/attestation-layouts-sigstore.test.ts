/**
 * Attestation layouts over Sigstore bundles (read in place from IN_TOTO_NPM_VECTORS; CI: ../shared/vectors/npm-provenance):
 * slsa-verifier's npm test package gundam-visor@1.0.1, its SLSA v1 provenance signed in GitHub Actions (a Fulcio
 * certificate: a Sigstore-identity functionary) and its publish attestation signed by the npm registry's key (a key
 * functionary), as the claims of a two-step layout, verified by in-toto-attestation-verify against the shipped
 * production trusted root.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { initEngine } from '../../bindings/engine.js';
import { keyToDict, publicKeyFromSpkiDer } from '../../bindings/keys/keys.js';
import { makeTempDir } from '../helpers/reference.js';

const TOOL = fileURLToPath(new URL('../../dist/cli/in-toto-attestation-verify.js', import.meta.url));
const PACKAGE = 'slsa-verifier/cli/slsa-verifier/testdata/npm/gha/gundam-visor-cli-v1-tag.tgz.json';
const REPO = 'https://github.com/ramonpetgrave64/gundam-visor';

let dir: string;
beforeAll(async () => {
  await initEngine();
  const path = process.env.IN_TOTO_NPM_VECTORS;
  if (!path) throw new Error('set IN_TOTO_NPM_VECTORS to the npm provenance folder (e.g. ../shared/vectors/npm-provenance)');
  dir = resolve(path);
  if (!existsSync(join(dir, PACKAGE))) throw new Error(`${dir} does not hold the npm provenance data`);
});

/** The layout: build (SLSA v1 by the repository's workflows) creates the package; publish (the registry) ships it. */
function layout(identityRegexp: string, registry: { id: string; dict: Record<string, unknown> }, repository = REPO) {
  return {
    expires: '2100-01-01T00:00:00Z',
    functionaries: {
      'gha-release': { sigstore: { issuer: 'https://token.actions.githubusercontent.com', identityRegexp } },
      [registry.id]: registry.dict,
    },
    steps: [
      {
        name: 'build',
        expectedMaterials: [`ALLOW git+${REPO}@*`, 'DISALLOW *'],
        expectedProducts: ['CREATE pkg:npm/gundam-visor@1.0.1', 'DISALLOW *'],
        expectedPredicates: [{
          predicateType: 'https://slsa.dev/provenance/v1',
          functionaries: ['gha-release'],
          expectedAttributes: [{ rule: `predicate.buildDefinition.externalParameters.workflow.repository == '${repository}'` }],
        }],
      },
      {
        name: 'publish',
        expectedMaterials: ['MATCH pkg:npm/* WITH products FROM build', 'DISALLOW *'],
        expectedPredicates: [{ predicateType: 'https://github.com/npm/attestation/tree/main/specs/publish/v0.1', functionaries: [registry.id], expectedAttributes: [{ rule: "predicate.name == 'gundam-visor'" }] }],
      },
    ],
  };
}

describe('attestation layouts over Sigstore bundles (IN_TOTO_NPM_VECTORS)', () => {
  it("a Sigstore identity and the registry's key as functionaries: passes; another identity, repository or a swapped bundle fails", () => {
    const doc = JSON.parse(readFileSync(join(dir, PACKAGE), 'utf8')) as { attestations: { predicateType: string; bundle: unknown }[] };
    const work = makeTempDir('in-toto-att-sigstore-');
    mkdirSync(join(work, 'att'));
    const bundleOf = (type: string) => JSON.stringify(doc.attestations.find((a) => a.predicateType.includes(type))!.bundle);
    writeFileSync(join(work, 'att', 'build.gha.json'), bundleOf('slsa.dev/provenance'));
    writeFileSync(join(work, 'att', 'publish.npm.json'), bundleOf('npm/attestation'));
    const keys = JSON.parse(readFileSync(join(dir, 'trust/registry.npmjs.org-keys.json'), 'utf8')) as { keys: { keyUsage: string; publicKey: { rawBytes: string } }[] };
    const key = publicKeyFromSpkiDer(Buffer.from(keys.keys.find((k) => k.keyUsage === 'npm:attestations')!.publicKey.rawBytes, 'base64'));
    const d = keyToDict(key);
    const registry = { id: key.keyid, dict: { keyType: d.keytype, scheme: d.scheme, keyVal: { public: d.keyval.public } } };
    const verify = (layoutDoc: unknown) => {
      writeFileSync(join(work, 'layout.json'), JSON.stringify(layoutDoc));
      return spawnSync(process.execPath, [TOOL, '-l', 'layout.json', '-a', 'att', '--allow-unsigned-layout'], { cwd: work, encoding: 'utf8' });
    };
    const ours = `^${REPO.replace(/[.]/g, '\\.')}/\\.github/workflows/.+$`;
    const ok = verify(layout(ours, registry));
    expect(ok.stderr).toMatch(/PASSED: 2 attestations verified/);
    expect(ok.status).toBe(0);

    const stranger = verify(layout('^https://github\\.com/acme/.+$', registry));
    expect(stranger.status).toBe(1);
    expect(stranger.stderr).toMatch(/build\.gha\.json: the Sigstore bundle verifies for none of the functionaries it was tried against \(gha-release: .*\)/);
    expect(stranger.stderr).toMatch(/FAIL \[NO_CLAIMS\] no claims found for step build/);

    const otherRepo = verify(layout(ours, registry, 'https://github.com/acme/app'));
    expect(otherRepo.stderr).toMatch(/FAIL \[ATTRIBUTE\] step build.*workflow\.repository is "https:\/\/github\.com\/ramonpetgrave64\/gundam-visor"/);

    // One certificate matching two identity functionaries is one signer: a threshold of 2 is not met.
    const twice = layout(ours, registry) as ReturnType<typeof layout> & { functionaries: Record<string, unknown> };
    twice.functionaries['gha-again'] = { sigstore: { issuer: 'https://token.actions.githubusercontent.com', identityRegexp: `(?:${ours})` } };
    Object.assign(twice.steps[0]!.expectedPredicates[0]!, { functionaries: ['gha-release', 'gha-again'], threshold: 2 });
    const one = verify(twice);
    expect(one.status).toBe(1);
    expect(one.stderr).toMatch(/FAIL \[THRESHOLD\] threshold not met for step build: .* by 1 of the 2/);

    // Certificate extensions pin the identity further: the workflow's repository must be the one named, exactly.
    const pinned = (repositoryUri: string) => {
      const d = layout(ours, registry) as ReturnType<typeof layout> & { functionaries: Record<string, any> };
      d.functionaries['gha-release'].sigstore.extensions = { sourceRepositoryURI: repositoryUri, runnerEnvironment: 'github-hosted' };
      return d;
    };
    const pinnedOk = verify(pinned(REPO));
    expect(pinnedOk.stderr).toMatch(/PASSED: 2 attestations verified/);
    expect(pinnedOk.status).toBe(0);
    const pinnedOther = verify(pinned('https://github.com/acme/gundam-visor'));
    expect(pinnedOther.status).toBe(1);
    expect(pinnedOther.stderr).toMatch(/the certificate's sourceRepositoryURI is https:\/\/github\.com\/ramonpetgrave64\/gundam-visor, not https:\/\/github\.com\/acme\/gundam-visor/);
    const unknownExtension = pinned(REPO);
    unknownExtension.functionaries['gha-release'].sigstore.extensions = { sourceRepo: REPO };
    expect(verify(unknownExtension).stderr).toMatch(/FAIL \[LAYOUT\] .*extensions: unknown field "sourceRepo"/);

    // The registry's bundle filed as the build step's: a key bundle is not the workflow identity's claim.
    writeFileSync(join(work, 'att', 'build.gha.json'), bundleOf('npm/attestation'));
    const swapped = verify(layout(ours, registry));
    expect(swapped.status).toBe(1);
    expect(swapped.stderr).toMatch(/no claims found for step build/);
  });
});
