/**
 * Listing the link files a `LinkSource` holds. The verifier finds a step's links by name (`<step>.<keyid8>.link`,
 * one per authorized key) and never needs a listing, except for in-toto-golang's certificate functionaries:
 * their key ids are not in the layout, so their links (`<step>.*.link`, as golang globs) can only be found by
 * looking. A map and a directory can be listed; a loader function can if it has a `list(dir)` method.
 */
import { InTotoError } from '../errors.js';
import type { LinkSource } from './link-source.js';

/** The file names directly in `dir` (`''`: the link directory itself), or `undefined` when the source cannot list. */
export type LinkLister = (dir: string) => Promise<readonly string[] | undefined>;

/** node:fs, used synchronously for the reason link-source.ts gives. */
type NodeFs = typeof import('node:fs');
type NodePath = typeof import('node:path');

function builtin<T>(id: string): T | undefined {
  return (globalThis as { process?: { getBuiltinModule?(id: string): unknown } }).process?.getBuiltinModule?.(id) as T | undefined;
}

/** A lister for any LinkSource. */
export function toLister(source: LinkSource): LinkLister {
  if (typeof source === 'function') {
    const list = (source as { list?: unknown }).list;
    return typeof list === 'function' ? async (dir) => (await list.call(source, dir)) as readonly string[] : async () => undefined;
  }
  if ('directory' in source && typeof source.directory === 'string') {
    const fs = builtin<NodeFs>('node:fs');
    const path = builtin<NodePath>('node:path');
    if (!fs || !path) return async () => undefined;
    const root = path.resolve(source.directory);
    return async (dir) => {
      const at = path.resolve(root, dir);
      if (at !== root && !at.startsWith(root + path.sep)) throw new InTotoError('FORMAT', `link path ${JSON.stringify(dir)} leaves the link directory ${root}`, { path: dir });
      try {
        return fs.readdirSync(at, { withFileTypes: true }).filter((e) => e.isFile() || e.isSymbolicLink()).map((e) => e.name);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
        throw new InTotoError('IO', `cannot list link directory ${at}: ${(error as Error).message}`, { path: at }, { cause: error });
      }
    };
  }
  const map = source as ReadonlyMap<string, unknown>;
  return async (dir) => {
    const prefix = dir === '' ? '' : `${dir}/`;
    return [...map.keys()].filter((name) => name.startsWith(prefix) && !name.slice(prefix.length).includes('/')).map((name) => name.slice(prefix.length));
  };
}

/** A lister that sees only `prefix/` (a sublayout's link directory). */
export function subLister(lister: LinkLister, prefix: string): LinkLister {
  return (dir) => lister(dir === '' ? prefix : `${prefix}/${dir}`);
}
