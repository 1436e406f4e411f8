#!/usr/bin/env node
// Bundles the command-line tools into bin/ (what package.json's "bin" runs): one ES module per tool and shared
// chunks, our code and its dependencies together. A tool then starts from a few files instead of some fifty
// modules resolved and compiled one by one: `in-toto-verify` on the demo chain, 90 -> 70 ms here (bench/).
// bin/ sits beside build/ so that the engine's `new URL('../build/engine.wasm', import.meta.url)` still finds
// it; dist/cli/ keeps the unbundled tools, which the tests drive. Run by `npm run build` after tsc.
import { chmodSync, readdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'rolldown';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'bin');
const tools = readdirSync(join(root, 'dist/cli')).filter((f) => /^in-toto-[a-z-]+\.js$/.test(f)).map((f) => f.slice(0, -3));
if (tools.length === 0) throw new Error('dist/cli has no tools: run tsc first (npm run build)');

rmSync(out, { recursive: true, force: true });
await build({
  input: Object.fromEntries(tools.map((tool) => [tool, join(root, 'dist/cli', `${tool}.js`)])),
  platform: 'node',
  logLevel: 'warn',
  // An entry chunk exports only its entry's exports: shared code never lands in one tool's file, which another
  // tool would then import, running the first tool's command line (seen: in-toto-keygen ran in-toto-sigstore).
  preserveEntrySignatures: 'strict',
  output: {
    dir: out,
    format: 'esm',
    entryFileNames: '[name].js',
    // Chunks beside the tools, not in a subdirectory: the engine's relative URL must resolve the same.
    chunkFileNames: '[name]-[hash].js',
  },
});
for (const tool of tools) chmodSync(join(out, `${tool}.js`), 0o755);
console.log(`bin/: ${tools.length} tools, ${readdirSync(out).length} files`);
