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

/**
 * node:fs, used synchronously: a link file is parsed by the engine synchronously right after it is read, so the event
 * loop waits for it either way, while each asynchronous step (realpath, open, fstat, read, close) is a round trip
 * through the thread pool that costs more than the work on small files (the demo chain spends about 5 ms so).
 */
type NodeFs = typeof import('node:fs');
type NodePath = typeof import('node:path');

function builtin<T>(id: string): T | undefined {
  return (globalThis as { process?: { getBuiltinModule?(id: string): unknown } }).process?.getBuiltinModule?.(id) as T | undefined;
}

/** Options of the loaders made here. */
export interface LoaderOptions {
  /** Largest link file read, in bytes: a larger one is refused (`LIMIT`) before it is read whole. */
  maxBytes?: number;
}

/**
 * A link file found by its relative path, before it is read: what identifies it, so that a verification reads,
 * parses and checks each distinct file once however often the layouts name it (symlinks back to one file, one
 * value under many map keys), and how to read it.
 */
export interface FoundLink {
  /**
   * What identifies the file before it is read: its real path (a directory), or a map's string value. Absent for
   * bytes from a map or a loader, which the caller may change or reuse: those are identified by their digest
   * once read (see {@link contentDigest}).
   */
  readonly id?: unknown;
  read(): Promise<Uint8Array>;
  /**
   * Opens the file to be read synchronously into memory the caller gives (the engine's input region: no copy of
   * a large link in JavaScript). Only for files in a directory (Node, Deno); refuses what `read` refuses.
   */
  open?(): OpenedLink;
}

/** A link file opened by {@link FoundLink.open}: close it once read. */
export interface OpenedLink {
  /** Its size when opened. */
  readonly size: number;
  /**
   * What identifies its contents for as long as it is open: device and inode (hard links to one file are one
   * file), standing in for the digest of bytes that cannot be identified before they are read.
   */
  readonly id: string;
  /**
   * Reads the file from its start into `into` (which must hold `size + 1` bytes) and returns the bytes read: an
   * `IO` error when the file has grown past `size` since it was opened.
   */
  fill(into: Uint8Array): number;
  close(): void;
}

/** Finds link files by relative path: `undefined` when there is none. */
export type LinkFinder = (path: string) => Promise<FoundLink | undefined>;

