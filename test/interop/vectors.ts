/** The folder of foreign test vectors, given by IN_TOTO_FOREIGN_VECTORS; this suite fails loudly without it. */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';

export function foreignVectors(): string {
  const dir = process.env.IN_TOTO_FOREIGN_VECTORS;
  if (!dir) throw new Error('set IN_TOTO_FOREIGN_VECTORS to the foreign vectors folder (e.g. ../shared/vectors/foreign)');
  const path = resolve(dir);
  if (!existsSync(`${path}/expected.json`)) throw new Error(`${path} does not hold the foreign vectors (no expected.json)`);
  return path;
}

/** The sigstore-conformance folder, given by IN_TOTO_SIGSTORE_VECTORS; the suites that read it fail loudly without it. */
export function sigstoreVectors(): string {
  const dir = process.env.IN_TOTO_SIGSTORE_VECTORS;
  if (!dir) throw new Error('set IN_TOTO_SIGSTORE_VECTORS to the sigstore-conformance folder (e.g. ../shared/vectors/sigstore-conformance)');
  const path = resolve(dir);
  if (!existsSync(`${path}/test/assets/bundle-verify`)) throw new Error(`${path} does not hold the sigstore-conformance cases`);
  return path;
}
