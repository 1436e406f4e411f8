#!/usr/bin/env node
// Whole-process comparison with the reference CLI (Debian's in-toto 1.3.1), same inputs, one run,
// interleaved: our `node bin/in-toto-verify.js` (the bundled tool, as installed) twice, in the clean environment
// (no NODE_EXTRA_CA_CERTS) and as this machine runs it (the environment as it is; bench/lib/measure.mjs
// environments()), the reference's `in-toto-verify`, and the floor (bench/lib/floor.mjs: read, parse and
// canonicalize every file in the engine, verify each signature) in one thread and in its two parallel forms
// (signatures on libuv's pool; the links split over two threads).
//
//   node bench/compare.mjs [--quick] [--json out.json]
//
// Inputs (bench/lib/fixtures.mjs, cached in bench/.cache/): the in-toto demo chain, verified without its
// inspection and with it (`tar xzf foo.tar.gz`, in a fresh copy of the client directory per run, outside the
// timing), and a 3-step chain whose links each list N files as materials and as products, N = 1,000 /
// 10,000 / 100,000. Reported: wall time (mean, sd, min of several runs) and peak RSS for each.
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ROOT, BENCH, buildFingerprint, chainFixture, demoFixture, ensureReference } from './lib/fixtures.mjs';
import { compareRuns, ensureGnuTime, environments, runOnce, stats, waitForQuiet } from './lib/measure.mjs';

/** The chains measured; `BENCH_SIZES=1000,10000` picks fewer (a quick look at the report, never for RESULTS.md's figures). */
export const SIZES = process.env.BENCH_SIZES ? process.env.BENCH_SIZES.split(',').map(Number) : [1000, 10000, 100000, 1000000];

const OURS = join(ROOT, 'bin/in-toto-verify.js');
const FLOOR = join(BENCH, 'lib/floor.mjs');
/** The parallel floors measured beside the one-thread floor: contender name, and floor.mjs's `--mode`. */
export const PARALLEL_FLOORS = [['floorPool', 'pool'], ['floorThreads', 'threads']];

function verifyArgs(layout, key) {
  return ['--layout', layout, '--layout-keys', key, '--key-types', 'ed25519'];
}

/**
 * `ours` and `floor` run in the clean environment, `oursMachine` as this machine runs it, the reference in the
 * machine's environment too (python does not read NODE_EXTRA_CA_CERTS: its one series serves both).
 */
function contenders({ cwd, prepare, layout, key, floor = true, referenceWarmup = 1 }) {
  const where = prepare ? { prepare } : { cwd };
  const env = environments();
  const list = [
    { name: 'ours', cmd: process.execPath, args: [OURS, ...verifyArgs(layout, key)], env: env.clean, ...where },
    { name: 'oursMachine', cmd: process.execPath, args: [OURS, ...verifyArgs(layout, key)], env: env.machine, ...where },
    { name: 'reference', cmd: 'in-toto-verify', args: verifyArgs(layout, key), warmup: referenceWarmup, env: env.machine, ...where },
  ];
  if (floor) {
    list.push({ name: 'floor', cmd: process.execPath, args: [FLOOR, layout, key, '.'], env: env.clean, ...where });
    // The parallel floors (issue #20, item 2): the same work with signatures on libuv's pool, or split over two threads.
    for (const [name, mode] of PARALLEL_FLOORS) list.push({ name, cmd: process.execPath, args: [FLOOR, '--mode', mode, layout, key, '.'], env: env.clean, ...where });
  }
  return list;
}

/** Interpreter start alone: what no program on either side can go under. */
function startup(reps, log) {
  const out = {};
  const env = environments();
  const time = (name, cmd, args, e = env.clean) => {
    const list = [];
    runOnce(cmd, args, { cwd: tmpdir(), env: e });
    for (let i = 0; i < reps; i++) list.push(runOnce(cmd, args, { cwd: tmpdir(), env: e }));
    out[name] = { ms: stats(list.map((s) => s.ms)), rssMiB: stats(list.map((s) => s.rssMiB)) };
    log(`  ${name}: ${out[name].ms.mean.toFixed(1)} ms`);
  };
  time('node -e 0', process.execPath, ['-e', '0']);
  if (env.caCerts.path) time('NODE_EXTRA_CA_CERTS=… node -e 0', process.execPath, ['-e', '0'], env.machine);
  // The reference's own interpreter (its #! line), not whatever python3 is first on PATH.
  time('/usr/bin/python3 -c 0', '/usr/bin/python3', ['-c', '0']);
  time('/usr/bin/python3 -c "import in_toto.verifylib"', '/usr/bin/python3', ['-c', 'import in_toto.verifylib']);
  return out;
}

