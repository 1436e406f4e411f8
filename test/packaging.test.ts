/**
 * What a user gets from npm: the files the package ships, its licence, and a README (and docs) whose links all
 * lead somewhere inside the tarball (npm shows the packed README; a link to a file left out is a dead end).
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));

/** The paths `npm pack` would put in the tarball (no build: the file list only). */
function packed(): Set<string> {
  const out = execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: root, encoding: 'utf8' });
  return new Set((JSON.parse(out) as { files: { path: string }[] }[])[0]!.files.map((f) => f.path));
}

/** Relative link targets in a markdown file (`[text](target)`), anchors and absolute URLs left out. */
function relativeLinks(markdown: string): string[] {
  return [...markdown.matchAll(/\]\(([^)\s]+)\)/g)].map((m) => m[1]!).filter((t) => !/^[a-z]+:/i.test(t) && !t.startsWith('#')).map((t) => t.replace(/#.*$/, ''));
}

describe('the packed package', () => {
  const files = packed();
  const resolves = (from: string, target: string) => {
    const path = new URL(target, `file:///${from}`).pathname.slice(1).replace(/\/$/, '');
    return files.has(path) || [...files].some((f) => f.startsWith(`${path}/`));
  };

  it('ships its licence (Apache-2.0, as package.json says), README and SECURITY.md', () => {
    expect(JSON.parse(readFileSync(`${root}/package.json`, 'utf8')).license).toBe('Apache-2.0');
    for (const file of ['LICENSE', 'README.md', 'SECURITY.md', 'package.json', 'build/engine.wasm']) expect(files.has(file), file).toBe(true);
    expect(readFileSync(`${root}/LICENSE`, 'utf8')).toContain('Apache License');
  });

  it('ships every target of the exports map (each path\'s module and its types: ./sigstore, ./attestations, ...)', () => {
    const targets: string[] = [];
    const walk = (value: unknown): void => {
      if (typeof value === 'string') targets.push(value.replace(/^\.\//, ''));
      else if (value !== null && typeof value === 'object') Object.values(value).forEach(walk);
    };
    walk(JSON.parse(readFileSync(`${root}/package.json`, 'utf8')).exports);
    for (const file of ['dist/sigstore/index.js', 'dist/sigstore/index.d.ts', 'dist/verify/attestations.js', 'dist/verify/attestations.d.ts']) expect(targets).toContain(file);
    expect(targets.filter((t) => !files.has(t))).toEqual([]);
  });

  it('every relative link in the README and the shipped docs leads to a shipped file', () => {
    const pages = ['README.md', ...[...files].filter((f) => f.endsWith('.md') && f !== 'README.md')];
    const dead: string[] = [];
    for (const page of pages) {
      for (const target of relativeLinks(readFileSync(`${root}/${page}`, 'utf8'))) {
        if (!resolves(page, target)) dead.push(`${page} -> ${target}`);
      }
    }
    expect(dead).toEqual([]);
    // The check can fail: a link to a file the tarball leaves out is found.
    expect(resolves('README.md', 'test/conformance/README.md')).toBe(false);
  });
});
