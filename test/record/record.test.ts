/**
 * recordArtifacts against the reference: for the same trees and options, the same paths and digests as
 * in_toto 1.3.1's runlib.record_artifacts_as_dict (and the same refusals), and the exclude matcher against
 * pathspec 0.11's gitwildmatch directly.
 */
import { randomBytes } from 'node:crypto';
import { symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InTotoError } from '../../bindings/errors.js';
import { createExcludeMatcher, DEFAULT_EXCLUDE_PATTERNS, HASH_ALGORITHMS, normpath, recordArtifacts, type ArtifactDict, type RecordOptions, type SkipReason } from '../../bindings/record/record.js';
import { assertReferenceInstalled, runPython } from '../helpers/reference.js';
import { tempTrees, type TreeNode } from '../helpers/tree.js';

/** One call of record_artifacts_as_dict, in the reference's argument names. */
interface Case {
  paths: string[];
  exclude?: string[];
  base?: string;
  follow?: boolean;
  normalize?: boolean;
  lstrip?: string[];
}

type Outcome = { ok: ArtifactDict } | { error: string; message: string };

/** Runs each case in `cwd` with the reference; answers its dict, or the name of the exception it raised. */
const REFERENCE_RECORDER = `
import json, os, sys
from in_toto.runlib import record_artifacts_as_dict
request = json.load(sys.stdin)
out = []
for case in request["cases"]:
    os.chdir(request["cwd"])  # a failing call with base_path does not change back
    try:
        result = record_artifacts_as_dict(case["paths"], exclude_patterns=case.get("exclude"),
            base_path=case.get("base"), follow_symlink_dirs=case.get("follow", False),
            normalize_line_endings=case.get("normalize", False), lstrip_paths=case.get("lstrip"))
        out.append({"ok": result})
    except Exception as e:
        out.append({"error": type(e).__name__, "message": str(e)})
print(json.dumps(out))
`;

function reference(cwd: string, cases: Case[]): Outcome[] {
  return JSON.parse(runPython(REFERENCE_RECORDER, JSON.stringify({ cwd, cases })).toString('utf8')) as Outcome[];
}

function optionsFor(cwd: string, c: Case): RecordOptions {
  return {
    // The reference runs in `cwd`; we resolve against it instead of changing into it.
    basePath: c.base === undefined ? cwd : `${cwd}/${c.base}`,
    excludePatterns: c.exclude,
    followSymlinkDirs: c.follow,
    normalizeLineEndings: c.normalize,
    lstripPaths: c.lstrip,
  };
}

async function ours(cwd: string, c: Case): Promise<Outcome> {
  try {
    return { ok: await recordArtifacts(c.paths, optionsFor(cwd, c)) };
  } catch (error) {
    if (!(error instanceof InTotoError)) throw error;
    return { error: error.code, message: error.message };
  }
}

/** Which of our error codes and fields stands for each exception of the reference's. */
const REFERENCE_ERRORS: Record<string, { code: string; field: RegExp }> = {
  PrefixError: { code: 'FORMAT', field: /^lstripPaths/ },
  StorageError: { code: 'IO', field: /^$/ },
  ValueError: { code: 'FORMAT', field: /^basePath$/ },
  GitWildMatchPatternError: { code: 'FORMAT', field: /^excludePatterns\[\d+\]$/ },
  error: { code: 'FORMAT', field: /^excludePatterns\[\d+\]$/ }, // re.error, from a bad bracket range
};

/** Runs every case with both, expects the same dicts, and the same kind of refusal where the reference refuses. */
async function expectSameAsReference(cwd: string, cases: Case[]): Promise<Outcome[]> {
  const theirs = reference(cwd, cases);
  for (const [i, c] of cases.entries()) {
    const expected = theirs[i]!;
    const label = JSON.stringify(c);
    if ('ok' in expected) {
      expect(await ours(cwd, c), label).toEqual(expected);
      continue;
    }
    const mapped = REFERENCE_ERRORS[expected.error];
    expect(mapped, `${label}: unexpected reference error ${expected.error}: ${expected.message}`).toBeDefined();
    const error = await recordArtifacts(c.paths, optionsFor(cwd, c)).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error, `${label}: the reference raised ${expected.error}: ${expected.message}`).toBeInstanceOf(InTotoError);
    expect((error as InTotoError).code, label).toBe(mapped!.code);
    expect((error as InTotoError).field ?? '', label).toMatch(mapped!.field);
  }
  return theirs;
}

