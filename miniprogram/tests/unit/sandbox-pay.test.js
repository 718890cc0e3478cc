/** The e2e payer (tests/helpers/sandbox-pay.js) against a stand-in gateway control API on loopback. */
const http = require('http');
const { installLiveWx } = require('../helpers/live-wx');
const { installSandboxPayment } = require('../helpers/sandbox-pay');
const { requestWechatPayment } = require('../../utils/wxpay');
const { request } = require('../../utils/request');

let server;
let base;
const seen = [];

beforeAll(async () => {
  server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => { body += c; });
    req.on('end', () => {
      seen.push({ method: req.method, path: req.url, body: body ? JSON.parse(body) : null });
      res.setHeader('Content-Type', 'application/json');
      if (req.url === '/api/v1/auth/wx-login') res.end(JSON.stringify({ token: 't', expires_in: 7200, user: { id: 1 } }));
      else if (req.url === '/api/v1/payments') { res.statusCode = 201; res.end(JSON.stringify({ id: 1, out_trade_no: 'YQ123', pay_params: { package: 'prepay_id=wx1' } })); }
      else res.end(JSON.stringify({ ok: true }));
    });
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${server.address().port}`;
});

afterAll(() => new Promise((r) => server.close(r)));

test('hands the page’s payment parameters to the gateway’s /_control/pay; cancel stays local', async () => {
  wx.removeStorageSync('token');
  installLiveWx(base, 'e2e');
  const payer = installSandboxPayment(base);
  const payment = await request({ method: 'POST', path: '/api/v1/payments', data: { order_type: 'appointment' } });
  await expect(requestWechatPayment(payment.pay_params)).resolves.toEqual({ result: 'paid', errMsg: '' });
  expect(seen.filter((r) => r.path === '/_control/pay').map((r) => r.body)).toEqual([{ pay_params: { package: 'prepay_id=wx1' }, result: 'success' }]);
  expect(payer.calls).toEqual([{ outTradeNo: 'YQ123', package: 'prepay_id=wx1' }]);

  payer.result = 'cancel';
  await expect(requestWechatPayment(payment.pay_params)).resolves.toMatchObject({ result: 'cancelled' });
  payer.result = 'decline';
  await expect(requestWechatPayment(payment.pay_params)).resolves.toMatchObject({ result: 'failed' });
  expect(seen.filter((r) => r.path === '/_control/pay').map((r) => r.body.result)).toEqual(['success', 'decline']);
});
