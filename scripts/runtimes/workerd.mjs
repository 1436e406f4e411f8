#!/usr/bin/env node
// The conformance suite, a verifying Worker and the Worker example in Cloudflare's workerd (the `workerd` npm
// package's binary, on 127.0.0.1). The Worker's modules are the packed package as the `workerd` condition
// resolves it, listed in a generated workerd config the way a bundler would (engine.wasm as a compiled
// module: workerd refuses to compile WebAssembly from bytes). The Worker example runs with the config it ships
// (examples/workerd/config.capnp), whose module list this script writes: `--update-example`. Run twice:
// without compatibility flags and with nodejs_compat. Prints `workerd: N passed, N failed` and exits
// non-zero on any failure.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, posix } from 'node:path';
import { appPath, findBinary, finish, freePort, listFiles, moduleGraph, PACKAGE, prepareApp, root, tally } from './app.mjs';

const WORKERD = findBinary(['@cloudflare/workerd-linux-64/bin/workerd', '@cloudflare/workerd-linux-arm64/bin/workerd', 'workerd/bin/workerd']);
// wrangler's conditions for Workers.
const CONDITIONS = ['workerd', 'worker', 'browser', 'import', 'default'];
const COMPATIBILITY_DATE = '2025-09-01';

const app = await prepareApp();
const { checkVerdict } = await import(join(root, 'test/conformance/suite.js'));

/**
 * The modules of a workerd Worker whose main module is `main` (a file in `dir`), as a bundler would resolve
 * them: `{ name, wasm?, file?, code? }` each, the main module first (workerd runs the first one listed).
 * `rename` maps a file's `dir`-relative path to its module name.
 */
function moduleEntries(dir, main, rename = (path) => path) {
  const graph = moduleGraph(dir, [join(dir, main)], CONDITIONS);
  const name = (file) => rename(appPath(dir, file));
  const entries = [];
  const files = [join(dir, main), ...graph.files.filter((f) => f !== join(dir, main))];
  for (const file of files) entries.push({ name: name(file), wasm: file.endsWith('.wasm'), file: name(file) });
  // workerd resolves every specifier against the importing module's name, bare ones too: for each bare
  // import, a module of that name beside the importer re-exports the file the exports map resolves it to.
  const shims = new Map();
  for (const { from, spec, to } of graph.edges) {
    const shim = posix.join(posix.dirname(name(from)), spec);
    let target = posix.relative(posix.dirname(shim), name(to));
    if (!target.startsWith('.')) target = `./${target}`;
    shims.set(shim, `export * from ${JSON.stringify(target)};`);
  }
  for (const [shim, code] of [...shims].sort(([a], [b]) => (a < b ? -1 : 1))) entries.push({ name: shim, code });
  return entries;
}

/** A module entry in workerd's config syntax, its file embedded by the path `embed` gives. */
const moduleLine = ({ name, wasm, file, code }, embed = (f) => f) =>
  file === undefined
    ? `(name = ${JSON.stringify(name)}, esModule = ${JSON.stringify(code)})`
    : `(name = ${JSON.stringify(name)}, ${wasm ? 'wasm' : 'esModule'} = embed ${JSON.stringify(embed(file))})`;

/** The `modules` list of a workerd Worker whose main module is `main`, as a bundler would resolve it. */
export function workerModules(dir, main) {
  return moduleEntries(dir, main).map((entry) => moduleLine(entry)).join(',\n    ');
}

// examples/workerd/config.capnp runs the Worker example from a clone of this repository, after `npm ci`: the
// package is the clone itself (dist/, build/engine.wasm) and its dependencies are the clone's node_modules.
// Its `modules` constant is generated here, from the packed package (which has the clone's layout).
const EXAMPLE_CONFIG = 'examples/workerd/config.capnp';
const MODULES_START = 'const modules :List(Workerd.Worker.Module) = [';

/** The text of the example config's `modules` constant, as worker.js and what it imports need it now. */
function exampleModules(dir) {
  const here = posix.dirname(EXAMPLE_CONFIG);
  const entries = moduleEntries(dir, `${here}/worker.js`, (path) => path.replace(new RegExp(`^node_modules/${PACKAGE}/`), ''));
  const lines = entries.map((entry) => `  ${moduleLine(entry, (file) => posix.relative(here, file))},`);
  return `${MODULES_START}\n${lines.join('\n')}\n];\n`;
}

