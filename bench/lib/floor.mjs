#!/usr/bin/env node
// The floor: the work no verifier of these files can avoid, in a fresh Node process.
//   node floor.mjs [--mode one|pool|threads|threads-pool] <layout> <layout-key.pub> <link-dir>
// For the layout and each step's link (`<step>.<keyid8>.link`, for every authorized key): read the file
// straight into the engine's memory (docs/ABI.md: input_ptr, then readSync into that region), parse it
// strictly and write the canonical bytes of `signed` (canonicalize, select = 1), and verify the signature
// over those bytes with node:crypto. No JSON.parse of the links, no artifact tables, no rules: what is left
// between this and a verifier is the verifier's own work. Exit 0 when every signature holds. Only the layout
// (small) is JSON.parse'd, for its keys and steps.
//
// Modes (issue #20, item 2: the parallel floors):
// - `one` (default): one thread; each signature checked in place over the engine's output, synchronously.
// - `pool`: one engine; each signature checked on libuv's thread pool (node:crypto's callback form, which
//   copies the canonical bytes), while the main thread reads and canonicalizes the next file.
// - `threads`: one worker thread beside the main thread, each with its own engine instance (the compiled
//   module is shared); the links are split between the two by size (largest first to the less loaded),
//   each thread checking its own signatures in place.
// - `threads-pool`: both of the above.
import { closeSync, fstatSync, openSync, readFileSync, readSync, statSync } from 'node:fs';
import { createPublicKey, verify, constants } from 'node:crypto';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';

const MODES = ['one', 'pool', 'threads', 'threads-pool'];

function engine(module) {
  return new WebAssembly.Instance(module, { env: { abort() { throw new Error('engine abort'); } } }).exports;
}

/** Reads `path` into engine memory and canonicalizes its `signed`; returns a view of the canonical bytes. */
function signedBytes(ex, path) {
  const fd = openSync(path, 'r');
  try {
    const len = fstatSync(fd).size;
    const ptr = ex.input_ptr(len);
    const into = new Uint8Array(ex.memory.buffer, ptr, len);
    for (let at = 0; at < len;) at += readSync(fd, into, at, len - at, at);
    // The signatures are at the start; copied out now, as canonicalize may grow (and detach) memory.
    const head = into.slice(0, Math.min(len, 4096));
    const code = ex.canonicalize(len, 1);
    if (code !== 0) throw new Error(`${path}: engine error ${code}`);
    return { view: new Uint8Array(ex.memory.buffer, ex.output_ptr(), ex.output_len()), head };
  } finally {
    closeSync(fd);
  }
}

/** The first signature by `keyid` in a Metablock as the reference writes it ("signatures" sorts before "signed"). */
function signatureOf(head, keyid) {
  const text = Buffer.from(head).toString('latin1');
  const at = text.indexOf(`"keyid": "${keyid}"`);
  const sig = at < 0 ? null : /"sig": "([0-9a-f]+)"/.exec(text.slice(at));
  if (!sig) throw new Error(`no signature by ${keyid}`);
  return Buffer.from(sig[1], 'hex');
}

function keyObject(dict) {
  if (dict.keytype === 'ed25519') {
    return createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: Buffer.from(dict.keyval.public, 'hex').toString('base64url') }, format: 'jwk' });
  }
  return createPublicKey(dict.keyval.public);
}

/** Checks one signature: synchronously in place, or (with `pooled`) on libuv's pool, resolving when it holds. */
function check(dict, data, sig, pooled) {
  const key = keyObject(dict);
  const args = dict.keytype === 'ed25519'
    ? [null, data, key, sig]
    : dict.keytype === 'rsa'
      ? ['sha256', data, { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_AUTO }, sig]
      : [dict.scheme.endsWith('384') ? 'sha384' : 'sha256', data, { key, dsaEncoding: 'der' }, sig];
  const fail = () => new Error('a signature does not verify');
  if (!pooled) {
    if (!verify(...args)) throw fail();
    return Promise.resolve();
  }
  return new Promise((resolve, reject) => verify(...args, (error, ok) => (error ? reject(error) : ok ? resolve() : reject(fail()))));
}

/** Verifies each job ({file, keyid, dict}) in turn in this thread's engine. */
async function run(ex, jobs, pooled) {
  const pending = [];
  for (const { file, keyid, dict } of jobs) {
    const { view, head } = signedBytes(ex, file);
    pending.push(check(dict, view, signatureOf(head, keyid), pooled));
  }
  await Promise.all(pending);
}

if (!isMainThread) {
  const { module, jobs, pooled } = workerData;
  await run(engine(module), jobs, pooled);
  parentPort.postMessage('ok');
} else {
  const argv = process.argv.slice(2);
  let mode = 'one';
  if (argv[0] === '--mode') {
    mode = argv[1];
    argv.splice(0, 2);
  }
  if (!MODES.includes(mode)) throw new Error(`--mode must be one of ${MODES.join(', ')}`);
  const [layoutPath, keyPath, linkDir = '.'] = argv;
  const pooled = mode.endsWith('pool');
  const threads = mode.startsWith('threads');
  const module = new WebAssembly.Module(readFileSync(join(dirname(fileURLToPath(import.meta.url)), '../../build/engine.wasm')));
  const ex = engine(module);

  const ownerDict = JSON.parse(readFileSync(keyPath, 'utf8'));
  const layout = JSON.parse(readFileSync(layoutPath, 'utf8'));
  const jobs = [];
  for (const step of layout.signed.steps) {
    for (const keyid of step.pubkeys) {
      const file = join(linkDir, `${step.name}.${keyid.slice(0, 8)}.link`);
      jobs.push({ file, keyid, dict: layout.signed.keys[keyid], size: statSync(file).size });
    }
  }
  // The split: largest first, each to the thread with fewer bytes so far; the main thread also has the layout.
  const mine = [];
  const theirs = [];
  if (threads) {
    let load = [statSync(layoutPath).size, 0];
    for (const job of [...jobs].sort((a, b) => b.size - a.size)) {
      const to = load[0] <= load[1] ? 0 : 1;
      (to === 0 ? mine : theirs).push(job);
      load[to] += job.size;
    }
  } else {
    mine.push(...jobs);
  }
  const worker = theirs.length === 0 ? null : new Promise((resolve, reject) => {
    const w = new Worker(fileURLToPath(import.meta.url), { workerData: { module, jobs: theirs, pooled } });
    w.once('message', resolve);
    w.once('error', reject);
    w.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`worker exited with ${code}`))));
  });
  const { view, head } = signedBytes(ex, layoutPath);
  await check(ownerDict, view, signatureOf(head, layout.signatures[0].keyid), pooled);
  await Promise.all([run(ex, mine, pooled), worker]);
}
