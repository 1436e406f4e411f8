// The conformance suite on plain Node against the packed package: 'in-toto-wasm' resolves through its
// `exports` map to the `node` entry. Run by scripts/runtimes/node.mjs inside a packed app; prints the
// results as JSON on its last line.
import { readFile } from 'node:fs/promises';
import * as lib from 'in-toto-wasm';
import { conformanceCases, runCases } from '../../conformance/suite.js';

const vectors = new URL('../../conformance/vectors/', import.meta.url);
const result = await runCases(await conformanceCases(lib, async (path) => new Uint8Array(await readFile(new URL(path, vectors)))));
console.log(JSON.stringify({ ...result, entry: import.meta.resolve('in-toto-wasm') }));
