#!/usr/bin/env node
// Sigstore bundles, measured (issue 18): writes bench/SIGSTORE.md.
//   1. Bundles verified per second, in one process: ours (`verifySigstoreBundle`, from the bundle's JSON) against
//      `@sigstore/verify` (sigstore-js, from the same JSON), both with the trusted root read once, on three
//      sigstore-conformance bundles (a v0.3 message signature with a Rekor v1 entry; a DSSE envelope; a Rekor v2
//      entry with an RFC 3161 timestamp). tinybench, interleaved.
//   2. Whole process, peak memory: each verifier in its own Node process verifying the 21 verified conformance
//      bundles 10 times (import, trust, bundles), /usr/bin/time.
// The bundles are read in place: IN_TOTO_SIGSTORE_VECTORS (default ../shared/vectors/sigstore-conformance).
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join, resolve } from 'node:path';
import { Bench } from 'tinybench';
import { BENCH, ROOT } from './lib/fixtures.mjs';

const vectors = resolve(process.env.IN_TOTO_SIGSTORE_VECTORS ?? join(ROOT, '../shared/vectors/sigstore-conformance'));
const base = join(vectors, 'test/assets/bundle-verify');
if (!existsSync(base)) throw new Error(`no sigstore-conformance cases at ${vectors}: set IN_TOTO_SIGSTORE_VECTORS`);
const log = (text) => process.stderr.write(`${text}\n`);

const worker = process.argv[2];
if (worker === '--worker') {
  // Part 2, in a process of its own: argv[3] is 'ours' or 'sigstore-js'.
  const verify = await verifierFor(process.argv[3]);
  const cases = JSON.parse(process.argv[4]).map(caseOf);
  for (let round = 0; round < 10; round++) for (const c of cases) await verify(c);
  process.exit(0);
}

function caseOf(name) {
  const dir = join(base, name);
  const at = (f) => (existsSync(join(dir, f)) ? join(dir, f) : undefined);
  return {
    name,
    bundle: readFileSync(join(dir, 'bundle.sigstore.json'), 'utf8'),
    root: readFileSync(at('trusted_root.json') ?? join(ROOT, 'data/sigstore/production-trusted-root.json'), 'utf8'),
    key: at('key.pub') ? readFileSync(at('key.pub'), 'utf8') : undefined,
    artifact: readFileSync(at('artifact') ?? join(base, 'a.txt')),
    identity: at('identity') ? readFileSync(at('identity'), 'utf8').trim() : 'https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main',
    issuer: at('issuer') ? readFileSync(at('issuer'), 'utf8').trim() : 'https://token.actions.githubusercontent.com',
  };
}

/** A function verifying a case (its trust read once per root), throwing when it does not verify. */
async function verifierFor(which) {
  if (which === 'ours') {
    const lib = await import(join(ROOT, 'dist/index.js'));
    await lib.initEngine();
    const sig = await import(join(ROOT, 'dist/sigstore/index.js'));
    const roots = new Map();
    return async (c) => {
      if (!roots.has(c.root)) roots.set(c.root, sig.readTrustedRoot(c.root));
      const policy = c.key ? { key: lib.loadPublicKey(c.key) } : { identity: { san: c.identity, issuer: c.issuer } };
      await sig.verifySigstoreBundle(sig.readSigstoreBundle(c.bundle), roots.get(c.root), { bytes: c.artifact }, policy);
    };
  }
  const { Verifier, toSignedEntity, toTrustMaterial } = await import('@sigstore/verify');
  const { bundleFromJSON } = await import('@sigstore/bundle');
  const { TrustedRoot } = await import('@sigstore/protobuf-specs');
  const { createPublicKey } = await import('node:crypto');
  const verifiers = new Map();
  return async (c) => {
    const id = `${c.root}\0${c.key ?? ''}`;
    if (!verifiers.has(id)) {
      const keys = c.key ? () => ({ publicKey: createPublicKey(c.key), validFor: () => true }) : undefined;
      verifiers.set(id, new Verifier(toTrustMaterial(TrustedRoot.fromJSON(JSON.parse(c.root)), keys), { tlogThreshold: 1, ctlogThreshold: c.key ? 0 : 1, timestampThreshold: 1 }));
    }
    verifiers.get(id).verify(toSignedEntity(bundleFromJSON(JSON.parse(c.bundle)), c.artifact), c.key ? undefined : { subjectAlternativeName: c.identity, extensions: { issuer: c.issuer } });
  };
}

// 1. Per second.
const picks = ['happy-path-v0.3', 'happy-path-intoto-in-dsse-v3', 'rekor2-happy-path'];
const ours = await verifierFor('ours');
const theirs = await verifierFor('sigstore-js');
const bench = new Bench({ time: 1500 });
for (const name of picks) {
  const c = caseOf(name);
  await ours(c);
  await theirs(c);
  bench.add(`${name}: in-toto-wasm/sigstore`, () => ours(c));
  bench.add(`${name}: @sigstore/verify`, () => theirs(c));
}
await bench.run();
const hz = (name) => bench.tasks.find((t) => t.name === name).result.throughput?.mean ?? bench.tasks.find((t) => t.name === name).result.hz;
const rows = picks.map((name) => {
  const a = hz(`${name}: in-toto-wasm/sigstore`);
  const b = hz(`${name}: @sigstore/verify`);
  return `| ${name} | ${Math.round(a).toLocaleString('en')} | ${Math.round(b).toLocaleString('en')} | ${(a / b).toFixed(2)}x |`;
});

