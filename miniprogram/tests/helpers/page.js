/**
 * Page shim for miniprogram-simulate, which only knows Component(): a Page({...}) becomes a
 * Component whose methods are the page's functions, with onLoad(query)/onShow/onReady run
 * from lifetimes.attached and onUnload from detached. Also resolves npm component paths to
 * miniprogram_npm/. Works under jest's fake timers too (flush then moves the clock 1 ms at a time).
 */
const path = require('path');
const fs = require('fs');
const simulate = require('miniprogram-simulate');

const ROOT = path.resolve(__dirname, '../..');
let pendingQuery = {};

function pageToComponent(options) {
  const methods = {};
  const fields = {};
  Object.keys(options).forEach((key) => {
    if (key === 'data' || key === 'behaviors') return;
    if (typeof options[key] === 'function') methods[key] = options[key];
    else fields[key] = options[key];
  });
  const query = pendingQuery;
  return {
    data: JSON.parse(JSON.stringify(options.data || {})),
    behaviors: options.behaviors || [],
    methods,
    lifetimes: {
      created() {
        Object.assign(this, JSON.parse(JSON.stringify(fields)));
        this.options = query;
      },
      attached() {
        this.__ready = (async () => {
          if (this.onLoad) await this.onLoad(query);
          if (this.onShow) await this.onShow();
          if (this.onReady) await this.onReady();
        })();
      },
      detached() {
        if (this.onUnload) this.onUnload();
      },
    },
  };
}

/** Makes the global Page() register a component for miniprogram-simulate. */
function installPageShim() {
  global.Page = (options) => global.Component(pageToComponent(options));
}

/** usingComponents overrides: npm paths ("tdesign-miniprogram/button/button") → /miniprogram_npm/... */
function npmComponents(pageDir) {
  const json = JSON.parse(fs.readFileSync(path.join(ROOT, pageDir, 'index.json'), 'utf8'));
  const using = {};
  Object.entries(json.usingComponents || {}).forEach(([tag, target]) => {
    if (!target.startsWith('.') && !target.startsWith('/')) using[tag] = `/miniprogram_npm/${target}`;
  });
  return using;
}

/** True while jest's modern fake timers are installed. */
function fakeTimersOn() {
  return typeof setTimeout.clock === 'object';
}

/**
 * Lets pending answers (0 ms timers) and the promises after them run. Under fake timers the
 * clock moves 1 ms a step: a 0 ms timer set while timers run is due 1 ms later (sinon's rule).
 */
async function tick() {
  if (fakeTimersOn()) await jest.advanceTimersByTimeAsync(1);
  else await simulate.sleep(0);
}

async function flush(times = 5) {
  for (let i = 0; i < times; i += 1) await tick();
}

/** Under fake timers: moves the clock on by ms, running every timer due and what it starts. */
async function advance(ms) {
  await jest.advanceTimersByTimeAsync(ms);
  await flush();
}

/** Waits for a promise; under fake timers by running 0 ms timers until it settles. */
async function settle(promise) {
  if (!fakeTimersOn()) return promise;
  let finished = false;
  const watched = promise.finally(() => { finished = true; });
  for (let i = 0; i < 100 && !finished; i += 1) await tick();
  if (!finished) throw new Error('the page lifecycle waits on a timer: advance() the clock instead');
  return watched;
}

/**
 * Loads, renders and attaches a page (e.g. 'pages/home/index'), runs its onLoad/onShow and
 * waits for their promises. Resolves with the miniprogram-simulate wrapper.
 */
async function renderPage(pageDir, query = {}) {
  pendingQuery = query;
  let id;
  // A fresh module registry so the page's js runs (and calls Page) again on every render.
  jest.isolateModules(() => {
    id = simulate.load(path.join(ROOT, pageDir, 'index'), 'page-root', {
      rootPath: ROOT,
      usingComponents: npmComponents(pageDir),
      compilerOptions: { maxBuffer: 64 * 1024 * 1024 },
    });
  });
  const page = simulate.render(id);
  page.attach(document.createElement('parent-wrapper'));
  await settle(page.instance.__ready);
  await flush();
  return page;
}

// TDesign components are virtual hosts (no element of their own): use what they render.
const INNER_ELEMENTS = ['.t-button', '.t-switch__body', '.t-tag', '.t-cell'];

/** The DOM element of a node; for a virtual-host component, the element it renders. */
function domOf(node) {
  if (node.dom) return node.dom;
  for (const selector of INNER_ELEMENTS) {
    const inner = node.querySelector(selector);
    if (inner && inner.dom) return inner.dom;
  }
  throw new Error('node has no element to look at');
}

/** The node to dispatch events on: itself, or for a virtual-host component its inner element. */
function target(node) {
  if (node.dom) return node;
  const found = INNER_ELEMENTS.map((s) => node.querySelector(s)).find((inner) => inner && inner.dom);
  if (!found) throw new Error('node has no element to tap');
  return found;
}

/** The visible text of a rendered page (or of one node), whitespace collapsed. */
function textOf(node) {
  const dom = node.dom || (node.querySelector ? domOf(node) : node);
  return dom.textContent.replace(/\s+/g, ' ').trim();
}

/** Taps a node (or the first match of a selector) and waits for what it started. */
async function tap(page, selectorOrNode) {
  const node = typeof selectorOrNode === 'string' ? page.querySelector(selectorOrNode) : selectorOrNode;
  if (!node) throw new Error(`nothing matches ${selectorOrNode}`);
  target(node).dispatchEvent('tap');
  await flush();
  return node;
}

/** All nodes matching a selector, deep. */
function all(page, selector) {
  return page.querySelectorAll(selector);
}

module.exports = { installPageShim, renderPage, textOf, domOf, tap, all, flush, advance, settle, ROOT };

/** Clears storage and recorded navigations between tests. */
function resetWorld() {
  global.__storage.clear();
  global.__navigations.length = 0;
  delete globalThis.__YIQIAO_API_BASE__;
}

/** Navigations the page asked for, e.g. [{kind: 'navigateTo', url}]. */
function navigations() {
  return global.__navigations;
}

module.exports.resetWorld = resetWorld;
module.exports.navigations = navigations;
