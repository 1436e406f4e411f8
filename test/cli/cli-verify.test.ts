/**
 * Our in-toto-verify as a drop-in for the reference's: same flags, same exit codes (0 pass, 1 fail, 2 usage),
 * and a failure explained in plain words. Runs the built CLI (`dist/`, made by `npm run build`).
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { assertReferenceInstalled, makeTempDir } from '../helpers/reference.js';
import { copyInto, makeKeySet, referenceRun, referenceVerify, write, writeLayout, type KeyFile } from '../helpers/scenario.js';

const CLI = fileURLToPath(new URL('../../dist/cli/in-toto-verify.js', import.meta.url));

function ours(cwd: string, args: string[]) {
  const result = spawnSync(process.execPath, [CLI, ...args], { cwd, encoding: 'utf8' });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

const keyArgs = (keys: KeyFile[]) => ['--layout-keys', ...keys.map((k) => `${k.path}.pub`), '--key-types', ...keys.map((k) => k.type)];

describe('in-toto-verify (ours) as a drop-in', () => {
  let keys: ReturnType<typeof makeKeySet>;
  let dir: string;

  beforeAll(() => {
    assertReferenceInstalled();
    keys = makeKeySet();
    dir = makeTempDir('in-toto-cli-');
    writeLayout(join(dir, 'root.layout'), {
      steps: [
        { name: 'build', pubkeys: [keys.alice], expected_command: ['make'], expected_products: [['CREATE', 'app.bin'], ['DISALLOW', '*']] },
        { name: 'test', pubkeys: [keys.bob], expected_materials: [['MATCH', 'app.bin', 'WITH', 'PRODUCTS', 'FROM', 'build'], ['DISALLOW', '*']] },
      ],
      signers: [keys.owner],
    });
    write(dir, 'app.bin', 'binary v1');
    referenceRun(dir, 'build', keys.alice, { products: ['app.bin'], command: ['true'] });
    referenceRun(dir, 'test', keys.bob, { materials: ['app.bin'] });
  });

  it('passes a good chain with exit 0, like the reference', () => {
    expect(referenceVerify(dir, 'root.layout', [keys.owner]).status).toBe(0);
    const result = ours(dir, ['--layout', 'root.layout', ...keyArgs([keys.owner])]);
    expect(result.status).toBe(0);
    // The command differs from the layout's expected one: a warning, not a failure (as in the reference).
    expect(result.stderr).toContain('COMMAND_MISMATCH');
  });

  it('refuses a layout or a key that never ends (/dev/zero) with LIMIT instead of filling the memory, and still reads a pipe', () => {
    const layout = ours(dir, ['--layout', '/dev/zero', ...keyArgs([keys.owner])]);
    expect(layout.status).toBe(1);
    expect(layout.stderr).toMatch(/\[LIMIT\] layout \/dev\/zero is larger than \d+ bytes/);
    const key = ours(dir, ['--layout', 'root.layout', '--layout-keys', '/dev/zero', '--key-types', 'ed25519']);
    expect(key.status).toBe(1);
    expect(key.stderr).toMatch(/\[LIMIT\] layout key \/dev\/zero: key file \/dev\/zero is larger than \d+ bytes/);
    // A layout from a pipe (no size to check first) is read to its end as before.
    const piped = spawnSync('bash', ['-c', `"$0" "$1" --layout <(cat root.layout) ${keyArgs([keys.owner]).map((a) => `'${a}'`).join(' ')}`, process.execPath, CLI], { cwd: dir, encoding: 'utf8' });
    expect(piped.status, piped.stderr).toBe(0);
  });

  it('accepts the short flags and --link-dir', () => {
    const other = makeTempDir('in-toto-cli-linkdir-');
    for (const f of ['root.layout', `build.${keys.alice.keyid.slice(0, 8)}.link`, `test.${keys.bob.keyid.slice(0, 8)}.link`]) copyInto(join(dir, f), join(other, 'links', f));
    const result = ours(other, ['-l', 'links/root.layout', '-k', `${keys.owner.path}.pub`, '-t', 'ed25519', '--link-dir', 'links', '-q']);
    expect(result.status).toBe(0);
    expect(result.stderr).toBe('');
  });

  it('explains a tampered artifact: step, rule, file, expected and found digests; exit 1 like the reference', () => {
    const tampered = makeTempDir('in-toto-cli-tampered-');
    copyInto(dir, tampered);
    // The tester's link says it saw other bytes than the builder produced.
    write(tampered, 'app.bin', 'binary v2 (evil)');
    referenceRun(tampered, 'test', keys.bob, { materials: ['app.bin'] });
    expect(referenceVerify(tampered, 'root.layout', [keys.owner]).status).toBe(1);
    const result = ours(tampered, ['--layout', 'root.layout', ...keyArgs([keys.owner])]);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('FAILED');
    expect(result.stderr).toContain("step 'test'");
    expect(result.stderr).toContain('DISALLOW');
    expect(result.stderr).toContain('app.bin');
    const build = JSON.parse(readFileSync(join(tampered, `build.${keys.alice.keyid.slice(0, 8)}.link`), 'utf8'));
    const test = JSON.parse(readFileSync(join(tampered, `test.${keys.bob.keyid.slice(0, 8)}.link`), 'utf8'));
    expect(result.stderr).toContain(`expected sha256:${build.signed.products['app.bin'].sha256}`);
    expect(result.stderr).toContain(`found    sha256:${test.signed.materials['app.bin'].sha256}`);
  });

  it('draws the chain with --graph, the failed step marked', () => {
    const tampered = makeTempDir('in-toto-cli-graph-');
    copyInto(dir, tampered);
    write(tampered, 'app.bin', 'binary v3 (evil)');
    referenceRun(tampered, 'test', keys.bob, { materials: ['app.bin'] });
    const good = ours(dir, ['--layout', 'root.layout', ...keyArgs([keys.owner]), '--graph', join(tampered, 'good.svg'), '-q']);
    const bad = ours(tampered, ['--layout', 'root.layout', ...keyArgs([keys.owner]), '--graph', 'bad.svg', '-q']);
    expect([good.status, bad.status]).toEqual([0, 1]);
    const goodSvg = readFileSync(join(tampered, 'good.svg'), 'utf8');
    const badSvg = readFileSync(join(tampered, 'bad.svg'), 'utf8');
    expect(goodSvg).toMatch(/data-name="build" data-kind="step" data-status="passed"/);
    expect(goodSvg).toMatch(/data-name="test" data-kind="step" data-status="passed"/);
    expect(badSvg).toMatch(/data-name="build" data-kind="step" data-status="passed"/);
    expect(badSvg).toMatch(/data-name="test" data-kind="step" data-status="failed"/);
  });

  it('prints the verdict as JSON with --json', () => {
    const result = ours(dir, ['--layout', 'root.layout', ...keyArgs([keys.owner]), '--json', '-q']);
    expect(result.status).toBe(0);
    const verdict = JSON.parse(result.stdout);
    expect(verdict).toMatchObject({ passed: true, failures: [] });
    // The summary: the first step's materials and the last step's products (both empty in this chain).
    expect(verdict.summary).toMatchObject({ _type: 'link', materials: {}, products: {} });
    expect(verdict.trace).toContainEqual(expect.objectContaining({ item: 'test', side: 'materials', ruleIndex: 0, consumed: ['app.bin'] }));
  });

  it('names the key when the layout is verified with the wrong one', () => {
    const result = ours(dir, ['--layout', 'root.layout', ...keyArgs([keys.erin])]);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain(keys.erin.keyid);
  });

  it.each([
    ['no arguments', []],
    ['no keys', ['--layout', 'root.layout']],
    ['an unknown flag', ['--layout', 'root.layout', '--bogus']],
    ['a key type outside the choices', ['--layout', 'root.layout', '-k', 'x.pub', '-t', 'dsa']],
    ['more key types than keys', ['--layout', 'root.layout', '-k', 'x.pub', '-t', 'rsa', 'rsa']],
  ])('exits as the reference does for %s', (_name, args) => {
    const theirs = spawnSync('/usr/bin/in-toto-verify', args, { cwd: dir, encoding: 'utf8' });
    const result = ours(dir, args);
    // argparse errors are 2; the key-type count is only checked once keys load, and fails with 1.
    expect(result.status).toBe(_name === 'more key types than keys' ? 1 : 2);
    expect(result.status).toBe(theirs.status);
  });

  it('refuses -v with -q as the reference does (exit 2, argparse words), whichever comes first or bundled', () => {
    const base = ['--layout', 'root.layout', ...keyArgs([keys.owner])];
    for (const [flags, message] of [
      [['-v', '-q'], 'argument -q/--quiet: not allowed with argument -v/--verbose'],
      [['-q', '-v'], 'argument -v/--verbose: not allowed with argument -q/--quiet'],
      [['-vq'], 'argument -q/--quiet: not allowed with argument -v/--verbose'],
      [['--verbose', '--quiet'], 'argument -q/--quiet: not allowed with argument -v/--verbose'],
    ] as const) {
      const theirs = spawnSync('/usr/bin/in-toto-verify', [...base, ...flags], { cwd: dir, encoding: 'utf8' });
      const result = ours(dir, [...base, ...flags]);
      expect(theirs.status, flags.join(' ')).toBe(2);
      expect(result.status, flags.join(' ')).toBe(2);
      expect(theirs.stderr).toContain(message);
      expect(result.stderr).toContain(message);
    }
  });

  it('takes unique prefixes of long options and refuses ambiguous ones, with the exit code of the reference', () => {
    const pub = `${keys.owner.path}.pub`;
    const type = keys.owner.type;
    const cases: [string[], number][] = [
      [['--layout', 'root.layout', '--layout-k', pub, '--key-t', type], 0],
      [['--layout', 'root.layout', '--layout-ke', pub, '--key', type, '--link', '.'], 0],
      [['--layout=root.layout', `--layout-k=${pub}`, `--key-t=${type}`, '--link-d=.'], 0],
      [['--layout', 'root.layout', '--layout-keys', pub, '--key-types', type, '--verb'], 0],
      [['--layout', 'root.layout', '--layout-keys', pub, '--key-types', type, '--qui'], 0],
      [['-lroot.layout', `-k=${pub}`, `-t${type}`], 0],
      // Ambiguous: --lay is --layout or --layout-keys; --l also --link-dir.
      [['--lay', 'root.layout', '--layout-keys', pub, '--key-types', type], 2],
      [['--l', 'root.layout', '--layout-keys', pub, '--key-types', type], 2],
      [['--layout', 'root.layout', '--layout-keys', pub, '--key-types', type, '--verbose', '--qu'], 2],
    ];
    for (const [args, status] of cases) {
      const theirs = spawnSync('/usr/bin/in-toto-verify', args, { cwd: dir, encoding: 'utf8' });
      const result = ours(dir, args);
      expect(theirs.status, `reference: ${args.join(' ')}: ${theirs.stderr}`).toBe(status);
      expect(result.status, `ours: ${args.join(' ')}: ${result.stderr}`).toBe(status);
    }
    const ambiguous = ours(dir, ['--l', 'root.layout', '--layout-keys', pub]);
    expect(ambiguous.stderr).toContain('ambiguous option: --l could match --layout, --layout-keys, --link-dir');
  });

  it('--parameters: every group counts, and a NAME given twice is a usage error naming it', () => {
    const params = makeTempDir('in-toto-cli-params-');
    copyInto(dir, params);
    // The artifact's name comes in two parameters: a lost group leaves a placeholder unfilled.
    writeLayout(join(params, 'param.layout'), {
      steps: [
        { name: 'build', pubkeys: [keys.alice], expected_products: [['CREATE', '{NAME}.{EXT}'], ['DISALLOW', '*']] },
        { name: 'test', pubkeys: [keys.bob], expected_materials: [['MATCH', '{NAME}.{EXT}', 'WITH', 'PRODUCTS', 'FROM', 'build'], ['DISALLOW', '*']] },
      ],
      signers: [keys.owner],
    });
    const base = ['--layout', 'param.layout', ...keyArgs([keys.owner])];
    expect(ours(params, [...base, '--parameters', 'NAME=app', 'EXT=bin']).status).toBe(0);
    const twoGroups = ours(params, [...base, '--parameters', 'NAME=app', '--parameters', 'EXT=bin']);
    expect(twoGroups.status, twoGroups.stderr).toBe(0);
    // The abbreviated flag extends as well.
    expect(ours(params, ['--param', 'NAME=app', ...base, '--para', 'EXT=bin']).status).toBe(0);

    for (const args of [['--parameters', 'NAME=app', 'NAME=other', 'EXT=bin'], ['--parameters', 'NAME=app', 'EXT=bin', '--parameters', 'NAME=app']]) {
      const twice = ours(params, [...base, ...args]);
      expect(twice.status, args.join(' ')).toBe(2);
      expect(twice.stderr).toContain("'NAME' given twice");
      expect(twice.stderr).toContain('give each NAME once');
    }
    const unnamed = ours(params, [...base, '--parameters', '=bin']);
    expect(unnamed.status).toBe(2);
    expect(unnamed.stderr).toContain("expected NAME=VALUE, got '=bin'");
  });

  it('a missing layout file is an IO error naming the file, exit 1 as in the reference', () => {
    const args = ['--layout', 'no-such.layout', ...keyArgs([keys.owner])];
    expect(spawnSync('/usr/bin/in-toto-verify', args, { cwd: dir, encoding: 'utf8' }).status).toBe(1);
    const result = ours(dir, args);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('[IO]');
    expect(result.stderr).toContain('no-such.layout');
    const json = ours(dir, [...args, '--json']);
    expect(JSON.parse(json.stdout).failures[0]).toMatchObject({ code: 'IO' });
  });

  it('exits 1 naming the file when a key or the layout cannot be read', () => {
    const missingKey = ours(dir, ['--layout', 'root.layout', '-k', 'nope.pub', '-t', 'ed25519']);
    expect(missingKey.status).toBe(1);
    expect(missingKey.stderr).toContain('nope.pub');
    writeFileSync(join(dir, 'broken.layout'), '{"signed": {');
    const broken = ours(dir, ['--layout', 'broken.layout', ...keyArgs([keys.owner])]);
    expect(broken.status).toBe(1);
    expect(broken.stderr).toMatch(/JSON/);
  });
});
