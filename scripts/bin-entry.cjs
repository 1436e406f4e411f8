#!/usr/bin/env node
// The entry of every command-line tool in bin/ (scripts/build-bin.mjs writes one per tool from this file, with the
// bundle's name on the line `const name`). It compiles the tool's CommonJS bundle, with V8's code cache of it when
// this user has one from an earlier run under this Node, and runs it as Node runs a CommonJS file.
//
// The code cache (what V8 compiled, so that the next start neither parses nor compiles it again) lives in the user's
// cache directory ($IN_TOTO_WASM_CODE_CACHE, else $XDG_CACHE_HOME/in-toto-wasm, else ~/.cache/in-toto-wasm): never
// shipped (bytecode no one can read or rebuild has no place in a verifier's package) and never in a directory other
// users can write. A cache is used only when it is a regular file of this user's that no one else may write, its
// checksum holds and it names the SHA-256 of the exact bundle text being compiled (V8 itself checks the source by
// its length only, and its own version and flags); anything else is ignored and replaced at exit, written to a
// temporary file and renamed. IN_TOTO_WASM_CODE_CACHE=off turns it off. CommonJS itself (bin/package.json says so):
// an ES module entry costs ~4 ms more, Node's ES module loader. `exports.script` is for the tests.
'use strict';
const { closeSync, constants, fstatSync, lstatSync, mkdirSync, openSync, readFileSync, readSync, realpathSync, renameSync, unlinkSync, writeFileSync } = require('node:fs');
const { createHash } = require('node:crypto');
const { createRequire } = require('node:module');
const { dirname, join } = require('node:path');
const { pathToFileURL } = require('node:url');
const { Script } = require('node:vm');

const name = '<bundle>';
// The real directory (with --preserve-symlinks-main, __filename may be a link in node_modules/.bin).
const here = dirname(realpathSync(__filename));
const bundle = join(here, `${name}.cjs`);
const text = readFileSync(bundle, 'utf8');
const sha256 = (data) => createHash('sha256').update(data).digest();
/** How many runs write the cache (each adding what it compiled) before it is only read. */
const REFRESHES = 3;
const cache = codeCache();
const script = new Script(`(function (exports, require, module, __filename, __dirname, __importMetaResolve) {${text}\n})`, {
  filename: bundle,
  cachedData: cache?.data,
  // The bundle's own dynamic imports (node: built-ins, optional packages) resolve from bin/.
  importModuleDynamically: (specifier) => import(specifier),
});
exports.script = script;
// Written at exit (what V8 compiled during the run included) when there was none or V8 refused it, and again by the
// next few runs that do some work: a run that only answers --help or --version neither counts nor rewrites a cache,
// or a first `--help` would leave one without what verifying needs.
const informational = process.argv.length > 2 && process.argv.slice(2).every((arg) => arg === '-h' || arg === '--help' || arg === '--version');
const fresh = cache && (cache.data === undefined || script.cachedDataRejected);
if (cache && (fresh || (!informational && cache.runs < REFRESHES))) {
  const runs = informational ? 0 : fresh ? 1 : cache.runs + 1;
  process.once('exit', () => cache.save(script.createCachedData(), runs));
}
const bundled = { exports: {} };
const requireHere = createRequire(bundle);
// Started as an ES module would be, from a promise job: a tool's last write and its exit then come before Node
// reports a reader that went away (`--help | true`: EPIPE), as they do for dist/cli/.
queueMicrotask(() => script.runInThisContext()(bundled.exports, requireHere, bundled, bundle, here, (specifier) => pathToFileURL(requireHere.resolve(specifier)).href));

/** This user's cache file for the bundle under this Node, read if it may be trusted; undefined when off. */
function codeCache() {
  const setting = process.env.IN_TOTO_WASM_CODE_CACHE;
  if (setting === 'off') return undefined;
  const home = process.env.HOME || process.env.USERPROFILE;
  const dir = setting || (process.env.XDG_CACHE_HOME ? join(process.env.XDG_CACHE_HOME, 'in-toto-wasm') : home ? join(home, '.cache', 'in-toto-wasm') : undefined);
  if (!dir || !privateDirectory(dir)) return undefined;
  const file = join(dir, `${name}.v8-${process.versions.v8}-${process.arch}.v8cache`);
  const source = sha256(text);
  // The file: SHA-256 of the bundle text, SHA-256 of the rest, the number of runs that wrote it (one byte), V8's data.
  const save = (data, runs) => {
    const temporary = `${file}.${process.pid}.tmp`;
    try {
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      if (!privateDirectory(dir)) return;
      const rest = Buffer.concat([Buffer.of(runs), data]);
      // A new file (O_EXCL: never through a link planted under its name), then renamed over the old one.
      writeFileSync(temporary, Buffer.concat([source, sha256(rest), rest]), { mode: 0o600, flag: 'wx' });
      renameSync(temporary, file);
    } catch {
      // A cache that cannot be written (read-only home, full disk) only costs the next start its compile.
      try {
        unlinkSync(temporary);
      } catch {
        // none was made
      }
    }
  };
  const read = readTrusted(file, source);
  return { data: read?.subarray(1), runs: read?.[0] ?? 0, save };
}

/**
 * Whether `dir` may hold this user's cache: missing (made 0700 when first written), or a real directory of this
 * user's that no one else may write (else another user could swap files in it). Not checked where there are no uids.
 */
function privateDirectory(dir) {
  let stat;
  try {
    stat = lstatSync(dir);
  } catch (error) {
    return error.code === 'ENOENT';
  }
  const uid = process.getuid?.();
  return stat.isDirectory() && (uid === undefined || (stat.uid === uid && (stat.mode & 0o022) === 0));
}

/** The cache file's content after its checksums, when it is this user's alone, for the bundle of SHA-256 `source`, and intact. */
function readTrusted(file, source) {
  let fd;
  try {
    // Not through a symbolic link: the file itself must be this user's.
    fd = openSync(file, constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0));
  } catch {
    return undefined;
  }
  try {
    const stat = fstatSync(fd);
    const uid = process.getuid?.();
    if (!stat.isFile() || (uid !== undefined && stat.uid !== uid) || (stat.mode & 0o022) !== 0 || stat.size <= 65 || stat.size > 64 << 20) return undefined;
    const bytes = Buffer.allocUnsafe(stat.size);
    if (readSync(fd, bytes, 0, stat.size, 0) !== stat.size) return undefined;
    const rest = bytes.subarray(64);
    if (!bytes.subarray(0, 32).equals(source) || !bytes.subarray(32, 64).equals(sha256(rest))) return undefined;
    return rest;
  } catch {
    return undefined;
  } finally {
    closeSync(fd);
  }
}
