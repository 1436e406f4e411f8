#!/usr/bin/env node
// Verifying a chain signed with OpenPGP keys, whole process: the reference's `in-toto-verify --gpg` against ours,
// with the owner's key exported through gpg (`--gpg`, as the reference) and read from an exported key file
// (`-k owner.asc`, no gpg at all). The chain: python's gpg demo shape, three steps (RSA, DSA and Ed25519
// functionaries; the owner an RSA key signing with its subkey), recorded with the reference's own in-toto-run -g,
// no inspection. Ours runs in the clean environment and as this machine runs it (bench/lib/measure.mjs
// environments()). Writes bench/OPENPGP.md.
//
//   npm run bench:openpgp    (node bench/openpgp.mjs, after `npm run build`)
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BENCH, ROOT, ensureReference } from './lib/fixtures.mjs';
import { compareRuns, ensureGnuTime, environments, waitForQuiet } from './lib/measure.mjs';
import { environmentNote, machine, machineTable, mib, pm, table, x } from './lib/report.mjs';

const log = (line) => process.stdout.write(`${line}\n`);
ensureReference(log);
ensureGnuTime(log);
const env = environments();
const machineEnv = Boolean(env.caCerts.path);
const info = machine();

const home = mkdtempSync(join(tmpdir(), 'itb-'));
const dir = mkdtempSync(join(tmpdir(), 'in-toto-gpg-bench-'));
process.on('exit', () => {
  spawnSync('gpgconf', ['--homedir', home, '--kill', 'all']);
  rmSync(home, { recursive: true, force: true });
  rmSync(dir, { recursive: true, force: true });
});
const gpg = (...args) => execFileSync('gpg', ['--homedir', home, '--batch', '--pinentry-mode', 'loopback', '--passphrase', '', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
const fingerprints = () => new Set(gpg('--with-colons', '--list-keys').toString().split('\n').filter((l) => l.startsWith('fpr:')).map((l) => l.split(':')[9]));
/** Runs a gpg key command and returns the fingerprint it added. */
const added = (...args) => {
  const before = fingerprints();
  gpg(...args);
  return [...fingerprints()].find((f) => !before.has(f)).toLowerCase();
};

log('making keys (gpg) and recording the chain (the reference\'s in-toto-run -g)');
const owner = added('--quick-gen-key', 'owner <owner@example.invalid>', 'rsa3072', 'cert', 'never');
added('--quick-add-key', owner, 'rsa3072', 'sign', 'never');
const alice = added('--quick-gen-key', 'alice <alice@example.invalid>', 'rsa3072', 'sign,cert', 'never');
const dora = added('--quick-gen-key', 'dora <dora@example.invalid>', 'dsa2048', 'sign,cert', 'never');
const eve = added('--quick-gen-key', 'eve <eve@example.invalid>', 'ed25519', 'sign,cert', 'never');
const python = (program, ...args) => execFileSync('/usr/bin/python3', ['-c', program, ...args]).toString();
const dicts = JSON.parse(python('import json, sys\nfrom securesystemslib.gpg.functions import export_pubkeys\nprint(json.dumps(export_pubkeys(sys.argv[2:], sys.argv[1])))', home, alice, dora, eve));
const step = (name, key, materials, products) => ({ _type: 'step', name, pubkeys: [key], threshold: 1, expected_command: [], expected_materials: materials, expected_products: products });
writeFileSync(join(dir, 'layout.template'), JSON.stringify({
  signatures: [],
  signed: {
    _type: 'layout', expires: '2099-01-01T00:00:00Z', readme: '', keys: dicts, inspect: [],
    steps: [
      step('write-code', alice, [], [['CREATE', 'foo.py'], ['DISALLOW', '*']]),
      step('package', dora, [['MATCH', 'foo.py', 'WITH', 'PRODUCTS', 'FROM', 'write-code'], ['DISALLOW', '*']], [['CREATE', 'foo.tar.gz'], ['ALLOW', 'foo.py'], ['DISALLOW', '*']]),
      step('test', eve, [['MATCH', 'foo.tar.gz', 'WITH', 'PRODUCTS', 'FROM', 'package'], ['ALLOW', 'foo.py'], ['DISALLOW', '*']], [['ALLOW', '*']]),
    ],
  },
}));
const ref = (tool, args) => {
  const r = spawnSync(`/usr/bin/${tool}`, args, { cwd: dir, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${tool} ${args.join(' ')}: ${r.stderr}`);
};
ref('in-toto-sign', ['-f', 'layout.template', '-g', owner, '--gpg-home', home, '-o', 'root.layout']);
writeFileSync(join(dir, 'foo.py'), 'print("hello")\n');
ref('in-toto-run', ['-n', 'write-code', '-g', alice, '--gpg-home', home, '-p', 'foo.py', '-x']);
ref('in-toto-run', ['-n', 'package', '-g', dora, '--gpg-home', home, '-m', 'foo.py', '-p', 'foo.tar.gz', '--', 'tar', 'czf', 'foo.tar.gz', 'foo.py']);
ref('in-toto-run', ['-n', 'test', '-g', eve, '--gpg-home', home, '-m', 'foo.tar.gz', 'foo.py', '-p', 'foo.tar.gz', 'foo.py', '-x']);
writeFileSync(join(dir, 'owner.asc'), gpg('--armor', '--export', owner));

const ours = join(ROOT, 'bin/in-toto-verify.js');
const oursG = [ours, '-l', 'root.layout', '-g', owner, '--gpg-home', home];
const oursK = [ours, '-l', 'root.layout', '-k', 'owner.asc'];
const busyBefore = waitForQuiet({ log });
const result = compareRuns(
  [
    { name: 'ours -g', cmd: process.execPath, args: oursG, cwd: dir, env: env.clean },
    { name: 'ours -k', cmd: process.execPath, args: oursK, cwd: dir, env: env.clean },
    ...(machineEnv
      ? [
        { name: 'ours -g, machine', cmd: process.execPath, args: oursG, cwd: dir, env: env.machine },
        { name: 'ours -k, machine', cmd: process.execPath, args: oursK, cwd: dir, env: env.machine },
      ]
      : []),
    { name: 'reference', cmd: '/usr/bin/in-toto-verify', args: ['-l', 'root.layout', '-g', owner, '--gpg-home', home], cwd: dir, env: env.machine },
  ],
  { reps: 10, warmup: 2, log },
);
const refRun = result.reference;
const ratio = (name) => refRun.ms.mean / result[name].ms.mean;
const said = (name) => (Math.abs(ratio(name) - 1) < 0.05 ? 'about as fast' : ratio(name) >= 1 ? `${x(ratio(name))} faster` : `the reference ${x(1 / ratio(name))} faster`);
const row = (name, label, environment) => [label, ...(machineEnv ? [environment] : []), pm(result[name].ms), `**${x(ratio(name))}**`, mib(result[name].rssMiB.max)];
const rows = [
  ['verifier', ...(machineEnv ? ['environment'] : []), 'time', 'reference / this', 'peak RSS'],
  ['reference `in-toto-verify -g OWNER --gpg-home`', ...(machineEnv ? ['as this machine runs it'] : []), pm(refRun.ms), '1.0x', mib(refRun.rssMiB.max)],
  row('ours -k', 'ours, `-k owner.asc` (an exported key file, no gpg)', 'clean'),
  row('ours -g', 'ours, `-g OWNER --gpg-home` (the key exported through gpg)', 'clean'),
  ...(machineEnv
    ? [row('ours -k, machine', 'ours, `-k owner.asc`', 'as this machine runs it'), row('ours -g, machine', 'ours, `-g OWNER --gpg-home`', 'as this machine runs it')]
    : []),
];
const md = [
  '# OpenPGP verification benchmark: in-toto-wasm against python in-toto',
  '',
  'How long `in-toto-verify` of this package and of the reference implementation (python in-toto) take to verify a chain',
  `signed with OpenPGP (gpg) keys. Written by \`npm run bench:openpgp\` (\`node bench/openpgp.mjs\`) on ${info.date}; do not edit by hand, run it again.`,
  '',
  machineTable(info, env.caCerts),
  '',
  ...(busyBefore > 0.25 ? [`> **Measured on a busy machine** (${(busyBefore * 100).toFixed(0)}% of the CPUs busy when it started): times are inflated and noisy.`, ''] : []),
  '## In short',
  '',
  `Ours verifies the chain in ${pm(result['ours -k'].ms)} from an exported key file (${said('ours -k')}) and in ${pm(result['ours -g'].ms)} with \`--gpg\``,
  `(${said('ours -g')}), against the reference's ${pm(refRun.ms)}` +
    (machineEnv ? `; as this machine runs it, ${pm(result['ours -k, machine'].ms)} and ${pm(result['ours -g, machine'].ms)} (${said('ours -k, machine')}, ${said('ours -g, machine')})` : '') +
    `. Peak memory: ours ${mib(result['ours -k'].rssMiB.max)}, the reference ${mib(refRun.rssMiB.max)}.`,
  '',
  '## Ours against the reference',
  '',
  'A three-step chain whose functionaries hold RSA 3072, DSA 2048 and Ed25519 OpenPGP keys and whose layout an RSA key',
  'signed with its subkey, recorded with the reference\'s `in-toto-run -g` (keys made with gpg in a temporary home,',
  'all by bench/openpgp.mjs); no inspection. Whole-process wall time, 10 interleaved runs after 2 warm-ups, mean ± sd;',
  'peak RSS is GNU `time` %M (for `-g`, of the verifier and the gpg it runs).',
  '',
  ...(machineEnv ? [...environmentNote(env.caCerts, { floor: false }), ''] : []),
  table(rows),
  '',
  '## Reproduce',
  '',
  '```sh',
  'npm run build',
  'npm run bench:openpgp         # writes bench/OPENPGP.md; under a minute (needs gpg)',
  '```',
  '',
].join('\n');
writeFileSync(join(BENCH, 'OPENPGP.md'), md);
log(md);
