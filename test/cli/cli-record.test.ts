/**
 * Our recording tools (in-toto-run, -record, -sign, -keygen, -mock, -match-products) as drop-ins for Debian's
 * in-toto 1.3.1: the same files for the same tree, command and key (byte for byte with ed25519), chains recorded
 * with ours verified by the reference and by ours, keys and signatures usable across both, the reference's exit
 * codes for bad input and nothing left on disk after a failure. Runs the built CLIs (`dist/`, `npm run build`).
 */
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { cpSync, mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Progress, readUserSettings, timeoutSetting } from '../../bindings/cli/common.js';
import { initEngine } from '../../bindings/engine.js';
import { readEnvelope } from '../../bindings/metadata/envelope.js';
import { assertReferenceInstalled, runPython } from '../helpers/reference.js';
import { makeKey, referenceVerify, writeLayout, type KeyFile, type KeyType } from '../helpers/scenario.js';
import { buildTree, tempTrees, type TreeNode } from '../helpers/tree.js';

type Tool = 'in-toto-run' | 'in-toto-record' | 'in-toto-sign' | 'in-toto-keygen' | 'in-toto-mock' | 'in-toto-match-products' | 'in-toto-verify';

interface RunOptions {
  input?: string;
  env?: Record<string, string>;
}

/** Both implementations see the same environment: a HOME of their own (no rc files of the machine's user). */
let home: string;
const envFor = (extra: Record<string, string> = {}) => {
  const env: NodeJS.ProcessEnv = { ...process.env, HOME: home, ...extra };
  for (const name of Object.keys(env)) if (name.startsWith('IN_TOTO_') && !(name in extra)) delete env[name];
  return env;
};

function ours(tool: Tool, args: string[], cwd: string, options: RunOptions = {}): SpawnSyncReturns<string> {
  const bin = fileURLToPath(new URL(`../../dist/cli/${tool}.js`, import.meta.url));
  return spawnSync(process.execPath, [bin, ...args], { cwd, encoding: 'utf8', input: options.input ?? '', env: envFor(options.env) });
}

function theirs(tool: Tool, args: string[], cwd: string, options: RunOptions = {}): SpawnSyncReturns<string> {
  return spawnSync(`/usr/bin/${tool}`, args, { cwd, encoding: 'utf8', input: options.input ?? '', env: envFor(options.env) });
}

function ok(result: SpawnSyncReturns<string>, what: string): SpawnSyncReturns<string> {
  expect(result.status, `${what}: ${result.stderr}`).toBe(0);
  return result;
}

/** Every name in a directory, hidden ones included, recursively, sorted: to see what a command left. */
function listing(dir: string): string[] {
  return (readdirSync(dir, { recursive: true }) as string[]).sort();
}

const temps = tempTrees('in-toto-cli-record-');
const tempDir = temps.dir;

/** The key id the reference computes for a public key file: proof that it loads there. */
function referenceKeyid(pubPath: string, type: KeyType): string {
  const program =
    'import sys; from securesystemslib import interface; ' +
    'print(list(interface.import_publickeys_from_file([sys.argv[1]], [sys.argv[2]]).keys())[0])';
  return runPython(program, undefined, [pubPath, type]).toString().trim();
}

/** A key pair made by OUR in-toto-keygen, with the id the reference gives it. */
function ourKey(dir: string, name: string, type: KeyType): KeyFile {
  ok(ours('in-toto-keygen', ['-t', type, ...(type === 'rsa' ? ['-b', '2048'] : []), name], dir), `in-toto-keygen ${type}`);
  const path = join(dir, name);
  return { path, type, keyid: referenceKeyid(`${path}.pub`, type) };
}

const keyArgs = (key: KeyFile) => ['-k', key.path, '-t', key.type];
const linkName = (step: string, key: KeyFile) => `${step}.${key.keyid.slice(0, 8)}.link`;

type Node = TreeNode;
const build = buildTree;

/** The corners: unicode names, empty directories, symlinks of every kind, a backslash, excluded names. */
const CORNER_TREE: Record<string, Node> = {
  'README.md': '# project\n',
  'src/main.c': 'int main(void) {\r\n  return 0;\r\n}\r\n',
  'src/ünïcødé/文件.txt': 'unicode\n',
  'src/emoji-😀.txt': 'astral\n',
  'src/e\u0301.txt': 'combining accent (NFD)\n',
  'src/\u00e9.txt': 'precomposed (NFC)\n',
  'src/back\\slash.txt': 'a backslash in the name\n',
  'src/sp ace.txt': 'space\n',
  'empty/': { dir: true },
  'nested/empty/dir/': { dir: true },
  'build/out.o': 'object',
  'build/cache.pyc': 'excluded by default',
  'notes.txt~': 'excluded by default',
  '.git/HEAD': 'ref: refs/heads/main\n',
  'old.link': 'excluded by default',
  'file-link': { link: 'README.md' },
  'dir-link': { link: 'src' },
  'dead-link': { link: 'no-such-file' },
  'self-loop': { link: 'self-loop' },
};

/** A command that changes the tree, so that materials and products differ. */
const CHANGE = ['sh', '-c', 'echo "made ü" > made.txt; echo more >> README.md; printf "out\\r\\n"; printf err >&2'];

/** A fresh copy of the corner tree for each implementation, at the same path, so `--base-path /abs` agrees. */
function cornerTree(): string {
  return build(tempDir('in-toto-corners-'), CORNER_TREE);
}

let keys: { ed: KeyFile; rsa: KeyFile; ec: KeyFile; owner: KeyFile };
let refKeys: { ed: KeyFile; rsa: KeyFile; ec: KeyFile };

beforeAll(async () => {
  assertReferenceInstalled();
  await initEngine();
  home = tempDir('in-toto-home-');
  const dir = tempDir('in-toto-cli-keys-');
  keys = { ed: ourKey(dir, 'ed', 'ed25519'), rsa: ourKey(dir, 'rsa', 'rsa'), ec: ourKey(dir, 'ec', 'ecdsa'), owner: ourKey(dir, 'owner', 'ed25519') };
  refKeys = { ed: makeKey(dir, 'ref-ed', 'ed25519'), rsa: makeKey(dir, 'ref-rsa', 'rsa'), ec: makeKey(dir, 'ref-ec', 'ecdsa') };
});
afterAll(() => temps.removeAll());

