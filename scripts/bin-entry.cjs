#!/usr/bin/env node
// The entry of every command-line tool in bin/ (scripts/build-bin.mjs writes one per tool from this file, with the
// bundle's name on the line `const name`). It compiles the tool's CommonJS bundle with V8's code cache made by the
// build, when there is one for this exact bundle and this Node's V8 accepts it, then runs it as Node would run a
// CommonJS file. CommonJS itself (bin/package.json says so): an ES module entry costs ~4 ms more, Node's ES module
// loader. `exports.script` is for scripts/bin-train.mjs, which makes the cache.
'use strict';
const { readFileSync } = require('node:fs');
const { createRequire } = require('node:module');
const { join } = require('node:path');
const { pathToFileURL } = require('node:url');
const { Script } = require('node:vm');

const name = '<bundle>';
const bundle = join(__dirname, `${name}.cjs`);
let cachedData;
try {
  cachedData = readFileSync(join(__dirname, `${name}.v8cache`));
} catch (error) {
  if (error.code !== 'ENOENT') throw error;
}
// On the bundle's first line: positions in stack traces and profiles are the bundle's own.
const source = `(function (exports, require, module, __filename, __dirname, __importMetaResolve) {${readFileSync(bundle, 'utf8')}\n})`;
const script = new Script(source, {
  filename: bundle,
  cachedData,
  // The bundle's own dynamic imports (node: built-ins, optional packages) resolve from bin/.
  importModuleDynamically: (specifier) => import(specifier),
});
exports.script = script;
const bundled = { exports: {} };
const requireHere = createRequire(bundle);
script.runInThisContext()(bundled.exports, requireHere, bundled, bundle, __dirname, (specifier) => pathToFileURL(requireHere.resolve(specifier)).href);
