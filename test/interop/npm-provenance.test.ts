/**
 * npm provenance against real attestations (read in place from IN_TOTO_NPM_VECTORS; CI:
 * ../shared/vectors/npm-provenance): slsa-verifier's npm test data, through `in-toto-npm verify-npm-package`.
 *  - the five published package versions verify (by the integrity a lockfile holds: their tarballs are no longer
 *    published, but sigstore@2.3.1's, fetched from the registry, verifies by its bytes too), and fail when a flag
 *    names another repository, package, version, tag or branch, or a builder the provenance does not name;
 *  - upstream's invalid variants fail, each for its reason.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { makeTempDir } from '../helpers/reference.js';

function vectorsDir(): string {
  const dir = process.env.IN_TOTO_NPM_VECTORS;
  if (!dir) throw new Error('set IN_TOTO_NPM_VECTORS to the npm-provenance folder (e.g. ../shared/vectors/npm-provenance)');
  const path = resolve(dir);
  if (!existsSync(join(path, 'slsa-verifier'))) throw new Error(`${path} does not hold the npm provenance data`);
  return path;
}

const TOOL = fileURLToPath(new URL('../../dist/cli/in-toto-npm.js', import.meta.url));
const GHA = 'slsa-verifier/cli/slsa-verifier/testdata/npm/gha';
const INTERNAL = 'slsa-verifier/verifiers/internal/gha/testdata';
const NODEJS_BUILDER = 'https://github.com/slsa-framework/slsa-github-generator/.github/workflows/builder_nodejs_slsa3.yml';

/** The five package versions: where they were built, and what their provenance says. */
const PACKAGES = [
  { file: 'gundam-visor-cli-v1-tag', source: 'github.com/ramonpetgrave64/gundam-visor', name: 'gundam-visor', version: '1.0.1', tag: 'v1.0.1' },
  { file: 'supreme-googles-cli-v02-tag', source: 'github.com/trishankatdatadog/supreme-goggles', name: '@trishankatdatadog/supreme-goggles', version: '1.0.5', tag: 'v1.0.5' },
  { file: 'provenance-npm-test-cli-v02-prega', source: 'github.com/laurentsimon/provenance-npm-test', name: '@laurentsimon/provenance-npm-test', version: '1.0.3', branch: 'main' },
  { file: 'provenance-npm-test-cli-v1-prega', source: 'github.com/sigstore/sigstore-js', name: 'sigstore', version: '2.3.1', branch: 'main' },
  { file: 'provenance-npm-test-ossf', source: 'github.com/laurentsimon/provenance-npm-test', name: '@laurentsimon/provenance-npm-test', version: '1.0.5', branch: 'main', builder: NODEJS_BUILDER },
] as const;

let dir: string;
beforeAll(() => {
  dir = vectorsDir();
});

const run = (args: string[]) => spawnSync(process.execPath, [TOOL, 'verify-npm-package', ...args], { encoding: 'utf8' });

/** The tarball's integrity as a lockfile records it, from the attestation's subject. */
function integrityOf(file: string): string {
  const doc = JSON.parse(readFileSync(file, 'utf8'));
  const statement = JSON.parse(Buffer.from(doc.attestations[0].bundle.dsseEnvelope.payload, 'base64').toString());
  return `sha512-${Buffer.from(statement.subject[0].digest.sha512, 'hex').toString('base64')}`;
}