describe('in-toto-keygen', () => {
  it('writes keys the reference loads and signs with, and whose ids are ours', () => {
    for (const key of [keys.ed, keys.rsa, keys.ec]) {
      // The reference signs with our private key and verifies with our public key.
      const program =
        'import sys; from securesystemslib import interface, keys; ' +
        'k = interface.import_privatekey_from_file(sys.argv[1], key_type=sys.argv[2]); ' +
        'p = interface.import_publickeys_from_file([sys.argv[1] + ".pub"], [sys.argv[2]])[k["keyid"]]; ' +
        'sig = keys.create_signature(k, b"data"); print(k["keyid"], keys.verify_signature(p, sig, b"data"))';
      expect(runPython(program, undefined, [key.path, key.type]).toString().trim()).toBe(`${key.keyid} True`);
    }
  });

  it.each<KeyType>(['ed25519', 'ecdsa', 'rsa'])('encrypts a %s key with -p as the reference does (it decrypts it)', (type) => {
    const dir = tempDir();
    ok(ours('in-toto-keygen', ['-p', '-t', type, ...(type === 'rsa' ? ['-b', '2048'] : []), 'enc'], dir, { input: 's3cret\ns3cret\n' }), 'keygen -p');
    const file = readFileSync(join(dir, 'enc'), 'utf8');
    expect(file).toMatch(type === 'rsa' ? /^-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-256-CBC,/ : /^[0-9a-f]{32}@@@@100000@@@@[0-9a-f]{64}@@@@[0-9a-f]{32}@@@@[0-9a-f]+$/);
    const keyid = referenceKeyid(join(dir, 'enc.pub'), type);
    // The reference signs with it given the password, and refuses it without.
    ok(theirs('in-toto-run', ['-n', 'step', '-k', 'enc', '-t', type, '-P', 's3cret', '-x'], dir), 'reference run with the password');
    expect(readEnvelope(readFileSync(join(dir, `step.${keyid.slice(0, 8)}.link`))).signatures[0]!.keyid).toBe(keyid);
    expect(theirs('in-toto-run', ['-n', 'other', '-k', 'enc', '-t', type, '-x'], dir).status).toBe(1);
  });

  it('asks again when the confirmation differs; nothing entered means not encrypted', () => {
    const dir = tempDir();
    const result = ok(ours('in-toto-keygen', ['-p', '-t', 'ed25519', 'k'], dir, { input: 'one\ntwo\n\n\n' }), 'keygen -p');
    expect(result.stdout).toBe('Mismatch; try again.\n');
    expect(JSON.parse(readFileSync(join(dir, 'k'), 'utf8'))).toMatchObject({ keytype: 'ed25519', keyval: { private: expect.stringMatching(/^[0-9a-f]{64}$/) } });
  });

  it.each([
    ['an unknown type', ['-t', 'dsa', 'k'], 2],
    ['bits that are not a number', ['-t', 'rsa', '-b', 'many', 'k'], 2],
    ['no file name', ['-t', 'ed25519'], 2],
    ['too few RSA bits', ['-t', 'rsa', '-b', '1024', 'k'], 1],
    ['a directory that cannot be made', ['-t', 'ed25519', '/proc/no/such/k'], 1],
  ])('exits as the reference does for %s, writing nothing', (_label, args, code) => {
    const [mine, ref] = [tempDir(), tempDir()];
    expect(ours('in-toto-keygen', args as string[], mine).status).toBe(code);
    expect(theirs('in-toto-keygen', args as string[], ref).status).toBe(code);
    expect(listing(mine)).toEqual([]);
  });
});

describe('a 3-step chain recorded with our tools verifies with the reference and with ours', () => {
  it.each<'ed' | 'rsa' | 'ec'>(['ed', 'rsa', 'ec'])('functionary key %s', (which) => {
    const key = keys[which];
    const dir = tempDir('in-toto-chain-');
    writeLayout(join(dir, 'root.layout'), {
      steps: [
        { name: 'clone', pubkeys: [key], expected_products: [['CREATE', 'src/*'], ['DISALLOW', '*']] },
        { name: 'build', pubkeys: [key], expected_materials: [['MATCH', 'src/*', 'WITH', 'PRODUCTS', 'FROM', 'clone'], ['DISALLOW', '*']], expected_products: [['CREATE', 'app.bin'], ['DISALLOW', '*']] },
        {
          name: 'package', pubkeys: [key], expected_command: ['tar', 'cf', 'app.tar', 'app.bin'],
          expected_materials: [['MATCH', 'app.bin', 'WITH', 'PRODUCTS', 'FROM', 'build'], ['DISALLOW', '*']], expected_products: [['CREATE', 'app.tar'], ['DISALLOW', '*']],
        },
      ],
      signers: [],
    });
    // The owner signs the layout with our in-toto-sign; the reference's in-toto-sign checks it.
    ok(ours('in-toto-sign', ['-f', 'root.layout', ...keyArgs(keys.owner)], dir), 'in-toto-sign');
    ok(theirs('in-toto-sign', ['-f', 'root.layout', '--verify', '-k', `${keys.owner.path}.pub`, '-t', 'ed25519'], dir), 'reference in-toto-sign --verify');

    ok(ours('in-toto-run', ['-n', 'clone', ...keyArgs(key), '-p', 'src', '--', 'sh', '-c', 'mkdir src && echo "int main;" > src/main.c && echo lib > src/lib.c'], dir), 'clone');
    ok(ours('in-toto-record', ['start', '-n', 'build', ...keyArgs(key), '-m', 'src'], dir), 'record start');
    writeFileSync(join(dir, 'app.bin'), readFileSync(join(dir, 'src/main.c')));
    ok(ours('in-toto-record', ['stop', '-n', 'build', ...keyArgs(key), '-p', 'app.bin'], dir), 'record stop');
    ok(ours('in-toto-run', ['-n', 'package', ...keyArgs(key), '-m', 'app.bin', '-p', 'app.tar', '--', 'tar', 'cf', 'app.tar', 'app.bin'], dir), 'package');
    expect(listing(dir).filter((f) => f.endsWith('.link') || f.includes('link-unfinished'))).toEqual(['build', 'clone', 'package'].map((s) => linkName(s, key)));

    expect(referenceVerify(dir, 'root.layout', [keys.owner])).toMatchObject({ status: 0 });
    ok(ours('in-toto-verify', ['--layout', 'root.layout', '--layout-keys', `${keys.owner.path}.pub`, '--key-types', 'ed25519'], dir), 'our in-toto-verify');

    // The chain is not vacuous: a package step that saw other bytes fails both.
    writeFileSync(join(dir, 'app.bin'), 'tampered');
    ok(ours('in-toto-run', ['-n', 'package', ...keyArgs(key), '-m', 'app.bin', '-p', 'app.tar', '--', 'tar', 'cf', 'app.tar', 'app.bin'], dir), 'package again');
    expect(referenceVerify(dir, 'root.layout', [keys.owner]).status).toBe(1);
    expect(ours('in-toto-verify', ['--layout', 'root.layout', '--layout-keys', `${keys.owner.path}.pub`, '--key-types', 'ed25519'], dir).status).toBe(1);
  });

  it('links recorded by the reference (with its keys) verify with ours, mixed with ours', () => {
    const dir = tempDir('in-toto-chain-mixed-');
    writeLayout(join(dir, 'root.layout'), {
      steps: [
        { name: 'write', pubkeys: [refKeys.rsa], expected_products: [['CREATE', 'doc.txt'], ['DISALLOW', '*']] },
        { name: 'review', pubkeys: [keys.ec], expected_materials: [['MATCH', 'doc.txt', 'WITH', 'PRODUCTS', 'FROM', 'write'], ['DISALLOW', '*']] },
      ],
      signers: [refKeys.ed],
    });
    writeFileSync(join(dir, 'doc.txt'), 'text\n');
    ok(theirs('in-toto-run', ['-n', 'write', ...keyArgs(refKeys.rsa), '-p', 'doc.txt', '-x'], dir), 'reference run');
    ok(ours('in-toto-run', ['-n', 'review', ...keyArgs(keys.ec), '-m', 'doc.txt', '-x'], dir), 'our run');
    const verifyArgs = ['--layout', 'root.layout', '--layout-keys', `${refKeys.ed.path}.pub`, '--key-types', 'ed25519'];
    ok(ours('in-toto-verify', verifyArgs, dir), 'our verify');
    ok(theirs('in-toto-verify', verifyArgs, dir), 'reference verify');
  });
});

