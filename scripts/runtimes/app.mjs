// Shared by the runtime harnesses (deno.mjs, chromium.mjs, workerd.mjs, node.mjs): the package as a user
// gets it, and the small tools each runtime needs around it. Offline: only this checkout and node_modules.
//
// prepareApp() packs this package with `npm pack` (so `files` and the `exports` map are what is tested),
// unpacks it into <tmp>/node_modules/in-toto-wasm beside its dependencies, and copies in the conformance
// suite, its vectors, the runtime harnesses and the examples, byte for byte and at the same paths as here
// (test/conformance, test/runtimes, examples). Each runtime then imports 'in-toto-wasm' and gets the entry
// its own condition selects.
//
// Vectors that are not ours to commit are read in place and copied into the app's test/conformance/vectors/ when
// their variable names the folder: IN_TOTO_SIGSTORE_VECTORS (sigstore/), IN_TOTO_CEL_VECTORS (cel-spec/: cel-spec's
// tests converted to JSON, those that pass in Node) and IN_TOTO_ATTESTATION_VECTORS (attestation-verifier/). Each
// harness then requires that every one of those cases ran and passed (requiredRuns()), and that the suite's own
// cases of each group ran.
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, realpathSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { createServer as createTcpServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, extname, join, posix, relative, resolve, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { convertCelSpec } from './cel-spec.mjs';

export const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const PACKAGE = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).name;

/** Where a platform package keeps its binary (npm may skip install scripts: never rely on them). */
export function findBinary(candidates) {
  for (const candidate of candidates) {
    const path = join(root, 'node_modules', candidate);
    if (existsSync(path)) return path;
  }
  throw new Error(`none of ${candidates.join(', ')} is installed under node_modules: run npm ci`);
}

const apps = [];

/** A new temporary directory, removed by finish() like the app. */
export function tempDir(prefix) {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  apps.push(dir);
  return dir;
}

/**
 * Packs the package and lays out an app around it in a new temporary directory; returns its path. It is
 * removed by finish() (kept with IN_TOTO_KEEP_APP=1, to look at).
 */
export async function prepareApp() {
  const app = tempDir('in-toto-runtime-');
  const packed = JSON.parse(execFileSync('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', app], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }));
  const tarball = join(app, packed[0].filename);
  const target = join(app, 'node_modules', PACKAGE);
  mkdirSync(target, { recursive: true });
  execFileSync('tar', ['xzf', tarball, '-C', target, '--strip-components=1']);
  const manifest = JSON.parse(readFileSync(join(target, 'package.json'), 'utf8'));
  // Its dependencies, as npm would have installed them (this checkout's copies, after `npm ci`).
  for (const dep of Object.keys(manifest.dependencies ?? {})) {
    const at = join(app, 'node_modules', dep);
    mkdirSync(dirname(at), { recursive: true });
    symlinkSync(realpathSync(join(root, 'node_modules', dep)), at, 'dir');
  }
  writeFileSync(join(app, 'package.json'), `${JSON.stringify({ name: 'in-toto-runtime-app', private: true, type: 'module', dependencies: { [PACKAGE]: manifest.version } }, null, 2)}\n`);
  for (const path of ['test/conformance/suite.js', 'test/conformance/vectors', 'test/runtimes', 'examples']) {
    cpSync(join(root, path), join(app, path), { recursive: true });
  }
  const vectors = join(app, 'test/conformance/vectors');
  if (process.env.IN_TOTO_SIGSTORE_VECTORS) {
    copySigstoreVectors(resolve(process.env.IN_TOTO_SIGSTORE_VECTORS), join(vectors, 'sigstore'));
    required.push({ group: 'sigstore', count: SIGSTORE_RUNS, what: 'the sigstore-conformance cases (by file and by digest)' });
  }
  if (process.env.IN_TOTO_CEL_VECTORS) {
    const { converted, passing, unsupported } = await writeCelSpecVectors(app, resolve(process.env.IN_TOTO_CEL_VECTORS), join(vectors, 'cel-spec'));
    console.log(`cel-spec: ${converted} tests converted (${unsupported} unsupported left out), ${passing} pass in Node: those run here`);
    required.push({ group: 'cel-spec', count: passing, what: 'the cel-spec cases that pass in Node' });
  }
  if (process.env.IN_TOTO_ATTESTATION_VECTORS) {
    const count = copyAttestationVectors(resolve(process.env.IN_TOTO_ATTESTATION_VECTORS), vectors);
    if (count !== ATTESTATION_VERIFIER_RUNS) throw new Error(`IN_TOTO_ATTESTATION_VECTORS: expected.json has ${count} attestation-verifier layout cases, not ${ATTESTATION_VERIFIER_RUNS}`);
    required.push({ group: 'attestation-verifier', count, what: 'the attestation-verifier layout cases (2 pass, 5 fail for their reasons)' });
  }
  return app;
}

