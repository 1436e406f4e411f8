#!/usr/bin/env node
// Start-up: the demo chain (2 steps, 2 files, no inspection), whole processes, interleaved, in the clean
// environment (no NODE_EXTRA_CA_CERTS: see bench/lib/measure.mjs environments()). A focused part of
// bench/compare.mjs, quick enough to run after each change to what a tool loads before it verifies.
//
//   npm run bench:startup    (node bench/startup.mjs [--reps N] [--bin DIR ...] [--json out.json])
//
// Contenders: `node -e 0` (Node's own start), our bundled `bin/in-toto-verify.js`, the same with `--help` (the
// modules loaded, nothing verified), the floor (bench/lib/floor.mjs) and the reference's `in-toto-verify`.
// `--bin DIR` adds another build's in-toto-verify.js (DIR holds it, with ../build/engine.wasm beside DIR), e.g.
// a copy of bin/ and build/ taken before a change: the two are then compared within one run.
// Reported: minimum and median wall time (the machine may be shared: the minimum is the least disturbed run),
// and each contender's ratio to the reference's median and minimum.
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { BENCH, ROOT, demoFixture, ensureReference } from './lib/fixtures.mjs';
import { compareRuns, ensureGnuTime, environments, waitForQuiet } from './lib/measure.mjs';

const argv = process.argv.slice(2);
const option = (name) => argv.flatMap((a, i) => (a === name && i + 1 < argv.length ? [argv[i + 1]] : []));
const reps = Number(option('--reps')[0] ?? 25);
const log = (text) => process.stderr.write(`${text}\n`);

ensureReference(log);
ensureGnuTime(log);
const demo = await demoFixture(log);
const cwd = join(demo.dir, 'client');
const verifyArgs = ['--layout', demo.layouts.noInspect, '--layout-keys', demo.key, '--key-types', 'ed25519'];
const { clean, machine } = environments();
const node = (name, args) => ({ name, cmd: process.execPath, args, cwd, env: clean });

const contenders = [
  node('node -e 0', ['-e', '0']),
  node('ours', [join(ROOT, 'bin/in-toto-verify.js'), ...verifyArgs]),
  node('ours --help', [join(ROOT, 'bin/in-toto-verify.js'), '--help']),
  ...option('--bin').map((dir) => node(`ours (${dir})`, [join(resolve(dir), 'in-toto-verify.js'), ...verifyArgs])),
  node('floor', [join(BENCH, 'lib/floor.mjs'), demo.layouts.noInspect, demo.key, '.']),
  // python does not read NODE_EXTRA_CA_CERTS: the machine's environment, as bench/compare.mjs runs it.
  { name: 'reference', cmd: 'in-toto-verify', args: verifyArgs, cwd, env: machine },
];

log(`demo chain, ${reps} interleaved runs of each (clean environment)`);
const busyBefore = waitForQuiet({ log });
const results = compareRuns(contenders, { reps, log: () => {} });
const reference = results.reference.ms;
const ms = (v) => `${v.toFixed(1)} ms`;
console.log(`| contender | min | median | mean ± sd | reference / it (median; min) |`);
console.log('|---|---|---|---|---|');
for (const [name, { ms: st }] of Object.entries(results)) {
  const ratio = `${(reference.median / st.median).toFixed(2)}x; ${(reference.min / st.min).toFixed(2)}x`;
  console.log(`| ${name} | ${ms(st.min)} | ${ms(st.median)} | ${ms(st.mean)} ± ${ms(st.sd)} | ${ratio} |`);
}
console.log(`\n${reps} runs each; ${busyBefore === undefined ? '' : `${(busyBefore * 100).toFixed(0)}% of the CPUs busy before; `}Node ${process.version}`);
const jsonAt = argv.indexOf('--json');
if (jsonAt >= 0) writeFileSync(argv[jsonAt + 1], JSON.stringify({ reps, busyBefore, results }, null, 2) + '\n');
