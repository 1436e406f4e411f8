/**
 * A vitest reporter that ends the run with the plain line `N passed, N failed, N skipped` (what CI reads),
 * beside vitest's own summary: `vitest run test/conformance --reporter=default --reporter=./test/conformance/count-reporter.ts`.
 */
import type { Reporter, TestModule } from 'vitest/node';

export default class CountReporter implements Reporter {
  onTestRunEnd(modules: ReadonlyArray<TestModule>, errors: ReadonlyArray<unknown>): void {
    let passed = 0;
    let failed = errors.length;
    let skipped = 0;
    for (const module of modules) {
      if (module.state() === 'failed' && [...module.children.allTests()].length === 0) failed++;
      for (const test of module.children.allTests()) {
        const state = test.result().state;
        if (state === 'passed') passed++;
        else if (state === 'failed') failed++;
        else skipped++;
      }
    }
    process.stdout.write(`\nnode: ${passed} passed, ${failed} failed, ${skipped} skipped\n`);
  }
}