/** The sigstore-conformance runs: 70 cases, each by file and by digest. */
const SIGSTORE_RUNS = 140;
/** attestation-verifier's layout cases: its two upstream runs (pass) and five failing ones. */
const ATTESTATION_VERIFIER_RUNS = 7;
/** How many cases of its own the suite has in each group that needs no vectors (test/conformance/suite.js). */
const BUILT_IN_RUNS = { CEL: 4, 'attestation layouts': 2, VSA: 2 };
/** The vector groups prepareApp() copied in, each with the number of cases that must run and pass. */
const required = [];

/** Each group that must have run, with how many of its cases must have passed: the suite's own and the vectors'. */
export function requiredRuns() {
  return [...Object.entries(BUILT_IN_RUNS).map(([group, count]) => ({ group, count, what: `the suite's ${group} cases` })), ...required];
}

/**
 * cel-spec's tests (scripts/runtimes/cel-spec.mjs) that pass in Node, through the packed package's node entry and its
 * `/attestations` path, judged as every runtime judges them (suite.js's celSpecProblem): written to `to`/index.json.
 */
async function writeCelSpecVectors(app, from, to) {
  if (!existsSync(join(from, 'tests/simple/testdata'))) throw new Error(`IN_TOTO_CEL_VECTORS=${from} does not hold cel-spec's simple conformance tests`);
  const { cases, unsupported } = convertCelSpec(from);
  const conditions = ['node', 'import', 'default'];
  const { initEngine } = await import(pathToFileURL(resolvePackage(app, PACKAGE, conditions)).href);
  const attestations = await import(pathToFileURL(resolvePackage(app, `${PACKAGE}/attestations`, conditions)).href);
  const { celSpecProblem } = await import(pathToFileURL(join(app, 'test/conformance/suite.js')).href);
  await initEngine();
  const passing = cases.filter((c) => celSpecProblem(attestations, c) === undefined);
  mkdirSync(to, { recursive: true });
  writeFileSync(join(to, 'index.json'), `${JSON.stringify({ source: 'cel-spec tests/simple/testdata, the tests that pass in Node', cases: passing })}\n`);
  return { converted: cases.length, passing: passing.length, unsupported };
}

/**
 * in-toto/attestation-verifier's layout cases of the attestation vectors' expected.json (kind "layout"), their files
 * copied into the app's `vectors` at the same relative paths (attestation-verifier/...), with an index the suite reads
 * (attestation-verifier/index.json): per case, its layout, attestations, parameter values and expected result.
 * Returns how many cases.
 */
function copyAttestationVectors(from, vectors) {
  const expected = join(from, 'expected.json');
  if (!existsSync(expected)) throw new Error(`IN_TOTO_ATTESTATION_VECTORS=${from} does not hold the attestation vectors (no expected.json)`);
  const cases = JSON.parse(readFileSync(expected, 'utf8')).cases.filter((c) => c.kind === 'layout' && c.id.startsWith('attestation-verifier/'));
  const out = [];
  for (const c of cases) {
    for (const file of [c.layout, ...c.attestations]) {
      if (!file.startsWith('attestation-verifier/')) throw new Error(`${c.id}: ${file} is not under attestation-verifier/`);
      mkdirSync(dirname(join(vectors, file)), { recursive: true });
      cpSync(join(from, file), join(vectors, file));
    }
    out.push({ id: c.id, layout: c.layout, attestations: c.attestations, ...(c.parameters ? { parameters: c.parameters.values } : {}), expected: c.expected });
  }
  writeFileSync(join(vectors, 'attestation-verifier/index.json'), `${JSON.stringify({ cases: out }, null, 2)}\n`);
  return out.length;
}

/**
 * The sigstore-conformance bundle-verify cases, copied into the app's vectors (never into this checkout: they are
 * not ours to commit) with an index the suite reads: per case, its files, the expected verdict (a name ending in
 * `fail` must be refused) and the identity to expect; the cases without a trusted root get the shipped production one.
 */
