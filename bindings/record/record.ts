/**
 * Recording artifacts (Node only): the paths and digests that `in-toto-run`, `in-toto-record` and the
 * verifier's inspections put in a link's `materials` and `products`.
 *
 * It reproduces in-toto 1.3.1's `runlib.record_artifacts_as_dict` (with securesystemslib 0.26's hashing and
 * pathspec 0.11's `gitwildmatch` patterns), so a link recorded here lists the same paths with the same digests
 * as the reference's. Where we deliberately differ, the comment at that spot says so and why.
 */
import { createHash } from 'node:crypto';
import { closeSync, constants as fsConstants, fstatSync, openSync, promises as fs, readSync, type Dirent, type Stats } from 'node:fs';
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { InTotoError } from '../errors.js';

/** The reference's `settings.ARTIFACT_EXCLUDE_PATTERNS`. */
export const DEFAULT_EXCLUDE_PATTERNS: readonly string[] = Object.freeze(['*.link*', '.git', '*.pyc', '*~']);

/** securesystemslib's `HASHALGORITHMS_SCHEMA`: the names a link's digest dicts use. */
export const HASH_ALGORITHMS = ['md5', 'sha1', 'sha224', 'sha256', 'sha384', 'sha512', 'blake2s', 'blake2b', 'blake2b-256'] as const;
export type HashAlgorithm = (typeof HASH_ALGORITHMS)[number];

/** Digests of one artifact, by algorithm name: `{ sha256: '<hex>' }`. */
export type DigestDict = Record<string, string>;
/** Recorded artifacts, by path: what a link holds as `materials` or `products`. */
export type ArtifactDict = Record<string, DigestDict>;

/**
 * Why a path was left out without an error. The reference logs the first two (`path: ... does not exist,
 * skipping..` and `File '...' appears to be a broken symlink. Skipping...`) and silently ignores the third.
 * - `missing`: a path passed in that is neither a file nor a directory (also dead symlinks, FIFOs, ...).
 * - `not-a-file`: an entry found while walking that is not a regular file once symlinks are followed.
 * - `unlistable`: a directory that could not be listed (os.walk ignores the error; so do we).
 * - `cycle`: a symlinked directory leading back to a directory being walked (see `followSymlinkDirs`).
 */
export type SkipReason = 'missing' | 'not-a-file' | 'unlistable' | 'cycle';

export interface RecordOptions {
  /**
   * gitignore-style patterns (pathspec's `gitwildmatch`); a path is left out when the last pattern that matches
   * it is not negated with `!`. They are matched against each path as recorded before left-stripping, and a
   * directory they match is not entered. Default {@link DEFAULT_EXCLUDE_PATTERNS}; as in the reference, an
   * empty list means the defaults too (pass `['']` to exclude nothing).
   */
  excludePatterns?: readonly string[];
  /** Record the paths relative to this directory (the reference changes into it; we only resolve paths). */
  basePath?: string;
  /**
   * Walk into symlinked directories (the path recorded keeps the link's name). The reference's tools always
   * set it; its library default, like ours, is off. A symlinked directory that leads back to a directory being
   * walked (same device and inode) is not entered: the reference enters it until the OS refuses, recording
   * every file up to 40 times over; we record each only under its path without the cycle.
   */
  followSymlinkDirs?: boolean;
  /** Hash files with CRLF and lone CR turned into LF, as securesystemslib's `normalize_line_endings`. */
  normalizeLineEndings?: boolean;
  /**
   * Prefixes to strip from recorded paths (the first that matches). As the reference: refused when one prefix
   * starts with another, and refused when two artifacts end up with the same path.
   */
  lstripPaths?: readonly string[];
  /** Digests to record; default `['sha256']`, the only one the reference's tools record. */
  algorithms?: readonly HashAlgorithm[];
  /**
   * Worker threads hashing files at once (default: the cores, from 2 to 8). More than the cores help only
   * when reads wait on the disk. The result does not depend on it.
   */
  threads?: number;
  /** Told about each path left out without an error, for logging like the reference's. */
  onSkip?: (path: string, reason: SkipReason) => void;
}

/**
 * Walks, filters and hashes `paths` as the reference's `record_artifacts_as_dict` does.
 *
 * The order of checks is the reference's: no paths gives `{}` before anything is checked; then the base
 * path, the exclude patterns, the left-strip prefixes; then each path in sorted order. A path that does not
 * exist is skipped, not an error (the reference logs `path: ... does not exist, skipping..`). A file that
 * cannot be read is an error naming it (the reference raises securesystemslib's StorageError).
 */
