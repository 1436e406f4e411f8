// A Worker that verifies an artifact's supply chain before serving it (Cloudflare Workers, workerd).
//
//   GET /<release>/<artifact>   fetches <release>/root.layout and the links it asks for from the origin,
//                               verifies them against the owner's key, fetches the artifact, and serves it
//                               only if the chain verifies and the artifact is what its last step produced.
//                               Otherwise 409 with the verdict as JSON, explained.
//
// Bindings: ORIGIN, the artifact store (a service binding, or any object with fetch()); LAYOUT_KEY, the
// project owner's public key (securesystemslib JSON or PEM text) you trust to sign layouts. Inspections
// cannot run in a Worker: their links are read pre-recorded from <release>/inspections/<name>.link, or
// skipped when SKIP_INSPECTIONS is "1" (then the artifact digest check is what stands in for them).
import { initEngine, loadPublicKey, verify } from 'in-toto-wasm';

/** One path segment or more, none of them empty, `.` or `..`. */
const SAFE_PATH = /^(?:[A-Za-z0-9_@%+=:,~-][A-Za-z0-9._@%+=:,~-]*\/)*[A-Za-z0-9_@%+=:,~-][A-Za-z0-9._@%+=:,~-]*$/;

async function sha256(bytes) {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes));
  return Array.from(digest, (b) => b.toString(16).padStart(2, '0')).join('');
}

function refuse(status, body) {
  return Response.json(body, { status, headers: { 'cache-control': 'no-store' } });
}

export default {
  async fetch(request, env) {
    if (request.method !== 'GET') return refuse(405, { error: 'GET /<release>/<artifact>' });
    const path = decodeURIComponent(new URL(request.url).pathname.slice(1));
    const slash = path.lastIndexOf('/');
    if (!SAFE_PATH.test(path) || slash < 0) return refuse(400, { error: 'expected /<release>/<artifact>' });
    const release = path.slice(0, slash);
    const artifact = path.slice(slash + 1);

    /** A file of the release from the origin; undefined when it has none. */
    const fromOrigin = async (file) => {
      if (!SAFE_PATH.test(file)) throw new Error(`refusing path ${JSON.stringify(file)}`);
      const response = await env.ORIGIN.fetch(new Request(`https://origin/${release}/${file}`));
      if (response.status === 404) return undefined;
      if (!response.ok) throw new Error(`origin: ${file}: HTTP ${response.status}`);
      return new Uint8Array(await response.arrayBuffer());
    };

    await initEngine();
    const layout = await fromOrigin('root.layout');
    if (!layout) return refuse(404, { error: `no layout for ${release}` });
    const verdict = await verify({
      layout,
      layoutKeys: [loadPublicKey(env.LAYOUT_KEY)],
      links: fromOrigin,
      inspections: env.SKIP_INSPECTIONS === '1' ? 'skip' : { links: (name) => fromOrigin(`inspections/${name}`) },
    });
    if (!verdict.passed) {
      return refuse(409, { served: false, reason: 'the supply chain does not verify', failures: verdict.failures, warnings: verdict.warnings });
    }
    const expected = verdict.summary?.products[artifact]?.sha256;
    if (expected === undefined) return refuse(409, { served: false, reason: `${artifact} is not a product of this supply chain` });
    const bytes = await fromOrigin(artifact);
    if (!bytes) return refuse(404, { error: `no ${artifact} in ${release}` });
    const found = await sha256(bytes);
    if (found !== expected) {
      return refuse(409, { served: false, reason: `${artifact} is not what the supply chain produced`, expected: `sha256:${expected}`, found: `sha256:${found}`, warnings: verdict.warnings });
    }
    return new Response(bytes, {
      headers: { 'content-type': 'application/octet-stream', 'x-in-toto-verified': `sha256:${found}`, 'cache-control': 'no-store' },
    });
  },
};
