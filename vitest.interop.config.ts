import { defineConfig } from 'vitest/config';

// Suites over foreign test vectors (in-toto-golang, in-toto-rs, python >= 2, DSSE), read in place from the
// folder named by IN_TOTO_FOREIGN_VECTORS. CI runs them with ../shared/vectors/foreign.
export default defineConfig({
  test: {
    include: ['test/interop/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