function directoryFinder(directory: string, maxBytes: number): LinkFinder {
  const fs = builtin<NodeFs>('node:fs');
  const path = builtin<NodePath>('node:path');
  if (!fs || !path) throw new InTotoError('UNSUPPORTED', 'this runtime has no file system: pass links as a map or a loader function');
  const root = path.resolve(directory);
  // Checked once, at the first look-up (see checkLinkDirectory).
  let rootChecked: Promise<void> | undefined;
  const checkRoot = () => (rootChecked ??= checkLinkDirectory(directory));
  const read = async (file: string): Promise<Uint8Array> => {
    let fd: number;
    try {
      // Non-blocking: a FIFO planted in the link directory must not hang verification in open(2).
      fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
    } catch (error) {
      throw new InTotoError('IO', `cannot read link file ${file}: ${(error as Error).message}`, { path: file }, { cause: error });
    }
    try {
      const stat = fs.fstatSync(fd);
      if (!stat.isFile()) throw new InTotoError('IO', `link file ${file} is not a regular file`, { path: file });
      if (stat.size > maxBytes) {
        throw new InTotoError('LIMIT', `link file ${file} has ${stat.size} bytes, more than the limit of ${maxBytes}`, { path: file });
      }
      // Read at most one byte past the limit: the file may have grown since fstat.
      const buffer = new Uint8Array(Math.min(stat.size, maxBytes) + 1);
      let filled = 0;
      for (;;) {
        const bytesRead = fs.readSync(fd, buffer, filled, buffer.length - filled, null);
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
      fs.closeSync(fd);
    }
  };
  return async (relative) => {
    await checkRoot();
    const file = path.resolve(root, relative);
    // Step names come from the layout; a name with `..` or `/` must not reach outside the link directory.
    if (!file.startsWith(root + path.sep)) {
      throw new InTotoError('FORMAT', `link path ${JSON.stringify(relative)} leaves the link directory ${root}`, { path: relative });
    }
    let real: string;
    try {
      real = fs.realpathSync(file);
    } catch (error) {
      // A link that is not there is simply not found (the reference's load_links_for_layout); any
      // other I/O failure is an error the caller must see.
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
      throw new InTotoError('IO', `cannot read link file ${file}: ${(error as Error).message}`, { path: file }, { cause: error });
    }
    return { id: real, read: () => read(real), open: () => openSync(fs, real, maxBytes) };
  };
}

/**
 * `FoundLink.open` for a file: non-blocking (a FIFO planted in the link directory must not hang in open(2)), a
 * regular file only, within `maxBytes`, read with positioned reads (pread) into the caller's memory.
 */
function openSync(fs: NodeFs, file: string, maxBytes: number): OpenedLink {
  let fd: number;
  try {
    fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
  } catch (error) {
    throw new InTotoError('IO', `cannot read link file ${file}: ${(error as Error).message}`, { path: file }, { cause: error });
  }
  try {
    const stat = fs.fstatSync(fd);
    if (!stat.isFile()) throw new InTotoError('IO', `link file ${file} is not a regular file`, { path: file });
    if (stat.size > maxBytes) {
      throw new InTotoError('LIMIT', `link file ${file} has ${stat.size} bytes, more than the limit of ${maxBytes}`, { path: file });
    }
    const size = stat.size;
    return {
      size,
      id: `file:${stat.dev}:${stat.ino}`,
      fill(into) {
        let filled = 0;
        try {
          for (;;) {
            const n = fs.readSync(fd, into, filled, into.length - filled, filled);
            if (n === 0) break;
            filled += n;
            if (filled === into.length) break;
          }
        } catch (error) {
          throw new InTotoError('IO', `cannot read link file ${file}: ${(error as Error).message}`, { path: file }, { cause: error });
        }
        if (filled > size) throw new InTotoError('IO', `link file ${file} grew while it was read (from ${size} bytes)`, { path: file });
        return filled;
      },
      close: () => fs.closeSync(fd),
    };
  } catch (error) {
    fs.closeSync(fd);
    if (error instanceof InTotoError) throw error;
    throw new InTotoError('IO', `cannot read link file ${file}: ${(error as Error).message}`, { path: file }, { cause: error });
  }
}

/**
 * Throws `IO` unless `directory` is a directory: one that is not there is the caller's mistake, not a missing
 * link (otherwise every step would fail with LINK_MISSING and hide the cause).
 */
export async function checkLinkDirectory(directory: string): Promise<void> {
  const fs = builtin<NodeFs>('node:fs');
  const path = builtin<NodePath>('node:path');
  if (!fs || !path) throw new InTotoError('UNSUPPORTED', 'this runtime has no file system: pass links as a map or a loader function');
  const root = path.resolve(directory);
  let stat;
  try {
    stat = fs.statSync(root);
  } catch (error) {
    const missing = (error as NodeJS.ErrnoException).code === 'ENOENT';
    throw new InTotoError('IO', missing ? `the link directory ${root} does not exist` : `cannot read the link directory ${root}: ${(error as Error).message}`, { path: root }, { cause: error });
  }
  if (!stat.isDirectory()) throw new InTotoError('IO', `the link directory ${root} is not a directory`, { path: root });
}

/** Turns any LinkSource into a finder (see {@link FoundLink}). */
export function toFinder(source: LinkSource, options: LoaderOptions = {}): LinkFinder {
  const maxBytes = options.maxBytes ?? Number.MAX_SAFE_INTEGER;
  if (typeof source !== 'function' && 'directory' in source && typeof source.directory === 'string') return directoryFinder(source.directory, maxBytes);
  const loader = toLoader(source, options);
  const map = typeof source === 'function' ? undefined : (source as ReadonlyMap<string, Uint8Array | string>);
  return async (path) => {
    // A string cannot change: it is its own identity. Bytes can (a buffer the caller reuses): no identity.
    const value = map ? map.get(path) : undefined;
    if (map && value === undefined) return undefined;
    // A string is encoded only when read: a file found again by its identity is not encoded again.
    if (typeof value === 'string') return { id: value, read: async () => toUtf8(value) };
    const bytes = await loader(path);
    if (bytes === undefined) return undefined;
    return { read: async () => bytes };
  };
}

/**
 * What identifies a sublayout's link directory (`dir`, relative to the link source), so that a layout found again
 * in the same directory through symlinks is known to contain itself: the real path for a directory source, the
 * relative path (unique per nesting level) for the others.
 */
export function directoryIdentity(source: LinkSource): (dir: string) => Promise<unknown> {
  if (typeof source !== 'function' && 'directory' in source && typeof source.directory === 'string') {
    const fs = builtin<NodeFs>('node:fs');
    const path = builtin<NodePath>('node:path');
    const root = source.directory;
    if (fs && path) {
      return async (dir) => {
        try {
          return fs.realpathSync(path.resolve(root, dir));
        } catch {
          return path.resolve(root, dir);
        }
      };
    }
  }
  return async (dir) => `path:${dir}`;
}

type NodeCrypto = typeof import('node:crypto');

/** The SHA-256 of `bytes` in hex: node:crypto where there is one, else WebCrypto, else @noble/hashes. */
export async function contentDigest(bytes: Uint8Array): Promise<string> {
  const node = builtin<NodeCrypto>('node:crypto');
  if (node) return node.createHash('sha256').update(bytes).digest('hex');
  const subtle = (globalThis as { crypto?: { subtle?: { digest(alg: string, data: Uint8Array): Promise<ArrayBuffer> } } }).crypto?.subtle;
  const digest = subtle ? new Uint8Array(await subtle.digest('SHA-256', bytes)) : (await import('@noble/hashes/sha2.js')).sha256(bytes);
  return Array.from(digest, (b) => b.toString(16).padStart(2, '0')).join('');
}

/** `contentDigest`, synchronously, where node:crypto is (`undefined` elsewhere): `bytes` may be a view valid only now. */
export function contentDigestSync(bytes: Uint8Array): string | undefined {
  return builtin<NodeCrypto>('node:crypto')?.createHash('sha256').update(bytes).digest('hex');
}

/** A finder that sees only the files under `prefix/` (a sublayout's link directory). */
export function subFinder(finder: LinkFinder, prefix: string): LinkFinder {
  return (path) => finder(`${prefix}/${path}`);
}

/** Turns any LinkSource into a loader. */
export function toLoader(source: LinkSource, options: LoaderOptions = {}): LinkLoader {
  const maxBytes = options.maxBytes ?? Number.MAX_SAFE_INTEGER;
  if (typeof source === 'function') return source;
  if ('directory' in source && typeof source.directory === 'string') {
    const finder = directoryFinder(source.directory, maxBytes);
    return async (path) => (await finder(path))?.read();
  }
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