function copySigstoreVectors(from, to) {
  const base = join(from, 'test/assets/bundle-verify');
  if (!existsSync(base)) throw new Error(`IN_TOTO_SIGSTORE_VECTORS=${from} does not hold the sigstore-conformance cases`);
  mkdirSync(to, { recursive: true });
  cpSync(join(root, 'data/sigstore/production-trusted-root.json'), join(to, 'production-trusted-root.json'));
  cpSync(join(base, 'a.txt'), join(to, 'a.txt'));
  const IDENTITY = 'https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main';
  const cases = [];
  for (const name of readdirSync(base).filter((n) => statSync(join(base, n)).isDirectory()).sort()) {
    const has = (f) => existsSync(join(base, name, f));
    cpSync(join(base, name), join(to, name), { recursive: true });
    cases.push({
      name,
      expect: name.endsWith('fail') ? 'fail' : 'pass',
      bundle: `sigstore/${name}/bundle.sigstore.json`,
      root: has('trusted_root.json') ? `sigstore/${name}/trusted_root.json` : 'sigstore/production-trusted-root.json',
      ...(has('key.pub') ? { key: `sigstore/${name}/key.pub` } : {}),
      artifact: has('artifact') ? `sigstore/${name}/artifact` : 'sigstore/a.txt',
      identity: has('identity') ? readFileSync(join(base, name, 'identity'), 'utf8').trim() : IDENTITY,
      issuer: has('issuer') ? readFileSync(join(base, name, 'issuer'), 'utf8').trim() : 'https://token.actions.githubusercontent.com',
    });
  }
  writeFileSync(join(to, 'index.json'), `${JSON.stringify({ cases }, null, 2)}\n`);
}

/**
 * Resolves `specifier` (a package name, maybe with a subpath) from `app`'s node_modules through the package's
 * `exports` map under `conditions` (in the map's order, as Node does); returns the file path.
 */
export function resolvePackage(app, specifier, conditions) {
  const parts = specifier.split('/');
  const name = specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
  const subpath = `.${specifier.slice(name.length)}`;
  const dir = join(app, 'node_modules', name);
  const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
  const pick = (target) => {
    if (typeof target === 'string') return target;
    if (target === null || typeof target !== 'object') return undefined;
    if (Array.isArray(target)) return target.map(pick).find(Boolean);
    for (const [key, value] of Object.entries(target)) {
      if (key === 'default' || conditions.includes(key)) {
        const found = pick(value);
        if (found) return found;
      }
    }
    return undefined;
  };
  let exports = manifest.exports;
  if (exports === undefined) return join(dir, subpath === '.' ? (manifest.module ?? manifest.main ?? 'index.js') : subpath);
  if (typeof exports === 'string' || Array.isArray(exports) || !Object.keys(exports).some((k) => k.startsWith('.'))) exports = { '.': exports };
  let target = exports[subpath] !== undefined ? pick(exports[subpath]) : undefined;
  if (target === undefined) {
    for (const [key, value] of Object.entries(exports)) {
      const star = key.indexOf('*');
      if (star < 0 || !subpath.startsWith(key.slice(0, star)) || !subpath.endsWith(key.slice(star + 1))) continue;
      const match = subpath.slice(star, subpath.length - (key.length - star - 1));
      target = pick(value)?.replaceAll('*', match);
      if (target) break;
    }
  }
  if (target === undefined) throw new Error(`${specifier}: not exported under conditions ${conditions.join(', ')}`);
  return join(dir, target);
}

// Strings are kept (a specifier is one), comments dropped (they may quote imports, as engine.js does).
const TOKENS = /("(?:\\.|[^"\\\n])*"|'(?:\\.|[^'\\\n])*'|`(?:\\.|[^`\\])*`)|\/\*[\s\S]*?\*\/|\/\/[^\n]*/g;
const IMPORT_RE = [
  /^\s*(?:import|export)\s+(?:type\s+)?[^'";]*?\bfrom\s*['"]([^'"]+)['"]/gm,
  /^\s*import\s*['"]([^'"]+)['"]/gm,
  /\bimport\(\s*['"]([^'"]+)['"]\s*\)/g,
];

/** The import specifiers a JavaScript module's text names (static, side-effect and literal dynamic imports). */
export function importsOf(source) {
  const code = source.replace(TOKENS, (match, string) => string ?? '');
  const out = new Set();
  for (const re of IMPORT_RE) for (const m of code.matchAll(re)) out.add(m[1]);
  return [...out];
}

const isBare = (s) => !s.startsWith('.') && !s.startsWith('/') && !/^[a-z]+:/.test(s);

/**
 * Walks the module graph from `entries` (files in `app`) as a bundler would, resolving bare specifiers with
 * `conditions`. Returns every module file reached, for each bare specifier the file it resolves to, and
 * each bare import as an edge (importing file, specifier, file).
 */
