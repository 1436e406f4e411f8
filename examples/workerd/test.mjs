// Tests of the Worker example, run by scripts/runtimes/workerd.mjs in workerd: the origin is a node server on
// 127.0.0.1 serving releases made from the conformance vectors; the Worker is given as an external service.
import { createHash } from 'node:crypto';
import { cpSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Starts the origin and returns the workerd config pieces for the example Worker. */
export async function setup({ app, vectors, workerModules, serve, freePort, compatibilityDate, flags }) {
  // Releases: a good one, one whose product was replaced after packaging, and a good chain whose product
  // on the origin is someone else's (served with inspections skipped, so only the digest check stands).
  const releases = mkdtempSync(join(tmpdir(), 'worker-origin-'));
  const scenario = (id) => join(vectors, 'scenarios', id);
  cpSync(scenario('demo'), join(releases, 'good'), { recursive: true });
  cpSync(scenario('demo-tampered-product'), join(releases, 'tampered'), { recursive: true });
  cpSync(scenario('demo'), join(releases, 'swapped'), { recursive: true });
  cpSync(join(scenario('demo-tampered-product'), 'foo.tar.gz'), join(releases, 'swapped', 'foo.tar.gz'));
  const origin = await serve(releases);
  const port = await freePort();
  const key = JSON.stringify(readFileSync(join(scenario('demo'), 'keys', 'owner.pub'), 'utf8'));
  const worker = (name, skip) => `const ${name} :Workerd.Worker = (
  modules = [
    ${workerModules(app, 'examples/workerd/worker.js')}
  ],
  compatibilityDate = "${compatibilityDate}",
  compatibilityFlags = ${JSON.stringify(flags)},
  bindings = [ (name = "ORIGIN", service = "origin"), (name = "LAYOUT_KEY", text = ${key})${skip ? ', (name = "SKIP_INSPECTIONS", text = "1")' : ''} ],
);`;
  const skipPort = await freePort();
  return {
    services: `(name = "example", worker = .example), (name = "exampleSkip", worker = .exampleSkip), (name = "origin", external = (address = "127.0.0.1:${origin.port}", http = ()))`,
    sockets: `(name = "example-http", address = "127.0.0.1:${port}", http = (), service = "example"), (name = "example-skip-http", address = "127.0.0.1:${skipPort}", http = (), service = "exampleSkip")`,
    workers: `${worker('example', false)}\n${worker('exampleSkip', true)}`,
    url: `http://127.0.0.1:${port}`,
    skipUrl: `http://127.0.0.1:${skipPort}`,
    releases,
    close: () => origin.close(),
  };
}

const sha256 = (bytes) => createHash('sha256').update(bytes).digest('hex');

export const exampleChecks = [
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
