/** End-to-end: the real pages against a live BFF started by the lead's stack command. */
const base = require('./tests/helpers/jest-base');

module.exports = Object.assign({}, base, {
  displayName: 'e2e',
  roots: ['<rootDir>/tests/e2e'],
  testTimeout: 60000,
  globalSetup: '<rootDir>/tests/e2e/global-setup.js',
  globalTeardown: '<rootDir>/tests/e2e/global-teardown.js',
});
