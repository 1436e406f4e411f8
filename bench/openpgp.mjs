#!/usr/bin/env node
// Verifying a chain signed with OpenPGP keys, whole process: the reference's `in-toto-verify --gpg` against ours,
// with the owner's key exported through gpg (`--gpg`, as the reference) and read from an exported key file
// (`-k owner.asc`, no gpg at all). The chain: python's gpg demo shape, three steps (RSA, DSA and Ed25519
// functionaries; the owner an RSA key signing with its subkey), recorded with the reference's own in-toto-run -g,
// no inspection. Writes bench/OPENPGP.md. `node bench/openpgp.mjs` (after `npm run build`).
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BENCH, ROOT, ensureReference } from './lib/fixtures.mjs';
import { childEnv, compareRuns, ensureGnuTime } from './lib/measure.mjs';

const log = (line) => process.stdout.write(`${line}\n`);
ensureReference(log);
ensureGnuTime(log);
childEnv();

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
const result = compareRuns(
  [
    { name: 'ours -g', cmd: process.execPath, args: [ours, '-l', 'root.layout', '-g', owner, '--gpg-home', home], cwd: dir },
    { name: 'ours -k', cmd: process.execPath, args: [ours, '-l', 'root.layout', '-k', 'owner.asc'], cwd: dir },
    { name: 'reference', cmd: '/usr/bin/in-toto-verify', args: ['-l', 'root.layout', '-g', owner, '--gpg-home', home], cwd: dir },
  ],
  { reps: 10, warmup: 2, log },
);
const f = (s) => `${s.mean.toFixed(0)} ms ± ${s.sd.toFixed(0)}`;
const refMs = result.reference.ms.mean;
const row = (name, label) => `| ${label} | ${f(result[name].ms)} | **${(refMs / result[name].ms.mean).toFixed(1)}x** | ${result[name].rssMiB.max.toFixed(0)} MiB |`;
const md = `# OpenPGP verification benchmark

Written by \`node bench/openpgp.mjs\` on ${new Date().toISOString().replace(/\.\d+Z$/, 'Z')}: a three-step chain whose functionaries hold
RSA 3072, DSA 2048 and Ed25519 OpenPGP keys and whose layout an RSA key signed with its subkey, recorded with the
reference's \`in-toto-run -g\`; whole-process wall time, 10 interleaved runs after 2 warm-ups.

| verifier | time | reference / this | peak RSS |
|---|---|---|---|
| reference \`in-toto-verify -g OWNER --gpg-home\` | ${f(result.reference.ms)} | 1.0x | ${result.reference.rssMiB.max.toFixed(0)} MiB |
${row('ours -g', 'ours, `-g OWNER --gpg-home` (the key exported through gpg)')}
${row('ours -k', 'ours, `-k owner.asc` (an exported key file, no gpg)')}
`;
writeFileSync(join(BENCH, 'OPENPGP.md'), md);
log(md);