export async function recordArtifacts(paths: readonly string[], options: RecordOptions = {}): Promise<ArtifactDict> {
  checkStringList(paths, 'paths');
  if (paths.length === 0) return {};
  const basePath = options.basePath || undefined;
  if (basePath !== undefined) await checkBasePath(basePath);

  const patterns = options.excludePatterns?.length ? options.excludePatterns : DEFAULT_EXCLUDE_PATTERNS;
  checkStringList(patterns, 'excludePatterns');
  const excluded = createExcludeMatcher(patterns);

  const lstripPaths = options.lstripPaths ?? [];
  checkStringList(lstripPaths, 'lstripPaths');
  checkPrefixes(lstripPaths);

  const algorithms = options.algorithms?.length ? [...new Set(options.algorithms)] : (['sha256'] as const);
  for (const [i, name] of algorithms.entries()) {
    if (!(HASH_ALGORITHMS as readonly string[]).includes(name)) {
      throw new InTotoError('FORMAT', `unsupported hash algorithm ${JSON.stringify(name)} (supported: ${HASH_ALGORITHMS.join(', ')})`, { field: `algorithms[${i}]` });
    }
  }
  const threads = options.threads ?? Math.min(Math.max(availableParallelism(), 2), 8);
  if (!Number.isSafeInteger(threads) || threads < 1) {
    throw new InTotoError('FORMAT', `threads must be a positive integer, got ${threads}`, { field: 'threads' });
  }

  const walker = new Walker(basePath, excluded, lstripPaths, options.followSymlinkDirs ?? false, options.onSkip);
  // Files are hashed while the walk goes on: workers start once the job is large enough for them (see Hashing).
  const hashing = new Hashing(walker.files, hashSetup(algorithms, options.normalizeLineEndings ?? false), threads, options.threads === undefined);
  walker.onFiles = () => hashing.pump();
  let digests: DigestDict[];
  try {
    // The reference dedups and sorts the normalized paths when it applies the exclude patterns to them.
    const roots = [...new Set(paths.map(normpath))].filter((path) => !excluded(path)).sort(byCodePoint);
    for (const root of roots) {
      if (walker.collision) break;
      await walker.recordRoot(root);
    }
    digests = await hashing.finish();
  } finally {
    await hashing.close();
  }
  // The reference raises a left-strip collision when it reaches it, after hashing every file before it:
  // an unreadable file earlier in its order wins (finish() threw above), otherwise the collision does.
  if (walker.collision) throw walker.collision;

  const result: ArtifactDict = {};
  // In code point order of the paths, the order links are signed and written in (python's sort_keys): the
  // metadata writers can then hand the dict to JSON.stringify as it is. The walk's order is nearly that one
  // already (it differs where a directory's files sort after its subdirectories), which the sort exploits.
  const order = walker.files.map((_, i) => i);
  order.sort((a, b) => byCodePoint(walker.files[a]!.key, walker.files[b]!.key) || a - b);
  // A later file with the same path replaces an earlier one, as in the reference's dict (possible only
  // without left-stripping: a name with a backslash, or directories passed twice).
  // defineProperty, not assignment: a file named `__proto__` would otherwise set the object's prototype
  // and silently vanish from the link.
  for (const i of order) {
    Object.defineProperty(result, walker.files[i]!.key, { value: digests[i]!, enumerable: true, writable: true, configurable: true });
  }
  return result;
}

/** A file to hash: the path to record and the path to open. */
interface FileEntry {
  key: string;
  fsPath: string;
}

/** A listed directory entry the walk may enter. */
interface ListedDir {
  path: string;
  symlink: boolean;
  /** The name is not valid UTF-8 (see `invalidName`). */
  invalid: boolean;
}

/** A listed entry that is not a directory once symlinks are followed. */
interface ListedFile {
  path: string;
  /** A regular file once symlinks are followed: what os.path.isfile() says. */
  regular: boolean;
  invalid: boolean;
}

/**
 * Collects the files to hash in the reference's order: the paths passed in sorted order; within a directory,
 * its files sorted, then its subdirectories sorted, depth first (os.walk top-down with the reference's sorted
 * re-fill of `dirs`).
 */
class Walker {
  readonly files: FileEntry[] = [];
  collision: InTotoError | undefined;
  /** Called whenever files were added (a directory's, a root file): the hashing takes them from `files`. */
  onFiles: (() => void) | undefined;
  private readonly keys = new Set<string>();

  constructor(
    private readonly basePath: string | undefined,
    private readonly excluded: (path: string) => boolean,
    private readonly lstripPaths: readonly string[],
    private readonly followSymlinkDirs: boolean,
    private readonly onSkip: RecordOptions['onSkip'],
  ) {}

  async recordRoot(path: string): Promise<void> {
    const stats = await statOrUndefined(this.fsPath(path));
    if (stats?.isFile()) {
      this.addFile(path);
      this.onFiles?.();
    }
    // os.walk lists a symlinked directory passed in whether or not it follows links below it.
    else if (stats?.isDirectory()) await this.walk(path, this.followSymlinkDirs ? new Set([devIno(stats)]) : undefined);
    else this.onSkip?.(path, 'missing');
  }