describe('in-toto-run: the link the reference writes for the same tree and command', () => {
  /** Runs both in copies of the same tree, each with the same relative paths; answers both links' bytes. */
  function both(args: string[], key: KeyFile, options: RunOptions & { rc?: string; outDir?: string } = {}) {
    const files: Buffer[] = [];
    const dirs: string[] = [];
    for (const run of [theirs, ours]) {
      const dir = cornerTree();
      if (options.rc !== undefined) writeFileSync(join(dir, '.in_totorc'), options.rc);
      if (options.outDir) mkdirSync(join(dir, options.outDir));
      ok(run('in-toto-run', [...keyArgs(key), ...args], dir, options), `${run === ours ? 'our' : 'reference'} in-toto-run ${args.join(' ')}`);
      files.push(readFileSync(join(dir, options.outDir ?? '.', linkName(args[1]!, key))));
      dirs.push(dir);
    }
    const [reference, mine] = files as [Buffer, Buffer];
    return { reference, mine, signed: (b: Buffer) => JSON.parse(b.toString('utf8')).signed, dirs };
  }

  it.each<[string, string[], RunOptions & { rc?: string; outDir?: string }]>([
    ['defaults: every corner of the tree, streams recorded', ['-n', 'all', '-m', '.', '-p', '.', '-s', '--', ...CHANGE], {}],
    ['streams not recorded', ['-n', 'quiet', '-m', 'src', '-p', 'README.md', 'made.txt', '--', ...CHANGE], {}],
    ['--exclude and --lstrip-paths', ['-n', 'strip', '-m', 'src', 'build', '--exclude', '*.txt', 'build/', '!build/out.o', '--lstrip-paths', 'src/', 'build/', '-x'], {}],
    ['--base-path', ['-n', 'base', '-m', '.', '--base-path', 'src', '-x'], {}],
    ['no command, into --metadata-directory', ['-n', 'signoff', '-m', 'README.md', 'file-link', 'dir-link', 'missing-path', '-x', '-d', 'out'], { outDir: 'out' }],
    ['exclude patterns and base path from the environment', ['-n', 'env', '-m', '.', '-x'], { env: { IN_TOTO_ARTIFACT_EXCLUDE_PATTERNS: '*.c:*.md:.git', IN_TOTO_ARTIFACT_BASE_PATH: 'src' } }],
    ['an rc file overrides the environment; --exclude overrides both', ['-n', 'rc', '-m', '.', '--exclude', '*.txt', '-x'], { env: { IN_TOTO_ARTIFACT_BASE_PATH: 'nested' }, rc: '[settings]\nARTIFACT_BASE_PATH = src\nARTIFACT_EXCLUDE_PATTERNS=ignored:by:--exclude\n' }],
  ])('%s: byte for byte with an ed25519 key', (_label, args, options) => {
    const { reference, mine, signed } = both(args, keys.ed, options);
    expect(Object.keys({ ...signed(reference).materials, ...signed(reference).products }).length).toBeGreaterThan(0);
    expect(mine.toString('utf8')).toBe(reference.toString('utf8'));
  });

  it('records what the corners hold: unicode, a backslash, symlinks followed, empty directories and excludes left out', () => {
    const { mine, signed } = both(['-n', 'corners', '-m', '.', '-x'], keys.ed);
    const paths = Object.keys(signed(mine).materials).sort();
    expect(paths).toEqual(
      [
        'README.md', 'build/out.o', 'dir-link/back/slash.txt', 'dir-link/e\u0301.txt', 'dir-link/emoji-😀.txt', 'dir-link/main.c', 'dir-link/sp ace.txt',
        'dir-link/ünïcødé/文件.txt', 'dir-link/\u00e9.txt', 'file-link', 'src/back/slash.txt', 'src/e\u0301.txt', 'src/emoji-😀.txt', 'src/main.c',
        'src/sp ace.txt', 'src/ünïcødé/文件.txt', 'src/\u00e9.txt',
      ].sort(),
    );
  });

  it.each<'rsa' | 'ec'>(['rsa', 'ec'])('with a %s key: the same signed part, and each verifies with the other tool', (which) => {
    const key = keys[which];
    const { reference, mine, signed, dirs } = both(['-n', 'all', '-m', '.', '-p', '.', '-s', '--', ...CHANGE], key);
    expect(signed(mine)).toEqual(signed(reference));
    const pub = ['-k', `${key.path}.pub`, '-t', key.type, '--verify'];
    ok(theirs('in-toto-sign', ['-f', join(dirs[1]!, linkName('all', key)), ...pub], dirs[1]!), 'reference verifies ours');
    ok(ours('in-toto-sign', ['-f', join(dirs[0]!, linkName('all', key)), ...pub], dirs[0]!), 'ours verifies the reference');
  });

  it('with keys the reference made, and its encrypted keys given the password or asked for it', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'a.txt'), 'a');
    for (const key of [refKeys.ed, refKeys.rsa, refKeys.ec]) ok(ours('in-toto-run', ['-n', 'step', ...keyArgs(key), '-m', 'a.txt', '-x'], dir), `our run with the reference's ${key.type} key`);
    ok(theirs('in-toto-keygen', ['-p', '-t', 'ed25519', 'enc'], dir, { input: 'pw\npw\n' }), 'reference keygen -p');
    ok(ours('in-toto-run', ['-n', 'given', '-k', 'enc', '-t', 'ed25519', '-P', 'pw', '-x'], dir), 'our run -P pw');
    ok(ours('in-toto-run', ['-n', 'asked', '-k', 'enc', '-t', 'ed25519', '-P', '-x'], dir, { input: 'pw\n' }), 'our run -P (asked)');
    const keyid = referenceKeyid(join(dir, 'enc.pub'), 'ed25519');
    for (const step of ['given', 'asked']) expect(readEnvelope(readFileSync(join(dir, `${step}.${keyid.slice(0, 8)}.link`))).signatures[0]!.keyid).toBe(keyid);
  });

  it('asks for the password on the terminal without echoing it', () => {
    // script(1) gives the tool a terminal; the password is typed into it after the prompt appears.
    const dir = tempDir();
    ok(ours('in-toto-keygen', ['-t', 'ed25519', '-p', 'enc'], dir, { input: 'typed secret\ntyped secret\n' }), 'keygen -p');
    const bin = fileURLToPath(new URL('../../dist/cli/in-toto-run.js', import.meta.url));
    const command = `${process.execPath} ${bin} -n tty -k enc -t ed25519 -P -x`;
    const result = spawnSync('sh', ['-c', `(sleep 1; printf 'typed secret\\r') | script -qec "${command}" /dev/null`], { cwd: dir, encoding: 'utf8', env: envFor() });
    expect(result.status, result.stdout).toBe(0);
    expect(result.stdout).toContain("enter password to decrypt private key file 'enc'");
    expect(result.stdout).not.toContain('typed secret');
    expect(listing(dir).filter((f) => f.startsWith('tty.'))).toHaveLength(1);
  });

  it('with --use-dsse, a DSSE envelope whose payload is the same link', () => {
    const dir = cornerTree();
    ok(ours('in-toto-run', ['-n', 'dsse', '-m', 'src', '--use-dsse', '-x', ...keyArgs(keys.ed)], dir), 'run --use-dsse');
    ok(theirs('in-toto-run', ['-n', 'plain', '-m', 'src', '-x', ...keyArgs(keys.ed)], dir), 'reference run');
    const dsse = readEnvelope(readFileSync(join(dir, linkName('dsse', keys.ed))));
    const plain = readEnvelope(readFileSync(join(dir, linkName('plain', keys.ed))));
    expect(dsse.kind).toBe('dsse');
    expect({ ...dsse.signed, name: 'plain' }).toEqual(plain.signed);
  });

  it('prints nothing on a successful run when stderr is not a terminal (no progress line)', () => {
    const dir = cornerTree();
    const result = ok(ours('in-toto-run', ['-n', 'silent', '-m', '.', '-p', '.', ...keyArgs(keys.ed), '--', 'true'], dir), 'run');
    expect(result.stderr).toBe('');
    expect(result.stdout).toBe('');
  });
});

