/**
 * File trees for the recording suites (record, link, the recording CLIs): written from a spec of file contents,
 * `{ link }` symlinks and `{ dir: true }` empty directories, in temporary directories a suite removes at its end.
 */
import { mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { makeTempDir } from './reference.js';

export type TreeNode = string | Uint8Array | { link: string } | { dir: true };
export type TreeSpec = Record<string, TreeNode>;

/** Writes `spec` below `root`, parents first, and returns `root`. */
export function buildTree(root: string, spec: TreeSpec): string {
  for (const [path, node] of Object.entries(spec)) {
    const full = join(root, path);
    if (typeof node === 'object' && 'dir' in node) {
      mkdirSync(full, { recursive: true });
      continue;
    }
    mkdirSync(dirname(full), { recursive: true });
    if (typeof node === 'object' && 'link' in node) symlinkSync(node.link, full);
    else writeFileSync(full, node);
  }
  return root;
}

/**
 * A suite's temporary directories: `dir(prefix?)` makes a new empty one, `tree(spec)` one with `spec` written
 * in it; `removeAll()` (for `afterAll`) removes every one made.
 */
export function tempTrees(defaultPrefix: string): { dir(prefix?: string): string; tree(spec: TreeSpec): string; removeAll(): void } {
  const made: string[] = [];
  const dir = (prefix = defaultPrefix): string => {
    const path = makeTempDir(prefix);
    made.push(path);
    return path;
  };
  return {
    dir,
    tree: (spec) => buildTree(dir(), spec),
    removeAll: () => {
      for (const path of made.splice(0)) rmSync(path, { recursive: true, force: true });
    },
  };
}
