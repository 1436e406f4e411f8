// The conformance suite on Deno, with `deno test`: the package as Deno resolves it (its `deno` entry, from
// node_modules), the vectors read from files. Run by scripts/runtimes/deno.mjs inside a packed app.
import * as root from 'in-toto-wasm';
import * as sigstore from 'in-toto-wasm/sigstore';
import * as attestations from 'in-toto-wasm/attestations';
import { conformanceCases } from '../../conformance/suite.js';

const lib = { ...root, sigstore, attestations };
const vectors = new URL('../../conformance/vectors/', import.meta.url);
const cases = await conformanceCases(lib, (path) => Deno.readFile(new URL(path, vectors)));

for (const c of cases) {
  const reason = await c.skip?.();
  Deno.test({ name: `${c.group}: ${c.name}`, ignore: reason !== undefined, fn: () => c.run() });
}
