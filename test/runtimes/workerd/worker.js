// A Worker that verifies a supply chain posted to it and answers with the verdict as JSON; it also runs
// the whole conformance suite in workerd. scripts/runtimes/workerd.mjs serves it with the `workerd` binary,
// with the package as the `workerd` condition resolves it (its engine.wasm imported as a module).
//
//   POST /verify        multipart/form-data: layout (file), layout-key (file, repeatable; optional
//                       layout-key-type, same order), link (file, repeatable; its filename is its path in the
//                       link directory, e.g. build.1a2b3c4d.link or sub.5e6f7a8b/step.0a1b2c3d.link),
//                       inspection-link (file, repeatable: <inspection>.link), skip-inspections=1,
//                       product (file: checked against the chain's final products)
//                       -> 200 { passed, failures, warnings, product? } (the verdict: pass or fail)
//   POST /sigstore      { bundle, root, artifact: base64, san, issuer } -> { verified, signer | error }: one Sigstore bundle
//   POST /conformance   { files: { <path under vectors/>: base64 } } -> the suite's results
import * as lib from 'in-toto-wasm';
import * as sigstore from 'in-toto-wasm/sigstore';
import * as attestations from 'in-toto-wasm/attestations';
import { conformanceCases, runCases } from '../../conformance/suite.js';

const bytesOf = async (file) => new Uint8Array(await file.arrayBuffer());

function fromBase64(text) {
  const bin = atob(text);
  return Uint8Array.from(bin, (c) => c.charCodeAt(0));
}

async function sha256Hex(bytes) {
  return [...new Uint8Array(await crypto.subtle.digest('SHA-256', bytes))].map((b) => b.toString(16).padStart(2, '0')).join('');
}

async function verifyPosted(request) {
  // Reading keys is synchronous and needs the engine: load it (once) first.
  await lib.initEngine();
  const form = await request.formData();
  const layout = form.get('layout');
  if (!(layout instanceof File)) return Response.json({ error: 'a layout file is required (field "layout")' }, { status: 400 });
  const types = form.getAll('layout-key-type').map(String);
  const layoutKeys = await Promise.all(
    form.getAll('layout-key').map(async (file, i) => lib.loadPublicKey(await bytesOf(file), types[i] ? { keyType: types[i] } : {})),
  );
  const links = new Map();
  for (const file of form.getAll('link')) links.set(file.name, await bytesOf(file));
  const inspectionLinks = new Map();
  for (const file of form.getAll('inspection-link')) inspectionLinks.set(file.name, await bytesOf(file));
  const inspections = form.get('skip-inspections') === '1' ? 'skip' : inspectionLinks.size > 0 ? { links: inspectionLinks } : undefined;
  const verdict = await lib.verify({ layout: await bytesOf(layout), layoutKeys, links, ...(inspections ? { inspections } : {}) });
  const body = { passed: verdict.passed, failures: verdict.failures, warnings: verdict.warnings, ...(verdict.summary ? { summary: verdict.summary } : {}) };
  const product = form.get('product');
  if (product instanceof File) {
    const found = await sha256Hex(await bytesOf(product));
    const expected = verdict.summary?.products[product.name]?.sha256;
    body.product = { name: product.name, sha256: found, matches: expected === found, ...(expected ? { expected } : {}) };
    if (verdict.passed && expected !== found) body.passed = false;
  }
  return Response.json(body);
}

async function conformance(request) {
  const { files } = await request.json();
  const read = async (path) => {
    if (!(path in files)) throw new Error(`no vector file ${path}`);
    return fromBase64(files[path]);
  };
  return Response.json(await runCases(await conformanceCases({ ...lib, sigstore, attestations }, read)));
}

/** POST /sigstore { bundle, root, artifact (base64), san, issuer } -> { verified, signer?, error? }: one Sigstore bundle. */
async function verifyBundle(request) {
  await lib.initEngine();
  const { bundle, root, artifact, san, issuer } = await request.json();
  try {
    const verified = await sigstore.verifySigstoreBundle(sigstore.readSigstoreBundle(bundle), sigstore.readTrustedRoot(root), { bytes: fromBase64(artifact) }, { identity: { san, issuer } });
    return Response.json({ verified: true, signer: verified.signer.identity?.uris ?? [] });
  } catch (error) {
    if (error?.name === 'InTotoError') return Response.json({ verified: false, error: error.message });
    throw error;
  }
}

export default {
  async fetch(request) {
    const { pathname } = new URL(request.url);
    try {
      if (request.method === 'POST' && pathname === '/verify') return await verifyPosted(request);
      if (request.method === 'POST' && pathname === '/conformance') return await conformance(request);
      if (request.method === 'POST' && pathname === '/sigstore') return await verifyBundle(request);
      return new Response('POST /verify, /sigstore or /conformance\n', { status: 404 });
    } catch (error) {
      // Bad input (a key file that is not a key, ...) is the client's problem; anything else is ours.
      if (error?.name === 'InTotoError') return Response.json({ error: error.message, code: error.code }, { status: 400 });
      return Response.json({ error: String(error?.stack ?? error) }, { status: 500 });
    }
  },
};