describe('in-toto-record start / stop', () => {
  it('the same unfinished file and link as the reference, and either tool finishes what the other started', () => {
    const files: Record<string, string> = {};
    for (const [label, start, stop] of [['ref', theirs, theirs], ['ours', ours, ours], ['ref-ours', theirs, ours], ['ours-ref', ours, theirs]] as const) {
      const dir = cornerTree();
      ok(start('in-toto-record', ['start', '-n', 'edit', ...keyArgs(keys.ed), '-m', 'src', 'README.md'], dir), `${label} start`);
      files[`${label}-unfinished`] = readFileSync(join(dir, `.edit.${keys.ed.keyid.slice(0, 8)}.link-unfinished`), 'utf8');
      writeFileSync(join(dir, 'README.md'), 'edited\n');
      ok(stop('in-toto-record', ['stop', '-n', 'edit', ...keyArgs(keys.ed), '-p', 'src', 'README.md'], dir), `${label} stop`);
      files[label] = readFileSync(join(dir, linkName('edit', keys.ed)), 'utf8');
      expect(listing(dir).filter((f) => f.includes('unfinished'))).toEqual([]);
    }
    expect(files['ours-unfinished']).toBe(files['ref-unfinished']);
    expect(JSON.parse(files.ref!).signed.products['README.md']).toBeDefined();
    for (const label of ['ours', 'ref-ours', 'ours-ref']) expect(files[label], label).toBe(files.ref);
  });

  it('stop fails (exit 1) as the reference does without a start, with another key, or with a tampered start', () => {
    const dir = cornerTree();
    const before = listing(dir);
    for (const run of [ours, theirs]) expect(run('in-toto-record', ['stop', '-n', 'edit', ...keyArgs(keys.ed), '-p', 'src'], dir).status).toBe(1);
    expect(listing(dir)).toEqual(before);

    ok(ours('in-toto-record', ['start', '-n', 'edit', ...keyArgs(keys.ed), '-m', 'src'], dir), 'start');
    const unfinished = join(dir, `.edit.${keys.ed.keyid.slice(0, 8)}.link-unfinished`);
    for (const run of [ours, theirs]) expect(run('in-toto-record', ['stop', '-n', 'edit', ...keyArgs(keys.ec), '-p', 'src'], dir).status).toBe(1);
    const tampered = readFileSync(unfinished, 'utf8').replace('"materials": {', '"materials": {\n   "forged": {"sha256": "00"},');
    writeFileSync(unfinished, tampered);
    const after = listing(dir);
    for (const run of [ours, theirs]) {
      const result = run('in-toto-record', ['stop', '-n', 'edit', ...keyArgs(keys.ed), '-p', 'src'], dir);
      expect(result.status).toBe(1);
      expect(result.stderr).toMatch(/signature/i);
    }
    expect(listing(dir)).toEqual(after);
  });

  it.each([
    ['no subcommand', []],
    ['an unknown subcommand', ['begin', '-n', 'x', '-k', 'k']],
    ['options before the subcommand', ['-n', 'x', 'start']],
    ['start without a step name', ['start', '-k', 'k']],
    ['start without a key', ['start', '-n', 'x']],
    ['products given to start', ['start', '-n', 'x', '-k', 'k', '-p', 'a']],
    ['materials given to stop', ['stop', '-n', 'x', '-k', 'k', '-m', 'a']],
    ['-v with -q', ['start', '-n', 'x', '-k', 'k', '-v', '-q']],
  ])('exits 2 as the reference does for %s', (_label, args) => {
    const dir = tempDir();
    expect(theirs('in-toto-record', args, dir).status).toBe(2);
    expect(ours('in-toto-record', args, dir).status).toBe(2);
  });
});

