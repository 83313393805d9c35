const os = require('os');

/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.tsx?$': 'ts-jest' },
  // Jest's default, one worker less than the cores, is a single worker on CI's 2 cores, while
  // the main process mostly waits: use both there (0.79x the wall time), and the default on
  // bigger machines.
  maxWorkers: Math.max(2, os.availableParallelism() - 1),
  // Synthesizing three stacks takes a few seconds on a 2-core machine.
  testTimeout: 120000,
};
