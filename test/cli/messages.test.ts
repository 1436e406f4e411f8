/**
 * Errors that say what happened and what to do (issue #16): each message a newcomer met, checked word for word
 * where it matters, through the tools they ran (the built CLIs in `dist/`) and through the library.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initEngine } from '../../bindings/engine.js';
import { executeCommand } from '../../bindings/record/run.js';
import { loadPublicKey } from '../../bindings/keys/keys.js';
import { verify } from '../../bindings/verify/verify.js';
import { assertReferenceInstalled, makeTempDir } from '../helpers/reference.js';
import { makeKey, referenceRun, write, writeLayout, type KeyFile } from '../helpers/scenario.js';

const cli = (tool: string) => fileURLToPath(new URL(`../../dist/cli/${tool}.js`, import.meta.url));
const run = (tool: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = process.env) => spawnSync(process.execPath, [cli(tool), ...args], { cwd, encoding: 'utf8', env });

let dir: string;
let owner: KeyFile;
let alice: KeyFile;
let mallory: KeyFile;
let carol: KeyFile;
const verifyArgs = (layout = 'root.layout', key: KeyFile = owner) => ['--layout', layout, '--layout-keys', `${key.path}.pub`, '--key-types', key.type];

beforeAll(async () => {
  assertReferenceInstalled();
  await initEngine();
  dir = makeTempDir('in-toto-messages-');
  const keys = join(dir, 'keys');
  mkdirSync(keys);
  owner = makeKey(keys, 'owner', 'ed25519');
  alice = makeKey(keys, 'alice', 'ed25519');
  mallory = makeKey(keys, 'mallory', 'ed25519');
  carol = makeKey(keys, 'carol', 'rsa');
  // write-source (alice) creates src.c; build-tarball takes it and makes app.tar.
  writeLayout(join(dir, 'root.layout'), {
    steps: [
      { name: 'write-source', pubkeys: [alice], expected_products: [['CREATE', 'src.c'], ['DISALLOW', '*']] },
      { name: 'build-tarball', pubkeys: [carol], expected_materials: [['MATCH', 'src.c', 'WITH', 'PRODUCTS', 'FROM', 'write-source'], ['DISALLOW', '*']], expected_products: [['ALLOW', '*']] },
    ],
    signers: [owner],
  });
  write(dir, 'src.c', 'int main;');
  referenceRun(dir, 'write-source', alice, { products: ['src.c'] });
  write(dir, 'src.c', 'int evil;');
  referenceRun(dir, 'build-tarball', carol, { materials: ['src.c'] });
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A copy of the chain's directory in which `edit` may break things. */
function variant(name: string, edit: (at: string) => void = () => {}): string {
  const at = join(dir, name);
  mkdirSync(at);
  for (const file of ['root.layout', `write-source.${alice.keyid.slice(0, 8)}.link`, `build-tarball.${carol.keyid.slice(0, 8)}.link`]) {
    writeFileSync(join(at, file), readFileSync(join(dir, file)));
  }
  edit(at);
  return at;
}