describe('in-toto-sign', () => {
  it('a layout signed by ours (two keys, -a) verifies with the reference, and one signed by the reference with ours', () => {
    const dir = tempDir();
    writeLayout(join(dir, 'ours.layout'), { steps: [{ name: 's', pubkeys: [keys.ed] }], signers: [] });
    cpSync(join(dir, 'ours.layout'), join(dir, 'theirs.layout'));
    ok(ours('in-toto-sign', ['-f', 'ours.layout', ...keyArgs(keys.owner)], dir), 'sign');
    ok(ours('in-toto-sign', ['-f', 'ours.layout', '-a', '-k', keys.rsa.path], dir), 'sign -a');
    ok(theirs('in-toto-sign', ['-f', 'theirs.layout', '-k', keys.owner.path, keys.rsa.path, '-t', 'ed25519', 'rsa'], dir), 'reference sign');
    const pubs = ['-k', `${keys.owner.path}.pub`, `${keys.rsa.path}.pub`, '-t', 'ed25519', 'rsa', '--verify'];
    ok(theirs('in-toto-sign', ['-f', 'ours.layout', ...pubs], dir), 'reference verifies ours');
    ok(ours('in-toto-sign', ['-f', 'theirs.layout', ...pubs], dir), 'ours verifies the reference');
    // The ed25519 signature is deterministic: the same bytes as the reference's for the same layout.
    expect(readEnvelope(readFileSync(join(dir, 'ours.layout'))).signatures[0]).toEqual(readEnvelope(readFileSync(join(dir, 'theirs.layout'))).signatures[0]);
    // A key that did not sign fails verification with 1 in both.
    for (const run of [ours, theirs]) expect(run('in-toto-sign', ['-f', 'ours.layout', '-k', `${keys.ec.path}.pub`, '-t', 'ecdsa', '--verify'], dir).status).toBe(1);
  });

  it('signs an unsigned link to <name>.<keyid prefix>.link, as the reference, byte for byte', () => {
    const dirs = [cornerTree(), cornerTree()];
    for (const [i, run] of [ours, theirs].entries()) {
      ok(run('in-toto-mock', ['-n', 'mocked', '--', 'true'], dirs[i]!), 'mock');
      ok(run('in-toto-sign', ['-f', 'mocked.link', ...keyArgs(keys.ed)], dirs[i]!), 'sign');
    }
    const [mine, reference] = dirs.map((d) => readFileSync(join(d, linkName('mocked', keys.ed)), 'utf8'));
    expect(readEnvelope(mine!).signatures).toHaveLength(1);
    expect(mine).toBe(reference);
  });

  it.each([
    ['a missing file', ['-f', 'nope.link', '-k', 'KEY', '-t', 'ed25519']],
    ['a file that is not JSON', ['-f', 'README.md', '-k', 'KEY', '-t', 'ed25519']],
    ['no key', ['-f', 'mocked.link']],
    ['two keys for a link', ['-f', 'mocked.link', '-k', 'KEY', 'KEY', '-t', 'ed25519', 'ed25519']],
    ['-a on a link', ['-f', 'mocked.link', '-k', 'KEY', '-t', 'ed25519', '-a']],
    ['--verify with -o', ['-f', 'mocked.link', '-k', 'KEY.pub', '-t', 'ed25519', '--verify', '-o', 'x']],
    ['a key of another type', ['-f', 'mocked.link', '-k', 'KEY', '-t', 'ecdsa']],
    ['a public key as rsa (the default type)', ['-f', 'mocked.link', '-k', 'KEY.pub', '--verify']],
    ['fewer key types than keys', ['-f', 'root.layout', '-k', 'KEY', 'KEY', '-t', 'ed25519']],
    ['an output in a missing directory', ['-f', 'mocked.link', '-k', 'KEY', '-t', 'ed25519', '-o', 'no/dir/x.link']],
    ['a signature that does not verify', ['-f', 'mocked.link', '-k', 'KEY.pub', '-t', 'ed25519', '--verify']],
  ])('exits as the reference does for %s, writing nothing', (_label, template) => {
    const results = [ours, theirs].map((run) => {
      const dir = cornerTree();
      ok(run('in-toto-mock', ['-n', 'mocked', '--', 'true'], dir), 'mock');
      writeLayout(join(dir, 'root.layout'), { steps: [], signers: [] });
      const before = listing(dir);
      const args = template.map((a) => a.replace('KEY', keys.ed.path));
      const result = run('in-toto-sign', args, dir);
      expect(listing(dir)).toEqual(before);
      return result.status;
    });
    expect(results[0]).toBe(results[1]);
    expect(results[0]).not.toBe(0);
  });
});

