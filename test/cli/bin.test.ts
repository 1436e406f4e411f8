/**
 * bin/, the tools as npm installs them (scripts/build-bin.mjs): one CommonJS bundle per tool, started by an entry
 * that compiles it with V8's code cache made by the build. V8 checks a cache against its source by length alone,
 * so a cache must only ever be read beside the exact text it was made from: the bundle's name carries the hash of
 * its text and the cache has the same name. Also checked: the trained caches are taken by this Node (else the build
 * made them under other flags and they only cost), the entries start no built-in that only some runs need (child
 * processes, workers: ~4 ms of a start when required eagerly), and the tools do their job from bin/ (the engine,
 * YAML and inspections reached from a bundle).
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..', '..');
const BIN = join(ROOT, 'bin');
const manifest = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { bin: Record<string, string> };
const TRAINED = ['in-toto-keygen', 'in-toto-layout', 'in-toto-run', 'in-toto-record', 'in-toto-verify'];

/** The bundle an entry starts: the name on its `const name` line. */
function bundleOf(tool: string): string {
  const entry = readFileSync(join(BIN, `${tool}.js`), 'utf8');
  const m = /^const name = "([^"]+)";$/m.exec(entry);
  if (!m) throw new Error(`bin/${tool}.js names no bundle`);
  return m[1];
}

/**
 * Runs an entry in a node process that reports, at exit, what V8 did with the cache and which built-in modules
 * were loaded. Node's own flags: none, as when npm's link runs the tool.
 */
function runEntry(tool: string, args: string[], cwd: string) {
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
  const result = spawnSync(process.execPath, [probe, join(BIN, `${tool}.js`), out, ...args], { cwd, encoding: 'utf8' });
  // cache: 'false' (taken), 'true' (refused), 'none' (no cache beside the bundle).
  const report = JSON.parse(readFileSync(out, 'utf8')) as { cache: string; modules: string[] };
  return { ...result, ...report };
}

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

  it('names each bundle by the SHA-256 of its text, and each cache after the bundle it was made from', () => {
    const files = readdirSync(BIN);
    for (const tool of Object.keys(manifest.bin)) {
      const name = bundleOf(tool);
      const text = readFileSync(join(BIN, `${name}.cjs`));
      expect(name).toBe(`${tool}.${createHash('sha256').update(text).digest('hex').slice(0, 16)}`);
      // ASCII (rolldown's charset): the text V8 sees is the file's bytes, one byte a character.
      expect(text.every((b) => b < 0x80)).toBe(true);
    }
    const caches = files.filter((f) => f.endsWith('.v8cache')).map((f) => f.slice(0, -'.v8cache'.length));
    expect(caches.sort()).toEqual(TRAINED.map(bundleOf).sort());
    // Nothing else: a bundle no entry names, or a cache of an older build, would be dead weight in the package.
    const expected = new Set(['package.json', ...Object.keys(manifest.bin).flatMap((t) => [`${t}.js`, `${bundleOf(t)}.cjs`]), ...caches.map((c) => `${c}.v8cache`)]);
    expect(files.filter((f) => !expected.has(f))).toEqual([]);
  });

  it.each(TRAINED)('%s: this Node takes the code cache the build made', (tool) => {
    const run = runEntry(tool, ['--help'], scratch());
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).toMatch(new RegExp(`^usage: ${tool} `));
    expect(run.cache).toBe('false');
  });

  it('a tool without a cache compiles its bundle as it is', () => {
    const run = runEntry('in-toto-mock', ['--help'], scratch());
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^usage: in-toto-mock /);
    expect(run.cache).toBe('none');
  });

  it('in-toto-verify verifies a chain recorded from bin/ without child processes or workers, and refuses a tampered link', () => {
    const dir = scratch();
    const tool = (name: string, args: string[]) => spawnSync(process.execPath, [join(BIN, `${name}.js`), ...args], { cwd: dir, encoding: 'utf8' });
    expect(tool('in-toto-keygen', ['-t', 'ed25519', 'owner']).status).toBe(0);
    // YAML: the `yaml` package reached by a dynamic import from inside the bundle.
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
    const tool = (name: string, args: string[]) => spawnSync(process.execPath, [join(BIN, `${name}.js`), ...args], { cwd: dir, encoding: 'utf8' });
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
