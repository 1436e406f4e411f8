/**
 * The engine's globs against python's `fnmatch.fnmatch` (Debian's python3, the interpreter in-toto 1.3.1
 * runs on): every pair below is generated here, sent to python in one batch, and the verdicts compared.
 * Then the cost: matching must stay linear in the path length for a fixed pattern.
 */
import { describe, expect, it } from 'vitest';
import { createEngine } from '../bindings/engine.js';
import { matchGlob } from '../bindings/verify/rule-engine.js';
import { assertReferenceInstalled, runPython } from './helpers/reference.js';
import { Gen, rng } from './helpers/json-gen.js';

const engine = createEngine();

/** python's verdicts for [pattern, path] pairs; 'error' when fnmatch raises (it must never). */
function pythonVerdicts(pairs: readonly (readonly [string, string])[]): (boolean | 'error')[] {
  const program = `
import fnmatch, json, sys
out = []
for pattern, path in json.load(sys.stdin):
    try:
        out.append(fnmatch.fnmatch(path, pattern))
    except Exception:
        out.append('error')
json.dump(out, sys.stdout)
`;
  return JSON.parse(runPython(program, JSON.stringify(pairs)).toString('utf8')) as (boolean | 'error')[];
}

/** The corners the brief and python's translate() decide, each with paths that tell readings apart. */
const CORNERS: readonly (readonly [string, readonly string[]])[] = [
  ['*', ['', 'a', 'a/b', '/', '\n', 'a\nb']],
  ['?', ['', 'a', '/', 'é', '😀', 'ab', '\n']],
  ['a*b', ['ab', 'a/b', 'axxb', 'a/x/b', 'abx', 'ba']],
  ['a?b', ['a/b', 'axb', 'ab', 'aéb', 'a😀b', 'axxb']],
  ['*.py', ['x.py', 'a/b/c.py', '.py', 'x.pyc', 'py']],
  ['[abc]', ['a', 'b', 'c', 'd', '', 'ab']],
  ['[!abc]', ['a', 'd', '!', '/', 'é', '']],
  ['[^abc]', ['^', 'a', 'd', 'b']],
  ['[]]', [']', '[', 'a', '[]]']],
  ['[!]]', [']', 'a', '!', '']],
  ['[]a]', [']', 'a', 'b']],
  ['[!]a]', [']', 'a', 'b']],
  ['[a-c]', ['a', 'b', 'c', 'd', '-']],
  ['[!a-c]', ['a', 'b', 'd', '-']],
  ['[a-]', ['a', '-', 'b']],
  ['[-a]', ['a', '-', 'b']],
  ['[!-a]', ['a', '-', 'b']],
  ['[a-c-e]', ['a', 'b', 'c', 'd', 'e', '-']],
  ['[a--b]', ['a', 'b', '-', ',']],
  ['[--/]', ['-', '.', '/', ',', '0']],
  ['[z-a]', ['a', 'z', 'm', '-', '']],
  ['[!z-a]', ['a', 'z', 'm', '-', '/', '']],
  ['[z-a!x]', ['x', 'y', '!', 'a']],
  ['[z-a!-~]', ['-', '~', 'x', '!']],
  ['[a-cx-z]', ['b', 'y', 'm']],
  ['[c-az]', ['a', 'b', 'c', 'z']],
  ['[', ['[', '', 'a']],
  ['[a', ['[a', 'a']],
  ['a[', ['a[', 'a']],
  ['[!', ['[!', '!']],
  ['[]', ['[]', ']', '']],
  ['[!]', ['[!]', '!', ']']],
  ['[[]', ['[', ']']],
  ['[[:alpha:]]', ['a]', ':]', 'x', '[]']],
  ['\\', ['\\', '']],
  ['\\*', ['\\x', '*', '\\*']],
  ['[\\]', ['\\', ']']],
  ['[\\-a]', ['\\', '-', 'a', 'Z', ']']],
  ['[a\\-z]', ['a', 'z', '\\', '-', 'm']],
  ['[&&a]', ['&', 'a']],
  ['[~~]', ['~']],
  ['[||]', ['|']],
  ['[é-ë]', ['é', 'ê', 'ë', 'e']],
  ['[😀-😂]', ['😁', '😃', '😀']],
  ['?😀?', ['a😀b', '😀😀😀', '😀']],
  ['', ['', 'a']],
  ['**', ['', 'x/y']],
  ['a**b', ['ab', 'a/b']],
  ['*a*a*a*b', ['aaab', 'aaa', 'xaxaxaxb']],
  ['.*', ['.git', 'a.b']],
  ['(a|b)', ['(a|b)', 'a']],
  ['a+', ['a+', 'aa']],
  ['$^', ['$^']],
  ['{a,b}', ['{a,b}', 'a']],
  ['src/*/x', ['src/a/x', 'src/a/b/x', 'src//x']],
  ['*/', ['a/', '/']],
  ['*\n', ['a\n', 'a']],
  ['Foo', ['foo', 'Foo']],
];

