#!/usr/bin/env node
// Runs every benchmark and writes bench/RESULTS.md and bench/chart.svg.
//
//   node bench/run.mjs [--quick] [--keep-node-extra-ca-certs] [--no-micro] [--no-profile]
//
// 1. whole-process comparison with the reference CLI, and the floor (bench/compare.mjs)
// 2. micro-benchmarks (bench/micro.mjs, in a process of its own)
// 3. one profiled run (node --cpu-prof) of our CLI on the largest chain
// Needs the built package (npm run build) and Debian's in-toto (installed with apt-get when missing).
// About 3 minutes on a 2-core machine once the inputs are cached (bench/.cache/); the first run also
// records the chains with the reference's in-toto-run (about 30 s more).
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, totalmem, release, tmpdir } from 'node:os';
import { join } from 'node:path';
import { BENCH, ROOT, buildFingerprint, chainFixture, referenceVersion } from './lib/fixtures.mjs';
import { childEnv, waitForQuiet } from './lib/measure.mjs';
import { logLogChart } from './lib/chart.mjs';
import { profileNode } from './lib/profile.mjs';
import { engineFunctionNames } from './lib/wasm-names.mjs';
import { compare, summaryTable, SIZES } from './compare.mjs';
import { microTable } from './micro.mjs';

const argv = process.argv.slice(2);
const quick = argv.includes('--quick');
const keepCaCerts = argv.includes('--keep-node-extra-ca-certs');
const log = (text) => process.stderr.write(`${text}\n`);
const started = Date.now();

/** The goals of the issue "Benchmarks: far faster than the reference, close to the floor". */
const GOALS = { speedupAt100k: 30, rssAt100kMiB: 150, demoSpeedup: 4, growth10kTo100k: 11 };
/** What the issue measured for the reference on this machine before this benchmark existed. */
const KNOWN_REFERENCE = { demo: '0.25 s (0.21 s of it interpreter start)', 10000: '1.04 s', 100000: '9.8 s, 333 MiB' };

if (!existsSync(join(ROOT, 'bin/in-toto-verify.js')) || !existsSync(join(ROOT, 'build/engine.wasm'))) {
  log('building the package (npm run build)');
  execFileSync('npm', ['run', 'build'], { cwd: ROOT, stdio: 'inherit' });
}

