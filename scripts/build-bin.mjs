#!/usr/bin/env node
// Bundles the command-line tools into bin/ (what package.json's "bin" runs). Each tool is one CommonJS file, our
// code and its dependencies together (as of this build: `npm update` reaches dist/, not bin/, until the next build),
// started by a small entry that compiles it with V8's code cache when the user has one:
//
//   bin/<tool>.js              the entry npm links (scripts/bin-entry.cjs): compiles the bundle (node:vm), and keeps
//                              V8's code cache of it in the user's cache directory (the entry says where, and when a
//                              cache is trusted: sealed to this machine's boot, its own inode and this bundle text)
//   bin/<tool>.<hash>.cjs      the tool, bundled by rolldown; <hash> is the SHA-256 of its text (first 16 hex)
//   bin/package.json           {"type": "commonjs"}: the entries are CommonJS
//
// Why (bench/startup.mjs, in-toto-verify on the demo chain, this 2-core machine, Node 20, medians): ES module chunks
// 78-81 ms; one CommonJS file 66 ms (Node's ES module loader resolves, links and compiles each module on its own); with
// the code cache 60 ms (no parsing, and the functions a run needs come compiled); built-ins required on first use
// (LAZY_BUILTINS) and a CommonJS entry: 55-57 ms, the reference 132-149 ms. The first run of a tool under a given Node
// pays for the compile and writes the cache. No cache is shipped: V8 bytecode cannot be read or rebuilt bit for bit
// (two builds of the same text give different caches), and a verifier's package must be auditable from its text.
// The bundles are ASCII (non-ASCII escaped) without JSDoc (dist/ keeps it): less to read at each start. bin/ sits
// beside build/ so that the engine's `new URL('../build/engine.wasm', import.meta.url)` still finds it (rolldown makes
// it the bundle's own file URL); dist/cli/ keeps the unbundled tools, which most tests drive. Run by `npm run build`.
import { createHash } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'rolldown';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'bin');
const tools = readdirSync(join(root, 'dist/cli')).filter((f) => /^in-toto-[a-z-]+\.js$/.test(f)).map((f) => f.slice(0, -3));
if (tools.length === 0) throw new Error('dist/cli has no tools: run tsc first (npm run build)');

/**
 * Node built-ins that only some runs of a tool need (spawning a command, hashing workers, the home directory),
 * required on their first use rather than when the bundle starts. An ES module chunk loaded them with the dynamic
 * chunk that used them; a single CommonJS file requires every built-in at its top: child_process alone brings net,
 * dgram and streams, ~4 ms of in-toto-verify's start. The bundle reads them only as `ns.name` (rolldown's CommonJS
 * output), which a proxy forwards.
 */
const LAZY_BUILTINS = ['node:child_process', 'node:worker_threads', 'node:os', 'node:tty'];
const lazyBuiltins = {
  name: 'lazy-builtins',
  renderChunk(code) {
    const helper = 'const __lazyBuiltin = (id) => { let m; return new Proxy({}, { get: (_, key) => (m ??= require(id))[key] }); };\n';
    let first = true;
    return code.replace(/^let (\w+) = require\(("node:[a-z_/]+")\);$/gm, (line, binding, id) => {
      if (!LAZY_BUILTINS.includes(JSON.parse(id))) return line;
      const lazy = `${first ? helper : ''}let ${binding} = __lazyBuiltin(${id});`;
      first = false;
      return lazy;
    });
  },
};

// The build is complete again only when npm run build stamps it (scripts/build-if-stale.mjs): not after a failure here.
rmSync(join(root, 'build', '.complete'), { force: true });
rmSync(out, { recursive: true, force: true });
mkdirSync(out);
// The entries are CommonJS (scripts/bin-entry.cjs says why) under the names package.json's "bin" gives.
writeFileSync(join(out, 'package.json'), `${JSON.stringify({ type: 'commonjs' }, null, 2)}\n`);
const staging = mkdtempSync(join(tmpdir(), 'in-toto-bin-'));
try {
  for (const tool of tools) {
    await build({
      input: { [tool]: join(root, 'dist/cli', `${tool}.js`) },
      cwd: root,
      platform: 'node',
      logLevel: 'warn',
      // The one `import.meta` a CommonJS file lacks that our code uses (the recorder's optional blake2b module for
      // its hashing workers): the entry passes its own, so the package resolves from bin/ as before.
      transform: { define: { 'import.meta.resolve': '__importMetaResolve' } },
      plugins: [lazyBuiltins],
      output: { dir: staging, format: 'cjs', entryFileNames: '[name].cjs', codeSplitting: false, charset: 'ascii', comments: { legal: true, jsdoc: false, annotation: false } },
    });
    const text = readFileSync(join(staging, `${tool}.cjs`), 'utf8').replace(/^#!.*\n/, '');
    const name = `${tool}.${createHash('sha256').update(text).digest('hex').slice(0, 16)}`;
    writeFileSync(join(out, `${name}.cjs`), text);
    writeFileSync(join(out, `${tool}.js`), entryModule(tool, name));
    chmodSync(join(out, `${tool}.js`), 0o755);
  }
} finally {
  rmSync(staging, { recursive: true, force: true });
}
console.log(`bin/: ${tools.length} tools, one bundle each`);

/** The entry of `tool`: scripts/bin-entry.cjs, naming the bundle `name`.cjs (and so the code caches made of it). */
function entryModule(tool, name) {
  const template = readFileSync(join(root, 'scripts/bin-entry.cjs'), 'utf8');
  const line = "const name = '<bundle>';";
  if (!template.includes(line)) throw new Error(`scripts/bin-entry.cjs must have the line ${line}`);
  return template
    .replace(/^#!.*\n/, `#!/usr/bin/env node\n// ${tool}, written by scripts/build-bin.mjs from scripts/bin-entry.cjs: edit that, not this.\n`)
    .replace(line, `const name = ${JSON.stringify(name)};`);
}

