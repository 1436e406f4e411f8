/**
 * bin/, the tools as npm installs them (scripts/build-bin.mjs): one CommonJS bundle per tool, started by an entry
 * (scripts/bin-entry.cjs) that compiles it with V8's code cache kept in the user's cache directory. V8 checks a cache
 * against its source by length alone, so the entry trusts a cache only when it is this user's alone, intact, and made
 * from the exact bundle text: each of those is attacked here. Also checked: no cache is shipped, the tools start no
 * built-in that only some runs need (child processes, workers: ~4 ms of a start when required eagerly), a reader that
 * goes away is no error (as for dist/cli/), the Sigstore trusted root is the package's own (never a `data/` beside
 * the package), and the tools do their job from bin/ (the engine, YAML, inspections).
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, chownSync, cpSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { makeBundleSigner, makeKeyBundle, makeTestLog } from '../helpers/sigstore-bundle.js';

const ROOT = join(import.meta.dirname, '..', '..');
const BIN = join(ROOT, 'bin');
const manifest = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { bin: Record<string, string> };

/** The bundle an entry starts: the name on its `const name` line. */
function bundleOf(tool: string): string {
  const entry = readFileSync(join(BIN, `${tool}.js`), 'utf8');
  const m = /^const name = "([^"]+)";$/m.exec(entry);
  if (!m) throw new Error(`bin/${tool}.js names no bundle`);
  return m[1];
}

/**
 * Runs an entry in a node process that reports, at exit, what V8 did with the cache and which built-in modules were
 * loaded. Node's own flags: none, as when npm's link runs the tool. The code cache goes to `cacheDir` (a scratch
 * directory of the test's own unless given; 'off' turns it off).
 */
function runEntry(tool: string, args: string[], cwd: string, cacheDir = join(cwd, '.cache'), extraEnv: Record<string, string> = {}) {
  const probe = join(cwd, '.probe.cjs');
  writeFileSync(probe, [
    "const { writeFileSync } = require('node:fs');",
    'const [entry, out, ...args] = process.argv.slice(2);',
    'process.argv.splice(1, process.argv.length - 1, entry, ...args);',
    'let loaded;',
    "process.on('exit', () => writeFileSync(out, JSON.stringify({ cache: loaded ? String(loaded.script.cachedDataRejected ?? 'none') : 'not loaded', modules: process.moduleLoadList })));",
    'loaded = require(entry);',
  ].join('\n'));
  const out = join(cwd, '.probe.json');
  const env: Record<string, string | undefined> = { ...process.env, IN_TOTO_WASM_CODE_CACHE: cacheDir };
  delete env.NODE_OPTIONS;
  for (const [key, value] of Object.entries(extraEnv)) env[key] = value;
  const result = spawnSync(process.execPath, [probe, join(BIN, `${tool}.js`), out, ...args], { cwd, encoding: 'utf8', env });
  // cache: 'false' (V8 took the one read), 'true' (V8 refused it), 'none' (none read: none there, or not trusted).
  const report = JSON.parse(readFileSync(out, 'utf8')) as { cache: string; modules: string[] };
  return { ...result, ...report };
}