function git(args) {
  try {
    return execFileSync('git', args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim();
  } catch {
    return undefined;
  }
}

function machine() {
  const cpu = cpus();
  const python = spawnSync('/usr/bin/python3', ['--version'], { encoding: 'utf8' });
  // Read-only git queries: the commit, and whether the engine or bindings differ from it.
  const commit = git(['rev-parse', '--short', 'HEAD']);
  const dirty = spawnSync('git', ['diff', '--quiet', 'HEAD', '--', 'assembly', 'bindings', 'scripts'], { cwd: ROOT }).status === 1;
  return {
    date: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
    cpu: cpu[0]?.model.trim() ?? 'unknown',
    cores: cpu.length,
    memoryGiB: totalmem() / 2 ** 30,
    kernel: release(),
    node: process.version,
    python: (python.stdout || python.stderr).trim(),
    reference: `in-toto ${referenceVersion()} (Debian)`,
    commit: commit ? `${commit}${dirty ? ' + uncommitted changes in assembly/, bindings/ or scripts/' : ''}` : 'unknown',
    wasmBytes: readFileSync(join(ROOT, 'build/engine.wasm')).length,
    build: buildFingerprint(),
  };
}

const s = (ms) => (ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(ms >= 100 ? 0 : 1)} ms`);
const pm = (st) => `${s(st.mean)} ± ${s(st.sd)}`;
const pmMin = (st) => `${pm(st)} (min ${s(st.min)})`;
const x = (r) => `${r.toFixed(r >= 10 ? 0 : 1)}x`;
const mib = (v) => `${v.toFixed(0)} MiB`;
const table = (rows) => [
  `| ${rows[0].join(' | ')} |`,
  `|${rows[0].map(() => '---').join('|')}|`,
  ...rows.slice(1).map((r) => `| ${r.join(' | ')} |`),
].join('\n');

function goals(results) {
  const big = results.chains[100000];
  const mid = results.chains[10000];
  const out = [];
  if (big) {
    const speedup = big.reference.ms.mean / big.ours.ms.mean;
    const floorSpeedup = big.reference.ms.mean / big.floor.ms.mean;
    out.push({
      goal: `N = 100,000: at least ${GOALS.speedupAt100k}x faster than the reference`,
      measured: `${x(speedup)} (${s(big.ours.ms.mean)} against ${s(big.reference.ms.mean)}); the floor itself is ${x(floorSpeedup)}`,
      met: speedup >= GOALS.speedupAt100k,
    });
    out.push({
      goal: `N = 100,000: peak RSS at most ${GOALS.rssAt100kMiB} MiB`,
      measured: `${mib(big.ours.rssMiB.max)} (reference ${mib(big.reference.rssMiB.max)}, floor ${mib(big.floor.rssMiB.max)})`,
      met: big.ours.rssMiB.max <= GOALS.rssAt100kMiB,
    });
  }
  for (const [label, r] of [['without the inspection', results.demo.noInspection], ['with the inspection', results.demo.inspection]]) {
    const speedup = r.reference.ms.mean / r.ours.ms.mean;
    const floor = r.floor ? `; the floor is ${x(r.reference.ms.mean / r.floor.ms.mean)}` : '';
    out.push({
      goal: `demo ${label}: at least ${GOALS.demoSpeedup}x faster end to end`,
      measured: `${x(speedup)} (${s(r.ours.ms.mean)} against ${s(r.reference.ms.mean)})${floor}`,
      met: speedup >= GOALS.demoSpeedup,
    });
  }
  if (big && mid) {
    const growth = big.ours.ms.mean / mid.ours.ms.mean;
    out.push({
      goal: `time at N = 100,000 at most ${GOALS.growth10kTo100k}x the time at N = 10,000`,
      measured: `${growth.toFixed(1)}x (reference ${(big.reference.ms.mean / mid.reference.ms.mean).toFixed(1)}x, floor ${(big.floor.ms.mean / mid.floor.ms.mean).toFixed(1)}x)`,
      met: growth <= GOALS.growth10kTo100k,
    });
  }
  return out;
}

function chart(results, info) {
  const sizes = Object.keys(results.chains).map(Number).sort((a, b) => a - b);
  const series = (name, color, key, dash) => ({
    name, color, dash, labels: true,
    points: sizes.map((n) => ({ x: n, y: results.chains[n][key].ms.mean / 1000, sd: results.chains[n][key].ms.sd / 1000 })),
  });
  return logLogChart({
    title: 'in-toto-verify, 3-step chain: wall time against artifacts per step',
    subtitle: `${info.cpu}, ${info.cores} cores, Node ${info.node}; ${info.date.slice(0, 10)}; whole process, mean of several runs`,
    xLabel: 'N (files per step; each link lists them as materials and as products)',
    yLabel: 'wall time (log scale)',
    marks: results.chains[100000]
      ? [{ x: 100000, y: results.chains[100000].reference.ms.mean / 1000 / GOALS.speedupAt100k, color: '#1e8449', label: `goal: reference / ${GOALS.speedupAt100k}` }]
      : [],
    series: [
      series('reference (python)', '#c0392b', 'reference'),
      series('ours (WASM + Node)', '#2471a3', 'ours'),
      series('floor', '#7f8c8d', 'floor', '5 4'),
    ],
  });
}

function report(info, results, microRows, profile) {
  const lines = [];
  const push = (...l) => lines.push(...l);
  push('# Benchmarks', '');
  push(`Written by \`node bench/run.mjs${quick ? ' --quick' : ''}\` on ${info.date}. Do not edit by hand: run it again.`, '');
  push(table([
    ['machine', ''],
    ['CPU', `${info.cpu}, ${info.cores} cores, ${info.memoryGiB.toFixed(1)} GiB`],
    ['kernel', info.kernel],
    ['Node', info.node],
    ['reference', `${info.reference}, ${info.python}`],
    ['this package', `commit ${info.commit}; engine.wasm ${info.wasmBytes.toLocaleString('en-US')} bytes; build fingerprint ${info.build} (sha256 of dist/ and the engine)`],
    ['environment', keepCaCerts ? 'children ran with the environment as it was' : 'children ran without `NODE_EXTRA_CA_CERTS` (see below)'],
  ]), '');

  const sections = [results.demo.noInspection, results.demo.inspection, ...Object.values(results.chains)];
  const busiest = Math.max(...sections.map((r) => r.busyBefore ?? 0));
  const builds = new Set([info.build, ...sections.map((r) => r.build), info.buildAtEnd].filter(Boolean));
  if (builds.size > 1) {
    push('> **The package was rebuilt while this ran** (build fingerprints ' + [...builds].join(', ') + '): sections measured',
      '> different code. Run `node bench/run.mjs` again without rebuilding in the meantime.', '');
  }
  if (busiest > 0.25) {
    push(`> **Measured on a busy machine**: other processes kept up to ${(busiest * 100).toFixed(0)}% of the CPUs busy when sections`,
      '> started (see "CPUs busy before"). Times are inflated and noisy, ratios less so (the runs interleave);',
      '> run `node bench/run.mjs` again on an idle machine before quoting these numbers.', '');
  }
  push('## Goals', '');
  push(table([['goal', 'measured', 'met'], ...goals(results).map((g) => [g.goal, g.measured, g.met ? 'yes' : '**no**'])]), '');

  push('## Whole process: ours against the reference, and the floor', '');
  push('Same files for both; runs interleaved (ours, reference, floor, rotating), after an untimed warm-up run of each',
    '(none for the reference at N = 100,000, whose files the others have just read). Wall time is mean ± sd over',
    `the runs (demo ${results.reps.demo}, N = 1,000: ${results.reps[1000]}, N = 10,000: ${results.reps[10000]}, N = 100,000: ${results.reps[100000]}); peak RSS is the largest GNU \`time\` %M seen`,
    '(for the demo with its inspection, the largest of the verifier and its `tar`). Each section starts once the',
    'CPUs are idle, or after a minute of waiting; "CPUs busy before" is what the machine did then, and a',
    'section measured beside other work has a large sd: its minimums are then the better guide.', '');
  const rows = [['input', 'ours', 'reference', 'floor', 'reference / ours (of mins)', 'ours / floor', 'peak RSS: ours', 'reference', 'floor', 'CPUs busy before']];
  const add = (label, r) => rows.push([
    label, pmMin(r.ours.ms), pmMin(r.reference.ms), r.floor ? pmMin(r.floor.ms) : '-',
    `**${x(r.reference.ms.mean / r.ours.ms.mean)}** (${x(r.reference.ms.min / r.ours.ms.min)})`, r.floor ? `${(r.ours.ms.mean / r.floor.ms.mean).toFixed(2)}x` : '-',
    mib(r.ours.rssMiB.max), mib(r.reference.rssMiB.max), r.floor ? mib(r.floor.rssMiB.max) : '-',
    r.busyBefore === undefined ? '-' : `${(r.busyBefore * 100).toFixed(0)}%`,
  ]);
  add('demo, without the inspection', results.demo.noInspection);
  add('demo, with the inspection', results.demo.inspection);
  for (const n of Object.keys(results.chains).map(Number).sort((a, b) => a - b)) {
    add(`chain, N = ${n.toLocaleString('en-US')} (${(results.chains[n].linkBytes / 1e6).toFixed(1)} MB of links)`, results.chains[n]);
  }
  push(table(rows), '');
  push('![wall time against N, log-log](chart.svg)', '');
  push(`For comparison, the issue's earlier measurements of the reference: demo ${KNOWN_REFERENCE.demo}; N = 10,000: ${KNOWN_REFERENCE[10000]}; N = 100,000: ${KNOWN_REFERENCE[100000]}.`, '');

  push('### Inputs', '');
  push('- **demo**: the in-toto demo of `scripts/demo.mjs`: keys by the reference\'s `in-toto-keygen` (owner and bob ed25519,',
    '  carol RSA 2048), links by its `in-toto-run`, layouts signed by this package. *Without the inspection*: a layout',
    '  with the same steps and no `inspect`. *With the inspection*: the demo layout, whose `untar` inspection runs',
    '  `tar xzf foo.tar.gz` (each run in a fresh copy of the client directory, copied outside the timing).',
    '- **chain, N**: steps `fetch`, `build`, `package` over N files `src/d<k>/file<i>.c`; each link recorded by the',
    '  reference\'s `in-toto-run -m src -p src` (N materials and N products, sha256), signed with ed25519; rules',
    '  `MATCH * WITH PRODUCTS FROM fetch`, `MATCH *.c IN src WITH MATERIALS IN src FROM build`, `REQUIRE`, `ALLOW`,',
    '  `DISALLOW *` (bench/lib/fixtures.mjs). No inspections.',
    '- **floor** (bench/lib/floor.mjs): a Node process that, for the layout and each link, reads the file straight',
    '  into the engine\'s memory, parses it strictly and writes the canonical bytes of `signed` (one `canonicalize`',
    '  call), and verifies the signature over them with node:crypto. No models, no artifact tables, no rules: the',
    '  work no verifier of these files can skip, with this engine.', '');

  push('### Interpreter start', '');
  push(table([['command', 'wall time', 'peak RSS'], ...Object.entries(results.startup).map(([k, v]) => [`\`${k}\``, pm(v.ms), mib(v.rssMiB.max)])]), '');
  if (!keepCaCerts && results.startup['node -e 0, NODE_EXTRA_CA_CERTS set']) {
    push('`NODE_EXTRA_CA_CERTS` is set on this machine; with it every Node process parses that CA bundle while it',
      'boots (the difference above). It is the machine\'s setting, not the program\'s, and python does not read it,',
      'so the comparisons run Node without it; `--keep-node-extra-ca-certs` runs them with it.', '');
  }

  if (microRows) {
    push('## Micro-benchmarks (tinybench, in one Node process)', '');
    push('Large link: 100,000 artifacts on each side (23 MB, as the reference writes it; "shuffled": every object\'s',
      'keys in random order). Small link: shaped like the demo\'s `package` link. MB/s are of the file\'s bytes.', '');
    push(table(microTable(microRows)), '');
  }

  if (profile) {
    push(`## Where our time goes: \`node --cpu-prof\` of our CLI on the chain with N = ${profile.n.toLocaleString('en-US')}`, '');
    push(`One run, ${s(profile.wallMs)} wall under the profiler, ${s(profile.totalMs)} of samples.${profile.named ? ' Engine functions are named from a build of the same engine with its name section kept (bench/lib/wasm-names.mjs).' : ''}`, '');
    push('Self time (the function itself; `(garbage collector)` is V8\'s):', '');
    push(table([['ms', 'function'], ...profile.self.map((r) => [r.ms.toFixed(0), `\`${r.name}\``])]), '');
    push('Inclusive time of the package\'s own functions, JS and engine (callees included):', '');
    push(table([['ms', 'function'], ...profile.inclusive.map((r) => [r.ms.toFixed(0), `\`${r.name}\``])]), '');
  }

  push('## Reproduce', '');
  push('```sh', 'npm run build', 'node bench/run.mjs            # everything, writes bench/RESULTS.md and bench/chart.svg',
    'node bench/compare.mjs        # whole-process comparison only (--quick: fewer runs)',
    'node bench/micro.mjs          # micro-benchmarks only', '```', '');
  push(`Inputs are cached in \`bench/.cache/\`. This run took ${((Date.now() - started) / 60000).toFixed(1)} minutes.`, '');
  return lines.join('\n');
}

