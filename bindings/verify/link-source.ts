/**
 * Where the verifier finds link files. Links are addressed by their relative path in a link directory:
 * `<step>.<keyid8>.link` for a step's links, `<step>.<keyid8>/...` for the links of a sublayout.
 * Any runtime can pass a map of bytes or a loader function; Node and Deno can name a directory.
 */
import { toUtf8 } from '../engine.js';
import { InTotoError } from '../errors.js';

export type LinkLoader = (path: string) => Promise<Uint8Array | undefined>;

/** A map from relative path to file bytes, a loader function, or (Node, Deno) a directory path. */
export type LinkSource = ReadonlyMap<string, Uint8Array | string> | LinkLoader | { directory: string };


/** The in-toto link file name for a step's link signed by `keyid` (`FILENAME_FORMAT` in the reference). */
export function linkFileName(step: string, keyid: string): string {
  return `${step}.${keyid.slice(0, 8)}.link`;
}

/** The directory holding a sublayout's links (`SUBLAYOUT_LINK_DIR_FORMAT` in the reference). */
export function sublayoutDirName(step: string, keyid: string): string {
  return `${step}.${keyid.slice(0, 8)}`;
}

type NodeFs = typeof import('node:fs/promises');
type NodeFsConstants = typeof import('node:fs')['constants'];
type NodePath = typeof import('node:path');

function builtin<T>(id: string): T | undefined {
  return (globalThis as { process?: { getBuiltinModule?(id: string): unknown } }).process?.getBuiltinModule?.(id) as T | undefined;
}

/** Options of the loaders made here. */
export interface LoaderOptions {
  /** Largest link file read, in bytes: a larger one is refused (`LIMIT`) before it is read whole. */
  maxBytes?: number;
}

function directoryLoader(directory: string, maxBytes: number): LinkLoader {
  const fs = builtin<NodeFs>('node:fs/promises');
  const path = builtin<NodePath>('node:path');
  const fsConstants = builtin<{ constants: NodeFsConstants }>('node:fs')?.constants;
  if (!fs || !path || !fsConstants) throw new InTotoError('UNSUPPORTED', 'this runtime has no file system: pass links as a map or a loader function');
  const root = path.resolve(directory);
  return async (relative) => {
    const file = path.resolve(root, relative);
    // Step names come from the layout; a name with `..` or `/` must not reach outside the link directory.
    if (!file.startsWith(root + path.sep)) {
      throw new InTotoError('FORMAT', `link path ${JSON.stringify(relative)} leaves the link directory ${root}`, { path: relative });
    }
    let handle: Awaited<ReturnType<NodeFs['open']>>;
    try {
      // Non-blocking: a FIFO planted in the link directory must not hang verification in open(2).
      handle = await fs.open(file, fsConstants.O_RDONLY | fsConstants.O_NONBLOCK);
    } catch (error) {
      // A link that is not there is simply not found (the reference's load_links_for_layout); any
      // other I/O failure is an error the caller must see.
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw new InTotoError('IO', `cannot read link file ${file}: ${(error as Error).message}`, { path: file }, { cause: error });
    }
    try {
      const stat = await handle.stat();
      if (!stat.isFile()) throw new InTotoError('IO', `link file ${file} is not a regular file`, { path: file });
      if (stat.size > maxBytes) {
        throw new InTotoError('LIMIT', `link file ${file} has ${stat.size} bytes, more than the limit of ${maxBytes}`, { path: file });
      }
      // Read at most one byte past the limit: the file may have grown since fstat.
      const buffer = new Uint8Array(Math.min(stat.size, maxBytes) + 1);
      let filled = 0;
      for (;;) {
        const { bytesRead } = await handle.read(buffer, filled, buffer.length - filled, null);
        if (bytesRead === 0) break;
        filled += bytesRead;
        if (filled === buffer.length) break;
      }
      if (filled > maxBytes) throw new InTotoError('LIMIT', `link file ${file} is larger than the limit of ${maxBytes} bytes`, { path: file });
      return buffer.subarray(0, filled);
    } catch (error) {
      if (error instanceof InTotoError) throw error;
      throw new InTotoError('IO', `cannot read link file ${file}: ${(error as Error).message}`, { path: file }, { cause: error });
    } finally {
      await handle.close();
    }
  };
}

/** Turns any LinkSource into a loader. */
export function toLoader(source: LinkSource, options: LoaderOptions = {}): LinkLoader {
  const maxBytes = options.maxBytes ?? Number.MAX_SAFE_INTEGER;
  if (typeof source === 'function') return source;
  if ('directory' in source && typeof source.directory === 'string') return directoryLoader(source.directory, maxBytes);
  const map = source as ReadonlyMap<string, Uint8Array | string>;
  return async (path) => {
    const value = map.get(path);
    // toUtf8, not TextEncoder: a lone surrogate must be refused, not silently turned into U+FFFD.
    return typeof value === 'string' ? toUtf8(value) : value;
  };
}

/** A loader that sees only the files under `prefix/` (a sublayout's link directory). */
export function subLoader(loader: LinkLoader, prefix: string): LinkLoader {
  return (path) => loader(`${prefix}/${path}`);
}