/** `text` with its `modules` constant replaced by `modules` (everything from the constant's first line on). */
const withModules = (text, modules) => `${text.slice(0, text.indexOf(MODULES_START))}${modules}`;

if (process.argv.includes('--update-example')) {
  const path = join(root, EXAMPLE_CONFIG);
  writeFileSync(path, withModules(readFileSync(path, 'utf8'), exampleModules(app)));
  rmSync(app, { recursive: true, force: true });
  console.log(`${EXAMPLE_CONFIG}: modules written`);
  process.exit(0);
}

const { counts, check, suite, examples } = tally();

// The example's workerd config is run as shipped: its module list must be what worker.js imports today.
const exampleConfig = join(app, EXAMPLE_CONFIG);
if (existsSync(exampleConfig)) {
  const shipped = readFileSync(exampleConfig, 'utf8');
  const current = withModules(shipped, exampleModules(app)) === shipped;
  check('worker example: config.capnp lists the modules worker.js imports', current, current ? '' : 'out of date: run `node scripts/runtimes/workerd.mjs --update-example`');
}

const vectorsDir = join(app, 'test/conformance/vectors');
const vectorFiles = Object.fromEntries(listFiles(vectorsDir).map((f) => [f, readFileSync(join(vectorsDir, f)).toString('base64')]));
const { scenarios } = JSON.parse(readFileSync(join(vectorsDir, 'scenarios.json'), 'utf8'));

/** A scenario as a multipart form for POST /verify. */
function scenarioForm(s) {
  const at = (f) => readFileSync(join(vectorsDir, 'scenarios', s.id, f));
  const form = new FormData();
  form.append('layout', new Blob([at(s.layout)]), s.layout);
  for (const k of s.layoutKeys) {
    form.append('layout-key', new Blob([at(k.file)]), k.file);
    form.append('layout-key-type', k.keyType);
  }
  const prefix = s.linkDir === '.' ? '' : `${s.linkDir}/`;
  for (const f of s.files) {
    if (f.startsWith('inspections/')) form.append('inspection-link', new Blob([at(f)]), f.slice('inspections/'.length));
    else if (f.startsWith(prefix) && f.endsWith('.link')) form.append('link', new Blob([at(f)]), f.slice(prefix.length));
  }
  if (s.inspections === 'skip') form.append('skip-inspections', '1');
  if (s.product) form.append('product', new Blob([at(s.product)]), s.product);
  return form;
}

const configs = [
  { label: 'workerd', flags: [] },
  { label: 'workerd+nodejs_compat', flags: ['nodejs_compat'] },
];
const coldStarts = [];
const example = join(app, 'examples/workerd/test.mjs');
const exampleChecks = existsSync(example) ? (await import(example)).exampleChecks : [];

