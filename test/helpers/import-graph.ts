/**
 * The import graph of `bindings/` and the rules it must keep (issue 15; DESIGN.md "Folders"): no circle, and
 * imports flowing one way between the wings, lowest first:
 *
 *   root (engine, errors, encoding, bigint) < keys < metadata < attestation < sigstore < verify < record, layout < cli, index < entry
 *
 * A file may import a file of its own wing or of a lower one. Wings of the same rank (record and layout; cli and
 * index) do not import each other, and nothing outside `cli/` imports `cli/`. The scan is a plain reading of
 * import lines (static `import`/`export ... from`, type-only ones included, and `import('...')`), after block
 * comments and whole-line comments are dropped; only relative specifiers that land inside `bindings/` count.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, posix, relative, sep } from 'node:path';

/** file (posix, relative to `bindings/`) -> the files it imports. */
export type ImportGraph = Map<string, Set<string>>;

/** The wings and their rank: a file imports only from its own wing or from a wing of a lower rank. */
export const WING_RANK: Readonly<Record<string, number>> = {
  root: 0,
  keys: 1,
  metadata: 2,
  attestation: 3,
  sigstore: 4,
  verify: 5,
  record: 6,
  layout: 6,
  cli: 7,
  index: 7,
  entry: 8,
};

/** The wing a file belongs to: its first folder, or `root` (`index` for the package's index.ts). */
export function wingOf(file: string): string {
  const slash = file.indexOf('/');
  if (slash < 0) return file === 'index.ts' ? 'index' : 'root';
  return file.slice(0, slash);
}

const STATIC = /(?:^|[\s;}])(?:import|export)\s+(?:type\s+)?(?:[^'";]*?\s+from\s+)?['"]([^'"\n]+)['"]/g;
const DYNAMIC = /\bimport\(\s*['"]([^'"\n]+)['"]\s*\)/g;

/** The module specifiers one source text imports. */
export function importSpecifiers(source: string): string[] {
  const code = source.replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
  const found: string[] = [];
  for (const re of [STATIC, DYNAMIC]) for (const match of code.matchAll(re)) found.push(match[1]!);
  return found;
}

function listTs(dir: string, base = dir): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...listTs(path, base));
    else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts')) out.push(relative(base, path).split(sep).join('/'));
  }
  return out.sort();
}

/** Reads the import graph of every `.ts` file below `root` (the `bindings/` folder). */
export function readImportGraph(root: string): ImportGraph {
  const files = listTs(root);
  const known = new Set(files);
  const graph: ImportGraph = new Map();
  for (const file of files) {
    const targets = new Set<string>();
    for (const spec of importSpecifiers(readFileSync(join(root, file), 'utf8'))) {
      if (!spec.startsWith('.')) continue;
      const resolved = posix.normalize(posix.join(posix.dirname(file), spec)).replace(/\.js$/, '.ts');
      if (known.has(resolved)) targets.add(resolved);
      else if (!resolved.startsWith('../')) throw new Error(`${file}: import '${spec}' names no file in bindings/`);
    }
    graph.set(file, targets);
  }
  return graph;
}

/** Every circle: the strongly connected components with more than one file, or a file importing itself. */
export function findCycles(graph: ImportGraph): string[][] {
  let counter = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const cycles: string[][] = [];
  const visit = (node: string): void => {
    index.set(node, counter);
    low.set(node, counter++);
    stack.push(node);
    onStack.add(node);
    for (const next of graph.get(node) ?? []) {
      if (!index.has(next)) {
        visit(next);
        low.set(node, Math.min(low.get(node)!, low.get(next)!));
      } else if (onStack.has(next)) low.set(node, Math.min(low.get(node)!, index.get(next)!));
    }
    if (low.get(node) === index.get(node)) {
      const component: string[] = [];
      let member: string;
      do {
        member = stack.pop()!;
        onStack.delete(member);
        component.push(member);
      } while (member !== node);
      if (component.length > 1 || graph.get(node)?.has(node)) cycles.push(component.sort());
    }
  };
  for (const node of graph.keys()) if (!index.has(node)) visit(node);
  return cycles;
}

/** Every import against the wing order, as `from -> to (why)`. */
export function findOrderViolations(graph: ImportGraph, rank: Readonly<Record<string, number>> = WING_RANK): string[] {
  const problems: string[] = [];
  for (const [from, targets] of graph) {
    const fromWing = wingOf(from);
    for (const to of targets) {
      const toWing = wingOf(to);
      if (fromWing === toWing) continue;
      const fromRank = rank[fromWing];
      const toRank = rank[toWing];
      if (fromRank === undefined || toRank === undefined) problems.push(`${from} -> ${to} (a wing not in the order: ${fromRank === undefined ? fromWing : toWing})`);
      else if (toWing === 'cli') problems.push(`${from} -> ${to} (nothing outside cli/ imports cli/)`);
      else if (toRank >= fromRank) problems.push(`${from} -> ${to} (${fromWing} may not import ${toWing})`);
    }
  }
  return problems.sort();
}

/** The `bindings/` folder of this repository. */
export const BINDINGS = join(dirname(dirname(dirname(new URL(import.meta.url).pathname))), 'bindings');
