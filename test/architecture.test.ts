/**
 * The shape of `bindings/` (issue 15): no import circle, and imports flowing one way between the wings
 * (root < keys < metadata < verify < record, layout < cli, index < entry; see test/helpers/import-graph.ts), and the
 * package's own export paths (./link, ./sigstore, ./attestations) each a module of bindings/ that the root does not reach.
 * The checker is also fed small graphs that break each rule, so that it is known to fail when it should.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  BINDINGS, findCycles, findOrderViolations, importSpecifiers, readImportGraph, wingOf, type ImportGraph,
} from './helpers/import-graph.js';

const graphOf = (edges: Record<string, string[]>): ImportGraph =>
  new Map(Object.entries(edges).map(([from, to]) => [from, new Set(to)]));

describe('bindings/ import graph', () => {
  const graph = readImportGraph(BINDINGS);

  it('reads every wing', () => {
    const wings = new Set([...graph.keys()].map(wingOf));
    expect([...wings].sort()).toEqual(['attestation', 'cli', 'entry', 'index', 'keys', 'layout', 'metadata', 'record', 'root', 'sigstore', 'verify']);
    // The root keeps only what every wing uses.
    expect([...graph.keys()].filter((f) => !f.includes('/')).sort()).toEqual(['bigint.ts', 'encoding.ts', 'engine.ts', 'errors.ts', 'index.ts']);
  });

  it('has no import circle', () => {
    expect(findCycles(graph)).toEqual([]);
  });

  it('imports only from its own wing or a lower one', () => {
    expect(findOrderViolations(graph)).toEqual([]);
  });

  it('every export path of package.json is a module of bindings/, in a wing that may import all it re-exports', () => {
    const exports = (JSON.parse(readFileSync(join(BINDINGS, '../package.json'), 'utf8')) as { exports: Record<string, unknown> }).exports;
    const modules = Object.entries(exports).filter(([path]) => !['.', './engine.wasm', './package.json'].includes(path));
    for (const [path, target] of modules) {
      const file = (target as { default: string }).default.replace(/^\.\/dist\//, '').replace(/\.js$/, '.ts');
      expect(graph.has(file), `${path} -> ${file}`).toBe(true);
    }
    expect(modules.map(([path]) => path).sort()).toEqual(['./attestations', './link', './sigstore']);
  });

  it('the root does not carry what has a path of its own: Sigstore (./sigstore), attestation layouts, YAML, CEL and VSAs (./attestations)', () => {
    const reached = (from: string[]) => {
      const seen = new Set<string>();
      const queue = [...from];
      while (queue.length > 0) {
        const file = queue.pop()!;
        if (seen.has(file)) continue;
        seen.add(file);
        queue.push(...(graph.get(file) ?? []));
      }
      return seen;
    };
    const root = reached(['index.ts', ...[...graph.keys()].filter((f) => wingOf(f) === 'entry')]);
    const own = [...graph.keys()].filter((f) => wingOf(f) === 'sigstore' || ['verify/attestation-layout.ts', 'verify/attestations.ts', 'attestation/cel.ts', 'attestation/vsa.ts'].includes(f));
    expect(own.filter((f) => root.has(f))).toEqual([]);
    // The YAML reader is a dependency only the attestation-layout verifier (and the CLI) imports.
    const yaml = [...graph.keys()].filter((f) => importSpecifiers(readFileSync(join(BINDINGS, f), 'utf8')).includes('yaml'));
    expect(yaml.filter((f) => root.has(f))).toEqual([]);
    const attestations = reached(['verify/attestations.ts']);
    for (const file of ['verify/attestation-layout.ts', 'attestation/cel.ts', 'attestation/vsa.ts', 'sigstore/verify-bundle.ts']) expect(attestations.has(file), file).toBe(true);
  });

  it('verify reaches record only through the InspectionRunner it defines (the Node runner lives in record/)', () => {
    const verifyImports = [...graph].filter(([file]) => wingOf(file) === 'verify').flatMap(([, to]) => [...to]);
    expect(verifyImports.filter((to) => wingOf(to) === 'record')).toEqual([]);
    expect(graph.get('record/inspect-node.ts')).toContain('verify/verify.ts');
  });
});

describe('the checker itself', () => {
  it('reads static, type-only, multi-line, re-export and dynamic imports, and not commented ones', () => {
    const source = [
      "import { a } from './a.js';",
      "import type { B } from '../b.js';",
      'import {',
      '  c,',
      '  d,',
      "} from './cd.js';",
      "export { e } from './e.js';",
      "export * from './f.js';",
      "const g = await import('./g.js');",
      "// import { h } from './h.js';",
      "/* import { i } from './i.js'; */",
      "import 'side-effect';",
    ].join('\n');
    expect(importSpecifiers(source)).toEqual(['./a.js', '../b.js', './cd.js', './e.js', './f.js', 'side-effect', './g.js']);
  });

  it('reports a circle', () => {
    const cycles = findCycles(graphOf({
      'keys/a.ts': ['keys/b.ts'],
      'keys/b.ts': ['keys/c.ts'],
      'keys/c.ts': ['keys/a.ts'],
      'keys/d.ts': ['keys/a.ts'],
      'keys/self.ts': ['keys/self.ts'],
    }));
    expect(cycles).toHaveLength(2);
    expect(cycles).toContainEqual(['keys/a.ts', 'keys/b.ts', 'keys/c.ts']);
    expect(cycles).toContainEqual(['keys/self.ts']);
  });

  it('reports an import against the order, between wings of one rank, and into cli/', () => {
    const problems = findOrderViolations(graphOf({
      'keys/keys.ts': ['verify/verify.ts', 'errors.ts'],
      'verify/verify.ts': ['record/record.ts', 'metadata/models.ts'],
      'record/link.ts': ['layout/graph.ts', 'verify/link-source.ts'],
      'entry/node.ts': ['cli/common.ts', 'index.ts'],
      'engine.ts': ['index.ts'],
      'npm/audit.ts': ['keys/keys.ts'],
    }));
    expect(problems).toEqual([
      'engine.ts -> index.ts (root may not import index)',
      'entry/node.ts -> cli/common.ts (nothing outside cli/ imports cli/)',
      'keys/keys.ts -> verify/verify.ts (keys may not import verify)',
      'npm/audit.ts -> keys/keys.ts (a wing not in the order: npm)',
      'record/link.ts -> layout/graph.ts (record may not import layout)',
      'verify/verify.ts -> record/record.ts (verify may not import record)',
    ]);
  });
});
