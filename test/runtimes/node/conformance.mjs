// The conformance suite on plain Node against the packed package: 'in-toto-wasm' resolves through its
// `exports` map to the `node` entry. Run by scripts/runtimes/node.mjs inside a packed app; prints the
// results as JSON on its last line.
import { readFile } from 'node:fs/promises';
import * as root from 'in-toto-wasm';
import * as sigstore from 'in-toto-wasm/sigstore';
import * as attestations from 'in-toto-wasm/attestations';
import { conformanceCases, runCases } from '../../conformance/suite.js';

const lib = { ...root, sigstore, attestations };
const vectors = new URL('../../conformance/vectors/', import.meta.url);
const result = await runCases(await conformanceCases(lib, async (path) => new Uint8Array(await readFile(new URL(path, vectors)))));
console.log(JSON.stringify({ ...result, entry: import.meta.resolve('in-toto-wasm') }));