/** The cache files in `dir` (the entry writes one per bundle, V8 version and architecture). */
const cacheFiles = (dir: string) => (existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.v8cache')) : []);

const dirs: string[] = [];
const scratch = () => {
  const dir = mkdtempSync(join(tmpdir(), 'in-toto-bin-test-'));
  dirs.push(dir);
  return dir;
};
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

describe('bin/ as built', () => {
  it('has an entry for every tool package.json names, CommonJS under bin/package.json', () => {
    expect(JSON.parse(readFileSync(join(BIN, 'package.json'), 'utf8'))).toEqual({ type: 'commonjs' });
    for (const [tool, target] of Object.entries(manifest.bin)) {
      expect(target).toBe(`bin/${tool}.js`);
      expect(readFileSync(join(ROOT, target), 'utf8')).toMatch(/^#!\/usr\/bin\/env node\n/);
    }
  });

  it('names each bundle by the SHA-256 of its text, and ships nothing else: no code cache', () => {
    for (const tool of Object.keys(manifest.bin)) {
      const name = bundleOf(tool);
      const text = readFileSync(join(BIN, `${name}.cjs`));
      expect(name).toBe(`${tool}.${createHash('sha256').update(text).digest('hex').slice(0, 16)}`);
      // ASCII (rolldown's charset): the text V8 sees is the file's bytes, one byte a character.
      expect(text.every((b) => b < 0x80)).toBe(true);
    }
    const expected = new Set(['package.json', ...Object.keys(manifest.bin).flatMap((t) => [`${t}.js`, `${bundleOf(t)}.cjs`])]);
    expect(readdirSync(BIN).filter((f) => !expected.has(f))).toEqual([]);
  });

  it('keeps a code cache for this user: written by the first runs (0600 in a 0700 directory), then taken as it is', () => {
    const dir = scratch();
    const cache = join(dir, 'cache');
    const first = runEntry('in-toto-keygen', ['--help'], dir, cache);
    expect(first.status, first.stderr).toBe(0);
    expect(first.stdout).toMatch(/^usage: in-toto-keygen /);
    expect(first.cache).toBe('none');
    const [name] = cacheFiles(cache);
    expect(name).toMatch(new RegExp(`^${bundleOf('in-toto-keygen').replace('.', '\\.')}\\.v8-.*\\.v8cache$`));
    const file = join(cache, name!);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(statSync(cache).mode & 0o777).toBe(0o700);
    // Byte 32 (after the seal) counts the runs that did some work and wrote it: --help and --version write only a
    // missing cache.
    const runs = () => readFileSync(file)[32];
    expect(runs()).toBe(0);
    const helpOnly = readFileSync(file);
    expect(runEntry('in-toto-keygen', ['--version'], dir, cache).cache).toBe('false');
    expect(readFileSync(file).equals(helpOnly)).toBe(true);
    // The next three runs that do work add what they compiled; from then on the file is only read.
    for (let run = 1; run <= 3; run++) {
      const made = runEntry('in-toto-keygen', ['-t', 'ed25519', `key${run}`], dir, cache);
      expect(made.status, made.stderr).toBe(0);
      expect(made.cache).toBe('false');
      expect(runs()).toBe(run);
    }
    const settled = readFileSync(file);
    expect(runEntry('in-toto-keygen', ['-t', 'ed25519', 'key4'], dir, cache).cache).toBe('false');
    expect(readFileSync(file).equals(settled)).toBe(true);
    // Other Node flags: a file of their own, beside this one (neither replaces the other).
    const flagged = runEntry('in-toto-keygen', ['-t', 'ed25519', 'key5'], dir, cache, { NODE_OPTIONS: '--max-old-space-size=300' });
    expect(flagged.status, flagged.stderr).toBe(0);
    expect(cacheFiles(cache).length).toBe(2);
    expect(readFileSync(file).equals(settled)).toBe(true);
  });

  it('uses no cache it cannot tell its own runs wrote here for this bundle, and replaces it', () => {
    const dir = scratch();
    const cache = join(dir, 'cache');
    const bootId = readFileSync('/proc/sys/kernel/random/boot_id');
    const seal = (file: string, source: Buffer, rest: Buffer) => {
      const st = statSync(file);
      return createHash('sha256').update(bootId).update(`${st.dev}:${st.ino}:`).update(source).update(rest).digest();
    };
    const bundleHash = createHash('sha256').update(readFileSync(join(BIN, `${bundleOf('in-toto-keygen')}.cjs`), 'utf8')).digest();
    const cases: [string, (file: string, good: Buffer) => void][] = [
      ['a changed byte', (file, good) => {
        const bytes = Buffer.from(good);
        bytes[bytes.length - 100]! ^= 0xff;
        writeFileSync(file, bytes);
      }],
      // Same bytes in another inode: what a copy, an extracted archive or a restored CI cache gives.
      ['a copy of a good cache', (file, good) => {
        writeFileSync(`${file}.copy`, good, { mode: 0o600 });
        renameSync(`${file}.copy`, file);
      }],
      // Sealed for this machine and inode, over other bundle text: V8's own check (the length) would pass it.
      ['made from other bundle text', (file, good) => {
        const rest = good.subarray(32);
        writeFileSync(file, Buffer.concat([seal(file, createHash('sha256').update('other text').digest(), rest), rest]));
      }],
      ['sealed anew for this bundle: the control (taken)', (file, good) => {
        const rest = good.subarray(32);
        writeFileSync(file, Buffer.concat([seal(file, bundleHash, rest), rest]));
      }],
      ['cut short', (file, good) => writeFileSync(file, good.subarray(0, 32))],
      ['writable by the group', (file) => chmodSync(file, 0o620)],
      ['writable by anyone', (file) => chmodSync(file, 0o606)],
      ['a directory', (file) => {
        rmSync(file);
        mkdirSync(file);
      }],
      // Even to a good cache of this user's (renamed: the same inode, its seal holds): a link is not the file itself.
      ['a symbolic link to a good cache', (file) => {
        renameSync(file, join(dir, 'elsewhere'));
        symlinkSync(join(dir, 'elsewhere'), file);
      }],
      ...(process.getuid?.() === 0 ? [['another user\'s', (file: string) => chownSync(file, 65534, 65534)] as [string, (file: string) => void]] : []),
    ];
    for (const [what, spoil] of cases) {
      rmSync(cache, { recursive: true, force: true });
      rmSync(join(dir, 'elsewhere'), { force: true });
      expect(runEntry('in-toto-keygen', ['--help'], dir, cache).cache).toBe('none');
      const [name] = cacheFiles(cache);
      const file = join(cache, name!);
      expect(runEntry('in-toto-keygen', ['--help'], dir, cache).cache, `${what}: the good cache`).toBe('false');
      spoil(file, readFileSync(file));
      const run = runEntry('in-toto-keygen', ['--help'], dir, cache);
      expect(run.status, `${what}: ${run.stderr}`).toBe(0);
      expect(run.stdout, what).toMatch(/^usage: in-toto-keygen /);
      if (what.endsWith('(taken)')) {
        expect(run.cache, what).toBe('false');
        continue;
      }
      expect(run.cache, what).toBe('none');
      if (what !== 'a directory') {
        // Replaced at exit by one of this run's own, which the next run takes.
        expect(lstatSync(file).isFile(), what).toBe(true);
        expect(runEntry('in-toto-keygen', ['--help'], dir, cache).cache, what).toBe('false');
      }
    }
  });

  it('neither reads nor writes a cache in a directory others may write, nor makes one inside another user\'s', () => {
    const dir = scratch();
    const cache = join(dir, 'cache');
    expect(runEntry('in-toto-keygen', ['--help'], dir, cache).status).toBe(0);
    const [name] = cacheFiles(cache);
    const before = readFileSync(join(cache, name!));
    chmodSync(cache, 0o770);
    for (let run = 0; run < 2; run++) {
      const result = runEntry('in-toto-keygen', ['-t', 'ed25519', `key${run}`], dir, cache);
      expect(result.status, result.stderr).toBe(0);
      expect(result.cache).toBe('none');
    }
    expect(readdirSync(cache)).toEqual([name]);
    expect(readFileSync(join(cache, name!)).equals(before)).toBe(true);
    if (process.getuid?.() === 0) {
      // A private directory of another user's: theirs to fill, so not read either.
      chmodSync(cache, 0o700);
      expect(runEntry('in-toto-keygen', ['--help'], dir, cache).cache).toBe('false');
      chownSync(cache, 65534, 65534);
      expect(runEntry('in-toto-keygen', ['-t', 'ed25519', 'key9'], dir, cache).cache).toBe('none');
      expect(readFileSync(join(cache, name!)).equals(before)).toBe(true);
      // Root with another user's HOME (sudo -E): no directory of root's inside it.
      const home = join(dir, 'home');
      mkdirSync(home);
      chownSync(home, 65534, 65534);
      const run = runEntry('in-toto-keygen', ['--help'], dir, '', { HOME: home, XDG_CACHE_HOME: '' });
      expect(run.status, run.stderr).toBe(0);
      expect(readdirSync(home)).toEqual([]);
    }
  });

  it('keeps no cache with IN_TOTO_WASM_CODE_CACHE=off or a relative path, and ignores a relative XDG_CACHE_HOME', () => {
    for (const setting of ['off', 'false', '0', '.cache', 'cache']) {
      const dir = scratch();
      const run = runEntry('in-toto-mock', ['--help'], dir, setting);
      expect(run.status, run.stderr).toBe(0);
      expect(run.cache, setting).toBe('none');
      expect(readdirSync(dir).filter((f) => !f.startsWith('.probe')), setting).toEqual([]);
    }
    // A relative XDG_CACHE_HOME (the directory being verified, say) is not a cache: HOME's is.
    const dir = scratch();
    const home = join(dir, 'home');
    mkdirSync(home);
    const run = runEntry('in-toto-mock', ['--help'], dir, '', { HOME: home, XDG_CACHE_HOME: '.cache' });
    expect(run.status, run.stderr).toBe(0);
    expect(readdirSync(dir).filter((f) => !f.startsWith('.probe'))).toEqual(['home']);
    expect(cacheFiles(join(home, '.cache', 'in-toto-wasm')).length).toBe(1);
  });

  it('starts through a symlink kept as the main module (--preserve-symlinks-main)', () => {
    const dir = scratch();
    symlinkSync(join(BIN, 'in-toto-verify.js'), join(dir, 'in-toto-verify'));
    const run = spawnSync(process.execPath, ['--preserve-symlinks-main', join(dir, 'in-toto-verify'), '--version'], { cwd: dir, encoding: 'utf8', env: { ...process.env, IN_TOTO_WASM_CODE_CACHE: 'off' } });
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^in-toto-verify \(in-toto-wasm\) /);
  });

  it.each(['in-toto-verify', 'in-toto-keygen', 'in-toto-run'])('%s: a reader that goes away is no error, as for dist/cli/', (tool) => {
    for (const entry of [join(BIN, `${tool}.js`), join(ROOT, 'dist/cli', `${tool}.js`)]) {
      const run = spawnSync('bash', ['-c', '"$0" "$1" --help | (exec true); echo "exit ${PIPESTATUS[0]}"', process.execPath, entry], { encoding: 'utf8', env: { ...process.env, IN_TOTO_WASM_CODE_CACHE: 'off' } });
      expect(run.stdout.trim(), entry).toBe('exit 0');
      expect(run.stderr, entry).toBe('');
    }
  });

  it('reads the Sigstore trusted root from its own package, never from a data/ beside it', () => {
    // node_modules/in-toto-wasm as npm lays it out, and beside it a node_modules/data/ whose trusted root knows a log
    // of the attacker's own (the test's): a bundle logged there must not verify.
    const top = scratch();
    const pkg = join(top, 'node_modules', 'in-toto-wasm');
    for (const part of ['package.json', 'bin', 'build/engine.wasm', 'data']) cpSync(join(ROOT, part), join(pkg, part), { recursive: true });
    const log = makeTestLog();
    mkdirSync(join(top, 'node_modules', 'data', 'sigstore'), { recursive: true });
    writeFileSync(join(top, 'node_modules', 'data', 'sigstore', 'production-trusted-root.json'), log.trustedRoot);
    const signer = makeBundleSigner();
    writeFileSync(join(top, 'artifact'), 'built\n');
    const statement = { _type: 'https://in-toto.io/Statement/v1', subject: [{ name: 'artifact', digest: { sha256: createHash('sha256').update('built\n').digest('hex') } }], predicateType: 'https://example.com/test', predicate: {} };
    writeFileSync(join(top, 'b.sigstore.json'), JSON.stringify(makeKeyBundle(statement, signer, log)));
    writeFileSync(join(top, 'key.pem'), signer.publicPem);
    const args = ['verify-bundle', '--bundle', 'b.sigstore.json', '--key', 'key.pem', 'artifact'];
    const env = { ...process.env, IN_TOTO_WASM_CODE_CACHE: 'off' };
    const installed = spawnSync(process.execPath, [join(pkg, 'bin', 'in-toto-sigstore.js'), ...args], { cwd: top, encoding: 'utf8', env });
    expect(installed.status, installed.stdout).toBe(1);
    expect(installed.stderr).toMatch(/log the trusted root does not know/);
    // The same bundle against the test's root, given explicitly: it verifies (so the refusal above is the root's).
    writeFileSync(join(top, 'root.json'), log.trustedRoot);
    const explicit = spawnSync(process.execPath, [join(pkg, 'bin', 'in-toto-sigstore.js'), ...args, '--trusted-root', 'root.json'], { cwd: top, encoding: 'utf8', env });
    expect(explicit.status, explicit.stderr).toBe(0);
  });

  it('in-toto-verify verifies a chain recorded from bin/ without child processes or workers, and refuses a tampered link', () => {
    const dir = scratch();
    const tool = (name: string, args: string[]) => spawnSync(process.execPath, [join(BIN, `${name}.js`), ...args], { cwd: dir, encoding: 'utf8', env: { ...process.env, IN_TOTO_WASM_CODE_CACHE: join(dir, '.cache') } });
    expect(tool('in-toto-keygen', ['-t', 'ed25519', 'owner']).status).toBe(0);
    // YAML (the `yaml` package, bundled).
    writeFileSync(join(dir, 'layout.yaml'), [
      'expires_in: 1m',
      'keys:',
      '  owner: {path: owner.pub, type: ed25519}',
      'steps:',
      '  - name: build',
      '    functionaries: [owner]',
      '    products: [[CREATE, out], [DISALLOW, "*"]]',
      '',
    ].join('\n'));
    const layout = tool('in-toto-layout', ['create', 'layout.yaml', '-o', 'root.layout', '-k', 'owner', '-t', 'ed25519']);
    expect(layout.status, layout.stderr).toBe(0);
    writeFileSync(join(dir, 'out'), 'built\n');
    const run = tool('in-toto-run', ['-n', 'build', '-k', 'owner', '-t', 'ed25519', '-p', 'out', '--', 'true']);
    expect(run.status, run.stderr).toBe(0);

    const passed = runEntry('in-toto-verify', ['-l', 'root.layout', '-k', 'owner.pub', '-t', 'ed25519'], dir);
    expect(passed.status, passed.stderr).toBe(0);
    expect(passed.modules).toContain('NativeModule crypto');
    for (const lazy of ['NativeModule child_process', 'NativeModule worker_threads']) expect(passed.modules).not.toContain(lazy);

    // A product's digest changed in the signed link: its signature no longer holds.
    const link = readdirSync(dir).find((f) => f.startsWith('build.') && f.endsWith('.link'))!;
    const text = readFileSync(join(dir, link), 'utf8');
    const digest = createHash('sha256').update('built\n').digest('hex');
    expect(text).toContain(digest);
    writeFileSync(join(dir, link), text.replace(digest, createHash('sha256').update('tampered\n').digest('hex')));
    const failed = runEntry('in-toto-verify', ['-l', 'root.layout', '-k', 'owner.pub', '-t', 'ed25519'], dir);
    expect(failed.status).toBe(1);
    expect(failed.stderr).toMatch(/verification FAILED[\s\S]*\[SIGNATURE\][\s\S]*build/);
  });

  it('in-toto-verify runs an inspection from bin/ (a child process, required on first use)', () => {
    const dir = scratch();
    const tool = (name: string, args: string[]) => spawnSync(process.execPath, [join(BIN, `${name}.js`), ...args], { cwd: dir, encoding: 'utf8', env: { ...process.env, IN_TOTO_WASM_CODE_CACHE: join(dir, '.cache') } });
    expect(tool('in-toto-keygen', ['-t', 'ed25519', 'owner']).status).toBe(0);
    writeFileSync(join(dir, 'layout.json'), JSON.stringify({
      expires_in: '1m',
      keys: { owner: { path: 'owner.pub', type: 'ed25519' } },
      steps: [{ name: 'build', functionaries: ['owner'], products: [['CREATE', 'out'], ['DISALLOW', '*']] }],
      inspect: [{ name: 'look', run: ['sh', '-c', 'cat out > seen'], materials: [['MATCH', 'out', 'WITH', 'PRODUCTS', 'FROM', 'build'], ['ALLOW', '*']], products: [['ALLOW', '*']] }],
    }));
    const layout = tool('in-toto-layout', ['create', 'layout.json', '-o', 'root.layout', '-k', 'owner', '-t', 'ed25519']);
    expect(layout.status, layout.stderr).toBe(0);
    writeFileSync(join(dir, 'out'), 'built');
    expect(tool('in-toto-run', ['-n', 'build', '-k', 'owner', '-t', 'ed25519', '-p', 'out', '-x']).status).toBe(0);
    const passed = runEntry('in-toto-verify', ['-l', 'root.layout', '-k', 'owner.pub', '-t', 'ed25519'], dir);
    expect(passed.status, passed.stderr).toBe(0);
    expect(passed.modules).toContain('NativeModule child_process');
    expect(readFileSync(join(dir, 'seen'), 'utf8')).toBe('built');
  });
});