  /** `ancestors` holds the device:inode of each directory from the root down to `dir` when following links. */
  private async walk(dir: string, ancestors: Set<string> | undefined): Promise<void> {
    let entries: Dirent<string>[] | Dirent<Buffer>[];
    try {
      // Names as strings (cheap); a name Node could only decode with U+FFFD may not be UTF-8 at all: then the
      // directory is listed again as bytes, to tell (the same count of entries, as a listing, per directory).
      entries = await fs.readdir(this.fsPath(dir), { withFileTypes: true });
      if (entries.some((entry) => entry.name.includes('\uFFFD'))) entries = await fs.readdir(this.fsPath(dir), { withFileTypes: true, encoding: 'buffer' });
    } catch {
      this.onSkip?.(dir, 'unlistable');
      return;
    }
    const dirs: ListedDir[] = [];
    const files: ListedFile[] = [];
    await Promise.all(
      (entries as (Dirent<string> | Dirent<Buffer>)[]).map(async (entry) => {
        const { name, valid } = typeof entry.name === 'string' ? { name: entry.name, valid: true } : decodeName(entry.name);
        const path = joinPath(dir, name);
        if (!valid) {
          // Its real path cannot be built from the decoded name: kept only to be excluded, or refused.
          if (entry.isDirectory()) dirs.push({ path, symlink: false, invalid: true });
          else files.push({ path, regular: true, invalid: true });
        } else if (entry.isDirectory()) dirs.push({ path, symlink: false, invalid: false });
        else if (entry.isSymbolicLink()) {
          // DirEntry.is_dir() and os.path.isfile() follow symlinks; a dead one is neither.
          const target = await statOrUndefined(this.fsPath(path));
          if (target?.isDirectory()) dirs.push({ path, symlink: true, invalid: false });
          else files.push({ path, regular: target?.isFile() ?? false, invalid: false });
        } else files.push({ path, regular: entry.isFile(), invalid: false });
      }),
    );

    for (const file of files.sort(byPath)) {
      if (!file.regular) this.onSkip?.(file.path, 'not-a-file');
      else if (!this.excluded(file.path)) {
        if (file.invalid) throw invalidName(file.path);
        this.addFile(file.path);
        if (this.collision) break;
      }
    }
    this.onFiles?.();
    if (this.collision) return;
    for (const sub of dirs.sort(byPath)) {
      if (this.excluded(sub.path) || (sub.symlink && !this.followSymlinkDirs)) continue;
      if (sub.invalid) throw invalidName(sub.path);
      if (ancestors === undefined) await this.walk(sub.path, undefined);
      else {
        const stats = await statOrUndefined(this.fsPath(sub.path));
        if (stats === undefined) continue; // gone since listed; os.walk's scandir would fail and skip it too
        const id = devIno(stats);
        if (ancestors.has(id)) {
          this.onSkip?.(sub.path, 'cycle');
          continue;
        }
        ancestors.add(id);
        await this.walk(sub.path, ancestors);
        ancestors.delete(id);
      }
      if (this.collision) return;
    }
  }

  private addFile(path: string): void {
    // The reference records Windows-style separators as '/', for the key only: it still opens the real name.
    let key = path.replaceAll('\\', '/');
    if (this.lstripPaths.length > 0) {
      const prefix = this.lstripPaths.find((p) => key.startsWith(p));
      if (prefix !== undefined) key = key.slice(prefix.length);
      if (this.keys.has(key)) {
        this.collision = new InTotoError('FORMAT', `left-stripping the prefixes ${JSON.stringify(this.lstripPaths)} makes the artifact path ${JSON.stringify(key)} ambiguous`, {
          field: 'lstripPaths',
          artifact: key,
        });
        return;
      }
      this.keys.add(key);
    }
    // Deliberate difference: the reference opens a file passed directly with its backslashes already turned
    // into '/' (so it fails, or hashes another file); we hash the file that was named.
    this.files.push({ key, fsPath: this.fsPath(path) });
  }

  private fsPath(path: string): string {
    // Concatenate without normalizing: `base/../x` must resolve as the kernel would after chdir(base).
    return this.basePath === undefined || path.startsWith('/') ? path : `${this.basePath}/${path}`;
  }
}

function invalidName(path: string): InTotoError {
  // The reference keeps such a name with surrogate escapes and fails later, when it writes the link as UTF-8.
  return new InTotoError('FORMAT', `cannot record ${JSON.stringify(path)}: its name is not valid UTF-8, and link paths are UTF-8 text`, { path });
}

// ignoreBOM keeps a leading U+FEFF in a name (TextDecoder would drop it otherwise).
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const utf8Lossy = new TextDecoder('utf-8', { ignoreBOM: true });

/** Names are matched against patterns even when not UTF-8 (with U+FFFD), so an excluded one does no harm. */
function decodeName(bytes: Buffer): { name: string; valid: boolean } {
  try {
    return { name: utf8.decode(bytes), valid: true };
  } catch {
    return { name: utf8Lossy.decode(bytes), valid: false };
  }
}

async function statOrUndefined(path: string): Promise<Stats | undefined> {
  try {
    return await fs.stat(path);
  } catch {
    // os.path.isfile / isdir answer False for every OSError (ENOENT, ELOOP, EACCES, ENOTDIR, ...).
    return undefined;
  }
}

function devIno(stats: Stats): string {
  return `${stats.dev}:${stats.ino}`;
}