export function moduleGraph(app, entries, conditions) {
  const files = new Set();
  const bare = new Map();
  const edges = [];
  const queue = [...entries];
  while (queue.length > 0) {
    const file = queue.pop();
    if (files.has(file)) continue;
    files.add(file);
    if (!file.endsWith('.js') && !file.endsWith('.mjs')) continue;
    for (const spec of importsOf(readFileSync(file, 'utf8'))) {
      if (spec.startsWith('node:')) continue;
      if (isBare(spec)) {
        const target = resolvePackage(app, spec, conditions);
        bare.set(spec, target);
        edges.push({ from: file, spec, to: target });
        queue.push(target);
      } else if (spec.startsWith('.')) {
        queue.push(resolve(dirname(file), spec));
      }
    }
  }
  return { files: [...files].sort(), bare, edges };
}

/** The app-relative, `/`-separated path of a file in the app (symlinked dependencies included). */
export function appPath(app, file) {
  return relative(app, file).split(sep).join(posix.sep);
}

const TYPES = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.mjs': 'text/javascript; charset=utf-8', '.json': 'application/json', '.wasm': 'application/wasm', '.css': 'text/css' };

/**
 * A static file server for `dir` on 127.0.0.1 (a random free port). `transform(path, bytes)` may rewrite a
 * response (the harness injects import maps into pages). Returns { url, close }.
 */
export async function serve(dir, transform = (_path, bytes) => bytes) {
  const server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    if (path === '/favicon.ico') {
      res.writeHead(204).end();
      return;
    }
    const file = join(dir, path.endsWith('/') ? `${path}index.html` : path);
    if (!file.startsWith(dir) || !existsSync(file) || !statSync(file).isFile()) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
      return;
    }
    const body = transform(path, readFileSync(file));
    res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream', 'cache-control': 'no-store' }).end(body);
  });
  await new Promise((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address();
  return { url: `http://127.0.0.1:${port}`, port, close: () => new Promise((done) => server.close(done)) };
}

/** A free TCP port on 127.0.0.1 (for a server the harness starts, such as workerd). */
export async function freePort() {
  const server = createTcpServer();
  await new Promise((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address();
  await new Promise((done) => server.close(done));
  return port;
}

/** Every file under `dir`, relative and `/`-separated. */
export function listFiles(dir, base = dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? listFiles(join(dir, e.name), base) : [relative(base, join(dir, e.name)).split(sep).join('/')],
  );
}

/**
 * The count each harness keeps and finish() reads. `check(name, ok, detail)` prints an `ok`/`FAIL` line and
 * counts it; `suite(results, prefix)` checks the results the conformance suite returns (skipped ones counted
 * apart); `examples(checks, prefix, context)` runs an example's named checks, each a check of its own.
 */
export function tally() {
  const counts = { passed: 0, failed: 0, skipped: 0 };
  const check = (name, ok, detail = '') => {
    if (ok) counts.passed++;
    else counts.failed++;
    console.log(`${ok ? 'ok  ' : 'FAIL'} ${name}${detail ? `: ${detail}` : ''}`);
  };
  const suite = (results, prefix = '') => {
    for (const r of results) {
      if (r.outcome === 'skipped') counts.skipped++;
      else check(`${prefix}${r.group}: ${r.name}`, r.outcome === 'passed', r.error);
    }
    // Every group that must have run did, all its cases passing: the suite's own and the vectors copied in.
    for (const { group, count, what } of requiredRuns()) {
      const ran = results.filter((r) => r.group === group && r.outcome === 'passed').length;
      check(`${prefix}${group}: ${what} ran`, ran === count && count > 0, `${ran} of ${count} passed`);
    }
  };
  const examples = async (checks, prefix, context) => {
    for (const [name, fn] of checks) {
      try {
        await fn(context);
        check(`${prefix}${name}`, true);
      } catch (error) {
        check(`${prefix}${name}`, false, error.message);
      }
    }
  };
  return { counts, check, suite, examples };
}

/** Each field's median over `runs` (cold-start timings: one object a run, the same fields in each). */
export function medians(runs) {
  const median = (key) => runs.map((r) => r[key]).sort((a, b) => a - b)[Math.floor(runs.length / 2)];
  return Object.fromEntries(Object.keys(runs[0]).map((k) => [k, median(k)]));
}

/** Prints the closing line CI reads and exits non-zero on any failure (or when nothing ran). */
export function finish(runtime, { passed, failed, skipped = 0 }) {
  if (process.env.IN_TOTO_KEEP_APP === '1') console.log(`kept: ${apps.join(' ')}`);
  else for (const app of apps) rmSync(app, { recursive: true, force: true });
  console.log(`${runtime}: ${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
  process.exit(failed > 0 || passed === 0 ? 1 : 0);
}
