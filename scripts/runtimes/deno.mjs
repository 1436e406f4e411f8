#!/usr/bin/env node
// The conformance suite and the Deno example under Deno (the `deno` npm package's binary), with `deno test`
// against the packed package. Prints `deno: N passed, N failed[, N skipped]`; exits non-zero on any failure.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findBinary, finish, medians, prepareApp, requiredRuns } from './app.mjs';

const deno = findBinary(['@deno/linux-x64-glibc/deno', '@deno/linux-arm64-glibc/deno', 'deno/deno']);
const app = await prepareApp();
const junit = join(app, 'deno-junit.xml');
const env = { ...process.env, DENO_DIR: join(app, '.deno'), DENO_NO_UPDATE_CHECK: '1', NO_COLOR: '1' };
const tests = ['test/runtimes/deno/conformance.test.js', 'test/runtimes/deno/example.test.js'];
const result = spawnSync(deno, ['test', '--node-modules-dir=manual', '--no-remote', '--allow-read', '--allow-run', '--allow-env', `--allow-write=${tmpdir()}`, `--junit-path=${junit}`, ...tests], {
  cwd: app,
  stdio: 'inherit',
  env,
});

// Cold start: fresh processes (the module graph already type-checked and cached above); the median of a few.
let coldFailed = 0;
const runs = [];
for (let i = 0; i < 5; i++) {
  const cold = spawnSync(deno, ['run', '--node-modules-dir=manual', '--no-remote', '--allow-read', 'test/runtimes/deno/cold.js'], { cwd: app, env, encoding: 'utf8' });
  if (cold.status !== 0) {
    console.error(`cold start failed: ${cold.stdout}${cold.stderr}`);
    coldFailed = 1;
    break;
  }
  runs.push(JSON.parse(cold.stdout.trim().split('\n').pop()));
}
if (runs.length > 0) {
  console.log(`cold start (deno, median of ${runs.length}): ${JSON.stringify(medians(runs))}`);
}
if (!existsSync(junit)) {
  console.error(`deno test wrote no report (exit ${result.status}, ${result.error ?? ''})`);
  finish('deno', { passed: 0, failed: 1 });
}
// Count from deno's JUnit report: each <testcase>, with <failure> or <skipped/> inside when so.
const xml = readFileSync(junit, 'utf8');
const cases = [...xml.matchAll(/<testcase\b[^>]*?(?:\/>|>([\s\S]*?)<\/testcase>)/g)];
const failed = cases.filter((m) => /<failure\b/.test(m[1] ?? '')).length;
const skipped = cases.filter((m) => /<skipped\b/.test(m[1] ?? '')).length;
// Every group that must have run did, all its cases passing (the suite's own and the vectors copied in): a test's
// name is `<group>: <case>`.
let missing = 0;
for (const { group, count, what } of requiredRuns()) {
  const ran = cases.filter((m) => m[0].includes(` name="${group}: `) && !/<failure\b|<skipped\b/.test(m[1] ?? '')).length;
  const ok = ran === count && count > 0;
  if (!ok) missing++;
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${group}: ${what} ran: ${ran} of ${count} passed`);
}
finish('deno', { passed: cases.length - failed - skipped, failed: failed + coldFailed + missing + (result.status !== 0 && failed === 0 ? 1 : 0), skipped });
