#!/usr/bin/env node
// Bundles the command-line tools into bin/ (what package.json's "bin" runs). Each tool is one CommonJS file, our
// code and its dependencies together, started by a small entry that compiles it with V8's code cache:
//
//   bin/<tool>.js              the entry npm links (scripts/bin-entry.cjs): compiles the bundle (node:vm), with the cache
//   bin/<tool>.<hash>.cjs      the tool, bundled by rolldown; <hash> is the SHA-256 of its text (first 16 hex)
//   bin/<tool>.<hash>.v8cache  V8's code cache for that text, made here from a run of the tool (trained tools only)
//   bin/package.json           {"type": "commonjs"}: the entries are CommonJS
//
// Why (bench/startup.mjs, in-toto-verify on the demo chain, this 2-core machine, Node 20, medians): ES module chunks
// 78-81 ms; one CommonJS file 66 ms (Node's ES module loader resolves, links and compiles each module on its own); with
// the code cache 60 ms (no parsing, and the functions the run needs come compiled); built-ins required on first use
// (LAZY_BUILTINS) and a CommonJS entry: 57 ms, the reference 139-149 ms. Node 22's `module.enableCompileCache()`
// keeps such a cache in a temporary directory at run time; a verifier should not run bytecode any local user could
// have written, so ours is made here and shipped beside the bundle, as trusted as the bundle itself.
//
// V8 takes a cache only when its own version and flags match the run's, and checks the source by its length alone:
// hence the hash in both names (a cache is only ever read for the exact text it was made from; test/cli/bin.test.ts
// holds the names to the hashes). A cache V8 refuses (another Node, other flags) costs nothing but the compile it
// would have saved. The bundles are ASCII (non-ASCII escaped) without JSDoc (dist/ keeps it): less to read at each
// start. bin/ sits beside build/ so that the engine's `new URL('../build/engine.wasm', import.meta.url)` still finds
// it (rolldown makes it the bundle's own file URL); dist/cli/ keeps the unbundled tools, which most tests drive.
// Run by `npm run build`.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
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

rmSync(out, { recursive: true, force: true });
mkdirSync(out);
// The entries are CommonJS (scripts/bin-entry.cjs says why) under the names package.json's "bin" gives.
writeFileSync(join(out, 'package.json'), `${JSON.stringify({ type: 'commonjs' }, null, 2)}\n`);
const staging = mkdtempSync(join(tmpdir(), 'in-toto-bin-'));
const bundles = new Map();
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
    bundles.set(tool, name);
  }
} finally {
  rmSync(staging, { recursive: true, force: true });
}
const trained = train();
console.log(`bin/: ${tools.length} tools, one bundle each; code caches for ${trained.join(', ')}`);

/** The entry of `tool`: scripts/bin-entry.cjs, naming the bundle `name`.cjs and its cache `name`.v8cache. */
function entryModule(tool, name) {
  const template = readFileSync(join(root, 'scripts/bin-entry.cjs'), 'utf8');
  const line = "const name = '<bundle>';";
  if (!template.includes(line)) throw new Error(`scripts/bin-entry.cjs must have the line ${line}`);
  return template
    .replace(/^#!.*\n/, `#!/usr/bin/env node\n// ${tool}, written by scripts/build-bin.mjs from scripts/bin-entry.cjs: edit that, not this.\n`)
    .replace(line, `const name = ${JSON.stringify(name)};`);
}

/**
 * Runs the tools once on a small chain (keys, a layout, a recorded step, a verification) and keeps, for each tool
 * that ran, V8's code cache of its bundle as that run left it: the functions the run needed, compiled. Each run
 * must succeed (a bundle that cannot do its job fails the build). Returns the tools trained.
 */
function train() {
  const dir = mkdtempSync(join(tmpdir(), 'in-toto-bin-train-'));
  const done = [];
  const run = (tool, args) => {
    const cache = join(out, `${bundles.get(tool)}.v8cache`);
    const result = spawnSync(process.execPath, [join(root, 'scripts/bin-train.mjs'), join(out, `${tool}.js`), cache, ...args], { cwd: dir, encoding: 'utf8' });
    if (result.status !== 0 || !existsSync(cache)) {
      throw new Error(`training ${tool} ${args.join(' ')} failed (exit ${result.status}):\n${result.stdout}${result.stderr}`);
    }
    done.push(tool);
  };
  try {
    run('in-toto-keygen', ['-t', 'ed25519', 'owner']);
    writeFileSync(join(dir, 'layout.json'), JSON.stringify({
      expires_in: '1m',
      keys: { owner: { path: 'owner.pub', type: 'ed25519' } },
      steps: [
        { name: 'write', functionaries: ['owner'], products: [['CREATE', 'src.txt'], ['DISALLOW', '*']] },
        { name: 'build', functionaries: ['owner'], materials: [['MATCH', 'src.txt', 'WITH', 'PRODUCTS', 'FROM', 'write'], ['DISALLOW', '*']], products: [['CREATE', 'out.txt'], ['ALLOW', 'src.txt'], ['DISALLOW', '*']] },
      ],
      // An inspection, so that the code running one (a command, the artifacts it saw) comes compiled too.
      inspect: [
        { name: 'look', run: [process.execPath, '-e', '0'], materials: [['MATCH', 'out.txt', 'WITH', 'PRODUCTS', 'FROM', 'build'], ['ALLOW', '*']], products: [['ALLOW', '*']] },
      ],
    }));
    run('in-toto-layout', ['create', 'layout.json', '-o', 'root.layout', '-k', 'owner', '-t', 'ed25519']);
    writeFileSync(join(dir, 'src.txt'), 'source\n');
    run('in-toto-run', ['-n', 'write', '-k', 'owner', '-t', 'ed25519', '-p', 'src.txt', '-x']);
    // A second run of a tool starts from the first's cache and leaves what both compiled.
    run('in-toto-record', ['start', '-n', 'build', '-k', 'owner', '-t', 'ed25519', '-m', 'src.txt']);
    writeFileSync(join(dir, 'out.txt'), 'built\n');
    run('in-toto-record', ['stop', '-n', 'build', '-k', 'owner', '-t', 'ed25519', '-p', 'src.txt', 'out.txt']);
    run('in-toto-verify', ['-l', 'root.layout', '-k', 'owner.pub', '-t', 'ed25519']);
    return [...new Set(done)];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
