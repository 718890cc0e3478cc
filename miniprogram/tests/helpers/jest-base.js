/** Settings shared by the unit and e2e jest configs. */
const path = require('path');

const root = path.resolve(__dirname, '../..');

module.exports = {
  rootDir: root,
  testEnvironment: 'jsdom',
  // The first page a file renders compiles every WXML with the official wcc (a few seconds).
  testTimeout: 30000,
  setupFiles: ['<rootDir>/tests/helpers/setup.js'],
  // TDesign ships ES modules in miniprogram_npm; our own code is CommonJS and runs as is.
  transform: {
    'miniprogram_npm/.+\\.js$': [
      'babel-jest',
      { babelrc: false, configFile: false, plugins: ['@babel/plugin-transform-modules-commonjs'] },
    ],
  },
  moduleNameMapper: {
    '^tslib$': '<rootDir>/miniprogram_npm/tdesign-miniprogram/miniprogram_npm/tslib/index.js',
  },
  testPathIgnorePatterns: ['/node_modules/', '/miniprogram_npm/'],
  modulePathIgnorePatterns: ['<rootDir>/miniprogram_npm/.*/package.json'],
};