async function checkBasePath(basePath: string): Promise<void> {
  // The reference's os.chdir(base_path) needs a directory we may search.
  try {
    const stats = await fs.stat(basePath);
    if (!stats.isDirectory()) throw new Error('not a directory');
    await fs.access(basePath, fsConstants.X_OK);
  } catch (error) {
    throw new InTotoError('FORMAT', `could not use ${JSON.stringify(basePath)} as base path: ${(error as Error).message}`, { field: 'basePath', path: basePath }, { cause: error });
  }
}

function checkPrefixes(prefixes: readonly string[]): void {
  // Every pair, as itertools.combinations: a prefix listed twice, or an empty one next to another, is refused.
  for (let i = 0; i < prefixes.length; i++) {
    for (let j = i + 1; j < prefixes.length; j++) {
      const [a, b] = [prefixes[i]!, prefixes[j]!];
      if (a.startsWith(b) || b.startsWith(a)) {
        throw new InTotoError('FORMAT', `left-strip prefixes ${JSON.stringify(a)} and ${JSON.stringify(b)}: one starts with the other`, { field: `lstripPaths[${j}]` });
      }
    }
  }
}

function checkStringList(value: readonly unknown[], field: string): void {
  if (!Array.isArray(value)) throw new InTotoError('FORMAT', `${field} must be a list of strings`, { field });
  value.forEach((item, i) => {
    if (typeof item !== 'string') throw new InTotoError('FORMAT', `${field}[${i}] must be a string`, { field: `${field}[${i}]` });
  });
}

// --- paths ----------------------------------------------------------------------------------------------

/** python's `posixpath.normpath`: lexical, keeps leading `..` and exactly two leading slashes. */
export function normpath(path: string): string {
  if (path === '') return '.';
  const slashes = path.startsWith('//') && !path.startsWith('///') ? '//' : path.startsWith('/') ? '/' : '';
  const parts: string[] = [];
  for (const part of path.split('/')) {
    if (part === '' || part === '.') continue;
    if (part !== '..' || (slashes === '' && parts.length === 0) || parts.at(-1) === '..') parts.push(part);
    else if (parts.length > 0) parts.pop();
  }
  return slashes + parts.join('/') || '.';
}

/** `normpath(os.path.join(dir, name))` for a plain name, as the reference builds walked paths. */
function joinPath(dir: string, name: string): string {
  if (dir === '.') return name;
  return dir.endsWith('/') ? dir + name : `${dir}/${name}`;
}

/** python's `sorted()` order for str: by code point (JS's `<` compares UTF-16 units instead). */
function byCodePoint(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    // Surrogates (astral code points) sort after all of U+E000..U+FFFF: shift both ranges to say so.
    if (x !== y) return shiftSurrogates(x) - shiftSurrogates(y);
  }
  return a.length - b.length;
}

const shiftSurrogates = (unit: number): number => (unit < 0xd800 ? unit : unit >= 0xe000 ? unit - 0x800 : unit + 0x2000);
const byPath = (a: { path: string }, b: { path: string }): number => byCodePoint(a.path, b.path);

// --- exclude patterns: pathspec 0.11's gitwildmatch ------------------------------------------------------
//
// Not git's own semantics, and not the `ignore` package's: pathspec matches each path on its own (a file under
// an excluded directory can be re-included with `!`), accepts `../` and absolute paths, and "foo/" matches
// what is below foo but not foo itself. Its patterns compile to python regexes, matched with re.match; we
// build the equivalent JS regex, minding where the two dialects differ:
// - python's `.` matches anything but "\n" (JS's also refuses "\r", U+2028, U+2029): we write `[^\n]`;
// - python's `$` also matches before a final "\n": we write `(?=\n?$)`;
// - bracket expressions are copied into the python regex as they are, so we parse them as python's re would
//   (a leading `]` is literal; `[` is literal) and write the set out code point by code point.

const ANY = '[^\\n]';
const END = '(?=\\n?$)';

interface CompiledPattern {
  regex: RegExp;
  /** false for a negated (`!`) pattern: a match takes the path back out of the excluded set. */
  include: boolean;
}

/**
 * Returns whether `path` is excluded by `patterns`: the last pattern matching it decides, as pathspec's
 * `match_file`. Throws `FORMAT` for a pattern pathspec refuses (e.g. `!`, a trailing `\`, `[z-a]`).
 */
export function createExcludeMatcher(patterns: readonly string[]): (path: string) => boolean {
  const compiled: CompiledPattern[] = [];
  patterns.forEach((pattern, i) => {
    // PathSpec.from_lines drops empty lines before compiling.
    const one = pattern === '' ? undefined : compilePattern(pattern, i);
    if (one) compiled.push(one);
  });
  return (path) => {
    // pathspec's normalize_file: one leading '/' or './' goes.
    const file = path.startsWith('/') ? path.slice(1) : path.startsWith('./') ? path.slice(2) : path;
    let matched = false;
    for (const { regex, include } of compiled) if (regex.test(file)) matched = include;
    return matched;
  };
}