const info = machine();
log(`${info.cpu}, ${info.cores} cores, Node ${info.node}, ${info.reference}`);
const results = await compare({ quick, keepCaCerts, log });

let microRows;
if (!argv.includes('--no-micro')) {
  log('micro-benchmarks (bench/micro.mjs, its own process)');
  waitForQuiet({ log });
  const out = join(tmpdir(), `in-toto-bench-micro-${process.pid}.json`);
  execFileSync(process.execPath, [join(BENCH, 'micro.mjs'), ...(quick ? ['--quick'] : []), '--json', out], { stdio: ['ignore', 'ignore', 'inherit'], env: childEnv(keepCaCerts) });
  microRows = JSON.parse(readFileSync(out, 'utf8'));
  rmSync(out, { force: true });
}

let profile;
if (!argv.includes('--no-profile')) {
  const n = Math.max(...SIZES);
  log(`profiling our CLI at N = ${n}`);
  waitForQuiet({ log });
  const chain = await chainFixture(n, log);
  const names = engineFunctionNames(log);
  profile = { n, named: names.size > 0, ...profileNode([join(ROOT, 'bin/in-toto-verify.js'), '--layout', chain.layout, '--layout-keys', chain.key, '--key-types', 'ed25519'], { cwd: chain.dir, env: childEnv(keepCaCerts), names }) };
}

info.buildAtEnd = buildFingerprint();
writeFileSync(join(BENCH, 'chart.svg'), chart(results, info));
writeFileSync(join(BENCH, 'RESULTS.md'), report(info, results, microRows, profile));
for (const row of summaryTable(results)) log(row.join(' | '));
for (const g of goals(results)) log(`${g.met ? 'MET   ' : 'MISSED'} ${g.goal}: ${g.measured}`);
if (info.buildAtEnd !== info.build) log(`WARNING: the package was rebuilt while the benchmarks ran (${info.build} -> ${info.buildAtEnd}): run again`);
log(`wrote bench/RESULTS.md and bench/chart.svg in ${((Date.now() - started) / 60000).toFixed(1)} min`);
