// The main job: the in-toto demo supply chain, end to end, with our tools, checked against the reference.
//   1. keys made with our in-toto-keygen (owner and bob ed25519, carol RSA)
//   2. the layout written and signed by this library
//   3. the steps recorded with our in-toto-run
//   4. verified by our in-toto-verify and by the reference's: both pass
//   5. the final product replaced by an attacker: both refuse, ours says exactly why
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  createMetablock, initEngine, keyToDict, loadPrivateKey, loadPublicKey, serializeEnvelope, signEnvelope,
} from '../dist/index.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const ourVerify = join(root, 'bin/in-toto-verify.js');
// Everything under one temporary directory, removed at the end unless the demo failed (then it says where it is).
const top = mkdtempSync(join(tmpdir(), 'in-toto-demo-'));
const dir = join(top, 'functionaries');
mkdirSync(dir);
let copies = 0;
const say = (text) => process.stdout.write(`\n== ${text}\n`);
const run = (cmd, args, cwd = dir) => execFileSync(cmd, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] }).toString();
/** One of our command-line tools, as installed (bin/, bundled). */
const tool = (name, args, cwd = dir) => run(process.execPath, [join(root, 'bin', `${name}.js`), ...args], cwd);

await initEngine();
say(`working in ${dir}`);

say('1. keys (our in-toto-keygen): owner and bob ed25519, carol RSA');
tool('in-toto-keygen', ['-t', 'ed25519', 'owner']);
tool('in-toto-keygen', ['-t', 'ed25519', 'bob']);
tool('in-toto-keygen', ['-t', 'rsa', '-b', '2048', 'carol']);
const owner = await loadPrivateKey(readFileSync(join(dir, 'owner')), { keyType: 'ed25519' });
const bob = loadPublicKey(readFileSync(join(dir, 'bob.pub')), { keyType: 'ed25519' });
const carol = loadPublicKey(readFileSync(join(dir, 'carol.pub')), { keyType: 'rsa' });

say('2. the layout, written and signed by this library');
const layout = {
  _type: 'layout',
  expires: new Date(Date.now() + 30 * 86400e3).toISOString().replace(/\.\d{3}Z$/, 'Z'),
  readme: 'in-toto demo: bob writes foo.py, carol packages it, the client unpacks and checks',
  keys: { [bob.keyid]: keyToDict(bob), [carol.keyid]: keyToDict(carol) },
  steps: [
    { _type: 'step', name: 'write-code', threshold: 1, pubkeys: [bob.keyid], expected_command: ['vi'],
      expected_materials: [], expected_products: [['CREATE', 'foo.py'], ['DISALLOW', '*']] },
    { _type: 'step', name: 'package', threshold: 1, pubkeys: [carol.keyid], expected_command: ['tar', 'zcvf', 'foo.tar.gz', 'foo.py'],
      expected_materials: [['MATCH', 'foo.py', 'WITH', 'PRODUCTS', 'FROM', 'write-code'], ['DISALLOW', '*']],
      expected_products: [['CREATE', 'foo.tar.gz'], ['ALLOW', 'foo.py'], ['DISALLOW', '*']] },
  ],
  inspect: [
    { _type: 'inspection', name: 'untar', run: ['tar', 'xzf', 'foo.tar.gz'],
      expected_materials: [['MATCH', 'foo.tar.gz', 'WITH', 'PRODUCTS', 'FROM', 'package'], ['ALLOW', 'owner.pub'], ['ALLOW', 'root.layout'], ['DISALLOW', '*']],
      expected_products: [['MATCH', 'foo.py', 'WITH', 'PRODUCTS', 'FROM', 'write-code'], ['MATCH', 'foo.tar.gz', 'WITH', 'PRODUCTS', 'FROM', 'package'],
        ['ALLOW', 'owner.pub'], ['ALLOW', 'root.layout'], ['DISALLOW', '*']] },
  ],
};
const signed = await signEnvelope(createMetablock(layout), owner);
const client = join(top, 'client');
mkdirSync(client);
writeFileSync(join(client, 'root.layout'), serializeEnvelope(signed));
copyFileSync(join(dir, 'owner.pub'), join(client, 'owner.pub'));

say('3. the steps, recorded with our in-toto-run');
writeFileSync(join(dir, 'foo.py'), 'print("hello world")\n');
tool('in-toto-run', ['-n', 'write-code', '-k', 'bob', '-t', 'ed25519', '-p', 'foo.py', '-x']); // bob edited foo.py by hand
tool('in-toto-run', ['-n', 'package', '-k', 'carol', '-m', 'foo.py', '-p', 'foo.tar.gz', '--', 'tar', 'zcvf', 'foo.tar.gz', 'foo.py']);
for (const file of ['foo.tar.gz', `write-code.${bob.keyid.slice(0, 8)}.link`, `package.${carol.keyid.slice(0, 8)}.link`]) {
  copyFileSync(join(dir, file), join(client, file));
}

// Each verifier gets its own copy of the client's directory: the inspection unpacks foo.tar.gz into it.
function copyOf(from) {
  const to = join(top, `verify-${++copies}`);
  cpSync(from, to, { recursive: true });
  return to;
}

function verifyBoth(label) {
  say(`${label}: our in-toto-verify`);
  const ours = spawnSync(process.execPath, [ourVerify, '--layout', 'root.layout', '--layout-keys', 'owner.pub', '--key-types', 'ed25519'], { cwd: copyOf(client), encoding: 'utf8' });
  process.stdout.write(ours.stderr + ours.stdout);
  console.log(`exit code ${ours.status}`);
  say(`${label}: the reference's in-toto-verify`);
  const theirs = spawnSync('in-toto-verify', ['--layout', 'root.layout', '--layout-keys', 'owner.pub', '--key-types', 'ed25519'], { cwd: copyOf(client), encoding: 'utf8' });
  process.stdout.write(theirs.stderr + theirs.stdout);
  console.log(`exit code ${theirs.status}`);
  return [ours.status, theirs.status];
}

const good = verifyBoth('4. the untouched chain');

say('5. an attacker replaces foo.tar.gz on the mirror');
writeFileSync(join(dir, 'foo.py'), 'print("pwned")\n');
run('tar', ['zcf', join(client, 'foo.tar.gz'), 'foo.py']);
const bad = verifyBoth('5. the tampered chain');

const ok = good[0] === 0 && good[1] === 0 && bad[0] === 1 && bad[1] === 1;
say(ok ? 'demo OK: both verifiers pass the real chain and refuse the tampered one' : `demo FAILED: exit codes ${good} then ${bad}; its files are kept in ${top}`);
if (ok) rmSync(top, { recursive: true, force: true });
process.exit(ok ? 0 : 1);
