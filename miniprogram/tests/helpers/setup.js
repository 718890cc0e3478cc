/**
 * Runs before each test file: miniprogram-simulate's globals (wx, Component, Behavior),
 * then in-memory storage, a navigation recorder, getApp/getCurrentPages and the Page shim.
 */
require('miniprogram-simulate');
const { installPageShim } = require('./page');

const storage = new Map();
const clone = (v) => (v === undefined ? v : JSON.parse(JSON.stringify(v)));

Object.assign(wx, {
  getStorageSync: (key) => (storage.has(key) ? clone(storage.get(key)) : ''),
  setStorageSync: (key, value) => storage.set(key, clone(value)),
  removeStorageSync: (key) => storage.delete(key),
  clearStorageSync: () => storage.clear(),
});

global.__storage = storage;
global.__navigations = [];
['navigateTo', 'redirectTo', 'reLaunch', 'switchTab', 'navigateBack'].forEach((kind) => {
  wx[kind] = (opts = {}) => {
    global.__navigations.push(Object.assign({ kind }, opts));
    if (opts.success) opts.success({});
    return Promise.resolve({});
  };
});

global.__app = { globalData: {} };
global.getApp = () => global.__app;
global.getCurrentPages = () => [];
installPageShim();
