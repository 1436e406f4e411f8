#!/usr/bin/env node
// The floor: the work no verifier of these files can avoid, in a fresh Node process.
//   node floor.mjs <layout> <layout-key.pub> <link-dir>
// For the layout and each step's link (`<step>.<keyid8>.link`, for every authorized key): read the file
// straight into the engine's memory (docs/ABI.md: input_ptr, then readSync into that region), parse it
// strictly and write the canonical bytes of `signed` (canonicalize, select = 1), and verify the signature
// over those bytes with node:crypto, reading them in place. No JSON.parse of the links, no artifact
// tables, no rules: what is left between this and a verifier is the verifier's own work. Exit 0 when every
// signature holds. Only the layout (small) is JSON.parse'd, for its keys and steps.
import { closeSync, fstatSync, openSync, readFileSync, readSync } from 'node:fs';
import { createPublicKey, verify, constants } from 'node:crypto';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const [layoutPath, keyPath, linkDir = '.'] = process.argv.slice(2);
const wasm = join(dirname(fileURLToPath(import.meta.url)), '../../build/engine.wasm');
const instance = new WebAssembly.Instance(new WebAssembly.Module(readFileSync(wasm)), {
  env: { abort() { throw new Error('engine abort'); } },
});
const ex = instance.exports;

/** Reads `path` into engine memory and canonicalizes its `signed`; returns a view of the canonical bytes. */
function signedBytes(path) {
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

function check(key, dict, data, sig) {
  const ok = dict.keytype === 'ed25519'
    ? verify(null, data, key, sig)
    : dict.keytype === 'rsa'
      ? verify('sha256', data, { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_AUTO }, sig)
      : verify(dict.scheme.endsWith('384') ? 'sha384' : 'sha256', data, { key, dsaEncoding: 'der' }, sig);
  if (!ok) throw new Error('a signature does not verify');
}

const ownerDict = JSON.parse(readFileSync(keyPath, 'utf8'));
const layoutBytes = readFileSync(layoutPath);
const layout = JSON.parse(layoutBytes.toString('utf8'));
const { view, head } = signedBytes(layoutPath);
check(keyObject(ownerDict), ownerDict, view, signatureOf(head, layout.signatures[0].keyid));
const keys = new Map(Object.entries(layout.signed.keys).map(([id, dict]) => [id, { dict, key: keyObject(dict) }]));
for (const step of layout.signed.steps) {
  for (const keyid of step.pubkeys) {
    const file = join(linkDir, `${step.name}.${keyid.slice(0, 8)}.link`);
    const { view: data, head: start } = signedBytes(file);
    const { dict, key } = keys.get(keyid);
    check(key, dict, data, signatureOf(start, keyid));
  }
}
