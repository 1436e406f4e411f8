#!/usr/bin/env node
// Micro-benchmarks (tinybench) of the engine and the bindings, importing the built package from dist/.
//
//   node bench/micro.mjs [--quick] [--json out.json]
//
//   json        strict reading (validate) and canonical bytes of a Metablock's `signed` (canonicalize), in
//               MB/s of file bytes, on a large link (100,000 artifacts a side, 23 MB) and a small one
//               (shaped like the demo's `package` link, 0.8 KB), keys sorted (as the reference writes) and shuffled;
//               beside them the JS path (TextDecoder + JSON.parse), what the bindings do to read a link
//               (readEnvelope, parseLink) and what the rule engine keeps of it (RuleEngine.load, RuleEngine.read).
//   glob        matchGlob() one call at a time (the bindings' entry point), and the bulk path: one rule
//               over 100,000 queued paths inside rules_apply.
//   rules       the chain's typical rule lists (MATCH ... FROM, with and without IN prefixes; DISALLOW *)
//               over two links of 100,000 artifacts a side, in artifacts/s, without and with the trace.
//   signatures  verifySignature() per key type and crypto backend, over a small link's canonical bytes;
//               ed25519 also over the large link's 20 MB.
//   verify      verify() of the demo chain (no inspection; links as a map of bytes), in ops/s.
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Bench } from 'tinybench';
import { ROOT, demoFixture } from './lib/fixtures.mjs';
import { largeLink, smallLink } from './lib/synthetic.mjs';

const dist = (file) => import(pathToFileURL(join(ROOT, 'dist', file)).href);

const LARGE_N = 100_000;
const utf8 = new TextDecoder();

function rulesOf(list, field) {
  return list.map((tokens, i) => lib.parseRule(tokens, { field: `${field}[${i}]` }));
}

let lib;

/** Runs one tinybench suite and returns rows { group, name, meanMs, rme, samples, opsPerSec, rate, unit }. */
async function suite(group, tasks, { time, iterations, warmupIterations }) {
  const bench = new Bench({ time, iterations, warmupIterations, warmupTime: 0, throws: true });
  for (const t of tasks) bench.add(t.name, t.fn, t.opts);
  await bench.run();
  return bench.tasks.map((task) => {
    const spec = tasks.find((t) => t.name === task.name);
    const r = task.result;
    const meanMs = r.latency.mean;
    const perOp = spec.bytes ? spec.bytes / 1e6 : spec.items ?? 1;
    return {
      group, name: task.name, meanMs, rme: r.latency.rme, samples: r.latency.samplesCount,
      opsPerSec: 1000 / meanMs, rate: (perOp * 1000) / meanMs,
      unit: spec.bytes ? 'MB/s' : spec.unit ?? 'ops/s',
    };
  });
}

