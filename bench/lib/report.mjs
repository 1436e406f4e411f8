// What the generated pages (bench/RESULTS.md, bench/RECORD.md, bench/OPENPGP.md) share: the machine and
// commit they were measured on, the two environments, and number formatting.
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus, totalmem, release } from 'node:os';
import { join } from 'node:path';
import { ROOT, buildFingerprint, referenceVersion } from './fixtures.mjs';

function git(args) {
  try {
    return execFileSync('git', args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim();
  } catch {
    return undefined;
  }
}

export function machine() {
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

export const table = (rows) => [
  `| ${rows[0].join(' | ')} |`,
  `|${rows[0].map(() => '---').join('|')}|`,
  ...rows.slice(1).map((r) => `| ${r.join(' | ')} |`),
].join('\n');

/** The machine table every page starts with. `caCerts`: environments().caCerts of bench/lib/measure.mjs. */
export function machineTable(info, caCerts) {
  const env = caCerts?.path
    ? caCerts.source === 'machine'
      ? `this machine sets \`NODE_EXTRA_CA_CERTS=${caCerts.path}\`; "clean" runs Node without it, "as this machine runs it" with it`
      : `this machine does not set \`NODE_EXTRA_CA_CERTS\`; "as this machine runs it" sets it to \`${caCerts.path}\` (as machines that set it do), "clean" runs Node without it`
    : 'no `NODE_EXTRA_CA_CERTS`, and no CA bundle to set it to: one environment only';
  return table([
    ['machine', ''],
    ['CPU', `${info.cpu}, ${info.cores} cores, ${info.memoryGiB.toFixed(1)} GiB`],
    ['kernel', info.kernel],
    ['Node', info.node],
    ['reference', `${info.reference}, ${info.python}`],
    ['this package', `commit ${info.commit}; engine.wasm ${info.wasmBytes.toLocaleString('en-US')} bytes; build fingerprint ${info.build} (sha256 of dist/ and the engine)`],
    ['environment', env],
  ]);
}

/** The paragraph that says what the two environments are and why both are reported. */
export function environmentNote(caCerts, { floor = true } = {}) {
  if (!caCerts?.path) return [];
  const how = caCerts.source === 'machine'
    ? `This machine sets \`NODE_EXTRA_CA_CERTS\` (to \`${caCerts.path}\`) for every process: a setting of the machine, not of either program.`
    : `This machine does not set \`NODE_EXTRA_CA_CERTS\`, which machines behind TLS-inspecting proxies commonly do; the second series sets it to \`${caCerts.path}\`.`;
  return [
    `${how} With it, every Node process parses that CA bundle while it starts, whatever it runs; python does not read it.`,
    'So our tool is measured twice: **clean** (Node without the variable: what the program itself costs) and **as this',
    'machine runs it** (the environment passed through as is: what a user here waits for). ' + (floor
      ? 'The reference and the floor run once (the reference with the machine\'s environment, which it does not read; the floor clean).'
      : 'The reference runs once, with the machine\'s environment (which it does not read).'),
  ];
}

export const s = (ms) => (ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(ms >= 100 ? 0 : 1)} ms`);
export const pm = (st) => `${s(st.mean)} ± ${s(st.sd)}`;
export const pmMin = (st) => `${pm(st)} (min ${s(st.min)})`;
export const x = (r) => `${r.toFixed(r >= 10 ? 0 : 1)}x`;
export const mib = (v) => `${v.toFixed(0)} MiB`;