describe('in-toto-mock', () => {
  it('writes the unsigned link the reference writes, showing the streams', () => {
    const [mine, reference] = [cornerTree(), cornerTree()];
    const result = ok(ours('in-toto-mock', ['-n', 'try', '--', ...CHANGE], mine), 'our mock');
    ok(theirs('in-toto-mock', ['--name', 'try', '--', ...CHANGE], reference), 'reference mock');
    expect(result.stdout).toBe('out\r\n');
    expect(result.stderr).toContain("Running command 'sh -c");
    expect(readFileSync(join(mine, 'try.link'), 'utf8')).toBe(readFileSync(join(reference, 'try.link'), 'utf8'));
  });

  it.each([
    ['no command', ['-n', 'x'], 2],
    ['no name', ['--', 'true'], 2],
    ['a command that does not exist', ['-n', 'x', '--', 'no-such-command-here'], 1],
  ])('exits as the reference does for %s, writing nothing', (_label, args, code) => {
    for (const run of [ours, theirs]) {
      const dir = tempDir();
      expect(run('in-toto-mock', args as string[], dir).status).toBe(code);
      expect(listing(dir)).toEqual([]);
    }
  });
});

describe('in-toto-match-products', () => {
  it('exits 0 when local artifacts match, 1 with what differs (-v) when not', () => {
    const dir = cornerTree();
    ok(ours('in-toto-run', ['-n', 'build', '-p', 'src', 'README.md', ...keyArgs(keys.ed), '-x'], dir), 'run');
    const link = linkName('build', keys.ed);
    const same = ok(ours('in-toto-match-products', ['-l', link, '-p', 'src', 'README.md', '-v'], dir), 'match');
    expect(same.stdout).toBe('Local artifacts match products in passed link.\n');

    writeFileSync(join(dir, 'README.md'), 'changed');
    rmSync(join(dir, 'src/main.c'));
    writeFileSync(join(dir, 'src/new.c'), 'new');
    const differ = ours('in-toto-match-products', ['-l', link, '-p', 'src', 'README.md', '-v'], dir);
    expect(differ.status).toBe(1);
    expect(differ.stdout).toBe("Local artifacts don't match products in passed link.\nOnly in products: src/main.c\nNot in products: src/new.c\nHashes differ: README.md\n");
    // Without -v, only the exit code; an excluded local file is not compared.
    expect(ours('in-toto-match-products', ['-l', link, '-p', 'src', 'README.md'], dir)).toMatchObject({ status: 1, stdout: '' });
    const excluded = ours('in-toto-match-products', ['-l', link, '-e', 'src/new.c', '-p', 'src', 'README.md', '-v'], dir);
    expect(excluded).toMatchObject({ status: 1, stdout: "Local artifacts don't match products in passed link.\nOnly in products: src/main.c\nHashes differ: README.md\n" });
    // --lstrip-paths: products recorded as stripped names match local files stripped the same way.
    ok(ours('in-toto-run', ['-n', 'stripped', '-p', 'src', '--lstrip-paths', 'src/', ...keyArgs(keys.ed), '-x'], dir), 'run --lstrip-paths');
    ok(ours('in-toto-match-products', ['-l', linkName('stripped', keys.ed), '-p', 'src', '--lstrip-paths', 'src/'], dir), 'match --lstrip-paths');
  });

  it('exits 1 naming the link when it cannot be read, 2 on wrong arguments', () => {
    const dir = tempDir();
    const missing = ours('in-toto-match-products', ['-l', 'nope.link'], dir);
    expect(missing.status).toBe(1);
    expect(missing.stderr).toContain('nope.link');
    expect(ours('in-toto-match-products', [], dir).status).toBe(2);
    expect(ours('in-toto-match-products', ['-l', 'x', '--bogus'], dir).status).toBe(2);
  });
});

