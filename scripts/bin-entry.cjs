#!/usr/bin/env node
// The entry of every command-line tool in bin/ (scripts/build-bin.mjs writes one per tool from this file, with the
// bundle's name on the line `const name`). It compiles the tool's CommonJS bundle, with V8's code cache of it when
// this user has one from an earlier run on this machine, and runs it as Node runs a CommonJS file.
//
// The code cache (what V8 compiled, so that the next start neither parses nor compiles it again) is bytecode: whoever
// writes it decides what runs. So it is never shipped (no one could read or rebuild it), and the one kept here is
// used only when this process can tell that a run of this tool, for this user, on this machine since it booted, wrote
// it: the file sits in a directory of this user's that no one else may write ($IN_TOTO_WASM_CODE_CACHE, else
// $XDG_CACHE_HOME/in-toto-wasm, else ~/.cache/in-toto-wasm; absolute paths only), is this user's, is not a link, and
// starts with a SHA-256 over the machine's boot id (Linux: unknown to anyone off the machine), the file's own device
// and inode (a copy, an extracted archive or a restored CI cache is another inode), the SHA-256 of the exact bundle
// text (V8 itself checks the source by its length only) and the rest of the file. Anything else is ignored and
// replaced at exit. Where there is no boot id (not Linux) no cache is kept. IN_TOTO_WASM_CODE_CACHE=off turns it off.
// CommonJS itself (bin/package.json says so): an ES module entry costs ~4 ms more, Node's ES module loader.
// `exports.script` is for the tests.
'use strict';
const fs = require('node:fs');
const { createHash } = require('node:crypto');
const { createRequire } = require('node:module');
const { dirname, isAbsolute, join } = require('node:path');
const { pathToFileURL } = require('node:url');
const { Script } = require('node:vm');

const name = '<bundle>';
// The real directory (with --preserve-symlinks-main, __filename may be a link in node_modules/.bin).
const here = dirname(fs.realpathSync(__filename));
const bundle = join(here, `${name}.cjs`);
const text = fs.readFileSync(bundle, 'utf8');
const sha256 = (...parts) => {
  const hash = createHash('sha256');
  for (const part of parts) hash.update(part);
  return hash.digest();
};
/** How many runs write the cache (each adding what it compiled) before it is only read. */
const REFRESHES = 3;
const cache = codeCache();
// The wrapper on a line of its own (lineOffset -1): positions in stack traces are the bundle's own.
const script = new Script(`(function (exports, require, module, __filename, __dirname, __importMetaResolve) {\n${text}\n})`, {
  filename: bundle,
  lineOffset: -1,
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

/** This user's cache of the bundle (read when it may be trusted) and how to save one; undefined when none is kept. */
function codeCache() {
  const setting = process.env.IN_TOTO_WASM_CODE_CACHE;
  if (setting !== undefined && setting !== '' && !isAbsolute(setting)) return undefined; // off, or not a place
  const xdg = process.env.XDG_CACHE_HOME;
  const home = process.env.HOME;
  const dir = setting || (xdg && isAbsolute(xdg) ? join(xdg, 'in-toto-wasm') : home && isAbsolute(home) ? join(home, '.cache', 'in-toto-wasm') : undefined);
  const uid = process.getuid?.();
  let boot;
  try {
    boot = fs.readFileSync('/proc/sys/kernel/random/boot_id');
  } catch {
    return undefined;
  }
  if (!dir || uid === undefined || boot.length < 16 || !privateDirectory(dir, uid, false)) return undefined;
  // Node's flags change what V8 accepts: one file per set of them, so that two sets do not keep replacing each other.
  const flags = sha256(JSON.stringify([process.execArgv, process.env.NODE_OPTIONS ?? ''])).toString('hex').slice(0, 8);
  const file = join(dir, `${name}.v8-${process.versions.v8}-${process.arch}-${flags}.v8cache`);
  const source = sha256(text);
  // The file: the seal (SHA-256 of the boot id, device, inode, bundle text's SHA-256 and the rest), then the rest:
  // the number of runs that wrote it (one byte) and V8's data.
  const seal = (stat, rest) => sha256(boot, `${stat.dev}:${stat.ino}:`, source, rest);
  const save = (data, runs) => {
    const temporary = `${file}.${process.pid}.tmp`;
    let fd;
    try {
      if (!privateDirectory(dir, uid, true)) return;
      // A new file (O_EXCL: never through a link planted under its name), sealed with its own inode, then renamed.
      fd = fs.openSync(temporary, 'wx', 0o600);
      const rest = Buffer.concat([Buffer.of(runs), data]);
      fs.writeSync(fd, Buffer.concat([seal(fs.fstatSync(fd), rest), rest]));
      fs.closeSync(fd);
      fd = undefined;
      fs.renameSync(temporary, file);
      // Caches of other builds of this tool are of no more use.
      const tool = `${name.slice(0, name.lastIndexOf('.'))}.`;
      for (const other of fs.readdirSync(dir)) {
        if (other.startsWith(tool) && other.endsWith('.v8cache') && !other.startsWith(`${name}.`)) fs.rmSync(join(dir, other), { force: true });
      }
    } catch {
      // A cache that cannot be written (read-only home, full disk) only costs the next start its compile.
      if (fd !== undefined) {
        fs.closeSync(fd);
        fs.rmSync(temporary, { force: true });
      }
    }
  };
  const read = readSealed(file, uid, seal);
  return { data: read?.subarray(1), runs: read?.[0] ?? 0, save };
}

/**
 * Whether `dir` may hold this user's cache: a real directory of this user's that no one else may write (else another
 * user could swap files in it). With `make`, a missing one is made (0700), and its parent too, only where the parent
 * is this user's: never a directory of this user's inside someone else's (root with a user's HOME).
 */
function privateDirectory(dir, uid, make) {
  let stat;
  try {
    stat = fs.lstatSync(dir);
  } catch (error) {
    if (error.code !== 'ENOENT') return false;
    if (!make) return true;
    const parent = dirname(dir);
    if (parent === dir) return false;
    let parentStat;
    try {
      parentStat = fs.statSync(parent);
    } catch (parentError) {
      if (parentError.code !== 'ENOENT' || dirname(parent) === parent || !privateDirectory(parent, uid, true)) return false;
      parentStat = fs.statSync(parent);
    }
    if (!parentStat.isDirectory() || parentStat.uid !== uid) return false;
    fs.mkdirSync(dir, { mode: 0o700 });
    stat = fs.lstatSync(dir);
  }
  return stat.isDirectory() && stat.uid === uid && (stat.mode & 0o022) === 0;
}

/** The cache file's content after its seal, when it is this user's own regular file and the seal holds; else undefined. */
function readSealed(file, uid, seal) {
  let fd;
  try {
    // Not through a symbolic link; never blocking (a FIFO swapped in).
    fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW | fs.constants.O_NONBLOCK);
  } catch {
    return undefined;
  }
  try {
    const stat = fs.fstatSync(fd);
    if (!stat.isFile() || stat.uid !== uid || (stat.mode & 0o022) !== 0 || stat.size <= 33 || stat.size > 64 << 20) return undefined;
    const bytes = Buffer.allocUnsafe(stat.size);
    if (fs.readSync(fd, bytes, 0, stat.size, 0) !== stat.size) return undefined;
    const rest = bytes.subarray(32);
    return bytes.subarray(0, 32).equals(seal(stat, rest)) ? rest : undefined;
  } catch {
    return undefined;
  } finally {
    fs.closeSync(fd);
  }
}
