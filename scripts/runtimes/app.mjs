// Shared by the runtime harnesses (deno.mjs, chromium.mjs, workerd.mjs, node.mjs): the package as a user
// gets it, and the small tools each runtime needs around it. Offline: only this checkout and node_modules.
//
// prepareApp() packs this package with `npm pack` (so `files` and the `exports` map are what is tested),
// unpacks it into <tmp>/node_modules/in-toto-wasm beside its dependencies, and copies in the conformance
// suite, its vectors, the runtime harnesses and the examples, byte for byte and at the same paths as here
// (test/conformance, test/runtimes, examples). Each runtime then imports 'in-toto-wasm' and gets the entry
// its own condition selects.
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, realpathSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { createServer as createTcpServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, extname, join, posix, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

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
export function prepareApp() {
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
  if (process.env.IN_TOTO_SIGSTORE_VECTORS) copySigstoreVectors(resolve(process.env.IN_TOTO_SIGSTORE_VECTORS), join(app, 'test/conformance/vectors/sigstore'));
  return app;
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
    // Given the Sigstore vectors, their cases must have run (140: 70 cases, by file and by digest).
    if (process.env.IN_TOTO_SIGSTORE_VECTORS) {
      const ran = results.filter((r) => r.group === 'sigstore' && r.outcome === 'passed').length;
      check(`${prefix}sigstore: the sigstore-conformance cases ran`, ran === 140, `${ran} of 140 passed`);
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
