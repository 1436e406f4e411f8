// Inputs for the whole-process benchmarks, built once and cached under bench/.cache/ (not in git):
//   - demo/: the in-toto demo chain of scripts/demo.mjs (owner and bob ed25519, carol RSA 2048, keys made
//     by the reference's in-toto-keygen, links recorded by the reference's in-toto-run), with two layouts
//     signed by this library: root.layout (with the `untar` inspection) and root-noinspect.layout (without).
//   - chain-<N>/: a 3-step chain (fetch -> build -> package) over N source files; each step's link, recorded
//     by the reference's in-toto-run with `-m src -p src`, lists the N files as materials and as products
//     (2N artifacts, sha256 each; 23 MB at N = 100,000).
// Both verifiers read exactly the same files. A fixture is rebuilt when its `ok` marker is missing, was made
// by another fixture version, or its layout expires within 30 days.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const BENCH = join(dirname(fileURLToPath(import.meta.url)), '..');
export const ROOT = join(BENCH, '..');
export const CACHE = join(BENCH, '.cache');
const VERSION = 2;
const LIFETIME_DAYS = 400;

const dist = (file) => import(join(ROOT, 'dist', file));

function run(cmd, args, cwd) {
  return execFileSync(cmd, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 << 20 }).toString();
}

/** Makes sure Debian's in-toto 1.3.1 is installed (apt-get, as the README's setup does). */
export function ensureReference(log = () => {}) {
  const has = () => {
    try {
      run('in-toto-verify', ['--version']);
      return true;
    } catch {
      return false;
    }
  };
  if (has()) return;
  log('installing the reference (apt-get install in-toto)');
  run('apt-get', ['update', '-qq']);
  run('apt-get', ['install', '-y', '-qq', 'in-toto']);
  if (!has()) throw new Error('in-toto-verify is still missing after apt-get install in-toto');
}

export function referenceVersion() {
  try {
    return run('dpkg-query', ['-W', '-f', '${Version}', 'in-toto']).trim();
  } catch {
    return run('in-toto-verify', ['--version']).trim();
  }
}

function fresh(dir) {
  const marker = join(dir, 'ok');
  if (!existsSync(marker)) return false;
  try {
    const meta = JSON.parse(readFileSync(marker, 'utf8'));
    return meta.version === VERSION && Date.parse(meta.expires) > Date.now() + 30 * 86400e3;
  } catch {
    return false;
  }
}