type Node = TreeNode;

const temps = tempTrees('in-toto-record-');
const tree = temps.tree;

beforeAll(() => assertReferenceInstalled());
afterAll(() => temps.removeAll());

describe('the same artifacts as record_artifacts_as_dict', () => {
  it('nested directories, empty directories and the default excludes', async () => {
    const root = tree({
      'README.md': '# hi\n',
      'src/main.c': 'int main(void) { return 0; }\n',
      'src/lib/util.c': 'static int x;\n',
      'src/lib/util.pyc': 'compiled',
      'src/lib/util.c~': 'backup',
      'src/deep/a/b/c/d/e.txt': 'deep',
      'empty/dir/': { dir: true },
      'only-empty/': { dir: true },
      '.git/config': '[core]\n',
      '.git/objects/ab/cdef': 'object',
      'sub/.git': 'gitdir: ../.git/modules/sub\n', // a file named .git (a submodule) is excluded too
      'step.4f2a.link': '{}',
      '.step.4f2a.link-unfinished': '{}',
      'notes.link.txt': 'also matches *.link*',
    });
    const theirs = await expectSameAsReference(root, [
      { paths: ['.'] },
      { paths: ['src', 'README.md', 'empty'] },
      { paths: ['./src/../src/lib', 'src//lib/', 'src/lib/.'] }, // one path, spelled three ways
      { paths: ['step.4f2a.link', '.git', 'src/lib/util.pyc'] }, // excluded when passed directly, too
      { paths: [] },
      { paths: ['no-such-file', 'src/no-such-dir', 'README.md'] },
    ]);
    // The case is not vacuous: the reference recorded the expected files, and nothing excluded.
    const all = (theirs[0] as { ok: ArtifactDict }).ok;
    expect(Object.keys(all).sort()).toEqual(['README.md', 'src/deep/a/b/c/d/e.txt', 'src/lib/util.c', 'src/main.c']);
  });

  it('custom excludes: negation, directory patterns, anchors, ** and brackets', async () => {
    const root = tree({
      'app.log': 'x',
      'keep.log': 'x',
      'build/out.o': 'x',
      'build/keep.txt': 'x',
      'build/sub/keep.txt': 'x',
      'src/build/gen.c': 'x',
      'top-only': 'x',
      'src/top-only': 'x',
      'docs/a/b/draft-1.md': 'x',
      'docs/final.md': 'x',
      'x/cache/blob': 'x',
      'x/y/cache/blob': 'x',
      'abc': 'x',
      'a/c': 'x',
      'b1.tmp': 'x',
      'c1.tmp': 'x',
      'zy.dat': 'x',
      'xy.dat': 'x',
      '#literal': 'x',
      ']': 'x',
      'data.link': 'not excluded: custom patterns replace the defaults',
    });
    const patterns = [
      '*.log',
      '!keep.log',
      'build/',
      '!build/keep.txt',
      '/top-only',
      'docs/**/draft*',
      '**/cache',
      'a?c',
      '[ab]*.tmp',
      '[!x]y.dat',
      '\\#literal',
      '#a comment',
      '  ',
      '[]]',
    ];
    await expectSameAsReference(root, [
      { paths: ['.'], exclude: patterns },
      { paths: ['.'], exclude: ['build'] }, // without the slash: the directory itself
      { paths: ['.'], exclude: ['**'] },
      { paths: ['.'], exclude: ['**/'] },
      { paths: ['.'], exclude: ['*', '!*.tmp', '!*/'] },
      { paths: ['.'], exclude: [''] }, // excludes nothing
      { paths: ['.'], exclude: [] }, // an empty list means the defaults
      { paths: [root], exclude: ['build/', 'tmp'] }, // absolute paths: matched without the leading '/'
      { paths: ['.'], exclude: ['!'] },
      { paths: ['.'], exclude: ['foo\\'] },
      { paths: ['.'], exclude: ['[z-a]'] },
    ]);
  });

  it('left-stripping: stripped paths, prefixes that overlap, collisions', async () => {
    const root = tree({
      'dist/a.txt': 'a',
      'dist/sub/b.txt': 'b',
      'out/a.txt': 'other a',
      'out/c.txt': 'c',
      'a.txt': 'top',
    });
    await expectSameAsReference(root, [
      { paths: ['dist'], lstrip: ['dist/'] },
      { paths: ['dist', 'out/c.txt'], lstrip: ['dist/', 'out/'] },
      { paths: ['dist'], lstrip: ['dist'] }, // no trailing slash: keys start with '/'
      { paths: ['dist/a.txt'], lstrip: ['dist/a.txt'] }, // the whole path: an empty key
      { paths: ['dist', 'out'], lstrip: ['dist/', 'out/'] }, // both give a.txt
      { paths: ['dist', 'a.txt'], lstrip: ['dist/'] }, // a stripped path meets a top-level one
      { paths: ['dist', 'dist/sub'], lstrip: ['zzz/'] }, // the same file twice: a collision too
      { paths: ['dist'], lstrip: ['dist/', 'dist/sub/'] },
      { paths: ['dist'], lstrip: ['dist/', 'dist/'] },
      { paths: ['dist'], lstrip: ['', 'x'] },
      { paths: [], lstrip: ['a', 'ab'] }, // no paths: nothing is checked
    ]);
  });

  it('symlinks to files and directories, followed or not, dead and self-referencing', async () => {
    const root = tree({
      'real/file.txt': 'content',
      'real/nested/deep.txt': 'deep',
      'outside/o.txt': 'outside',
      'tree/a.txt': 'a',
      'tree/to-file': { link: '../real/file.txt' },
      'tree/to-dir': { link: '../real' },
      'tree/to-outside': { link: '../outside' },
      'tree/dead': { link: 'nowhere' },
      'tree/dead-dir/': { dir: true },
      'tree/self': { link: 'self' },
      'tree/ping': { link: 'pong' },
      'tree/pong': { link: 'ping' },
      'dir-link': { link: 'real' },
    });
    const theirs = await expectSameAsReference(root, [
      { paths: ['tree'], follow: false },
      { paths: ['tree'], follow: true },
      { paths: ['dir-link'], follow: false }, // a symlinked directory passed in is always listed
      { paths: ['tree/to-file', 'tree/dead', 'tree/self'] },
    ]);
    const followed = (theirs[1] as { ok: ArtifactDict }).ok;
    expect(Object.keys(followed)).toContain('tree/to-dir/nested/deep.txt');
    expect(Object.keys(followed)).toContain('tree/to-file');
    expect(Object.keys(followed)).not.toContain('tree/dead');
  });

  it('a symlink loop: followed once, where the reference records everything up to 40 times', async () => {
    const root = tree({
      'a/x': 'x',
      'a/sub/y': 'y',
      'a/sub/loop': { link: '..' },
    });
    const [{ ok: theirs }] = reference(root, [{ paths: ['a'], follow: true }]) as [{ ok: ArtifactDict }];
    expect(Object.keys(theirs).length).toBeGreaterThan(40); // the reference's repetitions
    const skipped: [string, SkipReason][] = [];
    const result = await recordArtifacts(['a'], { basePath: root, followSymlinkDirs: true, onSkip: (path, reason) => skipped.push([path, reason]) });
    // Ours is the reference's without the repetitions: every path that does not go through the loop.
    expect(result).toEqual(Object.fromEntries(Object.entries(theirs).filter(([path]) => !path.includes('/loop/'))));
    expect(Object.keys(result).sort()).toEqual(['a/sub/y', 'a/x']);
    expect(skipped).toEqual([['a/sub/loop', 'cycle']]);
    // A loop through the directory passed in, and through a link passed in.
    symlinkSync('.', join(root, 'a/here'));
    symlinkSync('a', join(root, 'alias'));
    expect(await recordArtifacts(['a', 'alias'], { basePath: root, followSymlinkDirs: true })).toEqual({ ...result, 'alias/x': result['a/x'], 'alias/sub/y': result['a/sub/y'] });
  });

  it('tells what it skipped and why, as the reference logs it', async () => {
    const root = tree({ 'd/f': 'f', 'd/dead': { link: 'nowhere' }, 'd/linked': { link: '.' } });
    const skipped: [string, SkipReason][] = [];
    await recordArtifacts(['d', 'missing'], { basePath: root, onSkip: (path, reason) => skipped.push([path, reason]) });
    expect(skipped).toEqual([
      ['d/dead', 'not-a-file'],
      ['missing', 'missing'],
    ]);
  });

  it('unicode names (NFC and NFD side by side), a backslash in a name, odd characters', async () => {
    const nfc = 'caf\u00e9.txt';
    const nfd = 'cafe\u0301.txt';
    expect(nfc.normalize('NFD')).toBe(nfd);
    const root = tree({
      [`u/${nfc}`]: 'nfc',
      [`u/${nfd}`]: 'nfd',
      'u/\u{1F600}/\u65e5\u672c.txt': 'astral dir',
      'u/\uFEFFbom.txt': 'a name starting with a byte order mark',
      'u/back\\slash.txt': 'backslash',
      'u/line\nbreak.txt': 'newline in a name',
      'u/car\rriage': 'carriage return in a name',
      'u/sp ace ': 'spaces',
      'u/\u2028sep': 'line separator',
    });
    const theirs = await expectSameAsReference(root, [
      { paths: ['u'] },
      { paths: ['u'], exclude: [`caf\u00e9*`] },
      { paths: ['u'], exclude: ['*break.txt', 'car?riage', '*sep'] },
      { paths: ['u'], lstrip: ['u/back/'] },
    ]);
    const keys = Object.keys((theirs[0] as { ok: ArtifactDict }).ok);
    expect(keys).toContain(`u/${nfc}`);
    expect(keys).toContain(`u/${nfd}`);
    expect(keys).toContain('u/back/slash.txt'); // recorded with '/', hashed from the real name
  });

  it('files named like Object.prototype members are recorded, not swallowed', async () => {
    const root = tree({ 'p/__proto__': 'proto', 'p/constructor': 'ctor', 'p/toString': 'ts', p2: { dir: true } });
    const theirs = await expectSameAsReference(root, [{ paths: ['p'] }, { paths: ['p'], lstrip: ['p/'] }]);
    const ours = await recordArtifacts(['p'], { basePath: root, lstripPaths: ['p/'] });
    expect(Object.keys(ours).sort()).toEqual(['__proto__', 'constructor', 'toString']);
    expect(Object.getPrototypeOf(ours)).toBe(Object.prototype);
    expect(Object.keys((theirs[0] as { ok: ArtifactDict }).ok).sort()).toEqual(['p/__proto__', 'p/constructor', 'p/toString']);
  });

  it('line endings: CRLF, CR, mixed, and a CR at a read boundary, with and without normalization', async () => {
    const atBoundary = (n: number) => Buffer.concat([Buffer.alloc(n - 1, 'a'), Buffer.from('\r\nb\r\r\nc\n\r')]);
    const root = tree({
      'crlf.txt': 'one\r\ntwo\r\n',
      'cr.txt': 'one\rtwo\r',
      'lf.txt': 'one\ntwo\n',
      'mixed.txt': 'a\r\nb\rc\nd\r\r\ne\n\rf\r',
      'only-cr': '\r',
      'empty': '',
      'boundary-4k': atBoundary(4096), // securesystemslib's chunk
      'boundary-512k': atBoundary(512 * 1024), // ours
      'cr-run': Buffer.concat([Buffer.alloc(4095, 'x'), Buffer.alloc(10, '\r'), Buffer.from('\n')]),
    });
    const theirs = await expectSameAsReference(root, [
      { paths: ['.'], normalize: false },
      { paths: ['.'], normalize: true },
    ]);
    const [raw, normalized] = theirs.map((t) => (t as { ok: ArtifactDict }).ok) as [ArtifactDict, ArtifactDict];
    expect(normalized['crlf.txt']).toEqual(normalized['lf.txt']);
    expect(normalized['cr.txt']).toEqual(normalized['lf.txt']);
    expect(raw['crlf.txt']).not.toEqual(raw['lf.txt']);
  });

  it('a 5 MB file and 2,000 small files, the same with any number of threads', async () => {
    const big = randomBytes(5 * 1024 * 1024);
    const spec: Record<string, Node> = { 'big.bin': big };
    for (let i = 0; i < 2000; i++) spec[`many/d${i % 37}/f${i}.txt`] = `file ${i}\r\n${'x'.repeat(i % 300)}`;
    const root = tree(spec);
    const cases: Case[] = [{ paths: ['.'] }, { paths: ['.'], normalize: true }];
    await expectSameAsReference(root, cases);
    const sequential = await recordArtifacts(['.'], { basePath: root, threads: 1 });
    expect(Object.keys(sequential)).toHaveLength(2001);
    expect(await recordArtifacts(['.'], { basePath: root, threads: 8 })).toEqual(sequential);
  });

  it('a job past 16,384 files is hashed by workers while the walk goes on: the same result, and an unreadable file still named', async () => {
    const spec: Record<string, Node> = {};
    for (let i = 0; i < 17_000; i++) spec[`d${i % 97}/f${i}.txt`] = `file ${i}`;
    spec['d50/zz-mem'] = { link: '/proc/self/mem' };
    const root = tree(spec);
    // Without `threads`, the default: workers start once the walk has found more than 16,384 files.
    const overlapped = await recordArtifacts(['.'], { basePath: root, excludePatterns: ['*-mem'] });
    expect(Object.keys(overlapped)).toHaveLength(17_000);
    expect(overlapped).toEqual(await recordArtifacts(['.'], { basePath: root, excludePatterns: ['*-mem'], threads: 1 }));
    await expect(recordArtifacts(['.'], { basePath: root })).rejects.toMatchObject({ code: 'IO', artifact: 'd50/zz-mem' });
  });

  it('base path: relative paths, ".." and absolute paths resolved as after chdir; a bad base path', async () => {
    const root = tree({
      'proj/src/a.txt': 'a',
      'proj/other/b.txt': 'b',
      'proj/file': 'not a directory',
      'sibling/c.txt': 'c',
      'link-to-proj': { link: 'proj/src' },
    });
    await expectSameAsReference(root, [
      { paths: ['src'], base: 'proj' },
      { paths: ['../sibling', 'src/../other'], base: 'proj' },
      { paths: ['..'], base: 'link-to-proj' }, // '..' from the link's target, as the kernel resolves it
      { paths: [`${root}/sibling`], base: 'proj' },
      { paths: ['src'], base: 'no-such-dir' },
      { paths: ['src'], base: 'proj/file' },
      { paths: [], base: 'no-such-dir' }, // no paths: the base path is not even looked at
    ]);
  });

  it('records relative to the working directory without a base path', async () => {
    const root = tree({ 'w/a.txt': 'a', 'w/b/c.txt': 'c' });
    const [theirs] = reference(root, [{ paths: ['w', './w/b'] }]) as [{ ok: ArtifactDict }];
    const cwd = process.cwd();
    process.chdir(root);
    try {
      expect(await recordArtifacts(['w', './w/b'])).toEqual(theirs.ok);
    } finally {
      process.chdir(cwd);
    }
  });

  it('hash algorithms as securesystemslib names and computes them', async () => {
    const root = tree({ 'f.txt': 'a\r\nb\rc'.repeat(5000), 'g.bin': randomBytes(1_500_000) });
    const program = `
import json, os, sys
from in_toto.runlib import _hash_artifact
os.chdir(sys.argv[1])
algorithms, normalize = json.loads(sys.argv[2]), sys.argv[3] == "normalize"
print(json.dumps({name: _hash_artifact(name, hash_algorithms=algorithms, normalize_line_endings=normalize) for name in ["f.txt", "g.bin"]}))
`;
    for (const normalize of [false, true]) {
      const args = [root, JSON.stringify(HASH_ALGORITHMS), normalize ? 'normalize' : 'raw'];
      const theirs = JSON.parse(runPython(program, undefined, args).toString()) as ArtifactDict;
      expect(Object.keys(theirs['f.txt']!)).toEqual([...HASH_ALGORITHMS]);
      expect(await recordArtifacts(['f.txt', 'g.bin'], { basePath: root, algorithms: HASH_ALGORITHMS, normalizeLineEndings: normalize })).toEqual(theirs);
    }
    expect(await recordArtifacts(['f.txt'], { basePath: root, algorithms: [] })).toEqual(await recordArtifacts(['f.txt'], { basePath: root }));
    await expect(recordArtifacts(['f.txt'], { basePath: root, algorithms: ['sha3-256' as never] })).rejects.toMatchObject({ code: 'FORMAT', field: 'algorithms[0]' });
  });
});

