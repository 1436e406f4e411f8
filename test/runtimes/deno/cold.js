// Cold start on Deno, in a fresh process: import, engine, first verification of the demo chain.
import { coldStart } from '../cold-start.js';

const vectors = new URL('../../conformance/vectors/', import.meta.url);
console.log(JSON.stringify(await coldStart(() => import('in-toto-wasm'), (path) => Deno.readFile(new URL(path, vectors)), () => performance.now())));