describe('in-toto-verify', () => {
  it("a rule failure says where each digest was recorded (expected from the products of one step, found in another's materials)", () => {
    const result = run('in-toto-verify', verifyArgs(), variant('digests'));
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/expected sha256:[0-9a-f]{64} \(products of 'write-source'\)/);
    expect(result.stderr).toMatch(/found {4}sha256:[0-9a-f]{64} \(materials of 'build-tarball'\)/);
  });

  it('links not found: where it looked, and the link files present for the step under a key the layout does not authorize', () => {
    const at = variant('unauthorized', (d) => {
      rmSync(join(d, `write-source.${alice.keyid.slice(0, 8)}.link`));
      referenceRun(d, 'write-source', mallory, {});
    });
    const result = run('in-toto-verify', verifyArgs(), at);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain(`missing: write-source.${alice.keyid.slice(0, 8)}.link, looked for in the link directory ${at}`);
    expect(result.stderr).toContain(`present but named for a key the step does not authorize (${alice.keyid.slice(0, 8)}): write-source.${mallory.keyid.slice(0, 8)}.link`);
  });

  it('a --link-dir that does not exist is said to be missing (IO), not every link', () => {
    const result = run('in-toto-verify', [...verifyArgs(), '--link-dir', 'no-such-dir'], variant('nodir'));
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/\[IO\] the link directory \S*no-such-dir does not exist/);
    expect(result.stderr).not.toContain('LINK_MISSING');
  });

  it('a failure caused by an earlier one says so', () => {
    const at = variant('upstream', (d) => {
      const file = join(d, `write-source.${alice.keyid.slice(0, 8)}.link`);
      const doc = JSON.parse(readFileSync(file, 'utf8'));
      doc.signatures[0].sig = doc.signatures[0].sig.replace(/^./, (c: string) => (c === '0' ? '1' : '0'));
      writeFileSync(file, JSON.stringify(doc));
    });
    const result = run('in-toto-verify', verifyArgs(), at);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('[SIGNATURE]');
    expect(result.stderr).toContain("this follows from step 'write-source' having no verified link (see its failure)");
  });

  it('the wrong layout key: names the key file given and the key id that did sign', () => {
    const result = run('in-toto-verify', verifyArgs('root.layout', mallory), variant('wrongkey'));
    expect(result.status).toBe(1);
    expect(result.stderr).toContain(`no signature by key ${mallory.keyid} (the key given in ${mallory.path}.pub)`);
    expect(result.stderr).toContain(`; it is signed by key ${owner.keyid}`);
  });

  it('a wrong --key-types says which to pass', () => {
    const result = run('in-toto-verify', ['--layout', 'root.layout', '--layout-keys', `${owner.path}.pub`, '--key-types', 'rsa'], variant('keytype'));
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('expected an rsa key, found an ed25519 key: pass --key-types ed25519');
  });

  it('malformed JSON: the file, line and column', () => {
    const at = variant('json', (d) => writeFileSync(join(d, 'bad.layout'), '{"signed": {"a": 1,\n "b": }}'));
    const result = run('in-toto-verify', verifyArgs('bad.layout'), at);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('[JSON] layout bad.layout: invalid JSON at line 2, column 7 (byte 26): unexpected character');
  });

  it('a YAML description given as --layout points to in-toto-layout create', () => {
    const at = variant('yaml', (d) => writeFileSync(join(d, 'chain.yml'), 'expires: 1y\nsteps:\n  - name: build\n'));
    const result = run('in-toto-verify', verifyArgs('chain.yml'), at);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain("it looks like a layout description (YAML), not a signed layout: make one with 'in-toto-layout create chain.yml -o root.layout -k OWNER_KEY'");
  });

  it('an empty "signed" says it is empty', () => {
    const at = variant('empty', (d) => writeFileSync(join(d, 'empty.layout'), '{"signed": {}, "signatures": []}'));
    const result = run('in-toto-verify', verifyArgs('empty.layout'), at);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('the layout is empty: its "signed" object has no fields');
    expect(result.stderr).not.toContain('undefined');
  });

  it('an expired layout says how to renew it', () => {
    const at = variant('expired', (d) => writeLayout(join(d, 'root.layout'), { steps: [], signers: [owner], expires: '2001-01-01T00:00:00Z' }));
    const result = run('in-toto-verify', verifyArgs(), at);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('the layout expired at 2001-01-01T00:00:00Z');
    expect(result.stderr).toContain('in-toto-layout set-expiry LAYOUT --in 6m -k OWNER_KEY');
  });
});

