#!/usr/bin/env node
// The package as Node users get it: packed with `npm pack`, unpacked beside its dependencies, imported by
// name. Checks the `exports` map (every target shipped, types beside each entry), the engine's size budget,
// runs the conformance suite through the `node` entry, and measures the cold start in fresh processes.
// Prints `node-packed: N passed, N failed[, N skipped]`; exits non-zero on any failure.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { gzipSync } from 'node:zlib';
import { finish, medians, prepareApp, tally, PACKAGE } from './app.mjs';

const WASM_GZIP_BUDGET = 100 * 1024;
const COLD_RUNS = 5;

const app = await prepareApp();
const pkg = join(app, 'node_modules', PACKAGE);
const manifest = JSON.parse(readFileSync(join(pkg, 'package.json'), 'utf8'));

const { counts, check, suite, examples } = tally();

// The exports map: an entry per runtime, each with its types, every target in the package.
const root = manifest.exports?.['.'] ?? {};
for (const condition of ['node', 'deno', 'browser', 'workerd']) {
  const entry = root[condition];
  check(`exports: "${condition}" entry with types`, typeof entry?.default === 'string' && typeof entry?.types === 'string', JSON.stringify(entry));
}
const targets = [];
const walk = (value) => (typeof value === 'string' ? targets.push(value) : value && typeof value === 'object' && Object.values(value).forEach(walk));
walk(manifest.exports);
const missing = targets.filter((t) => !existsSync(join(pkg, t)));
check(`exports: all ${targets.length} targets are in the package`, missing.length === 0, missing.join(', '));

// The command-line tools as npm installs them: each "bin" target shipped, and it starts (the bundles load).
for (const [name, target] of Object.entries(manifest.bin ?? {})) {
  let ok = existsSync(join(pkg, target));
  let detail = ok ? '' : `${target} is not in the package`;
  if (ok) {
    try {
      const help = execFileSync(process.execPath, [join(pkg, target), '--help'], { cwd: app, encoding: 'utf8' });
      // Its own usage and no other tool's: a bundle that runs another tool's command line on import fails here.
      ok = help.startsWith(`usage: ${name} `) && (help.match(/^usage: /gm) ?? []).length === 1;
      detail = ok ? '' : help.slice(0, 200);
    } catch (error) {
      ok = false;
      detail = `${error.stderr ?? error.message}`.slice(0, 300);
    }
  }
  check(`bin: ${name} (${target}) runs`, ok, detail);
}

// The Sigstore and npm tools as installed, with the trust they ship (data/ found from bin/), on a conformance bundle.
if (process.env.IN_TOTO_SIGSTORE_VECTORS) {
  const base = join(resolve(process.env.IN_TOTO_SIGSTORE_VECTORS), 'test/assets/bundle-verify');
  try {
    const out = execFileSync(process.execPath, [join(pkg, manifest.bin['in-toto-sigstore']), 'verify-bundle', '--bundle', join(base, 'happy-path-v0.3/bundle.sigstore.json'), '--certificate-identity', 'https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main', '--certificate-oidc-issuer', 'https://token.actions.githubusercontent.com', join(base, 'a.txt')], { cwd: app, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    check('bin: in-toto-sigstore verifies a bundle with the shipped production trusted root', out.startsWith('verified:'), out);
  } catch (error) {
    check('bin: in-toto-sigstore verifies a bundle with the shipped production trusted root', false, `${error.stderr ?? error.message}`.slice(0, 300));
  }
}

// And together, from the package: a key, a layout, a recorded step, a verification (the engine found from bin/).
try {
  const dir = mkdtempSync(join(tmpdir(), 'in-toto-packed-'));
  const tool = (name, args) => execFileSync(process.execPath, [join(pkg, manifest.bin[name]), ...args], { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  tool('in-toto-keygen', ['-t', 'ed25519', 'owner']);
  writeFileSync(join(dir, 'layout.json'), JSON.stringify({ expires_in: '1m', keys: { owner: { path: 'owner.pub', type: 'ed25519' } }, steps: [{ name: 'build', functionaries: ['owner'], products: [['CREATE', 'out'], ['DISALLOW', '*']] }] }));
  tool('in-toto-layout', ['create', 'layout.json', '-o', 'root.layout', '-k', 'owner', '-t', 'ed25519']);
  writeFileSync(join(dir, 'out'), 'built');
  tool('in-toto-run', ['-n', 'build', '-k', 'owner', '-t', 'ed25519', '-p', 'out', '-x']);
  tool('in-toto-verify', ['-l', 'root.layout', '-k', 'owner.pub', '-t', 'ed25519']);
  writeFileSync(join(dir, 'extra'), 'not built');
  writeFileSync(join(dir, 'out'), 'tampered');
  let caught = false;
  try {
    tool('in-toto-run', ['-n', 'build', '-k', 'owner', '-t', 'ed25519', '-p', 'out', 'extra', '-x']);
    tool('in-toto-verify', ['-l', 'root.layout', '-k', 'owner.pub', '-t', 'ed25519']);
  } catch (error) {
    caught = error.status === 1 && /DISALLOW|extra/.test(`${error.stderr}`);
  }
  check('bin: keygen, layout create, run and verify from the package; a disallowed product fails', caught);
  rmSync(dir, { recursive: true, force: true });
} catch (error) {
  check('bin: keygen, layout create, run and verify from the package', false, `${error.stderr ?? error.message}`.slice(0, 400));
}

// The engine's size budget.
const wasm = readFileSync(join(pkg, 'build/engine.wasm'));
const gz = gzipSync(wasm, { level: 9 }).length;
check(`engine.wasm: ${wasm.length} bytes, ${gz} gzipped (budget ${WASM_GZIP_BUDGET})`, gz < WASM_GZIP_BUDGET);

// The suite, through the node entry.
try {
  const out = execFileSync(process.execPath, ['test/runtimes/node/conformance.mjs'], { cwd: app, encoding: 'utf8', maxBuffer: 1 << 26 });
  const result = JSON.parse(out.trim().split('\n').pop());
  check('the node condition resolves to the node entry', result.entry.endsWith('/dist/entry/node.js'), result.entry);
  suite(result.results);
} catch (error) {
  check('conformance suite', false, `${error.stdout ?? ''}${error.stderr ?? error.message}`);
}

// Cold start: fresh processes; the median of a few.
try {
  const runs = Array.from({ length: COLD_RUNS }, () => JSON.parse(execFileSync(process.execPath, ['test/runtimes/node/cold.mjs'], { cwd: app, encoding: 'utf8' }).trim().split('\n').pop()));
  const cold = medians(runs);
  check('cold start: import, engine, first verification of the demo chain', true);
  console.log(`cold start (node ${process.version}, median of ${COLD_RUNS}): ${JSON.stringify(cold)}`);
} catch (error) {
  check('cold start', false, `${error.stdout ?? ''}${error.stderr ?? error.message}`);
}
finish('node-packed', counts);
