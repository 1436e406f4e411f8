// Tests of the Worker example, run by scripts/runtimes/workerd.mjs in workerd, with the workerd config this
// directory ships (config.capnp): once exactly as its README runs it, with its own origin (the conformance
// vectors' scenarios); and in the harness's config, which imports its Worker and module list, with an origin
// directory of releases made from the vectors, and with inspections skipped.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** `workerd serve examples/workerd/config.capnp` in `app`, as the README runs it, on a free port; resolves once it answers. */
async function serveAsDocumented(app, workerd, freePort) {
  const port = await freePort();
  const child = spawn(workerd, ['serve', 'examples/workerd/config.capnp', '--socket-addr', `http=127.0.0.1:${port}`], { cwd: app, stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  child.stdout.on('data', (d) => (log += d));
  child.stderr.on('data', (d) => (log += d));
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 300 && child.exitCode === null; i++) {
    try {
      await fetch(`${url}/`);
      return { url, close: () => child.kill('SIGTERM') };
    } catch {
      await new Promise((done) => setTimeout(done, 50));
    }
  }
  child.kill('SIGTERM');
  throw new Error(`workerd serve examples/workerd/config.capnp did not start: ${log}`);
}

/** Starts the README's workerd and returns the harness's config pieces for the example Worker. */
export async function setup({ app, vectors, workerd, compatibilityDate, flags, freePort }) {
  // config.capnp runs the example from a clone (dist/ and build/ at the root): the packed package, laid out so.
  for (const dir of ['dist', 'build']) {
    if (!existsSync(join(app, dir))) symlinkSync(join(app, 'node_modules/in-toto-wasm', dir), join(app, dir), 'dir');
  }
  // Releases: a good one, one whose product was replaced after packaging, and a good chain whose product
  // on the origin is someone else's (served with inspections skipped, so only the digest check stands).
  const releases = mkdtempSync(join(tmpdir(), 'worker-origin-'));
  const scenario = (id) => join(vectors, 'scenarios', id);
  cpSync(scenario('demo'), join(releases, 'good'), { recursive: true });
  cpSync(scenario('demo-tampered-product'), join(releases, 'tampered'), { recursive: true });
  cpSync(scenario('demo'), join(releases, 'swapped'), { recursive: true });
  cpSync(join(scenario('demo-tampered-product'), 'foo.tar.gz'), join(releases, 'swapped', 'foo.tar.gz'));
  const documented = await serveAsDocumented(app, workerd, freePort).catch((error) => ({ error, close() {} }));
  const port = await freePort();
  const skipPort = await freePort();
  const key = JSON.stringify(readFileSync(join(scenario('demo'), 'keys', 'owner.pub'), 'utf8'));
  // Compatibility flags cannot be changed by inheriting a Worker: with flags, its modules under them.
  const withFlags = (skip) => `(
  modules = Example.modules,
  compatibilityDate = "${compatibilityDate}",
  compatibilityFlags = ${JSON.stringify(flags)},
  bindings = [ (name = "ORIGIN", service = "origin"), (name = "LAYOUT_KEY", text = ${key})${skip ? ', (name = "SKIP_INSPECTIONS", text = "1")' : ''} ],
)`;
  return {
    imports: 'using Example = import "examples/workerd/config.capnp";',
    services: `(name = "example", worker = ${flags.length === 0 ? 'Example.verifier' : '.example'}), (name = "exampleSkip", worker = .exampleSkip), (name = "origin", disk = (path = ${JSON.stringify(releases)}))`,
    sockets: `(name = "example-http", address = "127.0.0.1:${port}", http = (), service = "example"), (name = "example-skip-http", address = "127.0.0.1:${skipPort}", http = (), service = "exampleSkip")`,
    workers: `${flags.length === 0 ? '' : `const example :Workerd.Worker = ${withFlags(false)};\n`}const exampleSkip :Workerd.Worker = ${withFlags(true)};`,
    url: `http://127.0.0.1:${port}`,
    skipUrl: `http://127.0.0.1:${skipPort}`,
    documentedUrl: documented.url,
    documentedError: documented.error,
    app,
    releases,
    close: () => {
      documented.close();
      rmSync(releases, { recursive: true, force: true });
    },
  };
}

const sha256 = (bytes) => createHash('sha256').update(bytes).digest('hex');

export const exampleChecks = [
  ['runs as its README says (`npx workerd serve examples/workerd/config.capnp`)', async ({ documentedUrl, documentedError }) => {
    if (documentedError) throw documentedError;
    const good = await fetch(`${documentedUrl}/demo/foo.tar.gz`);
    await good.arrayBuffer();
    if (good.status !== 200 || !good.headers.get('x-in-toto-verified')?.startsWith('sha256:')) throw new Error(`demo: HTTP ${good.status}`);
    const bad = await fetch(`${documentedUrl}/demo-tampered-product/foo.tar.gz`);
    const body = await bad.json();
    if (bad.status !== 409 || !body.failures?.some((f) => f.code === 'RULE_DISALLOW')) throw new Error(`demo-tampered-product: HTTP ${bad.status}: ${JSON.stringify(body).slice(0, 400)}`);
  }],
  ['wrangler.toml gives wrangler what config.capnp gives workerd', async ({ app }) => {
    // wrangler is not installed here: the values it would read are checked instead.
    const dir = join(app, 'examples/workerd');
    const toml = readFileSync(join(dir, 'wrangler.toml'), 'utf8').replace(/^\s*#.*$/gm, '');
    const value = (key) => toml.match(new RegExp(`^${key} = (?:"([^"]*)"|'([^']*)'|(true|false))$`, 'm'))?.slice(1).find((v) => v !== undefined);
    const problems = [];
    if (value('main') !== 'worker.js') problems.push(`main is ${value('main')}`);
    if (!/\[\[rules\]\]\s+type = "CompiledWasm"\s+globs = \["\*\*\/\*\.wasm"\]/.test(toml)) problems.push('no CompiledWasm rule for **/*.wasm');
    const owner = readFileSync(join(app, 'test/conformance/vectors/scenarios/demo/keys/owner.pub'), 'utf8');
    if (value('LAYOUT_KEY') !== owner) problems.push('LAYOUT_KEY is not the demo owner\'s key');
    const assets = join(dir, value('directory') ?? '');
    if (!existsSync(join(assets, 'demo/root.layout')) || !existsSync(join(assets, 'demo-tampered-product/root.layout'))) problems.push(`assets directory ${value('directory')} has no demo releases`);
    if (value('binding') !== 'ORIGIN' || value('run_worker_first') !== 'true') problems.push('the assets are not the ORIGIN binding behind the Worker');
    if (!/^compatibility_date = "\d{4}-\d{2}-\d{2}"$/m.test(toml)) problems.push('no compatibility_date');
    if (problems.length > 0) throw new Error(problems.join('; '));
  }],
  ['serves a verified artifact', async ({ url, releases }) => {
    const response = await fetch(`${url}/good/foo.tar.gz`);
    const body = new Uint8Array(await response.arrayBuffer());
    if (response.status !== 200) throw new Error(`HTTP ${response.status}: ${new TextDecoder().decode(body)}`);
    const expected = sha256(readFileSync(join(releases, 'good', 'foo.tar.gz')));
    if (sha256(body) !== expected || response.headers.get('x-in-toto-verified') !== `sha256:${expected}`) throw new Error('served other bytes');
  }],
  ['refuses an artifact replaced after packaging, with the failing rule', async ({ url }) => {
    const response = await fetch(`${url}/tampered/foo.tar.gz`);
    const body = await response.json();
    const failure = body.failures?.find((f) => f.code === 'RULE_DISALLOW' && f.step === 'untar');
    if (response.status !== 409 || !failure || !failure.artifacts.includes('foo.tar.gz')) throw new Error(`HTTP ${response.status}: ${JSON.stringify(body).slice(0, 400)}`);
  }],
  ['refuses someone else\'s artifact when inspections are skipped', async ({ skipUrl }) => {
    const response = await fetch(`${skipUrl}/swapped/foo.tar.gz`);
    const body = await response.json();
    if (response.status !== 409 || !/not what the supply chain produced/.test(body.reason) || !body.warnings.some((w) => w.code === 'INSPECTIONS_SKIPPED')) {
      throw new Error(`HTTP ${response.status}: ${JSON.stringify(body).slice(0, 400)}`);
    }
  }],
  ['refuses what the chain did not produce, and paths that leave the release', async ({ url }) => {
    const layout = await fetch(`${url}/good/root.layout`);
    if (layout.status !== 409) throw new Error(`root.layout: HTTP ${layout.status}`);
    const escape = await fetch(`${url}/good/..%2f..%2fetc/passwd`);
    if (escape.status !== 400) throw new Error(`traversal: HTTP ${escape.status}`);
  }],
];
