/**
 * Globs built to hurt: patterns whose compilation or matching is quadratic or exponential in naive
 * implementations. Cost is shown by the engine's own step counter (`glob_steps`: code points compiled plus
 * matcher steps) as the ratio of two sizes, never by wall-clock time. Patterns come from signed layouts,
 * but a sublayout is signed by a functionary, not the project owner, so they are hostile input too.
 *
 * The rewritten bracket-expression compiler (linear instead of quadratic) is checked against python's
 * fnmatch on thousands of bracket-heavy patterns.
 */
import { describe, expect, it } from 'vitest';
import { createEngine } from '../../bindings/engine.js';
import { matchGlob, RuleEngine } from '../../bindings/verify/rule-engine.js';
import { parseRule } from '../../bindings/metadata/rules.js';
import { assertReferenceInstalled, runPython } from '../helpers/reference.js';
import { Rng, utf8 } from './chains.js';

const engine = createEngine();

interface GlobExports {
  memory: WebAssembly.Memory;
  input_ptr(n: number): number;
  glob_match(p: number, s: number): number;
  glob_steps(): number;
}

function steps(pattern: string, path: string): { match: boolean; steps: number } {
  return engine.invoke((exports) => {
    const ex = exports as unknown as GlobExports;
    const p = utf8.encode(pattern);
    const s = utf8.encode(path);
    const ptr = ex.input_ptr(p.length + s.length);
    const view = new Uint8Array(ex.memory.buffer, ptr, p.length + s.length);
    view.set(p);
    view.set(s, p.length);
    const match = ex.glob_match(p.length, s.length) === 1;
    return { match, steps: ex.glob_steps() };
  });
}

/** steps(n) for two sizes: doubling must about double the count (quadratic would quadruple it). */
function expectLinear(make: (n: number) => [string, string], n: number): void {
  const small = steps(...make(n));
  const large = steps(...make(2 * n));
  const ratio = large.steps / small.steps;
  expect(ratio, `steps ${small.steps} -> ${large.steps}`).toBeGreaterThan(1.7);
  expect(ratio, `steps ${small.steps} -> ${large.steps}`).toBeLessThan(2.3);
}

describe('compiling hostile patterns is linear in the pattern', () => {
  it('unclosed brackets: `[[[[...` (each `[` used to scan to the end for its `]`)', () => {
    expectLinear((n) => ['['.repeat(n), 'x'], 50_000);
    expect(steps('['.repeat(100_000), '['.repeat(100_000)).match).toBe(true);
  });

  it('empty ranges dropped before a long tail: `[x-ax-a...x-aqqq...]` (each drop used to shift the tail)', () => {
    expectLinear((n) => [`[${'x-a'.repeat(n)}${'q'.repeat(3 * n)}]`, 'q'], 20_000);
  });

  it('long sets and long ranges: `[a-b-c-...]`, `[!...]`, `[z-a...]`', () => {
    expectLinear((n) => [`[${'a-'.repeat(n)}]`, 'a'], 20_000);
    expectLinear((n) => [`[!${'b-a'.repeat(n)}]`, 'c'], 20_000);
    expectLinear((n) => [`[${'z-a'.repeat(n)}]*`, 'zzz'], 20_000);
  });
});

describe('matching hostile patterns is linear in the path', () => {
  it('star-heavy patterns against long paths that almost match', () => {
    for (const [pattern, path] of [
      ['*a*a*a*a*a*a*a*a*a*a*a*a*b', (n: number) => 'a'.repeat(n)],
      ['a*a*a*a*a*a*a*a*a*a*a*a*', (n: number) => `a${'b'.repeat(n)}`],
      ['*?*?*?*?*?*?*?*?*?*?*b', (n: number) => '😀'.repeat(n)],
      ['*[ab]*[ab]*[ab]*[ab]*[ab]*c', (n: number) => 'ab'.repeat(n)],
      [`*${'a'.repeat(64)}b?`, (n: number) => 'a'.repeat(n)],
    ] as const) {
      expectLinear((n) => [pattern, path(n)], 20_000);
    }
  });

  it('a rule over many artifacts costs artifacts x path, not more', () => {
    const rules = new RuleEngine(engine);
    const cost = (count: number) => {
      const materials = Object.fromEntries(Array.from({ length: count }, (_, i) => [`${'a'.repeat(200)}${i}`, { sha256: 'ab' }]));
      const link = rules.load(JSON.stringify({ materials, products: {} }), 'whole');
      const rule = (t: string[]) => parseRule(t, { field: 'r' });
      const result = rules.apply(
        [{ name: 'x', materials: [rule(['ALLOW', '*a*a*a*a*a*a*a*b']), rule(['DISALLOW', '*a*a*a*a*a*a*a*a*a*c'])], products: [] }],
        new Map([['x', link]]),
        { trace: false },
      );
      expect(result.failures).toHaveLength(0);
      rules.free(link);
      return rules.lastCounts.globSteps;
    };
    const small = cost(2_000);
    const ratio = cost(4_000) / small;
    expect(ratio).toBeGreaterThan(1.8);
    expect(ratio).toBeLessThan(2.2);
    rules.close();
  });
});

describe('the linear bracket compiler still reads sets as python does', () => {
  it('agrees with fnmatch.fnmatch on bracket-heavy patterns (ranges, dropped ranges, `!`, `]`, `-`)', () => {
    assertReferenceInstalled();
    const r = new Rng(4242);
    const alphabet = ['a', 'b', 'c', 'x', 'z', '-', '-', '-', '!', ']', '[', '^', '\\', 'é', '😀'];
    const pairs: [string, string][] = [];
    for (let i = 0; i < 4_000; i++) {
      let body = '';
      const len = r.int(0, 12);
      for (let k = 0; k < len; k++) body += r.pick(alphabet);
      const pattern = `${r.chance(0.3) ? 'a' : ''}[${r.chance(0.3) ? '!' : ''}${body}]${r.chance(0.3) ? '*' : ''}`;
      for (let k = 0; k < 3; k++) pairs.push([pattern, r.pick(['a', 'b', 'c', 'x', 'z', '-', '!', ']', '[', '^', '\\', 'é', '😀', 'y', 'aa', 'ab', 'a-', '', 'ax'])]);
    }
    const program = `
import fnmatch, json, sys
json.dump([fnmatch.fnmatch(path, pattern) for pattern, path in json.load(sys.stdin)], sys.stdout)
`;
    const expected = JSON.parse(runPython(program, JSON.stringify(pairs)).toString('utf8')) as boolean[];
    const disagreements = pairs.filter(([pattern, path], i) => matchGlob(pattern, path, engine) !== expected[i]);
    expect(disagreements.slice(0, 20)).toEqual([]);
    const matches = expected.filter(Boolean).length;
    expect(matches).toBeGreaterThan(pairs.length / 10);
    expect(matches).toBeLessThan((pairs.length * 9) / 10);
  });
});