// python's str.strip() removes what str.isspace() accepts: more than JS's trim() (U+001C..U+001F, U+0085) and
// not U+FEFF, which trim() removes.
const PY_SPACE = '[\\t-\\r\\x1c-\\x20\\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]';
const PY_STRIP = new RegExp(`^${PY_SPACE}+|${PY_SPACE}+$`, 'g');

function compilePattern(original: string, index: number): CompiledPattern | undefined {
  let pattern = original.replace(PY_STRIP, '');
  // Blank lines and comments are no-ops; a lone '/' matches nothing (as git check-ignore).
  if (pattern === '' || pattern.startsWith('#') || pattern === '/') return undefined;
  const include = !pattern.startsWith('!');
  if (!include) pattern = pattern.slice(1);

  const invalid = (why: string) =>
    new InTotoError('FORMAT', `invalid exclude pattern ${JSON.stringify(original)}: ${why}`, { field: `excludePatterns[${index}]` });
  const segs = pattern.split('/');
  // Runs of '**' segments count as one.
  for (let i = segs.length - 1; i > 0; i--) if (segs[i - 1] === '**' && segs[i] === '**') segs.splice(i, 1);
  // '**/' matches everything below the top level, which the segment rules below cannot express.
  const anythingBelowTop = segs.length === 2 && segs[0] === '**' && segs[1] === '';
  // A leading '/' anchors the pattern at the top; a single segment (or 'name/') matches at any depth.
  if (segs[0] === '') segs.shift();
  else if ((segs.length === 1 || (segs.length === 2 && segs[1] === '')) && segs[0] !== '**') segs.unshift('**');
  if (segs.length === 0) throw invalid('nothing left to match');
  // A trailing '/' matches everything below the directory.
  if (segs.length > 1 && segs.at(-1) === '') segs[segs.length - 1] = '**';

  let source = '^';
  if (anythingBelowTop) source += `${ANY}+/${ANY}*`;
  else {
    let needSlash = false;
    const end = segs.length - 1;
    segs.forEach((seg, i) => {
      if (seg === '**') {
        if (i === 0 && i === end) source += `[^/]+(?:/${ANY}*)?`;
        else if (i === 0) {
          source += `(?:${ANY}+/)?`;
          needSlash = false;
        } else if (i === end) source += `/${ANY}*`;
        else {
          source += `(?:/${ANY}+)?`;
          needSlash = true;
        }
        return;
      }
      if (needSlash) source += '/';
      source += seg === '*' ? '[^/]+' : translateSegment(seg, invalid);
      // A last segment without a trailing '/' matches a file, or a directory and everything below it.
      if (i === end) source += `(?:/${ANY}*)?`;
      needSlash = true;
    });
  }
  return { regex: new RegExp(source + END, 'u'), include };
}

/** One path segment's glob (`*`, `?`, `[...]`, `\` escapes) as a JS regex, as pathspec's `_translate_segment_glob`. */
function translateSegment(seg: string, invalid: (why: string) => InTotoError): string {
  const chars = Array.from(seg); // python indexes code points
  let out = '';
  let escaped = false;
  for (let i = 0; i < chars.length; ) {
    const c = chars[i++]!;
    if (escaped) {
      escaped = false;
      out += literal(c);
    } else if (c === '\\') escaped = true;
    else if (c === '*') out += '[^/]*';
    else if (c === '?') out += '[^/]';
    else if (c === '[') {
      // Find the closing ']': a '!' and then a ']' right after '[' belong to the expression.
      let j = i;
      if (chars[j] === '!') j++;
      if (chars[j] === ']') j++;
      while (j < chars.length && chars[j] !== ']') j++;
      if (j === chars.length) {
        out += literal('['); // unclosed: a literal '['
        continue;
      }
      j++;
      // pathspec writes the expression into its regex as is, '!' becoming '^', a leading '^' escaped, and
      // backslashes doubled; python's re then reads that class. Build the same text and read it the same way.
      let head = '[';
      if (chars[i] === '!') {
        head += '^';
        i++;
      } else if (chars[i] === '^') {
        head += '\\^';
        i++;
      }
      out += pythonClassToJs(Array.from(head).concat(chars.slice(i, j).flatMap((ch) => (ch === '\\' ? ['\\', '\\'] : [ch]))), invalid);
      i = j;
    } else out += literal(c);
  }
  if (escaped) throw invalid('it ends with an escape character');
  return out;
}

