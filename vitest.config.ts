import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Netlink sockets, setns(2) and unshare(2) act on the calling thread or
    // process: run each test file in its own child process, never a worker thread.
    pool: 'forks',
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // scripts/test-all reads the JSON report to print the combined summary line.
    reporters: ['default', 'json'],
    outputFile: {
      json: 'target/vitest-report.json',
    },
  },
});