export async function micro({ quick = false, log = console.log } = {}) {
  lib = await dist('index.js');
  const { RuleEngine, matchGlob } = await dist('verify/rule-engine.js');
  await lib.initEngine();
  const engine = lib.getEngine();
  const heavy = quick ? { time: 300, iterations: 2, warmupIterations: 1 } : { time: 1500, iterations: 5, warmupIterations: 2 };
  const light = quick ? { time: 200, iterations: 20, warmupIterations: 10 } : { time: 1000, iterations: 64, warmupIterations: 32 };
  const rows = [];

  // --- JSON reading and canonical bytes
  log('json: building the links');
  const docs = {
    large: largeLink(LARGE_N, 'sorted'),
    'large, shuffled keys': largeLink(LARGE_N, 'shuffled'),
    small: smallLink('sorted'),
    'small, shuffled keys': smallLink('shuffled'),
  };
  for (const [label, bytes] of Object.entries(docs)) {
    const big = bytes.length > 1e6;
    const tasks = [
      { name: `validate, ${label} link`, bytes: bytes.length, fn: () => engine.validate(bytes) },
      { name: `canonicalize signed, ${label} link`, bytes: bytes.length, fn: () => engine.canonicalize(bytes, 'signed') },
      { name: `JS: TextDecoder + JSON.parse, ${label} link`, bytes: bytes.length, fn: () => JSON.parse(utf8.decode(bytes)) },
    ];
    if (!label.includes('shuffled')) {
      const envelope = lib.readEnvelope(bytes);
      const rules = new RuleEngine();
      tasks.push(
        { name: `readEnvelope (bindings), ${label} link`, bytes: bytes.length, fn: () => lib.readEnvelope(bytes) },
        { name: `parseLink (bindings models), ${label} link`, bytes: bytes.length, fn: () => lib.parseLink(envelope.signed) },
        { name: `RuleEngine.load + free (link_store), ${label} link`, bytes: bytes.length, fn: () => rules.free(rules.load(bytes, 'signed')) },
      );
      // What verify() reads a link with since the engine gained link_read: one pass for the canonical bytes
      // of `signed`, the artifact tables and the small part (feature-tested: older builds lack it).
      if (typeof rules.read === 'function') {
        tasks.push({ name: `RuleEngine.read + free (link_read: canonical bytes, tables, small part), ${label} link`, bytes: bytes.length, fn: () => rules.free(rules.read(bytes, 'signed', true).handle) });
      }
    }
    log(`json: ${label} link (${bytes.length.toLocaleString('en-US')} bytes)`);
    rows.push(...(await suite('json', tasks, big ? heavy : light)));
  }

  // --- globs
  log('glob');
  const paths = Array.from({ length: 256 }, (_, i) => `src/d${i % 17}/file${i * 7919}.c`);
  let k = 0;
  const next = () => paths[k++ & 255];
  const globTasks = [
    ['foo.tar.gz', 'a literal'],
    ['src/*', 'a prefix and *'],
    ['*.c', '* and a suffix'],
    ['src/d1[0-9]/file*[13579].c', 'sets and two *'],
  ].map(([pattern, what]) => ({ name: `matchGlob '${pattern}' (${what}), one call`, unit: 'matches/s', fn: () => matchGlob(pattern, next()) }));
  rows.push(...(await suite('glob', globTasks, light)));

  const rules = new RuleEngine();
  const big = docs.large;
  const fetchLink = rules.load(largeLink(LARGE_N, 'sorted', 'fetch'), 'signed');
  const buildLink = rules.load(big, 'signed');
  const links = new Map([['fetch', fetchLink], ['build', buildLink]]);
  const bulkItem = (pattern) => [{ name: 'build', materials: rulesOf([['DISALLOW', pattern]], 'm'), products: [] }];
  const bulk = [
    ['*.h', 'no path matches'],
    ['src/d1[0-9]/*.h', 'sets, no path matches'],
  ].map(([pattern, what]) => ({
    name: `rules_apply: DISALLOW '${pattern}' over ${LARGE_N.toLocaleString('en-US')} paths (${what})`,
    items: LARGE_N, unit: 'matches/s',
    fn: () => rules.apply(bulkItem(pattern), links, { trace: false }),
  }));
  log('glob: bulk, through rules_apply');
  rows.push(...(await suite('glob', bulk, heavy)));

  // --- rules
  const build = {
    name: 'build',
    materials: rulesOf([['MATCH', '*', 'WITH', 'PRODUCTS', 'FROM', 'fetch'], ['DISALLOW', '*']], 'm'),
    products: rulesOf([['MATCH', '*.c', 'IN', 'src', 'WITH', 'MATERIALS', 'IN', 'src', 'FROM', 'build'], ['DISALLOW', '*']], 'p'),
  };
  const fetch = {
    name: 'fetch',
    materials: rulesOf([['ALLOW', 'src/*'], ['DISALLOW', '*']], 'm'),
    products: rulesOf([['MATCH', 'src/*', 'WITH', 'MATERIALS', 'FROM', 'fetch'], ['DISALLOW', '*']], 'p'),
  };
  const check = rules.apply([fetch, build], links, { trace: false });
  if (!check.passed) throw new Error(`the rules benchmark's rules fail: ${check.failures[0].message}`);
  const artifacts = 4 * LARGE_N;
  log('rules');
  rows.push(...(await suite('rules', [
    { name: `fetch + build rules over 2 links x 2 sides x ${LARGE_N.toLocaleString('en-US')} artifacts, no trace`, items: artifacts, unit: 'artifacts/s', fn: () => rules.apply([fetch, build], links, { trace: false }) },
    { name: `the same, with the trace (as verify() asks)`, items: artifacts, unit: 'artifacts/s', fn: () => rules.apply([fetch, build], links, { trace: true }) },
  ], heavy)));
  rules.close();

  // --- signatures
  log('signatures: generating keys');
  const data = engine.canonicalize(docs.small, 'signed');
  const bigData = engine.canonicalize(big, 'signed');
  const keys = {
    ed25519: await lib.generateKeyPair('ed25519', { backend: 'node' }),
    'rsa 3072 (rsassa-pss-sha256)': await lib.generateKeyPair('rsa', { backend: 'node', bits: 3072 }),
    'ecdsa P-256': await lib.generateKeyPair('ecdsa', { backend: 'node', scheme: 'ecdsa-sha2-nistp256' }),
  };
  const sigTasks = [];
  for (const [label, key] of Object.entries(keys)) {
    const sig = await lib.signBytes(key, data, { backend: 'node' });
    for (const backend of lib.BACKENDS) {
      if (backend === 'noble' && key.keytype !== 'ed25519') continue;
      const ok = await lib.verifySignature(key, data, sig, { backend });
      if (!ok) throw new Error(`${label} on ${backend}: the signature does not verify`);
      sigTasks.push({ name: `${label}, ${backend}, ${data.length} bytes`, unit: 'verifies/s', fn: () => lib.verifySignature(key, data, sig, { backend }) });
    }
  }
  log('signatures');
  rows.push(...(await suite('signatures', sigTasks, light)));
  const bigSig = await lib.signBytes(keys.ed25519, bigData, { backend: 'node' });
  rows.push(...(await suite('signatures', lib.BACKENDS.filter((b) => b !== 'noble').map((backend) => ({
    name: `ed25519, ${backend}, ${(bigData.length / 1e6).toFixed(1)} MB (the large link's canonical bytes)`,
    bytes: bigData.length, fn: () => lib.verifySignature(keys.ed25519, bigData, bigSig, { backend }),
  })), heavy)));

  // --- verify() of the demo chain
  log('verify: the demo chain');
  const demo = await demoFixture(log);
  const client = join(demo.dir, 'client');
  const files = new Map(readdirSync(client).filter((f) => f.endsWith('.link')).map((f) => [f, new Uint8Array(readFileSync(join(client, f)))]));
  const layout = new Uint8Array(readFileSync(join(client, demo.layouts.noInspect)));
  const owner = lib.loadPublicKey(readFileSync(join(client, demo.key)), { keyType: 'ed25519' });
  const options = { layout, layoutKeys: [owner], links: files };
  const verdict = await lib.verify(options);
  if (!verdict.passed) throw new Error(`the demo chain does not verify: ${verdict.failures[0].message}`);
  rows.push(...(await suite('verify', [
    { name: 'verify() of the demo chain (2 steps: ed25519 and RSA 2048 links; no inspection)', unit: 'verifies/s', fn: () => lib.verify(options) },
  ], light)));
  return rows;
}

export function microTable(rows) {
  const fmt = (x) => (x >= 100 ? Math.round(x).toLocaleString('en-US') : x.toPrecision(3));
  return [['group', 'benchmark', 'mean', 'rate', '± (rme)', 'samples'],
    ...rows.map((r) => [r.group, r.name, `${r.meanMs >= 1 ? r.meanMs.toFixed(2) + ' ms' : (r.meanMs * 1000).toFixed(2) + ' µs'}`, `${fmt(r.rate)} ${r.unit}`, `${r.rme.toFixed(1)}%`, String(r.samples)])];
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  const argv = process.argv.slice(2);
  const rows = await micro({ quick: argv.includes('--quick') });
  for (const row of microTable(rows)) console.log(row.join(' | '));
  const jsonAt = argv.indexOf('--json');
  if (jsonAt >= 0) writeFileSync(argv[jsonAt + 1], JSON.stringify(rows, null, 2) + '\n');
}
