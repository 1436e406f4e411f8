import { defineConfig } from 'vitest/config';

// Suites over foreign test vectors (in-toto-golang, in-toto-rs, python >= 2, DSSE; in-toto attestation vectors;
// sigstore-conformance; npm provenance), read in place from the folders named by IN_TOTO_FOREIGN_VECTORS,
// IN_TOTO_ATTESTATION_VECTORS, IN_TOTO_SIGSTORE_VECTORS and IN_TOTO_NPM_VECTORS. CI runs them with
// ../shared/vectors/{foreign, attestations, sigstore-conformance, npm-provenance}.
export default defineConfig({
  test: {
    include: ['test/interop/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