for (const { label, flags } of configs) {
  const port = await freePort();
  const exampleSetup = exampleChecks.length > 0 ? await (await import(example)).setup({ app, vectors: vectorsDir, workerd: WORKERD, freePort, compatibilityDate: COMPATIBILITY_DATE, flags }) : undefined;
  writeFileSync(
    join(app, 'config.capnp'),
    `using Workerd = import "/workerd/workerd.capnp";
${exampleSetup?.imports ?? ''}
const config :Workerd.Config = (
  services = [ (name = "verifier", worker = .verifier)${exampleSetup ? `, ${exampleSetup.services}` : ''} ],
  sockets = [ (name = "http", address = "127.0.0.1:${port}", http = (), service = "verifier")${exampleSetup ? `, ${exampleSetup.sockets}` : ''} ],
);
const verifier :Workerd.Worker = (
  modules = [
    ${workerModules(app, 'test/runtimes/workerd/worker.js')}
  ],
  compatibilityDate = "${COMPATIBILITY_DATE}",
  compatibilityFlags = ${JSON.stringify(flags)},
);
${exampleSetup?.workers ?? ''}
`,
  );
  const started = performance.now();
  const child = spawn(WORKERD, ['serve', 'config.capnp', '--verbose'], { cwd: app, env: { ...process.env, PWD: app }, stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  child.stdout.on('data', (d) => (log += d));
  child.stderr.on('data', (d) => (log += d));
  const base = `http://127.0.0.1:${port}`;
  try {
    // Ready when it answers.
    let ready = false;
    for (let i = 0; i < 300 && !ready && child.exitCode === null; i++) {
      try {
        await fetch(`${base}/`);
        ready = true;
      } catch {
        await new Promise((done) => setTimeout(done, 50));
      }
    }
    if (!ready) throw new Error(`workerd did not start: ${log}`);
    const startupMs = performance.now() - started;

    // Cold start: the first verification (engine instantiated on first use), then a warm one.
    const demo = scenarios.find((s) => s.id === 'demo');
    const timeVerify = async () => {
      const t = performance.now();
      const response = await fetch(`${base}/verify`, { method: 'POST', body: scenarioForm(demo) });
      const body = await response.json();
      return { ms: performance.now() - t, body };
    };
    const first = await timeVerify();
    const second = await timeVerify();
    check(`${label}: cold start, the demo chain verifies`, first.body.passed === true, JSON.stringify(first.body).slice(0, 500));
    const cold = { label, startupMs: Math.round(startupMs), firstVerifyRequestMs: Math.round(first.ms * 10) / 10, warmVerifyRequestMs: Math.round(second.ms * 10) / 10 };
    // The first Sigstore bundle this Worker verifies (its code first run, after the demo), then a warm one.
    const sigstoreIndex = join(vectorsDir, 'sigstore/index.json');
    if (existsSync(sigstoreIndex)) {
      const c = JSON.parse(readFileSync(sigstoreIndex, 'utf8')).cases.find((k) => k.name === 'happy-path-v0.3');
      const body = JSON.stringify({ bundle: readFileSync(join(vectorsDir, c.bundle), 'utf8'), root: readFileSync(join(vectorsDir, c.root), 'utf8'), artifact: readFileSync(join(vectorsDir, c.artifact)).toString('base64'), san: c.identity, issuer: c.issuer });
      const timeBundle = async () => {
        const t = performance.now();
        const result = await (await fetch(`${base}/sigstore`, { method: 'POST', headers: { 'content-type': 'application/json' }, body })).json();
        return { ms: performance.now() - t, result };
      };
      const firstBundle = await timeBundle();
      const warmBundle = await timeBundle();
      check(`${label}: a Sigstore bundle verifies in the Worker (POST /sigstore)`, firstBundle.result.verified === true && warmBundle.result.verified === true, JSON.stringify(firstBundle.result).slice(0, 300));
      Object.assign(cold, { firstBundleRequestMs: Math.round(firstBundle.ms * 10) / 10, warmBundleRequestMs: Math.round(warmBundle.ms * 10) / 10 });
    }
    coldStarts.push(cold);

    // The whole suite, inside the Worker.
    const response = await fetch(`${base}/conformance`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ files: vectorFiles }) });
    const result = await response.json();
    if (result.error) check(`${label}: conformance suite`, false, result.error);
    else {
      suite(result.results, `${label}: `);
    }

    // Every scenario posted to the verifying Worker, its verdict checked here.
    for (const s of scenarios) {
      const res = await fetch(`${base}/verify`, { method: 'POST', body: scenarioForm(s) });
      const verdict = await res.json();
      if (verdict.error) {
        check(`${label}: POST /verify ${s.id}`, false, verdict.error);
        continue;
      }
      const problem = await checkVerdict(s, verdict, undefined);
      const productOk = !s.product || !verdict.passed || verdict.product?.matches === true;
      check(`${label}: POST /verify ${s.id} (${s.expect})`, !problem && productOk, problem ?? (productOk ? '' : JSON.stringify(verdict.product)));
    }

    await examples(exampleChecks, `${label}: worker example: `, exampleSetup);
  } catch (error) {
    check(`${label}: harness`, false, error.stack ?? String(error));
  } finally {
    child.kill('SIGTERM');
    await exampleSetup?.close?.();
    if (counts.failed > 0) console.log(log.split('\n').filter((l) => !/^\s*$/.test(l)).slice(-30).join('\n'));
  }
}
console.log(`cold start (workerd): ${JSON.stringify(coldStarts)}`);
finish('workerd', counts);