describe('the recording tools', () => {
  it('a public key given where a private key is needed says it is a public key', () => {
    const result = run('in-toto-run', ['-n', 'build', '-k', `${alice.path}.pub`, '-t', 'ed25519', '-x'], variant('pubkey'));
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('this is a public key (its keyval.private is empty or absent), not a private key');
  });

  it('a private key of another type says which --key-type to pass', () => {
    const result = run('in-toto-run', ['-n', 'build', '-k', carol.path, '-t', 'ed25519', '-x'], variant('privtype'));
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('expected an ed25519 key, found an rsa key: pass --key-type rsa');
  });

  it('a command that times out names IN_TOTO_LINK_CMD_EXEC_TIMEOUT', async () => {
    const error = await executeCommand(['sleep', '5'], { timeoutSeconds: 0.2 }).catch((e: Error) => e);
    expect((error as Error).message).toContain('timed out after 0.2 seconds; allow it longer with the IN_TOTO_LINK_CMD_EXEC_TIMEOUT setting');
  });
});

describe('the library', () => {
  it('a { directory } that does not exist is IO, not LINK_MISSING', async () => {
    const verdict = await verify({
      layout: readFileSync(join(dir, 'root.layout')),
      layoutKeys: [loadPublicKey(readFileSync(`${owner.path}.pub`), { keyType: 'ed25519' })],
      links: { directory: join(dir, 'nowhere') },
    });
    expect(verdict.failures.map((f) => f.code)).toEqual(['IO']);
    expect(verdict.failures[0]!.message).toContain('does not exist');
  });

  it("a rule failure's digests carry where they were found", async () => {
    const verdict = await verify({
      layout: readFileSync(join(dir, 'root.layout')),
      layoutKeys: [loadPublicKey(readFileSync(`${owner.path}.pub`), { keyType: 'ed25519' })],
      links: { directory: dir },
    });
    expect(verdict.failures).toEqual([expect.objectContaining({ code: 'RULE_DISALLOW', step: 'build-tarball' })]);
    expect(verdict.failures[0]!.digests).toEqual([expect.objectContaining({ artifact: 'src.c', source: "products of 'write-source'", foundIn: "materials of 'build-tarball'" })]);
  });
});

describe('--help', () => {
  const tools: [string, string[]][] = [
    ['in-toto-verify', []], ['in-toto-run', []], ['in-toto-record', ['start']], ['in-toto-record', ['stop']], ['in-toto-sign', []],
    ['in-toto-keygen', []], ['in-toto-mock', []], ['in-toto-match-products', []],
    ...['create', 'add-key', 'set-expiry', 'sign', 'lint', 'graph'].map((sub): [string, string[]] => ['in-toto-layout', [sub]]),
  ];
  it.each(tools)('%s %s shows examples that use the tool', (tool, sub) => {
    const result = run(tool, [...sub, '--help'], dir);
    expect(result.status).toBe(0);
    const examples = result.stdout.slice(result.stdout.indexOf('\nexamples:\n'));
    expect(examples.length).toBeGreaterThan(20);
    // Each example: a line saying what it does, then the command, which runs this tool (and subcommand).
    const commands = examples.split('\n').filter((line) => line.startsWith('    '));
    expect(commands.length).toBeGreaterThan(0);
    for (const command of commands) expect(command.trim()).toMatch(new RegExp(`(^|; )${[tool, ...sub].join(' ')} `));
  });
});