/** Generated pairs: exhaustive short patterns over the meta characters, random sets, random globs. */
function generatePairs(): [string, string][] {
  const pairs: [string, string][] = [];
  for (const [pattern, paths] of CORNERS) for (const path of paths) pairs.push([pattern, path]);

  // Every pattern of up to 3 symbols from an alphabet of set syntax, against paths that tell sets apart.
  const alphabet = ['a', 'z', '-', '!', '^', '[', ']', '*'];
  const shortPaths = ['', 'a', 'z', 'm', '-', '!', '^', '[', ']', 'az', '[a', 'a]'];
  const patterns: string[] = [''];
  for (let len = 1; len <= 3; len++) {
    const prev = patterns.filter((p) => p.length === len - 1);
    for (const p of prev) for (const c of alphabet) patterns.push(p + c);
  }
  for (const pattern of patterns) for (const path of shortPaths) pairs.push([pattern, path]);

  // Random bracket expressions (the intricate part of translate()) against single code points.
  const g = new Gen(rng(0x5eed));
  const setChars = ['a', 'c', 'm', 'z', '-', '-', '!', '^', ']', '\\', 'é', '😀', '/', '&'];
  const probes = ['a', 'b', 'c', 'm', 'y', 'z', '-', '!', '^', ']', '\\', 'é', '😀', '/', '&', 'ab'];
  for (let i = 0; i < 400; i++) {
    let body = '';
    const n = g.int(0, 6);
    for (let k = 0; k < n; k++) body += g.pick(setChars);
    const pattern = g.pick(['', 'x']) + '[' + body + ']' + g.pick(['', '*', 'y']);
    for (let k = 0; k < 4; k++) {
      const probe = g.pick(probes);
      pairs.push([pattern, pattern.startsWith('x') ? 'x' + probe : probe]);
    }
  }

  // Random whole globs with paths drawn both at random and from the pattern itself.
  const globChars = ['a', 'b', '/', '.', '*', '*', '?', '[', ']', '!', '-', '\\', 'é', '😀'];
  const pathChars = ['a', 'b', '/', '.', '-', '!', ']', '[', '\\', 'é', '😀', '\n'];
  for (let i = 0; i < 600; i++) {
    let pattern = '';
    const n = g.int(0, 8);
    for (let k = 0; k < n; k++) pattern += g.pick(globChars);
    let path = '';
    const m = g.int(0, 8);
    for (let k = 0; k < m; k++) path += g.pick(pathChars);
    pairs.push([pattern, path]);
    // A path built from the pattern: literals kept, wildcards replaced: often a match, sometimes a near miss.
    const derived = [...pattern].map((c) => (c === '*' ? g.pick(['', 'a', 'a/b']) : c === '?' ? g.pick(pathChars) : c)).join('');
    pairs.push([pattern, derived]);
  }
  // One star first or last, literals otherwise (the engine compares those as a suffix or a prefix of bytes):
  // multi-byte code points, an unclosed `[`, backslashes, newlines, paths shorter than the literals.
  const literals = ['.c', 'é', '😀', '[', 'a[b', '\\', '.tar.gz', 'src/', '\n', 'é😀'];
  const tails = ['', 'a', 'é', '😀', '\n', 'src/', '/'];
  for (const lit of literals) {
    for (const pattern of [`*${lit}`, `**${lit}`, `${lit}*`, `${lit}**`]) {
      for (const tail of tails) pairs.push([pattern, tail + lit], [pattern, lit + tail], [pattern, tail], [pattern, [...lit].slice(1).join('') + tail]);
    }
  }
  return pairs;
}

