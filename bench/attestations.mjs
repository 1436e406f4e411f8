#!/usr/bin/env node
// in-toto attestations, measured (issue 17): writes bench/ATTESTATIONS.md.
//   1. Statements read and validated per second: `parseStatement` + `readPredicate` (engine-checked ordinary JSON,
//      every field validated) against `JSON.parse` and the few checks a JavaScript user would write by hand
//      (tinybench, the same bytes).
//   2. The 3-step chain of bench/RESULTS.md at N = 100,000 artifacts per step, as classic links and as link
//      attestations (the same links converted with `linkToStatement`, signed by the same keys), verified whole
//      process by our in-toto-verify, interleaved; the issue's target is at most 1.2x the classic time.
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { Bench } from 'tinybench';
import { BENCH, CACHE, ROOT, chainFixture } from './lib/fixtures.mjs';

const lib = await import(join(ROOT, 'dist', 'index.js'));
await lib.initEngine();
const N = Number(process.env.BENCH_N ?? 100_000);
const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const log = (text) => process.stderr.write(`${text}\n`);

// 1. Statements per second.
const statementBytes = new TextEncoder().encode(
  JSON.stringify(
    lib.linkToStatement({
      _type: 'link', name: 'build', command: ['make', 'all'], byproducts: { 'return-value': 0 }, environment: {},
      materials: Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`src/file${i}.c`, { sha256: i.toString(16).padStart(64, '0') }])),
      products: Object.fromEntries(Array.from({ length: 5 }, (_, i) => [`bin/app${i}`, { sha256: (i + 100).toString(16).padStart(64, '0') }])),
    }),
  ),
);
const byHand = (bytes) => {
  const s = JSON.parse(new TextDecoder().decode(bytes));
  if (s._type !== 'https://in-toto.io/Statement/v1' || !Array.isArray(s.subject) || s.subject.length === 0) throw new Error('bad');
  for (const subject of s.subject) if (typeof subject.digest?.sha256 !== 'string') throw new Error('bad');
  if (typeof s.predicateType !== 'string') throw new Error('bad');
  return s;
};
const bench = new Bench({ time: 1000 });
bench.add('parseStatement + readPredicate (this package)', () => lib.readPredicate(lib.parseStatement(statementBytes)));
bench.add('JSON.parse + hand-written checks', () => byHand(statementBytes));
await bench.run();
const rows = bench.tasks.map((t) => ({ name: t.name, hz: t.result.throughput?.mean ?? t.result.hz, rme: t.result.latency?.rme ?? t.result.rme }));

