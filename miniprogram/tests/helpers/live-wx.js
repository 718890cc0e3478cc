/** wx.request and wx.login for the e2e tests: real HTTP over loopback with node's http module. */
const http = require('http');

function parseBody(text) {
  if (!text) return '';
  try {
    return JSON.parse(text);
  } catch (err) {
    return text;
  }
}

/** A wx.request that makes real HTTP calls (http:// only: the live stack is on loopback). */
function liveRequest(opts) {
  const url = new URL(opts.url);
  const method = (opts.method || 'GET').toUpperCase();
  const headers = Object.assign({}, opts.header);
  let payload = null;
  if (opts.data !== undefined && method !== 'GET') {
    payload = Buffer.from(typeof opts.data === 'string' ? opts.data : JSON.stringify(opts.data));
    headers['Content-Length'] = payload.length;
  }
  const req = http.request({
    hostname: url.hostname, port: url.port, path: `${url.pathname}${url.search}`, method, headers, timeout: 20000,
  }, (res) => {
    const chunks = [];
    res.on('data', (c) => chunks.push(c));
    res.on('end', () => {
      opts.success({ statusCode: res.statusCode, data: parseBody(Buffer.concat(chunks).toString('utf8')), header: res.headers });
    });
  });
  req.on('timeout', () => req.destroy(new Error('timeout')));
  req.on('error', (err) => opts.fail({ errMsg: `request:fail ${err.message}` }));
  if (payload) req.write(payload);
  req.end();
}

/** Plain JSON call for test set-up (e.g. the sandbox HIS control API). */
function postJson(base, path, body) {
  return new Promise((resolve, reject) => {
    liveRequest({
      url: `${base}${path}`,
      method: 'POST',
      header: { 'Content-Type': 'application/json' },
      data: body,
      success: (res) => (res.statusCode < 300 ? resolve(res.data) : reject(new Error(`${path}: ${res.statusCode} ${JSON.stringify(res.data)}`))),
      fail: (e) => reject(new Error(e.errMsg)),
    });
  });
}

/** Points the mini-program at a live BFF; wx.login answers a code the sandbox WeChat accepts. */
function installLiveWx(bffBase, loginCode) {
  globalThis.__YIQIAO_API_BASE__ = bffBase;
  wx.request = liveRequest;
  wx.login = (opts) => setTimeout(() => opts.success({ code: loginCode }), 0);
}

module.exports = { installLiveWx, liveRequest, postJson };
