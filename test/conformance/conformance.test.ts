/**
 * The conformance suite (suite.js) on Node, through the package's `node` entry. The same suite runs in
 * Deno, headless Chromium and workerd: scripts/runtimes/<runtime>.mjs.
 */
import { readFile } from 'node:fs/promises';
import { describe, it } from 'vitest';
import * as root from '../../bindings/entry/node.js';
import * as sigstore from '../../bindings/sigstore/index.js';
import * as attestations from '../../bindings/verify/attestations.js';
import { conformanceCases, type Case } from './suite.js';

const vectors = new URL('./vectors/', import.meta.url);
// The package's own paths beside its root, as the runtime harnesses pass them.
const lib = { ...root, sigstore, attestations };
const read = async (path: string) => new Uint8Array(await readFile(new URL(path, vectors)));
const cases: Case[] = await conformanceCases(lib, read);
const skips = new Map(await Promise.all(cases.map(async (c) => [c, await c.skip?.()] as const)));

const groups = new Map<string, Case[]>();
for (const c of cases) groups.set(c.group, [...(groups.get(c.group) ?? []), c]);
for (const [group, members] of groups) {
  describe(group, () => {
    for (const c of members) {
      it.skipIf(skips.get(c) !== undefined)(c.name, () => c.run());
    }
  });
}