describe('errors', () => {
  it('a file that cannot be read is an error naming it, as the reference raises StorageError', async () => {
    // Root reads any file whatever its mode; /proc/self/mem opens but fails to read at offset 0.
    // Two of them, named so that python's code point order and JS's UTF-16 order disagree on which is first.
    const mem = { link: '/proc/self/mem' };
    const root = tree({ 'd/a.txt': 'a', 'd/\u{1F600}': mem, 'd/\uFF61': mem, 'd/z.txt': 'z' });
    const [theirs] = reference(root, [{ paths: ['d'] }]) as [{ error: string; message: string }];
    expect(theirs).toEqual({ error: 'StorageError', message: "Can't open d/\uFF61" });
    for (const threads of [1, 2, 16]) {
      // The first unreadable file in the reference's order is the one named, however many threads hash them.
      await expect(recordArtifacts(['d'], { basePath: root, threads })).rejects.toMatchObject({ code: 'IO', artifact: 'd/\uFF61', path: `${root}/d/\uFF61` });
    }
  });

  it('with several unreadable files, the first in order is named even when a later one fails sooner', async () => {
    // Two failures and a big file before the first: whichever fails first in time, the first in order is named.
    const mem = { link: '/proc/self/mem' };
    const spec: Record<string, Node> = { 'd/0big': randomBytes(20 * 1024 * 1024), 'd/a-mem': mem, 'd/z-mem': mem };
    // Enough files for more than one worker (one per 256 files).
    for (let i = 0; i < 300; i++) spec[`d/f${String(i).padStart(3, '0')}`] = `small ${i}`;
    const root = tree(spec);
    expect(reference(root, [{ paths: ['d'] }])).toEqual([{ error: 'StorageError', message: "Can't open d/a-mem" }]);
    for (const threads of [1, 4]) {
      await expect(recordArtifacts(['d'], { basePath: root, threads })).rejects.toMatchObject({ artifact: 'd/a-mem' });
    }
  });

  it('an unreadable file before a left-strip collision wins, as in the reference’s order', async () => {
    const root = tree({ 'a/m': { link: '/proc/self/mem' }, 'a/x': 'x', 'b/x': 'x' });
    await expectSameAsReference(root, [
      { paths: ['a', 'b'], lstrip: ['a/', 'b/'] },
      { paths: ['b', 'x'], lstrip: ['a/', 'b/'] },
    ]);
    await expect(recordArtifacts(['a', 'b'], { basePath: root, lstripPaths: ['a/', 'b/'] })).rejects.toMatchObject({ artifact: 'm', path: `${root}/a/m` });
  });

  it('names that are not UTF-8: fine when excluded, refused when recorded (the reference fails writing the link)', async () => {
    const root = tree({ 'n/ok.txt': 'ok' });
    writeFileSync(Buffer.from(`${root}/n/\xff.pyc`, 'latin1'), 'excluded by *.pyc');
    const theirs = reference(root, [{ paths: ['n'] }]);
    expect(await ours(root, { paths: ['n'] })).toEqual(theirs[0]);

    writeFileSync(Buffer.from(`${root}/n/bad\xff.txt`, 'latin1'), 'recorded');
    const check = `
import json, os, sys
from in_toto.runlib import record_artifacts_as_dict
os.chdir(sys.argv[1])
try:
    json.dumps(record_artifacts_as_dict(["n"]), ensure_ascii=False).encode("utf-8")
    print("encoded")
except UnicodeEncodeError:
    print("UnicodeEncodeError")
`;
    expect(runPython(check, undefined, [root]).toString().trim()).toBe('UnicodeEncodeError');
    await expect(recordArtifacts(['n'], { basePath: root })).rejects.toMatchObject({ code: 'FORMAT', path: 'n/bad\uFFFD.txt' });
  });

  it('bad options are FORMAT errors naming the option', async () => {
    await expect(recordArtifacts('a' as never)).rejects.toMatchObject({ code: 'FORMAT', field: 'paths' });
    await expect(recordArtifacts(['a'], { excludePatterns: [1 as never] })).rejects.toMatchObject({ code: 'FORMAT', field: 'excludePatterns[0]' });
    await expect(recordArtifacts(['a'], { lstripPaths: ['a', 'ab'] })).rejects.toMatchObject({ code: 'FORMAT', field: 'lstripPaths[1]' });
    await expect(recordArtifacts(['a'], { threads: 0 })).rejects.toMatchObject({ code: 'FORMAT', field: 'threads' });
  });
});