/** Reads a python regex character class (as `re` does) and writes it as a JS (`u` flag) class. */
function pythonClassToJs(cls: readonly string[], invalid: (why: string) => InTotoError): string {
  let pos = 1; // past '['
  const negate = cls[pos] === '^';
  if (negate) pos++;
  // Only `\\` and `\^` occur in what pathspec writes: each stands for the character after the backslash.
  const take = (): string => {
    const c = cls[pos++]!;
    return c === '\\' ? cls[pos++]! : c;
  };
  const ranges: [number, number][] = [];
  for (;;) {
    // A ']' closes the class only once it holds something: a leading ']' is literal.
    if (cls[pos] === ']' && ranges.length > 0) break;
    const lo = take().codePointAt(0)!;
    if (cls[pos] === '-') {
      pos++;
      if (cls[pos] === ']') {
        ranges.push([lo, lo], [0x2d, 0x2d]); // a trailing '-' is literal
        break;
      }
      const hi = take().codePointAt(0)!;
      if (hi < lo) throw invalid(`bad character range ${String.fromCodePoint(lo)}-${String.fromCodePoint(hi)}`);
      ranges.push([lo, hi]);
    } else ranges.push([lo, lo]);
  }
  const body = ranges.map(([lo, hi]) => (lo === hi ? codePoint(lo) : `${codePoint(lo)}-${codePoint(hi)}`)).join('');
  return `[${negate ? '^' : ''}${body}]`;
}

const codePoint = (cp: number): string => `\\u{${cp.toString(16)}}`;
const literal = (c: string): string => (/^[A-Za-z0-9_]$/.test(c) ? c : codePoint(c.codePointAt(0)!));

// --- hashing: worker threads ------------------------------------------------------------------------------
//
// Files are hashed in worker threads, each reading its files synchronously in 512 KiB chunks: several files
// are in flight (their I/O overlaps), the hashing is spread over the cores, and this thread's event loop
// stays free. Measured on this 2-core machine over 700 MB in 20,044 files (20,000 of 1-16 KiB, 40 of 1-4 MB,
// 4 of 100 MB), page cache warm / dropped:
//   2 workers (this, by default here)                   0.53 s / 2.0 s  (4 workers: 0.7-1.0 s / 1.7-2.0 s)
//   this thread, 12 reads in flight through libuv       1.17 s / 1.6-2.7 s
//   this thread, one synchronous read at a time         0.64 s / 3.0 s
//   the reference (python, one file at a time)          1.07 s / 3.5 s
// Many async reads lose to one synchronous read here because libuv's threadpool and the hashing compete for
// the cores, with a thread hand-off per open, read and close; the workers avoid the hand-offs and keep the
// overlap. Starting a worker costs about 30 ms, so a job gets one worker per 256 files, up to `threads`.

const FILES_PER_WORKER = 256;
/** Files per message to a worker: few enough to share big files out, enough to make messages cheap. */
const BATCH_FILES = 16;
/** Batches queued at each worker, so that it never waits for this thread to send the next. */
const BATCHES_QUEUED = 2;
const READ_CHUNK_BYTES = 512 * 1024;

// node:crypto's names for securesystemslib's; blake2b-256 (blake2b with a 32-byte digest, not a truncated
// blake2b-512) is not offered by OpenSSL through node, so workers take it from @noble/hashes.
const NODE_HASH_NAMES: Record<HashAlgorithm, string | null> = {
  md5: 'md5',
  sha1: 'sha1',
  sha224: 'sha224',
  sha256: 'sha256',
  sha384: 'sha384',
  sha512: 'sha512',
  blake2s: 'blake2s256',
  blake2b: 'blake2b512',
  'blake2b-256': null,
};

/** What hashing is set up with, in this thread or a worker. */
interface HashSetup {
  algorithms: { name: HashAlgorithm; node: string | null }[];
  normalizeLineEndings: boolean;
  chunkBytes: number;
  /** Where to import @noble/hashes' blake2 from, when blake2b-256 is asked for. */
  blake2Url: string | undefined;
  /** open(2) flags: read-only and non-blocking, so that a FIFO swapped in after the walk cannot block us. */
  openFlags: number;
}

/** A worker's answer to one batch: digests in order, up to the first file it could not read. */
interface WorkerReply {
  start: number;
  digests: DigestDict[];
  failure?: { index: number; message: string; code: string | undefined };
}

/** What hashing needs from its thread: node:fs's sync calls, node:crypto's createHash, @noble/hashes' blake2b. */
interface HashDeps {
  openSync(path: string, flags: number): number;
  fstatSync(fd: number): { isFile(): boolean; size: number; mtimeMs: number; ctimeMs: number };
  readSync(fd: number, buffer: Uint8Array, offset: number, length: number, position: null): number;
  closeSync(fd: number): void;
  createHash(name: string): { update(data: Uint8Array): unknown; digest(encoding: 'hex'): string };
  blake2b?: { create(opts: { dkLen: number }): { update(data: Uint8Array): unknown; digest(): Uint8Array } };
}

/**
 * Returns a function hashing one file as securesystemslib does, line endings normalized if asked (CRLF -> LF,
 * then lone CR -> LF; securesystemslib does it per 4 KiB chunk but reads on while a chunk ends in CR, which
 * gives the result for the whole file; here a CR at the end of one chunk drops an LF at the start of the next).
 *
 * Self-contained on purpose: it is also serialized (Function.prototype.toString) into the worker threads, so
 * it uses nothing but its arguments.
 */
