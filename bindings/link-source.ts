/**
 * Where the verifier finds link files. Links are addressed by their relative path in a link directory:
 * `<step>.<keyid8>.link` for a step's links, `<step>.<keyid8>/...` for the links of a sublayout.
 * Any runtime can pass a map of bytes or a loader function; Node and Deno can name a directory.
 */
import { InTotoError } from './errors.js';

export type LinkLoader = (path: string) => Promise<Uint8Array | undefined>;

/** A map from relative path to file bytes, a loader function, or (Node, Deno) a directory path. */
export type LinkSource = ReadonlyMap<string, Uint8Array | string> | LinkLoader | { directory: string };

const utf8 = new TextEncoder();

/** The in-toto link file name for a step's link signed by `keyid` (`FILENAME_FORMAT` in the reference). */
export function linkFileName(step: string, keyid: string): string {
  return `${step}.${keyid.slice(0, 8)}.link`;
}

/** The directory holding a sublayout's links (`SUBLAYOUT_LINK_DIR_FORMAT` in the reference). */
export function sublayoutDirName(step: string, keyid: string): string {
  return `${step}.${keyid.slice(0, 8)}`;
}

type NodeFs = typeof import('node:fs/promises');
type NodePath = typeof import('node:path');

function builtin<T>(id: string): T | undefined {
  return (globalThis as { process?: { getBuiltinModule?(id: string): unknown } }).process?.getBuiltinModule?.(id) as T | undefined;
}

function directoryLoader(directory: string): LinkLoader {
  const fs = builtin<NodeFs>('node:fs/promises');
  const path = builtin<NodePath>('node:path');
  if (!fs || !path) throw new InTotoError('UNSUPPORTED', 'this runtime has no file system: pass links as a map or a loader function');
  const root = path.resolve(directory);
  return async (relative) => {
    const file = path.resolve(root, relative);
    // Step names come from the layout; a name with `..` or `/` must not reach outside the link directory.
    if (!file.startsWith(root + path.sep)) {
      throw new InTotoError('FORMAT', `link path ${JSON.stringify(relative)} leaves the link directory ${root}`, { path: relative });
    }
    try {
      return new Uint8Array(await fs.readFile(file));
    } catch (error) {
      // A link that is not there is simply not found (the reference's load_links_for_layout); any
      // other I/O failure is an error the caller must see.
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw new InTotoError('IO', `cannot read link file ${file}: ${(error as Error).message}`, { path: file }, { cause: error });
    }
  };
}

/** Turns any LinkSource into a loader. */
export function toLoader(source: LinkSource): LinkLoader {
  if (typeof source === 'function') return source;
  if ('directory' in source && typeof source.directory === 'string') return directoryLoader(source.directory);
  const map = source as ReadonlyMap<string, Uint8Array | string>;
  return async (path) => {
    const value = map.get(path);
    return typeof value === 'string' ? utf8.encode(value) : value;
  };
}

/** A loader that sees only the files under `prefix/` (a sublayout's link directory). */
export function subLoader(loader: LinkLoader, prefix: string): LinkLoader {
  return (path) => loader(`${prefix}/${path}`);
}