describe('in-toto-npm verify-npm-package on slsa-verifier\'s npm data (IN_TOTO_NPM_VECTORS)', () => {
  it('the five published package versions verify with their source, name, version and tag or branch', () => {
    for (const p of PACKAGES) {
      const file = join(dir, GHA, `${p.file}.tgz.json`);
      const ref = 'tag' in p ? ['--source-tag', p.tag] : ['--source-branch', p.branch];
      const builder = 'builder' in p ? ['--builder-id', p.builder] : [];
      const r = run([integrityOf(file), '--attestations-path', file, '--source-uri', p.source, '--package-name', p.name, '--package-version', p.version, ...ref, ...builder]);
      expect(r.status, `${p.file}: ${r.stderr}`).toBe(0);
      expect(r.stderr).toContain(`Verified ${p.name}@${p.version}`);
    }
  });

  it('each fails when a flag names something else, saying what', () => {
    const p = PACKAGES[0];
    const file = join(dir, GHA, `${p.file}.tgz.json`);
    const base = [integrityOf(file), '--attestations-path', file];
    const cases: [string[], RegExp][] = [
      [['--source-uri', 'github.com/ramonpetgrave64/other'], /source repository is https:\/\/github.com\/ramonpetgrave64\/gundam-visor, not|signer is not the one expected/],
      [['--source-uri', p.source, '--package-name', 'gundam-visor2'], /the package is gundam-visor, not gundam-visor2/],
      [['--source-uri', p.source, '--package-version', '1.0.2'], /the package version is 1.0.1, not 1.0.2/],
      [['--source-uri', p.source, '--source-tag', 'v1.0.2'], /source ref is refs\/tags\/v1.0.1, not the tag v1.0.2/],
      [['--source-uri', p.source, '--source-versioned-tag', 'v2'], /not a tag of version v2/],
      [['--source-uri', p.source, '--source-branch', 'main'], /not the branch main/],
      // A generator builder is vouched for by the generator's delegator only, and this provenance is signed by the
      // repository's own workflow (which could claim any builder).
      [['--source-uri', p.source, '--builder-id', NODEJS_BUILDER], /signer is not the one expected: .*npm-publish\.yml.*delegator_lowperms-generic_slsa3/],
      [['--source-uri', p.source, '--builder-id', 'https://github.com/acme/hardened-builder'], /the builder is https:\/\/github.com\/actions\/runner\/github-hosted, not https:\/\/github.com\/acme\/hardened-builder/],
    ];
    for (const [flags, reason] of cases) {
      const r = run([...base, ...flags]);
      expect(r.status, flags.join(' ')).toBe(1);
      expect(r.stderr).toMatch(reason);
    }
    // The versioned tag of the right major version passes.
    expect(run([...base, '--source-uri', p.source, '--source-versioned-tag', 'v1']).status).toBe(0);
    // Another tarball's integrity: not the attestations' subject.
    const other = `sha512-${Buffer.alloc(64, 7).toString('base64')}`;
    expect(run([other, '--attestations-path', file, '--source-uri', p.source]).stderr).toMatch(/not a subject/);
  });

  it("upstream's invalid variants fail for their reason", () => {
    const expected: Record<string, RegExp> = {
      invalidsigprov: /the provenance does not verify: the DSSE envelope's signature does not verify/,
      invalidsigpub: /the publish attestation does not verify: the DSSE envelope's signature does not verify/,
    };
    const files = readdirSync(join(dir, GHA)).filter((f) => /-invalidsig(prov|pub)\.tgz\.json$/.test(f));
    expect(files).toHaveLength(10);
    for (const f of files) {
      const p = PACKAGES.find((k) => f.startsWith(k.file))!;
      const file = join(dir, GHA, f);
      const r = run([integrityOf(file), '--attestations-path', file, '--source-uri', p.source, ...('builder' in p ? ['--builder-id', p.builder] : [])]);
      expect(r.status, f).toBe(1);
      expect(r.stderr, f).toMatch(expected[/invalidsig(prov|pub)/.exec(f)![0]]!);
    }
    const internal: Record<string, RegExp> = {
      'npm-attestations.intoto.sigstore': /^$/,
      'npm-att-mismatch-prov-payloadtype.intoto.sigstore': /provenance does not verify/,
      'npm-att-mismatch-pub-payloadtype.intoto.sigstore': /does not verify/,
      'npm-att-mismatch-prov-predicatetype.intoto.sigstore': /neither npm's publish attestation nor SLSA provenance/,
      'npm-att-mismatch-pub-predicatetype.intoto.sigstore': /neither npm's publish attestation nor SLSA provenance/,
      'npm-att-prov-invalid-signature.intoto.sigstore': /provenance does not verify/,
      'npm-att-publish-invalid-signature.intoto.sigstore': /publish attestation does not verify/,
      'npm-att-publish-nodigest.intoto.sigstore': /publish attestation does not verify/,
      'npm-att-publish-nosubjects.intoto.sigstore': /publish attestation does not verify/,
      'npm-stmt-mismatch-prov-predicatetype.intoto.sigstore': /its Statement https:\/\/slsa.dev\/provenanc\/v0.2/,
      'npm-stmt-mismatch-prov-type.intoto.sigstore': /provenance does not verify/,
      'npm-stmt-mismatch-pub-predicatetype.intoto.sigstore': /its Statement .*publis\/v0.1/,
      'npm-stmt-mismatch-pub-type.intoto.sigstore': /publish attestation does not verify/,
    };
    const valid = join(dir, INTERNAL, 'npm-attestations.intoto.sigstore');
    const integrity = integrityOf(valid);
    for (const [f, reason] of Object.entries(internal)) {
      // An early npm CLI built it (builder https://github.com/npm/cli@9.5.0): named, as slsa-verifier needs it named.
      const r = run([integrity, '--attestations-path', join(dir, INTERNAL, f), '--source-uri', 'github.com/laurentsimon/provenance-npm-test', '--builder-id', 'https://github.com/npm/cli']);
      if (f === 'npm-attestations.intoto.sigstore') expect(r.status, r.stderr).toBe(0);
      else {
        expect(r.status, f).toBe(1);
        expect(r.stderr, f).toMatch(reason);
      }
    }
  });

  it('sigstore@2.3.1, fetched from the npm registry, verifies by its bytes; one changed byte does not', () => {
    const tmp = makeTempDir('in-toto-npm-pack-');
    const packed = JSON.parse(execFileSync('npm', ['pack', 'sigstore@2.3.1', '--json', '--pack-destination', tmp], { cwd: tmp, encoding: 'utf8' }));
    const tarball = join(tmp, packed[0].filename);
    const file = join(dir, GHA, 'provenance-npm-test-cli-v1-prega.tgz.json');
    const ok = run([tarball, '--attestations-path', file, '--source-uri', 'github.com/sigstore/sigstore-js', '--package-name', 'sigstore', '--package-version', '2.3.1', '--print-provenance']);
    expect(ok.status, ok.stderr).toBe(0);
    expect(JSON.parse(ok.stdout).predicateType).toBe('https://slsa.dev/provenance/v1');
    const bytes = readFileSync(tarball);
    bytes[bytes.length - 1]! ^= 1;
    writeFileSync(tarball, bytes);
    const changed = run([tarball, '--attestations-path', file, '--source-uri', 'github.com/sigstore/sigstore-js']);
    expect(changed.status).toBe(1);
    expect(changed.stderr).toMatch(/not a subject/);
  });
});