function createFileHasher(setup: HashSetup, deps: HashDeps): (path: string) => DigestDict {
  const buffer = new Uint8Array(setup.chunkBytes);
  const normalized = new Uint8Array(setup.chunkBytes);
  const toHex = (bytes: Uint8Array) => Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
  const createHasher = (node: string | null) => {
    if (node === null) {
      const hash = deps.blake2b!.create({ dkLen: 32 });
      return { update: (data: Uint8Array) => hash.update(data), hex: () => toHex(hash.digest()) };
    }
    const hash = deps.createHash(node);
    return { update: (data: Uint8Array) => hash.update(data), hex: () => hash.digest('hex') };
  };
  const createNormalizer = () => {
    let afterCR = false;
    return (input: Uint8Array): Uint8Array => {
      let i = afterCR && input[0] === 0x0a ? 1 : 0;
      afterCR = false;
      let o = 0;
      while (i < input.length) {
        const cr = input.indexOf(0x0d, i);
        const end = cr === -1 ? input.length : cr;
        normalized.set(input.subarray(i, end), o);
        o += end - i;
        if (cr === -1) break;
        normalized[o++] = 0x0a;
        i = cr + 1;
        if (i === input.length) afterCR = true;
        else if (input[i] === 0x0a) i++;
      }
      return normalized.subarray(0, o);
    };
  };
  return (path) => {
    const fd = deps.openSync(path, setup.openFlags);
    try {
      // What was listed as a file may have been swapped since (a FIFO, a device): hash regular files only.
      const before = deps.fstatSync(fd);
      if (!before.isFile()) throw Object.assign(new Error('it is no longer a regular file'), { code: 'ENOTREG' });
      const hashers = setup.algorithms.map(({ node }) => createHasher(node));
      const normalize = setup.normalizeLineEndings ? createNormalizer() : undefined;
      let total = 0;
      for (;;) {
        const bytesRead = deps.readSync(fd, buffer, 0, setup.chunkBytes, null);
        if (bytesRead === 0) break;
        total += bytesRead;
        const chunk = normalize ? normalize(buffer.subarray(0, bytesRead)) : buffer.subarray(0, bytesRead);
        for (const hasher of hashers) hasher.update(chunk);
        // Read up to the size fstat gave, without the read that would return 0: a file that grew or shrank
        // meanwhile fails the checks below all the same (a third fewer system calls for small files).
        if (total >= before.size) break;
      }
      // A file written while we read it has a digest of no version of it: refuse, as tar warns "file changed
      // as we read it".
      const after = deps.fstatSync(fd);
      if (total !== before.size || after.size !== before.size || after.mtimeMs !== before.mtimeMs || after.ctimeMs !== before.ctimeMs) {
        throw Object.assign(new Error('it changed while it was hashed'), { code: 'ECHANGED' });
      }
      const digests: DigestDict = {};
      setup.algorithms.forEach(({ name }, i) => (digests[name] = hashers[i]!.hex()));
      return digests;
    } finally {
      deps.closeSync(fd);
    }
  };
}

/**
 * The worker, as CommonJS for `new Worker(source, { eval: true })` (a worker cannot load this module's
 * TypeScript): createFileHasher's own source plus a message loop answering `{ start, paths }` batches.
 */
const WORKER_SOURCE = `
'use strict';
const { parentPort, workerData } = require('node:worker_threads');
const { openSync, readSync, closeSync, fstatSync } = require('node:fs');
const { createHash } = require('node:crypto');
const createFileHasher = ${createFileHasher.toString()};
const ready = (workerData.blake2Url === undefined ? Promise.resolve({}) : import(workerData.blake2Url))
  .then(({ blake2b }) => createFileHasher(workerData, { openSync, readSync, closeSync, fstatSync, createHash, blake2b }));
parentPort.on('message', async ({ start, paths }) => {
  const hashFile = await ready;
  const digests = [];
  for (const [i, path] of paths.entries()) {
    try {
      digests.push(hashFile(path));
    } catch (error) {
      parentPort.postMessage({ start, digests, failure: { index: start + i, message: error.message, code: error.code } });
      return;
    }
  }
  parentPort.postMessage({ start, digests });
});
`;

/**
 * Jobs of up to this many files are hashed in this thread unless `threads` is given: a worker costs ~30 ms to
 * start, and on small files one thread beats two workers (10,000 files of 30 bytes: 0.58 s against 0.72 s for the
 * whole in-toto-run here; 1,000 files: 0.21 s against 0.30 s).
 */
const SMALL_JOB_FILES = 16_384;

/** The hashing set up for `algorithms` (workers and this thread alike). */
function hashSetup(algorithms: readonly HashAlgorithm[], normalizeLineEndings: boolean): HashSetup {
  return {
    algorithms: algorithms.map((name) => ({ name, node: NODE_HASH_NAMES[name] })),
    normalizeLineEndings,
    chunkBytes: READ_CHUNK_BYTES,
    blake2Url: algorithms.includes('blake2b-256') ? import.meta.resolve('@noble/hashes/blake2.js') : undefined,
    openFlags: fsConstants.O_RDONLY | fsConstants.O_NONBLOCK,
  };
}

/** A worker and the batches it holds. */
interface HashWorker {
  readonly worker: Worker;
  queued: number;
}