function expiry() {
  return new Date(Date.now() + LIFETIME_DAYS * 86400e3).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function markFresh(dir, expires, extra = {}) {
  writeFileSync(join(dir, 'ok'), JSON.stringify({ version: VERSION, expires, ...extra }) + '\n');
}

async function writeLayout(file, layout, ownerFile) {
  const { createMetablock, loadPrivateKey, serializeEnvelope, signEnvelope, initEngine } = await dist('index.js');
  await initEngine();
  const owner = await loadPrivateKey(readFileSync(ownerFile), { keyType: 'ed25519' });
  writeFileSync(file, serializeEnvelope(await signEnvelope(createMetablock(layout), owner)));
}

async function publicKey(file, keyType) {
  const { loadPublicKey, initEngine } = await dist('index.js');
  await initEngine();
  return loadPublicKey(readFileSync(file), { keyType });
}

/**
 * The demo chain. Returns { dir, layouts: { inspect, noInspect }, args } where `dir` holds everything a
 * verifier needs (the inspection variant must run in a fresh copy: `tar xzf` writes foo.py into it).
 */
export async function demoFixture(log = () => {}) {
  const dir = join(CACHE, 'demo');
  const result = { dir, layouts: { inspect: 'root.layout', noInspect: 'root-noinspect.layout' }, key: 'owner.pub' };
  if (fresh(dir)) return result;
  log('building the demo chain (reference in-toto-keygen and in-toto-run)');
  rmSync(dir, { recursive: true, force: true });
  const work = join(dir, 'work');
  mkdirSync(work, { recursive: true });
  run('in-toto-keygen', ['-t', 'ed25519', 'owner'], work);
  run('in-toto-keygen', ['-t', 'ed25519', 'bob'], work);
  run('in-toto-keygen', ['-t', 'rsa', '-b', '2048', 'carol'], work);
  const { keyToDict } = await dist('index.js');
  const bob = await publicKey(join(work, 'bob.pub'), 'ed25519');
  const carol = await publicKey(join(work, 'carol.pub'), 'rsa');
  const expires = expiry();
  const steps = [
    { _type: 'step', name: 'write-code', threshold: 1, pubkeys: [bob.keyid], expected_command: ['vi'],
      expected_materials: [], expected_products: [['CREATE', 'foo.py'], ['DISALLOW', '*']] },
    { _type: 'step', name: 'package', threshold: 1, pubkeys: [carol.keyid], expected_command: ['tar', 'zcvf', 'foo.tar.gz', 'foo.py'],
      expected_materials: [['MATCH', 'foo.py', 'WITH', 'PRODUCTS', 'FROM', 'write-code'], ['DISALLOW', '*']],
      expected_products: [['CREATE', 'foo.tar.gz'], ['ALLOW', 'foo.py'], ['DISALLOW', '*']] },
  ];
  const inspect = [
    { _type: 'inspection', name: 'untar', run: ['tar', 'xzf', 'foo.tar.gz'],
      expected_materials: [['MATCH', 'foo.tar.gz', 'WITH', 'PRODUCTS', 'FROM', 'package'], ['ALLOW', 'owner.pub'], ['ALLOW', 'root.layout'],
        ['ALLOW', 'root-noinspect.layout'], ['DISALLOW', '*']],
      expected_products: [['MATCH', 'foo.py', 'WITH', 'PRODUCTS', 'FROM', 'write-code'], ['MATCH', 'foo.tar.gz', 'WITH', 'PRODUCTS', 'FROM', 'package'],
        ['ALLOW', 'owner.pub'], ['ALLOW', 'root.layout'], ['ALLOW', 'root-noinspect.layout'], ['DISALLOW', '*']] },
  ];
  const base = {
    _type: 'layout', expires,
    readme: 'in-toto demo: bob writes foo.py, carol packages it, the client unpacks and checks',
    keys: { [bob.keyid]: keyToDict(bob), [carol.keyid]: keyToDict(carol) },
    steps,
  };
  const client = join(dir, 'client');
  mkdirSync(client);
  await writeLayout(join(client, result.layouts.inspect), { ...base, inspect }, join(work, 'owner'));
  await writeLayout(join(client, result.layouts.noInspect), { ...base, inspect: [] }, join(work, 'owner'));
  copyFileSync(join(work, 'owner.pub'), join(client, 'owner.pub'));
  writeFileSync(join(work, 'foo.py'), 'print("hello world")\n');
  run('in-toto-run', ['-n', 'write-code', '-k', 'bob', '-t', 'ed25519', '-p', 'foo.py', '-x'], work);
  run('in-toto-run', ['-n', 'package', '-k', 'carol', '-m', 'foo.py', '-p', 'foo.tar.gz', '--', 'tar', 'zcvf', 'foo.tar.gz', 'foo.py'], work);
  for (const file of ['foo.tar.gz', `write-code.${bob.keyid.slice(0, 8)}.link`, `package.${carol.keyid.slice(0, 8)}.link`]) {
    copyFileSync(join(work, file), join(client, file));
  }
  markFresh(dir, expires);
  return result;
}

const STEPS = ['fetch', 'build', 'package'];

/** The rules of the N-artifact chain: the usual MATCH / DISALLOW hash chain, with and without IN prefixes. */
function chainSteps(keyids) {
  return [
    { _type: 'step', name: 'fetch', threshold: 1, pubkeys: [keyids[0]], expected_command: [],
      expected_materials: [['ALLOW', 'src/*'], ['DISALLOW', '*']],
      expected_products: [['MATCH', 'src/*', 'WITH', 'MATERIALS', 'FROM', 'fetch'], ['DISALLOW', '*']] },
    { _type: 'step', name: 'build', threshold: 1, pubkeys: [keyids[1]], expected_command: [],
      expected_materials: [['MATCH', '*', 'WITH', 'PRODUCTS', 'FROM', 'fetch'], ['DISALLOW', '*']],
      expected_products: [['MATCH', '*.c', 'IN', 'src', 'WITH', 'MATERIALS', 'IN', 'src', 'FROM', 'build'], ['DISALLOW', '*']] },
    { _type: 'step', name: 'package', threshold: 1, pubkeys: [keyids[2]], expected_command: [],
      expected_materials: [['MATCH', '*', 'IN', 'src', 'WITH', 'PRODUCTS', 'IN', 'src', 'FROM', 'build'], ['DISALLOW', '*']],
      expected_products: [['REQUIRE', 'src/d0/file0.c'], ['MATCH', 'src/*', 'WITH', 'PRODUCTS', 'FROM', 'build'], ['DISALLOW', '*']] },
  ];
}

/** The N-artifact chain; returns { dir, layout, key, linkFiles, linkBytes }. */
export async function chainFixture(n, log = () => {}) {
  const dir = join(CACHE, `chain-${n}`);
  if (!fresh(dir)) {
    log(`building the 3-step chain with N = ${n} (${n} files; reference in-toto-run records each step)`);
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    const dirs = Math.max(1, Math.min(256, Math.ceil(n / 100)));
    for (let d = 0; d < dirs; d++) mkdirSync(join(dir, 'src', `d${d}`), { recursive: true });
    for (let i = 0; i < n; i++) {
      writeFileSync(join(dir, 'src', `d${i % dirs}`, `file${i}.c`), `int f${i}(void) { return ${i}; }\n`);
    }
    run('in-toto-keygen', ['-t', 'ed25519', 'owner'], dir);
    const keyids = [];
    for (const [i, step] of STEPS.entries()) {
      const name = `functionary${i}`;
      run('in-toto-keygen', ['-t', 'ed25519', name], dir);
      keyids.push((await publicKey(join(dir, `${name}.pub`), 'ed25519')).keyid);
      const started = performance.now();
      run('in-toto-run', ['-n', step, '-k', name, '-t', 'ed25519', '-m', 'src', '-p', 'src', '-x'], dir);
      log(`  in-toto-run ${step}: ${((performance.now() - started) / 1000).toFixed(1)} s`);
    }
    const { keyToDict } = await dist('index.js');
    const keys = {};
    for (const i of STEPS.keys()) keys[keyids[i]] = keyToDict(await publicKey(join(dir, `functionary${i}.pub`), 'ed25519'));
    const expires = expiry();
    await writeLayout(join(dir, 'root.layout'), {
      _type: 'layout', expires, readme: `3-step chain over ${n} files`, keys, steps: chainSteps(keyids), inspect: [],
    }, join(dir, 'owner'));
    markFresh(dir, expires, { keyids });
  }
  const meta = JSON.parse(readFileSync(join(dir, 'ok'), 'utf8'));
  const linkFiles = STEPS.map((step, i) => `${step}.${meta.keyids[i].slice(0, 8)}.link`);
  const linkBytes = linkFiles.reduce((sum, f) => sum + readFileSync(join(dir, f)).length, 0);
  return { dir, layout: 'root.layout', key: 'owner.pub', linkFiles, linkBytes };
}

/**
 * A fingerprint of the code measured (every file under dist/ and build/engine.wasm), so that a run can
 * tell when the package was rebuilt while it ran.
 */
export function buildFingerprint() {
  const hash = createHash('sha256');
  const walk = (dir) => {
    for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith('.js')) hash.update(path).update(readFileSync(path));
    }
  };
  walk(join(ROOT, 'dist'));
  hash.update(readFileSync(join(ROOT, 'build/engine.wasm')));
  return hash.digest('hex').slice(0, 12);
}