describe('in-toto-npm verify NAME@VERSION, against a registry served on 127.0.0.1 (IN_TOTO_NPM_VECTORS)', () => {
  it('fetches the tarball, the registry signature and the attestations, and refuses each when it is wrong', async () => {
    const { createServer } = await import('node:http');
    const { generateKeyPairSync, sign, createHash } = await import('node:crypto');
    const { spawn } = await import('node:child_process');
    const tmp = makeTempDir('in-toto-npm-registry-');
    const packed = JSON.parse(execFileSync('npm', ['pack', 'sigstore@2.3.1', '--json', '--pack-destination', tmp], { cwd: tmp, encoding: 'utf8' }));
    const tarball = readFileSync(join(tmp, packed[0].filename));
    const integrity = `sha512-${createHash('sha512').update(tarball).digest('base64')}`;
    const attestations = readFileSync(join(dir, GHA, 'provenance-npm-test-cli-v1-prega.tgz.json'));
    // Our own registry signing key (the real registry's signatures are not served by every mirror): the real keys
    // still verify the publish attestation.
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const keyid = 'SHA256:in-toto-wasm-test-registry-key';
    const keys = JSON.parse(readFileSync(fileURLToPath(new URL('../../data/sigstore/npm-registry-keys.json', import.meta.url)), 'utf8'));
    keys.keys.push({ keyId: keyid, keyUsage: 'npm:signatures', publicKey: { rawBytes: publicKey.export({ format: 'der', type: 'spki' }).toString('base64'), keyDetails: 'PKIX_ECDSA_P256_SHA_256', validFor: { start: '2024-01-01T00:00:00Z' } } });
    const keysFile = join(tmp, 'keys.json');
    writeFileSync(keysFile, JSON.stringify(keys));
    const signFor = (message: string) => sign('sha256', Buffer.from(message), privateKey).toString('base64');
    const state = { sig: signFor(`sigstore@2.3.1:${integrity}`), tarball, attestations: true as boolean, time: '2024-06-25T22:11:13.142Z' };
    const server = createServer((req, res) => {
      const base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
      if (req.url === '/sigstore') {
        res.setHeader('content-type', 'application/json');
        return res.end(JSON.stringify({ name: 'sigstore', versions: { '2.3.1': { dist: { tarball: `${base}/sigstore/-/sigstore-2.3.1.tgz`, integrity, signatures: [{ keyid, sig: state.sig }] } } }, time: { '2.3.1': state.time } }));
      }
      if (req.url === '/sigstore/-/sigstore-2.3.1.tgz') return res.end(state.tarball);
      if (req.url === '/-/npm/v1/attestations/sigstore@2.3.1' && state.attestations) return res.end(attestations);
      res.statusCode = 404;
      res.end();
    });
    await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
    const registry = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    const verifyRun = (extra: string[] = []) =>
      new Promise<{ status: number | null; stderr: string }>((ok) => {
        const child = spawn(process.execPath, [TOOL, 'verify', 'sigstore@2.3.1', '--registry', registry, '--registry-keys', keysFile, '--source-uri', 'github.com/sigstore/sigstore-js', ...extra]);
        let stderr = '';
        child.stderr.on('data', (d) => (stderr += d));
        child.on('close', (status) => ok({ status, stderr }));
      });
    try {
      const good = await verifyRun(['--source-branch', 'main']);
      expect(good.status, good.stderr).toBe(0);
      expect(good.stderr).toContain(`Registry signature of sigstore@2.3.1 verified (${keyid})`);
      // A registry signature over another version.
      state.sig = signFor(`sigstore@2.3.2:${integrity}`);
      expect((await verifyRun()).stderr).toMatch(/registry's signature of sigstore@2.3.1 does not hold/);
      state.sig = signFor(`sigstore@2.3.1:${integrity}`);
      // Published before the key was valid.
      state.time = '2023-06-25T22:11:13.142Z';
      expect((await verifyRun()).stderr).toMatch(/was not valid at 2023-06-25/);
      state.time = '2024-06-25T22:11:13.142Z';
      // Another tarball than the registry's integrity says.
      state.tarball = Buffer.concat([tarball, Buffer.from([0])]);
      expect((await verifyRun()).stderr).toMatch(/the tarball's integrity is .*, the registry says/);
      state.tarball = tarball;
      // No attestations: no provenance, refused.
      state.attestations = false;
      const none = await verifyRun();
      expect(none.status).toBe(1);
      expect(none.stderr).toMatch(/has no provenance/);
    } finally {
      server.close();
    }
  });
});

describe('in-toto-npm audit, against a registry served on 127.0.0.1 (IN_TOTO_NPM_VECTORS)', () => {
  it('reports provenance and registry signatures per package, and fails on policy violations, downgrades and lockfile problems', async () => {
    const { createServer } = await import('node:http');
    const { generateKeyPairSync, sign } = await import('node:crypto');
    const { spawn } = await import('node:child_process');
    const tmp = makeTempDir('in-toto-npm-audit-');
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const keyid = 'SHA256:in-toto-wasm-test-registry-key';
    const keys = JSON.parse(readFileSync(fileURLToPath(new URL('../../data/sigstore/npm-registry-keys.json', import.meta.url)), 'utf8'));
    keys.keys.push({ keyId: keyid, keyUsage: 'npm:signatures', publicKey: { rawBytes: publicKey.export({ format: 'der', type: 'spki' }).toString('base64'), keyDetails: 'PKIX_ECDSA_P256_SHA_256', validFor: { start: '2020-01-01T00:00:00Z' } } });
    writeFileSync(join(tmp, 'keys.json'), JSON.stringify(keys));
    const attestationsOf = (file: string) => readFileSync(join(dir, GHA, `${file}.tgz.json`));
    const integrityFrom = (file: string) => integrityOf(join(dir, GHA, `${file}.tgz.json`));
    const fake = (seed: string) => `sha512-${Buffer.alloc(64, seed.charCodeAt(0)).toString('base64')}`;
    type Version = { integrity: string; attestations?: string; time?: string; signed?: boolean; status?: number };
    // name -> version -> what the registry says.
    const registryData: Record<string, Record<string, Version>> = {
      sigstore: { '2.3.1': { integrity: integrityFrom('provenance-npm-test-cli-v1-prega'), attestations: 'provenance-npm-test-cli-v1-prega', time: '2024-06-25T22:11:13Z', signed: true } },
      // 1.0.1 was published with provenance; 1.0.2 without: the downgrade.
      'gundam-visor': {
        '1.0.1': { integrity: integrityFrom('gundam-visor-cli-v1-tag'), attestations: 'gundam-visor-cli-v1-tag', time: '2024-06-04T00:00:00Z', signed: true },
        '1.0.2': { integrity: fake('g'), time: '2024-07-01T00:00:00Z', signed: true },
      },
      // 1.0.5 had provenance from the SLSA generator (a builder other than the runner); 1.0.6 has none.
      '@laurentsimon/provenance-npm-test': {
        '1.0.5': { integrity: integrityFrom('provenance-npm-test-ossf'), attestations: 'provenance-npm-test-ossf', time: '2024-05-01T00:00:00Z', signed: true },
        '1.0.6': { integrity: fake('l'), time: '2024-07-01T00:00:00Z', signed: true },
      },
      'plain-package': { '1.0.0': { integrity: fake('p'), time: '2024-01-01T00:00:00Z', signed: true } },
      unsigned: { '0.1.0': { integrity: fake('u'), time: '2024-01-01T00:00:00Z' } },
      'evil-lib': { '1.0.0': { integrity: fake('e'), time: '2024-01-01T00:00:00Z', signed: true } },
      'no-time': { '1.0.0': { integrity: fake('n'), signed: true } },
      'bad-signatures': { '1.0.0': { integrity: fake('b'), time: '2024-01-01T00:00:00Z', signed: true } },
    };
    const attestationStatus: Record<string, number> = {};
    const server = createServer((req, res) => {
      const base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
      const url = decodeURIComponent(req.url ?? '');
      const att = /^\/-\/npm\/v1\/attestations\/(.+)@([^@]+)$/.exec(url);
      if (att) {
        const key = `${att[1]}@${att[2]}`;
        if (attestationStatus[key]) {
          res.statusCode = attestationStatus[key]!;
          return res.end();
        }
        const v = registryData[att[1]!]?.[att[2]!];
        if (v?.attestations) return res.end(attestationsOf(v.attestations));
      }
      const name = url.slice(1);
      const pkg = registryData[name];
      if (pkg) {
        const versions = Object.fromEntries(Object.entries(pkg).map(([version, v]) => [version, { dist: {
          tarball: `${base}/${name}/-/${name}-${version}.tgz`, integrity: v.integrity,
          ...(v.signed ? { signatures: name === 'bad-signatures' ? [null] : [{ keyid, sig: sign('sha256', Buffer.from(`${name}@${version}:${v.integrity}`), privateKey).toString('base64') }] } : {}),
          ...(v.attestations ? { attestations: { url: `${base}/-/npm/v1/attestations/${name}@${version}` } } : {}),
        } }]));
        res.setHeader('content-type', 'application/json');
        return res.end(JSON.stringify({ name, versions, time: Object.fromEntries(Object.entries(pkg).flatMap(([version, v]) => (v.time ? [[version, v.time]] : []))) }));
      }
      res.statusCode = 404;
      res.end();
    });
    await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
    const registry = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    const lock = (entries: Record<string, { version: string; integrity?: string; resolved?: string; name?: string }>) => {
      const file = join(tmp, `lock-${Math.random().toString(16).slice(2)}.json`);
      writeFileSync(file, JSON.stringify({ lockfileVersion: 3, packages: { '': { name: 'app' }, ...Object.fromEntries(Object.entries(entries).map(([path, e]) => [path, { resolved: `${registry}/x.tgz`, ...e }])) } }));
      return file;
    };
    const entryOf = (name: string, version: string) => ({ version, integrity: registryData[name]![version]!.integrity });
    const policyFile = (policy: object) => {
      const file = join(tmp, `policy-${Math.random().toString(16).slice(2)}.json`);
      writeFileSync(file, JSON.stringify(policy));
      return file;
    };
    const audit = (args: string[]) =>
      new Promise<{ status: number | null; report: { packages: { name: string; path: string; provenance: string; registrySignature: string; source?: string; problems: string[]; notes: string[] }[] }; stderr: string }>((ok) => {
        const child = spawn(process.execPath, [TOOL, 'audit', '--registry', registry, '--registry-keys', join(tmp, 'keys.json'), '--json', ...args]);
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (d) => (stdout += d));
        child.stderr.on('data', (d) => (stderr += d));
        child.on('close', (status) => ok({ status, report: stdout ? JSON.parse(stdout) : { packages: [] }, stderr }));
      });
    const problemsOf = (r: Awaited<ReturnType<typeof audit>>) => r.report.packages.flatMap((p) => p.problems.map((m) => `${p.path}: ${m}`));
    try {
      const lockfile = lock({ 'node_modules/sigstore': entryOf('sigstore', '2.3.1'), 'node_modules/plain-package': entryOf('plain-package', '1.0.0') });
      // No policy: what is there verifies; a package without provenance is reported, not failed.
      const plain = await audit(['--lockfile', lockfile]);
      expect(plain.status, `${plain.stderr}${JSON.stringify(plain.report)}`).toBe(0);
      const byName = Object.fromEntries(plain.report.packages.map((p) => [p.name, p]));
      expect(byName.sigstore).toMatchObject({ provenance: 'verified', registrySignature: 'verified', source: 'https://github.com/sigstore/sigstore-js@refs/heads/main', problems: [] });
      expect(byName['plain-package']).toMatchObject({ provenance: 'absent', registrySignature: 'verified', problems: [] });
      // A policy the packages meet, then one they do not.
      expect((await audit(['--lockfile', lockfile, '--policy', policyFile({ rules: [{ packages: 'sigstore', sourceUri: 'github.com/sigstore/*' }] })])).status).toBe(0);
      const unmet = await audit(['--lockfile', lockfile, '--policy', policyFile({ rules: [{ packages: 'sigstore', sourceUri: 'github.com/acme/*' }, { packages: '*', requireProvenance: true }] })]);
      expect(unmet.status).toBe(1);
      expect(problemsOf(unmet)).toEqual([
        expect.stringMatching(/^node_modules\/plain-package: it has no provenance, which the policy requires of \*/),
        expect.stringMatching(/^node_modules\/sigstore: its provenance does not verify: .*sigstore-js.*not one matching .*acme/),
      ]);
      // The downgrades: by the runner's provenance (gundam-visor), and by the SLSA generator's (found by review).
      for (const [name, version, had] of [['gundam-visor', '1.0.2', '1.0.1'], ['@laurentsimon/provenance-npm-test', '1.0.6', '1.0.5']] as const) {
        const downgraded = lock({ [`node_modules/${name}`]: entryOf(name, version) });
        expect((await audit(['--lockfile', downgraded])).status).toBe(0);
        const forbidden = await audit(['--lockfile', downgraded, '--policy', policyFile({ rules: [], noProvenanceDowngrade: true })]);
        expect(forbidden.status).toBe(1);
        expect(problemsOf(forbidden)).toEqual([expect.stringContaining(`lost the provenance ${name}@${had} had`)]);
      }
      // The earlier attestations cannot be fetched: the check could not complete, which fails (it passed before).
      attestationStatus['gundam-visor@1.0.1'] = 503;
      const unreachable = await audit(['--lockfile', lock({ 'node_modules/gundam-visor': entryOf('gundam-visor', '1.0.2') }), '--policy', policyFile({ rules: [], noProvenanceDowngrade: true })]);
      expect(problemsOf(unreachable)).toEqual([expect.stringContaining('the downgrade check could not complete')]);
      delete attestationStatus['gundam-visor@1.0.1'];
      // Lockfile problems (found by review): a nested copy with another integrity, no integrity, an alias escaping
      // a scope rule, a git dependency under a rule, no publish time, no or malformed registry signatures.
      const tricky = await audit([
        '--lockfile',
        lock({
          'node_modules/plain-package': entryOf('plain-package', '1.0.0'),
          'node_modules/x/node_modules/plain-package': { version: '1.0.0', integrity: fake('q'), resolved: 'https://evil.example/p.tgz' },
          'node_modules/sigstore': { version: '2.3.1', resolved: 'https://evil.example/s.tgz' },
          'node_modules/@acme/lib': { name: 'evil-lib', ...entryOf('evil-lib', '1.0.0') },
          'node_modules/@acme/git': { version: '0.0.1', resolved: 'git+ssh://git@github.com/acme/git.git#abc' },
          'node_modules/unsigned': entryOf('unsigned', '0.1.0'),
          'node_modules/no-time': entryOf('no-time', '1.0.0'),
          'node_modules/bad-signatures': entryOf('bad-signatures', '1.0.0'),
        }),
        '--policy',
        policyFile({ rules: [{ packages: '@acme/*', sourceUri: 'github.com/acme/*' }], noProvenanceDowngrade: true }),
      ]);
      expect(tricky.status).toBe(1);
      expect(problemsOf(tricky)).toEqual([
        expect.stringMatching(/^node_modules\/@acme\/git: it is not from the registry \(resolved from git\+ssh:.*\): no provenance, which the policy requires of @acme\/\*/),
        expect.stringMatching(/^node_modules\/@acme\/lib: it has no provenance, which the policy requires of @acme\/\*/),
        expect.stringMatching(/^node_modules\/bad-signatures: the registry's record of bad-signatures@1.0.0 cannot be read: .*signatures\[0\]: must be \{keyid, sig\} strings/),
        expect.stringMatching(/^node_modules\/no-time: the registry gives no publish time/),
        expect.stringMatching(/^node_modules\/no-time: the registry gives no publish time for it: the downgrade check cannot tell/),
        expect.stringMatching(/^node_modules\/sigstore: the lockfile records no integrity for it/),
        expect.stringMatching(/^node_modules\/unsigned: it carries no registry signature/),
        expect.stringMatching(/^node_modules\/x\/node_modules\/plain-package: the lockfile's integrity .* is not the registry's/),
      ]);
    } finally {
      server.close();
    }
  });
});