/**
 * Hashes the files a walk adds to `files` while it goes on, results in input order. Workers start as the job grows:
 * with `threads` given, one per 256 files up to `threads` (1: this thread, after the walk); by default, none until
 * the job passes SMALL_JOB_FILES (a worker costs ~30 ms to start), then the same. Batches go out in order, a full
 * one at a time while the walk lasts; on a failure nothing new is sent, the batches in flight finish, and `finish`
 * throws the failure of the lowest index: every lower index was hashed, and that is the error a sequential run (the
 * reference) meets first.
 */
class Hashing {
  private readonly workers: HashWorker[] = [];
  private readonly results: DigestDict[] = [];
  private readonly failures: NonNullable<WorkerReply['failure']>[] = [];
  private next = 0;
  private walked = false;
  private crash: InTotoError | undefined;
  private settle: (() => void) | undefined;

  constructor(
    private readonly files: readonly FileEntry[],
    private readonly setup: HashSetup,
    private readonly threads: number,
    private readonly byDefault: boolean,
  ) {}

  /** New files were added: start workers the job now warrants, and hand out full batches. */
  pump(): void {
    if (this.threads > 1 && (!this.byDefault || this.files.length > SMALL_JOB_FILES)) {
      const wanted = Math.min(this.threads, Math.ceil(this.files.length / FILES_PER_WORKER));
      while (this.workers.length < wanted) this.start();
    }
    for (const w of this.workers) this.send(w);
    this.check();
  }

  /** The walk is over: the digests of every file, in order (or the failure of the lowest index). */
  async finish(): Promise<DigestDict[]> {
    this.walked = true;
    if (this.files.length === 0) return [];
    if (this.workers.length === 0) {
      if (this.threads > 1 && !this.byDefault) this.pump();
      else return hashInThisThread(this.files, this.setup);
    }
    await new Promise<void>((resolve) => {
      this.settle = resolve;
      this.pump();
    });
    if (this.crash) throw this.crash;
    if (this.failures.length > 0) {
      const first = this.failures.reduce((a, b) => (b.index < a.index ? b : a));
      throw readError(this.files[first.index]!, Object.assign(new Error(first.message), { code: first.code }));
    }
    return this.results;
  }

  /** Stops the workers (after `finish`, or when the walk failed). */
  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.worker.terminate()));
  }

  private start(): void {
    // execArgv: [] keeps flags meant for this process (--inspect, --cpu-prof, loaders) out of the workers.
    const w: HashWorker = { worker: new Worker(WORKER_SOURCE, { eval: true, workerData: this.setup, execArgv: [] }), queued: 0 };
    w.worker.on('message', ({ start, digests, failure }: WorkerReply) => {
      w.queued--;
      digests.forEach((digest, i) => (this.results[start + i] = digest));
      if (failure) this.failures.push(failure);
      this.send(w);
      this.check();
    });
    const crashed = (cause: unknown) => {
      this.crash ??= new InTotoError('UNSUPPORTED', `a worker thread hashing artifacts failed: ${(cause as Error).message}`, {}, { cause });
      w.queued = 0;
      this.check();
    };
    w.worker.once('error', crashed);
    // After a normal end, terminate() makes it exit too, once the job is done: no effect then.
    w.worker.once('exit', (code) => crashed(new Error(`it stopped with exit code ${code}`)));
    this.workers.push(w);
  }

  private send(w: HashWorker): void {
    while (w.queued < BATCHES_QUEUED && this.failures.length === 0 && !this.crash) {
      const available = this.files.length - this.next;
      if (available === 0 || (available < BATCH_FILES && !this.walked)) return;
      const start = this.next;
      this.next = Math.min(this.files.length, start + BATCH_FILES);
      w.queued++;
      w.worker.postMessage({ start, paths: this.files.slice(start, this.next).map((file) => file.fsPath) });
    }
  }

  /** Done when the walk is over and every batch sent has come back (or nothing more will be sent). */
  private check(): void {
    if (!this.settle || !this.walked) return;
    const stopped = this.failures.length > 0 || this.crash !== undefined;
    if ((stopped || this.next === this.files.length) && this.workers.every((w) => w.queued === 0)) {
      const settle = this.settle;
      this.settle = undefined;
      settle();
    }
  }
}

async function hashInThisThread(files: readonly FileEntry[], setup: HashSetup): Promise<DigestDict[]> {
  const blake2b = setup.blake2Url === undefined ? undefined : ((await import(setup.blake2Url)) as Pick<HashDeps, 'blake2b'>).blake2b;
  const hashFile = createFileHasher(setup, { openSync, readSync, closeSync, fstatSync, createHash, blake2b });
  return files.map((file) => {
    try {
      return hashFile(file.fsPath);
    } catch (error) {
      throw readError(file, error as Error);
    }
  });
}

function readError(file: FileEntry, error: Error): InTotoError {
  return new InTotoError('IO', `cannot read artifact ${JSON.stringify(file.key)} (${file.fsPath}): ${error.message}`, { artifact: file.key, path: file.fsPath }, { cause: error });
}
