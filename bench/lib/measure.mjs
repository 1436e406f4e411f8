// Whole-process measurement: wall time (from just before spawn to exit, as seen by this process) and peak
// resident set size (GNU time's %M: the largest RSS of the process, or of any of its children it waited
// for, e.g. an inspection's `tar`), plus small statistics helpers.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const GNU_TIME = '/usr/bin/time';

/** A CA bundle for NODE_EXTRA_CA_CERTS when the machine sets none (Debian's, as a machine that sets it uses). */
export const CA_BUNDLE = '/etc/ssl/certs/ca-certificates.crt';

/**
 * The two environments children run in:
 * - `clean`: this process's environment without NODE_EXTRA_CA_CERTS. With that variable, every Node process
 *   parses the named CA bundle while it boots (tens of ms): a property of the machine, not of the program
 *   measured, and python does not read it.
 * - `machine`: this process's environment as it is ("as this machine runs it"). When NODE_EXTRA_CA_CERTS is
 *   not set here, it is set to CA_BUNDLE (when that exists) so that the series still shows what it costs;
 *   `caCerts.source` says which it was.
 */
export function environments() {
  const clean = { ...process.env };
  delete clean.NODE_EXTRA_CA_CERTS;
  const machine = { ...process.env };
  let source = 'machine';
  if (!machine.NODE_EXTRA_CA_CERTS && existsSync(CA_BUNDLE)) {
    machine.NODE_EXTRA_CA_CERTS = CA_BUNDLE;
    source = 'bench';
  }
  return { clean, machine, caCerts: { path: machine.NODE_EXTRA_CA_CERTS, source } };
}

/** The environment children run in when a contender names none: the clean one. See environments(). */
let environment = environments().clean;

/** Sets the default environment of children: clean (the default) or, with `keep`, as this process has it. */
export function childEnv(keep = false) {
  environment = keep ? { ...process.env } : environments().clean;
  return environment;
}

export function ensureGnuTime(log = () => {}) {
  if (existsSync(GNU_TIME)) return;
  log('installing GNU time (apt-get install time) for peak RSS');
  spawnSync('apt-get', ['install', '-y', '-qq', 'time'], { stdio: 'ignore' });
  if (!existsSync(GNU_TIME)) throw new Error(`${GNU_TIME} is missing (apt-get install time)`);
}

const scratch = mkdtempSync(join(tmpdir(), 'in-toto-bench-'));
process.on('exit', () => rmSync(scratch, { recursive: true, force: true }));

/**
 * Runs `cmd args` once in `cwd`; returns { ms, rssMiB }. Throws when the exit status is not `expect`
 * (a benchmark of a verifier that fails is no benchmark).
 */
export function runOnce(cmd, args, { cwd, expect = 0, env = environment } = {}) {
  const out = join(scratch, 'time.txt');
  const started = process.hrtime.bigint();
  const result = spawnSync(GNU_TIME, ['-f', '%M', '-o', out, cmd, ...args], {
    cwd, env, stdio: ['ignore', 'ignore', 'pipe'], maxBuffer: 16 << 20,
  });
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  if (result.status !== expect) {
    throw new Error(`${cmd} ${args.join(' ')} (in ${cwd}) exited with ${result.status}, expected ${expect}:\n${result.stderr}`);
  }
  const rssKiB = Number(readFileSync(out, 'utf8').trim().split('\n').pop());
  return { ms, rssMiB: rssKiB / 1024 };
}

export function stats(values) {
  const n = values.length;
  const mean = values.reduce((a, b) => a + b, 0) / n;
  const sd = n > 1 ? Math.sqrt(values.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1)) : 0;
  const sorted = [...values].sort((a, b) => a - b);
  const median = n % 2 ? sorted[(n - 1) / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
  return { n, mean, sd, min: sorted[0], max: sorted[n - 1], median };
}

/**
 * Runs each contender `reps` times, interleaved (ours, theirs, floor, ours, ...; the order rotates every
 * round so that none always runs right after another), after `warmup` untimed rounds (page cache, .pyc).
 * A contender is { name, cmd, args, cwd | prepare(): { cwd, cleanup() }, warmup?, env? } (env: see environments()).
 */
export function compareRuns(contenders, { reps, warmup = 1, log = () => {} }) {
  const samples = new Map(contenders.map((c) => [c.name, []]));
  const once = (c) => {
    const place = c.prepare ? c.prepare() : { cwd: c.cwd, cleanup() {} };
    try {
      return runOnce(c.cmd, c.args, { cwd: place.cwd, env: c.env });
    } finally {
      place.cleanup();
    }
  };
  for (const c of contenders) for (let i = 0; i < (c.warmup ?? warmup); i++) once(c);
  for (let r = 0; r < reps; r++) {
    for (let k = 0; k < contenders.length; k++) {
      const c = contenders[(k + r) % contenders.length];
      const sample = once(c);
      samples.get(c.name).push(sample);
      log(`    ${c.name.padEnd(10)} run ${r + 1}/${reps}: ${sample.ms.toFixed(1)} ms, ${sample.rssMiB.toFixed(1)} MiB`);
    }
  }
  const result = {};
  for (const [name, list] of samples) {
    result[name] = { ms: stats(list.map((s) => s.ms)), rssMiB: stats(list.map((s) => s.rssMiB)) };
  }
  return result;
}

function cpuTimes() {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  const idle = line[3] + (line[4] ?? 0);
  return { idle, total: line.reduce((a, b) => a + b, 0) };
}

/** Share of all CPUs busy over the next `ms` milliseconds (from /proc/stat), or undefined where there is none. */
export function busyShare(ms = 1000) {
  if (!existsSync('/proc/stat')) return undefined;
  const a = cpuTimes();
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
  const b = cpuTimes();
  return b.total === a.total ? 0 : 1 - (b.idle - a.idle) / (b.total - a.total);
}

/**
 * Waits (up to `maxSeconds`) until other processes leave the machine mostly idle (at most `threshold` of
 * all CPUs busy over a second), so that a section is not measured while something else runs. Returns the
 * busy share last seen. After one wait has run out, later calls only measure.
 */
let gaveUp = false;

export function waitForQuiet({ threshold = 0.15, maxSeconds = 60, log = () => {} } = {}) {
  const started = Date.now();
  let busy = busyShare();
  // Once a wait has run out, the machine is busy for good (as far as this run goes): note it, do not wait again.
  if (gaveUp) return busy;
  let said = false;
  while (busy !== undefined && busy > threshold && Date.now() - started < maxSeconds * 1000) {
    if (!said) log(`  waiting for the machine to be idle (${(busy * 100).toFixed(0)}% of the CPUs busy)`);
    said = true;
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 4000);
    busy = busyShare();
  }
  if (said) log(`  ${busy > threshold ? 'gave up waiting' : 'idle'} after ${((Date.now() - started) / 1000).toFixed(0)} s (${(busy * 100).toFixed(0)}% busy)`);
  if (busy > threshold) gaveUp = true;
  return busy;
}
