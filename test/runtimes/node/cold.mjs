// Cold start on Node, in a fresh process: import, engine, first verification of the demo chain.
import { readFile } from 'node:fs/promises';
import { coldStart } from '../cold-start.js';

const vectors = new URL('../../conformance/vectors/', import.meta.url);
const read = async (path) => new Uint8Array(await readFile(new URL(path, vectors)));
console.log(JSON.stringify(await coldStart(() => import('in-toto-wasm'), read, () => performance.now())));