describe('what a newcomer met next (a walkthrough from a fresh clone)', () => {
  it('a private key where a public key belongs says so', () => {
    const result = run('in-toto-verify', ['--layout', 'root.layout', '--layout-keys', owner.path, '--key-types', 'ed25519'], variant('privkey'));
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('this is a private key (it carries keyval.private), where a public key belongs: give its public key file');
  });

  it('an unsigned layout says how to sign it', () => {
    const at = variant('unsigned', (d) => {
      const doc = JSON.parse(readFileSync(join(d, 'root.layout'), 'utf8'));
      writeFileSync(join(d, 'root.layout'), JSON.stringify({ ...doc, signatures: [] }));
    });
    const result = run('in-toto-verify', verifyArgs(), at);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('it carries no signature: its owner signs it with in-toto-layout sign LAYOUT -k OWNER_KEY');
  });

  it('set-expiry refuses a date in the past unless --force', () => {
    const at = variant('past');
    const refused = run('in-toto-layout', ['set-expiry', 'root.layout', '--at', '2020-01-01', '-o', 'past.layout'], at);
    expect(refused.status).toBe(1);
    expect(refused.stderr).toContain('2020-01-01T00:00:00Z is in the past');
    expect(run('in-toto-layout', ['set-expiry', 'root.layout', '--at', '2020-01-01', '-o', 'past.layout', '--force'], at).status).toBe(0);
  });

  it('in-toto-layout create names the --key-type to pass; an unquoted * in YAML says to quote it', () => {
    const at = variant('create-hints', (d) => writeFileSync(join(d, 'c.yml'), 'expires: 2099-01-01T00:00:00Z\nsteps:\n  - name: a\n    products: [*]\n'));
    const wrongType = run('in-toto-layout', ['create', 'c.yml', '-k', owner.path, '-t', 'rsa'], at);
    expect(wrongType.stderr).toMatch(/a pattern that starts with \* must be quoted in YAML/);
    writeFileSync(join(at, 'ok.yml'), "expires: 2099-01-01T00:00:00Z\nsteps: []\n");
    const typed = run('in-toto-layout', ['create', 'ok.yml', '-k', owner.path, '-t', 'rsa'], at);
    expect(typed.stderr).toContain('expected an rsa key, found an ed25519 key: pass --key-type ed25519');
  });

  it('in-toto-run -d into a directory that does not exist says so', () => {
    const result = run('in-toto-run', ['-n', 'build', '-k', alice.path, '-t', 'ed25519', '-x', '-d', 'no-such-dir'], variant('nodir-d'));
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/the directory \S*no-such-dir does not exist: create it, or write elsewhere \(-d\)/);
  });
});

describe('inspections and the files around them', () => {
  it('a DISALLOW failure of an inspection over files no rule expects says the inspection records its whole directory', async () => {
    const { generateKeyPair } = await import('../../bindings/keys/crypto/index.js');
    const { createMetablock, serializeEnvelope, signEnvelope } = await import('../../bindings/metadata/envelope.js');
    const { keyToDict } = await import('../../bindings/keys/keys.js');
    const { linkFileName } = await import('../../bindings/verify/link-source.js');
    const [ownerKey, bobKey] = await Promise.all([generateKeyPair('ed25519'), generateKeyPair('ed25519')]);
    const app = { sha256: 'a'.repeat(64) };
    const layout = serializeEnvelope(await signEnvelope(createMetablock({
      _type: 'layout', expires: '2100-01-01T00:00:00Z', readme: '', keys: { [bobKey.keyid]: keyToDict(bobKey.publicKey) },
      steps: [{ _type: 'step', name: 'build', threshold: 1, pubkeys: [bobKey.keyid], expected_command: [], expected_materials: [], expected_products: [['CREATE', 'app'], ['DISALLOW', '*']] }],
      inspect: [{ _type: 'inspection', name: 'check', run: ['true'], expected_materials: [['MATCH', 'app', 'WITH', 'PRODUCTS', 'FROM', 'build'], ['DISALLOW', '*']], expected_products: [] }],
    }), ownerKey));
    const build = serializeEnvelope(await signEnvelope(createMetablock({ _type: 'link', name: 'build', command: [], materials: {}, products: { app }, byproducts: {}, environment: {} }), bobKey));
    const verdict = await verify({
      layout, layoutKeys: [ownerKey.publicKey], links: new Map([[linkFileName('build', bobKey.keyid), build]]),
      inspections: { run: async (i) => ({ _type: 'link', name: i.name, command: [...i.run], materials: { app, 'owner.key': { sha256: 'b'.repeat(64) } }, products: {}, byproducts: { 'return-value': 0 }, environment: {} }) },
    });
    expect(verdict.failures).toEqual([expect.objectContaining({ code: 'RULE_DISALLOW', artifacts: ['owner.key'] })]);
    expect(verdict.failures[0]!.message).toContain('an inspection records every file of the directory it runs in');
  });
});
