// Builds the engine: asc compiles assembly/ (already optimized by binaryen inside asc), then binaryen's
// wasm-opt runs a second, stand-alone -O3 pass. Both come from the assemblyscript package's own pinned
// binaryen, so the build is reproducible from package-lock.json alone.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, renameSync, statSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const bin = (name) => join(root, 'node_modules', '.bin', name);
const run = (cmd, args) => execFileSync(cmd, args, { cwd: root, stdio: 'inherit' });

mkdirSync(join(root, 'build'), { recursive: true });
run(bin('asc'), ['assembly/index.ts', '--target', 'release']);
// asc's output uses these post-MVP features; wasm-opt refuses the module unless they are enabled.
const features = ['--enable-bulk-memory', '--enable-bulk-memory-opt', '--enable-sign-ext',
  '--enable-mutable-globals', '--enable-nontrapping-float-to-int'];
run(bin('wasm-opt'), ['build/engine.raw.wasm', '-O3', ...features, '-o', 'build/engine.tmp.wasm']);
renameSync(join(root, 'build/engine.tmp.wasm'), join(root, 'build/engine.wasm'));

const bytes = readFileSync(join(root, 'build/engine.wasm'));
const gz = gzipSync(bytes, { level: 9 }).length;
console.log(`build/engine.wasm: ${statSync(join(root, 'build/engine.wasm')).size} bytes (${gz} gzipped)`);