describe('bad input: a clear error naming the file, the reference exit code, nothing left on disk', () => {
  interface BadCase {
    args: (dir: string) => string[];
    code: number;
    /** What our message must name. */
    names: RegExp;
    setup?: (dir: string) => void;
    env?: Record<string, string>;
  }
  const ed = () => keyArgs(keys.ed);
  const cases: Record<string, BadCase> = {
    'an artifact that cannot be read': { setup: (d) => symlinkSync('/proc/self/mem', join(d, 'mem')), args: () => ['-n', 's', ...ed(), '-m', '.', '-x'], code: 1, names: /mem/ },
    'a product that cannot be read, after the command ran': { setup: (d) => symlinkSync('/proc/self/mem', join(d, 'mem')), args: () => ['-n', 's', ...ed(), '-p', 'mem', '--', 'true'], code: 1, names: /mem/ },
    'a command that does not exist': { args: () => ['-n', 's', ...ed(), '--', 'no-such-command-here'], code: 1, names: /no-such-command-here/ },
    'a key file that does not exist': { args: () => ['-n', 's', '-k', 'no-such-key', '-t', 'ed25519', '-x'], code: 1, names: /no-such-key/ },
    'a key file that is not a key': { args: () => ['-n', 's', '-k', 'README.md', '-t', 'ed25519', '-x'], code: 1, names: /README\.md/ },
    'an ed25519 key read as rsa (the default)': { args: () => ['-n', 's', '-k', keys.ed.path, '-x'], code: 1, names: /key file \S*\/ed: expected an rsa key/ },
    'an ecdsa key read as ed25519': { args: () => ['-n', 's', '-k', keys.ec.path, '-t', 'ed25519', '-x'], code: 1, names: /key file \S*\/ec: expected an ed25519 key/ },
    'an encrypted key without its password': { setup: (d) => encryptedKey(d), args: () => ['-n', 's', '-k', 'enc', '-t', 'ecdsa', '-x'], code: 1, names: /enc/ },
    'an encrypted key with a wrong password': { setup: (d) => encryptedKey(d), args: () => ['-n', 's', '-k', 'enc', '-t', 'ecdsa', '-P', 'wrong', '-x'], code: 1, names: /enc/ },
    'a password for a key that is not encrypted': { args: () => ['-n', 's', ...ed(), '-P', 'pw', '-x'], code: 1, names: /key file \S*\/ed: .*not encrypted/ },
    'a metadata directory that does not exist': { args: () => ['-n', 's', ...ed(), '-x', '-d', 'no/such/dir'], code: 1, names: /no\/such\/dir/ },
    'a base path that does not exist': { args: () => ['-n', 's', ...ed(), '-m', 'a', '--base-path', 'no-such-dir', '-x'], code: 1, names: /no-such-dir/ },
    'left-strip prefixes that overlap': { args: () => ['-n', 's', ...ed(), '-m', 'src', '--lstrip-paths', 'src', 'src/', '-x'], code: 1, names: /src/ },
    'a command that outlives LINK_CMD_EXEC_TIMEOUT': { env: { IN_TOTO_LINK_CMD_EXEC_TIMEOUT: '0.5' }, args: () => ['-n', 's', ...ed(), '--', 'sleep', '5'], code: 1, names: /sleep/ },
    'a GPG key that is not in the keyring': { args: () => ['-n', 's', '-g', 'ABCDEF', '--gpg-home', '/nonexistent-gpg-home', '-x'], code: 1, names: /ABCDEF/ },
    'no command and no --no-command': { args: () => ['-n', 's', ...ed()], code: 2, names: /command/ },
    'both --key and --gpg': { args: () => ['-n', 's', ...ed(), '-g', '-x'], code: 2, names: /--gpg/ },
    'no step name': { args: () => [...ed(), '-x'], code: 2, names: /step-name/ },
    'a key type outside the choices': { args: () => ['-n', 's', '-k', 'k', '-t', 'dsa', '-x'], code: 2, names: /dsa/ },
  };

  function encryptedKey(dir: string): void {
    ok(ours('in-toto-keygen', ['-p', '-t', 'ecdsa', 'enc'], dir, { input: 'right\nright\n' }), 'keygen -p');
  }

  it.each(Object.keys(cases))('in-toto-run with %s', (label) => {
    const c = cases[label]!;
    for (const run of [theirs, ours]) {
      const dir = cornerTree();
      c.setup?.(dir);
      const before = listing(dir);
      const result = run('in-toto-run', c.args(dir), dir, { env: c.env });
      expect(result.status, `${run === ours ? 'ours' : 'reference'}: ${result.stderr}`).toBe(c.code);
      expect(listing(dir), run === ours ? 'ours' : 'reference').toEqual(before);
      if (run === ours) expect(result.stderr).toMatch(c.names);
    }
  });

  it('a path that does not exist is skipped (exit 0), a symlink loop too; a directory cycle is walked once', () => {
    const { ours: mine, theirs: reference } = {
      ours: ours('in-toto-run', ['-n', 's', ...keyArgs(keys.ed), '-m', 'no-such-path', 'self-loop', 'README.md', '-x', '-v'], cornerTreeWith()),
      theirs: theirs('in-toto-run', ['-n', 's', ...keyArgs(keys.ed), '-m', 'no-such-path', 'self-loop', 'README.md', '-x', '-v'], cornerTreeWith()),
    };
    expect(mine.status).toBe(0);
    expect(reference.status).toBe(0);
    expect(mine.stderr).toContain('path: no-such-path does not exist, skipping..');

    // d/up leads back to the top: the reference walks it ~40 times deep; we record each file once.
    const dir = cornerTreeWith({ 'd/f': 'f', 'd/up': { link: '..' } });
    ok(ours('in-toto-run', ['-n', 'cycle', ...keyArgs(keys.ed), '-m', 'd', '-x'], dir), 'cycle');
    const paths = Object.keys(JSON.parse(readFileSync(join(dir, linkName('cycle', keys.ed)), 'utf8')).signed.materials);
    expect(paths).toContain('d/f');
    expect(paths).toContain('d/up/README.md');
    expect(paths.filter((p) => p.includes('up/d/'))).toEqual([]);
  });

  function cornerTreeWith(extra: Record<string, Node> = {}): string {
    return build(cornerTree(), extra);
  }

  it.each([
    ['in-toto-record', ['start', '-n', 's', '-k', 'no-such-key', '-t', 'ed25519']],
    ['in-toto-record', ['start', '-n', 's', '-k', 'README.md', '-t', 'ed25519', '-m', '.']],
    ['in-toto-record', ['start', '-n', 's', '-g', 'ABCDEF', '-m', '.']],
    ['in-toto-record', ['stop', '-n', 's', '-k', 'KEY', '-t', 'ed25519', '-d', 'no/such/dir']],
  ])('%s %s: exit 1 as the reference, nothing written', (tool, template) => {
    for (const run of [theirs, ours]) {
      const dir = cornerTree();
      const before = listing(dir);
      const result = run(tool as Tool, template.map((a) => a.replace('KEY', keys.ed.path)), dir);
      expect(result.status, result.stderr).toBe(1);
      expect(listing(dir)).toEqual(before);
    }
  });
});