export async function compare({ quick = false, log = console.log } = {}) {
  ensureReference(log);
  ensureGnuTime(log);
  const reps = quick ? { demo: 5, 1000: 3, 10000: 2, 100000: 1, 1000000: 1, startup: 5 } : { demo: 15, 1000: 10, 10000: 5, 100000: 3, 1000000: 2, startup: 15 };
  const results = { reps, caCerts: environments().caCerts, startup: {}, demo: {}, chains: {} };

  log('interpreter start');
  waitForQuiet({ log });
  results.startup = startup(reps.startup, log);

  const demo = await demoFixture(log);
  const client = join(demo.dir, 'client');
  // Other processes on the machine skew every number: each section starts once the CPUs are idle (or after
  // a minute of waiting), and records how busy they were then.
  // The fingerprint of dist/ and the engine is taken with it: a rebuild in the middle of a run shows.
  const quiet = () => ({ busyBefore: waitForQuiet({ log }), build: buildFingerprint() });
  log('demo chain, without the inspection');
  let q = quiet();
  results.demo.noInspection = { ...compareRuns(contenders({ cwd: client, layout: demo.layouts.noInspect, key: demo.key }), { reps: reps.demo, log }), ...q };
  log('demo chain, with the inspection (tar xzf foo.tar.gz, in a fresh copy of the client directory per run)');
  const prepare = () => {
    const cwd = mkdtempSync(join(tmpdir(), 'in-toto-bench-demo-'));
    cpSync(client, cwd, { recursive: true });
    return { cwd, cleanup: () => rmSync(cwd, { recursive: true, force: true }) };
  };
  q = quiet();
  results.demo.inspection = { ...compareRuns(contenders({ prepare, layout: demo.layouts.inspect, key: demo.key, floor: false }), { reps: reps.demo, log }), ...q };

  for (const n of SIZES) {
    const chain = await chainFixture(n, log);
    log(`3-step chain, N = ${n} (${(chain.linkBytes / 1e6).toFixed(1)} MB of links)`);
    q = quiet();
    const runs = compareRuns(contenders({ cwd: chain.dir, layout: chain.layout, key: chain.key, referenceWarmup: n >= 100000 ? 0 : 1 }), { reps: reps[n], log });
    results.chains[n] = { linkBytes: chain.linkBytes, ...runs, ...q };
  }
  return results;
}

const fmt = (s) => `${(s.mean / 1000).toFixed(3)} s ± ${(s.sd / 1000).toFixed(3)}`;

export function summaryTable(results) {
  const rows = [['input', 'ours', 'ours, machine env', 'reference', 'floor', 'reference / ours', 'ours / floor', 'peak RSS ours / reference / floor']];
  const row = (label, r) => {
    const floor = r.floor ? fmt(r.floor.ms) : '-';
    rows.push([
      label, fmt(r.ours.ms), fmt(r.oursMachine.ms), fmt(r.reference.ms), floor,
      `${(r.reference.ms.mean / r.ours.ms.mean).toFixed(1)}x`,
      r.floor ? `${(r.ours.ms.mean / r.floor.ms.mean).toFixed(2)}x` : '-',
      [r.ours, r.reference, r.floor].filter(Boolean).map((x) => x.rssMiB.max.toFixed(0)).join(' / ') + ' MiB',
    ]);
  };
  row('demo, no inspection', results.demo.noInspection);
  row('demo, with inspection', results.demo.inspection);
  for (const [n, r] of Object.entries(results.chains)) row(`chain N = ${Number(n).toLocaleString('en-US')}`, r);
  return rows;
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  const argv = process.argv.slice(2);
  const jsonAt = argv.indexOf('--json');
  const results = await compare({ quick: argv.includes('--quick') });
  for (const row of summaryTable(results)) console.log(row.join(' | '));
  if (jsonAt >= 0) writeFileSync(argv[jsonAt + 1], JSON.stringify(results, null, 2) + '\n');
}
