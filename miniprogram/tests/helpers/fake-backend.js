/**
 * A tiny in-test BFF: replaces wx.request (and wx.login) with responders keyed by
 * "METHOD /path" (":id" segments match anything), and records every request made.
 */
const BASE = 'http://bff.test';

function matchRoute(routes, method, path) {
  const parts = path.split('/');
  return Object.keys(routes).find((key) => {
    const [m, pattern] = key.split(' ');
    if (m !== method) return false;
    const p = pattern.split('/');
    return p.length === parts.length && p.every((seg, i) => seg.startsWith(':') || seg === parts[i]);
  });
}

/** Installs the fake; answers {requests, setRoute}. A handler returns {status, body, headers?} or a body. */
function installFakeBackend(routes, { loginCode = 'test-code' } = {}) {
  const requests = [];
  const table = Object.assign({
    'POST /api/v1/auth/wx-login': () => ({ status: 200, body: { token: 'token-1', expires_in: 7200, user: { id: 1 } } }),
  }, routes);
  globalThis.__YIQIAO_API_BASE__ = BASE;
  wx.login = (opts) => setTimeout(() => opts.success({ code: loginCode }), 0);
  wx.request = (opts) => {
    const url = new URL(opts.url);
    const req = {
      method: opts.method || 'GET',
      path: url.pathname,
      query: Object.fromEntries(url.searchParams.entries()),
      headers: opts.header || {},
      data: opts.data,
    };
    requests.push(req);
    const key = matchRoute(table, req.method, req.path);
    setTimeout(() => {
      if (!key) {
        opts.success({ statusCode: 404, data: { error: { code: 'NOT_FOUND', message: '未找到', details: {} } }, header: {} });
        return;
      }
      const answer = table[key](req);
      if (answer === 'NETWORK_DOWN') {
        opts.fail({ errMsg: 'request:fail' });
        return;
      }
      const wrapped = answer && typeof answer.status === 'number' && 'body' in answer
        ? answer : { status: 200, body: answer };
      opts.success({ statusCode: wrapped.status, data: wrapped.body, header: wrapped.headers || {} });
    }, 0);
  };
  return {
    requests,
    setRoute(key, handler) {
      table[key] = handler;
    },
  };
}

/** An error answer in the BFF's envelope. */
function apiError(status, code, message, details = {}) {
  return { status, body: { error: { code, message, details } } };
}

module.exports = { installFakeBackend, apiError, BASE };