describe('fnmatch, against python', () => {
  it('agrees with fnmatch.fnmatch on every generated pair', () => {
    assertReferenceInstalled();
    const pairs = generatePairs();
    expect(pairs.length).toBeGreaterThan(300);
    const expected = pythonVerdicts(pairs);
    expect(expected).not.toContain('error');
    const disagreements = pairs
      .map(([pattern, path], i) => ({ pattern, path, python: expected[i], engine: matchGlob(pattern, path, engine) }))
      .filter((r) => r.python !== r.engine);
    expect(disagreements).toEqual([]);
    // Both verdicts occur plentifully, so agreement is not agreement on "false".
    const matches = expected.filter((v) => v === true).length;
    expect(matches).toBeGreaterThan(pairs.length / 10);
    expect(pairs.length - matches).toBeGreaterThan(pairs.length / 10);
  });

  it('pins the corners the brief names', () => {
    const m = (pattern: string, path: string) => matchGlob(pattern, path, engine);
    expect(m('*', 'a/b/c')).toBe(true);
    expect(m('?', '/')).toBe(true);
    expect(m('[^x]', '^')).toBe(true);
    expect(m('[^x]', 'y')).toBe(false);
    expect(m('[!x]', 'y')).toBe(true);
    expect(m('[]]', ']')).toBe(true);
    expect(m('[!]]', ']')).toBe(false);
    expect(m('[!]]', 'a')).toBe(true);
    expect(m('[', '[')).toBe(true);
    expect(m('\\*', '\\anything')).toBe(true);
    expect(m('?', 'é')).toBe(true);
    expect(m('??', 'é')).toBe(false);
    expect(m('', '')).toBe(true);
    expect(m('', 'a')).toBe(false);
  });
});

describe('fnmatch cost', () => {
  const steps = (pattern: string, path: string): { match: boolean; steps: number } =>
    engine.invoke((exports) => {
      const ex = exports as unknown as {
        memory: WebAssembly.Memory;
        input_ptr(n: number): number;
        glob_match(p: number, s: number): number;
        glob_steps(): number;
      };
      const p = new TextEncoder().encode(pattern);
      const s = new TextEncoder().encode(path);
      const ptr = ex.input_ptr(p.length + s.length);
      const view = new Uint8Array(ex.memory.buffer, ptr, p.length + s.length);
      view.set(p);
      view.set(s, p.length);
      const match = ex.glob_match(p.length, s.length) === 1;
      return { match, steps: ex.glob_steps() };
    });

  it('grows linearly with the path for patterns that make backtracking matchers explode', () => {
    for (const [pattern, unit] of [
      ['*a*a*a*a*a*b', 'a'],
      ['*a*a*a*a*a*a*a*a*a*a*b', 'a'],
      ['*?*?*?*?*?*?*?*b', 'é'],
      ['*[a-z]*[!b]*[a]*x', 'a'],
    ] as const) {
      const small = steps(pattern, unit.repeat(20_000));
      const large = steps(pattern, unit.repeat(40_000));
      expect(small.match).toBe(false);
      expect(large.match).toBe(false);
      // Doubling the path doubles the work (a quadratic matcher would quadruple it).
      const ratio = large.steps / small.steps;
      expect(ratio).toBeGreaterThan(1.9);
      expect(ratio).toBeLessThan(2.1);
      // And the constant is the pattern's length at most: tokens x path code points.
      expect(small.steps).toBeLessThanOrEqual((pattern.length + 1) * 20_001);
    }
  });

  it('a star and literals (`*.c`, `src/*`) is decided by comparing the literals with the end or start: no steps per code point', () => {
    for (const [pattern, unit] of [['*aaaaaaaaaaaaaaaab', 'a'], ['baaaaaaaaaaaaaaaa*', 'a'], ['*é', 'e']] as const) {
      const small = steps(pattern, unit.repeat(20_000));
      const large = steps(pattern, unit.repeat(40_000));
      expect(small.match).toBe(false);
      expect(large.match).toBe(false);
      // What is left is compiling the pattern, one step per code point of it.
      expect(large.steps).toBe(small.steps);
      expect(small.steps).toBeLessThanOrEqual(pattern.length);
    }
  });

  it('decides a 1 MB path against a hostile pattern in a bounded number of steps', () => {
    const path = 'a'.repeat(1 << 20);
    const r = steps('*a*a*a*a*a*a*a*a*b', path);
    expect(r.match).toBe(false);
    expect(r.steps).toBeLessThan(20 * (1 << 20));
  });
});
