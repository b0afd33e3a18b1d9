import type { Reporter, TestCase, TestResult } from '@playwright/test/reporter';

// Repeats each failure's assertion in a few lines at the very end of the
// output, after the long attachment lists: CI keeps only the tail of a
// log, and the tail must say what failed and why.
export default class FailureSummary implements Reporter {
  private failures: string[] = [];

  onTestEnd(test: TestCase, result: TestResult) {
    if (result.status === 'passed' || result.status === 'skipped') return;
    // eslint-disable-next-line no-control-regex
    const plain = (s: string) => s.replace(/\x1b\[[0-9;]*m/g, '');
    const error = plain(result.error?.message ?? result.status).split('\n').slice(0, 14).join('\n    ');
    const at = result.error?.stack ? plain(result.error.stack).split('\n').find((l) => l.includes('.spec.ts')) : undefined;
    this.failures.push(`${test.location.file.split('/').slice(-2).join('/')}:${test.location.line} › ${test.title}\n    ${error}${at ? `\n    ${at.trim()}` : ''}`);
  }

  onEnd() {
    if (this.failures.length > 0) {
      console.log(`\nWhat failed, in short:\n\n${this.failures.join('\n\n')}\n`);
    }
  }
}