describe('settings from IN_TOTO_* variables and rc files, as the reference reads them', () => {
  const READ_SETTINGS = `
import json, os, sys
os.chdir(sys.argv[1])
import in_toto.settings, in_toto.user_settings
in_toto.user_settings.set_settings()
out = {}
for name in in_toto.user_settings.IN_TOTO_SETTINGS:
    value = getattr(in_toto.settings, name)
    out[name] = ":".join(value) if isinstance(value, list) else value
print(json.dumps(out))
`;
  /** The raw setting python ends up with, or undefined where it keeps its default. */
  function referenceSettings(cwd: string, env: Record<string, string>): Record<string, string | undefined> {
    const result = spawnSync('/usr/bin/python3', ['-c', READ_SETTINGS, cwd], { encoding: 'utf8', env: envFor(env) });
    expect(result.status, result.stderr).toBe(0);
    const values = JSON.parse(result.stdout) as Record<string, unknown>;
    const defaults: Record<string, unknown> = { ARTIFACT_EXCLUDE_PATTERNS: '*.link*:.git:*.pyc:*~', ARTIFACT_BASE_PATH: null, LINK_CMD_EXEC_TIMEOUT: 10 };
    return Object.fromEntries(Object.entries(values).map(([k, v]) => [k, v === defaults[k] ? undefined : String(v)]));
  }

  it.each<[string, Record<string, string>, Record<string, string>]>([
    ['variables only', { IN_TOTO_ARTIFACT_BASE_PATH: '/base', IN_TOTO_LINK_CMD_EXEC_TIMEOUT: '5', IN_TOTO_ARTIFACT_EXCLUDE_PATTERNS: '*.o:build' }, {}],
    ['rc files over variables, the working directory last', { IN_TOTO_ARTIFACT_BASE_PATH: '/from-env', IN_TOTO_LINK_CMD_EXEC_TIMEOUT: '7' }, {
      'home/.in_totorc': '[a]\nARTIFACT_BASE_PATH = /from-home\nLINK_CMD_EXEC_TIMEOUT: 8\n',
      'home/.config/in_toto/config': '[x]\nARTIFACT_EXCLUDE_PATTERNS=*.tmp\n',
      'cwd/.in_totorc': '# a comment\n[b]\n; another\nARTIFACT_BASE_PATH = /from-cwd\n',
    }],
    ['DEFAULT, interpolation, case, continuation lines and empty values', { IN_TOTO_LINK_CMD_EXEC_TIMEOUT: '3' }, {
      'cwd/.in_totorc': '[DEFAULT]\nroot = /srv\n[paths]\nARTIFACT_BASE_PATH = %(root)s/app%%\nartifact_exclude_patterns = ignored: lower case\nARTIFACT_EXCLUDE_PATTERNS = *.a:\n  *.b\nLINK_CMD_EXEC_TIMEOUT =\n',
    }],
    ['DEFAULT alone counts for nothing', { IN_TOTO_ARTIFACT_BASE_PATH: '/env' }, { 'home/.in_totorc': '[DEFAULT]\nARTIFACT_BASE_PATH = /default\n' }],
  ])('%s', (_label, env, files) => {
    const root = tempDir('in-toto-settings-');
    mkdirSync(join(root, 'home'));
    mkdirSync(join(root, 'cwd'));
    for (const [path, text] of Object.entries(files)) {
      mkdirSync(dirname(join(root, path)), { recursive: true });
      writeFileSync(join(root, path), text);
    }
    const expected = referenceSettings(join(root, 'cwd'), { ...env, HOME: join(root, 'home') });
    expect(Object.values(expected).some((v) => v !== undefined)).toBe(true);
    const fullEnv = { ...envFor(env), HOME: join(root, 'home') };
    expect({ ARTIFACT_EXCLUDE_PATTERNS: undefined, ARTIFACT_BASE_PATH: undefined, LINK_CMD_EXEC_TIMEOUT: undefined, ...readUserSettings(fullEnv, join(root, 'cwd'), join(root, 'home')) }).toEqual(expected);
  });

  it('a single exclude pattern (no colon) is a list of one here; the reference fails on it', () => {
    const env = { IN_TOTO_ARTIFACT_EXCLUDE_PATTERNS: '*.md' };
    const dir = cornerTree();
    expect(theirs('in-toto-run', ['-n', 'one', ...keyArgs(keys.ed), '-m', '.', '-x'], dir, { env }).status).toBe(1);
    ok(ours('in-toto-run', ['-n', 'one', ...keyArgs(keys.ed), '-m', '.', '-x'], dir, { env }), 'ours');
    const materials = Object.keys(JSON.parse(readFileSync(join(dir, linkName('one', keys.ed)), 'utf8')).signed.materials);
    expect(materials).toContain('src/main.c');
    expect(materials).not.toContain('README.md');
    expect(materials).toContain('old.link'); // the setting replaces the default patterns
  });

  it('LINK_CMD_EXEC_TIMEOUT that is not a number fails only when a command runs, as in the reference', () => {
    const env = { IN_TOTO_LINK_CMD_EXEC_TIMEOUT: '1:2' };
    for (const run of [ours, theirs]) {
      const dir = cornerTree();
      expect(run('in-toto-run', ['-n', 'cmd', ...keyArgs(keys.ed), '--', 'true'], dir, { env }).status).toBe(1);
      ok(run('in-toto-run', ['-n', 'none', ...keyArgs(keys.ed), '-x'], dir, { env }), 'no command');
    }
  });

  it('reads a timeout as python reads a float', () => {
    const seconds = (raw: string) => timeoutSetting({ LINK_CMD_EXEC_TIMEOUT: raw });
    expect([' 10 ', '1_000', '.5', '2.', '1e1', 'inf', 'Infinity'].map(seconds)).toEqual([10, 1000, 0.5, 2, 10, Infinity, Infinity]);
    for (const bad of ['0x10', '1__0', 'ten', '-1', 'nan']) expect(() => seconds(bad), bad).toThrow(/LINK_CMD_EXEC_TIMEOUT/);
  });
});

describe('the progress line', () => {
  /** A stand-in for process.stderr that records what is drawn. */
  function fakeStream(isTTY: boolean): NodeJS.WriteStream & { written: string } {
    const stream = { isTTY, written: '', write(text: string) { stream.written += text; return true; } };
    return stream as unknown as NodeJS.WriteStream & { written: string };
  }
  const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

  it('appears on a terminal once a stage takes longer than the delay, and is cleared', async () => {
    const stream = fakeStream(true);
    const progress = new Progress('in-toto-run', stream, 150);
    progress.stage('recording materials');
    await sleep(80);
    expect(stream.written).toBe('');
    await sleep(250);
    expect(stream.written).toMatch(/in-toto-run: recording materials [|/\\-] 0\.\d s/);
    progress.stop();
    expect(stream.written.endsWith('\r\x1b[2K')).toBe(true);
  });

  it('never appears when the stream is not a terminal, nor while the command runs', async () => {
    const pipe = fakeStream(false);
    const quiet = new Progress('in-toto-run', pipe, 0);
    quiet.stage('recording products');
    const tty = fakeStream(true);
    const paused = new Progress('in-toto-run', tty, 0);
    paused.stage(undefined);
    await sleep(250);
    quiet.stop();
    paused.stop();
    expect(pipe.written).toBe('');
    expect(tty.written).toBe('');
  });
});
