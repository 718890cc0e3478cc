/** Unit page tests: miniprogram-simulate in jsdom with a fake backend. */
const base = require('./tests/helpers/jest-base');

module.exports = Object.assign({}, base, {
  displayName: 'unit',
  roots: ['<rootDir>/tests/unit'],
});