// 2. Whole process, peak memory.
const verified = readdirSync(base).filter((n) => !n.endsWith('fail') && existsSync(join(base, n, 'bundle.sigstore.json')));
const whole = (which) => {
  const times = [];
  let rss = 0;
  for (let i = 0; i < 3; i++) {
    const started = performance.now();
    const r = spawnSync('/usr/bin/time', ['-f', '%M', process.execPath, join(BENCH, 'sigstore.mjs'), '--worker', which, JSON.stringify(verified)], { encoding: 'utf8', env: { ...process.env, NODE_EXTRA_CA_CERTS: '' } });
    if (r.status !== 0) throw new Error(`${which}: ${r.stderr}`);
    times.push(performance.now() - started);
    rss = Math.max(rss, Number(r.stderr.trim().split('\n').pop()) / 1024);
  }
  times.sort((a, b) => a - b);
  return { ms: times[1], rss };
};
const o = whole('ours');
const t = whole('sigstore-js');

// 3. npm provenance, whole process: our in-toto-npm against the sigstore-js script doing the same (bench/lib/).
const npmVectors = resolve(process.env.IN_TOTO_NPM_VECTORS ?? join(ROOT, '../shared/vectors/npm-provenance'));
const npmFile = join(npmVectors, 'slsa-verifier/cli/slsa-verifier/testdata/npm/gha/gundam-visor-cli-v1-tag.tgz.json');
let npmRows = '';
if (existsSync(npmFile)) {
  const statement = JSON.parse(Buffer.from(JSON.parse(readFileSync(npmFile, 'utf8')).attestations[0].bundle.dsseEnvelope.payload, 'base64').toString());
  const integrity = `sha512-${Buffer.from(statement.subject[0].digest.sha512, 'hex').toString('base64')}`;
  const rootFile = join(ROOT, 'data/sigstore/production-trusted-root.json');
  const keysFile = join(ROOT, 'data/sigstore/npm-registry-keys.json');
  const commands = {
    'in-toto-npm verify-npm-package': [join(ROOT, 'bin/in-toto-npm.js'), 'verify-npm-package', integrity, '--attestations-path', npmFile, '--source-uri', 'github.com/ramonpetgrave64/gundam-visor'],
    'sigstore-js script (@sigstore/verify)': [join(BENCH, 'lib/npm-sigstore-js.mjs'), integrity, npmFile, rootFile, keysFile, 'github.com/ramonpetgrave64/gundam-visor'],
  };
  const results = Object.fromEntries(Object.keys(commands).map((k) => [k, { ms: [], rss: 0 }]));
  for (let i = 0; i < 7; i++) {
    for (const [label, args] of Object.entries(commands)) {
      const started = performance.now();
      const r = spawnSync('/usr/bin/time', ['-f', '%M', process.execPath, ...args], { encoding: 'utf8', cwd: ROOT, env: { ...process.env, NODE_EXTRA_CA_CERTS: '' } });
      if (r.status !== 0) throw new Error(`${label}: ${r.stderr}`);
      results[label].ms.push(performance.now() - started);
      results[label].rss = Math.max(results[label].rss, Number(r.stderr.trim().split('\n').pop()) / 1024);
    }
  }
  const med = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
  npmRows = Object.entries(results).map(([label, r]) => `| ${label} | ${Math.round(med(r.ms))} ms | ${Math.round(r.rss)} MiB |`).join('\n');
}

const md = `# Sigstore bundles, measured

Written by \`node bench/sigstore.mjs\` on ${new Date().toISOString().replace(/\.\d+Z$/, 'Z')} (${cpus()[0]?.model ?? 'CPU'}, ${cpus().length} cores, Node ${process.version}); run it again to reproduce (\`IN_TOTO_SIGSTORE_VECTORS\` names the sigstore-conformance folder).

## Bundles verified per second, one process

From the bundle's JSON to a verdict (bundle read, signature, log entry and its proofs, timestamps, certificate chain,
SCT, identity); the trusted root read once. \`@sigstore/verify\` ${JSON.parse(readFileSync(join(ROOT, 'node_modules/@sigstore/verify/package.json'), 'utf8')).version}. tinybench, 1.5 s each:

| bundle | in-toto-wasm/sigstore | @sigstore/verify | ratio |
|---|---|---|---|
${rows.join('\n')}

## Whole process

Each verifier in a Node process of its own, verifying the ${verified.length} verified conformance bundles 10 times (import, trusted roots,
bundles); median of 3, peak RSS:

| verifier | time | peak RSS |
|---|---|---|
| in-toto-wasm/sigstore | ${(o.ms / 1000).toFixed(2)} s | ${Math.round(o.rss)} MiB |
| @sigstore/verify | ${(t.ms / 1000).toFixed(2)} s | ${Math.round(t.rss)} MiB |

The issue's goal: at least 2x \`@sigstore/verify\`, with less memory.
${npmRows ? `
## npm provenance, whole process

One package's two attestations (gundam-visor 1.0.1, slsa-verifier's data) checked from the command line: our
\`in-toto-npm verify-npm-package\` against a Node script that does the same with sigstore-js's verifier
(bench/lib/npm-sigstore-js.mjs: both bundles, the registry key, the workflow identity, the subjects); interleaved,
median of 7, peak RSS:

| command | time | peak RSS |
|---|---|---|
${npmRows}
` : ''}`;
writeFileSync(join(BENCH, 'SIGSTORE.md'), md);
log(md);