describe('exclude patterns equal pathspec gitwildmatch', () => {
  const patterns = [
    '*.link*', '.git', '*.pyc', '*~', 'foo', 'foo/', '/foo', '/foo/', 'foo/bar', 'foo/bar/', 'foo/*', 'foo/**', '**/foo',
    '**/foo/bar', 'a/**/b', 'a/**/**/b', '**', '**/', '***', '**/**', '*', '*/', '?', 'f?o', 'f*o', '*.*', '.*',
    '[abc]', '[!abc]', '[^abc]', '[a-c]x', '[]]', '[]a]', '[!]]', '[^]]', '[]-]', '[a-]', '[--0]', '[[]', '[[:alpha:]]',
    '[\\]]', '[a\\]', 'a[', '[!]', '[]', 'a[/]b', 'a[!x]b', '\\*', '\\?', '\\[a]', '\\#x', '#x', '\\!x', '!x', ' foo ',
    '\tfoo', '\u3000foo', '\uFEFFfoo', 'f\u00e9', '\u{1F600}', '[\u{1F600}]x', '[\u00e0-\u00ff]', '\u00e9/', 'a b',
    'x\\ ', '/', '//', 'a//b', 'a/', './a', '../a', 'a/./b', '\\', 'trail\\', '!', '[z-a]', '[\u00ff-\u00e0]', '',
  ];
  const paths = [
    'foo', 'foo/bar', 'foo/bar/baz', 'a/foo', 'a/foo/bar', 'bar/foo', 'x.link', 'dir/x.link-unfinished', '.git',
    '.git/config', 'a/.git/x', 'x.pyc', 'x~', 'fo', 'fxo', 'f/o', 'f\u00e9', 'fe\u0301', 'a/b', 'a/x/b', 'a/x/y/b',
    'ab', 'a', 'b', 'c', 'd', 'ax', ']', 'a]', '-', '/', '!', '^', '[', '\\', ':', 'aa', 'a/b/c', 'a/b/c/d', '*',
    '?', '#x', '!x', ' foo ', 'foo ', 'a b', 'x ', '\u{1F600}', '\u{1F600}x', '\u00e0x', 'foo\n', 'foo\nbar', 'foo\r',
    'foo/\n', 'foo\u2028', 'a\nb', 'a\r/foo', 'foo/b\rc', '\u2028/foo', 'foo/\u2029', 'x/\r/foo/y', '../a', '../foo', '/foo', '/a/foo', './foo', '//foo', 'a\\b', 'x/a[b', 'a[', '',
  ];

  it('for every pattern against every path, and the same refusals', () => {
    const program = `
import json, sys
from pathspec import PathSpec
request = json.load(sys.stdin)
out = []
for pattern in request["patterns"]:
    try:
        spec = PathSpec.from_lines("gitwildmatch", [pattern])
        out.append([spec.match_file(p) for p in request["paths"]])
    except Exception as e:
        out.append(type(e).__name__)
print(json.dumps(out))
`;
    const theirs = JSON.parse(runPython(program, JSON.stringify({ patterns, paths })).toString()) as (boolean[] | string)[];
    const refused: string[] = [];
    for (const [i, pattern] of patterns.entries()) {
      const expected = theirs[i]!;
      if (typeof expected === 'string') {
        refused.push(pattern);
        expect(() => createExcludeMatcher([pattern]), `${JSON.stringify(pattern)} (${expected})`).toThrow(InTotoError);
        continue;
      }
      const matcher = createExcludeMatcher([pattern]);
      const wrong = paths.filter((path, j) => matcher(path) !== expected[j]).map((path) => `${JSON.stringify(path)} should be ${!matcher(path)}`);
      expect(wrong, `pattern ${JSON.stringify(pattern)}`).toEqual([]);
    }
    expect(refused).toEqual(['x\\ ', '\\', 'trail\\', '!', '[z-a]', '[\u00ff-\u00e0]']);
  });

  it('the last matching pattern decides, negations included', () => {
    const sets = [
      ['*.log', '!keep.log'],
      ['!keep.log', '*.log'],
      ['build/', '!build/keep.txt'],
      ['*', '!*/', '!*.c'],
      [...DEFAULT_EXCLUDE_PATTERNS, '!*.pyc'],
    ];
    const files = ['a.log', 'keep.log', 'd/keep.log', 'build', 'build/keep.txt', 'build/x', 'x.c', 'd/x.c', 'd/x.h', 'x.pyc', 'd/.git/x'];
    const program = `
import json, sys
from pathspec import PathSpec
request = json.load(sys.stdin)
print(json.dumps([[PathSpec.from_lines("gitwildmatch", s).match_file(f) for f in request["files"]] for s in request["sets"]]))
`;
    const theirs = JSON.parse(runPython(program, JSON.stringify({ sets, files })).toString()) as boolean[][];
    expect(sets.map((s) => files.map(createExcludeMatcher(s)))).toEqual(theirs);
    expect(theirs.flat()).toContain(true);
    expect(theirs.flat()).toContain(false);
  });
});

describe('normpath equals posixpath.normpath', () => {
  it('for awkward spellings', () => {
    const inputs = ['', '.', './', '..', '../..', 'a/..', 'a/../..', '/..', '/../a', '//', '///', '//a//b/', '///a', 'a//b', './a/./b/.', 'a/b/../../..', '/a/b/../../..', '//..', 'a/./../b'];
    const theirs = JSON.parse(runPython('import json, sys, posixpath; print(json.dumps([posixpath.normpath(p) for p in json.load(sys.stdin)]))', JSON.stringify(inputs)).toString()) as string[];
    expect(inputs.map(normpath)).toEqual(theirs);
  });
});