// 2. The chain at N, classic and as attestations.
const classic = await chainFixture(N, log);
const attested = join(CACHE, `chain-${N}-attestation`);
mkdirSync(attested, { recursive: true });
copyFileSync(join(classic.dir, 'root.layout'), join(attested, 'root.layout'));
copyFileSync(join(classic.dir, 'owner.pub'), join(attested, 'owner.pub'));
for (const [i, file] of classic.linkFiles.entries()) {
  const envelope = lib.readEnvelope(readFileSync(join(classic.dir, file)));
  const key = await lib.loadPrivateKey(readFileSync(join(classic.dir, `functionary${i}`)), { keyType: 'ed25519' });
  const signed = await lib.signEnvelope(lib.createDsse(lib.linkToStatement(envelope.signed)), key);
  writeFileSync(join(attested, file), lib.serializeEnvelope(signed));
}
const tool = join(ROOT, 'bin', 'in-toto-verify.js');
const env = { ...process.env };
delete env.NODE_EXTRA_CA_CERTS;
const once = (dir) => {
  const started = performance.now();
  const result = spawnSync('/usr/bin/time', ['-f', '%M', process.execPath, tool, '-l', 'root.layout', '-k', 'owner.pub', '-t', 'ed25519'], { cwd: dir, env, encoding: 'utf8' });
  const ms = performance.now() - started;
  if (result.status !== 0) throw new Error(`in-toto-verify failed in ${dir}: ${result.stderr}`);
  return { ms, rss: Number(result.stderr.trim().split('\n').at(-1)) / 1024 };
};
once(classic.dir);
once(attested);
const times = { classic: [], attestation: [] };
for (let r = 0; r < RUNS; r++) {
  times.classic.push(once(classic.dir));
  times.attestation.push(once(attested));
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const c = median(times.classic.map((t) => t.ms));
const a = median(times.attestation.map((t) => t.ms));
const cr = Math.max(...times.classic.map((t) => t.rss));
const ar = Math.max(...times.attestation.map((t) => t.rss));
const bytes = (dir, files) => files.reduce((sum, f) => sum + readFileSync(join(dir, f)).length, 0);

const md = `# in-toto attestations, measured

Written by \`node bench/attestations.mjs\` on ${new Date().toISOString().replace(/\.\d+Z$/, 'Z')} (${cpus()[0]?.model ?? 'CPU'}, ${cpus().length} cores, Node ${process.version}); run it again to reproduce.

## Statements read and validated per second

One link v0.3 Statement of ${statementBytes.length} bytes (5 subjects, 20 materials), tinybench, 1 s each:

| reader | per second | ± |
|---|---|---|
${rows.map((r) => `| ${r.name} | ${Math.round(r.hz).toLocaleString('en')} | ${r.rme?.toFixed(1)}% |`).join('\n')}

The hand-written reader checks four fields and trusts everything else (it takes duplicate keys, the last one winning,
and any digest); this package's checks every field of the Statement and its predicate, with the engine's strict
reading of the bytes.

## A 3-step chain at N = ${N.toLocaleString('en')} artifacts per step: classic links against link attestations

The chain of bench/RESULTS.md (same layout, same keys); the attestations are its links converted with
\`linkToStatement\` and signed by the same functionaries. Whole process, our \`in-toto-verify\`, Node without
\`NODE_EXTRA_CA_CERTS\`, interleaved, median of ${RUNS}:

| links | bytes | time | peak RSS |
|---|---|---|---|
| classic (Metablock) | ${(bytes(classic.dir, classic.linkFiles) / 1e6).toFixed(1)} MB | ${(c / 1000).toFixed(2)} s | ${Math.round(cr)} MiB |
| attestations (Statement v1 in DSSE) | ${(bytes(attested, classic.linkFiles) / 1e6).toFixed(1)} MB | ${(a / 1000).toFixed(2)} s | ${Math.round(ar)} MiB |

Attestations take **${(a / c).toFixed(2)}x** the classic time (the issue's target: at most 1.2x)${a / c > 1.2 ? `: not met. The engine reads each attestation in one call, as it reads a classic link (docs/ABI.md, \`link_read\` with select 2: base64, the Statement as ordinary JSON, its descriptors straight into artifact tables; JavaScript parses only the small rest), so no stage is done twice; what is left grows with the bytes, and an attestation is ${(bytes(attested, classic.linkFiles) / bytes(classic.dir, classic.linkFiles)).toFixed(2)}x the bytes of its classic link (base64 of a Statement that spells \`name\` and \`digest\` for every artifact): reading the file, the signature's hash over the payload, and parsing (JSON string scanning of the payload's base64 and its twice as many strings, and base64 decoding, where the classic run spends on writing canonical JSON instead). Sides that record exactly the same artifacts share one table in both forms (this chain's six sides do; \`loadDescriptorSide\` compares descriptors with the tables built last, classic or not). The memory left beyond the classic run is the engine's input and parse of the larger file: the envelope (1.37x the bytes), its payload decoded beside it as the signed bytes, and a parse of a Statement with more tokens per artifact (\`name\`, \`digest\`, the algorithm) than a classic link's.` : ': met.'}
`;
writeFileSync(join(BENCH, 'ATTESTATIONS.md'), md);
log(md);
